"""`genart-train diffusion` end to end on 16 tiny images: loss moves, resume is exact, export passes parity, and the
exported folder loads in the app's registry and generates through the engine's own adapter (CardDiffusionModel, the
one the diffusion dock and `genart generate` use), with text/class conditioning, guidance and image-to-image, and
agrees with the trained torch model."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from genart_desktop.cli import run as genart  # noqa: E402
from genart_desktop.core.errors import InputError  # noqa: E402
from genart_desktop.engine.pipelines.diffusion import DiffusionPipeline, DiffusionRequest  # noqa: E402
from genart_desktop.engine.pipelines.diffusion_model import CardDiffusionModel  # noqa: E402
from genart_desktop.engine.pipelines.recipe import read_png_recipe  # noqa: E402
from genart_desktop.engine.registry import ModelRegistry  # noqa: E402
from genart_desktop.engine.schedules import ScheduleConfig  # noqa: E402
from genart_desktop.training.diffusion.export import load_trained  # noqa: E402
from genart_desktop.training.diffusion.latents import PairedVAE, ScaledCodec  # noqa: E402
from genart_desktop.training.diffusion.sampling import TorchDenoiser  # noqa: E402
from genart_desktop.training.diffusion.text import Conditioning  # noqa: E402
from genart_desktop.workspace.diffusion import model_info  # noqa: E402
from genart_desktop.training.checkpoint import list_checkpoints, load_checkpoint  # noqa: E402
from genart_desktop.training.cli import main as train_main  # noqa: E402
from genart_desktop.training.data.store import caption_vocabulary, write_dataset  # noqa: E402

pytestmark = [pytest.mark.train, pytest.mark.slow, pytest.mark.usefixtures("one_thread")]

RES = 16
TINY = ["--resolution", str(RES), "--channels", "16,32", "--res-blocks", "1", "--text-dim", "32", "--text-layers",
        "1", "--tokens", "4", "--heads", "2", "--batch-size", "8", "--sample-count", "4", "--sample-steps", "3",
        "--warmup", "2", "--lr", "2e-3", "--precision", "fp32", "--device", "cpu", "--log-every", "1",
        "--min-snr", "0", "--threads", "1"]
COLOURS = {"red": (220, 40, 40), "blue": (40, 60, 220), "green": (40, 180, 60), "yellow": (230, 210, 40)}


def make_dataset(folder: Path, captions: bool = True) -> Path:
    """16 shapes: four colours x (square | circle) x small offsets, captioned '<colour> <shape>', labelled by shape."""
    yy, xx = np.mgrid[0:RES, 0:RES]
    images, items = [], []
    for i in range(16):
        colour, shape = list(COLOURS)[i % 4], ("square", "circle")[(i // 4) % 2]
        image = np.full((RES, RES, 3), 255, np.uint8)
        centre, radius = RES / 2 + (i % 3 - 1), RES * (0.25 + 0.05 * (i % 2))
        inside = ((np.abs(xx - centre) < radius) & (np.abs(yy - centre) < radius) if shape == "square"
                  else (xx - centre) ** 2 + (yy - centre) ** 2 < radius ** 2)
        image[inside] = COLOURS[colour]
        images.append(image)
        item = {"source": f"{i}.png", "label": shape}
        if captions:
            item["caption"] = f"{colour} {shape}"
        items.append(item)
    extra = {"labels": ["circle", "square"], "license": "CC0-1.0 (test shapes)"}
    if captions:
        extra["vocabulary"] = caption_vocabulary([i["caption"] for i in items])
    write_dataset(folder, np.stack(images), items, extra)
    return folder


class TinyVAE(torch.nn.Module):
    """A 16 px -> 4 x 4 x 4 convolutional VAE with random weights: enough to test the latent path end to end."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(3)
        self.enc = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, 2, 1), torch.nn.SiLU(), torch.nn.Conv2d(8, 8, 3, 2, 1))
        self.mean = torch.nn.Conv2d(8, 4, 1)
        self.logvar = torch.nn.Conv2d(8, 4, 1)
        self.dec = torch.nn.Sequential(torch.nn.Upsample(scale_factor=4.0), torch.nn.Conv2d(4, 3, 3, 1, 1),
                                       torch.nn.Tanh())


class _Encoder(torch.nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, image):
        h = self.vae.enc(image)
        return self.vae.mean(h), self.vae.logvar(h) - 4.0


class _Decoder(torch.nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, latent):
        return self.vae.dec(latent)


def make_vae_folder(folder: Path) -> Path:
    folder.mkdir(parents=True)
    vae = TinyVAE().eval()
    torch.onnx.export(_Encoder(vae), (torch.zeros(2, 3, RES, RES),), str(folder / "encoder.onnx"),
                      input_names=["image"], output_names=["mean", "logvar"], dynamo=False, opset_version=17,
                      dynamic_axes={"image": {0: "batch"}, "mean": {0: "batch"}, "logvar": {0: "batch"}})
    torch.onnx.export(_Decoder(vae), (torch.zeros(2, 4, 4, 4),), str(folder / "decoder.onnx"),
                      input_names=["latent"], output_names=["image"], dynamo=False, opset_version=17,
                      dynamic_axes={"latent": {0: "batch"}, "image": {0: "batch"}})

    def sha(name):
        return hashlib.sha256((folder / name).read_bytes()).hexdigest()

    def tensor(*shape):
        return {"shape": ["batch", *shape], "dtype": "float32"}

    card = {"format": "genart-model-card/1", "id": "tiny-vae", "name": "Tiny VAE", "family": "vae",
            "files": {"encoder": {"path": "encoder.onnx", "sha256": sha("encoder.onnx")},
                      "decoder": {"path": "decoder.onnx", "sha256": sha("decoder.onnx")}},
            "io": {"encoder": {"inputs": {"image": tensor(3, RES, RES)},
                               "outputs": {"mean": tensor(4, 4, 4), "logvar": tensor(4, 4, 4)}},
                   "decoder": {"inputs": {"latent": tensor(4, 4, 4)}, "outputs": {"image": tensor(3, RES, RES)}}},
            "resolution": [RES, RES], "latent": {"shape": [4, 4, 4], "distribution": "normal"},
            "license": "CC0-1.0 (test VAE)", "provenance": {"data": "random weights", "command": "test"}}
    (folder / "model.json").write_text(json.dumps(card), encoding="utf-8")
    return folder


def train(*args: str) -> int:
    return train_main(["diffusion", *args])


def run_folder(runs: Path) -> Path:
    (folder,) = sorted(runs.iterdir())
    return folder


def losses(run: Path) -> list[float]:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [row["loss"] for row in rows if "loss" in row]


def torch_reference(run: Path, vae: Path | None) -> tuple[DiffusionPipeline, Conditioning]:
    """The trained torch U-Net through the same numpy samplers, set up from the run's own records (not the card)."""
    _, model, described, _ = load_trained(run)
    codec = ScaledCodec(PairedVAE.load(vae, RES), described["latent"]["scale"]) if vae is not None else None
    pipeline = DiffusionPipeline(TorchDenoiser(model, torch.device("cpu")),
                                 ScheduleConfig.from_dict(described["schedule"]),
                                 channels=int(described["in_channels"]), codec=codec)
    return pipeline, Conditioning.from_json(described["conditioning"])


def test_text_latent_diffusion_trains_resumes_exports_and_generates_in_the_app(tmp_path, monkeypatch):
    data = make_dataset(tmp_path / "shapes")
    models = tmp_path / "models"
    vae = make_vae_folder(models / "tiny-vae")  # installed beside the export: the app pairs them by id
    common = [str(data), *TINY, "--condition", "text", "--latent-vae", str(vae), "--schedule", "cosine",
              "--prediction", "v", "--checkpoint-every", "4", "--sample-every", "8"]

    # 8 steps straight through
    assert train(*common, "--runs-dir", str(tmp_path / "a"), "--steps", "8") == 0
    run_a = run_folder(tmp_path / "a")
    assert (run_a / "latents.safetensors").is_file()
    assert (run_a / "samples" / "step-0000008.png").is_file()
    quality = json.loads((run_a / "quality.json").read_text())
    assert quality["step"] == 8 and quality["diversity"] > 0
    # 4 steps, then resumed to 8: bit-identical weights
    assert train(*common, "--runs-dir", str(tmp_path / "b"), "--steps", "4") == 0
    run_b = run_folder(tmp_path / "b")
    assert train("--resume", str(run_b), "--steps", "8") == 0
    final_a, _ = load_checkpoint(list_checkpoints(run_a / "checkpoints")[-1][1])
    final_b, meta_b = load_checkpoint(list_checkpoints(run_b / "checkpoints")[-1][1])
    assert meta_b["step"] == 8
    for name in ("unet", "unet_ema"):
        keys = [k for k in final_a if k.startswith(name + ".")]
        assert keys and all(torch.equal(final_a[k], final_b[k]) for k in keys), name
    assert losses(run_a) == losses(run_b)

    # export through the shared `genart-train export` command, which hands diffusion runs to their exporter
    out = models / "tiny-text"
    assert train_main(["export", str(run_a), "--out", str(out), "--id", "tiny-text"]) == 0
    card = json.loads((out / "model.json").read_text())
    assert sorted(p.name for p in out.iterdir()) == ["model.json", "thumbnail.png", "unet.onnx", "vae_decoder.onnx"]
    assert (out / "vae_decoder.onnx").read_bytes() == (vae / "decoder.onnx").read_bytes()
    assert card["metrics"]["parity_max_abs_diff"] < 2e-3
    _, _, described, _ = load_trained(run_a)
    config = card["config"]
    assert config["schedule"]["beta_schedule"] == "cosine"
    assert config["schedule"]["prediction_type"] == "v_prediction"
    words = ["blue", "circle", "green", "red", "square", "yellow"]
    assert {k: config["conditioning"][k] for k in ("type", "vocabulary", "max_tokens")} == {
        "type": "text", "vocabulary": words, "max_tokens": 4}
    assert config["latent"]["vae"] == "tiny-vae" and config["latent"]["factor"] == 4
    assert config["latent"]["scaling_factor"] == pytest.approx(described["latent"]["scale"])
    assert abs(config["latent"]["scaling_factor"] - 1.0) > 0.05  # so image-to-image below checks the scale
    assert (config["default_steps"], config["default_guidance"]) == (3, 3.0)
    # six caption words after PAD and UNKNOWN: ids 0..7
    assert card["io"]["unet"]["inputs"]["cond"] == {"shape": ["batch", 4], "dtype": "int64", "range": [0, 7]}
    assert "genart-train diffusion" in card["provenance"]["command"]

    # the app: registry check, what the dock shows, and the engine's adapter
    registry = ModelRegistry(roots=[(models, "user")], settings={"execution_provider": "cpu"})
    assert [e.id for e in registry.models("diffusion")] == ["tiny-text"], registry.rejected()
    info = model_info(registry.get("tiny-text"))
    assert (info.conditioning, info.native_size, info.size_step, info.default_steps, info.default_guidance,
            info.can_start_from_image) == ("text", (RES, RES), 32, 3, 3.0, True)
    app = CardDiffusionModel.from_registry(registry, "tiny-text")
    assert app.codec is not None and app.codec.encoder is not None
    reference, conditioning = torch_reference(run_a, vae)
    # the app's tokeniser, from the card alone, gives the ids the model was trained on
    for prompt in ("red circle", "Blue SQUARE!", "a red circle on green grass", ""):
        np.testing.assert_array_equal(app.conditioning.encode(prompt), conditioning.encode_prompt(prompt).numpy())
    np.testing.assert_array_equal(app.conditioning.null(), conditioning.null(1).numpy())

    cond, null = conditioning.encode_prompt("red circle").numpy(), conditioning.null(1).numpy()
    guided = app.generate("red circle", steps=4, sampler="ddim", seed=5, batch=2).images  # card default guidance
    assert guided.shape == (2, 3, RES, RES) and np.isfinite(guided).all()
    assert np.array_equal(guided, app.generate("red circle", steps=4, sampler="ddim", seed=5, batch=2).images)
    plain = app.generate("red circle", steps=4, sampler="ddim", seed=5, batch=2, guidance=1.0).images
    assert not np.allclose(guided, plain)  # guidance took part
    expected = reference.run(DiffusionRequest(width=RES, height=RES, steps=4, sampler="ddim", seed=5, batch=2,
                                              guidance=3.0, cond=cond, uncond=null)).images
    np.testing.assert_allclose(guided, expected, atol=1e-3)
    # image-to-image: the paired VAE's encoder times latent.scaling_factor is the latent the U-Net was trained on
    start = np.random.default_rng(0).uniform(-1, 1, (1, 3, RES, RES)).astype(np.float32)
    edited = app.generate("blue square", steps=4, sampler="ddim", seed=2, init_image=start, strength=0.6).images
    expected = reference.run(DiffusionRequest(
        width=RES, height=RES, steps=4, sampler="ddim", seed=2, guidance=3.0, init_image=start, strength=0.6,
        cond=conditioning.encode_prompt("blue square").numpy(), uncond=null)).images
    np.testing.assert_allclose(edited, expected, atol=1e-3)

    # `genart generate --model ID` finds it in the models folder and draws the same image
    monkeypatch.setenv("GENART_MODELS_DIR", str(models))
    pngs = tmp_path / "pngs"
    assert genart(["generate", "--model", "tiny-text", "--prompt", "red circle", "--seed", "5", "--steps", "4",
                   "--sampler", "ddim", "-n", "2", str(pngs)]) == 0
    written = sorted(pngs.iterdir())
    assert [p.name for p in written] == ["tiny-text-5.png", "tiny-text-6.png"]
    recipe = read_png_recipe(written[0])
    assert (recipe.model_id, recipe.prompt, recipe.seed, recipe.guidance) == ("tiny-text", "red circle", 5, 3.0)
    pixels = np.asarray(Image.open(written[0]).convert("RGB")).astype(int)
    assert pixels.shape == (RES, RES, 3)
    assert np.abs(pixels - app.generate("red circle", steps=4, sampler="ddim", seed=5).pixels()[0]).max() <= 1


def test_class_conditioned_pixel_model_loss_moves_and_exports(tmp_path, capsys):
    data = make_dataset(tmp_path / "shapes", captions=False)
    runs = tmp_path / "runs"
    assert train(str(data), *TINY, "--condition", "class", "--steps", "24", "--runs-dir", str(runs),
                 "--checkpoint-every", "24", "--sample-every", "24", "--lr", "3e-3") == 0
    run = run_folder(runs)
    values = losses(run)
    assert np.mean(values[-6:]) < 0.8 * np.mean(values[:6]), values
    assert train("--export", str(run)) == 0  # default folder: RUN/export/ID
    (out,) = (run / "export").iterdir()
    card = json.loads((out / "model.json").read_text())
    config = card["config"]
    assert {k: config["conditioning"][k] for k in ("type", "classes")} == {"type": "class",
                                                                           "classes": ["circle", "square"]}
    assert "latent" not in config and "vae_decoder" not in card["files"]
    assert card["license"] == "CC0-1.0 (test shapes)"
    registry = ModelRegistry(roots=[(run / "export", "user")], settings={"execution_provider": "cpu"})
    model_id = card["id"]
    assert model_info(registry.get(model_id)).classes == ("circle", "square")
    app = CardDiffusionModel.from_registry(registry, model_id)
    assert app.codec is None
    reference, _ = torch_reference(run, None)
    image = app.generate("Square", steps=3, sampler="ddim", guidance=2.0, seed=1).images
    assert image.shape == (1, 3, RES, RES) and np.isfinite(image).all()
    expected = reference.run(DiffusionRequest(width=RES, height=RES, steps=3, sampler="ddim", guidance=2.0, seed=1,
                                              cond=np.array([[1]]), uncond=np.array([[2]]))).images
    np.testing.assert_allclose(image, expected, atol=1e-3)
    with pytest.raises(InputError, match="triangle"):
        app.generate("triangle", steps=2)

    # --fp16: the weights are stored as float16 (half the file), the graph still computes and answers in float32
    import onnx

    half_dir = tmp_path / "half" / "half-class"
    assert train_main(["export", str(run), "--fp16", "--out", str(half_dir), "--id", "half-class"]) == 0
    half_card = json.loads((half_dir / "model.json").read_text())
    assert half_card["metrics"]["weights"].startswith("float16")
    assert half_card["metrics"]["parity_max_abs_diff"] <= half_card["metrics"]["parity_tolerance"] == 2e-2
    graph = onnx.load(str(half_dir / "unet.onnx")).graph
    big = [t for t in graph.initializer if int(np.prod(t.dims)) >= 256]
    assert big and all(t.data_type == onnx.TensorProto.FLOAT16 for t in big)
    assert (half_dir / "unet.onnx").stat().st_size < 0.6 * (out / "unet.onnx").stat().st_size
    half_registry = ModelRegistry(roots=[(tmp_path / "half", "user")], settings={"execution_provider": "cpu"})
    half = CardDiffusionModel.from_registry(half_registry, "half-class")
    half_image = half.generate("Square", steps=3, sampler="ddim", guidance=2.0, seed=1).images
    assert half_image.dtype == np.float32
    np.testing.assert_allclose(half_image, image, atol=5e-2)


def test_bad_inputs_are_refused_with_a_reason_and_write_nothing(tmp_path, capsys):
    data = make_dataset(tmp_path / "plain", captions=False)
    runs = tmp_path / "runs"
    assert train(str(data), *TINY, "--condition", "text", "--steps", "2", "--runs-dir", str(runs)) == 2
    assert "captions" in capsys.readouterr().err
    assert train(str(data), *TINY, "--latent-vae", str(tmp_path / "nowhere"), "--steps", "2",
                 "--runs-dir", str(runs)) == 2
    assert "nowhere" in capsys.readouterr().err
    gan_like = tmp_path / "not-a-vae"
    gan_like.mkdir()
    (gan_like / "model.json").write_text("{}")
    assert train(str(data), *TINY, "--latent-vae", str(gan_like), "--steps", "2", "--runs-dir", str(runs)) == 2
    assert "latent-vae" in capsys.readouterr().err
    # an export without a checkpoint, and an export over a folder that is not a model folder
    run = sorted(runs.iterdir())[0]
    assert train("--export", str(run), "--out", str(tmp_path / "m")) == 2
    assert not (tmp_path / "m").exists()
    assert train(str(data), *TINY, "--steps", "1", "--runs-dir", str(tmp_path / "ok")) == 0
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    assert train("--export", str(run_folder(tmp_path / "ok")), "--out", str(busy)) == 2
    assert sorted(p.name for p in busy.iterdir()) == ["notes.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".busy")]
    with pytest.raises(SystemExit):
        train(str(data), "--condition", "words")
    assert "--condition" in capsys.readouterr().err
