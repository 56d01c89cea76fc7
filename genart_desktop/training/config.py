"""Training options as dataclasses: one definition drives the command-line flags, the run's options.json, the
checkpoint and the command line recorded in the model card.

Fields carry their help text and allowed choices in ``field(metadata=...)``; flags are the field names with dashes.
Only flags the user actually typed override the defaults (or, with ``--resume``, the stored options).
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from genart_desktop.core.errors import InputError

C = TypeVar("C", bound="TrainConfig")


def option(default: Any, help: str, choices: tuple | None = None) -> Any:  # noqa: A002 - mirrors argparse
    return field(default=default, metadata={"help": help, "choices": choices})


@dataclass
class TrainConfig:
    """Options every trainer shares."""

    data: str = option("", "dataset folder (made by `genart-train dataset`) or a plain folder of images")
    runs_dir: str = option("runs", "folder that receives the numbered run folders")
    resolution: int = option(64, "image size in pixels (square)", (32, 64, 128))
    steps: int = option(10000, "total optimisation steps")
    batch_size: int = option(64, "images per step (per process under torchrun)")
    lr: float = option(2e-4, "learning rate")
    seed: int = option(0, "random seed (the whole run is reproducible from it)")
    device: str = option("auto", "where to train", ("auto", "cpu", "cuda"))
    precision: str = option("auto", "auto picks bf16 where the hardware runs it natively, fp16 on older GPUs",
                            ("auto", "fp32", "bf16", "fp16"))
    threads: int = option(0, "CPU threads for torch (0 keeps torch's choice)")
    log_every: int = option(50, "steps between log lines and loss-curve updates")
    sample_every: int = option(500, "steps between sample grids and quality measurements")
    checkpoint_every: int = option(1000, "steps between checkpoints")
    keep_checkpoints: int = option(3, "how many recent checkpoints to keep")
    flip: bool = option(False, "random horizontal flips of the training images")
    init_from: str = option("", "start from a model id, a model folder or a run folder (its latest checkpoint) "
                                "instead of random weights: the network's shape options come from it, and unless "
                                "typed, --lr is a third and --steps a quarter of this family's defaults")

    FAMILY = ""
    #: the options that shape the networks: with --init-from they come from the source unless typed
    ARCHITECTURE: ClassVar[tuple[str, ...]] = ()

    def validate(self) -> None:
        if not self.data:
            raise InputError("Give the training images with --data FOLDER.")
        positive = ("steps", "batch_size", "log_every", "sample_every", "checkpoint_every", "keep_checkpoints")
        for name in positive:
            if getattr(self, name) <= 0:
                raise InputError(f"--{name.replace('_', '-')} must be a positive number, not {getattr(self, name)}.")
        if self.threads < 0:
            raise InputError("--threads must be 0 (automatic) or more.")
        if not self.lr > 0:
            raise InputError(f"--lr must be positive, not {self.lr}.")
        for item in dataclasses.fields(self):
            choices = item.metadata.get("choices")
            if choices and getattr(self, item.name) not in choices:
                allowed = ", ".join(str(c) for c in choices)
                raise InputError(f"--{item.name.replace('_', '-')} must be one of {allowed}, "
                                 f"not {getattr(self, item.name)!r}.")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls: type[C], values: dict[str, Any]) -> C:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InputError(f"Unknown {cls.FAMILY} options: {', '.join(unknown)}.")
        return cls(**values)

    def command(self) -> str:
        """The ``genart-train`` command line that reproduces these options (defaults left out)."""
        parts = ["genart-train", self.FAMILY]
        defaults = type(self)()
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if value == getattr(defaults, item.name):
                continue
            flag = "--" + item.name.replace("_", "-")
            if isinstance(value, bool):
                parts.append(flag if value else "--no-" + item.name.replace("_", "-"))
            else:
                parts += [flag, str(value)]
        return shlex.join(parts)


def add_config_arguments(parser: argparse.ArgumentParser, cls: type[TrainConfig]) -> None:
    """One flag per field; defaults are suppressed so that ``explicit_options`` sees only what was typed."""
    defaults = cls()
    for item in dataclasses.fields(cls):
        flag = "--" + item.name.replace("_", "-")
        default = getattr(defaults, item.name)
        help_text = f"{item.metadata.get('help', '')} (default: {default})"
        kwargs: dict[str, Any] = {"dest": item.name, "default": argparse.SUPPRESS, "help": help_text}
        if isinstance(default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, **kwargs)
            continue
        if item.metadata.get("choices"):
            kwargs["choices"] = item.metadata["choices"]
        parser.add_argument(flag, type=type(default), **kwargs)


def add_training_arguments(parser: argparse.ArgumentParser, cls: type[TrainConfig]) -> None:
    """The config's flags plus --resume, --dry-run and --progress."""
    from genart_desktop.training.progress import add_progress_argument

    add_config_arguments(parser, cls)
    add_progress_argument(parser)
    parser.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its latest checkpoint")
    parser.add_argument("--dry-run", action="store_true", help="print the resolved options and exit")


def explicit_options(args: argparse.Namespace, cls: type[TrainConfig]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in vars(args).items() if k in names}
