"""Stable Diffusion ONNX folders (Hugging Face Optimum layout) run with onnxruntime alone."""

from genart_desktop.engine.sd.folder import SDFolder, is_sd_folder
from genart_desktop.engine.sd.pipeline import StableDiffusionOnnx
from genart_desktop.engine.sd.tokenizer import CLIPTokenizer

__all__ = ["CLIPTokenizer", "SDFolder", "StableDiffusionOnnx", "is_sd_folder"]
