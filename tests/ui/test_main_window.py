"""The main window: docks, menus and standard shortcuts, status bar, files, close prompt, autosave and recovery."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel
from PIL import Image

from genart_desktop.core.paths import autosave_dir
from genart_desktop.document.autosave import AutosaveStore
from genart_desktop.document.document import Document
from genart_desktop.document.io.ora import load_ora, save_ora
from genart_desktop.ui.new_document_dialog import NewDocumentDialog, NewDocumentSpec
from tests.ui.helpers import mouse_stroke

ROOT = Path(__file__).resolve().parents[2]


def paint_something(window):
    window.canvas.set_view(zoom=0.25, center=(960, 540))
    mouse_stroke(window.canvas, [(400, 400), (1200, 600)])
    assert window.document.dirty


def test_building_the_main_window_never_imports_torch(tmp_path):
    script = textwrap.dedent("""
        import sys
        from genart_desktop.ui.app import ensure_application, create_main_window
        app = ensure_application([])
        window = create_main_window()
        window.show()
        app.processEvents()
        loaded = sorted(name for name in sys.modules if name == "torch" or name.startswith("torch."))
        assert not loaded, loaded
        assert "genart_desktop.training" not in sys.modules
        assert window.provider_label is not None and window.provider_label.text()
        print("OK", window.provider_label.text())
    """)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GENART_HOME=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout


def test_docks_menus_and_window_menu(window):
    assert {"Tools", "Colour", "Layers"} <= set(window.docks)
    listed = [action.text() for action in window.window_menu.actions()]
    assert {"Tools", "Colour", "Layers"} <= set(listed)
    dock = window.add_panel(QLabel("jobs here"), "Jobs", Qt.DockWidgetArea.BottomDockWidgetArea)
    assert "Jobs" in [action.text() for action in window.window_menu.actions()]
    assert window.dockWidgetArea(dock) == Qt.DockWidgetArea.BottomDockWidgetArea
    tabbed = window.add_panel(QLabel("styles"), "Style Palette", tabify_with="Layers")
    QApplication.processEvents()
    assert tabbed in window.tabifiedDockWidgets(window.docks["Layers"])
    dock.toggleViewAction().trigger()
    assert not dock.isVisible()
    menus = [action.text().replace("&", "") for action in window.menuBar().actions()]
    assert menus[:6] == ["File", "Edit", "View", "Layer", "Tools", "Window"]


@pytest.mark.parametrize("name, key", [
    ("new", QKeySequence.StandardKey.New), ("open", QKeySequence.StandardKey.Open),
    ("save", QKeySequence.StandardKey.Save), ("save_as", QKeySequence.StandardKey.SaveAs),
    ("undo", QKeySequence.StandardKey.Undo), ("redo", QKeySequence.StandardKey.Redo),
    ("zoom_in", QKeySequence.StandardKey.ZoomIn), ("zoom_out", QKeySequence.StandardKey.ZoomOut),
])
def test_standard_shortcuts(window, name, key):
    expected = QKeySequence.keyBindings(key)
    assert expected, name
    assert window.actions[name].shortcuts()[0] == expected[0]


def test_fit_and_actual_pixels_shortcuts(window):
    assert window.actions["fit"].shortcut() == QKeySequence("Ctrl+0")
    assert window.actions["actual"].shortcut() == QKeySequence("Ctrl+1")
    window.actions["actual"].trigger()
    assert window.canvas.zoom == 1.0
    assert window.zoom_label.text() == "100 %"
    window.actions["zoom_in"].trigger()
    assert window.zoom_label.text() == "150 %"
    window.actions["fit"].trigger()
    assert window.canvas.zoom < 1.0


def test_keyboard_undo_redo_and_title(window):
    paint_something(window)
    assert window.isWindowModified()
    layer = window.document.layers[-1]
    painted = layer.pixels.copy()
    window.canvas.setFocus()
    QTest.keySequence(window, QKeySequence(QKeySequence.StandardKey.Undo))
    assert (layer.pixels == 255).all()
    assert not window.isWindowModified()
    QTest.keySequence(window, QKeySequence(QKeySequence.StandardKey.Redo))
    assert np.array_equal(layer.pixels, painted)
    assert "Untitled" in window.windowTitle()


def test_status_bar_shows_cursor_position_and_zoom(window):
    window.canvas.set_view(zoom=1.0, center=(960, 540))
    point = window.canvas.map_from_canvas(970.5, 560.5)
    QTest.mouseMove(window.canvas, QPoint(int(point.x()), int(point.y())))
    assert window.position_label.text() == "970, 560"
    window.canvas.zoom_to(2.0)
    assert window.zoom_label.text() == "200 %"
    assert window.size_label.text() == "1920 \u00d7 1080"


def test_provider_status_label_is_in_status_bar(qtbot, answers):
    from genart_desktop.engine.registry import ModelRegistry
    from genart_desktop.ui.main_window import MainWindow

    registry = ModelRegistry(roots=[])
    win = MainWindow(registry=registry, settings={"autosave_minutes": 3})
    qtbot.addWidget(win)
    assert win.provider_label is not None
    assert win.provider_label in win.statusBar().findChildren(QLabel)
    assert "0 models" in win.provider_label.text()


def test_new_document_dialog_presets(qtbot):
    dialog = NewDocumentDialog()
    qtbot.addWidget(dialog)
    dialog.preset.setCurrentIndex(1)
    assert dialog.spec().width == 1024 and dialog.spec().height == 1024
    dialog.width_box.setValue(777)
    assert dialog.preset.currentData() is None  # "Custom"
    dialog.background.setCurrentIndex(dialog.background.findText("Transparent"))
    assert dialog.spec() == NewDocumentSpec(777, 1024, None)


def test_new_document_asks_about_unsaved_changes(window, answers):
    paint_something(window)
    old = window.document
    answers.unsaved_answers.append("cancel")
    assert not window.new_document()
    assert window.document is old
    answers.unsaved_answers.append("discard")
    answers.new_specs.append(NewDocumentSpec(320, 200, None))
    assert window.new_document()
    assert (window.document.width, window.document.height) == (320, 200)
    assert window.document.layers[0].pixels[..., 3].max() == 0
    assert window.size_label.text() == "320 \u00d7 200"
    assert window.layers_panel.list.count() == 1


def test_save_and_open_ora_round_trip(window, answers, tmp_path):
    paint_something(window)
    window.layers_panel.add_layer()
    window.document.set_layer_property(1, name="Ink", opacity=0.5, blend_mode="multiply")
    target = tmp_path / "painting"  # the .ora extension is added
    answers.save_paths.append(target)
    assert window.save()
    saved = tmp_path / "painting.ora"
    assert saved.is_file() and not window.document.dirty
    assert window.windowTitle().startswith("painting.ora")
    composite = window.document.composite().copy()
    window.save()  # a second Save writes to the same file without asking
    assert answers.asked.count("save:Save As") == 1
    answers.new_specs.append(NewDocumentSpec(64, 64, (255, 255, 255, 255)))
    window.new_document()
    answers.open_paths.append(saved)
    assert window.open_file()
    doc = window.document
    assert [layer.name for layer in doc.layers] == ["Background", "Ink"]
    assert doc.layers[1].opacity == pytest.approx(0.5, abs=0.01) and doc.layers[1].blend_mode == "multiply"
    assert np.array_equal(doc.composite(), composite)
    assert window.layers_panel.list.item(0).text() == "Ink"


def test_bad_files_show_an_error_and_change_nothing(window, answers, tmp_path):
    paint_something(window)
    window.document.mark_clean()
    doc = window.document
    broken = tmp_path / "broken.ora"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    assert not window.open_file(broken)
    assert not window.open_file(tmp_path / "missing.png")
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    assert not window.open_as_layer(junk)
    assert len(answers.errors) == 3
    assert all(message for _title, message in answers.errors)
    assert window.document is doc and len(doc.layers) == 1 and not doc.can_redo
    answers.save_paths.append(tmp_path / "no-such-folder" / "x.ora")
    assert not window.save_as()
    assert len(answers.errors) == 4 and doc.path is None


def test_open_image_as_document_and_as_layer_and_drop(window, answers, tmp_path):
    image = np.zeros((40, 60, 3), np.uint8)
    image[..., 1] = 180
    formats = {"png": "PNG", "jpg": "JPEG", "webp": "WEBP", "tif": "TIFF", "bmp": "BMP"}
    for ext, fmt in formats.items():
        Image.fromarray(image).save(tmp_path / f"green.{ext}", fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    assert window.open_file(tmp_path / "green.tif")
    assert (window.document.width, window.document.height) == (60, 40)
    assert window.windowTitle().startswith("green.tif")
    answers.new_specs.append(NewDocumentSpec(100, 100, (255, 255, 255, 255)))
    window.new_document()
    answers.open_paths.append(tmp_path / "green.png")
    assert window.open_as_layer()
    doc = window.document
    assert len(doc.layers) == 2 and doc.layers[1].name == "green"
    assert tuple(doc.layers[1].pixels[50, 50]) == (0, 180, 0, 255)  # centred
    assert doc.layers[1].pixels[5, 5, 3] == 0
    doc.undo()
    assert len(doc.layers) == 1

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "green.webp")), QUrl.fromLocalFile(str(tmp_path / "green.bmp"))])
    event = QDropEvent(QPointF(200, 200), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    assert [layer.name for layer in doc.layers] == ["Background", "green", "green"]


def test_export_flat_images(window, answers, tmp_path):
    paint_something(window)
    composite = window.document.composite()
    assert window.export_image(tmp_path / "flat.png")
    exported = np.asarray(Image.open(tmp_path / "flat.png").convert("RGBA"))
    assert np.array_equal(exported, composite)
    answers.save_paths.append(tmp_path / "flat.jpg")
    assert window.export_image()
    assert Image.open(tmp_path / "flat.jpg").format == "JPEG"
    assert window.export_image(tmp_path / "flat.webp")
    assert window.document.dirty, "exporting does not save the layered document"
    assert window.document.path is None


def test_close_prompt(window, answers, tmp_path):
    paint_something(window)
    answers.unsaved_answers.append("cancel")
    assert not window.close()
    assert window.isVisible()
    answers.unsaved_answers.append("save")
    answers.save_paths.append(tmp_path / "closing.ora")
    assert window.close()
    assert (tmp_path / "closing.ora").is_file()
    assert load_ora(tmp_path / "closing.ora").layers[0].pixels[..., 0].min() < 255


def test_close_discard_without_saving(window, answers):
    paint_something(window)
    answers.unsaved_answers.append("discard")
    assert window.close()
    assert answers.asked[-1] == "unsaved:Untitled"


def test_clean_document_closes_without_asking(window, answers):
    assert window.close()
    assert not [a for a in answers.asked if a.startswith("unsaved")]


def test_autosave_writes_snapshots_and_a_clean_close_removes_them(window, answers):
    scheduler = window.autosave
    assert scheduler.interval_s == 180
    assert not window.autosave_tick()  # nothing changed yet
    paint_something(window)
    assert not scheduler.tick(now=scheduler._last + 10)  # not due yet
    assert scheduler.tick(now=scheduler._last + 181)
    snapshot = autosave_dir() / f"{scheduler.doc_id}.ora"
    assert snapshot.is_file()
    assert np.array_equal(load_ora(snapshot).composite(), window.document.composite())
    answers.unsaved_answers.append("discard")
    assert window.close()
    assert not snapshot.exists()


def test_recovery_is_offered_after_a_crash(qtbot, answers, tmp_path):
    from genart_desktop.ui.main_window import MainWindow

    crashed = Document(80, 50)
    crashed.add_layer("Sketch", pixels=np.full((10, 10, 4), 200, np.uint8), origin=(5, 5))
    crashed.path = tmp_path / "sketch.ora"
    AutosaveStore(autosave_dir()).write(crashed, "crashedsession")

    later = MainWindow(registry=None, settings={"autosave_minutes": 3})
    qtbot.addWidget(later)
    answers.recover_answers.append("later")
    assert not later.offer_recovery()
    assert "sketch.ora" in answers.asked[-1]

    answers.recover_answers.append("recover")
    assert later.offer_recovery()
    doc = later.document
    assert [layer.name for layer in doc.layers] == ["Background", "Sketch"]
    assert doc.dirty and doc.path == tmp_path / "sketch.ora"
    assert np.array_equal(doc.composite(), crashed.composite())
    pending = AutosaveStore(autosave_dir()).pending()
    assert [entry.doc_id for entry in pending] == [later.autosave.doc_id]  # re-protected under the new session
    doc.mark_clean()
    later.close()


def test_recovery_can_be_discarded(qtbot, answers):
    from genart_desktop.ui.main_window import MainWindow

    AutosaveStore(autosave_dir()).write(Document(20, 20), "oldsession")
    win = MainWindow(registry=None, settings={"autosave_minutes": 3})
    qtbot.addWidget(win)
    answers.recover_answers.append("discard")
    assert not win.offer_recovery()
    assert AutosaveStore(autosave_dir()).pending() == []
    assert not win.offer_recovery()  # nothing left to offer


def test_hostile_autosave_notes_neither_crash_recovery_nor_block_opening(qtbot, answers, tmp_path):
    from genart_desktop.ui.main_window import MainWindow

    folder = autosave_dir()
    AutosaveStore(folder).write(Document(20, 20), "good")
    for name, saved_at in (("huge", 1e300), ("negative", -1.0)):
        (folder / f"{name}.json").write_text(f'{{"saved_at": {saved_at}}}')
        (folder / f"{name}.ora").write_bytes((folder / "good.ora").read_bytes())
    os.mkfifo(folder / "pipe.json")
    (folder / "pipe.ora").write_bytes((folder / "good.ora").read_bytes())
    win = MainWindow(registry=None, settings={"autosave_minutes": 3})
    qtbot.addWidget(win)
    answers.recover_answers.append("later")
    assert not win.offer_recovery()
    assert len(answers.asked) == 1 and answers.asked[0].startswith("recover:\u201cUntitled\u201d, autosaved 20")
    assert "older" not in answers.asked[0], "only the good snapshot is offered"
    save_ora(Document(30, 20), tmp_path / "start.ora")
    assert win.open_file(tmp_path / "start.ora") and win.document.width == 30
    assert not answers.errors


RUN_APP_SCRIPT = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from genart_desktop.ui import app as app_module
from genart_desktop.ui.main_window import MainWindow

seen = {}

def check_and_quit():
    windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
    if not windows or windows[0].document.path is None:
        QTimer.singleShot(50, check_and_quit)
        return
    seen["path"] = windows[0].document.path
    windows[0].close()
    QApplication.instance().quit()

real_create = app_module.create_main_window

def create_and_watch(registry=None):
    window = real_create(registry)
    QTimer.singleShot(50, check_and_quit)  # the QApplication exists by now
    return window

app_module.create_main_window = create_and_watch
code = app_module.run_app(["--no-recovery", sys.argv[1]])
print("EXIT", code, "OPENED", seen.get("path"))
"""


def test_run_app_opens_file_and_returns_exit_code(tmp_path):
    # In a child process: QApplication.exec() may run only once per process, and after it returns the test
    # process's later event loops starve worker threads.
    import os
    import subprocess
    import sys

    doc = Document(30, 20)
    save_ora(doc, tmp_path / "start.ora")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GENART_MODELS_DIR=str(tmp_path / "no-models"))
    result = subprocess.run([sys.executable, "-c", RUN_APP_SCRIPT, str(tmp_path / "start.ora")], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"EXIT 0 OPENED {tmp_path / 'start.ora'}" in result.stdout
