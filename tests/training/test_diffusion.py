"""Diffusion training parts: the objective shares the engine's schedule, tokenising, conditioning, the U-Net."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from genart_desktop.core.errors import InputError  # noqa: E402
from genart_desktop.engine.schedules import add_noise, training_target  # noqa: E402
from genart_desktop.training.diffusion.config import DiffusionConfig  # noqa: E402
from genart_desktop.training.diffusion.objective import DiffusionObjective, make_schedule  # noqa: E402
from genart_desktop.training.diffusion.text import (PAD, UNKNOWN, Conditioning, Vocabulary,  # noqa: E402
                                                    drop_conditions)
from genart_desktop.training.diffusion.trainer import build_unet  # noqa: E402
from genart_desktop.training.diffusion.unet import parameter_count  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("kind", ["linear", "cosine"])
@pytest.mark.parametrize("prediction", ["epsilon", "v_prediction"])
def test_objective_matches_the_engine_forward_process(kind, prediction):
    schedule = make_schedule(kind, 1000, prediction, clip_sample=False)
    objective = DiffusionObjective(schedule)
    rng = np.random.default_rng(0)
    x0 = rng.uniform(-1, 1, (5, 3, 4, 4)).astype(np.float32)
    noise = rng.standard_normal((5, 3, 4, 4)).astype(np.float32)
    t = np.array([0, 1, 500, 998, 999])
    xt = objective.add_noise(torch.from_numpy(x0), torch.from_numpy(noise), torch.from_numpy(t))
    target = objective.target(torch.from_numpy(x0), torch.from_numpy(noise), torch.from_numpy(t))
    np.testing.assert_allclose(xt.numpy(), add_noise(schedule, x0, noise, t), atol=1e-6)
    np.testing.assert_allclose(target.numpy(), training_target(schedule, x0, noise, t), atol=1e-6)


def test_min_snr_weights_cap_the_easy_timesteps():
    objective = DiffusionObjective(make_schedule("linear", 1000, "epsilon", False), min_snr=5.0)
    weights = objective.weights(torch.tensor([0, 999]))
    assert weights[0] < 0.01  # SNR is huge at t = 0
    assert weights[1] == pytest.approx(1.0)
    plain = DiffusionObjective(make_schedule("linear", 1000, "epsilon", False), min_snr=0.0)
    assert torch.equal(plain.weights(torch.tensor([0, 999])), torch.ones(2))


def test_vocabulary_tokenises_words_pads_cuts_and_marks_unknown_words():
    vocab = Vocabulary(("cat", "face", "red"), tokens=4)
    assert vocab.encode("Red CAT face!") == [4, 2, 3, PAD]
    assert vocab.encode("a red cat with a face") == [UNKNOWN, 4, 2, UNKNOWN]
    assert vocab.encode("") == [PAD] * 4
    assert Vocabulary.from_json(vocab.to_json()) == vocab


def test_conditioning_from_dataset_meta_and_null_rows():
    meta = {"vocabulary": ["blue", "circle"], "items": [{"caption": "blue circle"}, {}]}
    text = Conditioning.from_dataset("text", meta, ["blue circle", None], 3)
    assert text.encode_items(meta["items"]).tolist() == [[2, 3, 0], [0, 0, 0]]
    assert text.null(2).tolist() == [[0, 0, 0], [0, 0, 0]]
    labelled = Conditioning.from_dataset("class", {"labels": ["a", "b"]}, [], 3)
    assert labelled.encode_items([{"label": "b"}, {"label": "zzz"}]).tolist() == [[1], [2]]
    assert labelled.null(1).tolist() == [[2]]
    assert Conditioning.from_json(text.to_json()) == text
    with pytest.raises(InputError, match="captions"):
        Conditioning.from_dataset("text", {}, [None, None], 3)
    with pytest.raises(InputError, match="labels"):
        Conditioning.from_dataset("class", {"items": [{}]}, [], 3)


def test_condition_dropout_replaces_rows_with_the_null_row():
    cond = torch.full((2000, 3), 7)
    null = torch.zeros(1, 3, dtype=torch.int64)
    dropped = drop_conditions(cond, null, 0.25)
    gone = (dropped == 0).all(dim=1).float().mean().item()
    assert 0.2 < gone < 0.3
    assert ((dropped == 7).all(dim=1) | (dropped == 0).all(dim=1)).all()
    assert drop_conditions(cond, null, 0.0) is cond


@pytest.mark.parametrize("kind", ["none", "class", "text"])
def test_unet_keeps_the_sample_shape_at_any_divisible_size(kind):
    torch.manual_seed(0)
    cfg = DiffusionConfig(data="x", channels="16,32", res_blocks=1, text_dim=32, text_layers=1, tokens=4,
                          condition=kind)
    conditioning = {"none": Conditioning("none"), "class": Conditioning("class", classes=("a", "b")),
                    "text": Conditioning("text", Vocabulary(("a", "b"), 4))}[kind]
    model = build_unet(cfg, 4, 8, conditioning)
    for param in model.parameters():  # zero-initialised output layers would hide a broken path
        param.data.add_(torch.randn_like(param) * 0.05)
    cond = conditioning.null(2)
    for side in (8, 12):
        out = model(torch.randn(2, 4, side, side), torch.tensor([1.0, 900.0]), cond)
        assert out.shape == (2, 4, side, side)
        assert torch.isfinite(out).all()
    if kind != "none":
        a = model(torch.ones(1, 4, 8, 8), torch.tensor([500.0]), conditioning.null(1))
        first = conditioning.encode_prompt("a" if kind == "text" else "a")
        b = model(torch.ones(1, 4, 8, 8), torch.tensor([500.0]), first)
        assert not torch.allclose(a, b), "the condition must change the prediction"


def test_default_sized_unet_is_a_few_million_parameters():
    cfg = DiffusionConfig(data="x")
    model = build_unet(cfg, 4, 8, Conditioning("text", Vocabulary(tuple(f"w{i}" for i in range(1000)), 8)))
    assert 2e6 <= parameter_count(model) <= 6e6


@pytest.mark.parametrize("options, message", [
    ({"channels": "16,x"}, "--channels"),
    ({"channels": "12,24"}, "multiples of 8"),
    ({"text_dim": 30}, "divisible"),
    ({"cond_drop": 1.0}, "--cond-drop"),
    ({"condition": "text", "cond_drop": 0.0}, "unconditional"),
    ({"sample_steps": 2000}, "--sample-steps"),
    ({"tokens": 2000}, "--tokens"),
])
def test_config_rejects_bad_options(options, message):
    with pytest.raises(InputError, match=message):
        DiffusionConfig(data="x", **options).validate()


def test_unet_refuses_a_sample_it_cannot_halve():
    cfg = DiffusionConfig(data="x", channels="16,32,32,32")
    with pytest.raises(InputError, match="halved"):
        build_unet(cfg, 4, 4, Conditioning("none"))


def _card_config(conditioning, **options):
    from genart_desktop.training.diffusion.card_config import card_config

    cfg = DiffusionConfig(data="x", resolution=32, sample_steps=7, guidance=4.5, sampler="ddim", **options)
    latent = {"scale": 0.7, "vae": {"id": "my-vae", "name": "My VAE", "latent_shape": [4, 8, 8],
                                    "decoder_sha256": "ab" * 32}}
    return card_config(conditioning, make_schedule("cosine", 1000, "v_prediction", False), cfg, 4, 8, latent,
                       ["red cat"])


def test_card_config_is_what_the_engine_adapter_reads():
    from genart_desktop.engine.pipelines import diffusion_model as engine

    assert (engine.PAD_ID, engine.UNKNOWN_ID, engine.FIRST_WORD_ID) == (PAD, UNKNOWN, 2)
    conditioning = Conditioning("text", Vocabulary(("cat", "red"), 3))
    config = _card_config(conditioning)
    app = engine.Conditioning.from_config(config["conditioning"])
    assert (app.kind, app.vocabulary, app.max_tokens) == ("text", ("cat", "red"), 3)
    for prompt in ("red cat", "RED dog cat cat", ""):
        assert app.encode(prompt).tolist() == conditioning.encode_prompt(prompt).tolist()
    assert app.null().tolist() == conditioning.null(1).tolist()
    assert config["schedule"]["prediction_type"] == "v_prediction"
    assert config["latent"] == {"scaling_factor": 0.7, "vae": "my-vae", "factor": 4,
                                "paired_vae": {"id": "my-vae", "name": "My VAE", "latent_shape": [4, 8, 8],
                                               "decoder_sha256": "ab" * 32}}
    assert (config["default_steps"], config["default_guidance"]) == (7, 4.5)
    labelled = Conditioning("class", classes=("Cat", "dog"))
    app = engine.Conditioning.from_config(_card_config(labelled, condition="class")["conditioning"])
    assert app.encode("dog").tolist() == labelled.encode_prompt("dog").tolist()
    assert app.null().tolist() == labelled.null(1).tolist()
    plain = _card_config(Conditioning("none"))
    assert plain["conditioning"] == {"type": "none"} and plain["default_guidance"] == 1.0
    assert engine.Conditioning.from_config(plain["conditioning"]).encode("anything") is None
