"""The upscaler family: networks, degradations, patches and split, losses, quality measures, and a tiny run through
`genart-train upscale` that resumes exactly and exports a card the app loads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from genart_desktop.core.errors import InputError  # noqa: E402
from genart_desktop.training.checkpoint import latest_checkpoint, load_checkpoint  # noqa: E402
from genart_desktop.training.data.cached import ImageDataset  # noqa: E402
from genart_desktop.training.style import squeezenet  # noqa: E402
from genart_desktop.training.style.perceptual import LossNetwork  # noqa: E402
from genart_desktop.training.upscale.degrade import bicubic_downscale, degrade  # noqa: E402
from genart_desktop.training.upscale.losses import FeatureLoss, PatchDiscriminator  # noqa: E402
from genart_desktop.training.upscale.network import UpscaleNet, UpscaleNetConfig  # noqa: E402
from genart_desktop.training.upscale.patches import PatchSource, split_photos  # noqa: E402
from genart_desktop.training.upscale.quality import psnr, ssim  # noqa: E402
from tests.training._fixtures import make_image_folder  # noqa: E402


@pytest.mark.parametrize("arch", ["residual", "espcn"])
@pytest.mark.parametrize("scale", [2, 4])
def test_networks_enlarge_any_shape(arch, scale):
    net = UpscaleNet(UpscaleNetConfig(scale, arch, width=8, blocks=2))
    out = net(torch.rand(2, 3, 9, 14))
    assert out.shape == (2, 3, 9 * scale, 14 * scale) and torch.isfinite(out).all()


def test_bad_network_options_are_refused():
    with pytest.raises(InputError):
        UpscaleNetConfig(scale=3)
    with pytest.raises(InputError):
        UpscaleNetConfig(arch="unet")


def test_degradations_are_seeded_quantised_and_low_resolution():
    high = torch.rand(4, 3, 32, 32)
    one = degrade(high, 4, torch.Generator().manual_seed(3), "real", 1.0)
    two = degrade(high, 4, torch.Generator().manual_seed(3), "real", 1.0)
    assert one.shape == (4, 3, 8, 8) and torch.equal(one, two)
    assert one.min() >= 0 and one.max() <= 1 and torch.equal((one * 255).round() / 255, one)
    clean = bicubic_downscale(high, 4)
    assert torch.equal(degrade(high, 4, torch.Generator().manual_seed(3), "bicubic"), clean)
    assert not torch.equal(one, clean)
    none = degrade(high, 2, torch.Generator().manual_seed(5), "real", 0.0)
    assert torch.equal(none, bicubic_downscale(high, 2))
    batch = torch.rand(64, 3, 16, 16)
    mixed = degrade(batch, 2, torch.Generator().manual_seed(5), "real", 0.5, second_order=False)
    kept = sum(torch.equal(mixed[i], bicubic_downscale(batch, 2)[i]) for i in range(64))
    assert 16 <= kept <= 48  # about half of the images get the real degradations, the others stay clean


def test_patches_are_seeded_and_the_split_is_by_file(tmp_path):
    from genart_desktop.training.data.builder import build_dataset

    build_dataset(make_image_folder(tmp_path / "img", 10), tmp_path / "ds", 48, report=lambda m: None)
    dataset = ImageDataset.load(tmp_path / "ds")
    train, held = split_photos(dataset, 0.3, seed=1)
    names = {item["source"] for item in train.meta["items"]}
    assert len(held) == 3 and len(train) == 7 and not names & set(held)
    source = PatchSource([train.images], [1.0])
    a = source.sample(torch.Generator().manual_seed(0), 5, 16)
    b = source.sample(torch.Generator().manual_seed(0), 5, 16)
    assert a.shape == (5, 3, 16, 16) and torch.equal(a, b) and 0 <= a.min() and a.max() <= 1


def test_losses_and_quality_measures():
    torch.manual_seed(1)
    network = LossNetwork("squeezenet", squeezenet.SqueezeNetFeatures().eval().requires_grad_(False), ("fire3",),
                          ("conv1",), Path("random"))
    features = FeatureLoss(network)
    image = torch.rand(2, 3, 48, 48)
    assert float(features(image, image)) == 0.0
    assert float(features(image.flip(-1), image)) > 0.0
    assert PatchDiscriminator(8)(image).shape == (2, 1, 6, 6)
    rng = np.random.default_rng(0)
    picture = rng.integers(0, 256, (40, 40, 3)).astype(np.uint8)
    noisy, noisier = (np.clip(picture + rng.normal(0, sigma, picture.shape), 0, 255).astype(np.uint8)
                      for sigma in (8, 24))
    assert psnr(picture, picture) == 100.0 and ssim(picture, picture) == pytest.approx(1.0)
    assert 25 < psnr(noisy, picture, border=4) < 40
    assert psnr(noisier, picture) < psnr(noisy, picture) and ssim(noisier, picture) < ssim(noisy, picture) < 1.0


def _train(tmp_path: Path, runs: Path, steps: int, *extra: str) -> int:
    from genart_desktop.training.cli import main

    images = tmp_path / "images"
    if not images.is_dir():
        make_image_folder(images, 12, size=40)
    return main(["upscale", "--data", str(images), "--runs-dir", str(runs), "--resolution", "128", "--patch", "64",
                 "--width", "8", "--blocks", "1", "--batch-size", "2", "--perceptual-weight", "0",
                 "--adversarial-weight", "0.05", "--holdout", "0.25", "--log-every", "1", "--sample-every", "2",
                 "--checkpoint-every", "2", "--threads", "1", "--steps", str(steps), *extra])


@pytest.mark.slow
def test_train_command_resumes_exactly_and_exports_a_card_the_app_loads(tmp_path, one_thread):
    from genart_desktop.engine.registry import ModelRegistry
    from genart_desktop.training.cli import main

    assert _train(tmp_path, tmp_path / "straight", 4) == 0
    assert _train(tmp_path, tmp_path / "split", 2) == 0
    run = sorted((tmp_path / "split").iterdir())[-1]
    assert main(["upscale", "--resume", str(run), "--steps", "4"]) == 0
    straight, _ = load_checkpoint(latest_checkpoint(sorted((tmp_path / "straight").iterdir())[-1] / "checkpoints"))
    resumed, meta = load_checkpoint(latest_checkpoint(run / "checkpoints"))
    assert meta["step"] == 4
    for name in ("net_ema.tail.0.weight", "net.head.weight", "D.net.0.weight_orig"):
        assert torch.equal(straight[name], resumed[name]), name
    held = json.loads((run / "split.json").read_text())["held_out_files"]
    assert len(held) == 3 and meta["trainer"]["held_out_files"] == held
    assert (run / "samples" / "step-0000004.png").is_file()

    models = tmp_path / "models"
    assert main(["export", str(run), "--out", str(models / "tiny-up"), "--id", "tiny-up"]) == 0
    card = json.loads((models / "tiny-up" / "model.json").read_text())
    assert card["family"] == "upscaler" and card["config"]["scale"] == 4
    assert card["metrics"]["parity_max_abs_diff"]["upscaler"] < 1e-4
    measured = card["metrics"]["held_out_x4_bicubic"]
    assert measured["photos"] == 3 and {"ours_psnr", "lanczos_psnr", "bicubic_ssim"} <= set(measured)
    assert card["provenance"]["held_out"]["files"] == held
    assert card["config"]["self_ensemble"] == 1 and "held_out_x4_bicubic_self_ensemble" not in card["metrics"]
    entry = ModelRegistry(roots=[(models, "user")], settings={"execution_provider": "cpu"}).get("tiny-up")
    assert entry.family == "upscaler" and entry.ok

    assert main(["export", str(run), "--out", str(models / "tiny-up-4"), "--id", "tiny-up-4",
                 "--self-ensemble", "4"]) == 0
    card = json.loads((models / "tiny-up-4" / "model.json").read_text())
    assert card["config"]["self_ensemble"] == 4
    ensemble = card["metrics"]["held_out_x4_bicubic_self_ensemble"]
    assert ensemble["runs_per_tile"] == 4 and ensemble["photos"] == 3
    assert ensemble["lanczos_psnr"] == measured["lanczos_psnr"] and ensemble["ours_psnr"] != measured["ours_psnr"]


def test_bad_options_are_one_clear_error(tmp_path):
    from genart_desktop.training.cli import main

    assert _train(tmp_path, tmp_path / "runs", 2, "--patch", "66") == 2
    assert _train(tmp_path, tmp_path / "runs", 2, "--degraded-fraction", "2") == 2
