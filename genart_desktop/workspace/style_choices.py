"""What a style choice names, and the recipe a list of weighted choices becomes.

A choice is a string: a fixed style network's model id, ``preset:<id>`` (a painting whose statistics the arbitrary
model ships), ``user:<id>`` (a picture in the user's style library) or ``picture:<n>`` (a picture given for this
session only, e.g. ``genart style --style-image``). One fixed network alone runs as it always did; anything else
(a preset, a picture, or a blend of 2 to 4 styles) runs the arbitrary model with the blend of their statistics,
a fixed network standing in as the painting its card names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from genart_desktop.core.errors import InputError, ModelError
from genart_desktop.core.text import shown
from genart_desktop.engine.pipelines.arbitrary_style import (
    FAMILY,
    MAX_STYLES,
    Preset,
    load_presets,
    painting_of,
)
from genart_desktop.engine.pipelines.style import StyleSettings
from genart_desktop.workspace.style_jobs import StylePick, StyleRecipe
from genart_desktop.workspace.style_library import StyleLibrary

STYLE_FAMILY = "style"
ARBITRARY_FAMILY = FAMILY
PRESET, USER, PICTURE = "preset:", "user:", "picture:"


@dataclass(frozen=True)
class StyleOption:
    """A tile of the palette: its ``choice`` string, shown ``name``, ``kind`` ("network", "preset" or "user")
    and a tooltip ``description``."""

    choice: str
    name: str
    kind: str
    description: str = ""


class StyleChoices:
    """Resolves choices against the registry, the arbitrary model's presets, the user's library and this session's
    pictures."""

    def __init__(self, registry: Any, library: StyleLibrary) -> None:
        self.registry = registry
        self.library = library
        self._pictures: dict[str, tuple[str, np.ndarray]] = {}
        self._presets: tuple[Any, tuple[Preset, ...]] | None = None

    # -- what there is ------------------------------------------------------------------------------------------------
    def arbitrary(self) -> Any | None:
        """The arbitrary-style model (the first one found), or None when none is installed."""
        if self.registry is None:
            return None
        models = self.registry.models(ARBITRARY_FAMILY)
        return models[0] if models else None

    def presets(self) -> tuple[Preset, ...]:
        """The arbitrary model's presets (read once per model card); none without the model."""
        entry = self.arbitrary()
        if entry is None or entry.card is None:
            return ()
        if self._presets is None or self._presets[0] is not entry.card:
            self._presets = (entry.card, load_presets(entry.card))
        return self._presets[1]

    def options(self) -> list[StyleOption]:
        """Every tile: the fixed networks, the presets (with the arbitrary model) and the user's styles."""
        networks = self.registry.models(STYLE_FAMILY) if self.registry is not None else []
        options = [StyleOption(m.id, m.name, "network", m.card.description if m.card is not None else "")
                   for m in networks]
        if self.arbitrary() is not None:
            options += [StyleOption(PRESET + p.id, p.name, "preset", f"Painting style from {p.source}")
                        for p in self.presets()]
            options += [StyleOption(s.choice, s.name, "user", "Your style") for s in self.library.styles()]
        return options

    def add_picture(self, name: str, pixels: np.ndarray) -> str:
        """A picture used as a style for this session only (nothing is saved); returns its choice."""
        choice = f"{PICTURE}{len(self._pictures) + 1}"
        frozen = np.array(pixels, copy=True)
        frozen.flags.writeable = False
        self._pictures[choice] = (name, frozen)
        return choice

    # -- one choice ---------------------------------------------------------------------------------------------------
    def is_network(self, choice: str) -> bool:
        return not choice.startswith((PRESET, USER, PICTURE))

    def check(self, choice: str) -> None:
        """Raise :class:`InputError` / :class:`ModelError` unless ``choice`` names a usable style."""
        if not isinstance(choice, str) or not choice:
            raise InputError(f"{shown(choice)} is not a style.")
        if self.is_network(choice):
            entry = self.registry.get(choice)
            if entry.family != STYLE_FAMILY:
                raise ModelError(f"Model '{choice}' is a {entry.family} model, not a style network.")
            return
        self.needs_arbitrary()
        self.pick(choice, 1.0, pixels=False)

    def pick(self, choice: str, weight: float, pixels: bool = True) -> StylePick:
        """The recipe's entry for one choice (the picture's pixels read now unless ``pixels`` is false)."""
        if choice.startswith(PRESET):
            preset = self._preset(choice[len(PRESET):])
            return StylePick(choice, preset.name, weight, preset=preset.id)
        if choice.startswith(USER):
            style = self.library.get(choice[len(USER):])
            return StylePick(choice, style.name, weight, pixels=self.library.pixels(style.id) if pixels else None)
        if choice.startswith(PICTURE):
            if choice not in self._pictures:
                raise InputError(f"There is no style picture {shown(choice)}.")
            name, picture = self._pictures[choice]
            return StylePick(choice, name, weight, pixels=picture)
        entry = self.registry.get(choice)
        self.needs_arbitrary()
        painting = painting_of(entry.card)
        preset = next((p for p in self.presets() if painting is not None and p.source == painting), None)
        if preset is None:
            raise InputError(f"{shown(entry.name)} cannot be blended: its card names no painting the arbitrary "
                             "style model knows.")
        return StylePick(choice, entry.name, weight, preset=preset.id)

    def _preset(self, preset_id: str) -> Preset:
        self.needs_arbitrary()
        for preset in self.presets():
            if preset.id == preset_id:
                return preset
        raise InputError(f"The arbitrary style model has no preset {shown(preset_id)}.")

    def needs_arbitrary(self) -> Any:
        entry = self.arbitrary()
        if entry is None:
            raise InputError("Pictures, presets and blends need the arbitrary style model (family "
                             "style-arbitrary); install it in the models folder.")
        return entry

    # -- a recipe -----------------------------------------------------------------------------------------------------
    def recipe(self, choices: tuple[tuple[str, float], ...], settings: StyleSettings, source: str) -> StyleRecipe:
        """The recipe of 1 to 4 weighted choices: a fixed network alone as itself, else the arbitrary model."""
        if not choices:
            raise InputError("Choose a style first.")
        if len(choices) > MAX_STYLES:
            raise InputError(f"Blend at most {MAX_STYLES} styles.")
        if len(choices) == 1 and self.is_network(choices[0][0]):
            self.check(choices[0][0])
            entry = self.registry.get(choices[0][0])
            return StyleRecipe(entry.id, entry.name, settings, source)
        entry = self.needs_arbitrary()
        picks = tuple(self.pick(choice, weight) for choice, weight in choices)
        total = sum(pick.weight for pick in picks)
        if total <= 0:
            raise InputError("At least one style needs a weight above 0.")
        name = picks[0].name if len(picks) == 1 else " + ".join(f"{p.name} {p.weight / total:.0%}" for p in picks)
        return StyleRecipe(entry.id, name, settings, source, picks)
