"""The protobuf scan that runs before onnxruntime sees a file: operator types (looping ones refused, also inside
subgraphs and local functions), external-data locations, and a cap on the fields it will visit."""

from __future__ import annotations

import pytest
from onnx import TensorProto, helper

from genart_desktop.core.errors import ModelError
from genart_desktop.engine.onnx_wire import check_model, identity_model_bytes, scan_model
from genart_desktop.engine.session import ModelSession
from tests.hardening.corpus_models import loop_model_bytes
from tests.tiny_onnx import image_model, save_model


def _write(tmp_path, data: bytes, name: str = "model.onnx"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_scan_lists_operator_types_and_no_locations(tmp_path):
    scan = scan_model(save_model(image_model(), tmp_path / "m.onnx"))
    assert scan.op_types == {"Mul", "Add"} and scan.locations == ()
    probe = scan_model(_write(tmp_path, identity_model_bytes()))
    assert probe.op_types == {"Relu"}


def test_custom_domains_are_kept_apart(tmp_path):
    graph = helper.make_graph([helper.make_node("Loop", ["x"], ["y"], domain="com.example")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    path = _write(tmp_path, helper.make_model(graph).SerializeToString())
    assert scan_model(path).op_types == {"com.example.Loop"}
    check_model(path)  # someone else's "Loop" is not ONNX's looping operator


def test_loop_is_refused_before_onnxruntime_loads_it(tmp_path):
    path = _write(tmp_path, loop_model_bytes(3))
    assert "Loop" in scan_model(path).op_types
    with pytest.raises(ModelError, match=r"model.onnx uses the looping operator Loop"):
        check_model(path)
    with pytest.raises(ModelError, match="looping operator Loop"):
        ModelSession.load(path, {"execution_provider": "cpu"})


def test_field_cap_refuses_padding_without_reading_it_all(tmp_path):
    data = image_model().SerializeToString()
    path = _write(tmp_path, data)
    assert scan_model(path, limit=200).op_types == {"Mul", "Add"}
    padded = _write(tmp_path, data + b"\x98\x06\x01" * 300, "padded.onnx")  # field 99, varint 1, repeated
    assert scan_model(padded, limit=1000).op_types == {"Mul", "Add"}  # unknown fields are skipped
    with pytest.raises(ModelError, match=r"padded.onnx holds more than 200 protobuf fields"):
        scan_model(padded, limit=200)


def test_unknown_length_delimited_fields_are_skipped_whole(tmp_path):
    """A 1 MB unknown field costs one step of the cap, not a million."""
    data = image_model().SerializeToString() + b"\x9a\x06" + b"\x80\x80\x40" + b"\0" * (1 << 20)
    assert scan_model(_write(tmp_path, data), limit=200).op_types == {"Mul", "Add"}
