"""Item 3 of issue 22: nothing lost on quit or reopen, and what the app remembers between sessions."""

from __future__ import annotations

import numpy as np
import pytest

from genart_desktop.document.geometry import Rect
from genart_desktop.engine.pipelines.recipe import Recipe
from genart_desktop.ui.ai_panels import install_ai_panels
from genart_desktop.ui.main_window import MainWindow
from genart_desktop.ui.preferences import pictures_folder
from genart_desktop.workspace.diffusion_placement import Placement


def stage(window, count: int) -> None:
    controller = window.diffusion_panel.controller
    rng = np.random.default_rng(count)
    results = [(Recipe("tiny", seed=s, prompt="fox"), Placement(Rect(0, 0, 16, 16)), f"seed {s}",
                rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)) for s in range(count)]
    controller.adopt(results, [(r, p[..., :3]) for r, _pl, _l, p in results])


@pytest.fixture
def ai_window(window):
    install_ai_panels(window)
    return window


def test_closing_with_unaccepted_results_asks_and_save_keeps_them(qtbot, ai_window, answers, tmp_path):
    stage(ai_window, 5)
    assert not ai_window.close()  # "cancel": the window and the results stay
    assert answers.asked[-1].startswith("work:5 generated results are waiting")
    answers.work_answers.append("save")
    answers.save_paths.append(tmp_path / "fox.ora")
    assert ai_window.confirm_discard()
    assert (tmp_path / "fox.ora").is_file()
    ai_window.diffusion_panel.controller.adopt([], [])  # as a new session would start
    assert ai_window.open_file(tmp_path / "fox.ora", ask=False)
    controller = ai_window.diffusion_panel.controller
    assert len(controller.unaccepted) == 5 and len(controller.history) == 5
    assert ai_window.diffusion_panel.strip.count() == 5  # the strip shows them again
    assert ai_window.confirm_discard()  # saved in the file: nothing to ask


def test_discarding_unaccepted_results_closes(qtbot, ai_window, answers):
    stage(ai_window, 2)
    answers.work_answers.append("discard")
    assert ai_window.confirm_discard()


def test_layout_brush_colours_recent_files_and_folders_come_back(qtbot, window, answers, tmp_path):
    assert answers.directories == [] and not window.open_file(ask=False)
    assert answers.directories[-1] == str(pictures_folder())  # the first dialog starts in Pictures
    window.controller.set_brush(size=123.0, hardness=0.4)
    window.color_panel.remember((10, 20, 30))
    window.color_panel.set_color((200, 100, 50))
    window.docks["Layers"].hide()
    window.save_to(tmp_path / "a.ora")
    window.close()

    second = MainWindow(registry=None, settings={"autosave_minutes": 3})
    qtbot.addWidget(second)
    second.restore_preferences()
    second.show()
    assert second.controller.brush.size == 123.0 and second.controller.brush.hardness == pytest.approx(0.4)
    assert second.tools_panel.size.value() == 123
    assert second.controller.color == (200, 100, 50) and (10, 20, 30) in second.color_panel.recent_colors
    assert not second.docks["Layers"].isVisible()
    assert [a.toolTip() for a in second.recent_menu.actions()] == [str((tmp_path / "a.ora").absolute())]
    second.open_file(ask=False)
    assert answers.directories[-1] == str(tmp_path)  # dialogs start in the last folder used
    second.recent_menu.actions()[0].trigger()
    assert second.files.path == (tmp_path / "a.ora").absolute()
    second.close()


def test_damaged_preferences_are_ignored(qtbot, window):
    window.preferences.store.setValue("tools/brush", "{not json")
    window.preferences.store.setValue("tools/color", "[1, 2]")
    window.preferences.store.setValue("window/state", "garbage")
    before = (window.controller.brush.size, window.controller.color)
    window.restore_preferences()
    assert (window.controller.brush.size, window.controller.color) == before
