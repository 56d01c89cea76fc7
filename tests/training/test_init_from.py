"""``--init-from``: a shipped style network, an exported GAN (discriminator fresh) or a run's checkpoint starts the
networks; the source fixes their shape, fine-tuning defaults apply, and the card says what was reused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from genart_desktop.core.errors import InputError  # noqa: E402
from genart_desktop.training.checkpoint import latest_checkpoint, load_checkpoint  # noqa: E402
from genart_desktop.training.cli import main  # noqa: E402
from genart_desktop.training.export.parity import onnx_session  # noqa: E402
from genart_desktop.training.init_source import resolve_source  # noqa: E402
from genart_desktop.training.init_weights import apply_init  # noqa: E402
from tests.training._fixtures import build_tiny_dataset  # noqa: E402
from tests.training.test_gan import TINY  # noqa: E402
from tests.training.test_style_train import _trainer  # noqa: E402

SHIPPED_STYLE = Path(__file__).resolve().parents[2] / "models" / "style-starry-night"


def _gan_run(tmp_path: Path, *extra: str) -> Path:
    data = build_tiny_dataset(tmp_path) if not (tmp_path / "dataset").exists() else tmp_path / "dataset"
    runs = tmp_path / "runs"
    assert main(["gan", "--data", str(data), "--runs-dir", str(runs), *TINY, "--steps", "2", *extra]) == 0
    return sorted(runs.iterdir())[-1]


def test_a_shipped_style_network_starts_the_trainer(tmp_path):
    trainer = _trainer(tmp_path, width=16, residual_blocks=3)
    record = apply_init(trainer.init_targets(), resolve_source("style-starry-night", type(trainer.cfg)))
    assert record["source"] == "style-starry-night" and record["reused"] == ["stylizer"]
    assert record["started_fresh"] == [] and list(record["sha256"]) == ["stylizer.onnx"]
    content = np.random.default_rng(0).uniform(-1, 1, (1, 3, 48, 64)).astype(np.float32)
    expected = onnx_session(SHIPPED_STYLE / "stylizer.onnx").run(None, {"content": content})[0]
    with torch.no_grad():
        got = trainer.net.eval()(torch.from_numpy(content)).numpy()
    assert np.max(np.abs(got - expected)) < 1e-4


def test_a_style_network_of_another_width_is_refused(tmp_path):
    trainer = _trainer(tmp_path, width=8, residual_blocks=3)
    with pytest.raises(InputError, match="^--init-from style-starry-night: stylizer.onnx does not hold the weights"):
        apply_init(trainer.init_targets(), resolve_source("style-starry-night", type(trainer.cfg)))


def test_fine_tuning_takes_the_shape_from_the_source_and_gentler_defaults(capsys):
    assert main(["style", "--data", "photos", "--style", "s.png", "--init-from", str(SHIPPED_STYLE), "--dry-run"]) == 0
    options = json.loads(capsys.readouterr().out)["options"]
    assert (options["width"], options["residual_blocks"]) == (16, 3)  # from the card's command
    assert (options["lr"], options["steps"]) == (pytest.approx(1e-3 / 3, rel=1e-2), 1000)
    assert main(["style", "--data", "p", "--style", "s.png", "--init-from", "style-starry-night", "--lr", "0.01",
                 "--steps", "7", "--width", "16", "--dry-run"]) == 0
    options = json.loads(capsys.readouterr().out)["options"]
    assert (options["lr"], options["steps"], options["init_from"]) == (0.01, 7, "style-starry-night")


def test_bad_sources_are_one_line(tmp_path, capsys):
    assert main(["gan", "--data", "d", "--init-from", "no-such-model", "--dry-run"]) == 2
    assert "There is no model 'no-such-model'" in capsys.readouterr().err
    assert main(["gan", "--data", "d", "--init-from", str(SHIPPED_STYLE), "--dry-run"]) == 2
    assert "style-starry-night is a style model, not a gan model" in capsys.readouterr().err
    assert main(["gan", "--data", "d", "--init-from", str(tmp_path), "--dry-run"]) == 2
    assert "neither a model folder" in capsys.readouterr().err


@pytest.mark.slow
def test_a_gan_fine_tunes_from_its_export_and_from_its_run(tmp_path):
    first = _gan_run(tmp_path)
    model = tmp_path / "model"
    assert main(["export", str(first), "--out", str(model)]) == 0

    tuned = _gan_run(tmp_path, "--init-from", str(model), "--g-channels", "8", "--latent-dim", "16")
    record = json.loads((tuned / "options.json").read_text())["init_from"]
    assert record["reused"] == ["generator"] and record["started_fresh"] == ["D"]
    assert record["sha256"] == {"generator.onnx": json.loads((model / "model.json").read_text())
                                ["files"]["generator"]["sha256"]}
    card_dir = tmp_path / "tuned-model"
    assert main(["export", str(tuned), "--out", str(card_dir)]) == 0
    provenance = json.loads((card_dir / "model.json").read_text())["provenance"]
    assert provenance["init_from"]["reused"] == ["generator"] and "--init-from" in provenance["command"]

    again = _gan_run(tmp_path, "--init-from", str(first))
    record = json.loads((again / "options.json").read_text())["init_from"]
    assert record["kind"] == "run" and record["reused"] == ["G", "G_ema", "D"] and record["started_fresh"] == []
    assert list(record["sha256"]) == [latest_checkpoint(first / "checkpoints").name]
    _, meta = load_checkpoint(latest_checkpoint(again / "checkpoints"))
    assert meta["options"]["init_from"] == str(first)


@pytest.mark.slow
def test_a_diffusion_unet_fine_tunes_from_its_export(tmp_path):
    data = build_tiny_dataset(tmp_path, resolution=16)
    tiny = ["--data", str(data), "--runs-dir", str(tmp_path / "runs"), "--resolution", "16", "--channels", "8,16",
            "--res-blocks", "1", "--heads", "2", "--batch-size", "4", "--sample-count", "4", "--sample-steps", "2",
            "--threads", "1"]
    assert main(["diffusion", *tiny, "--steps", "2"]) == 0
    assert main(["export", str(tmp_path / "runs" / "0001-diffusion"), "--out", str(tmp_path / "model")]) == 0
    assert main(["diffusion", *tiny[:4], "--init-from", str(tmp_path / "model"), "--steps", "1",
                 "--batch-size", "4", "--sample-count", "4", "--sample-steps", "2", "--threads", "1"]) == 0
    record = json.loads((tmp_path / "runs" / "0002-diffusion" / "options.json").read_text())
    assert record["init_from"]["reused"] == ["unet"] and record["options"]["channels"] == "8,16"
