"""`genart style`: batch styling through the engine pipeline, progress, and bad input that writes nothing."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from genart_desktop import cli
from genart_desktop.cli.style import ProgressBar
from tests.fixtures import noise_image_file
from tests.tiny_onnx import image_model, linear_generator, write_model_folder


@pytest.fixture
def style_model(tmp_path, monkeypatch):
    models = tmp_path / "models"
    models.mkdir()
    # an "inverting" style network: easy to check, any size
    write_model_folder(models, "tiny-invert", "style", {"stylizer": image_model(scale=-1.0)},
                       config={"size_multiple": 4, "tile": 128, "overlap": 16})
    write_model_folder(models, "tiny-gan", "gan", {"generator": linear_generator()})
    monkeypatch.setenv("GENART_MODELS_DIR", str(models))
    monkeypatch.setenv("GENART_PROVIDER", "cpu")
    return "tiny-invert"


def test_styles_every_input_into_pngs(tmp_path, style_model, capsys):
    a = noise_image_file(tmp_path / "a.png")
    b = noise_image_file(tmp_path / "b.png", (150, 90), "RGBA")
    out = tmp_path / "out"
    assert cli.run(["style", "--model", style_model, str(tmp_path / "a.png"), str(tmp_path / "b.png"),
                    str(out)]) == 0
    files = sorted(p.name for p in out.iterdir())
    assert files == ["a-tiny-invert.png", "b-tiny-invert.png"]
    result_a = np.asarray(Image.open(out / "a-tiny-invert.png"))
    assert np.abs(result_a.astype(int) - (255 - a.astype(int))).max() <= 1
    result_b = np.asarray(Image.open(out / "b-tiny-invert.png"))
    assert result_b.shape == (90, 150, 4)
    np.testing.assert_array_equal(result_b[..., 3], b[..., 3])
    err = capsys.readouterr().err
    assert "2/2 b.png tile" in err and "Styled 2 image(s)" in err
    # running again never overwrites
    assert cli.run(["style", "--model", style_model, "--quiet", str(tmp_path / "a.png"), str(out)]) == 0
    assert (out / "a-tiny-invert-1.png").is_file()


def test_strength_and_preserve_colors_reach_the_pipeline(tmp_path, style_model):
    a = noise_image_file(tmp_path / "a.png")
    out = tmp_path / "out"
    assert cli.run(["style", "--model", style_model, "--strength", "0", "--quiet", str(tmp_path / "a.png"),
                    str(out)]) == 0
    np.testing.assert_array_equal(np.asarray(Image.open(out / "a-tiny-invert.png")), a)
    assert cli.run(["style", "--model", style_model, "--preserve-colors", "--scale", "2", "--quiet",
                    str(tmp_path / "a.png"), str(out)]) == 0
    kept = np.asarray(Image.open(out / "a-tiny-invert-1.png")).astype(np.float32)
    from genart_desktop.engine.pipelines.style import rgb_to_ycbcr

    chroma_error = np.abs(rgb_to_ycbcr(kept)[..., 1:] - rgb_to_ycbcr(a)[..., 1:]).mean()
    assert chroma_error < 6  # resampled at scale 2, still the original colours


def test_bad_input_writes_nothing(tmp_path, style_model, capsys):
    noise_image_file(tmp_path / "good.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    out = tmp_path / "out"
    assert cli.run(["style", "--model", style_model, str(tmp_path / "good.png"), str(tmp_path / "broken.png"),
                    str(out)]) == 2
    assert "Nothing was written" in capsys.readouterr().err
    assert not out.exists()
    assert cli.run(["style", "--model", "no-such", str(tmp_path / "good.png"), str(out)]) == 2
    assert cli.run(["style", "--model", "tiny-gan", str(tmp_path / "good.png"), str(out)]) == 2
    assert "not a style network" in capsys.readouterr().err
    assert cli.run(["style", "--model", style_model, "--strength", "2", str(tmp_path / "good.png"), str(out)]) == 2
    assert cli.run(["style", "--model", style_model, str(tmp_path / "missing.png"), str(out)]) == 2
    assert cli.run(["style", "--model", style_model, str(tmp_path / "good.png")]) == 2
    assert not out.exists()


def test_progress_bar_lines():
    stream = io.StringIO()
    bar = ProgressBar(2, stream=stream, width=10)
    bar.start_file(1, "x.png")
    bar.update(4, 4)
    bar.close()
    assert stream.getvalue() == "[##########] 2/2 x.png tile 4/4\n"


def test_a_cli_image_and_a_dock_render_of_the_same_picture_are_byte_identical(tmp_path, style_model):
    """The command and the Style dock build the same request and run the same executor: the same bytes."""
    from genart_desktop.document.document import Document
    from genart_desktop.workspace.style import StyleController
    from genart_desktop.workspace.workspace import Workspace

    picture = noise_image_file(tmp_path / "a.png", (150, 90))
    out = tmp_path / "out"
    assert cli.run(["style", "--model", style_model, "--strength", "0.6", "--preserve-colors", "--scale", "1.5",
                    "--quiet", str(tmp_path / "a.png"), str(out)]) == 0
    written = np.asarray(Image.open(out / "a-tiny-invert.png"))

    doc = Document(150, 90)
    doc.add_layer("Picture", pixels=np.dstack([picture, np.full((90, 150), 255, np.uint8)]))
    workspace = Workspace()
    try:
        dock = StyleController(workspace)
        dock.select(style_model)
        dock.set_settings(strength=0.6, preserve_colors=True, scale=1.5)
        landed = []
        dock.applied.connect(landed.append)
        assert dock.apply(doc).wait(30) and landed
    finally:
        workspace.shutdown()
    pixels = landed[0].pixels
    assert np.all(pixels[..., 3] == 255) and written.shape == (90, 150, 3)
    assert pixels[..., :3].tobytes() == written.tobytes()
