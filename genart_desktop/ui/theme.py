"""The dark theme: Fusion style with a neutral grey palette so colours on the canvas are judged against grey."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

CANVAS_BACKGROUND = QColor(43, 43, 46)
ACCENT = QColor(74, 144, 226)

_STYLE_SHEET = """
QMainWindow::separator { background: #232326; width: 4px; height: 4px; }
QDockWidget { titlebar-close-icon: none; }
QDockWidget::title { background: #2b2b2f; padding: 5px 8px; border-bottom: 1px solid #1d1d20; }
QToolButton { border: 1px solid transparent; border-radius: 4px; padding: 3px; }
QToolButton:hover { background: #3a3a40; border-color: #4a4a52; }
QToolButton:checked { background: #2f4f77; border-color: #4a90e2; }
QStatusBar { background: #232326; color: #b8b8c0; }
QStatusBar QLabel { padding: 0 8px; }
QListWidget { background: #262629; border: 1px solid #1d1d20; }
QListWidget::item { padding: 2px; }
QListWidget::item:selected { background: #2f4f77; }
QSlider::groove:horizontal { height: 4px; background: #1d1d20; border-radius: 2px; }
QSlider::handle:horizontal { background: #9aa4b2; width: 12px; margin: -5px 0; border-radius: 6px; }
QSlider::sub-page:horizontal { background: #4a90e2; border-radius: 2px; }
QGroupBox { border: 1px solid #3a3a40; border-radius: 4px; margin-top: 10px; padding-top: 6px; }
QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 4px; color: #b8b8c0; }
"""


def dark_palette() -> QPalette:
    palette = QPalette()
    window, base, text = QColor(50, 50, 54), QColor(36, 36, 39), QColor(222, 222, 226)
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: QColor(44, 44, 48),
        QPalette.ColorRole.ToolTipBase: QColor(30, 30, 33),
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: QColor(130, 130, 138),
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: QColor(58, 58, 63),
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor(255, 90, 90),
        QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
        QPalette.ColorRole.Link: ACCENT,
        QPalette.ColorRole.Light: QColor(72, 72, 78),
        QPalette.ColorRole.Midlight: QColor(62, 62, 68),
        QPalette.ColorRole.Mid: QColor(40, 40, 44),
        QPalette.ColorRole.Dark: QColor(28, 28, 31),
        QPalette.ColorRole.Shadow: QColor(15, 15, 17),
    }
    for role, colour in roles.items():
        palette.setColor(role, colour)
    disabled = QColor(120, 120, 126)
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return palette


def apply_dark_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    app.setStyleSheet(_STYLE_SHEET)
