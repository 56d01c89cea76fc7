"""Status-bar label: the execution provider in use and how many models were found or rejected.

It only adapts the registry (``registry.entries()`` and ``registry.provider_choice()``); call :meth:`refresh` after
the registry rescans or a session reports a different provider.
"""

from __future__ import annotations

import html

from PySide6.QtWidgets import QLabel, QWidget


class ProviderStatusLabel(QLabel):
    def __init__(self, registry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._registry = registry
        self.setObjectName("providerStatus")
        self.refresh()

    def refresh(self) -> None:
        try:
            choice = self._registry.provider_choice()
            entries = list(self._registry.entries())
        except Exception as exc:  # noqa: BLE001 - a status label must never take the window down
            self.setText("Models: unavailable")
            self.setToolTip(html.escape(f"Could not list models: {exc}"))
            return
        ok = [entry for entry in entries if entry.ok]
        rejected = [entry for entry in entries if not entry.ok]
        text = f"{choice.label} · {len(ok)} model{'s' if len(ok) != 1 else ''}"
        if rejected:
            text += f" · {len(rejected)} rejected"
        self.setText(text)
        lines = [f"<b>Execution provider:</b> {html.escape(choice.label)}"]
        if choice.reason:
            lines.append(html.escape(choice.reason))
        if ok:
            lines.append("<b>Models:</b> " + html.escape(", ".join(entry.name for entry in ok)))
        if rejected:
            lines.append("<b>Rejected:</b>")
            lines.extend(f"{html.escape(entry.folder.name)}: {html.escape(entry.reason or '')}" for entry in rejected)
        self.setToolTip("<br>".join(lines))
