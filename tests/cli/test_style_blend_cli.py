"""`genart style --style-image / --preset / --weights`: pictures and presets as styles through the arbitrary model,
the dock's request and pixels, and bad input that writes nothing."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from genart_desktop import cli
from genart_desktop.document.document import Document
from genart_desktop.workspace.style import StyleController
from genart_desktop.workspace.workspace import Workspace
from tests.fixtures import noise_image_file
from tests.fixtures_arbitrary_style import (
    arbitrary_folder,
    fixed_network_for_painting,
    painting,
)


@pytest.fixture
def models(tmp_path, monkeypatch):
    root = tmp_path / "models"
    arbitrary_folder(root)
    fixed_network_for_painting(root, "starry", "van_gogh_starry_night.jpg")
    monkeypatch.setenv("GENART_MODELS_DIR", str(root))
    monkeypatch.setenv("GENART_PROVIDER", "cpu")
    return root


def style_pictures(tmp_path):
    paths = [tmp_path / "warm.png", tmp_path / "cold.jpg"]
    Image.fromarray(painting(21, 100)[:80]).save(paths[0])
    Image.fromarray(painting(22, 90)).save(paths[1], quality=95)
    return paths


def test_two_pictures_blended_match_the_dock_byte_for_byte(tmp_path, models, capsys):
    picture = noise_image_file(tmp_path / "a.png", (120, 72))
    warm, cold = style_pictures(tmp_path)
    out = tmp_path / "out"
    assert cli.run(["style", "--style-image", str(warm), "--style-image", str(cold), "--weights", "0.7,0.3",
                    "--strength", "0.8", "--quiet", str(tmp_path / "a.png"), str(out)]) == 0
    written = np.asarray(Image.open(out / "a-warm+cold.png"))

    doc = Document(120, 72)
    doc.add_layer("Picture", pixels=np.dstack([picture, np.full((72, 120), 255, np.uint8)]))
    workspace = Workspace()
    try:
        dock = StyleController(workspace)
        choices = [dock.add_style_from_image(path).choice for path in (warm, cold)]  # the user's library
        dock.select_many(choices, [0.7, 0.3])
        dock.set_settings(strength=0.8)
        landed = []
        dock.applied.connect(landed.append)
        assert dock.apply(doc).wait(30) and landed
    finally:
        workspace.shutdown()
    assert landed[0].name == "Style: warm 70% + cold 30%, strength 80%"
    assert landed[0].pixels[..., :3].tobytes() == written.tobytes()


def test_presets_and_fixed_networks_blend_by_name(tmp_path, models):
    noise_image_file(tmp_path / "a.png", (64, 48))
    out = tmp_path / "out"
    assert cli.run(["style", "--preset", "great-wave", "--quiet", str(tmp_path / "a.png"), str(out)]) == 0
    assert cli.run(["style", "--model", "starry", "--preset", "great-wave", "--quiet", str(tmp_path / "a.png"),
                    str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a-great-wave.png", "a-starry+great-wave.png"]
    one = np.asarray(Image.open(out / "a-great-wave.png"))
    two = np.asarray(Image.open(out / "a-starry+great-wave.png"))
    assert one.shape == two.shape == (48, 64, 3) and not np.array_equal(one, two)


@pytest.mark.parametrize("extra, reason", [
    (["--weights=0.5"], r"1 weight\(s\) for 2 style\(s\)"),
    (["--weights", "a,b"], "numbers separated by commas"),
    (["--weights", "0,0"], "one above 0"),
    (["--weights=-1,2"], "at least 0"),
    (["--style-image", "BROKEN"], "damaged|cannot|Cannot"),
    (["--style-image", "MISSING"], "Cannot find"),
    (["--preset", "mona-lisa"], "no preset"),
])
def test_bad_style_input_is_one_line_and_writes_nothing(tmp_path, models, capsys, extra, reason):
    noise_image_file(tmp_path / "a.png", (40, 30))
    warm, cold = style_pictures(tmp_path)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    extra = [{"BROKEN": str(tmp_path / "broken.png"), "MISSING": str(tmp_path / "missing.png")}.get(a, a)
             for a in extra]
    out = tmp_path / "out"
    assert cli.run(["style", "--style-image", str(warm), "--style-image", str(cold), *extra,
                    str(tmp_path / "a.png"), str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("genart: ") and re.search(reason, err)
    assert not out.exists()


def test_no_style_at_all_is_refused(tmp_path, models, capsys):
    noise_image_file(tmp_path / "a.png", (40, 30))
    assert cli.run(["style", str(tmp_path / "a.png"), str(tmp_path / "out")]) == 2
    assert "Choose a style" in capsys.readouterr().err
