"""The style statistics of named paintings, shipped beside the arbitrary-style network as ``presets.json``.

Only the statistics travel (two vectors per painting), not the pictures, so the palette can offer the paintings
the fixed style networks were trained on (and blend them) without copying the images into the project.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from genart_desktop.training.style.images import fit_long_side, load_rgb, to_tensor
from genart_desktop.training.style_arbitrary.network import SIZE_MULTIPLE, StatsEncoder

PRESETS_FORMAT = "genart-style-presets/1"
STYLE_SIDE = 512  # long side a style picture is fitted to before its statistics are measured (card config too)
# file -> (preset id, display name); other files get an id and name from their file name.
KNOWN_PAINTINGS = {
    "van_gogh_starry_night.jpg": ("starry-night", "The Starry Night (van Gogh)"),
    "hokusai_great_wave_off_kanagawa.jpg": ("great-wave", "The Great Wave (Hokusai)"),
    "turner_shipwreck_of_the_minotaur.jpg": ("shipwreck", "The Shipwreck of the Minotaur (Turner)"),
    "seurat_sunday_on_la_grande_jatte.jpg": ("grande-jatte", "La Grande Jatte (Seurat)"),
    "klimt_the_kiss.jpg": ("the-kiss", "The Kiss (Klimt)"),
    "vermeer_girl_with_a_pearl_earring.jpg": ("pearl-earring", "Girl with a Pearl Earring (Vermeer)"),
    "van_gogh_cafe_terrace_at_night.jpg": ("cafe-terrace", "Café Terrace at Night (van Gogh)"),
    "van_gogh_wheat_field_with_cypresses.jpg": ("wheat-field", "Wheat Field with Cypresses (van Gogh)"),
    "gauguin_ia_orana_maria.jpg": ("ia-orana-maria", "Ia Orana Maria (Gauguin)"),
    "renoir_bal_du_moulin_de_la_galette.jpg": ("moulin-de-la-galette", "Bal du moulin de la Galette (Renoir)"),
    "whistler_nocturne_black_and_gold_falling_rocket.jpg": ("nocturne", "Nocturne in Black and Gold (Whistler)"),
    "botticelli_birth_of_venus.jpg": ("birth-of-venus", "The Birth of Venus (Botticelli)"),
}


def preset_identity(path: Path) -> tuple[str, str]:
    known = KNOWN_PAINTINGS.get(path.name)
    if known is not None:
        return known
    stem = path.stem.replace("_", " ").replace("-", " ").strip()
    return "-".join(stem.lower().split()), stem.title()


@torch.no_grad()
def measure_presets(encoder: StatsEncoder, files: list[Path], held_out: set[str]) -> dict[str, Any]:
    """``presets.json`` for ``files``: each picture fitted to ``STYLE_SIDE`` and measured by the exported encoder."""
    presets = []
    for path in files:
        image = to_tensor(fit_long_side(load_rgb(path), STYLE_SIDE, SIZE_MULTIPLE))
        mean, std = encoder(image)
        preset_id, name = preset_identity(path)
        presets.append({"id": preset_id, "name": name, "source": path.name,
                        "mean": [round(float(v), 6) for v in mean[0]], "std": [round(float(v), 6) for v in std[0]],
                        "held_out": path.name in held_out})
    return {"format": PRESETS_FORMAT, "presets": presets}
