"""Measure how much memory one onnxruntime run of an image network takes per input pixel, for the card.

The engine decides from this number (``config.activation_bytes_per_pixel``) whether an image goes through the network
whole or in tiles. Shape inference cannot tell it (reflection padding is exported with computed pads, and
onnxruntime adds blocked-layout copies and reuses buffers), so it is measured the way the app runs it: a fresh
process (so nothing else counts), an engine session (its shared arena, which shrinks after each run), the peak
resident size before and after one run.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

MARGIN = 1.1  # allocator rounding and what differs between machines (block sizes of the blocked layout)
_CHILD = r"""
import sys
import numpy as np
from genart_desktop.engine.session import ModelSession

def peak():
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmHWM")

session = ModelSession.load(sys.argv[1], {"execution_provider": "cpu", "intra_op_threads": 1})
side = int(sys.argv[2])

def feeds(size):
    # the picture input(s) at size x size; any other input (statistics, strength) with its free axes set to 1
    return {s.name: np.zeros((1, 3, size, size), np.float32) if s.rank == 4
            else np.ones([d if isinstance(d, int) else 1 for d in s.shape], np.float32) for s in session.inputs}

session.run(feeds(64))
before = peak()
session.run(feeds(side))
print((peak() - before) / side / side)
"""


def activation_bytes_per_pixel(path: str | Path, side: int = 512, timeout: float = 600.0) -> int | None:
    """Bytes one run takes per input pixel (input, activations and output, with a 10% margin), measured at
    ``side`` x ``side`` (every rank-4 input is the picture; other inputs, such as an arbitrary-style graph's
    statistics, are fed ones); None where it cannot be measured (no ``/proc``, the child failed)."""
    try:
        done = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(side)], capture_output=True, text=True,
                              timeout=timeout)
        value = float(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else math.nan
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError):
        return None
    if not math.isfinite(value) or value <= 0:
        return None
    return int(math.ceil(value * MARGIN / 16) * 16)
