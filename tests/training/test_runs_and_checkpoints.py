import json

import pytest
from PIL import Image

from genart_desktop.core.errors import InputError
from genart_desktop.training.plot import save_plot
from genart_desktop.training.runs import RunFolder


def test_run_folders_are_numbered_and_record_options(tmp_path):
    first = RunFolder.create(tmp_path, "gan")
    second = RunFolder.create(tmp_path, "vae")
    assert (first.path.name, second.path.name) == ("0001-gan", "0002-vae")
    first.write_options("gan", {"steps": 3}, "genart-train gan --steps 3")
    record = RunFolder.open(first.path).read_options()
    assert record["options"] == {"steps": 3} and record["command"] == "genart-train gan --steps 3"
    with pytest.raises(InputError, match="not a training run folder"):
        RunFolder.open(second.path)


def test_metrics_truncate_and_plot(tmp_path):
    run = RunFolder.create(tmp_path, "gan")
    for step in range(1, 6):
        run.append_metrics(step, {"g_loss": 1.0 / step, "d_loss": 0.5})
    with open(run.path / "metrics.jsonl", "a") as handle:
        handle.write('{"step": 6, "g_lo')  # a line cut short by a kill is ignored
    run.truncate_metrics(3)
    assert [r["step"] for r in run.read_metrics()] == [1, 2, 3]
    run.plot({"loss.png": ("losses", ["g_loss", "d_loss"])})
    image = Image.open(run.path / "loss.png")
    assert image.size == (800, 450)
    assert len(image.convert("RGB").getcolors(1 << 20)) > 3  # curves were drawn, not a blank canvas


def test_plot_handles_empty_and_flat_series(tmp_path):
    save_plot(tmp_path / "a.png", {"x": []}, "empty")
    save_plot(tmp_path / "b.png", {"x": [(1, 2.0)]}, "one point", reference={"real": 2.0})
    save_plot(tmp_path / "c.png", {"x": [(1, float("nan")), (2, 1.0), (3, 1.0)]}, "flat")
    assert all((tmp_path / n).is_file() for n in ("a.png", "b.png", "c.png"))


def test_config_command_round_trips_through_the_parser():
    pytest.importorskip("torch")
    from genart_desktop.training.cli import build_parser
    from genart_desktop.training.config import explicit_options
    from genart_desktop.training.gan.config import GanConfig

    cfg = GanConfig(data="/d", steps=5, spectral_norm=True, diffaugment="color", lr=1e-3)
    args = build_parser().parse_args(cfg.command().split()[1:])
    assert GanConfig(**explicit_options(args, GanConfig)) == cfg


def test_optimizer_and_rng_state_round_trip_without_pickle(tmp_path):
    torch = pytest.importorskip("torch")
    from genart_desktop.training.checkpoint import (load_checkpoint, load_optimizer_tensors, optimizer_tensors,
                                                    restore_rng, rng_tensors, save_checkpoint)

    model = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.5, 0.9))
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    tensors, info = optimizer_tensors("optim.m", opt)
    tensors.update(rng_tensors())
    save_checkpoint(tmp_path / "c.safetensors", tensors, {"step": 1, "optim.m": info})
    expected = torch.rand(3)
    loaded, meta = load_checkpoint(tmp_path / "c.safetensors")
    assert b"pickle" not in (tmp_path / "c.safetensors").read_bytes()[:64]
    fresh = torch.optim.Adam(model.parameters(), lr=0.5)
    load_optimizer_tensors("optim.m", fresh, loaded, meta["optim.m"])
    assert fresh.param_groups[0]["lr"] == 0.01 and tuple(fresh.param_groups[0]["betas"]) == (0.5, 0.9)
    for param in model.parameters():
        for key in ("exp_avg", "exp_avg_sq", "step"):
            assert torch.equal(opt.state[param][key], fresh.state[param][key]), key
    restore_rng(loaded)
    assert torch.equal(torch.rand(3), expected)


def test_damaged_checkpoint_is_a_clear_error(tmp_path):
    pytest.importorskip("torch")
    from genart_desktop.training.checkpoint import load_checkpoint

    (tmp_path / "x.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(InputError, match="damaged"):
        load_checkpoint(tmp_path / "x.safetensors")


def test_runtime_picks_fp32_where_bf16_is_emulated(monkeypatch):
    pytest.importorskip("torch")
    from genart_desktop.training import device

    monkeypatch.setattr(device, "cpu_bf16_supported", lambda: False)
    assert device.resolve_runtime("cpu", "auto").precision == "fp32"
    monkeypatch.setattr(device, "cpu_bf16_supported", lambda: True)
    runtime = device.resolve_runtime("cpu", "auto")
    assert runtime.precision == "bf16" and runtime.autocast_dtype is not None
    with pytest.raises(InputError, match="fp16 training needs CUDA"):
        device.resolve_runtime("cpu", "fp16")


def test_diversity_score_separates_varied_from_collapsed_batches():
    torch = pytest.importorskip("torch")
    from genart_desktop.training.metrics import diversity_score, nearest_distance, psnr

    varied = torch.rand(16, 3, 32, 32) * 2 - 1
    collapsed = varied[:1].repeat(16, 1, 1, 1) + 0.01 * torch.randn(16, 3, 32, 32)
    assert diversity_score(varied) > 10 * diversity_score(collapsed)
    assert nearest_distance(varied[:4], varied) == pytest.approx(0.0, abs=1e-5)
    assert nearest_distance(varied[:4], varied, exclude_self=True) > 0.05
    assert psnr(varied, varied) > 90


def test_bf16_autocast_step_runs_on_cpu(tmp_path):
    """bf16 is emulated (slow) on CPUs without AVX-512 BF16, but it must still work when asked for."""
    torch = pytest.importorskip("torch")
    from genart_desktop.training.data.cached import ImageDataset
    from genart_desktop.training.device import resolve_runtime
    from genart_desktop.training.gan.config import GanConfig
    from genart_desktop.training.gan.trainer import GanTrainer
    from tests.training._fixtures import build_tiny_dataset

    data = build_tiny_dataset(tmp_path, count=8)
    cfg = GanConfig(data=str(data), resolution=32, batch_size=4, g_channels=4, d_channels=4, max_channels=8,
                    latent_dim=8, precision="bf16", loss="wgan-gp")
    trainer = GanTrainer(cfg, resolve_runtime("cpu", "bf16"), None, ImageDataset.load(data))
    logs = trainer.train_step(0)
    assert all(torch.isfinite(torch.tensor(v)) for v in logs.values())
    json.dumps(logs)
