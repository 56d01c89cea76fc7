"""ModelSession: specs read from the graph, feeds validated with clear messages, external data kept in the folder."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto

from genart_desktop.core.errors import InputError, JobCancelled, ModelError
from genart_desktop.engine.onnx_wire import external_data_locations
from genart_desktop.engine.session import ModelSession, inspect_graph
from tests.tiny_onnx import image_model, linear_generator, save_model, slow_model, tiny_unet

CPU_ONLY = {"execution_provider": "cpu", "intra_op_threads": 1}


def load(model, tmp_path, name="m.onnx"):
    return ModelSession.load(save_model(model, tmp_path / name), CPU_ONLY)


def test_specs_come_from_the_graph(tmp_path):
    session = load(tiny_unet(), tmp_path)
    sample, timestep = session.inputs
    assert (sample.name, sample.shape, sample.dtype) == ("sample", ("batch", 3, "height", "width"), np.float32)
    assert (timestep.name, timestep.shape) == ("timestep", ("batch",))
    assert session.output_names == ["prediction"]
    assert session.provider == "CPUExecutionProvider" == session.choice.provider
    half = load(image_model(elem_type=TensorProto.FLOAT16), tmp_path, "half.onnx")
    assert half.input("content").dtype == np.float16


def test_run_returns_named_outputs(tmp_path):
    session = load(image_model(scale=2.0, shift=0.5), tmp_path)
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 7)).astype(np.float32)
    out = session.run({"content": x})
    assert list(out) == ["stylized"]
    np.testing.assert_allclose(out["stylized"], x * 2 + 0.5, rtol=1e-6)


@pytest.mark.parametrize("feeds,message", [
    ({}, "missing 'z'"),
    ({"z": np.zeros((1, 8), np.float32), "noise": np.zeros(1, np.float32)}, "unknown 'noise'"),
    ({"z": np.zeros((1, 8), np.float64)}, "must be float32, got float64"),
    ({"z": np.zeros((8,), np.float32)}, "must have 2 dimensions"),
    ({"z": np.zeros((1, 9), np.float32)}, "needs size 8 on axis 1"),
    ({"z": [[0.0] * 8]}, "must be a numpy array"),
])
def test_bad_feeds_raise_input_errors(tmp_path, feeds, message):
    session = load(linear_generator(latent=8), tmp_path)
    with pytest.raises(InputError, match=message):
        session.run(feeds)


def test_dynamic_axes_shared_between_inputs_must_agree(tmp_path):
    session = load(tiny_unet(), tmp_path)
    with pytest.raises(InputError, match="axis 'batch' is 2 in 'sample' but 3 in 'timestep'"):
        session.run({"sample": np.zeros((2, 3, 4, 4), np.float32), "timestep": np.zeros(3, np.float32)})
    out = session.run({"sample": np.ones((2, 3, 4, 4), np.float32), "timestep": np.array([1, 2], np.float32)})
    np.testing.assert_allclose(out["prediction"][:, 0, 0, 0], [1.5, 2.5])


def test_unknown_output_name_is_a_model_error(tmp_path):
    session = load(image_model(), tmp_path)
    with pytest.raises(ModelError, match="no output named 'nope'"):
        session.run({"content": np.zeros((1, 3, 2, 2), np.float32)}, outputs=["nope"])


def test_terminated_run_raises_job_cancelled(tmp_path):
    session = load(slow_model(steps=4, width=8), tmp_path)
    options = ort.RunOptions()
    options.terminate = True
    with pytest.raises(JobCancelled):
        session.run({"x": np.zeros((1, 8), np.float32)}, run_options=options)


@pytest.mark.parametrize("content", [b"", b"garbage that is not protobuf \xff\xff\xff", None])
def test_missing_empty_or_corrupt_files_are_model_errors(tmp_path, content):
    path = tmp_path / "bad.onnx"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelError, match="bad.onnx"):
        ModelSession.load(path, CPU_ONLY)


def test_truncated_file_is_a_model_error(tmp_path):
    path = save_model(linear_generator(), tmp_path / "g.onnx")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ModelError, match="g.onnx"):
        ModelSession.load(path, CPU_ONLY)


def _external_model(folder, location):
    """The linear generator with its weight stored outside the .onnx file at ``location``."""
    model = linear_generator(latent=8, size=4)
    weight = next(init for init in model.graph.initializer if init.name == "w")
    raw = weight.raw_data or onnx.numpy_helper.to_array(weight).tobytes()
    target = (folder / location)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(raw)
    weight.ClearField("raw_data")
    weight.ClearField("float_data")
    weight.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", str(len(raw)))):
        entry = weight.external_data.add()
        entry.key, entry.value = key, value
    return save_model(model, folder / "model.onnx")


def test_external_data_inside_the_folder_loads(tmp_path):
    path = _external_model(tmp_path / "m", "weights.bin")
    assert external_data_locations(path) == ["weights.bin"]
    session = ModelSession.load(path, CPU_ONLY)
    assert session.run({"z": np.zeros((1, 8), np.float32)})["image"].shape == (1, 3, 4, 4)


@pytest.mark.parametrize("location", ["../outside.bin", "sub/../../outside.bin"])
def test_external_data_escaping_the_folder_is_refused(tmp_path, location):
    path = _external_model(tmp_path / "m", location)
    with pytest.raises(ModelError, match="outside its model folder"):
        ModelSession.load(path, CPU_ONLY)
    with pytest.raises(ModelError, match="outside its model folder"):
        inspect_graph(path)


def test_absolute_external_path_is_refused(tmp_path):
    path = _external_model(tmp_path / "m", "weights.bin")
    model = onnx.load(str(path), load_external_data=False)
    weight = next(init for init in model.graph.initializer if init.name == "w")
    weight.external_data[0].value = str(tmp_path / "m" / "weights.bin")
    save_model(model, path)
    with pytest.raises(ModelError, match="outside its model folder"):
        ModelSession.load(path, CPU_ONLY)


def test_missing_external_file_is_reported(tmp_path):
    path = _external_model(tmp_path / "m", "weights.bin")
    (tmp_path / "m" / "weights.bin").unlink()
    with pytest.raises(ModelError, match="'weights.bin', which is missing"):
        ModelSession.load(path, CPU_ONLY)
