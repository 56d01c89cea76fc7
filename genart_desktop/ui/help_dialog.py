"""Help > Quick start and Help > Keyboard shortcuts: HTML pages shipped in resources/help, shown in a QTextBrowser.

Why shipped pages rather than a website: the app runs offline, and the pages travel with the version they describe.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from genart_desktop.core.paths import resources_dir
from genart_desktop.core.safe_read import read_regular

PAGES = {"quick-start": "Quick start", "shortcuts": "Keyboard shortcuts"}
MAX_PAGE_BYTES = 1 << 20


def page_html(name: str) -> str:
    """The page's HTML (a missing or unreadable page says so instead of failing)."""
    path = resources_dir() / "help" / f"{name}.html"
    try:
        return read_regular(path, MAX_PAGE_BYTES).decode("utf-8", "replace")
    except Exception:  # noqa: BLE001 - a help page must never break the app
        return f"<p>The help page {name!r} is missing from this installation.</p>"


class HelpDialog(QDialog):
    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(PAGES.get(name, "Help"))
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setHtml(page_html(name))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(640, 620)
