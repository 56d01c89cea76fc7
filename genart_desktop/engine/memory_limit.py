"""A ceiling on the memory one ONNX run may take on the CPU, so a graph that asks for too much fails with one line
instead of swapping the machine to a halt or being killed.

Declared shapes are checked when a model is registered, but a graph can still grow a tensor at run time (Tile,
Expand, ConstantOfShape, Resize with data-dependent sizes). All CPU sessions therefore share one onnxruntime arena
(``session.use_env_allocators``) created with ``max_mem``: an allocation past it makes the run fail, which
:func:`is_out_of_memory` recognises. Weights (initializers) are not counted, only what runs allocate: activations
and outputs. The arena shrinks after every run (``memory.enable_memory_arena_shrinkage``), so memory a large run
took is given back instead of staying with the process.

The ceiling is the ``run_memory_limit_mb`` setting, by default half the machine's memory (at least 2 GiB). It is
fixed by the first session a process creates.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

import onnxruntime as ort

SETTING = "run_memory_limit_mb"
MIN_DEFAULT_MB = 2048
_SHRINK_KEY = "memory.enable_memory_arena_shrinkage"
_lock = threading.Lock()
_registered_mb: int | None = None


def physical_memory_mb() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") >> 20)
    except (AttributeError, OSError, ValueError):
        return None


def limit_mb(settings: Mapping[str, Any]) -> int:
    """The setting when it is a positive number of MiB, else half the physical memory (at least 2 GiB)."""
    try:
        value = int(settings.get(SETTING, 0))
    except (TypeError, ValueError, OverflowError):
        value = 0
    if value > 0:
        return value
    physical = physical_memory_mb()
    return max(MIN_DEFAULT_MB, physical // 2) if physical else 8192


def current_limit_mb() -> int | None:
    """The ceiling in force in this process (None before the first session)."""
    return _registered_mb


def apply(options: ort.SessionOptions, settings: Mapping[str, Any]) -> None:
    """Make a session draw from the shared, capped CPU arena (registering it on first use)."""
    global _registered_mb
    with _lock:
        if _registered_mb is None:
            wanted = limit_mb(settings)
            info = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT)
            try:
                ort.create_and_register_allocator(info, ort.OrtArenaCfg(wanted << 20, -1, -1, -1))
            except Exception:  # noqa: BLE001 - already registered by someone else: use it as it is
                pass
            _registered_mb = wanted
    options.add_session_config_entry("session.use_env_allocators", "1")


def shrinking(run_options: ort.RunOptions | None) -> ort.RunOptions:
    """``run_options`` (or new ones) asking the CPU arena to give back what the run no longer needs."""
    options = run_options if run_options is not None else ort.RunOptions()
    try:
        present = options.get_run_config_entry(_SHRINK_KEY) == "cpu:0"
    except Exception:  # noqa: BLE001 - onnxruntime raises when the key is absent
        present = False
    if not present:
        options.add_run_config_entry(_SHRINK_KEY, "cpu:0")
    return options


def is_out_of_memory(message: str) -> bool:
    """Whether an onnxruntime failure says the run hit the ceiling (or the machine ran out)."""
    return "BFCArena" in message or "Failed to allocate memory" in message or "bad_alloc" in message
