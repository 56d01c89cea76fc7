"""The Placement section of the Diffusion dock: how a result lands on the painting (fit or fill a region of another
shape, keep or drop a plain background, the soft edge inside a selection).

These are set once and rarely touched, so the section is folded by default and its header sums them up
("Placement: Fit inside, feather 8 px"). The controls are dock settings, bound by the panel's settings table; the
panel calls :meth:`PlacementSection.show_settings` whenever the settings change.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QSpinBox,
    QWidget,
)

from genart_desktop.ui.collapsible import CollapsibleSection
from genart_desktop.workspace.diffusion import MAX_FEATHER, DiffusionSettings


class PlacementSection(CollapsibleSection):
    """Fit or fill, keep the background, and the edge feather."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Placement", "diffusion-placement", parent=parent)
        self.fit_combo = QComboBox()
        self.fit_combo.addItem("Fit inside", "fit")
        self.fit_combo.addItem("Fill (crop)", "fill")
        self.fit_combo.setToolTip("A fixed-size model's picture in a region of another shape: fit it inside "
                                  "(transparent margins) or fill the region (the overflow is cropped). Never "
                                  "stretched.")
        self.keep_background_check = QCheckBox("Keep background")
        self.keep_background_check.setToolTip("Off: a plain background around a generated subject becomes "
                                              "transparent, so it lands on the painting without a box")
        self.feather_spin = QSpinBox()
        self.feather_spin.setRange(0, MAX_FEATHER)
        self.feather_spin.setSuffix(" px")
        self.feather_spin.setToolTip("Inpaint and From canvas in a selection: the soft edge inside the selection, "
                                     "so the new pixels blend into the painting")
        fit_row = QHBoxLayout()
        fit_row.addWidget(self.fit_combo, 1)
        fit_row.addWidget(self.keep_background_check)
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.addRow("Fit", fit_row)
        form.addRow("Edge feather", self.feather_spin)
        self.content.addLayout(form)

    # -- binding helpers (the panel's settings table) --------------------------------------------------------------
    def fit(self) -> str:
        return str(self.fit_combo.currentData())

    def set_fit(self, fit: str) -> None:
        self.fit_combo.setCurrentIndex(max(0, self.fit_combo.findData(fit)))

    def show_settings(self, settings: DiffusionSettings) -> None:
        """Sum up the placement in the header."""
        fit = self.fit_combo.itemText(max(0, self.fit_combo.findData(settings.fit)))
        kept = ", background kept" if settings.keep_background else ""
        self.set_summary(f"{fit}{kept}, feather {settings.feather} px")
