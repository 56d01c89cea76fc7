"""A tiny, randomly initialised Stable Diffusion pipeline exported to ONNX in Hugging Face Optimum's folder layout.

Built in the tests (and the benchmark) with diffusers + transformers + torch, never downloaded:

    folder/model_index.json
    folder/scheduler/scheduler_config.json
    folder/tokenizer/{vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json}
    folder/text_encoder/{model.onnx, config.json}                 input_ids int32 -> last_hidden_state
    folder/unet/{model.onnx, model.onnx_data, config.json}        sample, timestep int64 [batch],
                                                                  encoder_hidden_states -> out_sample
    folder/vae_decoder/{model.onnx, config.json}                  latent_sample -> sample
    folder/vae_encoder/{model.onnx, config.json}                  sample -> latent_parameters (mean, logvar)

The CLIP vocabulary is tiny: the 512 byte-level symbols, merges for a handful of words, and the two special tokens.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

WORDS = ["a", "red", "fox", "cat", "painting", "of", "the", "sea", "blue", "sky", "in", "oil", "on", "canvas"]
LATENT_CHANNELS = 4
SAMPLE_SIZE = 8  # latent cells; the VAE has 2 blocks, so images are 16x16
TEXT_DIM = 32
MAX_TOKENS = 77


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's reversible byte -> printable character map (written out here so the test owns its vocab)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    mapping = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + extra)
            extra += 1
    return mapping


def tiny_clip_vocab() -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Vocabulary and merges that spell WORDS as whole tokens (merging left to right)."""
    symbols = list(bytes_to_unicode().values())
    vocab_list = symbols + [s + "</w>" for s in symbols]
    merges: list[tuple[str, str]] = []
    for word in WORDS:
        parts = list(word[:-1]) + [word[-1] + "</w>"]
        while len(parts) > 1:
            pair = (parts[0], parts[1])
            merged = pair[0] + pair[1]
            if pair not in merges:
                merges.append(pair)
                if merged not in vocab_list:
                    vocab_list.append(merged)
            parts = [merged] + parts[2:]
    vocab_list += ["<|startoftext|>", "<|endoftext|>"]
    return {token: i for i, token in enumerate(vocab_list)}, merges


def write_tokenizer(folder: Path) -> dict[str, int]:
    folder.mkdir(parents=True, exist_ok=True)
    vocab, merges = tiny_clip_vocab()
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(f"{a} {b}" for a, b in merges) + "\n",
                                       encoding="utf-8")
    (folder / "special_tokens_map.json").write_text(json.dumps({
        "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>"}), encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "model_max_length": MAX_TOKENS, "do_lower_case": True, "tokenizer_class": "CLIPTokenizer",
        "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>"}), encoding="utf-8")
    return vocab


@dataclass
class TinySD:
    """The torch modules, kept for parity checks and the benchmark."""

    text_encoder: Any
    unet: Any
    vae: Any
    scheduler_config: dict[str, Any]


def build_torch_modules(seed: int = 0, prediction_type: str = "epsilon") -> TinySD:
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    vocab, _ = tiny_clip_vocab()
    torch.manual_seed(seed)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=len(vocab), hidden_size=TEXT_DIM, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, max_position_embeddings=MAX_TOKENS, bos_token_id=vocab["<|startoftext|>"],
        eos_token_id=vocab["<|endoftext|>"], pad_token_id=vocab["<|endoftext|>"])).eval()
    unet = UNet2DConditionModel(
        sample_size=SAMPLE_SIZE, in_channels=LATENT_CHANNELS, out_channels=LATENT_CHANNELS, layers_per_block=1,
        block_out_channels=(32, 64), down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=TEXT_DIM, attention_head_dim=8,
        norm_num_groups=16).eval()
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=LATENT_CHANNELS, block_out_channels=(16, 32),
        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
        layers_per_block=1, norm_num_groups=8, sample_size=SAMPLE_SIZE * 2).eval()
    scheduler = {
        "_class_name": "PNDMScheduler", "_diffusers_version": "0.30.0", "beta_start": 0.00085, "beta_end": 0.012,
        "beta_schedule": "scaled_linear", "num_train_timesteps": 1000, "set_alpha_to_one": False,
        "skip_prk_steps": True, "steps_offset": 1, "trained_betas": None, "clip_sample": False,
        "prediction_type": prediction_type,
    }
    return TinySD(text_encoder, unet, vae, scheduler)


def _export(module: Any, args: tuple, path: Path, inputs: list[str], outputs: list[str],
            dynamic: dict[str, dict[int, str]], external: bool = False) -> None:
    import onnx
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(module, args, str(path), input_names=inputs, output_names=outputs,
                          dynamic_axes=dynamic, opset_version=17, dynamo=False)
    if external:  # Optimum keeps the U-Net weights in a file beside the graph
        model = onnx.load(str(path))
        onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                        location="model.onnx_data", size_threshold=0)


def export_tiny_sd(folder: Path, seed: int = 0, prediction_type: str = "epsilon",
                   modules: TinySD | None = None) -> TinySD:
    """Write the Optimum layout to ``folder``; returns the torch modules it came from."""
    import torch

    tiny = modules or build_torch_modules(seed, prediction_type)
    folder.mkdir(parents=True, exist_ok=True)
    write_tokenizer(folder / "tokenizer")
    (folder / "scheduler").mkdir(exist_ok=True)
    (folder / "scheduler" / "scheduler_config.json").write_text(json.dumps(tiny.scheduler_config), encoding="utf-8")
    (folder / "model_index.json").write_text(json.dumps({
        "_class_name": "ORTStableDiffusionPipeline", "_diffusers_version": "0.30.0",
        "scheduler": ["diffusers", "PNDMScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
        "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
        "vae_decoder": ["diffusers", "AutoencoderKL"], "vae_encoder": ["diffusers", "AutoencoderKL"]}),
        encoding="utf-8")

    class TextEncoder(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids):
            out = self.inner(input_ids=input_ids.long())
            return out.last_hidden_state, out.pooler_output

    class UNet(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, sample, timestep, encoder_hidden_states):
            return self.inner(sample, timestep, encoder_hidden_states, return_dict=False)[0]

    class VaeDecoder(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, latent_sample):
            return self.inner.decode(latent_sample, return_dict=False)[0]

    class VaeEncoder(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, sample):
            return self.inner.encode(sample).latent_dist.parameters

    ids = torch.zeros((1, MAX_TOKENS), dtype=torch.int32)
    _export(TextEncoder(tiny.text_encoder), (ids,), folder / "text_encoder" / "model.onnx", ["input_ids"],
            ["last_hidden_state", "pooler_output"], {"input_ids": {0: "batch_size", 1: "sequence_length"}})
    latents = torch.zeros((2, LATENT_CHANNELS, SAMPLE_SIZE, SAMPLE_SIZE))
    _export(UNet(tiny.unet), (latents, torch.tensor([500, 500], dtype=torch.int64),
                              torch.zeros((2, MAX_TOKENS, TEXT_DIM))),
            folder / "unet" / "model.onnx", ["sample", "timestep", "encoder_hidden_states"], ["out_sample"],
            {"sample": {0: "batch_size", 2: "height", 3: "width"}, "timestep": {0: "steps"},
             "encoder_hidden_states": {0: "batch_size", 1: "sequence_length"}}, external=True)
    _export(VaeDecoder(tiny.vae), (latents[:1],), folder / "vae_decoder" / "model.onnx", ["latent_sample"],
            ["sample"], {"latent_sample": {0: "batch_size", 2: "height", 3: "width"}})
    _export(VaeEncoder(tiny.vae), (torch.zeros((1, 3, SAMPLE_SIZE * 2, SAMPLE_SIZE * 2)),),
            folder / "vae_encoder" / "model.onnx", ["sample"], ["latent_parameters"],
            {"sample": {0: "batch_size", 2: "height", 3: "width"}})
    for name, config in (("text_encoder", tiny.text_encoder.config.to_dict()), ("unet", dict(tiny.unet.config)),
                         ("vae_decoder", dict(tiny.vae.config)), ("vae_encoder", dict(tiny.vae.config))):
        (folder / name / "config.json").write_text(json.dumps(_jsonable(config)), encoding="utf-8")
    return tiny


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
