"""The Diffusion dock's layout at 1440x900: the essential settings and actions are in view without scrolling, the
sections used now and then (Regions, Control, Placement) are folded until used, and the ones the user left open
come back with the window's preferences."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QScrollArea

from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect
from genart_desktop.ui.ai_panels import install_ai_panels
from genart_desktop.ui.main_window import MainWindow
from genart_desktop.ui.preferences import Preferences
from tests.ui.test_diffusion_panel import choose, model_root


def dock(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setenv("GENART_MODELS_DIR", str(model_root(tmp_path)))
    window.resize(1440, 900)
    panel = install_dock(window)
    choose(panel, "tiny-text")
    qtbot.wait(50)  # the new dock joins its tab group before it can be raised there
    window.docks["Diffusion"].raise_()
    qtbot.waitUntil(lambda: window.docks["Diffusion"].geometry().top() >= 0)
    return panel


def install_dock(window):
    install_ai_panels(window)  # every dock of the app, the Jobs dock across the bottom too, as the user sees them
    window.set_document(Document(64, 48))
    return window.diffusion_panel


def essentials(panel):
    return (panel.model_combo, panel.prompt_edit, panel.negative_edit, panel.steps_spin, panel.guidance_spin,
            panel.sampler_combo, panel.seed_control, panel.strength, panel.generate_button, panel.canvas_button,
            panel.inpaint_button)


def in_view(panel, widget) -> bool:
    """Whether all of ``widget`` shows in the dock's scroll area as it is scrolled now."""
    viewport = panel.findChild(QScrollArea).viewport()
    return viewport.rect().contains(QRect(widget.mapTo(viewport, QPoint(0, 0)), widget.size()))


def sections(panel):
    return panel.regions_box, panel.control_box, panel.placement_section


def test_the_essentials_are_in_view_at_1440x900_with_every_section_open(qtbot, window, tmp_path, monkeypatch):
    panel = dock(qtbot, window, tmp_path, monkeypatch)
    assert (window.width(), window.height()) == (1440, 900)
    for widget in essentials(panel):
        assert widget.isVisible() and in_view(panel, widget), widget.objectName() or type(widget).__name__
    assert not in_view(panel, panel.history_list)  # the check can fail: the history lies below the fold
    live = panel.live_button  # in the bar under the scroll area, with Accept and Discard
    assert live.isVisible() and not live.visibleRegion().isEmpty()
    assert live.mapTo(window, live.rect().bottomLeft()).y() <= window.height()
    for section in sections(panel):
        section.set_expanded(True)
    qtbot.wait(10)
    assert all(in_view(panel, widget) for widget in essentials(panel))  # the sections open below them


def test_sections_are_folded_until_a_region_is_added(qtbot, window, tmp_path, monkeypatch):
    panel = dock(qtbot, window, tmp_path, monkeypatch)
    for section in sections(panel):
        assert not section.is_expanded() and not section.body.isVisible() and section.header.isVisible()
    assert panel.regions_box.header.text() == "Regions"
    feather = panel.controller.settings.feather
    assert panel.placement_section.header.text() == f"Placement: Fit inside, feather {feather} px"
    panel.feather_spin.setValue(6)
    panel.keep_background_check.setChecked(True)
    assert panel.placement_section.summary() == "Fit inside, background kept, feather 6 px"

    window.document.select_rect(Rect(0, 0, 32, 24))
    assert panel.regions_box.add_from_selection()
    assert panel.regions_box.is_expanded() and panel.regions_box.body.isVisible()
    assert panel.regions_box.header.text() == "Regions: 1"
    panel.regions_box.set_expanded(False)  # the user folds it again: a rename does not reopen it
    window.document.regions.rename(0, "Sky")
    assert not panel.regions_box.is_expanded() and panel.regions_box.summary() == "1"
    window.document.undo()
    window.document.undo()
    assert panel.regions_box.summary() == "" and not panel.regions_box.is_expanded()


def test_a_clicked_section_scrolls_into_view(qtbot, window, tmp_path, monkeypatch):
    panel = dock(qtbot, window, tmp_path, monkeypatch)
    window.document.select_rect(Rect(0, 0, 32, 24))
    for _ in range(4):
        panel.regions_box.add_from_selection()
    qtbot.wait(10)
    assert not in_view(panel, panel.placement_section)  # pushed below the fold by the open Regions
    panel.placement_section.header.click()
    qtbot.waitUntil(lambda: in_view(panel, panel.placement_section))


def test_open_sections_come_back_with_the_preferences(qtbot, window, tmp_path, monkeypatch):
    panel = dock(qtbot, window, tmp_path, monkeypatch)
    panel.placement_section.header.click()
    preferences = Preferences(tmp_path / "window.ini")
    preferences.save(window)

    second = MainWindow(registry=None, settings={"autosave_minutes": 3})
    qtbot.addWidget(second)
    restored = install_dock(second)
    assert not restored.placement_section.is_expanded()
    preferences.restore(second)
    assert restored.placement_section.is_expanded() and not restored.regions_box.is_expanded()
    second.document.mark_clean()
