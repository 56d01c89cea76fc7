"""The PyInstaller bundle: static checks of packaging/genart.spec, and the built app's self-test when dist/ holds one.

The build itself (``packaging/build``, about a minute and 700 MB) is not run by the tests; when it has been run, the
bundle in dist/genart/ must pass its self-test on the models it ships and on one tiny model of every family.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.packaging.tiny_models import FAMILY_IDS, write_all_families

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "packaging" / "genart.spec"
BUNDLE = ROOT / "dist" / "genart"
PROGRAM = BUNDLE / "genart"
MUST_EXCLUDE = {"torch", "torchvision", "genart_desktop.training", "diffusers", "transformers", "tests"}
APP_QT_MODULES = {"QtCore", "QtGui", "QtWidgets"}


def spec_literal(name: str):
    """A module-level literal assigned in the spec, read without running PyInstaller."""
    for node in ast.parse(SPEC.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{SPEC.name} assigns no {name}")


def test_spec_excludes_torch_training_and_test_only_packages():
    excluded = set(spec_literal("EXCLUDED_MODULES"))
    assert MUST_EXCLUDE <= excluded
    for qt_module in APP_QT_MODULES:
        assert f"PySide6.{qt_module}" not in excluded


def test_spec_qt_exclusions_spare_every_qt_module_the_ui_imports():
    excluded = {name.split(".", 1)[1] for name in spec_literal("EXCLUDED_MODULES") if name.startswith("PySide6.")}
    used = set()
    for path in (ROOT / "genart_desktop").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("PySide6."):
                used.add(node.module.split(".")[1])
            elif isinstance(node, ast.Import):
                used.update(a.name.split(".")[1] for a in node.names if a.name.startswith("PySide6."))
    assert used, "the ui imports no Qt module?"
    assert not used & excluded, f"the spec excludes Qt modules the app imports: {sorted(used & excluded)}"


def test_spec_ships_models_resources_and_onnxruntime_providers():
    text = SPEC.read_text(encoding="utf-8")
    assert 'data_tree("models")' in text
    shipped = set(spec_literal("APP_RESOURCES"))
    assert "resources/linux" in shipped  # install-desktop-entry reads it from the bundle
    read = {f"resources/{name}" for path in (ROOT / "genart_desktop").rglob("*.py")
            for name in re.findall(r'resources_dir\(\) / "([^"]+)"', path.read_text(encoding="utf-8"))}
    assert read and read <= shipped, f"resource folders the app reads but the bundle leaves out: {read - shipped}"
    assert 'collect_dynamic_libs("onnxruntime")' in text
    assert (ROOT / "packaging" / "genart_entry.py").is_file()


def test_spec_analysis_inputs(monkeypatch):
    """Run the spec with PyInstaller's build steps replaced by recorders and check what it would feed them."""
    pytest.importorskip("PyInstaller")
    recorded: dict[str, tuple] = {}

    def recorder(kind):
        def record(*args, **kwargs):
            recorded[kind] = (args, kwargs)
            return SimpleNamespace(pure=[], scripts=[], binaries=[], datas=[])
        return record

    namespace = {"SPECPATH": str(SPEC.parent), "__file__": str(SPEC)}
    namespace.update({kind: recorder(kind) for kind in ("Analysis", "PYZ", "EXE", "COLLECT")})
    exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), namespace)  # noqa: S102 - our own spec

    args, kwargs = recorded["Analysis"]
    assert Path(args[0][0]).name == "genart_entry.py"
    hidden = set(kwargs["hiddenimports"])
    assert {"genart_desktop.cli.selftest", "genart_desktop.cli.models", "genart_desktop.ui.main_window"} <= hidden
    assert not any(name.startswith("genart_desktop.training") for name in hidden)
    datas = {(Path(src).relative_to(ROOT).as_posix(), dest) for src, dest in kwargs["datas"]}
    assert ("resources/icons/app.svg", "resources/icons") in datas
    assert ("resources/help/quick-start.html", "resources/help") in datas
    assert not any(src.startswith(("resources/samples/", "resources/screenshots/")) for src, _ in datas)
    model_files = [p for p in (ROOT / "models").rglob("*") if p.is_file() and not p.name.endswith(".tmp")]
    for path in model_files:
        assert (path.relative_to(ROOT).as_posix(), path.parent.relative_to(ROOT).as_posix()) in datas
    assert not any(src.endswith(".tmp") or "__pycache__" in src for src, _ in datas)
    binaries = [Path(src).name for src, _ in kwargs["binaries"]]
    assert any(name.startswith("libonnxruntime_providers_shared") or name == "onnxruntime_providers_shared.dll"
               for name in binaries)
    assert set(kwargs["excludes"]) >= MUST_EXCLUDE
    assert recorded["EXE"][1]["name"] == "genart" and recorded["EXE"][1]["exclude_binaries"] is True
    assert "COLLECT" in recorded  # one-folder, not one-file


def test_linux_desktop_files_name_the_same_app():
    linux = ROOT / "resources" / "linux"
    app_id = "org.genart.GenArtDesktop"
    desktop = (linux / f"{app_id}.desktop").read_text(encoding="utf-8")
    assert f"Icon={app_id}\n" in desktop and "Exec=genart %f\n" in desktop
    meta = (linux / f"{app_id}.metainfo.xml").read_text(encoding="utf-8")
    assert f"<id>{app_id}</id>" in meta and f'<launchable type="desktop-id">{app_id}.desktop</launchable>' in meta
    for size in (16, 32, 48, 64, 128, 256, 512):
        png = linux / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{app_id}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (linux / "icons" / "hicolor" / "scalable" / "apps" / f"{app_id}.svg").is_file()


@pytest.mark.parametrize("tool, args, name", [
    ("appstreamcli", ["validate", "--no-net"], "org.genart.GenArtDesktop.metainfo.xml"),
    ("desktop-file-validate", [], "org.genart.GenArtDesktop.desktop"),
])
def test_linux_metadata_passes_the_freedesktop_validators(tool, args, name):
    program = shutil.which(tool)
    if program is None:
        pytest.skip(f"{tool} is not installed")
    result = subprocess.run([program, *args, str(ROOT / "resources" / "linux" / name)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


needs_bundle = pytest.mark.skipif(not PROGRAM.is_file(), reason="no bundle in dist/genart (run packaging/build)")


def run_bundle(*args: str, models: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("GENART_MODELS_DIR", "PYTHONPATH")}
    if models is not None:
        env["GENART_MODELS_DIR"] = str(models)
    return subprocess.run([str(PROGRAM), *args], cwd=BUNDLE.parent, env=env, capture_output=True, text=True,
                          timeout=300)


@needs_bundle
@pytest.mark.slow
def test_bundle_self_test_on_its_own_models():
    shipped = BUNDLE / "_internal" / "models"
    has_models = shipped.is_dir() and any(p.is_dir() for p in shipped.iterdir())
    result = run_bundle("self-test", *([] if has_models else ["--allow-empty"]))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS  window:" in result.stdout and "PASS  no torch:" in result.stdout


@needs_bundle
@pytest.mark.slow
def test_bundle_runs_every_model_family(tmp_path):
    write_all_families(tmp_path)
    result = run_bundle("self-test", models=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    for family, model_id in FAMILY_IDS.items():
        assert f"PASS  model {model_id} ({family})" in result.stdout
    assert "(bundle " in result.stdout  # it really ran frozen, not from the source tree


@needs_bundle
def test_bundle_holds_no_torch_and_has_its_data():
    internal = BUNDLE / "_internal"
    assert not [p for p in BUNDLE.rglob("*") if "torch" in p.name.lower()]
    assert (internal / "resources" / "icons" / "app.svg").is_file()
    assert (internal / "resources" / "linux" / "org.genart.GenArtDesktop.desktop").is_file()
    assert list((internal / "onnxruntime" / "capi").glob("libonnxruntime_providers_shared*"))
    qt_extensions = {p.name.split(".")[0] for p in (internal / "PySide6").glob("Qt*.so")}
    assert APP_QT_MODULES <= qt_extensions
    assert not qt_extensions & {"QtNetwork", "QtQml", "QtQuick", "QtSql", "QtTest"}  # Qt modules the app never uses


@needs_bundle
def test_bundle_archive_has_the_app_but_not_training_or_torch():
    readers = pytest.importorskip("PyInstaller.archive.readers")
    program = readers.CArchiveReader(str(PROGRAM))
    pyz = program.open_embedded_archive(next(name for name in program.toc if name.endswith(".pyz")))
    modules = set(pyz.toc)
    assert {"genart_desktop.cli.selftest", "genart_desktop.ui.main_window", "onnxruntime", "PySide6", "numpy",
            "PIL.Image", "platformdirs"} <= modules
    roots = {name.split(".")[0] for name in modules}
    assert not roots & {"torch", "torchvision", "diffusers", "transformers", "tests", "pytest"}
    assert not [name for name in modules if name.startswith("genart_desktop.training")]


@needs_bundle
def test_bundle_desktop_entry_installs_and_removes(tmp_path):
    script = BUNDLE / "install-desktop-entry"
    if not script.is_file():
        pytest.skip("this bundle was not made by packaging/build (no install-desktop-entry)")
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path))
    subprocess.run([str(script)], env=env, check=True, capture_output=True, timeout=60)
    desktop = (tmp_path / "applications" / "org.genart.GenArtDesktop.desktop").read_text(encoding="utf-8")
    assert f'Exec="{PROGRAM}" %f' in desktop
    assert (tmp_path / "icons" / "hicolor" / "256x256" / "apps" / "org.genart.GenArtDesktop.png").is_file()
    assert (tmp_path / "metainfo" / "org.genart.GenArtDesktop.metainfo.xml").is_file()
    subprocess.run([str(script), "--remove"], env=env, check=True, capture_output=True, timeout=60)
    assert not (tmp_path / "applications" / "org.genart.GenArtDesktop.desktop").exists()
    assert not list((tmp_path / "icons").rglob("org.genart.GenArtDesktop.*"))
