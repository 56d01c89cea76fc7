"""Layer > Upscale: enlarge the active layer or the selection x2 or x4 with the learned upscaler, as a new layer.

The menu only adapts :class:`~genart_desktop.workspace.upscale.UpscaleController`: it asks for the job, and the
controller's ``status`` signal reaches the status bar. The job shows in the Jobs dock and can be cancelled there.
"""

from __future__ import annotations

from PySide6.QtGui import QAction

from genart_desktop.core.errors import GenArtError
from genart_desktop.ui.binding import bind
from genart_desktop.ui.services import services_for
from genart_desktop.workspace.upscale import UpscaleController

STATUS_MS = 8000
CHOICES = (("layer", 2, "Active Layer \u00d72"), ("layer", 4, "Active Layer \u00d74"),
           ("selection", 2, "Selection \u00d72"), ("selection", 4, "Selection \u00d74"))


def install_upscale_menu(window) -> UpscaleController:
    """Add Layer > Upscale to ``window`` (which needs ``layer_menu`` and ``document``); returns the controller."""
    controller = UpscaleController(services_for(window).workspace, lambda: window.document)
    menu = window.layer_menu.addMenu("&Upscale")
    menu.setToolTipsVisible(True)
    for source, scale, text in CHOICES:
        action = QAction(text, window)
        action.setToolTip(f"Enlarge the {source} {scale}\u00d7 with the learned upscaler (Lanczos when none is "
                          "installed) into a new layer; undo removes it")
        action.triggered.connect(lambda _=False, s=source, k=scale: upscale(window, controller, s, k))
        menu.addAction(action)
        window.actions[f"upscale_{source}_{scale}"] = action
    menu.addSeparator()
    fast = QAction("Fast (One Pass per Tile)", window)
    fast.setCheckable(True)
    fast.setToolTip("Run the upscaler once per tile instead of the model's self-ensemble (flipped and transposed "
                    "copies averaged): several times faster, slightly softer")
    fast.toggled.connect(controller.set_fast)
    menu.addAction(fast)
    window.actions["upscale_fast"] = fast
    bind(window, [(controller.status, lambda message, error=False: window.statusBar().showMessage(message,
                                                                                                     STATUS_MS))])
    window.upscaler = controller
    return controller


def upscale(window, controller: UpscaleController, source: str, scale: int) -> None:
    """Queue one enlargement of the shown document; a refusal (no selection, empty layer) is one status line."""
    document = window.document
    if document is None:
        return
    try:
        controller.upscale(document, source, scale)
    except GenArtError as exc:
        window.statusBar().showMessage(str(exc), STATUS_MS)
