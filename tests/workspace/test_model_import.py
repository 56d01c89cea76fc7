"""Models from anywhere: foreign exports (plain torch.onnx.export, diffusers) import by guessing and by a hand-written
card from docs/model-card.md, and render the same pixels as running the ONNX file the way its authors do."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

pytestmark = [pytest.mark.train, pytest.mark.slow]
torch = pytest.importorskip("torch")

from genart_desktop.core.errors import GenArtError, InputError  # noqa: E402
from genart_desktop.engine.cards import sha256_file  # noqa: E402
from genart_desktop.engine.latent.space import space_from_registry  # noqa: E402
from genart_desktop.engine.pipelines.recipe import Recipe  # noqa: E402
from genart_desktop.engine.pipelines.style import StylePipeline  # noqa: E402
from genart_desktop.engine.registry import ModelRegistry  # noqa: E402
from genart_desktop.workspace.diffusion_models import load_generator  # noqa: E402
from genart_desktop.workspace.model_import import edited, install, propose  # noqa: E402
from tests import foreign_models as fm  # noqa: E402


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    root = tmp_path_factory.mktemp("foreign")
    return {"zoo": fm.zoo_style(root / "zoo"), "dcgan": fm.dcgan(root / "dcgan"),
            "vae": fm.vae_decoder(root / "vae"), "unet": fm.diffusers_unet(root / "unet")}


def _imported(exports, kind, models):
    folder, pixels = install(propose(exports[kind]), models)
    assert pixels is not None and pixels.dtype == np.uint8
    registry = ModelRegistry(roots=[(models, "user")])
    entry = registry.entries()[0]
    assert entry.ok, entry.reason
    return registry, entry, folder


def _picture(height, width, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_zoo_style_network_imports_and_matches_the_zoo_recipe(exports, tmp_path):
    proposal = propose(exports["zoo"])
    assert proposal.family == "style"
    io = proposal.card["io"]["stylizer"]
    assert io["names"] == {"content": "input1", "stylized": "output1"}
    assert io["inputs"]["input1"]["range"] == [0.0, 255.0] and io["outputs"]["output1"]["range"] == [0.0, 255.0]
    assert io["inputs"]["input1"]["shape"] == [1, 3, fm.ZOO_SIZE, fm.ZOO_SIZE]
    registry, entry, _ = _imported(exports, "zoo", tmp_path / "models")
    picture = _picture(fm.ZOO_SIZE, fm.ZOO_SIZE)
    ours = StylePipeline.from_registry(registry, entry.id).apply(picture)
    assert np.array_equal(ours, fm.run_zoo_style(exports["zoo"], picture))


class _Recording:
    """A session double that records the size of every image the pipeline feeds."""

    def __init__(self, session):
        self.session, self.inputs, self.outputs, self.fed = session, session.inputs, session.outputs, []

    def run(self, feeds, *args, **kwargs):
        self.fed.append(next(iter(feeds.values())).shape)
        return self.session.run(feeds, *args, **kwargs)


def test_a_fixed_size_network_is_fed_exactly_its_size_on_any_canvas(exports, tmp_path):
    registry, entry, _ = _imported(exports, "zoo", tmp_path / "models")
    options = {"input_range": (0.0, 255.0), "output_range": (0.0, 255.0), "input_name": "input1",
               "output_name": "output1"}
    for height, width in ((300, 500), (100, 150)):
        network = _Recording(registry.session(entry.id, "stylizer"))
        out = StylePipeline(network, **options).apply(_picture(height, width, 1))
        assert out.shape == (height, width, 3)
        assert network.fed and all(shape == (1, 3, fm.ZOO_SIZE, fm.ZOO_SIZE) for shape in network.fed)
        # the tone guide (whole image shrunk to one tile) goes through too when there are several tiles
        assert len(network.fed) > 1 or height <= fm.ZOO_SIZE


def _hand_card(folder, model_id, family, role, onnx, io, **fields):
    """A card written by hand from docs/model-card.md."""
    files = {role: {"path": onnx.name, "sha256": sha256_file(onnx)}}
    data = [p for p in folder.iterdir() if p.name.endswith(".onnx.data")]
    if data:
        files[role]["data"] = [{"path": p.name, "sha256": sha256_file(p)} for p in data]
    card = {"format": "genart-model-card/1", "id": model_id, "name": model_id, "family": family, "files": files,
            "io": {role: io}, "license": "test", "provenance": {"command": "hand-written"}, **fields}
    (folder / "model.json").write_text(json.dumps(card))


def _copy_export(path, folder):
    shutil.copytree(path.parent, folder)
    return folder / path.name


def test_hand_written_cards_from_the_docs_are_accepted(exports, tmp_path):
    models = tmp_path / "models"
    zoo = _copy_export(exports["zoo"], models / "candy")
    image = {"shape": [1, 3, 224, 224], "dtype": "float32", "range": [0, 255]}
    _hand_card(zoo.parent, "candy", "style", "stylizer", zoo,
               {"names": {"content": "input1", "stylized": "output1"},
                "inputs": {"input1": image}, "outputs": {"output1": image}}, resolution=[224, 224])
    gan = _copy_export(exports["dcgan"], models / "dcgan")
    _hand_card(gan.parent, "dcgan", "gan", "generator", gan,
               {"names": {"image": "img"}, "inputs": {"z": {"shape": ["batch", 100, 1, 1], "dtype": "float32"}},
                "outputs": {"img": {"shape": ["batch", 3, 8, 8], "dtype": "float32", "range": [-1, 1]}}},
               resolution=[8, 8], latent={"shape": [100], "distribution": "normal"})
    vae = _copy_export(exports["vae"], models / "vae")
    _hand_card(vae.parent, "decoder-only", "vae", "decoder", vae,
               {"names": {"image": "x_hat"}, "inputs": {"latent": {"shape": ["batch", 4, 4, 4], "dtype": "float32"}},
                "outputs": {"x_hat": {"shape": ["batch", 3, 16, 16], "dtype": "float32", "range": [0, 1]}}},
               resolution=[16, 16], latent={"shape": [4, 4, 4], "distribution": "normal"})
    registry = ModelRegistry(roots=[(models, "user")])
    assert [(e.id, e.ok, e.reason) for e in registry.entries()] == [
        ("candy", True, None), ("dcgan", True, None), ("decoder-only", True, None)]
    picture = _picture(224, 224, 2)
    assert np.array_equal(StylePipeline.from_registry(registry, "candy").apply(picture),
                          fm.run_zoo_style(zoo, picture))
    z = np.random.default_rng(5).standard_normal((3, 100)).astype(np.float32)
    assert np.array_equal(space_from_registry(registry, "dcgan").decode(z), fm.run_dcgan(gan, z))
    latent = np.random.default_rng(6).standard_normal((2, 64)).astype(np.float32)
    assert np.array_equal(space_from_registry(registry, "decoder-only").decode(latent),
                          fm.run_vae_decoder(vae, latent))


def test_dcgan_imports_with_its_external_data_and_matches_pytorch(exports, tmp_path):
    registry, entry, folder = _imported(exports, "dcgan", tmp_path / "models")
    card = json.loads((folder / "model.json").read_text())
    assert card["latent"]["shape"] == [100]
    assert card["files"]["generator"]["data"][0]["path"] == "model.onnx.data"
    space = space_from_registry(registry, entry.id)
    z = space.sample(seed=3, count=4)
    assert np.array_equal(space.decode(z), fm.run_dcgan(exports["dcgan"], z))
    with open(folder / "model.onnx.data", "r+b") as handle:  # the external data is hashed like the graph
        handle.seek(100)
        handle.write(b"\x00\x01\x02\x03")
    entry = ModelRegistry(roots=[(tmp_path / "models", "user")]).entries()[0]
    assert not entry.ok and "model.onnx.data does not match its sha256" in entry.reason


def test_a_latent_shape_that_does_not_fit_the_graph_is_refused_at_scan_time(exports, tmp_path):
    folder, _ = install(propose(exports["dcgan"]), tmp_path / "models")
    card = json.loads((folder / "model.json").read_text())
    card["latent"]["shape"] = [64]
    (folder / "model.json").write_text(json.dumps(card))
    entry = ModelRegistry(roots=[(tmp_path / "models", "user")]).entries()[0]
    assert not entry.ok and "latent.shape [64] has 64 values but the generator input 'z' takes [100, 1, 1]" \
        in entry.reason


def test_decoder_only_vae_explores_and_refuses_to_encode_with_a_sentence(exports, tmp_path):
    registry, entry, _ = _imported(exports, "vae", tmp_path / "models")
    space = space_from_registry(registry, entry.id)
    assert not space.can_encode and space.latent_shape == (4, 4, 4)
    latent = space.sample(seed=1, count=2)
    assert np.array_equal(space.decode(latent), fm.run_vae_decoder(exports["vae"], latent))
    with pytest.raises(InputError, match="has no encoder"):
        space.encode(_picture(16, 16))


def test_diffusers_unet_follows_diffusers_ddim_clipping(exports, tmp_path):
    registry, entry, folder = _imported(exports, "unet", tmp_path / "models")
    card = json.loads((folder / "model.json").read_text())
    assert card["config"]["schedule"]["clip_sample"] is True
    assert card["config"]["schedule"]["use_clipped_model_output"] is False
    steps, seed = 6, 11
    recipe = Recipe(model_id=entry.id, seed=seed, steps=steps, sampler="ddim", width=8, height=8)
    ours = load_generator(registry, entry.id).render(recipe).pixels
    noise = np.random.default_rng(seed).standard_normal((3, 8, 8), dtype=np.float32)[None]
    theirs = fm.run_diffusers_ddim(exports["unet"], exports["unet"].parent, noise, steps)[0]
    difference = np.abs(ours.astype(int) - theirs.astype(int))
    assert difference.max() <= 1 and np.mean(difference == 0) > 0.95  # float32 torch vs numpy arithmetic
    card["config"]["schedule"]["use_clipped_model_output"] = True  # the other convention is visibly different
    (folder / "model.json").write_text(json.dumps(card))
    other = load_generator(ModelRegistry(roots=[(tmp_path / "models", "user")]), entry.id).render(recipe).pixels
    assert np.abs(other.astype(int) - theirs.astype(int)).max() > 8


def test_editing_and_refusing(exports, tmp_path):
    proposal = propose(exports["vae"], model_id="my-vae", name="My VAE")
    assert (proposal.model_id, proposal.card["name"]) == ("my-vae", "My VAE")
    changed = edited(proposal, ranges={"decoder.x_hat": (-1.0, 1.0)})
    assert changed.card["io"]["decoder"]["outputs"]["x_hat"]["range"] == [-1.0, 1.0]
    assert proposal.card["io"]["decoder"]["outputs"]["x_hat"]["range"] == [0.0, 1.0]
    with pytest.raises(InputError, match="must be lower-case"):
        edited(proposal, model_id="My VAE")
    install(proposal, tmp_path / "models")
    with pytest.raises(InputError, match="already exists"):
        install(proposal, tmp_path / "models")
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"\x08\x07garbage")
    with pytest.raises(GenArtError):
        propose(broken)
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["my-vae"]
