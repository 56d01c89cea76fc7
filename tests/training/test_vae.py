import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from genart_desktop.training.checkpoint import load_checkpoint  # noqa: E402
from genart_desktop.training.cli import main  # noqa: E402
from genart_desktop.training.vae.config import VaeConfig  # noqa: E402
from genart_desktop.training.vae.trainer import VaeNet  # noqa: E402
from tests.training._fixtures import train_tiny_run  # noqa: E402

TINY = ["--resolution", "32", "--batch-size", "8", "--channels", "8", "--max-channels", "32", "--latent-dim", "16",
        "--monitor-samples", "8", "--log-every", "1", "--sample-every", "4", "--checkpoint-every", "2",
        "--threads", "1", "--holdout", "0.25"]


def _train(tmp_path, *extra):
    return train_tiny_run(tmp_path, "vae", TINY, *extra)


@pytest.mark.parametrize("latent,shape", [("vector", (16,)), ("spatial", (4, 4, 4))])
def test_latent_shapes(latent, shape):
    cfg = VaeConfig(data="x", resolution=32, latent=latent, latent_dim=16, channels=8, max_channels=32)
    recon, mean, logvar = VaeNet(cfg)(torch.rand(2, 3, 32, 32) * 2 - 1)
    assert recon.shape == (2, 3, 32, 32) and mean.shape == (2, *shape) and logvar.shape == (2, *shape)
    assert tuple(cfg.latent_shape()) == shape


def test_reconstruction_loss_falls(tmp_path):
    run = _train(tmp_path, "--steps", "120", "--sample-every", "120", "--checkpoint-every", "120", "--log-every", "10",
                 "--lr", "0.003")
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    recon = [r["recon"] for r in rows if "recon" in r]
    assert len(recon) == 12
    assert np.mean(recon[-2:]) < 0.88 * np.mean(recon[:2])
    final = rows[-1]
    assert "psnr_holdout" in final and "psnr_train" in final and final["psnr_holdout"] > 5
    assert (run / "psnr.png").is_file() and (run / "samples" / "step-0000120.png").is_file()


@pytest.mark.parametrize("extra", [[], ["--latent", "spatial", "--latent-downsample", "8", "--adv-weight", "0.1",
                                        "--recon", "l2", "--flip", "--kl-warmup", "3"]])
def test_resume_continues_bit_identically(tmp_path, extra):
    run = _train(tmp_path, "--steps", "4", *extra)
    reference, _ = load_checkpoint(run / "checkpoints" / "step-0000004.safetensors")
    (run / "checkpoints" / "step-0000004.safetensors").unlink()
    assert main(["vae", "--resume", str(run)]) == 0
    resumed, _ = load_checkpoint(run / "checkpoints" / "step-0000004.safetensors")
    assert reference.keys() == resumed.keys()
    for key in reference:
        assert torch.equal(reference[key], resumed[key]), key


def test_resume_refuses_a_gan_run_and_a_run_without_checkpoints(tmp_path, capsys):
    run = _train(tmp_path, "--steps", "1")
    assert main(["gan", "--resume", str(run)]) == 2
    assert "is a vae run" in capsys.readouterr().err
    for ckpt in (run / "checkpoints").iterdir():
        ckpt.unlink()
    assert main(["vae", "--resume", str(run)]) == 2
    assert "no checkpoint" in capsys.readouterr().err


@pytest.mark.parametrize("fp16", [False, True])
def test_export_both_networks_with_parity(tmp_path, fp16):
    from genart_desktop.engine.registry import ModelRegistry
    from genart_desktop.training.export.parity import onnx_session

    run = _train(tmp_path, "--steps", "2", "--latent", "spatial", "--precision", "fp32")  # auto: bf16 on some CPUs
    out = tmp_path / "models" / "tiny-vae"
    assert main(["export", str(run), "--out", str(out), "--id", "tiny-vae", *(["--fp16"] if fp16 else [])]) == 0
    card = json.loads((out / "model.json").read_text())
    assert set(card["files"]) == {"encoder", "decoder"}
    assert card["latent"]["shape"] == [4, 4, 4]
    assert card["io"]["encoder"]["outputs"]["logvar"]["shape"] == ["batch", 4, 4, 4]
    limit = 2e-2 if fp16 else 1e-4
    assert all(v <= limit for v in card["metrics"]["parity_max_abs_diff"].values())
    assert card["provenance"]["precision"] == "fp32" and card["provenance"]["wall_time_s"] >= 0
    assert not list(out.glob("*.data")) and not list(tmp_path.glob("models/.*partial"))
    session = onnx_session(out / "encoder.onnx")
    mean, logvar = session.run(["mean", "logvar"], {"image": np.zeros((5, 3, 32, 32), np.float32)})
    assert mean.shape == (5, 4, 4, 4)  # dynamic batch
    entries = ModelRegistry(roots=[(tmp_path / "models", "user")]).entries()
    assert [(e.id, e.ok, e.reason) for e in entries] == [("tiny-vae", True, None)]


def test_failed_parity_writes_no_card(tmp_path, monkeypatch):
    from genart_desktop.core.errors import ModelError
    from genart_desktop.training.export import exporter, parity

    run = _train(tmp_path, "--steps", "1")
    monkeypatch.setattr(parity, "max_abs_diff", lambda *a, **k: {"image": 0.5, "mean": 0.5, "logvar": 0.5})
    out = tmp_path / "models" / "broken"
    with pytest.raises(ModelError, match="disagrees"):
        exporter.export_run(str(run), str(out))
    assert not out.exists() and not list((tmp_path / "models").iterdir())


def test_export_rejects_bad_input(tmp_path, capsys):
    assert main(["export", str(tmp_path)]) == 2
    assert "not a training run folder" in capsys.readouterr().err
    run = _train(tmp_path, "--steps", "1")
    assert main(["export", str(run), "--id", "Bad Id"]) == 2
    assert "--id" in capsys.readouterr().err
