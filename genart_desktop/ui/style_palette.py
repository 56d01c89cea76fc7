"""The Style dock: a grid of styles (networks, paintings, the user's own pictures), a blend slider per chosen style,
a live preview, strength / colours / stroke scale, Apply and Cancel.

"Add style from image..." and "Add style from layer" put a picture in the user's style library (no training: the
arbitrary style model measures it). Ctrl+click chooses 2 to 4 styles to blend. Previews run only while the dock
is visible and stay out of the Jobs list; the full render is listed.

It binds to :class:`genart_desktop.workspace.style.StyleController`: clicks become controller calls, and the
controller's signals (its jobs' events, which the workspace delivers on the GUI thread) update the widgets.
Previews and renders are jobs of the app's one workspace. The panel needs the workspace and a callable returning
the current document, so it can be built and tested on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
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
from genart_desktop.engine.pipelines.limits import MIN_SCALE
from genart_desktop.ui.binding import bind
from genart_desktop.ui.style_grid import StyleGrid
from genart_desktop.ui.style_preview import StylePreviewView
from genart_desktop.ui.widgets import ValueSlider
from genart_desktop.workspace.style import StyleController
from genart_desktop.workspace.style_jobs import StylePreviewImage
from genart_desktop.workspace.style_library import StyleLibrary

DocumentProvider = Callable[[], Document | None]
MAX_UI_SCALE = 4.0
SETTINGS_DELAY_MS = 120  # slider drags re-preview at most this often
DOCUMENT_DELAY_MS = 600  # painting re-previews once the canvas has been still this long
_ERROR_STYLE = "color: #f28b82;"
_INFO_STYLE = "color: #9aa4b2;"
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp *.gif)"
MAX_SLIDER_LABEL = 14  # characters of a style name beside its blend slider (the tooltip has it all)
BLEND_LABEL_WIDTH = 112


class StylePalettePanel(QWidget):
    """Restyle the canvas (or the selection, or the active layer) with a feed-forward style network."""

    status_changed = Signal(str)
    layer_added = Signal(object)

    def __init__(self, workspace: Any, document_provider: DocumentProvider, parent: QWidget | None = None,
                 library: StyleLibrary | None = None) -> None:
        super().__init__(parent)
        self.controller = StyleController(workspace, current_document=document_provider, library=library)
        self.blend_sliders: dict[str, ValueSlider] = {}
        self._document = document_provider
        self._watched: Document | None = None
        self.last_preview: StylePreviewImage | None = None
        self._stale = False
        self._settings_timer = _single_shot(self, SETTINGS_DELAY_MS, self.request_preview)
        self._document_timer = _single_shot(self, DOCUMENT_DELAY_MS, self._document_settled)
        self._build()
        controller = self.controller  # its signals are emitted on the GUI thread in the app
        bind(self, [(controller.settings_changed, self._show_settings),
                    (controller.thumbnail_ready, self.grid.set_thumbnail),
                    (controller.thumbnail_failed, self._thumbnail_failed),
                    (controller.preview_ready, self._show_preview), (controller.preview_failed, self._preview_failed),
                    (controller.progress, self._progress), (controller.applied, self.layer_added.emit),
                    (controller.status, self._show_status), (controller.jobs_changed, self._jobs_changed),
                    (controller.library.changed, self.refresh_models)])
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
        self.source_combo.addItem("Active layer", "layer")
        self.source_combo.addItem("Canvas (all visible layers)", "canvas")
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
        self.grid.setToolTip("Click a style to preview it on the canvas; Ctrl+click 2 to 4 styles to blend them")
        self.grid.styles_chosen.connect(self.choose_styles)
        self.grid.too_many.connect(lambda: self._show_error("Blend at most 4 styles; Ctrl+click one to drop it."))
        self.grid.remove_requested.connect(self.remove_style)
        self.grid.rename_requested.connect(self.rename_style)
        self.grid.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        layout.addWidget(self.grid, 3)
        adders = QHBoxLayout()
        self.add_image_button = QPushButton("Add style from image\u2026")
        self.add_image_button.setToolTip("Use any picture as a style (kept in your style library)")
        self.add_image_button.clicked.connect(lambda _=False: self.add_style_from_image())
        self.add_layer_button = QPushButton("Add style from layer")
        self.add_layer_button.setToolTip("Use the active layer's picture as a style (kept in your style library)")
        self.add_layer_button.clicked.connect(lambda _=False: self.add_style_from_layer())
        adders.addWidget(self.add_image_button)
        adders.addWidget(self.add_layer_button)
        layout.addLayout(adders)
        self.blend_box = QWidget()
        self.blend_layout = QVBoxLayout(self.blend_box)
        self.blend_layout.setContentsMargins(0, 0, 0, 0)
        self.blend_layout.setSpacing(2)
        self.blend_box.setVisible(False)
        layout.addWidget(self.blend_box)
        self.empty_label = QLabel()
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet(_INFO_STYLE)
        self.empty_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.empty_label)

        self.preview_view = StylePreviewView()
        self.preview_view.set_message("Click a style to preview it")
        layout.addWidget(self.preview_view, 2)
        self.preview_caption = QLabel("")
        self.preview_caption.setStyleSheet(_INFO_STYLE)
        self.preview_caption.setWordWrap(True)
        layout.addWidget(self.preview_caption)

        self.strength = ValueSlider("Strength", 0.0, 1.0, 1.0, decimals=2)
        self.strength.setToolTip("How much of the style to apply (0 keeps the picture as it is)")
        self.strength.value_changed.connect(lambda v: self._setting_changed(strength=v))
        layout.addWidget(self.strength)
        self.scale = ValueSlider("Stroke size", MIN_SCALE, MAX_UI_SCALE, 1.0, decimals=2, suffix="\u00d7",
                                 log=True)  # 1x (the style as trained) at the middle, halving and doubling alike
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
            options = self.controller.options()
        except GenArtError as exc:
            self._show_error(str(exc))
            options = []
        self.grid.set_models([(o.choice, o.name, o.description, o.kind) for o in options])
        ids = [o.choice for o in options]
        self.controller.forget_missing(ids)
        self.empty_label.setVisible(not options)
        self.empty_label.setText(
            "No style models yet. Train one with <code>genart-train style --style IMAGE --content DIR</code> or "
            f"copy a style model folder into {user_models_dir()}." if not options else "")
        arbitrary = self.controller.choices_of.arbitrary() is not None
        for button in (self.add_image_button, self.add_layer_button):
            button.setEnabled(arbitrary)
            button.setToolTip(button.toolTip().split(" \u2014 ")[0] + (
                "" if arbitrary else " \u2014 needs the arbitrary style model (style-arbitrary)"))
        for choice in ids:
            self.controller.thumbnail(choice)
        self._show_settings()

    def choose_style(self, choice: str) -> None:
        """Select one style and preview it right away."""
        self.choose_styles([choice])

    def choose_styles(self, choices: list[str]) -> None:
        """Select 1 to 4 styles (a blend) and preview it right away."""
        try:
            self.controller.select_many(list(choices))
        except GenArtError as exc:
            self._show_error(str(exc))
            self._show_settings()  # the grid shows the controller's choice again
            return
        self._settings_timer.stop()
        self.request_preview()

    # ================================================================== the user's styles
    def add_style_from_image(self, path: str | None = None) -> str | None:
        """Ask for a picture (or take ``path``), keep it as a style and choose it; returns its choice."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Add style from image", "", IMAGE_FILTER)
            if not path:
                return None
        return self._added(lambda: self.controller.add_style_from_image(path))

    def add_style_from_layer(self) -> str | None:
        document = self._document()
        if document is None:
            return None
        return self._added(lambda: self.controller.add_style_from_layer(document))

    def _added(self, add: Callable[[], Any]) -> str | None:
        try:
            option = add()
        except GenArtError as exc:
            self._show_error(str(exc))
            return None
        self._show_status(f"Added the style \u201c{option.name}\u201d to your styles.")
        self.choose_style(option.choice)
        return option.choice

    def remove_style(self, choice: str) -> None:
        try:
            self.controller.remove_style(choice)
        except GenArtError as exc:
            self._show_error(str(exc))

    def rename_style(self, choice: str, name: str | None = None) -> None:
        if name is None:
            item = self.grid.item_for(choice)
            name, accepted = QInputDialog.getText(self, "Rename style", "Name:",
                                                  text=item.text() if item is not None else "")
            if not accepted:
                return
        try:
            self.controller.rename_style(choice, name)
        except GenArtError as exc:
            self._show_error(str(exc))

    def _rebuild_blend(self) -> None:
        """A weight slider per chosen style when 2 or more are chosen."""
        choices = self.controller.choices
        if [c for c, _w in choices] != list(self.blend_sliders) or len(choices) < 2:
            for slider in self.blend_sliders.values():
                slider.setParent(None)
                slider.deleteLater()
            self.blend_sliders = {}
            if len(choices) >= 2:
                for choice, weight in choices:
                    item = self.grid.item_for(choice)
                    name = item.text() if item is not None else choice
                    label = name if len(name) <= MAX_SLIDER_LABEL else name[:MAX_SLIDER_LABEL - 1] + "\u2026"
                    slider = ValueSlider(label, 0.0, 1.0, weight, decimals=2)
                    slider.findChild(QLabel).setFixedWidth(BLEND_LABEL_WIDTH)  # the sliders line up
                    slider.setToolTip(f"How much of \u201c{name}\u201d goes into the blend")
                    slider.value_changed.connect(lambda v, c=choice: self._weight_changed(c, v))
                    self.blend_layout.addWidget(slider)
                    self.blend_sliders[choice] = slider
        for choice, weight in choices:
            if choice in self.blend_sliders:
                self.blend_sliders[choice].set_value(min(1.0, weight))
        self.blend_box.setVisible(bool(self.blend_sliders))

    def _weight_changed(self, choice: str, weight: float) -> None:
        try:
            self.controller.set_weight(choice, weight)
        except GenArtError as exc:
            self._show_error(str(exc))
            return
        self._settings_timer.start()

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
        if self.controller.choices:
            self.request_preview()
        else:
            self.preview_view.set_message("Click a style to preview it")

    def _document_changed(self, change) -> None:
        if not shiboken6.isValid(self):  # the panel went with its window; stop listening to the document
            if self._watched is not None:
                self._watched.changed.disconnect(self._document_changed)
            return
        if change.kind in ("history", "selection", "layers", "active", "document") and self.controller.choices:
            self._document_timer.start()

    def _document_settled(self) -> None:
        document = self._document()
        if document is None or document.is_painting:
            return
        self.request_preview()

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
        if self.controller.choices:
            self._settings_timer.start()

    def _source_changed(self, _index: int) -> None:
        self.controller.set_source(self.source_combo.currentData())
        if self.controller.choices:
            self.request_preview()

    # ================================================================== jobs
    def request_preview(self) -> None:
        """A preview of the current choice; while the dock is hidden none runs (it is done when it is shown)."""
        document = self._document()
        if document is None or not self.controller.choices:
            return
        if not self.isVisible():
            self._stale = True
            return
        try:
            self.controller.preview(document)
        except GenArtError as exc:
            self._show_error(str(exc))
            return
        self.preview_view.set_dimmed(self.preview_view.has_image())
        if not self.preview_view.has_image():
            self.preview_view.set_message("Rendering a preview\u2026")

    def apply(self) -> int | None:
        """Start the full-resolution render; returns its job id (None when nothing could start)."""
        document = self._document()
        if document is None:
            return None
        self.progress.setValue(0)
        self.progress.setFormat("Starting\u2026")
        try:
            handle = self.controller.apply(document)
        except GenArtError as exc:
            self._show_error(str(exc))
            return None
        return handle.job_id

    def cancel(self) -> None:
        self.controller.cancel_applies()

    @property
    def busy(self) -> bool:
        """True while a preview or render of this panel is waiting or running."""
        return self.controller.busy

    def _progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(round(fraction * 1000)))
        if message and not message.endswith(": started"):
            self.progress.setFormat(f"{message} \u2014 %p%")

    def _thumbnail_failed(self, model_id: str, message: str) -> None:
        item = self.grid.item_for(model_id)
        if item is not None:
            item.setToolTip(f"{item.toolTip()}<br><i>No thumbnail: {message}</i>")

    def _preview_failed(self, _message: str) -> None:
        self.preview_view.set_dimmed(False)
        self.preview_view.set_message("The preview failed")

    def _jobs_changed(self) -> None:
        if not self.controller.previewing:
            self.preview_view.set_dimmed(False)
        self.progress.setVisible(bool(self.controller.applying))
        self._update_buttons()

    # ================================================================== display
    def _show_preview(self, preview: StylePreviewImage, final: bool = True) -> None:
        self.last_preview = preview
        self.preview_view.set_image(preview.pixels)
        self.preview_view.set_dimmed(not final)
        self.preview_view.set_message("")
        region = preview.region
        whole = "active layer" if preview.recipe.source == "layer" else "canvas"
        where = "selection" if self._watched is not None and region != self._watched.rect else whole
        note = "" if preview.exact else " \u00b7 strokes look larger than in the full render"
        self.preview_caption.setText(f"{preview.recipe.model_name} on the {where} ({region.width}\u00d7"
                                     f"{region.height}){note}")
        self.status_label.setText("")

    def _show_settings(self) -> None:
        """Show the controller's choice and settings (without the widgets reporting them back)."""
        controller = self.controller
        self.grid.select_models([choice for choice, _weight in controller.choices])
        self._rebuild_blend()
        self.strength.set_value(controller.settings.strength)
        self.scale.set_value(controller.settings.scale)
        self.preserve_colors.blockSignals(True)
        self.preserve_colors.setChecked(controller.settings.preserve_colors)
        self.preserve_colors.blockSignals(False)
        self.source_combo.blockSignals(True)
        self.source_combo.setCurrentIndex(max(0, self.source_combo.findData(controller.source)))
        self.source_combo.blockSignals(False)
        self._update_buttons()

    def _update_buttons(self) -> None:
        running = bool(self.controller.applying)
        self.apply_button.setEnabled(bool(self.controller.choices) and not running)
        self.cancel_button.setEnabled(running)

    def _show_status(self, message: str, error: bool = False) -> None:
        self.status_label.setStyleSheet(_ERROR_STYLE if error else _INFO_STYLE)
        self.status_label.setText(message)
        self.status_changed.emit(message)

    def _show_error(self, message: str) -> None:
        self._show_status(message, True)



def _single_shot(parent: QWidget, delay_ms: int, slot: Callable[[], None]) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(delay_ms)
    timer.timeout.connect(slot)
    return timer
