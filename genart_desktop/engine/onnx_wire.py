"""Just enough of the protobuf wire format to inspect and write ONNX files without the ``onnx`` package.

The app ships without ``onnx``; we still need two things from ONNX files that onnxruntime does not tell us safely:
which external-data files a model references (so a model cannot make us read files outside its folder) and which
operators it uses (looping ones are refused), and a tiny valid model to probe whether an execution provider really
works. The reader walks the file through ``mmap`` and skips tensor payloads and unknown fields without copying them,
so scanning a large model costs little memory; the number of fields it visits is capped, so its time is bounded.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from genart_desktop.core.errors import ModelError

_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5

# Field numbers from onnx.proto.
_MODEL_GRAPH, _MODEL_FUNCTIONS = 7, 25
_GRAPH_NODE, _GRAPH_INITIALIZER, _GRAPH_SPARSE_INITIALIZER = 1, 5, 15
_FUNCTION_NODE = 7
_NODE_OP_TYPE, _NODE_ATTRIBUTE, _NODE_DOMAIN = 4, 5, 7
_ATTR_T, _ATTR_G, _ATTR_TENSORS, _ATTR_GRAPHS, _ATTR_SPARSE, _ATTR_SPARSES = 5, 6, 10, 11, 22, 23
_SPARSE_VALUES, _SPARSE_INDICES = 1, 2
_TENSOR_EXTERNAL_DATA = 13
_ENTRY_KEY, _ENTRY_VALUE = 1, 2
_MAX_DEPTH = 64
# Fields visited in one scan: Stable Diffusion's U-Net needs about 10^5; a file past this is padding or an attack.
MAX_FIELDS = 1_000_000
LOOPING_OPS = ("Loop", "Scan")


class _WireError(ValueError):
    pass


class _TooLarge(Exception):
    pass


def _varint(buf: memoryview | bytes, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end or shift > 63:
            raise _WireError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(buf: memoryview | bytes, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """Yield ``(field_number, wire_type, value_start, value_end)``; for varints start is the value itself."""
    pos = start
    while pos < end:
        key, pos = _varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise _WireError("field number 0")
        if wire == _VARINT:
            value, pos = _varint(buf, pos, end)
            yield number, wire, value, pos
        elif wire == _FIXED64:
            pos += 8
            yield number, wire, pos - 8, pos
        elif wire == _FIXED32:
            pos += 4
            yield number, wire, pos - 4, pos
        elif wire == _LENGTH:
            length, pos = _varint(buf, pos, end)
            if pos + length > end:
                raise _WireError("length runs past the end of the message")
            yield number, wire, pos, pos + length
            pos += length
        else:
            raise _WireError(f"unsupported wire type {wire}")
        if pos > end:
            raise _WireError("field runs past the end of the message")


class _Scan:
    """One walk over a model's bytes, collecting external-data locations and operator types; it refuses a file
    that makes it visit more than ``limit`` fields (unknown fields are skipped without copying, but a file padded
    with millions of them would otherwise take minutes)."""

    def __init__(self, buf: memoryview, limit: int) -> None:
        self.buf = buf
        self.left = limit
        self.locations: set[str] = set()
        self.ops: set[str] = set()

    def fields(self, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
        for field in _fields(self.buf, start, end):
            self.left -= 1
            if self.left < 0:
                raise _TooLarge
            yield field

    def children(self, start: int, end: int, wanted: tuple[int, ...]) -> Iterator[tuple[int, int, int]]:
        for number, wire, a, b in self.fields(start, end):
            if number in wanted and wire == _LENGTH:
                yield number, a, b

    def _text(self, a: int, b: int) -> str:
        return bytes(self.buf[a:b]).decode("utf-8", "replace")

    def tensor(self, start: int, end: int) -> None:
        for _, a, b in self.children(start, end, (_TENSOR_EXTERNAL_DATA,)):
            entry: dict[int, str] = {}
            for number, wire, c, d in self.fields(a, b):
                if wire == _LENGTH and number in (_ENTRY_KEY, _ENTRY_VALUE):
                    entry[number] = self._text(c, d)
            if entry.get(_ENTRY_KEY) == "location" and _ENTRY_VALUE in entry:
                self.locations.add(entry[_ENTRY_VALUE])

    def sparse(self, start: int, end: int) -> None:
        for _, a, b in self.children(start, end, (_SPARSE_VALUES, _SPARSE_INDICES)):
            self.tensor(a, b)

    def node(self, start: int, end: int, depth: int) -> None:
        op_type, domain = "", ""
        for number, a, b in self.children(start, end, (_NODE_OP_TYPE, _NODE_DOMAIN, _NODE_ATTRIBUTE)):
            if number == _NODE_OP_TYPE:
                op_type = self._text(a, b)
            elif number == _NODE_DOMAIN:
                domain = self._text(a, b)
            else:
                self.attribute(a, b, depth)
        self.ops.add(op_type if domain in ("", "ai.onnx") else f"{domain}.{op_type}")

    def attribute(self, start: int, end: int, depth: int) -> None:
        wanted = (_ATTR_T, _ATTR_G, _ATTR_TENSORS, _ATTR_GRAPHS, _ATTR_SPARSE, _ATTR_SPARSES)
        for number, a, b in self.children(start, end, wanted):
            if number in (_ATTR_T, _ATTR_TENSORS):
                self.tensor(a, b)
            elif number in (_ATTR_SPARSE, _ATTR_SPARSES):
                self.sparse(a, b)
            else:
                self.graph(a, b, depth + 1)

    def graph(self, start: int, end: int, depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise _WireError("subgraphs nested too deeply")
        for number, a, b in self.children(start, end, (_GRAPH_NODE, _GRAPH_INITIALIZER, _GRAPH_SPARSE_INITIALIZER)):
            if number == _GRAPH_INITIALIZER:
                self.tensor(a, b)
            elif number == _GRAPH_SPARSE_INITIALIZER:
                self.sparse(a, b)
            else:
                self.node(a, b, depth)

    def model(self, size: int) -> None:
        for number, a, b in self.children(0, size, (_MODEL_GRAPH, _MODEL_FUNCTIONS)):
            if number == _MODEL_GRAPH:
                self.graph(a, b, 0)
            else:
                for _, c, d in self.children(a, b, (_FUNCTION_NODE,)):
                    self.node(c, d, 1)


@dataclass(frozen=True)
class ModelScan:
    """What the scan found: external-data locations (sorted) and operator types (``domain.Op`` outside ONNX's)."""

    locations: tuple[str, ...]
    op_types: frozenset[str]


def scan_model(path: str | os.PathLike[str], limit: int = MAX_FIELDS) -> ModelScan:
    """Walk an ONNX file once; raises :class:`ModelError` when it cannot be parsed or needs more than ``limit``
    protobuf fields visited."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                raise ModelError(f"{path.name} is empty; it is not an ONNX model.")
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                buf = memoryview(mapped)
                try:
                    scan = _Scan(buf, limit)
                    scan.model(size)
                    return ModelScan(tuple(sorted(scan.locations)), frozenset(scan.ops))
                finally:
                    buf.release()
    except _TooLarge as exc:
        raise ModelError(f"{path.name} holds more than {limit:,} protobuf fields (a real model has far fewer; this "
                         "one is padded or damaged); refusing to scan it.") from exc
    except _WireError as exc:
        raise ModelError(f"{path.name} is not a valid ONNX file (damaged or truncated: {exc}).") from exc
    except OSError as exc:
        raise ModelError(f"Cannot read {path.name}: {exc.strerror or exc}.") from exc


def external_data_locations(path: str | os.PathLike[str]) -> list[str]:
    """Every ``location`` an ONNX file's tensors point to (empty for a self-contained model).

    Raises :class:`ModelError` when the file cannot be parsed as an ONNX protobuf.
    """
    return list(scan_model(path).locations)


def check_model(path: str | os.PathLike[str]) -> None:
    """Refuse, before onnxruntime sees it, a model that could read files outside its folder or run unbounded:
    external data outside its own folder (``../``, absolute paths, links) or missing, and the looping operators
    Loop and Scan (no model family of ours, nor Stable Diffusion, uses them; a trip count of 2**62 would run
    for ever). If stays allowed: each branch runs once."""
    path = Path(path)
    folder = path.resolve().parent
    display = f"{path.parent.name}/{path.name}" if path.parent.name else path.name
    scan = scan_model(path)
    looping = sorted(scan.op_types & set(LOOPING_OPS))
    if looping:
        raise ModelError(f"{display} uses the looping operator {', '.join(looping)}, which no supported model needs "
                         "(it could run without end); refusing to load it.")
    for location in scan.locations:
        target = (folder / location).resolve()
        if Path(location).is_absolute() or not target.is_relative_to(folder):
            raise ModelError(
                f"{display} refers to external data '{location}' outside its model folder; refusing to load it."
            )
        if not target.is_file():
            raise ModelError(f"{display} needs its external data file '{location}', which is missing.")


# --- writing: a minimal Identity model for provider probes -------------------------------------------------------

def _key(number: int, wire: int) -> bytes:
    return _encode_varint(number << 3 | wire)


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _message(number: int, payload: bytes) -> bytes:
    return _key(number, _LENGTH) + _encode_varint(len(payload)) + payload


def _string(number: int, text: str) -> bytes:
    return _message(number, text.encode("utf-8"))


def _int(number: int, value: int) -> bytes:
    return _key(number, _VARINT) + _encode_varint(value)


def _float_tensor_info(name: str, dims: tuple[int, ...]) -> bytes:
    shape = b"".join(_message(1, _int(1, dim)) for dim in dims)  # TensorShapeProto.dim { dim_value }
    tensor_type = _int(1, 1) + _message(2, shape)  # elem_type FLOAT, shape
    return _string(1, name) + _message(2, _message(1, tensor_type))  # ValueInfoProto{name, type{tensor_type}}


def identity_model_bytes(dims: tuple[int, ...] = (1, 4)) -> bytes:
    """A valid ONNX model ``y = Relu(x)`` (float32 ``dims``), opset 13, IR version 7."""
    node = _string(1, "x") + _string(2, "y") + _string(4, "Relu")
    graph = (_message(1, node) + _string(2, "probe")
             + _message(11, _float_tensor_info("x", dims)) + _message(12, _float_tensor_info("y", dims)))
    opset = _string(1, "") + _int(2, 13)
    return _int(1, 7) + _string(2, "genart-probe") + _message(7, graph) + _message(8, opset)
