"""The latent explorer panel: neighbour grid, direction sliders, bookmarks, crossbreeding, animation and the canvas.

It adapts :class:`genart_desktop.workspace.latent.LatentExplorer`: every click becomes a controller call, every
image comes from a job on a background runner (renders share coalesce keys, so a dragged slider only renders the
latest position), and results arrive on the GUI thread through a :class:`JobBridge`. The panel needs only the model
registry and a callable returning the current document, so it can be built and tested on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from genart_desktop.core.errors import GenArtError
from genart_desktop.document.document import Document
from genart_desktop.engine.jobs import JobRequest, JobRunner
from genart_desktop.engine.latent import animation
from genart_desktop.engine.latent.bookmarks import BookmarkLibrary
from genart_desktop.engine.latent.crossbreed import CROSSOVER, MIX
from genart_desktop.engine.latent.neighbours import centre_index
from genart_desktop.engine.latent.space import GAN, LatentSpace
from genart_desktop.ui import dialogs
from genart_desktop.ui.job_bridge import JobBridge
from genart_desktop.ui.latent_grid import ImageGrid, rgb_to_qimage
from genart_desktop.ui.latent_sliders import DirectionSliders
from genart_desktop.ui.widgets import ValueSlider
from genart_desktop.workspace.latent import GridResult, LatentExplorer

FORMAT_LABELS = [("GIF", animation.GIF), ("MP4 video", animation.MP4), ("PNG sequence", animation.PNG_SEQUENCE)]
SCRUB_STEPS = 1000

DocumentProvider = Callable[[], Document | None]


def _button(text: str, tip: str, slot: Callable[[], Any]) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tip)
    button.clicked.connect(lambda _=False: slot())
    return button


class LatentExplorerPanel(QWidget):
    """Explore the latent space of a GAN or VAE and bring what you find onto the canvas."""

    status_changed = Signal(str)
    layer_added = Signal(object)

    def __init__(self, registry: Any, document_provider: DocumentProvider, runner: JobRunner | None = None,
                 library: BookmarkLibrary | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.explorer = LatentExplorer(registry, library)
        self._document = document_provider
        self._own_runner = runner is None
        self._runner = runner if runner is not None else JobRunner(1, name="latent-explorer")
        self._bridge = JobBridge(parent=self)
        self._handlers: dict[int, tuple[Callable[[Any], None], str]] = {}
        self._shown: dict[str, int] = {}
        self._grid: GridResult | None = None
        self._children: GridResult | None = None
        self._scrub_image: np.ndarray | None = None
        self._loading_model: str | None = None
        self._bridge.finished.connect(self._finished)
        self._bridge.failed.connect(self._failed)
        self._bridge.cancelled.connect(self._cancelled)
        self._bridge.progress.connect(self._progress)
        self._build()
        self.refresh_models()

    # ================================================================== building
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        outer.addWidget(scroll)
        body = QWidget()
        scroll.setWidget(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)

        self.model_combo = QComboBox()
        self.model_combo.setToolTip("GAN and VAE models found in the model folders")
        self.model_combo.currentIndexChanged.connect(self._model_chosen)
        layout.addWidget(self.model_combo)

        seed_row = QHBoxLayout()
        self.random_button = _button("Random", "Jump to a random point (a new seed)", self.randomise)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setToolTip("The seed of the current image; type one and press Use to find it again")
        self.use_seed_button = _button("Use", "Go to the image of this seed", self.use_seed)
        self.seed_label = QLabel("")
        self.seed_label.setStyleSheet("color: #9aa4b2;")
        seed_row.addWidget(self.random_button)
        seed_row.addWidget(QLabel("Seed"))
        seed_row.addWidget(self.seed_spin, 1)
        seed_row.addWidget(self.use_seed_button)
        layout.addLayout(seed_row)
        layout.addWidget(self.seed_label)

        self.truncation = ValueSlider("Truncation", 0.0, 1.0, 1.0, decimals=2)
        self.truncation.setToolTip("Lower values give more typical, cleaner images with less variety (GAN only)")
        self.truncation.value_changed.connect(self._truncation_changed)
        layout.addWidget(self.truncation)

        self.grid = ImageGrid(3, marked=4)
        self.grid.setToolTip("Click an image to make it the centre")
        self.grid.cell_clicked.connect(self.recentre)
        layout.addWidget(self.grid)

        nav = QHBoxLayout()
        self.back_button = _button("\u25c0 Back", "The previous centre", self.back)
        self.forward_button = _button("Forward \u25b6", "The next centre", self.forward)
        self.shuffle_button = _button("Shuffle", "Other neighbours around the same centre", self.shuffle)
        self.grid_combo = QComboBox()
        for size in (3, 5):
            self.grid_combo.addItem(f"{size}\u00d7{size}", size)
        self.grid_combo.setToolTip("How many neighbours to show")
        self.grid_combo.currentIndexChanged.connect(self._grid_size_changed)
        for widget in (self.back_button, self.forward_button, self.shuffle_button):
            nav.addWidget(widget)
        nav.addStretch(1)
        nav.addWidget(self.grid_combo)
        layout.addLayout(nav)

        self.spread = ValueSlider("Spread", 0.0, 2.0, self.explorer.spread, decimals=2)
        self.spread.setToolTip("How far the neighbours stray from the centre")
        self.spread.value_changed.connect(self._spread_changed)
        layout.addWidget(self.spread)

        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_directions(), "Directions")
        self.tabs.addTab(self._build_bookmarks(), "Bookmarks")
        self.tabs.addTab(self._build_breed(), "Breed")
        self.tabs.addTab(self._build_animate(), "Animate")
        self.tabs.addTab(self._build_canvas(), "Canvas")
        layout.addWidget(self.tabs)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(6)
        self.progress.hide()
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addStretch(1)

    def _build_directions(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.sliders = DirectionSliders()
        self.sliders.moved.connect(self._slider_moved)
        self.sliders.delete_requested.connect(self.delete_direction)
        layout.addWidget(self.sliders)
        self.reset_sliders_button = _button("Reset sliders", "Put every slider back to zero", self.reset_sliders)
        layout.addWidget(self.reset_sliders_button)
        save_row = QHBoxLayout()
        self.direction_name = QLineEdit()
        self.direction_name.setPlaceholderText("Name for this slider mix")
        self.save_direction_button = _button("Save direction", "Keep what the sliders do now as a named slider",
                                             self.save_direction)
        save_row.addWidget(self.direction_name, 1)
        save_row.addWidget(self.save_direction_button)
        layout.addLayout(save_row)
        pair = QGroupBox("From two images")
        form = QFormLayout(pair)
        self.pair_a = QComboBox()
        self.pair_b = QComboBox()
        self.pair_name = QLineEdit()
        self.pair_name.setPlaceholderText("e.g. brighter")
        self.define_button = _button("Define direction", "A slider that moves from image A toward image B",
                                     self.define_direction)
        form.addRow("From (A)", self.pair_a)
        form.addRow("To (B)", self.pair_b)
        form.addRow("Name", self.pair_name)
        form.addRow(self.define_button)
        layout.addWidget(pair)
        return page

    def _build_bookmarks(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        row = QHBoxLayout()
        self.bookmark_name = QLineEdit()
        self.bookmark_name.setPlaceholderText("Bookmark name")
        self.bookmark_button = _button("Bookmark", "Remember the current image (saved with the document and in "
                                       "your library)", self.bookmark_current)
        row.addWidget(self.bookmark_name, 1)
        row.addWidget(self.bookmark_button)
        layout.addLayout(row)
        self.bookmark_list = QListWidget()
        self.bookmark_list.setToolTip("Tick bookmarks to crossbreed them or to animate a path through them "
                                      "(in list order); double-click to go there")
        self.bookmark_list.itemDoubleClicked.connect(lambda item: self.recall(item.data(Qt.ItemDataRole.UserRole)))
        self.bookmark_list.setMinimumHeight(120)
        layout.addWidget(self.bookmark_list)
        buttons = QHBoxLayout()
        buttons.addWidget(_button("Go to", "Make the selected bookmark the centre", self._recall_selected))
        buttons.addWidget(_button("Delete", "Delete the selected bookmark", self._delete_selected))
        layout.addLayout(buttons)
        return page

    def _build_breed(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(QLabel("Crossbreeds the ticked bookmarks."))
        form = QFormLayout()
        self.breed_mode = QComboBox()
        self.breed_mode.addItem("Mix (blend)", MIX)
        self.breed_mode.addItem("Crossover (genes)", CROSSOVER)
        self.breed_ratio = ValueSlider("", 0.0, 1.0, 0.5, decimals=2)
        self.breed_ratio.setToolTip("Share of the first ticked parent; the others share the rest")
        self.breed_count = QSpinBox()
        self.breed_count.setRange(1, 12)
        self.breed_count.setValue(6)
        self.breed_mutation = ValueSlider("", 0.0, 1.0, 0.15, decimals=2)
        self.breed_mutation.setToolTip("Random variation added to each child")
        form.addRow("Mode", self.breed_mode)
        form.addRow("Ratio", self.breed_ratio)
        form.addRow("Children", self.breed_count)
        form.addRow("Mutation", self.breed_mutation)
        layout.addLayout(form)
        self.breed_button = _button("Breed", "Make children of the ticked bookmarks", self.breed)
        layout.addWidget(self.breed_button)
        self.children_grid = ImageGrid(4, marked=None, min_cell=36)
        self.children_grid.set_layout(4, 0)
        self.children_grid.setToolTip("Click a child to make it the centre")
        self.children_grid.cell_clicked.connect(self.adopt_child)
        layout.addWidget(self.children_grid)
        return page

    def _build_animate(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(QLabel("A path through the ticked bookmarks, in list order."))
        self.scrub_view = QLabel()
        self.scrub_view.setFixedSize(160, 160)
        self.scrub_view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.scrub_view.setStyleSheet("background: #242427; border: 1px solid #1d1d20;")
        layout.addWidget(self.scrub_view, 0, Qt.AlignmentFlag.AlignHCenter)
        self.scrubber = QSlider(Qt.Orientation.Horizontal)
        self.scrubber.setRange(0, SCRUB_STEPS)
        self.scrubber.setToolTip("Scrub along the path")
        self.scrubber.valueChanged.connect(self._scrubbed)
        layout.addWidget(self.scrubber)
        form = QFormLayout()
        self.frames_spin = QSpinBox()
        self.frames_spin.setRange(2, 2000)
        self.frames_spin.setValue(48)
        self.fps_spin = QSpinBox()
        self.fps_spin.setRange(1, animation.MAX_FPS)
        self.fps_spin.setValue(24)
        self.export_size = QSpinBox()
        self.export_size.setRange(16, 4096)
        self.export_size.setValue(256)
        self.export_size.setSuffix(" px")
        self.loop_check = QCheckBox("Loop back to the start")
        self.format_combo = QComboBox()
        for label, fmt in FORMAT_LABELS:
            self.format_combo.addItem(label, fmt)
        if not animation.mp4_available():
            index = self.format_combo.findData(animation.MP4)
            item = self.format_combo.model().item(index)
            item.setEnabled(False)
            item.setToolTip("MP4 needs ffmpeg (the imageio-ffmpeg package), which is not installed")
        form.addRow("Frames", self.frames_spin)
        form.addRow("Frames/s", self.fps_spin)
        form.addRow("Width", self.export_size)
        form.addRow("Format", self.format_combo)
        form.addRow(self.loop_check)
        layout.addLayout(form)
        self.export_button = _button("Export\u2026", "Render the path and save it as an animation", self.ask_export)
        layout.addWidget(self.export_button)
        return page

    def _build_canvas(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        encode = QGroupBox("Encode (VAE)")
        encode_layout = QVBoxLayout(encode)
        self.encode_source = QComboBox()
        self.encode_source.addItem("Visible image (in the selection)", "selection")
        self.encode_source.addItem("Active layer (in the selection)", "layer")
        self.encode_button = _button("Encode into latent space", "Bring the canvas into the model's latent space "
                                     "and explore around it", self.encode)
        encode_layout.addWidget(self.encode_source)
        encode_layout.addWidget(self.encode_button)
        layout.addWidget(encode)
        place = QGroupBox("Place on canvas")
        form = QFormLayout(place)
        self.place_width = QSpinBox()
        self.place_height = QSpinBox()
        for spin in (self.place_width, self.place_height):
            spin.setRange(1, 16384)
            spin.setValue(256)
            spin.setSuffix(" px")
        self.fit_button = _button("Fit", "Use the size of the encoded region, the selection or 4x the model's size",
                                  self.fit_placement)
        size_row = QHBoxLayout()
        size_row.addWidget(self.place_width)
        size_row.addWidget(QLabel("\u00d7"))
        size_row.addWidget(self.place_height)
        size_row.addWidget(self.fit_button)
        form.addRow("Size", size_row)
        self.place_button = _button("Place current image", "Add the centre image as a new layer, resampled "
                                    "smoothly to this size", self.place_current)
        form.addRow(self.place_button)
        layout.addWidget(place)
        layout.addStretch(1)
        return page

    # ================================================================== jobs
    def _submit(self, request: JobRequest, on_result: Callable[[Any], None], kind: str) -> int:
        handle = self._runner.submit(request, self._bridge.post)
        self._handlers[handle.job_id] = (on_result, kind)
        if kind in ("directions", "export", "load"):
            self.progress.setValue(0)
            self.progress.show()
        return handle.job_id

    def _try(self, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except GenArtError as exc:
            self.set_status(str(exc), error=True)
            return None

    def _attempt(self, action: Callable[[], Any]) -> bool:
        """Run ``action``; a GenArtError becomes the status message. True when it succeeded."""
        try:
            action()
        except GenArtError as exc:
            self.set_status(str(exc), error=True)
            return False
        return True

    def _finished(self, job_id: int, value: Any) -> None:
        entry = self._handlers.pop(job_id, None)
        if entry is None:
            return
        handler, kind = entry
        last = self._shown.get(kind, 0)
        if kind in ("grid", "children", "scrub") and job_id < last:
            return  # an older render finished after a newer one was shown
        self._shown[kind] = job_id
        self._hide_progress_if_idle()
        try:
            handler(value)
        except GenArtError as exc:
            self.set_status(str(exc), error=True)

    def _failed(self, job_id: int, message: str) -> None:
        if self._handlers.pop(job_id, None) is not None:
            self._hide_progress_if_idle()
            self.grid.set_busy(False)
            self.set_status(message, error=True)

    def _cancelled(self, job_id: int) -> None:
        if self._handlers.pop(job_id, None) is not None:
            self._hide_progress_if_idle()

    def _progress(self, job_id: int, fraction: float, message: str) -> None:
        entry = self._handlers.get(job_id)
        if entry is not None and entry[1] in ("directions", "export", "load"):
            self.progress.setValue(int(fraction * 1000))

    def _hide_progress_if_idle(self) -> None:
        if not any(kind in ("directions", "export", "load") for _, kind in self._handlers.values()):
            self.progress.hide()

    @property
    def busy(self) -> bool:
        """True while any job this panel started is still pending or running."""
        return bool(self._handlers)

    def set_status(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet("color: #ff7a7a;" if error else "color: #b8b8c0;")
        self.status.setText(text)
        self.status_changed.emit(text)

    def shutdown(self) -> None:
        """Stop background work (the panel's own runner is shut down; a shared one only loses our jobs)."""
        for job_id in list(self._handlers):
            self._runner.cancel(job_id)
        self._handlers.clear()
        if self._own_runner:
            self._runner.shutdown(wait=True, timeout=5.0)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.shutdown()
        super().closeEvent(event)

    # ================================================================== models
    def refresh_models(self) -> None:
        """List the registry's GAN and VAE models (keeps the current choice when it still exists)."""
        current = self.model_combo.currentData()
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for entry in self._try(self.explorer.models) or []:
            self.model_combo.addItem(f"{entry.name}  ({entry.family.upper()})", entry.id)
        self.model_combo.blockSignals(False)
        if self.model_combo.count() == 0:
            self.model_combo.addItem("No GAN or VAE models found", None)
            self._update_enabled()
            self.set_status("Add a GAN or VAE model folder to the models directory to explore it.")
            return
        index = self.model_combo.findData(current)
        self.model_combo.setCurrentIndex(max(0, index))
        if self.model_combo.currentData() != current or self.explorer.space is None:
            self._model_chosen()

    def _model_chosen(self, *_: Any) -> None:
        model_id = self.model_combo.currentData()
        if model_id is None or (self.explorer.space is not None and self.explorer.space.model_id == model_id):
            return
        self.open_model(model_id)

    def open_model(self, model_id: str) -> None:
        self._loading_model = model_id
        self.set_status(f"Loading {model_id}\u2026")
        self._submit(self.explorer.load_request(model_id), self._model_loaded, "load")

    def _model_loaded(self, space: LatentSpace) -> None:
        if space.model_id != self._loading_model:
            return
        self.explorer.use_space(space)
        index = self.model_combo.findData(space.model_id)
        if index >= 0 and self.model_combo.currentIndex() != index:
            self.model_combo.blockSignals(True)
            self.model_combo.setCurrentIndex(index)
            self.model_combo.blockSignals(False)
        width, height = space.image_size
        self.set_status(f"{space.name}: {space.kind.upper()}, latent {list(space.latent_shape)}, "
                        f"{width}\u00d7{height} images.")
        self._children = None
        self.children_grid.set_layout(4, 0)
        self.children_grid.set_images([])
        self.truncation.set_value(1.0)
        self.fit_placement()
        self._refresh_directions()
        self.refresh_bookmarks()
        self._update_enabled()
        self.request_grid()
        if not self.explorer.principal:
            self._submit(self.explorer.principal_request(),
                         lambda found, mid=space.model_id: self._principal_found(found, mid), "directions")

    def _principal_found(self, directions: list, model_id: str) -> None:
        if self.explorer.set_principal(directions, model_id):
            self._refresh_directions()

    def _update_enabled(self) -> None:
        space = self.explorer.space
        loaded = space is not None
        gan = loaded and space.kind == GAN
        for widget in (self.random_button, self.seed_spin, self.use_seed_button, self.shuffle_button, self.tabs,
                       self.grid_combo, self.spread):
            widget.setEnabled(loaded)
        self.truncation.setVisible(gan)
        self.truncation.setEnabled(gan)
        self.encode_button.setEnabled(loaded and space.can_encode)
        self.encode_source.setEnabled(loaded and space.can_encode)
        self.encode_button.setToolTip("Bring the canvas into the model's latent space" if loaded and space.can_encode
                                      else "Only VAE models (with an encoder) can encode images")
        self.back_button.setEnabled(self.explorer.can_go_back)
        self.forward_button.setEnabled(self.explorer.can_go_forward)
        seed = self.explorer.seed
        if seed is not None:
            self.seed_spin.blockSignals(True)
            self.seed_spin.setValue(seed)
            self.seed_spin.blockSignals(False)
            edited = any(self.explorer.sliders) or (gan and self.explorer.truncation < 1.0)
            self.seed_label.setText(f"Seed {seed}" + (" (edited)" if edited else ""))
        else:
            self.seed_label.setText("Found by exploring (no seed)" if loaded else "")

    # ================================================================== rendering
    def request_grid(self) -> None:
        """Render the neighbour grid for the current state (coalesced: only the latest request is computed)."""
        if self.explorer.space is None:
            return
        request = self._try(self.explorer.grid_request)
        if request is None:
            return
        size = self.explorer.grid_size
        self.grid.set_layout(size, size * size, centre_index(size))
        self.grid.set_busy(True)
        self._submit(request, self._show_grid, "grid")
        self._update_enabled()

    def _show_grid(self, result: GridResult) -> None:
        self._grid = result
        self.grid.set_layout(result.size, result.size * result.size, centre_index(result.size))
        self.grid.set_images(result.images)
        if "grid" in [kind for _, kind in self._handlers.values()]:
            self.grid.set_busy(True)

    @property
    def shown_grid(self) -> GridResult | None:
        return self._grid

    def current_image(self) -> np.ndarray | None:
        """The centre image as last rendered (None until the first grid arrives)."""
        if self._grid is None:
            return None
        return self._grid.images[centre_index(self._grid.size)]

    # ================================================================== grid actions
    def recentre(self, index: int) -> None:
        if self._grid is None:
            return
        grid = self._grid
        if self._attempt(lambda: self.explorer.recentre(index, grid.latents)):
            self._after_move()

    def _after_move(self) -> None:
        self.sliders.set_values(self.explorer.sliders)
        self.truncation.set_value(self.explorer.truncation)
        self.request_grid()

    def back(self) -> None:
        if self.explorer.back():
            self._after_move()

    def forward(self) -> None:
        if self.explorer.forward():
            self._after_move()

    def shuffle(self) -> None:
        self.explorer.shuffle()
        self.request_grid()

    def randomise(self) -> None:
        if self._attempt(self.explorer.randomise):
            self._after_move()

    def use_seed(self, seed: int | None = None) -> None:
        value = self.seed_spin.value() if seed is None else int(seed)
        if self._attempt(lambda: self.explorer.randomise(value)):
            self._after_move()

    def _grid_size_changed(self, *_: Any) -> None:
        self._try(lambda: self.explorer.set_grid(size=int(self.grid_combo.currentData())))
        self.request_grid()

    def _spread_changed(self, value: float) -> None:
        self._try(lambda: self.explorer.set_grid(spread=value))
        self.request_grid()

    def _truncation_changed(self, value: float) -> None:
        self._try(lambda: self.explorer.set_truncation(value))
        self.request_grid()

    # ================================================================== directions
    def _refresh_directions(self) -> None:
        rows = []
        for direction in self.explorer.directions:
            if direction.kind == "principal":
                share = f"{100 * direction.variance:.1f}% of the variation" if direction.variance else ""
                rows.append((direction.name, f"Principal direction {direction.name} {share}".strip(), False))
            else:
                rows.append((direction.name, f"Your direction \u201c{direction.name}\u201d", True))
        self.sliders.set_directions(rows, self.explorer.sliders)

    def _slider_moved(self, index: int, value: float) -> None:
        self._try(lambda: self.explorer.set_slider(index, value))
        self.request_grid()

    def set_slider(self, index: int, value: float) -> None:
        """Move a direction slider as a drag would (used by tests and scripting)."""
        self.sliders.sliders[index].setValue(int(round(value * 100)))

    def reset_sliders(self) -> None:
        self.explorer.reset_sliders()
        self.sliders.set_values(self.explorer.sliders)
        self.request_grid()

    def save_direction(self) -> None:
        saved = self._try(lambda: self.explorer.save_current_direction(self.direction_name.text()))
        if saved is not None:
            self.direction_name.clear()
            self._refresh_directions()
            self.set_status(f"Saved the direction \u201c{saved.name}\u201d.")

    def define_direction(self) -> None:
        marks = {m.bookmark_id: m for m in self.explorer.bookmarks(self._document())}
        a, b = marks.get(self.pair_a.currentData()), marks.get(self.pair_b.currentData())
        if a is None or b is None:
            self.set_status("Bookmark two images first, then choose them as A and B.", error=True)
            return
        name = self.pair_name.text().strip() or f"{a.name} \u2192 {b.name}"
        saved = self._try(lambda: self.explorer.define_direction(a.latent, b.latent, name))
        if saved is not None:
            self.pair_name.clear()
            self._refresh_directions()
            self.set_status(f"New direction \u201c{saved.name}\u201d: slide it to move from A toward B.")

    def delete_direction(self, name: str) -> None:
        if self._attempt(lambda: self.explorer.delete_direction(name)):
            self._refresh_directions()
            self.request_grid()

    # ================================================================== bookmarks
    def refresh_bookmarks(self) -> None:
        """Re-read bookmarks from the document and the library (call when the document is replaced)."""
        ticked = set(self.ticked_bookmarks())
        marks = self._try(lambda: self.explorer.bookmarks(self._document())) or []
        self.bookmark_list.clear()
        for combo in (self.pair_a, self.pair_b):
            combo.clear()
        for mark in marks:
            item = QListWidgetItem(mark.name + (f"  (seed {mark.seed})" if mark.seed is not None else ""))
            item.setData(Qt.ItemDataRole.UserRole, mark.bookmark_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if mark.bookmark_id in ticked else Qt.CheckState.Unchecked)
            self.bookmark_list.addItem(item)
            self.pair_a.addItem(mark.name, mark.bookmark_id)
            self.pair_b.addItem(mark.name, mark.bookmark_id)
        if self.pair_b.count() > 1:
            self.pair_b.setCurrentIndex(1)

    def ticked_bookmarks(self) -> list[str]:
        ids = []
        for row in range(self.bookmark_list.count()):
            item = self.bookmark_list.item(row)
            if item.checkState() == Qt.CheckState.Checked:
                ids.append(item.data(Qt.ItemDataRole.UserRole))
        return ids

    def tick_bookmarks(self, bookmark_ids: list[str]) -> None:
        for row in range(self.bookmark_list.count()):
            item = self.bookmark_list.item(row)
            wanted = item.data(Qt.ItemDataRole.UserRole) in bookmark_ids
            item.setCheckState(Qt.CheckState.Checked if wanted else Qt.CheckState.Unchecked)

    def bookmark_current(self, name: str | None = None) -> Any:
        text = self.bookmark_name.text() if name is None else name
        mark = self._try(lambda: self.explorer.bookmark(text, self._document()))
        if mark is not None:
            self.bookmark_name.clear()
            self.refresh_bookmarks()
            self.set_status(f"Bookmarked \u201c{mark.name}\u201d.")
        return mark

    def recall(self, bookmark_id: str) -> None:
        if self._attempt(lambda: self.explorer.recall(bookmark_id, self._document())):
            self._after_move()

    def _selected_id(self) -> str | None:
        item = self.bookmark_list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def _recall_selected(self) -> None:
        bookmark_id = self._selected_id()
        if bookmark_id is not None:
            self.recall(bookmark_id)

    def _delete_selected(self) -> None:
        bookmark_id = self._selected_id()
        if bookmark_id is not None:
            self._try(lambda: self.explorer.delete_bookmark(bookmark_id, self._document()))
            self.refresh_bookmarks()

    # ================================================================== breeding
    def breed(self) -> None:
        ids = self.ticked_bookmarks()
        children = self._try(lambda: self.explorer.breed(
            ids, self.breed_mode.currentData(), self.breed_ratio.value(), self.breed_count.value(),
            mutation=self.breed_mutation.value(), doc=self._document()))
        if children is None:
            return
        self.children_grid.set_layout(4, len(children))
        self.children_grid.set_busy(True)
        self._submit(self.explorer.children_request(), self._show_children, "children")

    def _show_children(self, result: GridResult) -> None:
        self._children = result
        self.children_grid.set_layout(4, len(result.images))
        self.children_grid.set_images(result.images)
        self.set_status(f"{len(result.images)} children: click one to explore from it.")

    @property
    def shown_children(self) -> GridResult | None:
        return self._children

    def adopt_child(self, index: int) -> None:
        if self._children is None or not 0 <= index < len(self._children.latents):
            return
        children = self._children
        if self._attempt(lambda: self.explorer.move_to(children.latents[index])):
            self._after_move()

    # ================================================================== animation
    def _scrubbed(self, value: int) -> None:
        doc = self._document()
        ticked = self.ticked_bookmarks()
        if self.explorer.path_ids != ticked and not self._attempt(lambda: self.explorer.set_path(ticked, doc)):
            return
        request = self._try(lambda: self.explorer.scrub_request(value / SCRUB_STEPS, doc))
        if request is not None:
            self._submit(request, self._show_scrub, "scrub")

    def _show_scrub(self, result: GridResult) -> None:
        self._scrub_image = result.images[0]
        pixmap = QPixmap.fromImage(rgb_to_qimage(result.images[0]))
        self.scrub_view.setPixmap(pixmap.scaled(self.scrub_view.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                                Qt.TransformationMode.SmoothTransformation))

    @property
    def scrub_image(self) -> np.ndarray | None:
        return self._scrub_image

    def ask_export(self) -> None:
        """Ask where to save (a PNG sequence is named by its first file: walk.png -> walk_0001.png ...)."""
        fmt = self.format_combo.currentData()
        suffix = {animation.GIF: ".gif", animation.MP4: ".mp4", animation.PNG_SEQUENCE: ".png"}[fmt]
        label = self.format_combo.currentText()
        path = dialogs.ask_save_path(self, "Export animation", f"{label} (*{suffix})", f"latent-walk{suffix}")
        if path:
            if not path.lower().endswith(suffix):
                path += suffix
            self.export_to(path)

    def export_to(self, path: str | Path, fmt: str | None = None) -> int | None:
        """Start exporting the ticked path to ``path`` (format from the combo unless given); returns the job id."""
        doc = self._document()
        fmt = fmt or self.format_combo.currentData()

        def make() -> JobRequest:
            self.explorer.set_path(self.ticked_bookmarks(), doc)
            return self.explorer.export_request(path, fmt, self.frames_spin.value(), self.fps_spin.value(),
                                                self.export_size.value(), self.loop_check.isChecked(), doc)

        request = self._try(make)
        if request is None:
            return None
        self.set_status(f"Exporting {Path(path).name}\u2026")
        return self._submit(request, self._exported, "export")

    def _exported(self, paths: list[Path]) -> None:
        where = paths[0] if len(paths) == 1 else f"{len(paths)} frames in {paths[0].parent}"
        self.set_status(f"Exported {where}.")

    # ================================================================== VAE and canvas
    def encode(self) -> None:
        doc = self._document()
        if doc is None:
            self.set_status("Open or create a document first.", error=True)
            return
        request = self._try(lambda: self.explorer.encode_request(doc, self.encode_source.currentData()))
        if request is not None:
            self.set_status("Encoding\u2026")
            self._submit(request, self._encoded, "encode")

    def _encoded(self, value: tuple) -> None:
        mean, region, model_id = value
        if self.explorer.apply_encoded(mean, region, model_id):
            self.fit_placement()
            self.set_status("Encoded: explore around it, then place the result back on the canvas.")
            self._after_move()

    def fit_placement(self) -> None:
        doc = self._document()
        if doc is None or self.explorer.space is None:
            return
        rect = self._try(lambda: self.explorer.default_placement(doc))
        if rect is not None:
            self.place_width.setValue(rect.width)
            self.place_height.setValue(rect.height)

    def place_current(self) -> None:
        """Render the current image and add it to the canvas as a new layer at the chosen size."""
        doc = self._document()
        if doc is None or self.explorer.space is None:
            self.set_status("Open a document and choose a model first.", error=True)
            return
        latent = self.explorer.current()
        request = JobRequest(lambda context: self.explorer.render(latent[None], context)[0], "Rendering for canvas",
                             ("latent-place", id(self)))
        self._submit(request, lambda image: self._place(image, latent), "place")

    def _place(self, image: np.ndarray, latent: np.ndarray) -> None:
        doc = self._document()
        if doc is None:
            return
        width, height = self.place_width.value(), self.place_height.value()
        rect = self.explorer.default_placement(doc)
        if (rect.width, rect.height) == (width, height):
            origin = (rect.x, rect.y)
        else:
            origin = (rect.x + (rect.width - width) // 2, rect.y + (rect.height - height) // 2)
        layer = self._try(lambda: self.explorer.place_on_canvas(doc, image, width, height, origin, latent=latent))
        if layer is not None:
            self.set_status(f"Added the layer \u201c{layer.name}\u201d ({width}\u00d7{height}).")
            self.layer_added.emit(layer)

