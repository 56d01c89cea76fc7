"""Tiny GAN and VAE models for latent-explorer tests, built with onnx.helper.

The VAE here is linear and *invertible* (the encoder's mean is the decoder's pseudo-inverse), so an encode/decode
round trip must give back the picture up to 8-bit rounding: a test of the plumbing, not of a trained model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from genart_desktop.engine.latent.space import GAN, VAE, LatentSpace
from genart_desktop.engine.session import ModelSession
from tests.tiny_onnx import _finish, linear_generator, save_model, write_model_folder


def _orthonormal(rows: int, cols: int, seed: int) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((rows, cols)))
    return q.astype(np.float32)


def invertible_vae(latent: int = 6, size: int = 8, scale: float = 2.0, seed: int = 5):
    """(encoder, decoder) ONNX models: ``image = reshape(latent @ W)``, ``mean = flatten(image) @ pinv(W)``."""
    pixels = 3 * size * size
    w = (_orthonormal(pixels, latent, seed).T * scale).astype(np.float32)  # (latent, pixels), rows orthogonal
    pinv = np.linalg.pinv(w).astype(np.float32)  # (pixels, latent)
    dec = helper.make_graph(
        [helper.make_node("MatMul", ["latent", "w"], ["flat"]),
         helper.make_node("Reshape", ["flat", "shape"], ["image"])],
        "vae_decoder",
        [helper.make_tensor_value_info("latent", TensorProto.FLOAT, ["batch", latent])],
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, size, size])],
        initializer=[numpy_helper.from_array(w, "w"),
                     numpy_helper.from_array(np.array([-1, 3, size, size], np.int64), "shape")],
    )
    enc = helper.make_graph(
        [helper.make_node("Flatten", ["image"], ["flat"], axis=1),
         helper.make_node("MatMul", ["flat", "pinv"], ["mean"]),
         helper.make_node("Mul", ["mean", "zero"], ["scaled"]),
         helper.make_node("Add", ["scaled", "minus_two"], ["logvar"])],
        "vae_encoder",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, size, size])],
        [helper.make_tensor_value_info("mean", TensorProto.FLOAT, ["batch", latent]),
         helper.make_tensor_value_info("logvar", TensorProto.FLOAT, ["batch", latent])],
        initializer=[numpy_helper.from_array(pinv, "pinv"),
                     numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
                     numpy_helper.from_array(np.array(-2.0, np.float32), "minus_two")],
    )
    return _finish(enc), _finish(dec)


def gan_folder(root: Path, model_id: str = "tiny-gan", latent: int = 8, size: int = 8, seed: int = 0) -> Path:
    return write_model_folder(root, model_id, "gan", {"generator": linear_generator(latent=latent, size=size, seed=seed)},
                              latent={"shape": [latent], "distribution": "normal"}, resolution=[size, size])


def vae_folder(root: Path, model_id: str = "tiny-vae", latent: int = 6, size: int = 8) -> Path:
    enc, dec = invertible_vae(latent, size)
    return write_model_folder(root, model_id, "vae", {"encoder": enc, "decoder": dec},
                              latent={"shape": [latent], "distribution": "normal"}, resolution=[size, size])


def gan_space(root: Path, latent: int = 8, size: int = 8, seed: int = 0) -> LatentSpace:
    path = save_model(linear_generator(latent=latent, size=size, seed=seed), Path(root) / f"gan{seed}.onnx")
    return LatentSpace(GAN, ModelSession.load(path), model_id="tiny-gan", sha256=f"{seed:064x}")


def vae_space(root: Path, latent: int = 6, size: int = 8) -> LatentSpace:
    enc, dec = invertible_vae(latent, size)
    enc_path = save_model(enc, Path(root) / "encoder.onnx")
    dec_path = save_model(dec, Path(root) / "decoder.onnx")
    return LatentSpace(VAE, ModelSession.load(dec_path), ModelSession.load(enc_path), model_id="tiny-vae",
                       sha256="ab" * 32)
