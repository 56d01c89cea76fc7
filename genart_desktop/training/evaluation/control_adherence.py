"""Control adherence: how closely a control model's pictures follow the control pictures they were given.

Each measured picture's control is made from a real picture with the app's own map functions, the model draws
from it (through the engine's adapter, as the app would), and the output is compared with the control:

- ``edges``: the output's own edge lines (the same Sobel map) against the control's lines, with one pixel of
  tolerance: precision (output lines near a control line), recall (control lines near an output line), F1, and the
  plain IoU of the two line maps.
- ``colour-blocks``: every output pixel is given the nearest colour of its control's palette; agreement is the
  fraction of pixels whose colour is the control's colour there.

Both are also measured against the wrong control (each output scored against the next picture's control): that
*unpaired* figure is what a model that ignored its control would get, so the gap is the adherence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from PIL import Image

from genart_desktop.core.images import flatten_alpha
from genart_desktop.engine.control_maps import dilate, edge_lines, sketch_lines

Generate = Callable[[np.ndarray, int, int], np.ndarray]  # (control picture, index, seed) -> (H, W, 3) uint8


def edge_agreement(output: np.ndarray, control: np.ndarray) -> dict[str, float]:
    """Precision, recall, F1 (1-pixel tolerance) and IoU of the output's edges vs the control's lines."""
    found, wanted = edge_lines(output), sketch_lines(control)
    near_wanted, near_found = dilate(wanted), dilate(found)
    precision = float(near_wanted[found].mean()) if found.any() else 0.0
    recall = float(near_found[wanted].mean()) if wanted.any() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    union = (found | wanted).sum()
    return {"precision": precision, "recall": recall, "f1": f1,
            "iou": float((found & wanted).sum() / union) if union else 1.0}


def colour_agreement(output: np.ndarray, control: np.ndarray) -> float:
    """Fraction of pixels whose nearest control-palette colour is the control's colour at that pixel."""
    flat = control.reshape(-1, 3).astype(np.int32)
    palette, index = np.unique(flat, axis=0, return_inverse=True)
    pixels = output.reshape(-1, 3).astype(np.int32)
    nearest = ((pixels[:, None, :] - palette[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    return float((nearest == index.reshape(-1)).mean())


@dataclass
class ControlAdherence:
    kind: str
    pictures: int
    held_out: bool  # False: the controls come from pictures the model was trained on
    strength: float
    steps: int
    seed: int
    paired: dict[str, float] = field(default_factory=dict)
    unpaired: dict[str, float] = field(default_factory=dict)
    # the pictures behind the figures, for the sheet; not part of the card's record
    controls: list[np.ndarray] = field(default_factory=list, repr=False)
    outputs: list[np.ndarray] = field(default_factory=list, repr=False)
    sources: list[np.ndarray] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("controls", "outputs", "sources")}

    def sheet(self, rows: int = 8, cell: int = 128) -> Image.Image:
        """Rows of (the picture the control came from |) control | output, each cell ``cell`` pixels wide, so a
        person can judge the figures by eye."""
        count = max(1, min(rows, len(self.outputs)))
        columns = [self.sources, self.controls, self.outputs] if self.sources else [self.controls, self.outputs]
        gap = 4
        sheet = Image.new("RGB", (len(columns) * (cell + gap) + gap, count * (cell + gap) + gap), (40, 40, 44))
        for row in range(count):
            for column, images in enumerate(columns):
                tile = Image.fromarray(images[row]).resize((cell, cell), Image.Resampling.NEAREST
                                                           if column == len(columns) - 2 else Image.Resampling.LANCZOS)
                sheet.paste(tile, (gap + column * (cell + gap), gap + row * (cell + gap)))
        return sheet


def _score(kind: str, outputs: list[np.ndarray], controls: list[np.ndarray]) -> dict[str, float]:
    if kind == "edges":
        rows = [edge_agreement(o, c) for o, c in zip(outputs, controls)]
        return {key: float(np.mean([row[key] for row in rows])) for key in rows[0]}
    return {"colour_agreement": float(np.mean([colour_agreement(o, c) for o, c in zip(outputs, controls)]))}


def measure_adherence(kind: str, controls: list[np.ndarray], generate: Generate, *, held_out: bool,
                      strength: float, steps: int, seed: int = 0,
                      pictures: list[np.ndarray] | None = None) -> ControlAdherence:
    """Draw one picture per control (seed ``seed + i``) and score it against its own and the next control; an RGBA
    output is judged over white, as the control was drawn."""
    if len(controls) < 2:
        raise ValueError("Control adherence needs at least two pictures (one to compare against the wrong one).")
    outputs = [_over_white(generate(control, i, seed + i)) for i, control in enumerate(controls)]
    shifted = controls[1:] + controls[:1]
    return ControlAdherence(kind, len(controls), held_out, strength, steps, seed, _score(kind, outputs, controls),
                            _score(kind, outputs, shifted), list(controls), outputs, list(pictures or []))


def _over_white(pixels: np.ndarray) -> np.ndarray:
    return flatten_alpha(pixels, (255, 255, 255)) if pixels.ndim == 3 and pixels.shape[2] == 4 else pixels


def evaluate_control_model(model_dir: str, dataset: Any, count: int = 32, steps: int | None = None,
                           strength: float = 1.0, seed: int = 0, held_out: bool = False,
                           log: Callable[[str], None] = print) -> ControlAdherence:
    """Control adherence of an exported model folder (through the engine's adapter) on ``count`` pictures of
    ``dataset`` (an ImageDataset), each prompted with its own caption or label when the model takes a prompt."""
    import torch

    from genart_desktop.core.errors import InputError
    from genart_desktop.core.images import resize
    from genart_desktop.engine.pipelines.control import RecipeControl
    from genart_desktop.engine.pipelines.diffusion_model import CardDiffusionModel
    from genart_desktop.training.diffusion.control import control_of, picture_uint8
    from genart_desktop.training.evaluation.card_metrics import open_model_folder

    registry, entry, card = open_model_folder(model_dir)
    config = card.get("config") or {}
    control = config.get("control") if isinstance(config.get("control"), dict) else None
    if control is None:
        raise InputError(f"{entry.id} was not trained with a control picture.")
    model = CardDiffusionModel.from_registry(registry, entry.id)
    kind, colours = str(control.get("type")), int(control.get("colours", 6))
    width, height = model.default_size()
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed + 17))[:count]
    items = dataset.meta.get("items") or [{} for _ in range(len(dataset))]
    pictures = [picture_uint8(image) for image in dataset.batch(order)]
    pictures = [p if p.shape[:2] == (height, width) else resize(p, width, height) for p in pictures]
    kind_of_prompt = model.conditioning.kind
    classes = [c.lower() for c in model.conditioning.classes]
    prompts = []
    for index in order.tolist():
        item = items[index] if index < len(items) else {}
        if kind_of_prompt == "text":
            prompts.append(str(item.get("caption") or ""))
        elif kind_of_prompt == "class":
            label = str(item.get("label", "")).lower()
            prompts.append(model.conditioning.classes[classes.index(label) if label in classes else 0])
        else:
            prompts.append("")
    controls = [control_of(p, kind, colours) for p in pictures]
    used_steps = int(steps or model.default_steps)
    log(f"{entry.id}: {kind} adherence on {len(controls)} {'held-out' if held_out else 'training'} pictures, "
        f"{used_steps} steps, strength {strength:g}")

    def generate(picture: np.ndarray, index: int, image_seed: int) -> np.ndarray:
        values: dict[str, Any] = {"steps": used_steps, "seed": image_seed,
                                  "control": RecipeControl.from_picture(picture, strength, "sketch")}
        if kind_of_prompt == "class":
            values["class_label"] = prompts[index]
        elif kind_of_prompt == "none":
            values["guidance"] = 1.0
        return model.render(model.recipe(prompts[index], **values)).pixels

    return measure_adherence(kind, controls, generate, held_out=held_out, strength=strength, steps=used_steps,
                             seed=seed, pictures=pictures)
