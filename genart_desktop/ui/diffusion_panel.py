"""The diffusion dock: choose a model, describe the image, generate (or start from the canvas, or repaint the
selection), watch previews arrive in the staging strip, accept one as a layer; recall any past result's settings.

The panel is a view of :class:`genart_desktop.workspace.diffusion.DiffusionController`: the controller's settings
are the single source of truth (the controls are bound to them through one table, :meth:`DiffusionPanel._bindings`),
and the staging strip and history follow the controller's signals. Jobs go through the window's workspace (so they
show in the jobs panel and can be cancelled there too) and their events reach the controller on the GUI thread.
``install_diffusion_panel(window)`` docks it in the main window.

Layout, top to bottom: what an artist sets for every picture (model, prompt, steps and guidance, sampler, seed, size,
batch, strength) and the actions, in view without scrolling in a 1440x900 window; then the collapsible sections used
now and then (Regions, Control, Placement), folded until used, each header summing up what is set inside; then the
results and the history. Accept, Discard and Live sit in a bar under the scrolling part, always visible.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QSpinBox,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from genart_desktop.core.errors import GenArtError
from genart_desktop.document.document import Document
from genart_desktop.engine.pipelines.limits import MAX_GUIDANCE, MAX_SIDE, MAX_STEPS
from genart_desktop.engine.samplers import sampler_names
from genart_desktop.ui import dialogs
from genart_desktop.ui.binding import follow
from genart_desktop.ui.collapsible import CollapsibleSection
from genart_desktop.ui.diffusion_control import ControlBox
from genart_desktop.ui.diffusion_placement import PlacementSection
from genart_desktop.ui.diffusion_regions import RegionsBox
from genart_desktop.ui.diffusion_seed import SeedControl
from genart_desktop.ui.diffusion_strip import HistoryList, StagingStrip
from genart_desktop.ui.widgets import ValueSlider, compact_combo
from genart_desktop.ui.widgets import button as _button
from genart_desktop.workspace.diffusion import (
    FROM_CANVAS,
    GENERATE,
    INPAINT,
    MAX_BATCH_COUNT,
    DiffusionController,
    DiffusionSettings,
    ModelInfo,
    StagedResult,
)
from genart_desktop.workspace.diffusion_live import LiveController, LiveFrame

SAMPLER_LABELS = {"ddim": "DDIM", "ddpm": "DDPM", "dpmpp_2m": "DPM++ 2M", "euler_a": "Euler ancestral"}
PNG_FILTER = "PNG image (*.png)"
MODEL_TIP = "Diffusion models and Stable Diffusion ONNX folders found in the model folders"
DOCK_WIDTH = 330
DocumentProvider = Callable[[], Document | None]
Binding = tuple[str, Callable[[], Any], Callable[[Any], None], Any]  # field, read, write, the widget's change signal
MUTED = "color: #9aa4b2;"
ERROR = "color: #ff8a80;"
WARNING = "color: #ffcc80;"


class DiffusionPanel(QWidget):
    """Generate, image-to-image and inpaint with diffusion models; results are staged before they become layers."""

    status_changed = Signal(str)
    layer_added = Signal(object)

    def __init__(self, controller: DiffusionController, document_provider: DocumentProvider,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self._document_provider = document_provider
        self._document: Document | None = None
        self._info: ModelInfo | None = None
        self._showing = False  # True while controls are being set from the controller's settings
        self._canvas: Any = None  # the CanvasView that previews the chosen result (set_canvas)
        self._overlay_key_shown: tuple[Any, int] | None = None
        # live frames render on the worker; the GUI only reads the canvas when it is next idle and swaps an image
        self.live = LiveController(controller, later=lambda call: QTimer.singleShot(0, call))
        self._build()
        for _field, _read, _write, changed in self._bindings():
            changed.connect(self._controls_edited)
        controller.settings_changed.connect(self._show_settings)
        controller.staged_changed.connect(self._staged_changed)
        controller.history_changed.connect(self._history_changed)
        self.live.frame_changed.connect(self._live_frame)
        self.live.failed.connect(lambda message: self._say(message, error=True))
        self.live.enabled_changed.connect(self._live_toggled)
        live = self.live
        self.destroyed.connect(lambda *_: (self._unbind(controller), live.set_enabled(False)))
        self._show_settings(controller.settings)
        self.refresh_models()
        self.set_document(document_provider())

    def _unbind(self, controller: DiffusionController) -> None:
        controller.settings_changed.disconnect(self._show_settings)
        controller.staged_changed.disconnect(self._staged_changed)
        controller.history_changed.disconnect(self._history_changed)
        self.live.frame_changed.disconnect(self._live_frame)
        self.live.enabled_changed.disconnect(self._live_toggled)

    # ================================================================== building
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = self._scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # controls wrap to the dock
        outer.addWidget(scroll, 1)
        outer.addWidget(self._staging_bar())  # outside the scroll area: Accept and Discard are always visible
        body = QWidget()
        scroll.setWidget(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)

        model_row = QHBoxLayout()
        self.model_combo = QComboBox()
        self.model_combo.setToolTip(MODEL_TIP)
        self.model_combo.currentIndexChanged.connect(self._model_chosen)
        compact_combo(self.model_combo, 12)
        self.rescan_button = QToolButton()
        self.rescan_button.setText("\u21bb")
        self.rescan_button.setToolTip("Look for new models in the model folders")
        self.rescan_button.clicked.connect(lambda _=False: self.refresh_models(rescan=True))
        model_row.addWidget(self.model_combo, 1)
        model_row.addWidget(self.rescan_button)
        layout.addLayout(model_row)
        self.model_note = QLabel("")
        self.model_note.setWordWrap(True)
        self.model_note.setStyleSheet(MUTED)
        layout.addWidget(self.model_note)

        self.condition_stack = QStackedWidget()
        text_page = QWidget()
        text_layout = QVBoxLayout(text_page)
        text_layout.setContentsMargins(0, 0, 0, 0)
        self.prompt_edit = QPlainTextEdit()
        self.prompt_edit.setPlaceholderText("Describe the image\u2026")
        self.prompt_edit.setFixedHeight(64)
        self.negative_edit = QLineEdit()
        self.negative_edit.setPlaceholderText("Negative prompt: what to avoid")
        self.prompt_hint = QLabel("")
        self.prompt_hint.setWordWrap(True)
        self.prompt_hint.setStyleSheet(WARNING)
        self.prompt_hint.hide()
        self.prompt_edit.textChanged.connect(self._check_prompt)
        text_layout.addWidget(self.prompt_edit)
        text_layout.addWidget(self.prompt_hint)
        text_layout.addWidget(self.negative_edit)
        class_page = QWidget()
        class_layout = QFormLayout(class_page)
        class_layout.setContentsMargins(0, 0, 0, 0)
        self.class_combo = QComboBox()
        self.class_combo.setToolTip("The kind of image this model was trained to make")
        class_layout.addRow("Class", self.class_combo)
        none_page = QLabel("This model is unconditional: it needs no prompt.")
        none_page.setWordWrap(True)
        none_page.setStyleSheet(MUTED)
        for page in (text_page, class_page, none_page):
            self.condition_stack.addWidget(page)
        self._pages = {"text": text_page, "class": class_page, "none": none_page}
        layout.addWidget(self.condition_stack)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(1, MAX_STEPS)
        self.steps_spin.setToolTip("Denoising steps: more is slower and often finer")
        sampler_row = QHBoxLayout()
        self.sampler_combo = QComboBox()
        for name in sampler_names():
            self.sampler_combo.addItem(SAMPLER_LABELS.get(name, name), name)
        self.sampler_combo.setToolTip("The sampling algorithm")
        self.sampler_combo.currentIndexChanged.connect(self._sampler_chosen)
        compact_combo(self.sampler_combo, 8)
        self.eta_spin = QDoubleSpinBox()
        self.eta_spin.setRange(0.0, 1.0)
        self.eta_spin.setSingleStep(0.1)
        self.eta_spin.setPrefix("\u03b7 ")
        self.eta_spin.setToolTip("DDIM eta: 0 is deterministic, 1 adds as much noise as DDPM")
        self.eta_spin.setMaximumWidth(72)
        sampler_row.addWidget(self.sampler_combo, 1)
        sampler_row.addWidget(self.eta_spin)
        self.guidance_spin = QDoubleSpinBox()
        self.guidance_spin.setRange(0.0, MAX_GUIDANCE)
        self.guidance_spin.setSingleStep(0.5)
        self.guidance_spin.setDecimals(1)
        self.guidance_spin.setToolTip("Classifier-free guidance: how strongly to follow the prompt or class")
        self.seed_control = SeedControl()
        size_row = QHBoxLayout()
        self.width_spin = QSpinBox()
        self.height_spin = QSpinBox()
        for spin in (self.width_spin, self.height_spin):
            spin.setRange(8, MAX_SIDE)
            spin.setMinimumWidth(56)
            spin.setToolTip("Image size for Generate; From canvas and Inpaint keep the region's shape with its "
                            "longer side at the larger of the two")
        self.native_button = QToolButton()
        self.native_button.setText("Native")
        self.native_button.setToolTip("The size the model was trained at")
        self.native_button.clicked.connect(lambda _=False: self._set_native_size())
        size_row.addWidget(self.width_spin, 1)
        size_row.addWidget(QLabel("\u00d7"))
        size_row.addWidget(self.height_spin, 1)
        size_row.addWidget(self.native_button)
        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(1, MAX_BATCH_COUNT)
        self.batch_spin.setToolTip("How many images to make (one job each, consecutive seeds)")
        self.strength = ValueSlider("Strength", 0.0, 1.0, 0.6, decimals=2)
        self.strength.setToolTip("From canvas and Inpaint: how much to change (0 keeps the canvas, 1 repaints it)")
        steps_row = QHBoxLayout()
        steps_row.addWidget(self.steps_spin, 1)
        steps_row.addWidget(QLabel("Guidance"))
        steps_row.addWidget(self.guidance_spin, 1)
        form.addRow("Steps", steps_row)
        form.addRow("Sampler", sampler_row)
        form.addRow("Seed", self.seed_control)
        form.addRow("Size", size_row)
        form.addRow("Batch", self.batch_spin)
        form.addRow(self.strength)
        layout.addLayout(form)

        actions = QGridLayout()
        self.generate_button = _button("Generate", "Make new images from the prompt", self.generate)
        self.generate_button.setDefault(True)
        self.canvas_button = _button("From canvas", "Image-to-image: start from the canvas (or the selected part) "
                                     "and change it by the strength", self.from_canvas)
        self.inpaint_button = _button("Inpaint selection", "Repaint only the selected area; the rest stays",
                                      self.inpaint)
        actions.addWidget(self.generate_button, 0, 0, 1, 2)
        actions.addWidget(self.canvas_button, 1, 0)
        actions.addWidget(self.inpaint_button, 1, 1)
        layout.addLayout(actions)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setStyleSheet(MUTED)
        layout.addWidget(self.status)
        for section in self._sections():
            layout.addWidget(section)

        results = QGroupBox("Results")
        results_layout = QVBoxLayout(results)
        self.strip = StagingStrip()
        self.strip.setToolTip("Results of this session; double-click one to add it as a layer")
        self.strip.itemDoubleClicked.connect(lambda _item: self.accept_selected())
        self.strip.itemSelectionChanged.connect(self._update_buttons)
        results_layout.addWidget(self.strip)
        strip_row = QHBoxLayout()
        self.cancel_button = _button("Cancel all", "Stop every queued and running image of this panel",
                                     self.cancel_all)
        self.export_button = _button("Export PNG\u2026", "Save the chosen result as a PNG with its full recipe",
                                     self.export_selected)
        strip_row.addWidget(self.export_button)
        strip_row.addWidget(self.cancel_button)
        results_layout.addLayout(strip_row)
        layout.addWidget(results)

        history = QGroupBox("History")
        history_layout = QVBoxLayout(history)
        self.history_list = HistoryList()
        self.history_list.setMinimumHeight(150)
        self.history_list.setToolTip("Every finished result; double-click one to get all its settings back")
        self.history_list.itemDoubleClicked.connect(lambda _item: self.restore_selected())
        self.history_list.itemSelectionChanged.connect(self._update_buttons)
        history_layout.addWidget(self.history_list)
        history_row = QHBoxLayout()
        self.restore_button = _button("Restore settings", "Put every setting of the chosen result back",
                                      self.restore_selected)
        self.open_png_button = _button("Open PNG\u2026", "Read the recipe stored in a PNG and restore its settings",
                                       self.open_png)
        history_row.addWidget(self.restore_button)
        history_row.addWidget(self.open_png_button)
        history_row.addStretch(1)
        history_layout.addLayout(history_row)
        layout.addWidget(history, 1)
        self.setMinimumWidth(250)

    def _sections(self) -> tuple[CollapsibleSection, ...]:
        """The settings used now and then, folded under one-line headers that sum them up, below the essentials
        and the actions so that opening one never pushes those out of view."""
        self.regions_box = RegionsBox()
        self.regions_box.message.connect(self._say)
        self.regions_box.highlight_changed.connect(self._show_overlay)
        self.control_box = ControlBox(self.controller)
        self.control_box.message.connect(self._say)
        self.placement_section = PlacementSection()
        self.fit_combo = self.placement_section.fit_combo
        self.keep_background_check = self.placement_section.keep_background_check
        self.feather_spin = self.placement_section.feather_spin
        sections = (self.regions_box, self.control_box, self.placement_section)
        for section in sections:
            section.header.clicked.connect(lambda opened, section=section: opened and self._reveal(section))
        return sections

    def _reveal(self, section: QWidget) -> None:
        """Scroll a section the user just opened into view (when the dock is short), once it is laid out."""
        QTimer.singleShot(0, lambda: shiboken6.isValid(section) and self._scroll.ensureWidgetVisible(section, 0, 0))

    def _staging_bar(self) -> QWidget:
        """Previous / next, Accept and Discard for the result shown on the canvas (Enter, Esc and the arrows there
        do the same)."""
        bar = QWidget()
        row = QHBoxLayout(bar)
        row.setContentsMargins(6, 2, 6, 4)
        self.previous_button = QToolButton()
        self.previous_button.setText("\u25c0")
        self.previous_button.setToolTip("Show the previous result on the canvas (\u2190)")
        self.previous_button.clicked.connect(lambda _=False: self.strip.step(-1))
        self.next_button = QToolButton()
        self.next_button.setText("\u25b6")
        self.next_button.setToolTip("Show the next result on the canvas (\u2192)")
        self.next_button.clicked.connect(lambda _=False: self.strip.step(1))
        self.accept_button = _button("Accept", "Add the result shown on the canvas as a new layer (Enter; undoable)",
                                     self.accept_selected)
        self.discard_button = _button("Discard", "Remove the chosen result (Esc; stops it if it is still running)",
                                      self.discard_selected)
        self.live_button = QToolButton()
        self.live_button.setText("Live")
        self.live_button.setCheckable(True)
        self.live_button.setToolTip("Live: while you paint, the canvas (or the selected part) is re-rendered from "
                                    "the canvas with a fixed seed and fewer steps, shown over it (not a layer)")
        self.live_button.toggled.connect(self.set_live)
        self.keep_button = _button("Keep", "Add the live frame shown on the canvas as a new layer (Enter; undoable)",
                                   self.keep_live)
        for widget in (self.live_button, self.keep_button, self.previous_button, self.next_button,
                       self.accept_button, self.discard_button):
            row.addWidget(widget, 0 if isinstance(widget, QToolButton) else 1)
        return bar

    # ================================================================== staging on the canvas
    def set_canvas(self, canvas: Any) -> None:
        """Preview the chosen finished result in place on ``canvas`` (a CanvasView) and take its staging keys."""
        self._canvas = canvas
        canvas.overlay_key.connect(self._overlay_key)
        self._show_overlay()

    def _overlay_key(self, action: str) -> None:
        if self.live.enabled:  # Enter keeps the live frame, Esc leaves live mode
            {"accept": self.keep_live, "discard": lambda: self.set_live(False)}.get(action, lambda: None)()
            return
        {"accept": self.accept_selected, "discard": self.discard_selected,
         "previous": lambda: self.strip.step(-1), "next": lambda: self.strip.step(1)}[action]()

    def _show_overlay(self) -> None:
        canvas = self._canvas
        if canvas is None or not shiboken6.isValid(canvas):
            return
        highlight = self.regions_box.highlight()  # the chosen region, tinted, while the Regions list has focus
        if highlight is not None:
            key = ("region", id(highlight[0]))
            if key != self._overlay_key_shown:
                self._overlay_key_shown = key
                canvas.set_overlay(*highlight)
            return
        if self.live.enabled:
            frame = self.live.frame
            key = (-1, id(frame)) if frame is not None else None
            if key != self._overlay_key_shown:
                self._overlay_key_shown = key
                region = frame.region if frame is not None else None
                canvas.set_overlay(None if frame is None else frame.preview, (region.x, region.y) if region else
                                   (0, 0), (region.width, region.height) if region else None)
            return
        chosen = self._chosen()
        landing = None
        if chosen is not None and self._document_provider() is not None:
            try:
                landing = self.controller.landing(chosen)
            except GenArtError:
                landing = None
        key = (chosen.id, id(landing)) if landing is not None else None
        if key == self._overlay_key_shown:
            return  # progress of other images: the picture on the canvas is the same
        self._overlay_key_shown = key
        if landing is None:
            canvas.set_overlay(None)
        else:
            canvas.set_overlay(landing, (chosen.placement.rect.x, chosen.placement.rect.y))

    # ================================================================== models
    def refresh_models(self, rescan: bool = False) -> None:
        current = self.model_combo.currentData()
        if rescan and self.controller.registry is not None:
            self.controller.registry.rescan()
            self.controller.forget_models()
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for entry in self.controller.models():
            label = entry.name if entry.family == "diffusion" else f"{entry.name} (Stable Diffusion)"
            self.model_combo.addItem(label, entry.id)
        index = max(0, self.model_combo.findData(current))
        self.model_combo.setCurrentIndex(index if self.model_combo.count() else -1)
        self.model_combo.blockSignals(False)
        if self.model_combo.count():
            self._model_chosen()
        else:
            self._info = None
            self.controller.set_settings(DiffusionSettings())  # sensible values until a model brings its own
            self.model_note.setText("No diffusion models found. Put a model folder (model.json + .onnx) or a Stable "
                                    "Diffusion ONNX export in your models folder, then press \u21bb.")
            self._update_buttons()

    def _model_chosen(self, *_args) -> None:
        model_id = self.model_combo.currentData()
        if model_id is None:
            return
        previous = self.controller.settings if self._info is not None else None
        try:
            settings = self.controller.default_settings(model_id, previous)
        except GenArtError as exc:
            self._info = None
            self.model_note.setText(str(exc))
            self._update_buttons()
            return
        self.controller.set_settings(settings)

    def _show_model(self, info: ModelInfo) -> None:
        """Fit the controls to a model: which conditioning page, size steps, what it can do."""
        self._info = info
        self.condition_stack.setCurrentWidget(self._pages[info.conditioning])
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        self.class_combo.addItems(list(info.classes))
        self.class_combo.blockSignals(False)
        self.guidance_spin.setEnabled(info.conditioning != "none")
        self.control_box.set_model(info)
        self.steps_spin.setMaximum(info.max_steps)
        for spin in (self.width_spin, self.height_spin):
            spin.setSingleStep(info.size_step)
            spin.setEnabled(info.fixed_size is None)
        sizes = info.size_rule()[len(info.name) + 1:]  # "makes 64x64 images only" / "makes sizes in multiples..."
        notes = [f"Native size {info.native_size[0]}\u00d7{info.native_size[1]}; {sizes}"
                 + ("; other sizes are made natively and scaled" if info.fixed_size else "")]
        if not info.can_start_from_image:
            notes.append("cannot start from the canvas")
        self.model_note.setText(" \u00b7 ".join(notes))  # short; the model's description is in the tooltips
        self.model_note.setToolTip(info.description)
        self.model_combo.setToolTip(info.description or MODEL_TIP)
        examples = ", ".join(f'"{e}"' for e in info.examples)
        self.prompt_edit.setPlaceholderText(f"Describe the image, e.g. {examples}" if examples
                                            else "Describe the image\u2026")
        if info.vocabulary:
            stride = max(1, len(info.vocabulary) // 12)
            examples = ", ".join(info.vocabulary[::stride][:12])
            self.prompt_edit.setToolTip(f"This model knows {len(info.vocabulary)} words, for example: {examples}")
        else:
            self.prompt_edit.setToolTip("")
        self._check_prompt()
        self._update_buttons()

    def _check_prompt(self) -> None:
        problem = self._info.prompt_problems(self.prompt_edit.toPlainText()) if self._info is not None else ""
        self.prompt_hint.setText(problem)
        self.prompt_hint.setVisible(bool(problem))

    def _set_native_size(self) -> None:
        if self._info is not None:
            width, height = self._info.snap_size(*self._info.native_size)
            self.controller.set_settings(dataclasses.replace(self.controller.settings, width=width, height=height))

    def _sampler_chosen(self, *_args) -> None:
        self.eta_spin.setEnabled(self.sampler_combo.currentData() == "ddim")

    # ================================================================== settings <-> controls
    def _bindings(self) -> tuple[Binding, ...]:
        """Each setting's control: how to read it, how to set it, and the signal that says the user changed it."""
        return (
            ("prompt", lambda: self.prompt_edit.toPlainText().strip(), self.prompt_edit.setPlainText,
             self.prompt_edit.textChanged),
            ("negative_prompt", lambda: self.negative_edit.text().strip(), self.negative_edit.setText,
             self.negative_edit.textChanged),
            ("class_label", self.class_combo.currentText, self._set_class, self.class_combo.currentTextChanged),
            ("steps", self.steps_spin.value, self.steps_spin.setValue, self.steps_spin.valueChanged),
            ("sampler", lambda: str(self.sampler_combo.currentData()), self._set_sampler,
             self.sampler_combo.currentIndexChanged),
            ("guidance", lambda: round(self.guidance_spin.value(), 4), self.guidance_spin.setValue,
             self.guidance_spin.valueChanged),
            ("eta", lambda: round(self.eta_spin.value(), 4), self.eta_spin.setValue, self.eta_spin.valueChanged),
            ("seed", self.seed_control.value, self.seed_control.set_value, self.seed_control.changed),
            ("seed_mode", self.seed_control.mode, self.seed_control.set_mode, self.seed_control.changed),
            ("width", self.width_spin.value, self.width_spin.setValue, self.width_spin.valueChanged),
            ("height", self.height_spin.value, self.height_spin.setValue, self.height_spin.valueChanged),
            ("batch_count", self.batch_spin.value, self.batch_spin.setValue, self.batch_spin.valueChanged),
            ("strength", lambda: round(self.strength.value(), 4), self.strength.set_value,
             self.strength.value_changed),
            ("fit", self.placement_section.fit, self.placement_section.set_fit, self.fit_combo.currentIndexChanged),
            ("keep_background", self.keep_background_check.isChecked, self.keep_background_check.setChecked,
             self.keep_background_check.toggled),
            ("feather", self.feather_spin.value, self.feather_spin.setValue, self.feather_spin.valueChanged),
            ("control_strength", lambda: round(self.control_box.strength.value(), 4),
             self.control_box.strength.set_value, self.control_box.strength.value_changed),
            ("control_mode", self.control_box.mode, self.control_box.set_mode,
             self.control_box.mode_combo.currentIndexChanged),
        )

    def _set_class(self, label: str) -> None:
        if label:
            self.class_combo.setCurrentIndex(max(0, self.class_combo.findText(label)))

    def _set_sampler(self, name: str) -> None:
        self.sampler_combo.setCurrentIndex(max(0, self.sampler_combo.findData(name)))

    def current_settings(self) -> DiffusionSettings:
        """The settings the controls show (the model is the chosen one in the list)."""
        values = {name: read() for name, read, _write, _changed in self._bindings()}
        return DiffusionSettings(model_id=str(self.model_combo.currentData() or ""), **values)

    def _controls_edited(self, *_args) -> None:
        if not self._showing:
            self.controller.set_settings(self.current_settings())

    def _show_settings(self, settings: DiffusionSettings) -> None:
        """Set every control to ``settings`` (the model too, without resetting the others to its defaults); a
        control that cannot hold a value (a clamped spin box) reports what it shows back to the controller."""
        self._showing = True
        try:
            index = self.model_combo.findData(settings.model_id)
            if index >= 0 and (self._info is None or self._info.id != settings.model_id
                               or self.model_combo.currentIndex() != index):
                self.model_combo.blockSignals(True)
                self.model_combo.setCurrentIndex(index)
                self.model_combo.blockSignals(False)
                self._show_model(self.controller.info(settings.model_id))
            for name, read, write, _changed in self._bindings():
                value = getattr(settings, name)
                if read() != value:
                    write(value)
            self._sampler_chosen()
            self.placement_section.show_settings(settings)
        finally:
            self._showing = False
        if self._info is not None:
            self._controls_edited()

    # ================================================================== document
    def set_document(self, document: Document | None) -> None:
        self._document = follow(self._document, document, self._document_changed)
        self.live.set_document(document)
        self.regions_box.set_document(document)
        self.control_box.set_document(document)
        self._update_buttons()

    def _document_changed(self, change: Any) -> None:
        if not shiboken6.isValid(self):  # the dock was closed for good while the document lives on
            return
        if change.kind in ("selection", "document", "history"):
            self._update_buttons()

    def _update_buttons(self) -> None:
        info = self._info
        doc = self._document_provider()
        has_model = info is not None
        can_image = has_model and info.can_start_from_image and doc is not None
        has_selection = doc is not None and not doc.selection.is_empty
        self.generate_button.setEnabled(has_model)
        self.canvas_button.setEnabled(can_image)
        self.live_button.setEnabled(can_image or self.live.enabled)
        self.keep_button.setEnabled(self.live.enabled and self.live.frame is not None and doc is not None)
        self.inpaint_button.setEnabled(can_image and has_selection)
        self.inpaint_button.setToolTip("Repaint only the selected area; the rest stays" if has_selection
                                       else "Select an area on the canvas first")
        chosen = self._chosen()
        done = chosen is not None and chosen.state == "done"
        self.accept_button.setEnabled(done and doc is not None)
        self.export_button.setEnabled(done)
        self.discard_button.setEnabled(chosen is not None)
        self.cancel_button.setEnabled(self.controller.busy)
        self.restore_button.setEnabled(self.history_list.selected_id() is not None)
        self.previous_button.setEnabled(self.strip.count() > 1)
        self.next_button.setEnabled(self.strip.count() > 1)
        self._show_overlay()

    def _chosen(self) -> StagedResult | None:
        result_id = self.strip.selected_id()
        if result_id is None:
            return None
        try:
            return self.controller.staged_result(result_id)
        except GenArtError:
            return None

    # ================================================================== actions
    def generate(self) -> bool:
        return self._submit(GENERATE)

    def from_canvas(self) -> bool:
        return self._submit(FROM_CANVAS)

    def inpaint(self) -> bool:
        return self._submit(INPAINT)

    def _submit(self, action: str) -> bool:
        try:
            entries, _shown = self.controller.submit(action, doc=self._document_provider())
        except GenArtError as exc:
            self._say(str(exc), error=True)
            return False
        self.strip.select(entries[-1].id)
        count = len(entries)
        self._say(f"Queued {count} image{'s' if count > 1 else ''} (seed {entries[0].recipe.seed}"
                  + (f"\u2013{entries[-1].recipe.seed})" if count > 1 else ")"))
        self._update_buttons()
        return True

    def accept_selected(self) -> bool:
        chosen = self._chosen()
        if chosen is None:
            return False
        try:
            layer = self.controller.accept(chosen.id, self._document_provider())
        except GenArtError as exc:
            self._say(str(exc), error=True)
            return False
        self._say(f"Added layer \u201c{layer.name}\u201d")
        self.layer_added.emit(layer)
        self._update_buttons()
        return True

    def discard_selected(self) -> None:
        chosen = self._chosen()
        if chosen is not None:
            self.controller.discard(chosen.id)

    def cancel_all(self) -> None:
        self.controller.cancel_all()
        self._say("Cancelling\u2026")

    def export_selected(self, path: str | Path | None = None) -> bool:
        chosen = self._chosen()
        if chosen is None or chosen.state != "done":
            return False
        if path is None:
            r = chosen.recipe
            path = dialogs.ask_save_path(self, "Export PNG with recipe", PNG_FILTER, f"{r.model_id}-{r.seed}.png")
            if not path:
                return False
        path = Path(path)
        if path.suffix.lower() != ".png":
            path = path.with_name(path.name + ".png")
        try:
            self.controller.export_png(chosen.id, path)
        except GenArtError as exc:
            dialogs.show_error(self, "Export PNG", str(exc))
            return False
        self._say(f"Exported {path.name} with its recipe")
        return True

    def restore_selected(self) -> bool:
        item_id = self.history_list.selected_id()
        if item_id is None:
            return False
        try:
            recipe = self.controller.history_item(item_id).recipe
            self.controller.restore_onto(recipe, self._document_provider())
            return self._restore(self.controller.restore(item_id), recipe.model_id)
        except GenArtError as exc:
            self._say(str(exc), error=True)
            return False

    def open_png(self, path: str | Path | None = None) -> bool:
        if path is None:
            path = dialogs.ask_open_path(self, "Open PNG recipe", PNG_FILTER)
            if not path:
                return False
        try:
            settings, item = self.controller.open_png(path)
            self.controller.restore_onto(item.recipe, self._document_provider())
        except GenArtError as exc:
            dialogs.show_error(self, "Open PNG recipe", str(exc))
            return False
        return self._restore(settings, item.recipe.model_id)

    def _restore(self, settings: DiffusionSettings, model_id: str) -> bool:
        if self.model_combo.findData(model_id) < 0:
            current = self.controller.settings
            self.controller.set_settings(dataclasses.replace(settings, model_id=current.model_id,
                                                             class_label=current.class_label))
            self._say(f"The model \u201c{model_id}\u201d is not installed; the other settings were restored.",
                      error=True)
            return False
        self.controller.set_settings(settings)
        self._say(f"Restored the settings of seed {settings.seed}")
        return True

    # ================================================================== live mode
    def set_live(self, enabled: bool) -> bool:
        """Turn live mode on or off (the Live button); False with the reason shown when it cannot start."""
        try:
            self.live.set_enabled(bool(enabled))
        except GenArtError as exc:
            self._say(str(exc), error=True)
            self._live_toggled(False)
            return False
        return True

    def keep_live(self) -> bool:
        try:
            layer = self.live.keep(self._document_provider())
        except GenArtError as exc:
            self._say(str(exc), error=True)
            return False
        self._say(f"Kept the live frame as layer \u201c{layer.name}\u201d")
        self.layer_added.emit(layer)
        return True

    def _live_toggled(self, enabled: bool) -> None:
        if self.live_button.isChecked() != enabled:
            self.live_button.blockSignals(True)
            self.live_button.setChecked(enabled)
            self.live_button.blockSignals(False)
        self._say("Live: paint and the picture follows; Keep adds the frame as a layer" if enabled else "")
        self._overlay_key_shown = ()  # whichever overlay belongs now is drawn
        self._update_buttons()

    def _live_frame(self, _frame: LiveFrame | None) -> None:
        if shiboken6.isValid(self):
            self._update_buttons()

    # ================================================================== controller signals (GUI thread)
    def _staged_changed(self, entry: StagedResult | None) -> None:
        """A job's result changed (``entry``), or results were added or removed (None)."""
        if entry is None or entry not in self.controller.staged:
            self.strip.sync(self.controller.staged)
        else:
            self.strip.update_entry(entry)
        if entry is not None and entry.state == "failed":
            self._say(entry.message, error=True)
        elif entry is not None or self._working():
            self._show_activity()  # after a cancel (entry None) the activity line must not keep its last step
        self._update_buttons()

    def _history_changed(self) -> None:
        self.history_list.sync(self.controller.history)
        self._update_buttons()

    def _show_activity(self) -> None:
        waiting = [e for e in self.controller.staged if not e.finished]
        if waiting:
            running = next((e for e in waiting if e.state == "running"), None)
            detail = f" \u00b7 {running.message}" if running is not None and running.message else ""
            self._say(f"Working on {len(waiting)} image{'s' if len(waiting) > 1 else ''}{detail}")
        else:
            done = sum(1 for e in self.controller.staged if e.state == "done")
            self._say(f"{done} result{'s' if done != 1 else ''} ready: accept one as a layer or discard"
                      if done else "")

    def _working(self) -> bool:
        return self.status.text().startswith(("Working on", "Cancelling"))

    def _say(self, message: str, error: bool = False) -> None:
        was_working = self._working()
        self.status.setText(message)
        self.status.setStyleSheet(ERROR if error else MUTED)
        if message or was_working:
            self.status_changed.emit(message)  # "" clears a stale "Working on ..." from the window's status bar

    @property
    def busy(self) -> bool:
        return self.controller.busy


def install_diffusion_panel(window: Any) -> QDockWidget:
    """Dock the diffusion panel in the main window (tabbed with the other AI panels on the left), its controller on
    the window's workspace; the panel is ``window.diffusion_panel``."""
    from genart_desktop.ui.services import services_for

    controller = DiffusionController(services_for(window).workspace)
    panel = DiffusionPanel(controller, lambda: window.document)
    window.diffusion_panel = panel
    if getattr(window, "canvas", None) is not None:
        panel.set_canvas(window.canvas)
    window.document_replaced.connect(panel.set_document)
    panel.status_changed.connect(lambda message: window.statusBar().showMessage(message, 6000))
    neighbour = next((title for title in ("Style", "Latent Explorer", "Tools") if title in window.docks), None)
    dock = window.add_panel(panel, "Diffusion", Qt.DockWidgetArea.LeftDockWidgetArea, tabify_with=neighbour)
    if "Tools" in window.docks:
        window.docks["Tools"].raise_()
    if dock.width() < DOCK_WIDTH:
        window.resizeDocks([dock], [DOCK_WIDTH], Qt.Orientation.Horizontal)  # room for prompts and the strip
    return dock
