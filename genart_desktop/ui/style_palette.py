"""The Style dock: a grid of style networks, a live preview, strength / colours / stroke scale, Apply and Cancel.

It adapts :class:`genart_desktop.workspace.style.StyleController`. Previews and renders are jobs on the app's shared
runner, so they show in the Jobs panel too; their events arrive on the GUI thread through the shared
:class:`JobBridge`, and only this panel's own job ids are handled here. The panel needs the registry, runner,
bridge and a callable returning the current document, so it can be built and tested on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from genart_desktop.core.errors import GenArtError
from genart_desktop.core.paths import user_models_dir
from genart_desktop.document.document import Document
from genart_desktop.engine.jobs import JobRunner
from genart_desktop.engine.pipelines.style import MIN_SCALE
from genart_desktop.ui.job_bridge import JobBridge
from genart_desktop.ui.style_grid import StyleGrid
from genart_desktop.ui.style_preview import StylePreviewView
from genart_desktop.ui.widgets import ValueSlider
from genart_desktop.workspace.style import StyleController, StylePreviewImage, StyleRender

DocumentProvider = Callable[[], Document | None]
MAX_UI_SCALE = 4.0
SETTINGS_DELAY_MS = 120  # slider drags re-preview at most this often
DOCUMENT_DELAY_MS = 600  # painting re-previews once the canvas has been still this long
_ERROR_STYLE = "color: #f28b82;"
_INFO_STYLE = "color: #9aa4b2;"


class StylePalettePanel(QWidget):
    """Restyle the canvas (or the selection, or the active layer) with a feed-forward style network."""

    status_changed = Signal(str)
    layer_added = Signal(object)

    def __init__(self, registry: Any, runner: JobRunner, bridge: JobBridge, document_provider: DocumentProvider,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = StyleController(registry, runner)
        self._runner = runner
        self._document = document_provider
        self._watched: Document | None = None
        self._preview_jobs: set[int] = set()
        self._shown_preview = 0  # job id of the preview on screen: an older one finishing late is not shown
        self._thumb_jobs: dict[int, str] = {}
        self.last_preview: StylePreviewImage | None = None
        self._stale = False
        self._settings_timer = _single_shot(self, SETTINGS_DELAY_MS, self.request_preview)
        self._document_timer = _single_shot(self, DOCUMENT_DELAY_MS, self._document_settled)
        self._build()
        bridge.finished.connect(self._finished)
        bridge.failed.connect(self._failed)
        bridge.cancelled.connect(self._cancelled)
        bridge.progress.connect(self._progress)
        self.refresh_models()
        self.watch_document(document_provider())

    # ================================================================== building
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)

        top = QHBoxLayout()
        top.addWidget(QLabel("Restyle"))
        self.source_combo = QComboBox()
        self.source_combo.addItem("Canvas (all visible layers)", "canvas")
        self.source_combo.addItem("Active layer only", "layer")
        self.source_combo.setToolTip("What the style is applied to; with a selection, only the selected part")
        self.source_combo.currentIndexChanged.connect(self._source_changed)
        top.addWidget(self.source_combo, 1)
        self.rescan_button = QToolButton()
        self.rescan_button.setText("\u21bb")
        self.rescan_button.setToolTip("Look for new style models in the model folders")
        self.rescan_button.clicked.connect(lambda _=False: self.refresh_models(rescan=True))
        top.addWidget(self.rescan_button)
        layout.addLayout(top)

        self.grid = StyleGrid()
        self.grid.setToolTip("Click a style to preview it on the canvas")
        self.grid.style_chosen.connect(self.choose_style)
        self.grid.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        layout.addWidget(self.grid, 2)
        self.empty_label = QLabel()
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet(_INFO_STYLE)
        self.empty_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.empty_label)

        self.preview_view = StylePreviewView()
        self.preview_view.set_message("Click a style to preview it")
        layout.addWidget(self.preview_view, 3)
        self.preview_caption = QLabel("")
        self.preview_caption.setStyleSheet(_INFO_STYLE)
        self.preview_caption.setWordWrap(True)
        layout.addWidget(self.preview_caption)

        self.strength = ValueSlider("Strength", 0.0, 1.0, 1.0, decimals=2)
        self.strength.setToolTip("How much of the style to blend in (mixed in a perceptual colour space)")
        self.strength.value_changed.connect(lambda v: self._setting_changed(strength=v))
        layout.addWidget(self.strength)
        self.scale = ValueSlider("Stroke size", MIN_SCALE, MAX_UI_SCALE, 1.0, decimals=2, suffix="\u00d7")
        self.scale.setToolTip("Size of the style's brush strokes relative to the canvas (2\u00d7 = twice as large)")
        self.scale.value_changed.connect(lambda v: self._setting_changed(scale=v))
        layout.addWidget(self.scale)
        self.preserve_colors = QCheckBox("Preserve original colours")
        self.preserve_colors.setToolTip("Take only the light and dark of the style; keep the painting's colours")
        self.preserve_colors.toggled.connect(lambda on: self._setting_changed(preserve_colors=on))
        layout.addWidget(self.preserve_colors)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        self.progress.setVisible(False)
        layout.addWidget(self.progress)
        buttons = QHBoxLayout()
        self.apply_button = QPushButton("Apply")
        self.apply_button.setToolTip("Render at full resolution into a new layer (one undo step); limited to the "
                                     "selection when there is one")
        self.apply_button.clicked.connect(lambda _=False: self.apply())
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the render; the canvas stays as it is")
        self.cancel_button.clicked.connect(lambda _=False: self.cancel())
        buttons.addWidget(self.apply_button, 2)
        buttons.addWidget(self.cancel_button, 1)
        layout.addLayout(buttons)
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status_label)
        self._update_buttons()

    # ================================================================== models
    def refresh_models(self, rescan: bool = False) -> None:
        registry = self.controller.registry
        try:
            if rescan and registry is not None:
                registry.rescan()
            models = self.controller.models()
        except GenArtError as exc:
            self._show_error(str(exc))
            models = []
        self.grid.set_models([(m.id, m.name, m.card.description if m.card is not None else "") for m in models])
        ids = [m.id for m in models]
        if self.controller.model_id not in ids:
            self.controller.model_id = None
        self.empty_label.setVisible(not models)
        self.empty_label.setText(
            "No style models yet. Train one with <code>genart-train style --style IMAGE --content DIR</code> or "
            f"copy a style model folder into {user_models_dir()}." if not models else "")
        for model_id in ids:
            handle = self.controller.thumbnail(model_id)
            self._thumb_jobs[handle.job_id] = model_id
        self._update_buttons()

    def choose_style(self, model_id: str) -> None:
        """Select a style and preview it right away."""
        try:
            self.controller.select(model_id)
        except GenArtError as exc:
            self._show_error(str(exc))
            return
        self.grid.select_model(model_id)
        self._settings_timer.stop()
        self.request_preview()
        self._update_buttons()

    # ================================================================== document
    def watch_document(self, document: Document | None) -> None:
        """Follow ``document`` (after New/Open): renders for the old one are cancelled, the preview refreshed."""
        if self._watched is document:
            return
        if self._watched is not None:
            self._watched.changed.disconnect(self._document_changed)
            self.controller.cancel_applies()
        self._watched = document
        if document is not None:
            document.changed.connect(self._document_changed)
        self.last_preview = None
        self.preview_view.set_image(None)
        if self.controller.model_id is not None:
            self.request_preview()
        else:
            self.preview_view.set_message("Click a style to preview it")

    def _document_changed(self, change) -> None:
        if not shiboken6.isValid(self):  # the panel went with its window; stop listening to the document
            if self._watched is not None:
                self._watched.changed.disconnect(self._document_changed)
            return
        if change.kind in ("history", "selection", "layers", "active", "document") \
                and self.controller.model_id is not None:
            self._document_timer.start()

    def _document_settled(self) -> None:
        document = self._document()
        if document is None or document.is_painting:
            return
        if self.isVisible():
            self.request_preview()
        else:
            self._stale = True  # hidden behind another tab: refresh when it is shown again

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.request_preview()

    # ================================================================== settings
    def _setting_changed(self, **values: Any) -> None:
        try:
            self.controller.set_settings(**values)
        except GenArtError as exc:
            self._show_error(str(exc))
            return
        if self.controller.model_id is not None:
            self._settings_timer.start()

    def _source_changed(self, _index: int) -> None:
        self.controller.set_source(self.source_combo.currentData())
        if self.controller.model_id is not None:
            self.request_preview()

    # ================================================================== jobs
    def request_preview(self) -> None:
        document = self._document()
        if document is None or self.controller.model_id is None:
            return
        try:
            handle = self.controller.preview(document)
        except GenArtError as exc:
            self._show_error(str(exc))
            return
        self._preview_jobs.add(handle.job_id)
        self.preview_view.set_dimmed(self.preview_view.has_image())
        if not self.preview_view.has_image():
            self.preview_view.set_message("Rendering a preview\u2026")

    def apply(self) -> int | None:
        """Start the full-resolution render; returns its job id (None when nothing could start)."""
        document = self._document()
        if document is None:
            return None
        try:
            handle = self.controller.apply(document)
        except GenArtError as exc:
            self._show_error(str(exc))
            return None
        self.progress.setValue(0)
        self.progress.setFormat("Starting\u2026")
        self.progress.setVisible(True)
        self._show_info(f"Rendering {handle.label[len('Style: '):]} at full resolution\u2026")
        self._update_buttons()
        return handle.job_id

    def cancel(self) -> None:
        self.controller.cancel_applies()

    @property
    def busy(self) -> bool:
        """True while a preview or render of this panel is waiting or running."""
        return bool(self._preview_jobs) or bool(self.controller.applying)

    def _progress(self, job_id: int, fraction: float, message: str) -> None:
        if self.controller.is_apply(job_id):
            self.progress.setValue(int(round(fraction * 1000)))
            if message and not message.endswith(": started"):
                self.progress.setFormat(f"{message} \u2014 %p%")

    def _finished(self, job_id: int, value: object) -> None:
        if job_id in self._thumb_jobs:
            model_id = self._thumb_jobs.pop(job_id)
            self.grid.set_thumbnail(model_id, value)
        elif job_id in self._preview_jobs:
            self._preview_jobs.discard(job_id)
            if isinstance(value, StylePreviewImage) and job_id > self._shown_preview \
                    and value.recipe.model_id == self.controller.model_id:
                self._shown_preview = job_id
                self._show_preview(value, final=not self._preview_jobs)
        elif self.controller.is_apply(job_id):
            self._land(job_id, value)

    def _land(self, job_id: int, value: object) -> None:
        try:
            layer = self.controller.land(job_id, value if isinstance(value, StyleRender) else None, self._document())
        except GenArtError as exc:
            self._show_error(str(exc))
            layer = None
        else:
            if layer is None:
                self._show_info("The document was replaced before the style finished; the result was dropped.")
            else:
                self._show_info(f"Added the layer \u201c{layer.name}\u201d. Undo removes it.")
                self.layer_added.emit(layer)
        self._render_ended()

    def _failed(self, job_id: int, message: str) -> None:
        if job_id in self._thumb_jobs:
            model_id = self._thumb_jobs.pop(job_id)
            item = self.grid.item_for(model_id)
            if item is not None:
                item.setToolTip(f"{item.toolTip()}<br><i>No thumbnail: {message}</i>")
        elif job_id in self._preview_jobs:
            self._preview_jobs.discard(job_id)
            self.preview_view.set_dimmed(False)
            self.preview_view.set_message("The preview failed")
            self._show_error(message)
        elif self.controller.is_apply(job_id):
            self.controller.drop(job_id)
            self._show_error(f"{message} The canvas is unchanged.")
            self._render_ended()

    def _cancelled(self, job_id: int) -> None:
        self._thumb_jobs.pop(job_id, None)
        if job_id in self._preview_jobs:
            self._preview_jobs.discard(job_id)
            if not self._preview_jobs:
                self.preview_view.set_dimmed(False)
        elif self.controller.is_apply(job_id):
            self.controller.drop(job_id)
            self._show_info("Cancelled; the canvas is unchanged.")
            self._render_ended()

    def _render_ended(self) -> None:
        if not self.controller.applying:
            self.progress.setVisible(False)
        self._update_buttons()

    # ================================================================== display
    def _show_preview(self, preview: StylePreviewImage, final: bool = True) -> None:
        self.last_preview = preview
        self.preview_view.set_image(preview.pixels)
        self.preview_view.set_dimmed(not final)
        self.preview_view.set_message("")
        region = preview.region
        where = "selection" if self._watched is not None and region != self._watched.rect else "canvas"
        note = "" if preview.exact else " \u00b7 strokes look larger than in the full render"
        self.preview_caption.setText(f"{preview.recipe.model_name} on the {where} ({region.width}\u00d7"
                                     f"{region.height}){note}")
        self.status_label.setText("")

    def _update_buttons(self) -> None:
        running = bool(self.controller.applying)
        self.apply_button.setEnabled(self.controller.model_id is not None and not running)
        self.cancel_button.setEnabled(running)

    def _show_error(self, message: str) -> None:
        self.status_label.setStyleSheet(_ERROR_STYLE)
        self.status_label.setText(message)
        self.status_changed.emit(message)

    def _show_info(self, message: str) -> None:
        self.status_label.setStyleSheet(_INFO_STYLE)
        self.status_label.setText(message)
        self.status_changed.emit(message)


def _single_shot(parent: QWidget, delay_ms: int, slot: Callable[[], None]) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(delay_ms)
    timer.timeout.connect(slot)
    return timer
