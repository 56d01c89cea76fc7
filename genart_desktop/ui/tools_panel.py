"""The Tools dock: tool buttons plus the options of the current tool (brush settings, fill, selection)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup, QCheckBox, QComboBox, QFormLayout, QGridLayout, QGroupBox, QLabel, QToolButton, QVBoxLayout, QWidget,
)

from genart_desktop.ui.icons import icon
from genart_desktop.ui.widgets import ValueSlider
from genart_desktop.workspace.tools import SELECTION_MODES, Tool, ToolController

TOOL_SHORTCUTS = {
    Tool.BRUSH: "B", Tool.ERASER: "E", Tool.PICKER: "I", Tool.FILL: "G", Tool.SELECT_RECT: "M",
    Tool.SELECT_ELLIPSE: "Shift+M", Tool.SELECT_LASSO: "L", Tool.SELECT_BRUSH: "Shift+B", Tool.MOVE: "V",
}


class ToolsPanel(QWidget):
    tool_changed = Signal(str)

    def __init__(self, controller: ToolController, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.buttons: dict[Tool, QToolButton] = {}
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        grid = QGridLayout()
        grid.setSpacing(2)
        for number, tool in enumerate(Tool):
            button = QToolButton()
            button.setCheckable(True)
            button.setIcon(icon(tool.value))
            button.setIconSize(button.iconSize() * 1.4)
            button.setToolTip(f"{tool.label} ({TOOL_SHORTCUTS[tool]})")
            button.setAutoRaise(True)
            button.clicked.connect(lambda _checked=False, t=tool: self.select_tool(t))
            self._group.addButton(button)
            self.buttons[tool] = button
            grid.addWidget(button, number // 5, number % 5)

        brush = controller.brush
        self.size = ValueSlider("Size", 1, 500, brush.size, suffix=" px", log=True)
        self.hardness = ValueSlider("Hardness", 0, 100, brush.hardness * 100, suffix=" %")
        self.opacity = ValueSlider("Opacity", 0, 100, brush.opacity * 100, suffix=" %")
        self.flow = ValueSlider("Flow", 1, 100, brush.flow * 100, suffix=" %")
        self.spacing = ValueSlider("Spacing", 1, 200, brush.spacing * 100, suffix=" %")
        self.pressure_size = QCheckBox("Pressure \u2192 size")
        self.pressure_size.setChecked(brush.pressure_size)
        self.pressure_opacity = QCheckBox("Pressure \u2192 opacity")
        self.pressure_opacity.setChecked(brush.pressure_opacity)
        self.size.value_changed.connect(lambda v: controller.set_brush(size=float(v)))
        self.hardness.value_changed.connect(lambda v: controller.set_brush(hardness=v / 100.0))
        self.opacity.value_changed.connect(lambda v: controller.set_brush(opacity=v / 100.0))
        self.flow.value_changed.connect(lambda v: controller.set_brush(flow=v / 100.0))
        self.spacing.value_changed.connect(lambda v: controller.set_brush(spacing=v / 100.0))
        self.pressure_size.toggled.connect(lambda on: controller.set_brush(pressure_size=bool(on)))
        self.pressure_opacity.toggled.connect(lambda on: controller.set_brush(pressure_opacity=bool(on)))
        self.brush_box = QGroupBox("Brush")
        box = QVBoxLayout(self.brush_box)
        for widget in (self.size, self.hardness, self.opacity, self.flow, self.spacing, self.pressure_size,
                       self.pressure_opacity):
            box.addWidget(widget)

        options = controller.options
        self.tolerance = ValueSlider("Tolerance", 0, 255, options.fill_tolerance)
        self.tolerance.value_changed.connect(lambda v: controller.set_option(fill_tolerance=int(v)))
        self.contiguous = QCheckBox("Contiguous")
        self.contiguous.setChecked(options.fill_contiguous)
        self.contiguous.toggled.connect(lambda on: controller.set_option(fill_contiguous=bool(on)))
        self.sample_merged = QCheckBox("Sample all layers")
        self.sample_merged.setChecked(options.sample_merged)
        self.sample_merged.toggled.connect(lambda on: controller.set_option(sample_merged=bool(on)))
        self.fill_box = QGroupBox("Fill and picker")
        box = QVBoxLayout(self.fill_box)
        for widget in (self.tolerance, self.contiguous, self.sample_merged):
            box.addWidget(widget)

        self.selection_mode = QComboBox()
        for mode in SELECTION_MODES:
            self.selection_mode.addItem(mode.capitalize(), mode)
        self.selection_mode.currentIndexChanged.connect(
            lambda _i: controller.set_option(selection_mode=self.selection_mode.currentData()))
        self.feather = ValueSlider("Feather", 0, 200, options.selection_feather, suffix=" px")
        self.feather.value_changed.connect(lambda v: controller.set_option(selection_feather=int(v)))
        self.selection_box = QGroupBox("Selection")
        form = QFormLayout(self.selection_box)
        form.addRow("Mode", self.selection_mode)
        form.addRow(self.feather)
        hint = QLabel("Shift adds \u00b7 Alt subtracts \u00b7 Ctrl: square")
        hint.setEnabled(False)
        form.addRow(hint)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(grid)
        layout.addWidget(self.brush_box)
        layout.addWidget(self.fill_box)
        layout.addWidget(self.selection_box)
        layout.addStretch(1)
        self.select_tool(controller.tool)

    def select_tool(self, tool: Tool | str) -> None:
        tool = Tool(tool)
        self.controller.set_tool(tool)
        self.buttons[tool].setChecked(True)
        self.brush_box.setVisible(tool.paints)
        self.brush_box.setTitle("Selection brush" if tool is Tool.SELECT_BRUSH else
                                "Eraser" if tool is Tool.ERASER else "Brush")
        self.fill_box.setVisible(tool in (Tool.FILL, Tool.PICKER))
        self.tolerance.setEnabled(tool is Tool.FILL)
        self.contiguous.setEnabled(tool is Tool.FILL)
        self.selection_box.setVisible(tool.selects)
        self.tool_changed.emit(tool.value)

    def sync_from_controller(self) -> None:
        """Show the controller's current brush (e.g. after a keyboard shortcut changed the size)."""
        brush = self.controller.brush
        self.size.set_value(brush.size)
        self.hardness.set_value(brush.hardness * 100)
        self.opacity.set_value(brush.opacity * 100)
        self.flow.set_value(brush.flow * 100)
        self.spacing.set_value(brush.spacing * 100)
