"""Licence and attribution text for a style model, read from the provenance files beside the training data.

The shared data keeps a ``PROVENANCE.md`` table beside (or one folder above) the paintings and a ``photos.csv``
(file, author, license, attribution_required, original_url) next to the photos. When they are there the card gets
a precise statement and the model folder an ``ATTRIBUTION.txt`` listing every photo whose licence asks for credit;
when they are not, the text says the rights follow the user's own images.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from genart_desktop.training.export.photo_licence import PHOTO_SUFFIXES, credits, licence_summary, photo_rows

IMAGE_SUFFIXES = PHOTO_SUFFIXES


@dataclass
class Sources:
    license: str
    attribution: str  # ATTRIBUTION.txt contents ("" when nothing needs credit)
    style_title: str


def _style_row(style: Path) -> tuple[str, str] | None:
    """(work, artist) from a ``| file | work | artist | ...`` row of PROVENANCE.md beside the style image."""
    for provenance in (style.parent / "PROVENANCE.md", style.parent.parent / "PROVENANCE.md"):
        if not provenance.is_file():
            continue
        for line in provenance.read_text(encoding="utf-8", errors="replace").splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 3 and cells[0] == style.name:
                return cells[1], cells[2]
    return None


def describe_sources(style: str | Path, content: str | Path, photo_count: int | None = None) -> Sources:
    style, content = Path(style), Path(content)
    row = _style_row(style)
    if row is not None:
        work, artist = row
        style_text = f"Style image: {work}, {artist} ({style.name}; rights and source in PROVENANCE.md)."
        title = work.split(".")[0].split(",")[0]
    else:
        style_text = f"Style image: {style.name}; its use follows the rights the user holds in it."
        title = style.stem.replace("_", " ").title()
    rows = photo_rows(content)
    if rows:
        credited, attribution = credits(rows, "style network")
        photo_text = (f"Content photos: {len(rows)} from {content.name}/ ({licence_summary(rows)}); authors and "
                      f"licences per file in photos.csv; the {credited} that require attribution are credited in "
                      "ATTRIBUTION.txt.")
    else:
        count = f"{photo_count} " if photo_count is not None else ""
        photo_text = (f"Content photos: {count}images from {content.name}/; their use follows the rights the user "
                      "holds in them.")
        attribution = ""
    weights = "Network weights: trained with genart-train; the licences and credits of the images above apply."
    return Sources(f"{style_text} {photo_text} {weights}", attribution, title)
