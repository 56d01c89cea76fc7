"""The style pipeline on tiny ONNX networks: identity at strength 0, tiling seams, colours, scale, cancel, preview."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from genart_desktop.core.errors import InputError, JobCancelled, ModelError
from genart_desktop.engine.pipelines.style import (
    StylePipeline,
    StyleSettings,
    default_settings,
    keep_chroma,
    lowpass,
    mix_oklab,
    oklab_to_rgb,
    rgb_to_oklab,
    rgb_to_ycbcr,
)
from tests.tiny_onnx import _finish, image_model, write_model_folder


def _session(model) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def conv_style_model(seed: int = 0) -> object:
    """A small encoder/decoder like our style networks: stride-2 conv, ReLU, nearest upsample, conv, tanh."""
    rng = np.random.default_rng(seed)
    w1 = (rng.standard_normal((8, 3, 5, 5)) * 0.2).astype(np.float32)
    w2 = (rng.standard_normal((3, 8, 5, 5)) * 0.2).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["content", "w1"], ["c1"], strides=[2, 2], pads=[2, 2, 2, 2]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Resize", ["r1", "", "scales"], ["up"], mode="nearest"),
        helper.make_node("Conv", ["up", "w2"], ["c2"], pads=[2, 2, 2, 2]),
        helper.make_node("Tanh", ["c2"], ["stylized"]),
    ]
    graph = helper.make_graph(
        nodes, "conv_style",
        [helper.make_tensor_value_info("content", TensorProto.FLOAT, ["batch", 3, "height", "width"])],
        [helper.make_tensor_value_info("stylized", TensorProto.FLOAT, ["batch", 3, "height", "width"])],
        initializer=[numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2"),
                     numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")],
    )
    return _finish(graph)


def photo(height: int, width: int, alpha: bool = False, seed: int = 1) -> np.ndarray:
    """A smooth colourful test image with some texture (mid-tones, so colour transforms stay in gamut)."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    rng = np.random.default_rng(seed)
    r = 128 + 50 * np.sin(xx / 17.0) + rng.normal(0, 6, (height, width))
    g = 128 + 50 * np.cos(yy / 23.0) + rng.normal(0, 6, (height, width))
    b = 128 + 40 * np.sin((xx + yy) / 31.0)
    channels = [r, g, b] + ([np.linspace(0, 255, width)[None].repeat(height, 0)] if alpha else [])
    return np.clip(np.stack(channels, -1), 0, 255).astype(np.uint8)


class Recorder:
    """A network double: records the tiles it sees and returns the input (identity)."""

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []

    def run(self, feeds):
        (value,) = feeds.values()
        self.shapes.append(value.shape)
        return {"stylized": value.copy()}


def test_strength_zero_is_exactly_identity_and_returns_a_copy():
    pixels = photo(40, 50, alpha=True)
    before = pixels.copy()
    out = StylePipeline(_session(image_model(scale=-1.0))).apply(pixels, StyleSettings(strength=0.0))
    assert out is not pixels
    np.testing.assert_array_equal(out, before)
    np.testing.assert_array_equal(pixels, before)


def test_full_strength_is_the_network_output_and_alpha_is_kept():
    pixels = photo(30, 44, alpha=True)
    before = pixels.copy()
    out = StylePipeline(_session(image_model(scale=-1.0))).apply(pixels)  # the network inverts colours
    rgb = pixels[..., :3].astype(np.float32) * (pixels[..., 3:] / 255.0) + 255.0 * (1 - pixels[..., 3:] / 255.0)
    assert np.abs(out[..., :3].astype(int) - (255 - np.rint(rgb)).astype(int)).max() <= 1
    np.testing.assert_array_equal(out[..., 3], pixels[..., 3])
    np.testing.assert_array_equal(pixels, before)


def test_tiled_result_matches_whole_image_result():
    pixels = photo(150, 212)
    session = _session(conv_style_model())
    whole = StylePipeline(session, tile=1024, overlap=0, multiple=2).apply(pixels)
    # a purely local network: tiling alone must reproduce the whole-image result (no tone correction needed)
    tiled_pipeline = StylePipeline(session, tile=64, overlap=24, multiple=2, harmonize=False)
    assert tiled_pipeline.tile_count(212, 150) > 6
    tiled = tiled_pipeline.apply(pixels)
    diff = np.abs(tiled.astype(int) - whole.astype(int))
    assert diff.max() <= 3, diff.max()
    assert diff.mean() < 0.2


def instance_norm_model(seed: int = 0) -> object:
    """conv -> InstanceNormalization -> ReLU -> conv -> tanh: each tile's colours depend on its own statistics."""
    rng = np.random.default_rng(seed)
    w1 = (rng.standard_normal((8, 3, 3, 3)) * 0.3).astype(np.float32)
    w2 = (rng.standard_normal((3, 8, 3, 3)) * 0.3).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["content", "w1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("InstanceNormalization", ["c1", "gamma", "beta"], ["n1"]),
        helper.make_node("Relu", ["n1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Tanh", ["c2"], ["stylized"]),
    ]
    graph = helper.make_graph(
        nodes, "in_style",
        [helper.make_tensor_value_info("content", TensorProto.FLOAT, ["batch", 3, "height", "width"])],
        [helper.make_tensor_value_info("stylized", TensorProto.FLOAT, ["batch", 3, "height", "width"])],
        initializer=[numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2"),
                     numpy_helper.from_array(np.ones(8, np.float32), "gamma"),
                     numpy_helper.from_array(np.zeros(8, np.float32), "beta")],
    )
    return _finish(graph)


def test_harmonized_tiles_of_an_instance_norm_network_match_the_whole_image():
    pixels = photo(192, 256)
    pixels[:, :128] //= 3  # a dark left half: its tiles have very different statistics from the right ones
    session = _session(instance_norm_model())
    whole = StylePipeline(session, tile=1024, overlap=0).stylize(pixels).astype(int)
    naive = StylePipeline(session, tile=96, overlap=24, harmonize=False).stylize(pixels).astype(int)
    fixed = StylePipeline(session, tile=96, overlap=24).stylize(pixels).astype(int)
    naive_error, fixed_error = np.abs(naive - whole).mean(), np.abs(fixed - whole).mean()
    assert naive_error > 8  # without correction each tile gets its own colours: a patchwork
    assert fixed_error < naive_error / 1.8
    # the tone (structures above ~16 px) is what makes seams visible, and that is what the guide fixes
    naive_tone = np.abs(lowpass((naive - whole).astype(np.float32), 16)).mean()
    fixed_tone = np.abs(lowpass((fixed - whole).astype(np.float32), 16)).mean()
    assert fixed_tone < naive_tone / 3


def test_preserve_colors_keeps_the_original_chroma_and_takes_the_stylized_luminance():
    pixels = photo(48, 64)
    out = StylePipeline(_session(image_model(scale=-1.0))).apply(pixels, StyleSettings(preserve_colors=True))
    original, result = rgb_to_ycbcr(pixels), rgb_to_ycbcr(out)
    assert np.abs(result[..., 1:] - original[..., 1:]).max() <= 1.5
    assert np.abs(result[..., 0] - (255.0 - original[..., 0])).max() <= 1.5
    plain = StylePipeline(_session(image_model(scale=-1.0))).apply(pixels)
    assert np.abs(rgb_to_ycbcr(plain)[..., 1:] - original[..., 1:]).mean() > 10  # without it, chroma flips


def test_keep_chroma_on_its_own():
    original = photo(10, 10)
    stylized = np.full_like(original, 90)
    mixed = keep_chroma(original, stylized)
    assert np.abs(rgb_to_ycbcr(mixed)[..., 0] - 90).max() <= 1.0
    assert np.abs(rgb_to_ycbcr(mixed)[..., 1:] - rgb_to_ycbcr(original)[..., 1:]).max() <= 1.5


def test_half_strength_is_perceptually_half_way():
    black = np.zeros((4, 4, 3), np.uint8)
    white = np.full((4, 4, 3), 255, np.uint8)
    mid = mix_oklab(black, white, 0.5)
    # OKLab lightness 0.5 is a perceptual mid-grey (~99 in sRGB), unlike the linear-light or naive averages
    assert 90 <= int(mid[0, 0, 0]) <= 110
    np.testing.assert_allclose(rgb_to_oklab(mid)[..., 0], 0.5, atol=0.01)
    red, cyan = np.array([[[230, 40, 40]]], np.uint8), np.array([[[40, 200, 230]]], np.uint8)
    assert np.array_equal(mix_oklab(red, cyan, 0.0), red) and np.array_equal(mix_oklab(red, cyan, 1.0), cyan)
    quarter = rgb_to_oklab(mix_oklab(red, cyan, 0.25))[0, 0]
    expected = rgb_to_oklab(red)[0, 0] * 0.75 + rgb_to_oklab(cyan)[0, 0] * 0.25
    np.testing.assert_allclose(quarter, expected, atol=0.01)


def test_oklab_round_trip():
    pixels = photo(16, 16)
    np.testing.assert_array_equal(oklab_to_rgb(rgb_to_oklab(pixels)), pixels)


def test_intermediate_strength_lies_between_original_and_stylized():
    pixels = photo(24, 24)
    pipeline = StylePipeline(_session(image_model(scale=-1.0)))
    full = pipeline.apply(pixels).astype(float)
    part = pipeline.apply(pixels, StyleSettings(strength=0.3)).astype(float)
    to_original, to_full = np.abs(part - pixels).mean(), np.abs(part - full).mean()
    assert 0 < to_original < to_full


def test_scale_runs_the_network_at_a_smaller_resolution_and_resamples_back():
    recorder = Recorder()
    pixels = photo(120, 200)
    out = StylePipeline(recorder, multiple=4).apply(pixels, StyleSettings(scale=2.0))
    assert out.shape == pixels.shape
    assert recorder.shapes == [(1, 3, 60, 100)]
    recorder.shapes.clear()
    StylePipeline(recorder, multiple=4).apply(pixels, StyleSettings(scale=0.5))
    assert recorder.shapes == [(1, 3, 240, 400)]


def test_odd_sizes_are_padded_for_the_network_and_cropped_back():
    recorder = Recorder()
    pixels = photo(37, 53)
    out = StylePipeline(recorder, multiple=4).apply(pixels)
    assert recorder.shapes == [(1, 3, 40, 56)]
    np.testing.assert_array_equal(out, pixels)  # identity network, exact crop


def test_work_resolution_is_capped():
    pipeline = StylePipeline(Recorder(), max_work_pixels=100 * 100)
    assert pipeline.work_size(400, 400, 0.25) == (100, 100)


def test_progress_counts_tiles_and_cancel_leaves_input_untouched():
    pixels = photo(100, 130, alpha=True)
    before = pixels.copy()
    pipeline = StylePipeline(_session(conv_style_model()), tile=48, overlap=8, multiple=2)
    seen: list[tuple[int, int]] = []
    pipeline.apply(pixels, progress=lambda done, total: seen.append((done, total)))
    total = pipeline.tile_count(130, 100)
    assert seen == [(i, total) for i in range(1, total + 1)]

    calls: list[int] = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) >= 3

    with pytest.raises(JobCancelled):
        pipeline.apply(pixels, cancelled=cancelled)
    np.testing.assert_array_equal(pixels, before)


def test_preview_is_downscaled_and_says_whether_it_is_exact():
    recorder = Recorder()
    pipeline = StylePipeline(recorder)
    pixels = photo(300, 600, alpha=True)
    preview = pipeline.preview(pixels, max_side=128)
    assert preview.pixels.shape == (64, 128, 4)
    assert not preview.exact and recorder.shapes == [(1, 3, 64, 128)]
    recorder.shapes.clear()
    coarse = pipeline.preview(pixels, StyleSettings(scale=6.0), max_side=128)
    assert coarse.exact and coarse.work_size == (100, 50)
    assert recorder.shapes == [(1, 3, 52, 100)]  # 50 padded to a multiple of 4
    assert coarse.pixels.shape == (64, 128, 4)


def test_float16_networks_are_fed_float16():
    pixels = photo(20, 20)
    out = StylePipeline(_session(image_model(scale=-1.0, elem_type=TensorProto.FLOAT16))).apply(pixels)
    assert np.abs(out.astype(int) - (255 - pixels.astype(int))).max() <= 2


class WrongShape:
    def run(self, feeds):
        (value,) = feeds.values()
        return [value[:, :, ::2]]


class Broken:
    def run(self, feeds):
        raise RuntimeError("boom")


def test_bad_networks_give_clear_errors():
    pixels = photo(16, 16)
    with pytest.raises(ModelError, match="same size"):
        StylePipeline(WrongShape()).apply(pixels)
    with pytest.raises(ModelError, match="boom"):
        StylePipeline(Broken()).apply(pixels)
    with pytest.raises(ModelError):
        StylePipeline(object())


def test_settings_are_validated():
    with pytest.raises(InputError):
        StyleSettings(strength=1.5)
    with pytest.raises(InputError):
        StyleSettings(scale=0.0)
    with pytest.raises(InputError):
        StylePipeline(Recorder()).apply(np.zeros((4, 4), np.uint8))
    assert default_settings({"default_strength": 0.7, "default_scale": 9e9}) == StyleSettings()
    assert default_settings({"default_strength": 0.7}).strength == 0.7


def test_pipeline_from_registry_uses_the_checked_session(tmp_path):
    from genart_desktop.engine.registry import ModelRegistry

    write_model_folder(tmp_path, "tiny-style", "style", {"stylizer": image_model(scale=-1.0)},
                       config={"size_multiple": 8, "tile": 256, "overlap": 32})
    write_model_folder(tmp_path, "tiny-gan", "gan", {"generator": _linear()})
    registry = ModelRegistry(roots=[(tmp_path, "user")], settings={"execution_provider": "cpu"})
    pipeline = StylePipeline.from_registry(registry, "tiny-style")
    assert (pipeline.multiple, pipeline.tile, pipeline.overlap) == (8, 256, 32)
    pixels = photo(20, 30)
    assert np.abs(pipeline.apply(pixels).astype(int) - (255 - pixels.astype(int))).max() <= 1
    with pytest.raises(ModelError, match="not a style network"):
        StylePipeline.from_registry(registry, "tiny-gan")


def _linear():
    from tests.tiny_onnx import linear_generator

    return linear_generator()


class _FixedSizeRecorder:
    """A raw onnxruntime session of a fixed-size network, recording every size it is fed."""

    def __init__(self, session):
        self.session, self.fed = session, []

    def get_inputs(self):
        return self.session.get_inputs()

    def get_outputs(self):
        return self.session.get_outputs()

    def run(self, names, feeds):
        self.fed.append(next(iter(feeds.values())).shape)
        return self.session.run(names, feeds)


@pytest.mark.parametrize("height,width", [(64, 64), (40, 150), (170, 90)])
def test_a_fixed_size_0_255_network_is_fed_its_size_and_its_range(height, width):
    """An identity network taking exactly 1x3x64x64 in 0..255: every run is 64x64, and pixels come back unchanged
    (so the range conversion is exact both ways and the padding is cropped off)."""
    network = _FixedSizeRecorder(_session(image_model("input1", "output1", dims=(1, 64, 64))))
    pipeline = StylePipeline(network, input_range=(0.0, 255.0), output_range=(0.0, 255.0), harmonize=False)
    assert pipeline.fixed_size == (64, 64) and (pipeline.tile, pipeline.multiple) == (64, 1)
    picture = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    assert np.array_equal(pipeline.stylize(picture), picture)
    assert network.fed and set(network.fed) == {(1, 3, 64, 64)}


def test_the_tone_pass_of_a_fixed_size_network_is_fed_its_size_too():
    network = _FixedSizeRecorder(_session(image_model("input1", "output1", dims=(1, 32, 32), scale=0.5)))
    pipeline = StylePipeline(network, input_range=(0.0, 1.0), output_range=(0.0, 1.0))
    out = pipeline.apply(np.full((50, 120, 3), 200, np.uint8))
    assert set(network.fed) == {(1, 3, 32, 32)} and len(network.fed) > pipeline.tile_count(120, 50)
    assert np.abs(out.astype(int) - 100).max() <= 1  # 200 in [0, 1] halved is 100 out


def test_output_is_read_in_the_declared_range_with_clipping():
    network = _session(image_model(scale=255.0, shift=0.0))  # [0, 1] in -> values up to 255 out
    clipped = StylePipeline(network, input_range=(0.0, 1.0), output_range=(0.0, 1.0)).stylize(
        np.full((8, 8, 3), 10, np.uint8))
    assert (clipped == 255).all()
    read = StylePipeline(network, input_range=(0.0, 1.0), output_range=(0.0, 255.0)).stylize(
        np.full((8, 8, 3), 10, np.uint8))
    assert (read == 10).all()


def test_memory_decides_the_tiling_an_image_that_fits_runs_whole_in_one_pass():
    pixels = photo(200, 300)  # 60000 pixels; at 64 bytes per pixel one run of the whole takes 3.7 MiB
    tiled = Recorder()
    out = StylePipeline(tiled, bytes_per_pixel=64, run_memory_mb=1, overlap=16, harmonize=False).apply(pixels)
    assert len(tiled.shapes) > 2  # several tiles ...
    assert all(h * w * 64 <= 1 << 20 for _, _, h, w in tiled.shapes)  # ... each within the 1 MiB budget
    assert np.abs(out.astype(int) - pixels.astype(int)).max() <= 1

    whole = Recorder()
    StylePipeline(whole, bytes_per_pixel=64, run_memory_mb=4, overlap=16).apply(pixels)
    assert whole.shapes == [(1, 3, 200, 300)]  # fits: one run, no guide pass, no overlap computed twice


def test_a_forced_tile_still_tiles_and_the_card_sets_bytes_per_pixel_and_the_setting_the_budget(tmp_path):
    from genart_desktop.engine.registry import ModelRegistry

    forced = Recorder()
    StylePipeline(forced, tile=64, overlap=8, run_memory_mb=4096).apply(photo(100, 100))
    assert len(forced.shapes) > 2
    write_model_folder(tmp_path, "measured-style", "style", {"stylizer": image_model(scale=-1.0)},
                       config={"size_multiple": 4, "activation_bytes_per_pixel": 600})
    registry = ModelRegistry(roots=[(tmp_path, "user")],
                             settings={"execution_provider": "cpu", "style_run_memory_mb": 700})
    pipeline = StylePipeline.from_registry(registry, "measured-style")
    assert (pipeline.tile, pipeline.bytes_per_pixel, pipeline.run_memory_mb) == (None, 600, 700)
    assert pipeline.tile_count(1024, 1024) == 1  # 1024x1024 at 600 B/px = 600 MiB: whole
    assert pipeline.tile_count(2048, 2048) == 4
