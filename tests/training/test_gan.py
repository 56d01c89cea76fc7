import json
import signal

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from genart_desktop.training.checkpoint import list_checkpoints, load_checkpoint  # noqa: E402
from genart_desktop.training.cli import main  # noqa: E402
from genart_desktop.training.gan.models import Discriminator, Generator, SkipGenerator  # noqa: E402
from tests.training._fixtures import build_tiny_dataset, make_image_folder, train_tiny_run  # noqa: E402

TINY = ["--resolution", "32", "--batch-size", "8", "--g-channels", "8", "--d-channels", "8", "--max-channels", "32",
        "--latent-dim", "16", "--monitor-samples", "8", "--log-every", "1", "--sample-every", "2",
        "--checkpoint-every", "2", "--threads", "1"]


def _train(tmp_path, *extra):
    return train_tiny_run(tmp_path, "gan", TINY, *extra)


@pytest.mark.parametrize("resolution", [32, 64, 128])
def test_networks_fit_each_resolution(resolution):
    g = Generator(16, resolution, 4, 32)
    d = Discriminator(resolution, 4, 32, spectral_norm=True)
    image = g(torch.randn(4, 16))
    assert image.shape == (4, 3, resolution, resolution)
    assert image.abs().max() <= 1
    assert d(image).shape == (4,)
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in g.modules())


@pytest.mark.parametrize("resolution", [32, 64, 128])
def test_skip_generator_sums_a_picture_from_every_size(resolution):
    g = SkipGenerator(16, resolution, 4, 32)
    image = g(torch.randn(4, 16))
    assert image.shape == (4, 3, resolution, resolution) and image.abs().max() <= 1
    assert [head.in_channels for head in g.to_rgb] == [b[1].out_channels for b in g.blocks]
    assert len(g.to_rgb) == len(g.blocks) == int(np.log2(resolution)) - 2
    # the picture is the sum of every head's picture, each upsampled bilinearly to full size
    pictures: list[torch.Tensor] = []
    hooks = [head.register_forward_hook(lambda _m, _i, out: pictures.append(out)) for head in g.to_rgb]
    z = torch.randn(2, 16, generator=torch.Generator().manual_seed(0))
    image = g(z)
    for hook in hooks:
        hook.remove()
    assert [p.shape[-1] for p in pictures] == [8 * 2 ** i for i in range(len(g.blocks))]
    total = pictures[0]
    for picture in pictures[1:]:
        total = torch.nn.functional.interpolate(total, scale_factor=2, mode="bilinear", align_corners=False) + picture
    assert torch.allclose(image, torch.tanh(total), atol=1e-6)


def test_upsample_mode_is_checked():
    assert isinstance(Generator(16, 32, 4, 32, "bilinear").body[2], torch.nn.Upsample)
    with pytest.raises(ValueError, match="upsample"):
        Generator(16, 32, 4, 32, "cubic")


def test_training_writes_a_complete_run_and_the_loss_moves(tmp_path):
    run = _train(tmp_path, "--steps", "4")
    assert run.name == "0001-gan"
    record = json.loads((run / "options.json").read_text())
    assert record["options"]["steps"] == 4 and record["command"].startswith("genart-train gan --data ")
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    losses = [r["g_loss"] for r in rows if "g_loss" in r]
    assert len(losses) == 4 and len(set(losses)) > 1
    quality = [r for r in rows if "diversity" in r]
    assert len(quality) == 2 and all(r["diversity"] > 0 and r["diversity_ratio"] > 0 for r in quality)
    for name in ("loss.png", "diversity.png", "train.log", "samples/step-0000004.png"):
        assert (run / name).is_file(), name
    assert [s for s, _ in list_checkpoints(run / "checkpoints")] == [2, 4]
    tensors, meta = load_checkpoint(run / "checkpoints" / "step-0000004.safetensors")
    assert meta["step"] == 4 and meta["options"]["latent_dim"] == 16
    assert any(k.startswith("G_ema.") for k in tensors) and any(k.startswith("optim.D.state.") for k in tensors)
    assert not torch.equal(tensors["G.project.weight"], tensors["G_ema.project.weight"])


@pytest.mark.parametrize("extra", [[], ["--loss", "wgan-gp", "--spectral-norm", "--diffaugment",
                                        "color,translation,cutout", "--d-steps", "2"]])
def test_resume_continues_bit_identically(tmp_path, extra):
    run = _train(tmp_path, "--steps", "4", *extra)
    reference, _ = load_checkpoint(run / "checkpoints" / "step-0000004.safetensors")
    (run / "checkpoints" / "step-0000004.safetensors").unlink()
    assert main(["gan", "--resume", str(run)]) == 0
    resumed, meta = load_checkpoint(run / "checkpoints" / "step-0000004.safetensors")
    assert meta["step"] == 4
    assert reference.keys() == resumed.keys()
    for key in reference:
        assert torch.equal(reference[key], resumed[key]), key
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(steps)  # rows after the checkpoint were replaced, not duplicated


def test_resume_can_extend_but_not_change_the_run(tmp_path, capsys):
    run = _train(tmp_path, "--steps", "2")
    assert main(["gan", "--resume", str(run), "--lr", "0.1"]) == 2
    assert "--lr cannot change" in capsys.readouterr().err
    assert main(["gan", "--resume", str(run), "--steps", "3"]) == 0
    assert [s for s, _ in list_checkpoints(run / "checkpoints")] == [2, 3]


def test_ctrl_c_saves_a_checkpoint_and_stops(tmp_path, monkeypatch):
    from genart_desktop.training import loop

    original = loop.run_training

    def interrupt_after_first_step(trainer, start_step=0, wall_time=0.0, on_step=None, **options):
        return original(trainer, start_step, wall_time,
                        on_step=lambda step: signal.raise_signal(signal.SIGINT) if step == 1 else None, **options)

    monkeypatch.setattr("genart_desktop.training.launch.run_training", interrupt_after_first_step)
    data = build_tiny_dataset(tmp_path)
    code = main(["gan", "--data", str(data), "--runs-dir", str(tmp_path / "runs"), *TINY, "--steps", "50"])
    assert code == 130
    run = tmp_path / "runs" / "0001-gan"
    assert [s for s, _ in list_checkpoints(run / "checkpoints")] == [1]
    assert "resume with" in (run / "train.log").read_text()


def test_dry_run_and_bad_flags(tmp_path, capsys):
    assert main(["gan", "--data", "somewhere", "--steps", "7", "--dry-run"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["options"]["steps"] == 7 and printed["options"]["loss"] == "ns"
    assert main(["gan", "--data", "x", "--steps", "0"]) == 2
    assert "--steps must be a positive number" in capsys.readouterr().err
    assert main(["gan", "--data", "x", "--diffaugment", "colour"]) == 2
    assert "DiffAugment" in capsys.readouterr().err
    assert main(["gan", "--steps", "5"]) == 2
    assert "--data" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["gan", "--data", "x", "--resolution", "48"])
    assert main(["gan", "--data", str(tmp_path / "nothing"), "--runs-dir", str(tmp_path / "r"), "--steps", "1"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_bad_data_folders_give_clear_errors(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["gan", "--data", str(empty), "--runs-dir", str(tmp_path / "r"), *TINY, "--steps", "1"]) == 2
    assert "No images" in capsys.readouterr().err
    data = build_tiny_dataset(tmp_path)
    assert main(["gan", "--data", str(data), "--runs-dir", str(tmp_path / "r"), *TINY, "--resolution", "64"]) == 2
    assert "rebuild it" in capsys.readouterr().err


def test_plain_image_folder_is_fitted_into_the_run(tmp_path):
    src = make_image_folder(tmp_path / "pictures", 6)
    runs = tmp_path / "runs"
    assert main(["gan", "--data", str(src), "--runs-dir", str(runs), *TINY, "--steps", "1"]) == 0
    images = np.load(runs / "0001-gan" / "dataset" / "images.npy")
    assert images.shape == (6, 32, 32, 3)


def test_export_passes_parity_and_the_registry_loads_it(tmp_path):
    from genart_desktop.engine.registry import ModelRegistry

    run = _train(tmp_path, "--steps", "2")
    out = tmp_path / "models" / "tiny-gan"
    assert main(["export", str(run), "--out", str(out), "--id", "tiny-gan", "--truncation", "0.7"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["generator.onnx", "model.json", "thumbnail.png"]
    card = json.loads((out / "model.json").read_text())
    assert card["family"] == "gan" and card["latent"] == {"shape": [16], "distribution": "normal", "truncation": 0.7}
    assert card["io"]["generator"]["inputs"]["z"]["shape"] == ["batch", 16]
    assert card["metrics"]["parity_max_abs_diff"]["generator"] <= 1e-4
    assert card["provenance"]["steps"] == 2 and card["provenance"]["command"].startswith("genart-train gan")
    assert "diversity_ratio" in card["metrics"]
    entries = ModelRegistry(roots=[(tmp_path / "models", "user")]).entries()
    assert [(e.id, e.ok, e.reason) for e in entries] == [("tiny-gan", True, None)]


def test_skip_generator_trains_resumes_and_exports_with_parity(tmp_path):
    run = _train(tmp_path, "--steps", "2", "--g-arch", "skip")
    options = json.loads((run / "options.json").read_text())["options"]
    assert options["g_arch"] == "skip" and options["upsample"] == ""
    tensors, _ = load_checkpoint(run / "checkpoints" / "step-0000002.safetensors")
    assert "G_ema.to_rgb.2.weight" in tensors  # 32 px from 4 px: three blocks, three RGB heads
    assert main(["gan", "--resume", str(run), "--steps", "4"]) == 0
    out = tmp_path / "models" / "tiny-skip-gan"
    assert main(["export", str(run), "--out", str(out), "--id", "tiny-skip-gan"]) == 0
    card = json.loads((out / "model.json").read_text())
    assert card["metrics"]["parity_max_abs_diff"]["generator"] <= 1e-4 and card["provenance"]["steps"] == 4
