"""Just enough of the protobuf wire format to inspect and write ONNX files without the ``onnx`` package.

The app ships without ``onnx``; we still need two things from ONNX files that onnxruntime does not tell us safely:
which external-data files a model references (so a model cannot make us read files outside its folder), and a tiny
valid model to probe whether an execution provider really works. The reader walks the file through ``mmap`` and skips
tensor payloads without touching them, so scanning a large model costs little memory.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator
from pathlib import Path

from genart_desktop.core.errors import ModelError

_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5

# Field numbers from onnx.proto.
_MODEL_GRAPH, _MODEL_FUNCTIONS = 7, 25
_GRAPH_NODE, _GRAPH_INITIALIZER, _GRAPH_SPARSE_INITIALIZER = 1, 5, 15
_FUNCTION_NODE = 7
_NODE_ATTRIBUTE = 5
_ATTR_T, _ATTR_G, _ATTR_TENSORS, _ATTR_GRAPHS, _ATTR_SPARSE, _ATTR_SPARSES = 5, 6, 10, 11, 22, 23
_SPARSE_VALUES, _SPARSE_INDICES = 1, 2
_TENSOR_EXTERNAL_DATA = 13
_ENTRY_KEY, _ENTRY_VALUE = 1, 2
_MAX_DEPTH = 64


class _WireError(ValueError):
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


def _children(buf, start: int, end: int, wanted: tuple[int, ...]) -> Iterator[tuple[int, int, int]]:
    for number, wire, a, b in _fields(buf, start, end):
        if number in wanted and wire == _LENGTH:
            yield number, a, b


def _tensor_locations(buf, start: int, end: int) -> Iterator[str]:
    for _, a, b in _children(buf, start, end, (_TENSOR_EXTERNAL_DATA,)):
        key = value = None
        for number, wire, c, d in _fields(buf, a, b):
            if wire != _LENGTH:
                continue
            text = bytes(buf[c:d]).decode("utf-8", "replace")
            if number == _ENTRY_KEY:
                key = text
            elif number == _ENTRY_VALUE:
                value = text
        if key == "location" and value is not None:
            yield value


def _sparse_locations(buf, start: int, end: int) -> Iterator[str]:
    for _, a, b in _children(buf, start, end, (_SPARSE_VALUES, _SPARSE_INDICES)):
        yield from _tensor_locations(buf, a, b)


def _node_locations(buf, start: int, end: int, depth: int) -> Iterator[str]:
    for _, a, b in _children(buf, start, end, (_NODE_ATTRIBUTE,)):
        for number, c, d in _children(buf, a, b, (_ATTR_T, _ATTR_G, _ATTR_TENSORS, _ATTR_GRAPHS, _ATTR_SPARSE, _ATTR_SPARSES)):
            if number in (_ATTR_T, _ATTR_TENSORS):
                yield from _tensor_locations(buf, c, d)
            elif number in (_ATTR_SPARSE, _ATTR_SPARSES):
                yield from _sparse_locations(buf, c, d)
            else:
                yield from _graph_locations(buf, c, d, depth + 1)


def _graph_locations(buf, start: int, end: int, depth: int) -> Iterator[str]:
    if depth > _MAX_DEPTH:
        raise _WireError("subgraphs nested too deeply")
    for number, a, b in _children(buf, start, end, (_GRAPH_NODE, _GRAPH_INITIALIZER, _GRAPH_SPARSE_INITIALIZER)):
        if number == _GRAPH_INITIALIZER:
            yield from _tensor_locations(buf, a, b)
        elif number == _GRAPH_SPARSE_INITIALIZER:
            yield from _sparse_locations(buf, a, b)
        else:
            yield from _node_locations(buf, a, b, depth)


def external_data_locations(path: str | os.PathLike[str]) -> list[str]:
    """Every ``location`` an ONNX file's tensors point to (empty for a self-contained model).

    Raises :class:`ModelError` when the file cannot be parsed as an ONNX protobuf.
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                raise ModelError(f"{path.name} is empty; it is not an ONNX model.")
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                buf = memoryview(mapped)
                try:
                    found: list[str] = []
                    for number, a, b in _children(buf, 0, size, (_MODEL_GRAPH, _MODEL_FUNCTIONS)):
                        if number == _MODEL_GRAPH:
                            found.extend(_graph_locations(buf, a, b, 0))
                        else:
                            for _, c, d in _children(buf, a, b, (_FUNCTION_NODE,)):
                                found.extend(_node_locations(buf, c, d, 1))
                    return sorted(set(found))
                finally:
                    buf.release()
    except _WireError as exc:
        raise ModelError(f"{path.name} is not a valid ONNX file (damaged or truncated: {exc}).") from exc
    except OSError as exc:
        raise ModelError(f"Cannot read {path.name}: {exc.strerror or exc}.") from exc


def check_external_data(path: str | os.PathLike[str]) -> None:
    """Refuse a model whose external-data files would lie outside its own folder (``../``, absolute paths, links)."""
    path = Path(path)
    folder = path.resolve().parent
    display = f"{path.parent.name}/{path.name}" if path.parent.name else path.name
    for location in external_data_locations(path):
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
