"""Item 6 of issue 22: the Latent Explorer names its directions, shows bookmark thumbnails, says what breeding needs
before its tab is opened, labels an encoded image rightly, resets the Animate preview on a model switch and confirms
an export with "Show in folder"."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices

from genart_desktop.document.geometry import Rect
from genart_desktop.engine.latent import animation
from genart_desktop.engine.latent.bookmarks import BookmarkLibrary
from genart_desktop.ui import dialogs
from genart_desktop.ui.latent_explorer import LatentExplorerPanel
from tests.ui.test_latent_explorer import (  # noqa: F401 - fixtures
    bookmark_seeds, choose_model, doc, models, panel, settle, workspace,
)


def test_principal_directions_can_be_named_and_the_names_stay_with_the_model(qtbot, panel, workspace, doc, tmp_path,
                                                                            monkeypatch):
    tab = panel.directions
    assert tab.sliders._layout.itemAtPosition(0, 0).widget().text() == "PC 1"
    monkeypatch.setattr(dialogs, "ask_text", lambda *a, **k: "smile")
    tab.sliders._layout.itemAtPosition(0, 3).widget().click()  # the pencil
    assert tab.sliders._layout.itemAtPosition(0, 0).widget().text() == "smile"
    choose_model(qtbot, panel, "tiny-vae")
    assert tab.sliders._layout.itemAtPosition(0, 0).widget().text() == "PC 1"  # names belong to one model
    later = LatentExplorerPanel(workspace, lambda: doc, library=BookmarkLibrary(tmp_path / "lib.json"))
    qtbot.addWidget(later)
    settle(qtbot, later)
    assert later.directions.sliders._layout.itemAtPosition(0, 0).widget().text() == "smile"  # a later session
    assert later.directions.rename("PC 1", "")  # an empty name puts the direction's own name back
    assert later.directions.sliders._layout.itemAtPosition(0, 0).widget().text() == "PC 1"
    later.shutdown()


def test_bookmarks_show_thumbnails_and_say_what_breeding_needs(qtbot, panel):
    assert "Tick two or more" in panel.bookmarks.hint.text()
    assert "tick two or more" in panel.tabs.tabToolTip(2)
    bookmark_seeds(qtbot, panel, [5, 6])
    qtbot.waitUntil(lambda: all(not panel.bookmarks.list.item(i).icon().isNull() for i in range(2)), timeout=10_000)


def test_an_encoded_image_is_labelled_as_encoded_without_a_stale_seed(qtbot, panel, doc):
    choose_model(qtbot, panel, "tiny-vae")
    seed_before = panel.controller.state.seed
    assert seed_before is not None and panel.seed_spin.value() == seed_before
    doc.add_layer("painting", np.full((8, 8, 4), 200, np.uint8), origin=(20, 10))
    doc.select_rect(Rect(20, 10, 8, 8))
    panel.canvas.source.setCurrentIndex(panel.canvas.source.findData("selection"))
    panel.canvas.encode_button.click()
    settle(qtbot, panel)
    assert panel.seed_label.text() == "Encoded from the canvas (no seed)"
    assert panel.seed_spin.value() == -1 and panel.seed_spin.text() == "none"
    panel.use_seed()
    assert "Type a seed" in panel.status.text()


def test_switching_models_resets_the_animate_preview(qtbot, panel):
    panel.tick_bookmarks(bookmark_seeds(qtbot, panel, [1, 2]))
    panel.tabs.setCurrentIndex(3)
    panel.animate.scrubber.setValue(400)
    settle(qtbot, panel)
    assert panel.animate.scrub_image is not None
    choose_model(qtbot, panel, "tiny-vae")
    assert panel.animate.scrub_image is None and panel.animate.scrubber.value() == 0
    pixmap = panel.animate.preview.pixmap()
    assert pixmap is None or pixmap.isNull()


def test_an_export_is_confirmed_with_show_in_folder(qtbot, panel, tmp_path, monkeypatch,
                                                   exports_confirmed_without_a_modal):
    panel.tick_bookmarks(bookmark_seeds(qtbot, panel, [1, 2]))
    panel.animate.frames.setValue(3)
    panel.animate.width_spin.setValue(16)
    panel.animate.export_to(tmp_path / "walk.gif", animation.GIF)
    settle(qtbot, panel)
    assert exports_confirmed_without_a_modal == [("Exported walk.gif.", tmp_path)]
    assert panel.animate.last_export == tmp_path / "walk.gif"


def test_the_confirmation_box_opens_the_folder(qtbot, monkeypatch, tmp_path):
    """The real box: its "Show in Folder" button asks the desktop to open the folder."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from tests.ui.conftest import REAL_SHOW_EXPORTED as real  # the autouse fixture replaced the box
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)

    def click_show() -> None:
        box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
        assert "Show in Folder" in [b.text() for b in box.buttons()]
        next(b for b in box.buttons() if b.text() == "Show in Folder").click()

    QTimer.singleShot(50, click_show)
    real(None, "Exported walk.gif.", tmp_path)
    assert opened == [QUrl.fromLocalFile(str(tmp_path))]
