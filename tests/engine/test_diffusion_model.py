"""Our own card-based diffusion models: conditioning rows, guidance, and generation through the registry."""

from __future__ import annotations

import dataclasses

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from genart_desktop.core.errors import InputError, ModelError
from genart_desktop.engine.pipelines.diffusion_model import CardDiffusionModel, Conditioning
from genart_desktop.engine.pipelines.recipe import Recipe
from genart_desktop.engine.registry import ModelRegistry
from tests.tiny_onnx import tiny_unet, write_model_folder


def conditioned_unet() -> onnx.ModelProto:
    """prediction = sample * 0.5 + mean(cond) / 10 (so the condition visibly changes the result)."""
    nodes = [
        helper.make_node("Cast", ["cond"], ["cond_f"], to=TensorProto.FLOAT),
        helper.make_node("ReduceMean", ["cond_f"], ["c_mean"], keepdims=0),
        helper.make_node("Div", ["c_mean", "ten"], ["c_small"]),
        helper.make_node("Mul", ["sample", "half"], ["halved"]),
        helper.make_node("Add", ["halved", "c_small"], ["prediction"]),
    ]
    graph = helper.make_graph(
        nodes, "cond_unet",
        [helper.make_tensor_value_info("sample", TensorProto.FLOAT, ["batch", 3, "height", "width"]),
         helper.make_tensor_value_info("timestep", TensorProto.FLOAT, ["batch"]),
         helper.make_tensor_value_info("cond", TensorProto.INT64, ["batch", "tokens"])],
        [helper.make_tensor_value_info("prediction", TensorProto.FLOAT, ["batch", 3, "height", "width"])],
        initializer=[onnx.numpy_helper.from_array(np.array(10.0, np.float32), "ten"),
                     onnx.numpy_helper.from_array(np.array(0.5, np.float32), "half")])
    # timestep is unused by the arithmetic but must stay a graph input
    graph.node.append(helper.make_node("Identity", ["timestep"], ["t_unused"]))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def registry_with(tmp_path, model_id, unet, config):
    write_model_folder(tmp_path / "models", model_id, "diffusion", {"unet": unet}, resolution=[8, 8], config=config)
    return ModelRegistry(roots=[(tmp_path / "models", "builtin")],
                         settings={"execution_provider": "cpu", "intra_op_threads": 1, "session_cache_size": 4})


def test_conditioning_rows():
    classes = Conditioning.from_config({"type": "class", "classes": ["Cat", "Dog"]})
    assert classes.encode("dog").tolist() == [[1]] and classes.encode("0").tolist() == [[0]]
    assert classes.null().tolist() == [[2]]
    with pytest.raises(InputError, match="Cat, Dog"):
        classes.encode("horse")
    text = Conditioning.from_config({"type": "text", "vocabulary": ["red", "sky"], "max_tokens": 4})
    assert text.encode("Red sky, blue").tolist() == [[2, 3, 1, 0]]
    assert text.null().tolist() == [[0, 0, 0, 0]]
    assert Conditioning.from_config(None).encode("anything") is None
    with pytest.raises(ModelError, match="classes"):
        Conditioning.from_config({"type": "class"})
    with pytest.raises(ModelError, match="type"):
        Conditioning.from_config({"type": "audio"})


def test_unconditional_card_model_generates(tmp_path):
    registry = registry_with(tmp_path, "plain", tiny_unet(3), {"schedule": {"beta_schedule": "cosine"}})
    model = CardDiffusionModel.from_registry(registry, "plain")
    a = model.generate(steps=5, seed=1, sampler="ddim")
    b = model.generate(steps=5, seed=1, sampler="ddim")
    assert a.images.shape == (1, 3, 8, 8) and np.isfinite(a.images).all()
    assert np.array_equal(a.images, b.images)
    assert model.schedule.beta_schedule == "cosine" and len(model.fingerprint) == 16


def test_class_conditioned_model_uses_guidance(tmp_path):
    config = {"conditioning": {"type": "class", "classes": ["cat", "dog"]}, "default_guidance": 2.0}
    registry = registry_with(tmp_path, "classy", conditioned_unet(), config)
    model = CardDiffusionModel.from_registry(registry, "classy")
    cat = model.generate("cat", steps=4, seed=0, sampler="ddim").images
    dog = model.generate("dog", steps=4, seed=0, sampler="ddim").images
    unguided = model.generate("dog", steps=4, seed=0, sampler="ddim", guidance=1.0).images
    assert not np.allclose(cat, dog) and not np.allclose(dog, unguided)
    with pytest.raises(InputError, match="Unknown class"):
        model.generate("horse", steps=2)


def test_render_reads_everything_from_the_recipe_and_fills_in_the_model_hash(tmp_path):
    config = {"conditioning": {"type": "class", "classes": ["cat", "dog"]}, "default_guidance": 2.0}
    model = CardDiffusionModel.from_registry(registry_with(tmp_path, "classy", conditioned_unet(), config), "classy")
    recipe = Recipe("classy", seed=4, steps=3, sampler="ddim", guidance=3.0, prompt="dog", class_label="dog",
                    width=8, height=8)
    output = model.render(recipe)
    assert output.recipe == dataclasses.replace(recipe, model_hash=model.fingerprint)
    keywords = model.generate("dog", steps=3, seed=4, sampler="ddim", guidance=3.0).pixels()[0]
    assert output.pixels.dtype == np.uint8 and np.array_equal(output.pixels, keywords)
    cat = model.render(dataclasses.replace(recipe, class_label="cat")).pixels  # the label wins over the prompt
    assert not np.array_equal(cat, output.pixels)
    init = np.full((8, 8, 3), 200, np.uint8)
    kept = model.render(dataclasses.replace(recipe, mode="img2img", strength=0.0), init=init).pixels
    assert np.array_equal(kept, init)  # strength 0 returns the init image unchanged


def test_card_claiming_conditioning_without_cond_input(tmp_path):
    registry = registry_with(tmp_path, "liar", tiny_unet(3), {"conditioning": {"type": "class", "classes": ["a"]}})
    with pytest.raises(ModelError, match="no 'cond' input"):
        CardDiffusionModel.from_registry(registry, "liar")


def test_unknown_words_are_listed_once_in_order_and_words_past_the_limit_count():
    from genart_desktop.engine.pipelines.diffusion_model import Conditioning

    text = Conditioning("text", (), ("red", "heart", "cat"), max_tokens=3)
    assert text.unknown_words("Red heart") == []
    assert text.unknown_words("blue heart, blue moon") == ["blue", "moon"]
    assert text.unknown_words("red heart cat cat") == ["cat"]  # the fourth word is past max_tokens
    assert Conditioning("class", ("a", "b")).unknown_words("zebra") == []
