"""The latent explorer panel: model, seed and truncation, the neighbour grid with history, and the tab pages
(directions, bookmarks, breeding, animation, canvas) from the ``latent_*_tab`` modules.

It binds to :class:`genart_desktop.workspace.latent.LatentController`: every click becomes a controller call, and
the controller's signals (its jobs' results, delivered on the GUI thread by the workspace, and changes of its
shared state) update the widgets. Renders run in the workspace's interactive lane, coalesced to the latest request,
so they never wait behind a diffusion batch. The panel needs only the workspace and a callable returning the current
document, so it can be built and tested on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from genart_desktop.core.errors import GenArtError
from genart_desktop.document.document import Document
from genart_desktop.engine.latent.bookmarks import BookmarkLibrary
from genart_desktop.engine.latent.neighbours import centre_index
from genart_desktop.engine.latent.space import GAN, LatentSpace
from genart_desktop.ui.binding import Binding, bind
from genart_desktop.ui.latent_animate_tab import AnimateTab
from genart_desktop.ui.latent_bookmarks_tab import BookmarksTab
from genart_desktop.ui.latent_breed_tab import BreedTab
from genart_desktop.ui.latent_canvas_tab import CanvasTab
from genart_desktop.ui.latent_directions_tab import DirectionsTab
from genart_desktop.ui.latent_grid import ImageGrid
from genart_desktop.ui.widgets import ValueSlider, button, compact_combo
from genart_desktop.workspace.latent import GridResult, LatentController

DocumentProvider = Callable[[], Document | None]


class LatentExplorerPanel(QWidget):
    """Explore the latent space of a GAN or VAE and bring what you find onto the canvas."""

    status_changed = Signal(str)
    layer_added = Signal(object)

    def __init__(self, workspace: Any, document_provider: DocumentProvider, library: BookmarkLibrary | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = LatentController(workspace, library)
        self._document = document_provider
        self._grid: GridResult | None = None
        self._build()
        controller, state = self.controller, self.controller.state
        self.bind([(controller.status, self.set_status), (controller.progress, self._progress),
                   (controller.jobs_changed, self._jobs_changed), (controller.model_changed, self._model_loaded),
                   (controller.grid_ready, self._show_grid), (state.changed, self._show_state),
                   (state.directions_changed, self.directions.refresh),
                   (state.bookmarks_changed, self.refresh_bookmarks),
                   (controller.thumbnails_ready, self.bookmarks.show_thumbnails)])
        self.refresh_models()

    def bind(self, bindings: list[Binding]) -> None:
        """Connect controller signals to slots of this panel or its tabs, for as long as the panel lives."""
        bind(self, bindings)

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

        self.model_combo = compact_combo(QComboBox(), 12)
        self.model_combo.setToolTip("GAN and VAE models found in the model folders")
        self.model_combo.currentIndexChanged.connect(self._model_chosen)
        layout.addWidget(self.model_combo)

        seed_row = QHBoxLayout()
        self.random_button = button("Random", "Jump to a random point (a new seed)", self.randomise)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(-1, 2**31 - 1)
        self.seed_spin.setSpecialValueText("none")  # -1: the current image has no seed
        self.seed_spin.setToolTip("The seed of the current image; type one and press Use to find it again")
        self.use_seed_button = button("Use", "Go to the image of this seed", self.use_seed)
        seed_row.addWidget(QLabel("Seed"))
        seed_row.addWidget(self.seed_spin, 1)
        seed_row.addWidget(self.use_seed_button)
        layout.addLayout(seed_row)
        self.seed_label = QLabel("")
        self.seed_label.setStyleSheet("color: #9aa4b2;")
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
        self.back_button = button("\u25c0", "Back: the previous centre", self.back)
        self.forward_button = button("\u25b6", "Forward: the next centre", self.forward)
        self.shuffle_button = button("Shuffle", "Other neighbours around the same centre", self.shuffle)
        self.grid_combo = QComboBox()
        for size in (3, 5):
            self.grid_combo.addItem(f"{size}\u00d7{size}", size)
        self.grid_combo.setToolTip("How many neighbours to show")
        self.grid_combo.currentIndexChanged.connect(self._grid_size_changed)
        for arrow in (self.back_button, self.forward_button):
            arrow.setMaximumWidth(40)
        for widget in (self.back_button, self.forward_button, self.shuffle_button, self.random_button):
            nav.addWidget(widget)
        layout.addLayout(nav)
        size_row = QHBoxLayout()  # on its own row, so the panel fits a narrow dock
        size_row.addWidget(QLabel("Neighbours"))
        size_row.addWidget(self.grid_combo, 1)
        layout.addLayout(size_row)

        self.spread = ValueSlider("Spread", 0.0, 2.0, self.controller.history.spread, decimals=2)
        self.spread.setToolTip("How far the neighbours stray from the centre")
        self.spread.value_changed.connect(self._spread_changed)
        layout.addWidget(self.spread)

        self.directions = DirectionsTab(self)
        self.bookmarks = BookmarksTab(self)
        self.breeding = BreedTab(self)
        self.animate = AnimateTab(self)
        self.canvas = CanvasTab(self)
        self.canvas.layer_added.connect(self.layer_added)
        self.tabs = QTabWidget()
        self.tabs.setUsesScrollButtons(False)  # every tab title in full: the dock is wide enough for the five
        self.tabs.tabBar().setElideMode(Qt.TextElideMode.ElideNone)
        self.tabs.setDocumentMode(True)
        self.tabs.setStyleSheet("QTabBar::tab { padding: 4px 7px; min-width: 0px; }")
        for page, title in ((self.directions, "Directions"), (self.bookmarks, "Bookmarks"),
                            (self.breeding, "Breed"), (self.animate, "Animate"), (self.canvas, "Canvas")):
            self.tabs.addTab(page, title)
        self.tabs.setTabToolTip(2, "Crossbreeds bookmarks: tick two or more in the Bookmarks tab first")
        self.tabs.setTabToolTip(3, "Animates a path through the bookmarks ticked in the Bookmarks tab")
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

    # ================================================================== what the tab pages use (ExplorerHost)
    def document(self) -> Document | None:
        return self._document()

    def call(self, action: Callable[[], Any]) -> Any:
        """``action()``, or None with the error in the status line when it raises a GenArtError."""
        try:
            return action()
        except GenArtError as exc:
            self.set_status(str(exc), error=True)
            return None

    def attempt(self, action: Callable[[], Any]) -> bool:
        """Like :meth:`call`, for actions without a value: True when it succeeded."""
        try:
            action()
        except GenArtError as exc:
            self.set_status(str(exc), error=True)
            return False
        return True

    def set_status(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet("color: #ff7a7a;" if error else "color: #b8b8c0;")
        self.status.setText(text)
        self.status_changed.emit(text)

    def _show_state(self) -> None:
        """The centre, sliders, truncation or grid settings changed (the controller re-renders the grid)."""
        self.directions.show_values()
        self.truncation.set_value(self.controller.state.truncation)
        size = self.controller.history.grid_size
        self.grid.set_layout(size, size * size, centre_index(size))
        self._update_controls()

    def ticked_bookmarks(self) -> list[str]:
        return self.bookmarks.ticked()

    def tick_bookmarks(self, bookmark_ids: list[str]) -> None:
        self.bookmarks.tick(bookmark_ids)

    def refresh_bookmarks(self) -> None:
        """Re-read bookmarks from the document and the library (call this when the document is replaced)."""
        marks = self.call(lambda: self.controller.bookmarks.all(self._document())) or []
        self.bookmarks.show_bookmarks(marks)
        self.directions.set_bookmarks(marks)

    # ================================================================== jobs
    def _progress(self, fraction: float) -> None:
        self.progress.setValue(int(fraction * 1000))

    def _jobs_changed(self) -> None:
        if self.controller.long_running:
            if self.progress.isHidden():
                self.progress.setValue(0)
            self.progress.show()
        else:
            self.progress.hide()
        self.grid.set_busy(self.controller.pending("grid"))

    @property
    def busy(self) -> bool:
        """True while any job this panel started is still pending or running."""
        return self.controller.busy

    def shutdown(self) -> None:
        """Stop this panel's background work (the workspace's runner belongs to the window)."""
        self.controller.shutdown()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.shutdown()
        super().closeEvent(event)

    # ================================================================== models
    def refresh_models(self) -> None:
        """List the registry's GAN and VAE models (keeps the current choice when it still exists)."""
        current = self.model_combo.currentData()
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for entry in self.call(self.controller.models) or []:
            self.model_combo.addItem(f"{entry.name}  ({entry.family.upper()})", entry.id)
        self.model_combo.blockSignals(False)
        if self.model_combo.count() == 0:
            self.model_combo.addItem("No GAN or VAE models found", None)
            self._update_controls()
            self.set_status("Add a GAN or VAE model folder to the models directory to explore it.")
            return
        self.model_combo.setCurrentIndex(max(0, self.model_combo.findData(current)))
        self._update_controls()
        self._model_chosen()

    def _model_chosen(self, *_: Any) -> None:
        model_id = self.model_combo.currentData()
        if model_id is None or self.controller.state.is_model(model_id):
            return
        self.open_model(model_id)

    def open_model(self, model_id: str) -> None:
        """Load a model in the background (sessions can take a moment), then start exploring it."""
        self.controller.open_model(model_id)

    def _model_loaded(self, space: LatentSpace) -> None:
        width, height = space.image_size
        self.set_status(f"{space.name}: {space.kind.upper()}, latent {list(space.latent_shape)}, "
                        f"{width}\u00d7{height} images.")
        self.breeding.clear()
        self.truncation.set_value(1.0)
        self.canvas.fit()
        self.refresh_bookmarks()
        self._update_controls()

    def _update_controls(self) -> None:
        state, history = self.controller.state, self.controller.history
        space = state.space
        loaded = space is not None
        for widget in (self.random_button, self.seed_spin, self.use_seed_button, self.shuffle_button, self.tabs,
                       self.grid_combo, self.spread):
            widget.setEnabled(loaded)
        self.truncation.setVisible(loaded and space.kind == GAN)
        self.canvas.update_for_model()
        self.back_button.setEnabled(history.can_go_back)
        self.forward_button.setEnabled(history.can_go_forward)
        seed = state.seed
        if seed is not None:
            self.seed_spin.blockSignals(True)
            self.seed_spin.setValue(seed)
            self.seed_spin.blockSignals(False)
            self.seed_label.setText(f"Seed {seed}" + (" (edited)" if state.edited else ""))
        else:  # no seed makes this image: the spin box must not show the last one as if it did
            self.seed_spin.blockSignals(True)
            self.seed_spin.setValue(self.seed_spin.minimum())
            self.seed_spin.blockSignals(False)
            how = "Encoded from the canvas" if state.encoded_region is not None else "Found by exploring"
            self.seed_label.setText(f"{how} (no seed)" if loaded else "")

    # ================================================================== the grid
    def request_grid(self) -> None:
        """Render the neighbour grid for the current state (coalesced: only the latest request is computed)."""
        self.controller.request_grid()

    def _show_grid(self, result: GridResult) -> None:
        self._grid = result
        self.grid.set_layout(result.size, result.size * result.size, centre_index(result.size))
        self.grid.set_images(result.images)
        self.grid.set_busy(self.controller.pending("grid"))

    @property
    def shown_grid(self) -> GridResult | None:
        return self._grid

    def current_image(self) -> np.ndarray | None:
        """The centre image as last rendered (None until the first grid arrives)."""
        if self._grid is None:
            return None
        return self._grid.images[centre_index(self._grid.size)]

    def recentre(self, index: int) -> None:
        """Clicking a neighbour: the image on screen in that cell becomes the centre (the grid follows)."""
        grid = self._grid
        if grid is not None:
            self.attempt(lambda: self.controller.history.recentre(index, grid.latents))

    def back(self) -> None:
        self.controller.history.back()

    def forward(self) -> None:
        self.controller.history.forward()

    def shuffle(self) -> None:
        self.controller.history.shuffle()

    def randomise(self) -> None:
        self.attempt(self.controller.history.randomise)

    def use_seed(self, seed: int | None = None) -> None:
        value = self.seed_spin.value() if seed is None else int(seed)
        if value < 0:
            self.set_status("Type a seed first.", error=True)
            return
        self.attempt(lambda: self.controller.history.randomise(value))

    def set_slider(self, index: int, value: float) -> None:
        """Move direction slider ``index`` exactly as a drag step does."""
        self.directions.set_slider(index, value)

    def _grid_size_changed(self, *_: Any) -> None:
        self.attempt(lambda: self.controller.history.set_grid(size=int(self.grid_combo.currentData())))

    def _spread_changed(self, value: float) -> None:
        self.attempt(lambda: self.controller.history.set_grid(spread=value))

    def _truncation_changed(self, value: float) -> None:
        self.attempt(lambda: self.controller.state.set_truncation(value))
