"""Every question the main window asks the user, in one module so tests can replace them (monkeypatch)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from genart_desktop.ui.new_document_dialog import NewDocumentDialog, NewDocumentSpec

IMAGE_PATTERNS = "*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp"
OPEN_FILTER = f"All supported (*.ora {IMAGE_PATTERNS});;OpenRaster (*.ora);;Images ({IMAGE_PATTERNS});;All files (*)"
LAYER_FILTER = f"Images ({IMAGE_PATTERNS});;All files (*)"
SAVE_FILTER = "OpenRaster (*.ora)"
EXPORT_FILTER = "PNG image (*.png);;JPEG image (*.jpg *.jpeg);;WebP image (*.webp)"


def ask_open_path(parent: QWidget | None, title: str, file_filter: str, directory: str = "") -> str | None:
    path, _ = QFileDialog.getOpenFileName(parent, title, directory, file_filter)
    return path or None


def ask_save_path(parent: QWidget | None, title: str, file_filter: str, suggested: str = "") -> str | None:
    path, chosen = QFileDialog.getSaveFileName(parent, title, suggested, file_filter)
    if not path:
        return None
    if not Path(path).suffix:
        # the filter's first pattern gives the default extension, e.g. "(*.ora)" -> ".ora"
        pattern = chosen or file_filter
        start = pattern.find("(*") + 2
        if start > 1:
            path += pattern[start:].split(")")[0].split()[0]
    return path


def ask_unsaved_changes(parent: QWidget | None, name: str) -> str:
    """"save", "discard" or "cancel"."""
    return _ask_save_discard_cancel(parent, "Unsaved changes", f"Save the changes to \u201c{name}\u201d?",
                                    "Your changes will be lost if you don't save them.")


def ask_unsaved_work(parent: QWidget | None, description: str) -> str:
    """Closing would lose work kept beside the document (unaccepted diffusion results): "save" (into the
    document's file), "discard" or "cancel"."""
    return _ask_save_discard_cancel(parent, "Unaccepted results", description,
                                    "Save keeps them in the document's .ora file; they come back when you open it.")


def _ask_save_discard_cancel(parent: QWidget | None, title: str, text: str, detail: str) -> str:
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setText(text)
    box.setInformativeText(detail)
    box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                           | QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    return {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(
        QMessageBox.StandardButton(answer), "cancel")


def ask_recover(parent: QWidget | None, description: str) -> str:
    """"recover", "discard" or "later"."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Recover unsaved work")
    box.setText("GenArt Desktop did not close properly last time. Recover the unsaved work?")
    box.setInformativeText(description)
    recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton("Ask Later", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(recover)
    box.exec()
    clicked = box.clickedButton()
    return "recover" if clicked is recover else "discard" if clicked is discard else "later"


def show_exported(parent: QWidget | None, message: str, folder: Path) -> None:
    """Confirm a finished export, with "Show in Folder" opening the folder in the file manager."""
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QDesktopServices

    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Information)
    box.setWindowTitle("Export finished")
    box.setText(message)
    box.setInformativeText(str(folder))
    show = box.addButton("Show in Folder", QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Ok)
    box.exec()
    if box.clickedButton() is show:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


def show_error(parent: QWidget | None, title: str, message: str) -> None:
    QMessageBox.critical(parent, title, message)


def ask_new_document(parent: QWidget | None) -> NewDocumentSpec | None:
    dialog = NewDocumentDialog(parent)
    if dialog.exec() != NewDocumentDialog.DialogCode.Accepted:
        return None
    return dialog.spec()


def ask_feather_radius(parent: QWidget | None) -> int | None:
    from PySide6.QtWidgets import QInputDialog

    value, ok = QInputDialog.getInt(parent, "Feather Selection", "Radius (px):", 8, 1, 500)
    return value if ok else None


def ask_text(parent: QWidget | None, title: str, label: str, text: str = "") -> str | None:
    from PySide6.QtWidgets import QInputDialog

    value, ok = QInputDialog.getText(parent, title, label, text=text)
    return value if ok else None
