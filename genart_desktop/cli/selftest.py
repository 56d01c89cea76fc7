"""``genart self-test`` (the bundle's ``--self-test``): prove that this installation can do its job, offline.

It loads every shipped model (``models/``; ``GENART_MODELS_DIR`` or ``--models-dir`` points elsewhere), runs each
once through the engine code the app uses on a small input suited to its family, builds the main window offscreen,
and finally checks that torch and the training module were never imported. One line per check; the exit status is 1
when any check failed, so a packaging script or CI step can rely on it.

The window check is the only reason this command touches Qt. The ui package is loaded by name at that point only,
so every other window-less command (and this one with ``--no-window``) keeps running without Qt.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from genart_desktop.core.errors import GenArtError, ModelError
from genart_desktop.core.paths import builtin_models_dir

NAME = "self-test"
HELP = ("Check this installation: load every shipped model, run each once on a small input, build the window "
        "offscreen and confirm torch is never loaded. Exits non-zero on any failure.")

TEST_SIZE = 64  # pixels per side of the test image and of Stable Diffusion's test generation
DIFFUSION_STEPS = 2
SD_STEPS = 1
FORBIDDEN_MODULES = ("torch", "torchvision", "genart_desktop.training")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    skipped: bool = False

    def line(self) -> str:
        status = "SKIP" if self.skipped else ("PASS" if self.ok else "FAIL")
        return f"{status}  {self.name}: {self.detail}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--models-dir", type=Path, metavar="DIR",
                        help="test the models in DIR instead of the shipped ones (like GENART_MODELS_DIR)")
    parser.add_argument("--allow-empty", action="store_true",
                        help="do not fail when no model is found (the check is reported as skipped)")
    parser.add_argument("--no-window", action="store_true", help="skip building the main window (no Qt)")
    parser.add_argument("--screenshot", type=Path, metavar="PNG",
                        help="save a picture of the offscreen main window to PNG")


WindowCheck = Callable[[Any, "Path | None"], "tuple[bool, str]"]


def main(argv: list[str], window_check: WindowCheck | None = None) -> int:
    """Entry used by the launcher (``genart --self-test`` / ``genart self-test``), which supplies the ui's window
    check so that this module never imports Qt itself."""
    parser = argparse.ArgumentParser(prog="genart --self-test", description=HELP)
    add_arguments(parser)
    return run(parser.parse_args(argv), window_check)


def run(args: argparse.Namespace, window_check: WindowCheck | None = None) -> int:
    checks: list[Check] = []

    def report(check: Check) -> None:
        checks.append(check)
        print(check.line(), flush=True)

    report(check_runtime())
    models_dir = args.models_dir.expanduser() if args.models_dir else builtin_models_dir()
    registry = None
    try:
        registry = make_registry(models_dir)
    except Exception as exc:  # noqa: BLE001 - a self-test reports every failure as a line
        report(Check("registry", False, f"cannot create the model registry: {_describe(exc)}"))
    if registry is not None:
        for check in check_models(registry, models_dir, allow_empty=args.allow_empty):
            report(check)
    if args.no_window:
        report(Check("window", True, "not built (--no-window)", skipped=True))
    elif window_check is None:
        report(Check("window", True, "not built (run through the genart launcher to include it)", skipped=True))
    else:
        try:
            ok, detail = window_check(registry, args.screenshot)
        except Exception as exc:  # noqa: BLE001 - a self-test reports every failure as a line
            ok, detail = False, f"cannot build the main window: {_describe(exc)}"
        report(Check("window", ok, detail))
    report(check_no_forbidden_imports())

    failed = [c for c in checks if not c.ok]
    passed = sum(1 for c in checks if c.ok and not c.skipped)
    skipped = sum(1 for c in checks if c.skipped)
    print(f"self-test: {passed} checks passed, {len(failed)} failed, {skipped} skipped", flush=True)
    return 1 if failed else 0


# --- environment --------------------------------------------------------------------------------------------------

def check_runtime() -> Check:
    """Python, where we run from, the onnxruntime version and the execution provider that will run models here."""
    try:
        import onnxruntime as ort

        from genart_desktop import __version__
        from genart_desktop.core.settings import load_settings
        from genart_desktop.engine.providers import choose_provider

        where = f"bundle {getattr(sys, '_MEIPASS')}" if getattr(sys, "frozen", False) else f"python {sys.executable}"
        choice = choose_provider(load_settings())
        return Check("runtime", True, f"genart {__version__}, Python {platform.python_version()} ({where}); "
                                      f"onnxruntime {ort.__version__}; {choice.describe()}")
    except Exception as exc:  # noqa: BLE001
        return Check("runtime", False, f"the inference runtime cannot start: {_describe(exc)}")


def make_registry(models_dir: Path) -> Any:
    """A registry over the shipped models only: the user's own models are theirs to check, not the install's."""
    from genart_desktop.engine.registry import ModelRegistry

    return ModelRegistry(roots=[(models_dir, "builtin")])


def check_no_forbidden_imports() -> Check:
    loaded = [name for name in FORBIDDEN_MODULES if name in sys.modules]
    if loaded:
        return Check("no torch", False, f"{', '.join(loaded)} got imported; the app must run without them")
    return Check("no torch", True, f"{', '.join(FORBIDDEN_MODULES)} were never imported")


# --- models -------------------------------------------------------------------------------------------------------

def check_models(registry: Any, models_dir: Path, *, allow_empty: bool) -> list[Check]:
    """One check per model folder: rejected folders fail with the registry's reason, usable ones are run once."""
    try:
        entries = registry.entries()
    except Exception as exc:  # noqa: BLE001
        return [Check("models", False, f"cannot scan {models_dir}: {_describe(exc)}")]
    if not entries:
        where = f"{models_dir}" + ("" if models_dir.is_dir() else " (the folder does not exist)")
        if allow_empty:
            return [Check("models", True, f"no models in {where} (allowed by --allow-empty)", skipped=True)]
        return [Check("models", False, f"no models in {where}; the installation ships none "
                                        "(pass --allow-empty to accept that)")]
    results = [Check("models", True, f"{len(entries)} folder{'s' if len(entries) != 1 else ''} in {models_dir}")]
    for entry in entries:
        label = f"model {entry.id} ({entry.family or 'unknown family'})"
        if not entry.ok:
            results.append(Check(label, False, f"rejected: {entry.reason}"))
            continue
        runner = FAMILY_RUNS.get(entry.family)
        if runner is None:
            results.append(Check(label, False, f"no self-test for family '{entry.family}'"))
            continue
        start = time.perf_counter()
        try:
            detail = runner(registry, entry)
        except Exception as exc:  # noqa: BLE001 - a broken model is a failed line, never a crash
            results.append(Check(label, False, _describe(exc)))
        else:
            results.append(Check(label, True, f"{detail} in {time.perf_counter() - start:.2f} s"))
        finally:
            registry.release(entry.id)
    return results


def sample_image(size: int = TEST_SIZE) -> np.ndarray:
    """A deterministic RGB gradient with a disc, so models see edges and colour rather than a flat field."""
    ramp = np.linspace(0, 255, size, dtype=np.float32)
    yy, xx = np.meshgrid(ramp, ramp, indexing="ij")
    disc = ((xx - 128) ** 2 + (yy - 128) ** 2 < 80 ** 2).astype(np.float32) * 255
    return np.stack([xx, yy, disc], axis=-1).astype(np.uint8)


def _finite(values: np.ndarray, what: str) -> np.ndarray:
    values = np.asarray(values)
    if values.size == 0:
        raise ModelError(f"{what} is empty.")
    if not np.all(np.isfinite(values)):
        raise ModelError(f"{what} holds NaN or infinite values.")
    return values


def _image_shape(images: np.ndarray) -> str:
    return f"{images.shape[-1]}x{images.shape[-2]}"


def run_gan(registry: Any, entry: Any) -> str:
    from genart_desktop.engine.latent.space import space_from_registry

    space = space_from_registry(registry, entry.id)
    images = _finite(space.decode_tensor(space.sample(seed=0, count=1)), "The generated image")
    return f"z [{space.latent_dim}] -> image {_image_shape(images)}"


def run_vae(registry: Any, entry: Any) -> str:
    from genart_desktop.engine.latent.space import space_from_registry

    space = space_from_registry(registry, entry.id)
    if not space.can_encode:
        raise ModelError("the VAE has no encoder.")
    mean, logvar = space.encode(sample_image())
    _finite(mean, "The encoded mean")
    _finite(logvar, "The encoded log-variance")
    images = _finite(space.decode_tensor(mean), "The decoded image")
    return f"encoded a {TEST_SIZE}x{TEST_SIZE} image to {space.latent_dim} values and decoded {_image_shape(images)}"


class _FiniteNetwork:
    """Passes the stylizer session to the style pipeline, failing on NaN (which the pipeline would paint grey)."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self.inputs = session.inputs
        self.outputs = session.outputs

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        result = self._session.run(feeds)
        for name, value in result.items():
            _finite(value, f"Stylizer output '{name}'")
        return result


def run_style(registry: Any, entry: Any) -> str:
    from genart_desktop.engine.pipelines.style import StylePipeline, StyleSettings, card_io_options

    options = StylePipeline.from_registry(registry, entry.id)  # card tiling hints, checked like the palette does
    pipeline = StylePipeline(_FiniteNetwork(registry.session(entry.id, "stylizer")), tile=options.tile,
                             overlap=options.overlap, multiple=options.multiple, **card_io_options(entry.card))
    image = sample_image()
    out = pipeline.apply(image, StyleSettings(strength=1.0))
    if out.shape != image.shape or out.dtype != np.uint8:
        raise ModelError(f"the style pipeline returned {out.shape} {out.dtype} for a {image.shape} image.")
    return f"stylized a {TEST_SIZE}x{TEST_SIZE} image"


def run_style_arbitrary(registry: Any, entry: Any) -> str:
    from genart_desktop.engine.pipelines.arbitrary_style import ArbitraryStyleModel
    from genart_desktop.engine.pipelines.style import StyleSettings

    model = ArbitraryStyleModel.from_registry(registry, entry.id)  # config and presets checked as the palette does
    image = sample_image()
    measured = model.measure(image)  # statistics are refused unless finite
    presets = model.presets()
    out = model.pipeline(presets[0].stats if presets else measured).apply(image, StyleSettings(strength=1.0))
    if out.shape != image.shape or out.dtype != np.uint8:
        raise ModelError(f"the arbitrary style pipeline returned {out.shape} {out.dtype} for a {image.shape} image.")
    return (f"measured a style ({measured.channels} channels), {len(presets)} presets, stylized a "
            f"{TEST_SIZE}x{TEST_SIZE} image")


def _prompt_for(model: Any) -> str:
    conditioning = model.conditioning
    if conditioning.kind == "class":
        return conditioning.classes[0]
    if conditioning.kind == "text":
        return " ".join(conditioning.vocabulary[:3])
    return ""


def run_diffusion(registry: Any, entry: Any) -> str:
    from genart_desktop.engine.pipelines.diffusion_model import CardDiffusionModel

    model = CardDiffusionModel.from_registry(registry, entry.id)
    result = model.generate(_prompt_for(model), steps=DIFFUSION_STEPS, seed=0)
    images = _finite(result.images, "The generated image")
    return f"{DIFFUSION_STEPS} sampler steps -> {_image_shape(images)}"


def run_sd_onnx(registry: Any, entry: Any) -> str:
    from genart_desktop.engine.sd import StableDiffusionOnnx

    model = StableDiffusionOnnx.load(entry.folder, registry.settings)
    result = model.generate("a painting", steps=SD_STEPS, seed=0, width=TEST_SIZE, height=TEST_SIZE)
    images = _finite(result.images, "The generated image")
    return f"{SD_STEPS} step at {_image_shape(images)} on {model.provider}"


def run_upscaler(registry: Any, entry: Any) -> str:
    from genart_desktop.workspace.upscale import open_upscaler

    pipeline = open_upscaler(registry, entry.id)
    image = sample_image()
    out = _finite(pipeline.upscale(image), "The enlarged image")
    want = (image.shape[0] * pipeline.scale, image.shape[1] * pipeline.scale, 3)
    if out.shape != want:
        raise ModelError(f"The upscaler returned shape {out.shape}; expected {want}.")
    return f"enlarged a {TEST_SIZE}x{TEST_SIZE} image {pipeline.scale}x"


FAMILY_RUNS: dict[str, Callable[[Any, Any], str]] = {
    "gan": run_gan,
    "vae": run_vae,
    "style": run_style,
    "style-arbitrary": run_style_arbitrary,
    "diffusion": run_diffusion,
    "sd-onnx": run_sd_onnx,
    "upscaler": run_upscaler,
}


def _describe(exc: BaseException) -> str:
    """One line: our own errors are already sentences; anything else is named by its type."""
    text = " ".join(str(exc).split()) or "no message"
    return text if isinstance(exc, GenArtError) else f"{type(exc).__name__}: {text}"
