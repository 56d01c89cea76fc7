"""Start a trainer's networks from ``--init-from``: a run's checkpoint, or a model folder's ONNX weights read back
into PyTorch and checked against onnxruntime before the first step.

Each trainer says what can be filled (:meth:`Trainer.init_targets`): its networks by checkpoint prefix, and per card
role the network an ONNX file holds (with sample inputs for the check, and optionally its own reader). The default
reader maps initialisers by name; the few that ``torch.onnx.export`` renames (norm affines turned into ``Mul``/
``Add`` constants, ``Linear`` weights transposed for ``MatMul``) are matched to the remaining parameters in graph
order by size. Either way the forward check decides: a network that does not reproduce the file is refused.
Weights are read with ``onnx.load`` and ``numpy_helper`` only (nothing is unpickled).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from genart_desktop.core.errors import GenArtError, InputError
from genart_desktop.training.checkpoint import load_checkpoint, load_module_tensors
from genart_desktop.training.export.parity import FP32_TOLERANCE, max_abs_diff
from genart_desktop.training.init_source import InitSource


@dataclass(frozen=True)
class OnnxTarget:
    """One card role's graph: it fills ``covers[0]`` (then copied into the other prefixes, e.g. the EMA)."""

    role: str
    covers: tuple[str, ...]
    inputs: dict[str, torch.Tensor]  # sample feeds for the PyTorch-vs-onnxruntime check
    outputs: list[str]
    exported: torch.nn.Module | None = None  # the form that was exported, sharing the network's parameters
    load: Callable[[torch.nn.Module, Path], None] | None = None  # a family's own reader (default: by name)
    tolerance: float = FP32_TOLERANCE


@dataclass(frozen=True)
class InitTargets:
    networks: dict[str, torch.nn.Module]  # checkpoint prefix -> network (a run's checkpoint fills what it holds)
    onnx: list[OnnxTarget] = field(default_factory=list)


def _initialisers(path: Path) -> tuple[dict[str, np.ndarray], dict[str, tuple[int, str]]]:
    """float32 arrays by the names their consumers read them under, and each one's first use (node index, op)."""
    graph = onnx.load(str(path)).graph
    arrays: dict[str, np.ndarray] = {}
    for tensor in graph.initializer:
        array = numpy_helper.to_array(tensor)
        if np.issubdtype(array.dtype, np.floating):
            arrays[tensor.name] = np.asarray(array, np.float32)
    first_use: dict[str, tuple[int, str]] = {}
    for index, node in enumerate(graph.node):
        if node.op_type in ("Identity", "Cast") and node.input and node.input[0] in arrays:
            # the exporter shares equal constants through Identity nodes (and float16-stored ones through Casts):
            # the output is the weight as its consumer sees it
            arrays.setdefault(node.output[0], arrays[node.input[0]])
            continue
        for position, name in enumerate(node.input):
            if name in arrays and name not in first_use:
                first_use[name] = (index, "MatMulB" if node.op_type == "MatMul" and position == 1 else node.op_type)
    return arrays, first_use


def execution_order(module: torch.nn.Module, inputs: dict[str, torch.Tensor]) -> dict[str, int]:
    """Each submodule's name -> the position of its first call in one forward pass on ``inputs``."""
    order: dict[str, int] = {}

    def hook(name: str):  # a pre-hook returning a value would replace the module's inputs: this returns None
        def record(_module: torch.nn.Module, _args: Any) -> None:
            order.setdefault(name, len(order))
        return record

    handles = [child.register_forward_pre_hook(hook(name)) for name, child in module.named_modules()]
    try:
        with torch.no_grad():
            module.float().eval()(*[t.float() if t.is_floating_point() else t for t in inputs.values()])
    finally:
        for handle in handles:
            handle.remove()
    return order


def _in_execution_order(names: list[str], order: dict[str, int]) -> list[str]:
    """``names`` sorted by when their owning module first runs (the graph's order), registration order within."""
    def key(item: tuple[int, str]) -> tuple[int, int]:
        index, name = item
        owner = name.rsplit(".", 1)[0] if "." in name else ""
        return order.get(owner, len(order)), index

    return [name for _, name in sorted(enumerate(names), key=key)]


def load_onnx_initialisers(module: torch.nn.Module, path: Path,
                           inputs: dict[str, torch.Tensor] | None = None) -> None:
    """Every parameter of ``module`` from ``path``: by name, else the next unclaimed initialiser (in graph order)
    of the same size, transposed when a ``MatMul`` used it; buffers are filled where the file names them. With
    sample ``inputs`` the unnamed ones are taken in the order the forward pass uses their modules, which is the
    graph's order even where a module registers its parts in another order (a U-Net's interleaved blocks)."""
    arrays, first_use = _initialisers(path)
    state = module.state_dict()
    parameters = {name for name, _ in module.named_parameters()}
    values: dict[str, torch.Tensor] = {}
    unclaimed = sorted((name for name in first_use if name not in state), key=lambda n: first_use[n][0])
    names = list(state)
    if inputs is not None:
        names = _in_execution_order(names, execution_order(module, inputs))
    for name in names:
        tensor = state[name]
        array = arrays.get(name)
        if array is not None and array.shape == tuple(tensor.shape):
            values[name] = torch.from_numpy(array.copy())
            continue
        if name not in parameters:
            continue
        match = next((n for n in unclaimed if arrays[n].size == tensor.numel()), None)
        if match is None:
            raise InputError(f"{path.name} holds no weights for {name} {list(tensor.shape)}; the network the options "
                             "describe is not the one in the file.")
        unclaimed.remove(match)
        array = arrays[match]
        if first_use[match][1] == "MatMulB" and array.ndim == 2:
            array = array.T
        values[name] = torch.from_numpy(np.array(array, np.float32)).reshape(tensor.shape)
    module.load_state_dict({**state, **values})


def check_against_onnx(target: OnnxTarget, network: torch.nn.Module, path: Path, label: str) -> float:
    """The largest |PyTorch - onnxruntime| on the target's inputs; refused (one line) above its tolerance."""
    module = target.exported if target.exported is not None else network
    worst = max(max_abs_diff(path, module, target.inputs, target.outputs).values())
    if not np.isfinite(worst) or worst > target.tolerance:
        raise InputError(f"--init-from {label}: the PyTorch network read from {path.name} disagrees with "
                         f"onnxruntime by {worst:.3g} (tolerance {target.tolerance:g}); its options do not "
                         "describe this network.")
    return worst


def _from_onnx(targets: InitTargets, source: InitSource) -> list[str]:
    reused = []
    for target in targets.onnx:
        path = source.files.get(target.role)
        if path is None:
            continue
        network = targets.networks[target.covers[0]]
        device = next(network.parameters()).device
        training = network.training
        try:
            exported = target.exported if target.exported is not None else network
            if target.load is not None:
                target.load(exported, path)
            else:
                load_onnx_initialisers(exported, path, target.inputs)
        except (GenArtError, RuntimeError, ValueError) as exc:
            raise InputError(f"--init-from {source.label}: {str(exc).splitlines()[0]}") from exc
        check_against_onnx(target, network, path, source.label)
        network.to(device).train(training)
        for prefix in target.covers[1:]:
            targets.networks[prefix].load_state_dict(network.state_dict())
        reused.append(target.role)
    return reused


def absent_submodules(prefix: str, network: torch.nn.Module, tensors: dict[str, torch.Tensor]) -> list[str]:
    """The ``prefix.child`` names of the checkpoint's submodules this network does not have at all (a control
    model's control encoder when a text-only model starts from it). Only whole missing children count: a child the
    network has, with other shapes or parameters, is still a mismatch, and so is a missing top-level parameter."""
    children = {name for name, _ in network.named_children()}
    start = prefix + "."
    held = {name[len(start):].split(".", 1)[0] for name in tensors
            if name.startswith(start) and "." in name[len(start):]}
    return sorted(f"{start}{child}" for child in held - children)


def _from_checkpoint(targets: InitTargets, source: InitSource) -> tuple[list[str], list[str]]:
    assert source.checkpoint is not None
    tensors, _ = load_checkpoint(source.checkpoint)
    reused, dropped = [], []
    for prefix, network in targets.networks.items():
        if any(name.startswith(prefix + ".") for name in tensors):
            skip = absent_submodules(prefix, network, tensors)
            kept = {name: value for name, value in tensors.items()
                    if not any(name.startswith(child + ".") for child in skip)}
            try:
                load_module_tensors(prefix, network, kept)
            except InputError as exc:
                raise InputError(f"--init-from {source.label}: {exc}") from exc
            reused.append(prefix)
            dropped.extend(skip)
    return reused, dropped


def apply_init(targets: InitTargets, source: InitSource) -> dict:
    """Fill the networks from ``source``; returns the card's ``init_from`` record (what was reused, what not)."""
    dropped: list[str] = []
    with torch.no_grad():
        if source.kind == "run":
            reused, dropped = _from_checkpoint(targets, source)
        else:
            reused = _from_onnx(targets, source)
    if not reused:
        raise InputError(f"--init-from {source.label} holds none of this trainer's networks.")
    covered = set(reused) if source.kind == "run" else {
        prefix for target in targets.onnx if target.role in reused for prefix in target.covers}
    record = source.record(reused)
    record["started_fresh"] = [prefix for prefix in targets.networks if prefix not in covered]
    if dropped:
        record["dropped"] = dropped  # the source's parts this network has no place for
    return record
