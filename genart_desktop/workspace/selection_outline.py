"""The outline of a soft selection mask as axis-aligned line segments, for the canvas's marching ants.

A pixel counts as selected when its mask value is at least half; edges between selected and unselected pixels are
merged into runs so that a large ellipse gives a few thousand segments rather than one per pixel edge.
"""

from __future__ import annotations

import numpy as np

Segment = tuple[int, int, int, int]  # x0, y0, x1, y1 in canvas pixel-corner coordinates


def _runs(edge_rows: np.ndarray) -> list[tuple[int, int, int]]:
    """For a boolean (R, N) array, the runs of True per row as (row, start, end_exclusive)."""
    if not edge_rows.any():
        return []
    padded = np.zeros((edge_rows.shape[0], edge_rows.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = edge_rows
    diff = np.diff(padded, axis=1)
    starts = np.argwhere(diff == 1)
    ends = np.argwhere(diff == -1)
    # argwhere is row-major, so starts and ends pair up in order
    return [(int(r), int(s), int(e)) for (r, s), (_, e) in zip(starts, ends)]


def outline_segments(mask: np.ndarray, threshold: int = 128) -> list[Segment]:
    """Boundary segments of ``mask >= threshold`` (an (H, W) uint8 array)."""
    if mask.ndim != 2:
        raise ValueError(f"Expected an (H, W) mask, got shape {mask.shape}")
    inside = mask >= threshold
    if not inside.any():
        return []
    height, width = inside.shape
    padded = np.zeros((height + 2, width + 2), dtype=bool)
    padded[1:-1, 1:-1] = inside
    segments: list[Segment] = []
    # horizontal edges lie on the line y between rows y-1 and y (y = 0..H)
    horizontal = padded[:-1, 1:-1] != padded[1:, 1:-1]
    for y, x0, x1 in _runs(horizontal):
        segments.append((x0, y, x1, y))
    # vertical edges lie on the line x between columns x-1 and x (x = 0..W)
    vertical = (padded[1:-1, :-1] != padded[1:-1, 1:]).T
    for x, y0, y1 in _runs(vertical):
        segments.append((x, y0, x, y1))
    return segments


def outline_paths(mask: np.ndarray, threshold: int = 128) -> list[list[tuple[int, int]]]:
    """The outline as polylines (closed ones end where they start), so a dash pattern runs along each contour
    instead of restarting on every short segment."""
    segments = outline_segments(mask, threshold)
    ends: dict[tuple[int, int], list[int]] = {}
    for index, (x0, y0, x1, y1) in enumerate(segments):
        ends.setdefault((x0, y0), []).append(index)
        ends.setdefault((x1, y1), []).append(index)
    used = [False] * len(segments)

    def extend(path: list[tuple[int, int]]) -> None:
        while path[-1] != path[0]:
            end = path[-1]
            following = next((j for j in ends.get(end, ()) if not used[j]), None)
            if following is None:
                return
            used[following] = True
            x0, y0, x1, y1 = segments[following]
            path.append((x1, y1) if (x0, y0) == end else (x0, y0))

    paths: list[list[tuple[int, int]]] = []
    for index, (x0, y0, x1, y1) in enumerate(segments):
        if used[index]:
            continue
        used[index] = True
        path = [(x0, y0), (x1, y1)]
        extend(path)
        if path[-1] != path[0]:  # an open chain (where contours touch at a corner): grow it backwards too
            path.reverse()
            extend(path)
        paths.append(path)
    return paths
