"""Crossbreeding the ticked bookmarks into a litter of children; clicking a child explores from it."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QSpinBox, QVBoxLayout, QWidget

from genart_desktop.engine.latent.crossbreed import CROSSOVER, MIX
from genart_desktop.ui.latent_grid import ImageGrid
from genart_desktop.ui.latent_host import ExplorerHost
from genart_desktop.ui.widgets import ValueSlider, button, wrapped_label
from genart_desktop.workspace.latent import GridResult

COLUMNS = 4


class BreedTab(QWidget):
    def __init__(self, host: ExplorerHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.shown: GridResult | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(wrapped_label("Crossbreeds the bookmarks ticked in the Bookmarks tab (two or more)."))
        form = QFormLayout()
        self.mode = QComboBox()
        self.mode.addItem("Mix (blend)", MIX)
        self.mode.addItem("Crossover (genes)", CROSSOVER)
        self.ratio = ValueSlider("First", 0.0, 1.0, 0.5, decimals=2)
        self.ratio.setToolTip("Share of the first ticked parent; the others share the rest")
        self.count = QSpinBox()
        self.count.setRange(1, 12)
        self.count.setValue(6)
        self.mutation = ValueSlider("Amount", 0.0, 1.0, 0.15, decimals=2)
        self.mutation.setToolTip("Random variation added to each child")
        form.addRow("Mode", self.mode)
        form.addRow("Ratio", self.ratio)
        form.addRow("Children", self.count)
        form.addRow("Mutation", self.mutation)
        layout.addLayout(form)
        self.breed_button = button("Breed", "Make children of the ticked bookmarks", self.breed)
        layout.addWidget(self.breed_button)
        self.grid = ImageGrid(COLUMNS, marked=None, min_cell=36)
        self.grid.set_layout(COLUMNS, 0)
        self.grid.setToolTip("Click a child to make it the centre")
        self.grid.cell_clicked.connect(self.adopt)
        layout.addWidget(self.grid)
        host.bind([(host.controller.children_ready, self._show)])

    def clear(self) -> None:
        self.shown = None
        self.grid.set_layout(COLUMNS, 0)
        self.grid.set_images([])

    def breed(self) -> None:
        host = self.host
        breeding = host.controller.breeding
        ids = host.ticked_bookmarks()
        children = host.call(lambda: breeding.breed(ids, self.mode.currentData(), self.ratio.value(),
                                                    self.count.value(), mutation=self.mutation.value(),
                                                    doc=host.document()))
        if children is None:
            return
        self.grid.set_layout(COLUMNS, len(children))
        self.grid.set_busy(True)
        host.controller.submit(breeding.children_request(), "children")

    def _show(self, result: GridResult) -> None:
        self.shown = result
        self.grid.set_layout(COLUMNS, len(result.images))
        self.grid.set_images(result.images)
        self.host.set_status(f"{len(result.images)} children: click one to explore from it.")

    def adopt(self, index: int) -> None:
        shown = self.shown
        if shown is None or not 0 <= index < len(shown.latents):
            return
        self.host.attempt(lambda: self.host.controller.history.move_to(shown.latents[index]))
