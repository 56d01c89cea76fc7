"""Documents, tiny model registries and a worker blocker shared by the ui and workspace tests (the ``runner``
fixture they use lives in tests/conftest.py)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from PIL import Image

from genart_desktop.document.document import Document
from genart_desktop.engine.jobs import JobRequest, JobRunner
from genart_desktop.engine.registry import ModelRegistry
from tests.engine.latent.tiny_latent import gan_folder, vae_folder
from tests.tiny_onnx import image_model, write_model_folder


def noise_document(seed: int, width: int = 64, height: int = 48) -> Document:
    """A canvas whose one opaque layer is random noise (seeded), with an empty undo history."""
    doc = Document(width, height)
    noise = np.random.default_rng(seed).integers(0, 256, (height, width, 4), dtype=np.uint8)
    noise[..., 3] = 255
    doc.add_layer("Paint", pixels=noise)
    doc.history.clear()
    return doc


def painted_document(width: int = 160, height: int = 120) -> Document:
    """A canvas with a colourful opaque painting on its background layer."""
    yy, xx = np.mgrid[0:height, 0:width]
    pixels = np.empty((height, width, 4), np.uint8)
    pixels[..., 0] = (40 + 150 * xx / width).astype(np.uint8)
    pixels[..., 1] = (60 + 120 * yy / height).astype(np.uint8)
    pixels[..., 2] = (90 + 60 * np.sin(xx / 9.0) * np.cos(yy / 7.0)).astype(np.uint8)
    pixels[..., 3] = 255
    doc = Document(width, height)
    doc.add_layer("Painting", pixels=pixels)
    doc.history.clear()
    return doc


def style_models(root: Path, tile: int | None = None) -> Path:
    """Two tiny style networks: 'tiny-invert' (negative colours) and 'tiny-wash' (a pale wash)."""
    root.mkdir(parents=True, exist_ok=True)
    config = {"tile": tile, "overlap": 8, "size_multiple": 4} if tile else {}
    write_model_folder(root, "tiny-invert", "style", {"stylizer": image_model(scale=-1.0)}, name="Tiny Invert",
                       config=config, resolution=[64, 64])
    write_model_folder(root, "tiny-wash", "style", {"stylizer": image_model(scale=0.5, shift=0.4)},
                       name="Tiny Wash", config=config, resolution=[64, 64])
    return root


def style_registry(tmp_path: Path, tile: int | None = None) -> ModelRegistry:
    return ModelRegistry(roots=[(style_models(tmp_path / "models", tile), "user")],
                         settings={"session_cache_size": 4})


def latent_registry(tmp_path: Path) -> ModelRegistry:
    """'tiny-gan' (8-d latent) and 'tiny-vae' (6-d latent), both drawing 8x8 images."""
    root = tmp_path / "models"
    root.mkdir()
    gan_folder(root, latent=8, size=8)
    vae_folder(root, latent=6, size=8)
    return ModelRegistry(roots=[(root, "user")])


def blocker(runner: JobRunner, timeout: float = 10, lane: str = "main") -> threading.Event:
    """Hold the worker of ``lane`` until the returned event is set (the job stops early if cancelled)."""
    release, started = threading.Event(), threading.Event()

    def work(context):
        started.set()
        while not release.wait(0.01):
            context.check_cancelled()

    runner.submit(JobRequest(work, "Blocker", lane=lane))
    assert started.wait(timeout)
    return release


def noise_image_file(path: Path, size: tuple[int, int] = (70, 50), mode: str = "RGB") -> np.ndarray:
    """Write a seeded mid-grey noise picture (``size`` is width, height) for the CLI commands; returns its pixels."""
    rng = np.random.default_rng(0)
    channels = 4 if mode == "RGBA" else 3
    pixels = rng.integers(30, 220, (size[1], size[0], channels), dtype=np.uint8)
    Image.fromarray(pixels, mode).save(path)
    return pixels
