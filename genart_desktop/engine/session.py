"""A checked wrapper around one onnxruntime InferenceSession.

Input and output specs come from the session, never from a card, and every run is validated first, so a wrong
tensor gives a sentence naming the input, the expected shape and what was passed instead of an onnxruntime trace.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from genart_desktop.core.errors import InputError, JobCancelled, ModelError
from genart_desktop.engine import memory_limit
from genart_desktop.engine.onnx_wire import check_model
from genart_desktop.engine.providers import ProviderChoice, create_session

# onnxruntime type strings -> numpy dtypes (the ones our models and Stable Diffusion exports use).
ORT_TYPES: dict[str, np.dtype] = {
    "tensor(float)": np.dtype(np.float32),
    "tensor(float16)": np.dtype(np.float16),
    "tensor(double)": np.dtype(np.float64),
    "tensor(int64)": np.dtype(np.int64),
    "tensor(int32)": np.dtype(np.int32),
    "tensor(int8)": np.dtype(np.int8),
    "tensor(uint8)": np.dtype(np.uint8),
    "tensor(bool)": np.dtype(np.bool_),
}

Dim = int | str | None


@dataclass(frozen=True)
class TensorSpec:
    """Name, shape (ints for fixed axes, names or None for dynamic ones) and numpy dtype of a graph input/output."""

    name: str
    shape: tuple[Dim, ...]
    dtype: np.dtype
    type_name: str

    @property
    def rank(self) -> int:
        return len(self.shape)

    def describe(self) -> str:
        dims = ", ".join("?" if d is None else str(d) for d in self.shape)
        return f"{self.name} [{dims}] {self.dtype}"

    @classmethod
    def from_node_arg(cls, arg: Any) -> TensorSpec:
        shape = tuple(_dim(d) for d in (arg.shape or []))
        dtype = ORT_TYPES.get(arg.type)
        return cls(arg.name, shape, dtype if dtype is not None else np.dtype(object), arg.type)


def _dim(value: Any) -> Dim:
    if isinstance(value, (int, np.integer)) and value >= 0:
        return int(value)
    if isinstance(value, str) and value:
        return value
    return None


class ModelSession:
    """One loaded ONNX graph: its specs, the provider actually running it, and a validating ``run``."""

    def __init__(self, session: ort.InferenceSession, choice: ProviderChoice, name: str = "model") -> None:
        self._session = session
        self.choice = choice
        self.name = name
        self.inputs: tuple[TensorSpec, ...] = tuple(TensorSpec.from_node_arg(a) for a in session.get_inputs())
        self.outputs: tuple[TensorSpec, ...] = tuple(TensorSpec.from_node_arg(a) for a in session.get_outputs())
        for spec in self.inputs:
            if spec.dtype == np.dtype(object):
                raise ModelError(f"{name}: input '{spec.name}' has an unsupported type {spec.type_name}.")

    @classmethod
    def load(cls, path: str | os.PathLike[str], settings: Mapping[str, Any] | None = None,
             name: str | None = None) -> ModelSession:
        """Load an ONNX file after checking it exists and keeps its external data inside its folder."""
        path = Path(path)
        display = name or path.name
        if not path.is_file():
            raise ModelError(f"Cannot load {display}: {path} does not exist.")
        check_model(path)
        session, choice = create_session(path, settings, name=display)
        return cls(session, choice, display)

    @property
    def provider(self) -> str:
        """The execution provider that actually runs this graph, as the session reports it."""
        providers = self._session.get_providers()
        return providers[0] if providers else self.choice.provider

    @property
    def input_names(self) -> list[str]:
        return [spec.name for spec in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [spec.name for spec in self.outputs]

    def input(self, name: str) -> TensorSpec:
        return _find(self.inputs, name, self.name, "input")

    def output(self, name: str) -> TensorSpec:
        return _find(self.outputs, name, self.name, "output")

    def validate(self, feeds: Mapping[str, Any]) -> None:
        """Raise :class:`InputError` unless ``feeds`` has exactly the graph's inputs with matching rank/dtype/dims."""
        expected = self.input_names
        missing = [n for n in expected if n not in feeds]
        unknown = [n for n in feeds if n not in expected]
        if missing or unknown:
            parts = []
            if missing:
                parts.append("missing " + ", ".join(f"'{n}'" for n in missing))
            if unknown:
                parts.append("unknown " + ", ".join(f"'{n}'" for n in unknown))
            raise InputError(f"{self.name} takes inputs {', '.join(expected)}: {'; '.join(parts)}.")
        symbols: dict[str, tuple[int, str]] = {}
        for spec in self.inputs:
            value = feeds[spec.name]
            if not isinstance(value, np.ndarray):
                raise InputError(f"{self.name}: input '{spec.name}' must be a numpy array, got {type(value).__name__}.")
            if value.dtype != spec.dtype:
                raise InputError(f"{self.name}: input '{spec.name}' must be {spec.dtype}, got {value.dtype}.")
            if value.ndim != spec.rank:
                raise InputError(f"{self.name}: input '{spec.name}' must have {spec.rank} dimensions "
                                 f"({spec.describe()}), got shape {tuple(value.shape)}.")
            for axis, (want, got) in enumerate(zip(spec.shape, value.shape)):
                if isinstance(want, int) and want != got:
                    raise InputError(f"{self.name}: input '{spec.name}' needs size {want} on axis {axis} "
                                     f"({spec.describe()}), got shape {tuple(value.shape)}.")
                if isinstance(want, str):
                    seen = symbols.setdefault(want, (got, spec.name))
                    if seen[0] != got:
                        raise InputError(f"{self.name}: axis '{want}' is {seen[0]} in '{seen[1]}' but {got} in "
                                         f"'{spec.name}'; they must agree.")

    def run(self, feeds: Mapping[str, np.ndarray], run_options: ort.RunOptions | None = None,
            outputs: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """Validate, run and return ``{output name: array}``.

        A run stopped through ``run_options.terminate`` raises :class:`JobCancelled`; any other failure inside
        onnxruntime raises :class:`ModelError`.
        """
        self.validate(feeds)
        names = list(outputs) if outputs is not None else self.output_names
        for name in names:
            self.output(name)
        try:
            values = self._session.run(names, dict(feeds), _prepared(run_options))
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises private exception types
            if run_options is not None and run_options.terminate:
                raise JobCancelled(f"{self.name} was stopped.") from exc
            if memory_limit.is_out_of_memory(str(exc)) or isinstance(exc, MemoryError):
                raise ModelError(f"{self.name} needed more memory than the {memory_limit.current_limit_mb()} MiB "
                                 f"one run may use (setting {memory_limit.SETTING}); it was stopped.") from exc
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"{self.name} failed while running: {first[:400]}") from exc
        return dict(zip(names, values))


def _prepared(run_options: ort.RunOptions | None) -> ort.RunOptions:
    """The run's options: the CPU arena gives memory back after the run, and onnxruntime prints nothing (a failure
    or a terminate becomes our own one-line error instead of a log line on the terminal)."""
    options = memory_limit.shrinking(run_options)
    options.log_severity_level = 4
    return options


def _find(specs: Sequence[TensorSpec], name: str, model: str, kind: str) -> TensorSpec:
    for spec in specs:
        if spec.name == name:
            return spec
    raise ModelError(f"{model} has no {kind} named '{name}' (it has {', '.join(s.name for s in specs)}).")


def inspect_graph(path: str | os.PathLike[str], name: str | None = None) -> tuple[tuple[TensorSpec, ...], tuple[TensorSpec, ...]]:
    """Input and output specs of an ONNX file, read through a throw-away CPU session without graph optimisation.

    Used to check a card against the real graph without loading the model onto a GPU.
    """
    path = Path(path)
    display = name or path.name
    if not path.is_file():
        raise ModelError(f"Cannot load {display}: {path} does not exist.")
    check_model(path)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    options.log_severity_level = 4
    try:
        session = ort.InferenceSession(os.fspath(path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises private exception types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"Cannot load {display}: onnxruntime refused it ({first[:300]}).") from exc
    inputs = tuple(TensorSpec.from_node_arg(a) for a in session.get_inputs())
    outputs = tuple(TensorSpec.from_node_arg(a) for a in session.get_outputs())
    return inputs, outputs
