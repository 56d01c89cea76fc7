"""Reading an Optimum Stable Diffusion folder: configuration, errors that say what is wrong, and the adapters'
handling of the tensor types a session declares (timestep dtype and rank, float16, encoder outputs)."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from genart_desktop.core.errors import ModelError
from genart_desktop.engine.sd.components import UNetDenoiser, VaeCodec, load_graph
from genart_desktop.engine.sd.folder import SDFolder, is_sd_folder
from tests.tiny_onnx import write_optimum_sd_folder

SETTINGS = {"execution_provider": "cpu", "intra_op_threads": 1}


@pytest.fixture
def folder(tmp_path):
    return write_optimum_sd_folder(tmp_path, "tiny-sd")


def test_reads_schedule_scaling_and_size(folder):
    (folder / "scheduler" / "scheduler_config.json").write_text(json.dumps({
        "_class_name": "EulerDiscreteScheduler", "beta_schedule": "scaled_linear", "beta_start": 0.00085,
        "beta_end": 0.012, "prediction_type": "v_prediction", "timestep_spacing": "trailing", "steps_offset": 1}))
    (folder / "vae_decoder" / "config.json").write_text(json.dumps({"scaling_factor": 0.13025,
                                                                    "block_out_channels": [8, 8, 8]}))
    (folder / "unet" / "config.json").write_text(json.dumps({"sample_size": 96, "in_channels": 4}))
    sd = SDFolder.open(folder)
    assert is_sd_folder(folder)
    assert sd.schedule.prediction_type == "v_prediction" and sd.schedule.timestep_spacing == "trailing"
    assert sd.scaling_factor == pytest.approx(0.13025) and sd.vae_factor == 4 and sd.native_size == 384
    assert len(sd.fingerprint()) == 16 and sd.fingerprint() == SDFolder.open(folder).fingerprint()


def test_defaults_without_optional_configs(folder):
    (folder / "scheduler" / "scheduler_config.json").unlink()
    sd = SDFolder.open(folder)
    assert sd.scaling_factor == pytest.approx(0.18215) and sd.vae_factor == 8 and sd.native_size == 512
    assert sd.schedule.beta_schedule == "scaled_linear" and sd.schedule.steps_offset == 1


@pytest.mark.parametrize(
    "breakage, match",
    [
        (lambda f: (f / "unet" / "model.onnx").unlink(), "unet/model.onnx"),
        (lambda f: (f / "tokenizer" / "merges.txt").unlink(), "tokenizer/merges.txt"),
        (lambda f: (f / "model_index.json").write_text("[1"), "model_index.json"),
        (lambda f: (f / "model_index.json").unlink(), "model_index.json"),
        (lambda f: (f / "scheduler" / "scheduler_config.json").write_text('{"beta_schedule": "sigmoid"}'),
         "beta_schedule"),
    ],
)
def test_broken_folders_say_what_is_wrong(folder, breakage, match):
    breakage(folder)
    with pytest.raises(ModelError, match=match):
        SDFolder.open(folder)


def _unet_graph(path, timestep_type, timestep_shape, dtype=TensorProto.FLOAT):
    """out_sample = sample * 0.5 + mean(encoder_hidden_states) + float(timestep) / 1000."""
    nodes = [
        helper.make_node("Cast", ["timestep"], ["t_float"], to=dtype),
        helper.make_node("Div", ["t_float", "thousand"], ["t_small"]),
        helper.make_node("Reshape", ["t_small", "shape4"], ["t4"]),
        helper.make_node("ReduceMean", ["encoder_hidden_states"], ["h_mean"], keepdims=0),
        helper.make_node("Mul", ["sample", "half"], ["halved"]),
        helper.make_node("Add", ["halved", "t4"], ["with_t"]),
        helper.make_node("Add", ["with_t", "h_mean"], ["out_sample"]),
    ]
    np_dtype = np.float16 if dtype == TensorProto.FLOAT16 else np.float32
    graph = helper.make_graph(
        nodes, "unet",
        [helper.make_tensor_value_info("sample", dtype, ["batch", 4, "h", "w"]),
         helper.make_tensor_value_info("timestep", timestep_type, timestep_shape),
         helper.make_tensor_value_info("encoder_hidden_states", dtype, ["batch", 3, 2])],
        [helper.make_tensor_value_info("out_sample", dtype, ["batch", 4, "h", "w"])],
        initializer=[onnx.numpy_helper.from_array(np.array(1000, np_dtype), "thousand"),
                     onnx.numpy_helper.from_array(np.array(0.5, np_dtype), "half"),
                     onnx.numpy_helper.from_array(np.array([-1, 1, 1, 1], np.int64), "shape4")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


@pytest.mark.parametrize(
    "timestep_type, shape, dtype",
    [
        (TensorProto.INT64, ["steps"], TensorProto.FLOAT),
        (TensorProto.FLOAT, [1], TensorProto.FLOAT),
        (TensorProto.FLOAT, [], TensorProto.FLOAT),
        (TensorProto.FLOAT16, ["batch"], TensorProto.FLOAT16),
    ],
)
def test_unet_timestep_dtype_and_rank_come_from_the_session(tmp_path, timestep_type, shape, dtype):
    session, raw = load_graph(_unet_graph(tmp_path / "u.onnx", timestep_type, shape, dtype), SETTINGS, "unet")
    unet = UNetDenoiser(session, raw)
    x = np.ones((2, 4, 3, 3), np.float32)
    hidden = np.full((2, 3, 2), 0.25, np.float32)
    out = unet(x, np.array([500, 500]), hidden)
    assert out.dtype == np.float32 and out.shape == x.shape
    np.testing.assert_allclose(out, 0.5 + 0.5 + 0.25, atol=2e-3)
    feed = unet.timestep_feed(np.array([500, 500]))
    assert feed.ndim == len(shape) and feed.dtype == session.input("timestep").dtype
    with pytest.raises(ModelError, match="text embeddings"):
        unet(x, np.array([1, 1]), None)


def test_unet_with_unknown_inputs_is_refused(tmp_path):
    path = _unet_graph(tmp_path / "u.onnx", TensorProto.INT64, ["steps"])
    model = onnx.load(path)
    model.graph.input.append(helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["batch", 8]))
    onnx.save(model, path)
    session, raw = load_graph(path, SETTINGS, "unet")
    with pytest.raises(ModelError, match="text_embeds"):
        UNetDenoiser(session, raw)


def _identity_graph(path, inp, out, channels_in, channels_out):
    """An Identity graph standing in for a VAE half (scaling is the codec's job, not the graph's)."""
    nodes = [helper.make_node("Identity", [inp], [out])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(inp, TensorProto.FLOAT,
                                                                         ["b", channels_in, "h", "w"])],
                              [helper.make_tensor_value_info(out, TensorProto.FLOAT, ["b", channels_out, "h", "w"])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def test_vae_scaling_and_encoder_mean(tmp_path):
    dec, _ = load_graph(_identity_graph(tmp_path / "d.onnx", "latent_sample", "sample", 3, 3), SETTINGS, "dec")
    enc, _ = load_graph(_identity_graph(tmp_path / "e.onnx", "sample", "latent_parameters", 3, 3), SETTINGS, "enc")
    codec = VaeCodec(dec, enc, channels=3, factor=1, scaling_factor=0.5)
    x = np.random.default_rng(0).standard_normal((1, 3, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(codec.decode(x), x / 0.5)
    np.testing.assert_allclose(codec.encode(x), x * 0.5)
    bad = VaeCodec(dec, enc, channels=2, factor=1, scaling_factor=0.5)
    with pytest.raises(ModelError, match="latent"):
        bad.encode(x)
    no_encoder = VaeCodec(dec, None, channels=3, factor=1, scaling_factor=0.5)
    with pytest.raises(ModelError, match="vae_encoder"):
        no_encoder.encode(x)
