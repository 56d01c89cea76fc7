"""Shared measuring tools for the benchmark suite: timing, peak memory, the machine's GEMM ceiling, FLOP counts.

Timings are the median of N runs after warm-up runs (the first run allocates buffers and picks kernels). Peak memory
is the process's resident-set high-water mark during one call, reset just before it where Linux allows
(``/proc/self/clear_refs``), else sampled by a thread. The ceiling is what numpy's float32 matrix multiply reaches on
this machine with the same thread count, so each model row can say how much of the hardware it really uses. FLOPs
come from the ONNX graph itself: Conv, ConvTranspose, Gemm and MatMul nodes, with shapes inferred for the benchmark's
concrete input sizes (one multiply-add = 2 FLOPs; elementwise work is not counted).
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def pin_threads(threads: int) -> None:
    """Ask every BLAS/OpenMP runtime for ``threads`` threads. Effective only before numpy or torch are imported,
    which is why ``run.py`` calls it first; later changes go through :func:`blas_threads`."""
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)


class blas_threads:  # noqa: N801 - used like a function: ``with blas_threads(2): ...``
    """Limit numpy's BLAS to ``threads`` threads inside the block when threadpoolctl is installed (else rely on the
    environment variables set by :func:`pin_threads`)."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._limiter: Any = None

    def __enter__(self) -> blas_threads:
        try:
            from threadpoolctl import threadpool_limits
        except ModuleNotFoundError:
            return self
        self._limiter = threadpool_limits(limits=self.threads, user_api="blas")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._limiter is not None:
            self._limiter.restore_original_limits()


# --- timing ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Timing:
    """Seconds per call: the median (what a user typically waits) and the best run, over ``runs`` timed calls."""

    median_s: float
    best_s: float
    runs: int
    samples: tuple[float, ...] = field(default=(), repr=False)

    @property
    def median_ms(self) -> float:
        return self.median_s * 1000.0

    def per_second(self, items: float = 1.0) -> float:
        return items / self.median_s if self.median_s > 0 else float("inf")

    def to_dict(self) -> dict[str, Any]:
        return {"median_s": self.median_s, "best_s": self.best_s, "runs": self.runs, "samples_s": list(self.samples)}


def measure(fn: Callable[[], Any], repeats: int = 5, warmup: int = 1) -> Timing:
    """Call ``fn`` ``warmup`` times untimed, then ``repeats`` times timed; median and best in seconds."""
    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    for _ in range(max(0, warmup)):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return Timing(statistics.median(samples), min(samples), repeats, tuple(samples))


# --- memory ---------------------------------------------------------------------------------------------------------

def current_rss() -> int:
    """Resident memory of this process in bytes (psutil, else /proc, else the rusage high-water mark)."""
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except ModuleNotFoundError:
        pass
    status = _proc_status()
    if "VmRSS" in status:
        return status["VmRSS"]
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def _proc_status() -> dict[str, int]:
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return {}
    values = {}
    for line in text.splitlines():
        match = re.match(r"^(Vm\w+):\s+(\d+) kB", line)
        if match:
            values[match.group(1)] = int(match.group(2)) * 1024
    return values


def _reset_peak() -> bool:
    """Reset the kernel's resident high-water mark (VmHWM) to the current RSS; False where that is unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return "VmHWM" in _proc_status()


@dataclass(frozen=True)
class MemoryPeak:
    """Resident memory before a call and its peak during the call, in bytes; ``method`` says how it was taken."""

    baseline: int
    peak: int
    method: str

    @property
    def added(self) -> int:
        return max(0, self.peak - self.baseline)

    def to_dict(self) -> dict[str, Any]:
        return {"baseline_bytes": self.baseline, "peak_bytes": self.peak, "added_bytes": self.added,
                "method": self.method}


def peak_memory(fn: Callable[[], Any]) -> tuple[Any, MemoryPeak]:
    """Run ``fn`` once; return its result and the resident-memory peak while it ran."""
    baseline = current_rss()
    if _reset_peak():
        result = fn()
        peak = _proc_status().get("VmHWM", baseline)
        return result, MemoryPeak(baseline, max(peak, baseline), "VmHWM")
    highest = [baseline]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            highest[0] = max(highest[0], current_rss())
            stop.wait(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = fn()
    finally:
        stop.set()
        sampler.join()
    highest[0] = max(highest[0], current_rss())
    return result, MemoryPeak(baseline, highest[0], "sampled every 5 ms")


# --- the machine ----------------------------------------------------------------------------------------------------

def cpu_model() -> str:
    """The CPU's marketing name (``/proc/cpuinfo`` on Linux, else what platform knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def core_counts() -> dict[str, int | None]:
    """Logical CPUs, physical cores (psutil) and the CPUs this process may run on."""
    physical = None
    try:
        import psutil

        physical = psutil.cpu_count(logical=False)
    except ModuleNotFoundError:
        pass
    try:
        allowed = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        allowed = os.cpu_count()
    return {"logical": os.cpu_count(), "physical": physical, "usable": allowed}


def gemm_ceiling(threads: int, size: int = 2048, repeats: int = 5) -> dict[str, float]:
    """float32 ``size x size`` matrix multiply in numpy with ``threads`` BLAS threads: median and best GFLOP/s."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    out = np.empty((size, size), np.float32)
    with blas_threads(threads):
        timing = measure(lambda: np.matmul(a, b, out=out), repeats=repeats, warmup=1)
    flops = 2.0 * size**3
    return {"size": size, "threads": threads, "median_gflops": flops / timing.median_s / 1e9,
            "best_gflops": flops / timing.best_s / 1e9}


# --- FLOPs of an ONNX graph -----------------------------------------------------------------------------------------

@dataclass
class FlopCount:
    """Multiply-add FLOPs of the counted node types, per op type, and the counted nodes whose shapes stayed unknown."""

    total: float = 0.0
    by_op: dict[str, float] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.unknown

    def add(self, op: str, flops: float) -> None:
        self.total += flops
        self.by_op[op] = self.by_op.get(op, 0.0) + flops

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "by_op": dict(self.by_op), "unknown_nodes": list(self.unknown)}


COUNTED_OPS = ("Conv", "ConvTranspose", "Gemm", "MatMul")


def count_flops(model: str | os.PathLike[str] | Any, input_shapes: Mapping[str, Sequence[int]]) -> FlopCount:
    """FLOPs of one run of an ONNX graph (a path or an ``onnx.ModelProto``) for concrete ``input_shapes``.

    Dynamic input axes are fixed to the given sizes and ONNX shape inference propagates them; a counted node whose
    shapes it cannot resolve is listed in ``unknown`` (its FLOPs are left out rather than guessed). A convolution
    counts only its non-zero weights: an exported rewrite that pads kernels with zeros (the style network's phase
    convolution) does no more useful arithmetic than the network it computes.
    """
    import onnx
    from onnx import shape_inference

    proto = onnx.load(os.fspath(model), load_external_data=False) if not isinstance(model, onnx.ModelProto) else model
    proto_copy = onnx.ModelProto()
    proto_copy.CopyFrom(proto)
    graph = proto_copy.graph
    for value in graph.input:
        if value.name not in input_shapes:
            continue
        dims = value.type.tensor_type.shape.dim
        wanted = list(input_shapes[value.name])
        if len(dims) != len(wanted):
            raise ValueError(f"input '{value.name}' has rank {len(dims)}, got shape {wanted}")
        for dim, size in zip(dims, wanted):
            dim.ClearField("dim_param")
            dim.dim_value = int(size)
    # The declared output shapes may name dynamic axes that inference would otherwise have to reconcile.
    for value in graph.output:
        for dim in value.type.tensor_type.shape.dim:
            dim.ClearField("dim_value")
            dim.ClearField("dim_param")
    inferred = _infer_shapes(proto_copy, shape_inference)
    shapes: dict[str, list[int] | None] = {}
    for value in [*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output]:
        tensor_type = value.type.tensor_type
        if not tensor_type.HasField("shape"):
            continue
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor_type.shape.dim]
        shapes[value.name] = None if any(d is None for d in dims) else dims
    for init in inferred.graph.initializer:
        shapes[init.name] = list(init.dims)
    from onnx import numpy_helper

    nonzero = {init.name: int(np.count_nonzero(numpy_helper.to_array(init))) for init in inferred.graph.initializer}
    count = FlopCount()
    _count_graph(inferred.graph, shapes, count, nonzero)
    return count


def _infer_shapes(proto: Any, shape_inference: Any) -> Any:
    """onnxruntime's symbolic shape inference (it follows Pad, Resize and Reshape through computed constants), else
    ONNX's own, which stops at the first shape it cannot compute statically."""
    try:
        from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference

        inferred = SymbolicShapeInference.infer_shapes(proto, auto_merge=True)
        if inferred is not None:
            return inferred
    except Exception:  # noqa: BLE001 - sympy missing, or an op it does not know: use ONNX's inference instead
        pass
    return shape_inference.infer_shapes(proto, strict_mode=False, data_prop=True)


def _count_graph(graph: Any, shapes: dict[str, list[int] | None], count: FlopCount,
                 nonzero: dict[str, int] | None = None) -> None:
    for node in graph.node:
        if node.op_type not in COUNTED_OPS:
            continue
        flops = _node_flops(node, shapes, nonzero or {})
        if flops is None:
            count.unknown.append(node.name or f"{node.op_type}->{node.output[0]}")
        else:
            count.add(node.op_type, flops)


def _attr(node: Any, name: str, default: Any) -> Any:
    from onnx import helper

    for attribute in node.attribute:
        if attribute.name == name:
            return helper.get_attribute_value(attribute)
    return default


def _node_flops(node: Any, shapes: dict[str, list[int] | None], nonzero: dict[str, int]) -> float | None:
    def shape(index: int, outputs: bool = False) -> list[int] | None:
        names = node.output if outputs else node.input
        return shapes.get(names[index]) if index < len(names) and names[index] else None

    op = node.op_type
    if op == "Conv":
        weight, out = shape(1), shape(0, outputs=True)
        if weight is None or out is None:
            return None
        # out [N, Cout, *spatial]; weight [Cout, Cin / groups, *kernel]: one multiply-add per weight and position
        weights = nonzero.get(node.input[1], float(np.prod(weight, dtype=np.float64)))
        return 2.0 * float(out[0] * np.prod(out[2:], dtype=np.float64)) * float(weights)
    if op == "ConvTranspose":
        x, weight = shape(0), shape(1)
        if x is None or weight is None:
            return None
        # every input element scatters into Cout / groups x kernel outputs; weight [Cin, Cout / groups, *kernel]
        return 2.0 * float(np.prod(x, dtype=np.float64)) * float(np.prod(weight[1:], dtype=np.float64))
    if op == "Gemm":
        a, out = shape(0), shape(0, outputs=True)
        if a is None or out is None:
            return None
        k = a[0] if _attr(node, "transA", 0) else a[1]
        return 2.0 * out[0] * out[1] * k
    if op == "MatMul":
        a, out = shape(0), shape(0, outputs=True)
        if a is None or out is None:
            return None
        k = a[-1]
        return 2.0 * float(np.prod(out, dtype=np.float64)) * k
    return None


def gflops_per_second(flops: float, seconds: float) -> float:
    return flops / seconds / 1e9 if seconds > 0 else float("nan")


# --- result rows and the Markdown table -----------------------------------------------------------------------------

@dataclass
class Row:
    """One line of the table: our engine (``ours``) next to PyTorch eager (``theirs``) on the same work.

    ``items`` per call and ``unit`` turn a timing into a rate (``"images/s"``, ``"steps/s"``); ``unit="ms"`` shows
    milliseconds per call. ``text`` replaces the ours column for measurements that are not timings of a call (UI
    rows). ``flops`` is per call, counted from the ONNX graph.
    """

    area: str
    benchmark: str
    weights: str = ""
    ours: Timing | None = None
    theirs: Timing | None = None
    theirs_missing: str | None = None
    items: float = 1.0
    unit: str = "ms"
    flops: float | None = None
    flops_complete: bool = True
    ours_memory: MemoryPeak | None = None
    theirs_memory: MemoryPeak | None = None
    text: str | None = None
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def show(self, timing: Timing | None) -> str:
        if timing is None:
            return ""
        if self.unit == "ms":
            return f"{timing.median_ms:,.1f} ms"
        rate = timing.per_second(self.items)
        return f"{rate:,.{1 if rate >= 10 else 2}f} {self.unit}"

    def gflops(self) -> float | None:
        if self.flops is None or self.ours is None:
            return None
        return gflops_per_second(self.flops, self.ours.median_s)

    def cells(self, ceiling_gflops: float | None) -> list[str]:
        ours = self.text if self.text is not None else self.show(self.ours)
        theirs = self.show(self.theirs) if self.theirs is not None else (self.theirs_missing or "")
        ratio = ""
        if self.ours is not None and self.theirs is not None and self.ours.median_s > 0:
            ratio = f"{self.theirs.median_s / self.ours.median_s:.2f}x"
        achieved = self.gflops()
        gflops = share = ""
        if achieved is not None:
            gflops = f"{achieved:,.1f}" + ("" if self.flops_complete else " (partial count)")
            if ceiling_gflops:
                share = f"{100.0 * achieved / ceiling_gflops:.0f}%"
        memory = ""
        if self.ours_memory is not None:
            memory = f"{self.ours_memory.peak / 2**20:,.0f} (+{self.ours_memory.added / 2**20:,.0f})"
            if self.theirs_memory is not None:
                memory += f" / {self.theirs_memory.peak / 2**20:,.0f} (+{self.theirs_memory.added / 2**20:,.0f})"
        benchmark = self.benchmark + (f" ({'; '.join(self.notes)})" if self.notes else "")
        return [self.area, benchmark, self.weights, ours, theirs, ratio, gflops, share, memory]

    def to_dict(self, ceiling_gflops: float | None = None) -> dict[str, Any]:
        achieved = self.gflops()
        return {
            "area": self.area, "benchmark": self.benchmark, "weights": self.weights, "notes": list(self.notes),
            "unit": self.unit, "items_per_call": self.items, "text": self.text,
            "ours": self.ours.to_dict() if self.ours else None,
            "ours_rate": self.ours.per_second(self.items) if self.ours else None,
            "pytorch": self.theirs.to_dict() if self.theirs else None,
            "pytorch_rate": self.theirs.per_second(self.items) if self.theirs else None,
            "pytorch_missing": self.theirs_missing,
            "speedup_vs_pytorch": (self.theirs.median_s / self.ours.median_s
                                   if self.ours and self.theirs and self.ours.median_s > 0 else None),
            "flops_per_call": self.flops, "flops_complete": self.flops_complete, "achieved_gflops": achieved,
            "fraction_of_ceiling": (achieved / ceiling_gflops if achieved is not None and ceiling_gflops else None),
            "ours_memory": self.ours_memory.to_dict() if self.ours_memory else None,
            "pytorch_memory": self.theirs_memory.to_dict() if self.theirs_memory else None,
            "extra": self.extra,
        }


TABLE_HEADER = ["area", "benchmark", "weights", "ours (onnxruntime)", "PyTorch eager", "PyTorch time / ours",
                "GFLOP/s (ours)", "of GEMM ceiling", "peak RSS MiB (+added): ours / PyTorch"]


def markdown_table(rows: Sequence[Row], ceiling_gflops: float | None, header: Sequence[str] = TABLE_HEADER) -> str:
    """The rows as one GitHub-flavoured Markdown table ('|' inside cells escaped)."""

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |"

    out = [line(header), "|" + "|".join("---" for _ in header) + "|"]
    out += [line(row.cells(ceiling_gflops)) for row in rows]
    return "\n".join(out)


def print_plain_table(title: str, rows: Sequence[Sequence[str]],
                      header: Sequence[str] = ("benchmark", "time", "peak RSS (process)", "notes")) -> None:
    """A standalone benchmark's own table: a title line, then ``rows`` under ``header`` in Markdown."""
    print(title)
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
