"""The screenshot tour (issue 22): ``genart screenshot-tour OUTDIR`` writes every picture, at 1440x900, with the
shipped models when they are installed; it leaves no bookmarks or layout behind in the user's settings."""

from __future__ import annotations

import numpy as np
from PIL import Image

from genart_desktop.launcher import main
from genart_desktop.ui.screenshot_tour import SIZE

PICTURES = ["painting", "style-palette", "style-preview", "diffusion-ready", "diffusion-working",
            "diffusion-results", "explorer-grid", "explorer-directions", "explorer-bookmarks", "explorer-breed",
            "explorer-animate", "jobs", "help-quick-start"]
WHOLE_WINDOW = 11  # the first pictures show the whole window; the last two a dock and a dialog


def test_the_tour_writes_every_picture(qapp, tmp_path, isolated_home, capsys):
    assert main(["screenshot-tour", str(tmp_path / "tour")]) == 0
    written = sorted(p.name for p in (tmp_path / "tour").iterdir())
    assert written == [f"{n:02d}-{name}.png" for n, name in enumerate(PICTURES, 1)]
    for name in written:
        with Image.open(tmp_path / "tour" / name, formats=["PNG"]) as image:
            pixels = np.asarray(image.convert("RGB"))
        assert pixels.std() > 5, name  # a real picture, not an empty frame
        if int(name[:2]) <= WHOLE_WINDOW:
            assert (image.width, image.height) == SIZE, name
    assert "Wrote 13 pictures" in capsys.readouterr().out
    assert not (isolated_home / "window.ini").exists()  # the user's layout was neither used nor overwritten
    from genart_desktop.engine.latent.bookmarks import BookmarkLibrary

    assert BookmarkLibrary().for_model("emoji-gan-64") == []  # the tour's bookmarks were removed
