"""The export registry: every family is found without an if-chain, an unknown one is refused in one line, and a
new family is dispatched by registering alone."""

import json
import math

import pytest

pytest.importorskip("torch")

from genart_desktop.core.errors import InputError, ModelError  # noqa: E402
from genart_desktop.training.cli import main  # noqa: E402
from genart_desktop.training.export import parity, registry  # noqa: E402
from genart_desktop.training.export.destination import check_destination, choose_model_id  # noqa: E402
from genart_desktop.training.export.exporter import export_run  # noqa: E402
from genart_desktop.training.export.protocol import ExportResult  # noqa: E402
from genart_desktop.training.runs import RUN_FORMAT  # noqa: E402


def _run_folder(tmp_path, family):
    run = tmp_path / f"0001-{family}"
    run.mkdir()
    (run / "options.json").write_text(json.dumps({"format": RUN_FORMAT, "family": family, "options": {}}))
    return run


def test_registry_lists_every_family():
    assert registry.families() == ["diffusion", "gan", "style", "style-arbitrary", "upscale", "vae"]
    for family in registry.families():
        exporter = registry.exporter_for(family)
        assert exporter.family == family and callable(exporter.export)


def test_unknown_family_is_one_clear_error(tmp_path, capsys):
    known = r"\(known: diffusion, gan, style, style-arbitrary, upscale, vae\)"
    with pytest.raises(InputError, match=r"No exporter for 'upscaler' runs " + known):
        registry.exporter_for("upscaler")
    run = _run_folder(tmp_path, "upscaler")
    assert main(["export", str(run)]) == 2
    err = capsys.readouterr().err
    assert str(run) in err and "'upscaler'" in err and "Traceback" not in err
    assert not (run / "export").exists()


def test_a_new_family_is_dispatched_by_registering_alone(tmp_path, monkeypatch):
    seen = []

    class Upscaler:
        family = "upscaler"

        def export(self, run, request):
            seen.append((run.path, request.out, request.fp16))
            return ExportResult(run.path / "out", {"id": "up"}, {"upscaler": 0.0})

    monkeypatch.setattr(registry, "_EXPORTERS", dict(registry._EXPORTERS))
    registry.register(Upscaler())
    run = _run_folder(tmp_path, "upscaler")
    result = export_run(str(run), "somewhere", fp16=True)
    assert seen == [(run, "somewhere", True)] and result.card == {"id": "up"}
    assert "upscaler" in registry.families()
    with pytest.raises(ValueError, match="upscaler"):
        registry.register(Upscaler())


@pytest.mark.parametrize("diffs", [[0.0, math.nan], [math.nan, 0.0], [0.5, 0.0], [math.inf, 0.0]])
def test_parity_refuses_large_or_non_finite_differences(monkeypatch, diffs):
    monkeypatch.setattr(parity, "max_abs_diff", lambda *a: {"a": diffs[0], "b": diffs[1]})
    with pytest.raises(ModelError, match="exported decoder disagrees"):
        parity.check_parity("decoder", "x.onnx", None, [{}], ["a", "b"], 1e-4)


def test_parity_returns_the_worst_over_every_input_set(monkeypatch):
    values = iter([{"a": 1e-6}, {"a": 3e-5}])
    monkeypatch.setattr(parity, "max_abs_diff", lambda *a: next(values))
    assert parity.check_parity("decoder", "x.onnx", None, [{}, {}], ["a"], 1e-4) == 3e-5


def test_model_ids_and_destinations(tmp_path):
    assert choose_model_id(None, "GAN-0003 Run!") == "gan-0003-run"
    assert choose_model_id("mine", "ignored") == "mine"
    with pytest.raises(InputError, match="--id"):
        choose_model_id("Bad Id", "x")
    check_destination(tmp_path / "new")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "model.json").write_text("{}")
    check_destination(tmp_path / "old")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not a model folder"):
        check_destination(tmp_path / "other")


def test_the_export_package_imports_no_family():
    """Families import the protocol, never the other way round (the registry finds them by module name)."""
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("genart_desktop")
    for module in registry.FAMILY_MODULES:
        family = module.rsplit(".", 1)[0]
        assert not graph.chain_exists(importer="genart_desktop.training.export", imported=family, as_packages=True)
