"""Fixtures for the window tests: a main window without a model registry and recorded dialogs."""

from __future__ import annotations

import pytest

from genart_desktop.ui import dialogs


class DialogRecorder:
    """Stands in for every dialog in :mod:`genart_desktop.ui.dialogs`; tests queue the answers."""

    def __init__(self):
        self.errors: list[tuple[str, str]] = []
        self.asked: list[str] = []
        self.open_paths: list = []
        self.save_paths: list = []
        self.unsaved_answers: list[str] = []
        self.recover_answers: list[str] = []
        self.work_answers: list[str] = []
        self.directories: list[str] = []
        self.new_specs: list = []

    def install(self, monkeypatch):
        monkeypatch.setattr(dialogs, "ask_open_path", self._open)
        monkeypatch.setattr(dialogs, "ask_save_path", self._save)
        monkeypatch.setattr(dialogs, "ask_unsaved_changes", self._unsaved)
        monkeypatch.setattr(dialogs, "ask_recover", self._recover)
        monkeypatch.setattr(dialogs, "ask_unsaved_work", self._work)
        monkeypatch.setattr(dialogs, "show_error", self._error)
        monkeypatch.setattr(dialogs, "ask_new_document", self._new)
        monkeypatch.setattr(dialogs, "ask_feather_radius", lambda parent: 4)
        return self

    def _open(self, parent, title, file_filter, directory=""):
        self.asked.append(f"open:{title}")
        self.directories.append(directory)
        return str(self.open_paths.pop(0)) if self.open_paths else None

    def _save(self, parent, title, file_filter, suggested=""):
        self.asked.append(f"save:{title}")
        return str(self.save_paths.pop(0)) if self.save_paths else None

    def _unsaved(self, parent, name):
        self.asked.append(f"unsaved:{name}")
        return self.unsaved_answers.pop(0) if self.unsaved_answers else "cancel"

    def _work(self, parent, description):
        self.asked.append(f"work:{description}")
        return self.work_answers.pop(0) if self.work_answers else "cancel"

    def _recover(self, parent, description):
        self.asked.append(f"recover:{description}")
        return self.recover_answers.pop(0) if self.recover_answers else "later"

    def _error(self, parent, title, message):
        self.errors.append((title, message))

    def _new(self, parent):
        self.asked.append("new")
        return self.new_specs.pop(0) if self.new_specs else None


REAL_SHOW_EXPORTED = dialogs.show_exported


@pytest.fixture(autouse=True)
def exports_confirmed_without_a_modal(monkeypatch):
    """A finished export's confirmation box would wait for a click: record it instead (every ui test)."""
    shown: list = []
    monkeypatch.setattr(dialogs, "show_exported", lambda parent, message, folder: shown.append((message, folder)))
    return shown


@pytest.fixture
def answers(monkeypatch):
    return DialogRecorder().install(monkeypatch)


@pytest.fixture
def window(qtbot, answers):
    from genart_desktop.ui.main_window import MainWindow

    win = MainWindow(registry=None, settings={"autosave_minutes": 3})
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    if win.document is not None:
        win.document.mark_clean()  # let teardown close the window without questions
    win.close()
