"""The main window: the canvas in the middle, docks around it, menus, shortcuts, the status bar and file handling.

The window adapts the document, the tool controller and the file controller
(:class:`~genart_desktop.workspace.files.FileController`, which does all reading and writing); it asks the user
questions only through :mod:`genart_desktop.ui.dialogs` so tests can answer them.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QMainWindow, QMenu, QWidget

from genart_desktop.core.errors import GenArtError
from genart_desktop.core.settings import load_settings
from genart_desktop.document.document import Document
from genart_desktop.ui import dialogs
from genart_desktop.ui.canvas_view import CanvasView
from genart_desktop.ui.color_panel import ColorPanel
from genart_desktop.ui.icons import icon
from genart_desktop.ui.layers_panel import LayersPanel
from genart_desktop.ui.tools_panel import TOOL_SHORTCUTS, ToolsPanel
from genart_desktop.ui.preferences import Preferences, pictures_folder
from genart_desktop.ui.wheel_guard import install_wheel_guard
from genart_desktop.workspace.autosave import AutosaveScheduler
from genart_desktop.workspace.files import FileController, is_openable, shown_name
from genart_desktop.workspace.tools import Tool, ToolController

APP_TITLE = "GenArt Desktop"
DEFAULT_SIZE = (1920, 1080)
_PAINT_HINT = "[ and ] change the size \u00b7 Space-drag or middle button pans \u00b7 wheel zooms, Shift+wheel rotates"
_SELECT_HINT = "Shift adds \u00b7 Alt subtracts \u00b7 a click without dragging deselects"
TOOL_HINTS = {
    Tool.BRUSH: _PAINT_HINT, Tool.ERASER: _PAINT_HINT, Tool.SELECT_BRUSH: _SELECT_HINT,
    Tool.PICKER: "click or drag to take a colour from the canvas", Tool.FILL: "click to fill a similar region",
    Tool.SELECT_RECT: _SELECT_HINT + " \u00b7 Ctrl makes a square", Tool.SELECT_ELLIPSE: _SELECT_HINT
    + " \u00b7 Ctrl makes a circle", Tool.SELECT_LASSO: _SELECT_HINT, Tool.MOVE: "drag to move the active layer",
}


class MainWindow(QMainWindow):
    document_replaced = Signal(object)  # the new Document, after New/Open/recovery

    def __init__(self, registry=None, settings: dict | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        install_wheel_guard(QApplication.instance())  # every dock: the wheel changes only the focused control
        self.settings = dict(settings) if settings is not None else load_settings()
        self.registry = registry
        self.files = FileController(autosave_interval_s=float(self.settings.get("autosave_minutes", 3)) * 60.0)
        self.files.document_changed.connect(self._bind_document)
        self.files.path_changed.connect(lambda _path: self._update_title())
        self.files.recent_changed.connect(self._fill_recent_menu)
        self.preferences = Preferences()
        self._bound: Document | None = None
        self.controller = ToolController()
        self.controller.error.connect(self._show_status_error)

        self.canvas = CanvasView(self.controller)
        self.setCentralWidget(self.canvas)
        self.docks: dict[str, QDockWidget] = {}
        self.window_menu: QMenu | None = None
        self._build_menus()

        self.tools_panel = ToolsPanel(self.controller)
        self.color_panel = ColorPanel(self.controller)
        self.layers_panel = LayersPanel()
        self.layers_panel.error.connect(self._show_status_error)
        self.add_panel(self.tools_panel, "Tools", Qt.DockWidgetArea.LeftDockWidgetArea)
        self.add_panel(self.color_panel, "Colour", Qt.DockWidgetArea.RightDockWidgetArea)
        self.add_panel(self.layers_panel, "Layers", Qt.DockWidgetArea.RightDockWidgetArea)
        self.resizeDocks([self.docks["Tools"]], [250], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["Colour"]], [270], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["Colour"], self.docks["Layers"]], [225, 455], Qt.Orientation.Vertical)
        self.tools_panel.tool_changed.connect(self._tool_changed)
        self.controller.options_changed.connect(lambda _o: self.canvas.update())

        self._build_status_bar()
        self.canvas.zoom_changed.connect(self._show_zoom)
        self.canvas.rotation_changed.connect(lambda _r: self._show_zoom(self.canvas.zoom))
        self.canvas.cursor_moved.connect(self._show_cursor)
        self.canvas.gesture_finished.connect(self._gesture_finished)

        self._autosave_timer = QTimer(self)
        self._autosave_timer.setInterval(15_000)
        self._autosave_timer.timeout.connect(self.autosave_tick)
        if self.autosave.enabled:
            self._autosave_timer.start()

        self.setAcceptDrops(True)
        self.setWindowIcon(icon("app"))
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
                            | QMainWindow.DockOption.AllowNestedDocks)
        self.resize(1440, 900)
        self.files.new(*DEFAULT_SIZE)

    # ================================================================== panels
    def add_panel(self, widget: QWidget, title: str,
                  area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea,
                  tabify_with: str | None = None) -> QDockWidget:
        """Dock a panel and list it in the Window menu; ``tabify_with`` names a dock to share a tab group with."""
        dock = QDockWidget(title, self)
        dock.setObjectName("dock_" + re.sub(r"\W+", "_", title.lower()))
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        if tabify_with and tabify_with in self.docks:
            self.tabifyDockWidget(self.docks[tabify_with], dock)
        self.docks[title] = dock
        if self.window_menu is not None:
            self.window_menu.addAction(dock.toggleViewAction())
        return dock

    # ================================================================== actions and menus
    def _action(self, text: str, slot, shortcut=None, icon_name: str | None = None, menu: QMenu | None = None,
                tip: str | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            keys: list[QKeySequence] = []
            for item in shortcut if isinstance(shortcut, (list, tuple)) else [shortcut]:
                # a standard key expands to the platform's bindings (e.g. Redo is Ctrl+Shift+Z and Ctrl+Y)
                found = QKeySequence.keyBindings(item) if isinstance(item, QKeySequence.StandardKey) \
                    else [QKeySequence(item)]
                keys.extend(key for key in found if key not in keys)
            action.setShortcuts(keys)
        if icon_name:
            action.setIcon(icon(icon_name))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)  # shortcuts work even when the menu bar is hidden
        if menu is not None:
            menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        K = QKeySequence.StandardKey
        self.actions: dict[str, QAction] = {}
        a = self.actions
        a["new"] = self._action("&New\u2026", self.new_document, K.New, menu=file_menu)
        a["open"] = self._action("&Open\u2026", self.open_file, K.Open, menu=file_menu)
        a["open_layer"] = self._action("Open as &Layer\u2026", self.open_as_layer, "Ctrl+Shift+O", menu=file_menu)
        a["import_model"] = self._action("&Import Model\u2026", self.import_model, menu=file_menu)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self._fill_recent_menu([])
        file_menu.addSeparator()
        a["save"] = self._action("&Save", self.save, K.Save, menu=file_menu)
        a["save_as"] = self._action("Save &As\u2026", self.save_as, K.SaveAs, menu=file_menu)
        a["export"] = self._action("&Export Image\u2026", self.export_image, "Ctrl+Shift+E", menu=file_menu)
        file_menu.addSeparator()
        a["quit"] = self._action("&Quit", self.close, K.Quit, menu=file_menu)

        edit_menu = bar.addMenu("&Edit")
        a["undo"] = self._action("&Undo", self.undo, K.Undo, menu=edit_menu)
        a["redo"] = self._action("&Redo", self.redo, [K.Redo, "Ctrl+Y"], menu=edit_menu)
        edit_menu.addSeparator()
        a["copy"] = self._action("&Copy", lambda: self.copy_image(False), K.Copy, menu=edit_menu,
                                 tip="Copy the active layer inside the selection")
        a["copy_merged"] = self._action("Copy &Merged", lambda: self.copy_image(True), "Ctrl+Shift+C",
                                        menu=edit_menu, tip="Copy everything visible inside the selection")
        a["paste"] = self._action("&Paste as New Layer", self.paste_image, K.Paste, menu=edit_menu,
                                  tip="Paste the clipboard's image (from here or another program) as a new layer")
        edit_menu.addSeparator()
        a["select_all"] = self._action("Select &All", lambda: self._doc_op("select_all"), K.SelectAll,
                                       menu=edit_menu)
        a["deselect"] = self._action("&Deselect", lambda: self._doc_op("deselect"), "Ctrl+Shift+A", menu=edit_menu)
        a["invert"] = self._action("&Invert Selection", lambda: self._doc_op("invert_selection"), "Ctrl+Shift+I",
                                   menu=edit_menu)
        a["feather"] = self._action("&Feather Selection\u2026", self.feather_selection, "Shift+F6", menu=edit_menu)

        view_menu = bar.addMenu("&View")
        a["zoom_in"] = self._action("Zoom &In", self.canvas.zoom_in, [K.ZoomIn, "Ctrl+="],
                                    menu=view_menu)
        a["zoom_out"] = self._action("Zoom &Out", self.canvas.zoom_out, K.ZoomOut, menu=view_menu)
        a["fit"] = self._action("&Fit to Window", self.canvas.fit_to_view, "Ctrl+0", menu=view_menu)
        a["actual"] = self._action("&Actual Pixels (100 %)", self.canvas.actual_pixels, "Ctrl+1", menu=view_menu)
        view_menu.addSeparator()
        a["rotate_left"] = self._action("Rotate &Left", lambda: self.canvas.rotate_by(-15), "4", menu=view_menu)
        a["rotate_right"] = self._action("Rotate &Right", lambda: self.canvas.rotate_by(15), "6", menu=view_menu)
        a["rotate_reset"] = self._action("Reset Rotation", self.canvas.reset_rotation, "5", menu=view_menu)

        layer_menu = self.layer_menu = bar.addMenu("&Layer")  # AI installers add their layer actions here
        a["layer_new"] = self._action("&New Layer", lambda: self.layers_panel.add_layer(), "Ctrl+Shift+N",
                                      "layer_add", layer_menu)
        a["layer_duplicate"] = self._action("&Duplicate Layer", lambda: self.layers_panel.duplicate_layer(),
                                            "Ctrl+J", "layer_duplicate", layer_menu)
        a["layer_merge"] = self._action("&Merge Down", lambda: self.layers_panel.merge_down(), "Ctrl+E",
                                        "layer_merge", layer_menu)
        a["layer_delete"] = self._action("De&lete Layer", lambda: self.layers_panel.delete_layer(), None,
                                         "layer_delete", layer_menu)
        layer_menu.addSeparator()
        a["layer_up"] = self._action("Move Layer &Up", lambda: self.layers_panel.raise_layer(1), "Ctrl+]",
                                     "layer_up", layer_menu)
        a["layer_down"] = self._action("Move Layer Do&wn", lambda: self.layers_panel.raise_layer(-1), "Ctrl+[",
                                       "layer_down", layer_menu)
        layer_menu.addSeparator()
        a["layer_import"] = self._action("&Import Image as Layer\u2026", self.open_as_layer, None, menu=layer_menu)

        tools_menu = bar.addMenu("&Tools")
        group = QActionGroup(self)
        for tool in Tool:
            action = self._action(tool.label, lambda t=tool: self.tools_panel.select_tool(t), TOOL_SHORTCUTS[tool],
                                  tool.value, tools_menu)
            action.setCheckable(True)
            group.addAction(action)
            a[f"tool_{tool.value}"] = action
        tools_menu.addSeparator()
        a["brush_smaller"] = self._action("Smaller Brush", lambda: self._scale_brush(1 / 1.25), "[", menu=tools_menu)
        a["brush_bigger"] = self._action("Bigger Brush", lambda: self._scale_brush(1.25), "]", menu=tools_menu)
        tools_menu.addSeparator()
        a["train_model"] = self._action("&Train a Model\u2026", self.train_model, menu=tools_menu,
                                        tip="Make a style from a picture or fine-tune a model on your pictures")

        self.window_menu = bar.addMenu("&Window")
        help_menu = bar.addMenu("&Help")
        a["quick_start"] = self._action("&Quick Start", lambda: self.show_help("quick-start"), "F1", menu=help_menu)
        a["shortcuts"] = self._action("&Keyboard Shortcuts", lambda: self.show_help("shortcuts"), None,
                                      menu=help_menu)
        help_menu.addSeparator()
        a["about"] = self._action("&About GenArt Desktop", self._about, None, menu=help_menu)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.provider_label: QLabel | None = None
        if self.registry is not None:
            from genart_desktop.ui.provider_status import ProviderStatusLabel

            self.provider_label = ProviderStatusLabel(self.registry, self)
            bar.addPermanentWidget(self.provider_label)
        self.size_label = QLabel()
        self.position_label = QLabel()
        self.position_label.setMinimumWidth(110)
        self.zoom_label = QLabel()
        self.zoom_label.setMinimumWidth(70)
        for label in (self.size_label, self.position_label, self.zoom_label):
            bar.addPermanentWidget(label)

    # ================================================================== document binding
    @property
    def document(self) -> Document | None:
        return self.files.document

    @property
    def autosave(self) -> AutosaveScheduler:
        return self.files.autosave

    def set_document(self, document: Document) -> None:
        """Show ``document``; the previous one is dropped (callers ask about unsaved changes first)."""
        self.files.replace(document)

    def _bind_document(self, document: Document) -> None:
        """The file controller opened another document: point every view at it."""
        if self._bound is not None:
            self._bound.changed.disconnect(self._on_document_changed)
        self._bound = document
        document.changed.connect(self._on_document_changed)
        self.controller.set_document(document)
        self.canvas.set_document(document)
        self.layers_panel.set_document(document)
        self.size_label.setText(f"{document.width} \u00d7 {document.height}")
        self._update_title()
        self._update_actions()
        self.canvas.fit_to_view()
        self.document_replaced.emit(document)

    def _on_document_changed(self, change) -> None:
        if change.kind in ("history", "document", "selection", "layers", "active"):
            self._update_title()
            self._update_actions()

    def document_name(self) -> str:
        return self.files.display_name

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.document_name()}[*] \u2014 {APP_TITLE}")
        self.setWindowModified(bool(self.document is not None and self.document.dirty))

    def _update_actions(self) -> None:
        doc = self.document
        if doc is None:
            return
        undo_text, redo_text = doc.history.undo_text, doc.history.redo_text
        self.actions["undo"].setEnabled(doc.can_undo)
        self.actions["undo"].setText(f"&Undo {undo_text}" if doc.can_undo and undo_text else "&Undo")
        self.actions["redo"].setEnabled(doc.can_redo)
        self.actions["redo"].setText(f"&Redo {redo_text}" if doc.can_redo and redo_text else "&Redo")
        has_selection = not doc.selection.is_empty
        self.actions["deselect"].setEnabled(has_selection)
        self.actions["feather"].setEnabled(has_selection)
        self.actions["layer_merge"].setEnabled(doc.active_index > 0)
        self.actions["layer_delete"].setEnabled(len(doc.layers) > 1)

    # ================================================================== edit operations
    def _doc_op(self, name: str, *args) -> None:
        if self.document is None:
            return
        self.controller.cancel()
        try:
            getattr(self.document, name)(*args)
        except GenArtError as exc:
            self._show_status_error(str(exc))

    def undo(self) -> None:
        self._doc_op("undo")

    def redo(self) -> None:
        self._doc_op("redo")

    def feather_selection(self) -> None:
        if self.document is None or self.document.selection.is_empty:
            return
        radius = dialogs.ask_feather_radius(self)
        if radius:
            self._doc_op("feather_selection", radius)

    def _scale_brush(self, factor: float) -> None:
        size = min(500.0, max(1.0, round(self.controller.brush.size * factor)))
        if size == self.controller.brush.size:
            size = min(500.0, max(1.0, size + (1 if factor > 1 else -1)))
        self.controller.set_brush(size=size)
        self.tools_panel.sync_from_controller()
        self.canvas.update()

    def _tool_changed(self, name: str) -> None:
        action = self.actions.get(f"tool_{name}")
        if action is not None:
            action.setChecked(True)
        tool = Tool(name)
        self.statusBar().showMessage(f"{tool.label}: {TOOL_HINTS[tool]}", 8000)
        self.canvas.update()

    def _gesture_finished(self) -> None:
        if self.controller.tool in (Tool.BRUSH, Tool.FILL):
            self.color_panel.remember(self.controller.color)

    # ================================================================== files
    def _attempt(self, title: str, action, *args):
        """End any stroke, run a file controller ``action``; its result, or None after showing why it failed.

        The one place file errors reach the user: the controller guarantees a failure changed nothing.
        """
        self.controller.cancel()
        try:
            return action(*args)
        except GenArtError as exc:
            self._show_file_error(title, str(exc))
            return None

    def _show_file_error(self, title: str, message: str) -> None:
        dialogs.show_error(self, title, message)

    def confirm_discard(self) -> bool:
        """True when the current document may be replaced or closed (saved, or the user chose to discard): first
        unsaved changes, then work kept beside it (unaccepted diffusion results), which Save keeps in the file."""
        pending = self.files.unsaved_work()
        if self.files.needs_close_prompt():
            answer = dialogs.ask_unsaved_changes(self, self.document_name())
            if answer == "save":
                return self.save()
            if answer != "discard":
                return False
        if not pending:
            return True
        answer = dialogs.ask_unsaved_work(self, " ".join(pending))
        if answer == "save":
            return self.save()
        return answer == "discard"

    # ---------------------------------------------------------------- clipboard
    def copy_image(self, merged: bool = False) -> bool:
        from genart_desktop.ui.clipboard import copy_image

        if self.document is None:
            return False
        self.controller.cancel()
        try:
            width, height = copy_image(self.document, merged)
        except GenArtError as exc:
            self._show_status_error(str(exc))
            return False
        self.statusBar().showMessage(f"Copied {width} \u00d7 {height}{' (merged)' if merged else ''}", 4000)
        return True

    def paste_image(self) -> bool:
        from genart_desktop.ui.clipboard import paste_image

        if self.document is None:
            return False
        self.controller.cancel()
        try:
            layer = paste_image(self.document)
        except GenArtError as exc:
            self._show_status_error(str(exc))
            return False
        self.statusBar().showMessage(f"Pasted as \u201c{layer.name}\u201d", 4000)
        return True

    # ---------------------------------------------------------------- recent files, folders, help
    def _fill_recent_menu(self, paths) -> None:
        self.recent_menu.clear()
        for number, path in enumerate(paths, 1):
            action = self.recent_menu.addAction(f"&{number % 10} {shown_name(path)}")
            action.setToolTip(str(path))
            action.triggered.connect(lambda _c=False, p=path: self.open_file(p))
        self.recent_menu.setEnabled(bool(paths))

    def _start_folder(self) -> str:
        return str(self.files.start_folder(pictures_folder()))

    def show_help(self, page: str) -> None:
        from genart_desktop.ui.help_dialog import HelpDialog

        dialog = HelpDialog(page, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.help_dialog = dialog

    def restore_preferences(self) -> None:
        """Layout, brush, colours, recent files and the last folder from the previous session (call once every
        dock exists), and the trainings it left running (their dock first, so the layout places it)."""
        from genart_desktop.ui.training_panel import (
            adopt_kept_training,
            show_training_dock,
        )

        adopted = adopt_kept_training(self)
        self.preferences.restore(self)
        if adopted:
            show_training_dock(self)

    def new_document(self) -> bool:
        if not self.confirm_discard():
            return False
        spec = dialogs.ask_new_document(self)
        if spec is None:
            return False
        return self._attempt("New Document", self.files.new, spec.width, spec.height, spec.background) is not None

    def open_file(self, path: str | Path | None = None, ask: bool = True) -> bool:
        """Open a .ora file or an image as a new document; on error the current document stays as it was."""
        if ask and not self.confirm_discard():
            return False
        if path is None:
            path = dialogs.ask_open_path(self, "Open", dialogs.OPEN_FILTER, self._start_folder())
            if not path:
                return False
        if self._attempt("Open", self.files.open, path) is None:
            return False
        self.statusBar().showMessage(f"Opened {shown_name(path)}", 4000)
        return True

    def import_model(self) -> Path | None:
        """File > Import Model...: a foreign ONNX model, its guessed card shown and editable (ui/import_model_dialog)."""
        from genart_desktop.ui.import_model_dialog import run_import

        folder = run_import(self, self.registry)
        if folder is not None:
            self.statusBar().showMessage(f"Imported {shown_name(folder)}", 4000)
        return folder

    def train_model(self):
        """Tools > Train a Model...: the Train dialog; runs show in the Training dock (ui/training_panel)."""
        from genart_desktop.ui.training_panel import open_train_dialog

        return open_train_dialog(self)

    def open_as_layer(self, path: str | Path | None = None) -> bool:
        """Add an image file as a new layer (centred on the canvas), one undoable step."""
        if self.document is None:
            return False
        if path is None:
            path = dialogs.ask_open_path(self, "Open as Layer", dialogs.LAYER_FILTER, self._start_folder())
            if not path:
                return False
        if self._attempt("Open as Layer", self.files.open_as_layer, path) is None:
            return False
        self.statusBar().showMessage(f"Added {shown_name(path)} as a layer", 4000)
        return True

    def save(self) -> bool:
        if self.document is None:
            return False
        target = self.files.save_target
        return self.save_to(target) if target is not None else self.save_as()

    def save_as(self) -> bool:
        if self.document is None:
            return False
        path = dialogs.ask_save_path(self, "Save As", dialogs.SAVE_FILTER,
                                     str(Path(self._start_folder()) / self.files.suggested_save_path()))
        return bool(path) and self.save_to(path)

    def save_to(self, path: str | Path) -> bool:
        """Write the layered document (atomic, ``.ora`` added); on failure the file and the document are unchanged."""
        saved = self._attempt("Save", self.files.save_as, path)
        if saved is None:
            return False
        self.statusBar().showMessage(f"Saved {shown_name(saved)}", 4000)
        return True

    def export_image(self, path: str | Path | None = None) -> bool:
        """Write the flattened image as PNG, JPEG or WebP; the document itself is not changed."""
        if self.document is None:
            return False
        if path is None:
            path = dialogs.ask_save_path(self, "Export Image", dialogs.EXPORT_FILTER,
                                         str(Path(self._start_folder()) / self.files.suggested_export_path()))
            if not path:
                return False
        exported = self._attempt("Export", self.files.export, path)
        if exported is None:
            return False
        self.statusBar().showMessage(f"Exported {shown_name(exported)}", 4000)
        return True

    # ---------------------------------------------------------------- drag and drop
    @staticmethod
    def _dropped_paths(mime) -> list[Path]:
        if not mime.hasUrls():
            return []
        return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile() and is_openable(url.toLocalFile())]

    def dragEnterEvent(self, event) -> None:
        if self._dropped_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:
        """Dropped images become layers of the open document; a dropped .ora file opens as the document."""
        paths = self._dropped_paths(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.handle_dropped_files(paths)

    def handle_dropped_files(self, paths: list[Path]) -> None:
        self.controller.cancel()
        for outcome in self.files.drop_files(paths, self.confirm_discard):
            if outcome.error:
                self._show_file_error("Open" if outcome.action == "open" else "Open as Layer", outcome.error)

    # ================================================================== autosave, recovery, close
    def autosave_tick(self) -> bool:
        if self.document is None or self.controller.active:
            return False
        try:
            return self.files.autosave_tick()
        except GenArtError as exc:
            self._show_status_error(f"Autosave failed: {exc}")
            return False

    def offer_recovery(self) -> bool:
        """After a crash, offer the newest autosave left behind; True when a document was recovered."""
        entries = self.files.recovery_entries()
        if not entries:
            return False
        answer = dialogs.ask_recover(self, self.files.describe_recovery(entries))
        if answer == "discard":
            self.files.discard_recovery(entries)
            return False
        if answer != "recover" or self._attempt("Recover", self.files.restore, entries[0]) is None:
            return False
        self.statusBar().showMessage("Recovered unsaved work", 6000)
        return True

    def closeEvent(self, event) -> None:
        self.controller.cancel()
        if not self.confirm_discard():
            event.ignore()
            return
        training = getattr(self, "training_panel", None)
        if training is not None and not training.confirm_close():  # stop (checkpoint) or keep running
            event.ignore()
            return
        self._autosave_timer.stop()
        self.preferences.save(self)
        self.files.close()
        explorer = getattr(self, "latent_explorer", None)
        if explorer is not None:
            explorer.shutdown()  # cancels the explorer's queued renders
        services = getattr(self, "services", None)
        if services is not None:
            services.shutdown()  # cancel running AI jobs so the process can exit promptly
        event.accept()

    # ================================================================== status bar
    def _show_zoom(self, zoom: float) -> None:
        text = f"{zoom * 100:.0f} %" if zoom >= 0.1 else f"{zoom * 100:.1f} %"
        if self.canvas.rotation:
            text += f"  {self.canvas.rotation:+.0f}\u00b0"
        self.zoom_label.setText(text)

    def _show_cursor(self, point: QPointF | None) -> None:
        doc = self.document
        if point is None or doc is None:
            self.position_label.setText("")
            return
        x, y = int(point.x() // 1), int(point.y() // 1)
        inside = 0 <= x < doc.width and 0 <= y < doc.height
        self.position_label.setText(f"{x}, {y}" if inside else "")

    def _show_status_error(self, message: str) -> None:
        self.statusBar().showMessage(message, 6000)

    def _about(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        from genart_desktop import __version__

        QMessageBox.about(self, "About GenArt Desktop",
                          f"<b>GenArt Desktop {__version__}</b><p>Paint, restyle, explore and generate images with "
                          "your own AI models, offline.</p>")

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._show_zoom(self.canvas.zoom)
