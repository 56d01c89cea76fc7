"""The licence text and ATTRIBUTION.txt of a model trained on a folder of photos described by a photos.csv.

Every family trained on ``shared/data/photos`` (the upscaler, the arbitrary-style network) states the same facts:
how many photos under which licences, and the credits the licences ask for; held-out photos were not trained on.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

PHOTO_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"}

WEIGHTS_NOTE = " Network weights: trained with genart-train; the licences and credits of these images apply."


def photo_rows(folder: Path) -> list[dict[str, str]]:
    """The rows of ``folder``'s photos.csv whose file is in the folder (none when there is no table)."""
    table = folder / "photos.csv"
    if not table.is_file():
        return []
    present = {p.name for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES}
    with open(table, newline="", encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if row.get("file") in present]


def licence_summary(rows: list[dict[str, str]]) -> str:
    """"CC0-1.0 72, Public-Domain 50, ...": how many photos under each licence, most common first."""
    return ", ".join(f"{name} {n}" for name, n in Counter(r.get("license", "unknown") for r in rows).most_common())


def credits(rows: list[dict[str, str]], what: str) -> tuple[int, str]:
    """(how many photos ask for attribution, ATTRIBUTION.txt crediting them, or "" when none does)."""
    credited = [r for r in rows if r.get("attribution_required", "").lower() == "yes"]
    lines = [f"{r['file']}: by {r.get('author', '?')}, {r.get('license', '?')}"
             + (f", {r['original_url']}" if r.get("original_url") else "") for r in credited]
    text = (f"Photos used to train this {what} whose licences require attribution:\n" + "\n".join(lines)
            + "\n") if lines else ""
    return len(credited), text


def photo_licence(data: str, held_out: list[str], extra_folders: list[str], what: str) -> tuple[str, str]:
    """(the card's licence text, ATTRIBUTION.txt or "" when nothing asks for credit) for photos in ``data`` minus
    ``held_out``, plus pictures of ``extra_folders``; ``what`` names the model in the attribution file."""
    rows = [r for r in photo_rows(Path(data)) if r.get("file") not in set(held_out)]
    extras = ", ".join(Path(f).name + "/" for f in extra_folders)
    extra_text = (f" Also trained on the pictures in {extras} (their rights and sources are in the PROVENANCE.md "
                  "beside them)." if extras else "")
    if not rows:
        return (f"Trained on the images in {Path(data).name}/; their use follows the rights the user holds in "
                f"them.{extra_text}{WEIGHTS_NOTE}", "")
    credited, attribution = credits(rows, what)
    text = (f"Training photos: {len(rows)} from {Path(data).name}/ ({licence_summary(rows)}); authors and licences "
            f"per file in photos.csv; the {credited} that require attribution are credited in ATTRIBUTION.txt."
            f"{extra_text}{WEIGHTS_NOTE}")
    return text, attribution
