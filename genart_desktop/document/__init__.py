"""The canvas document model: layers, selection, history and file formats. No widgets, no engine.

See docs/document-api.md for the contract the canvas widgets rely on.
"""

from genart_desktop.document.brush import BrushSettings
from genart_desktop.document.document import Document
from genart_desktop.document.events import DocumentChange, Signal
from genart_desktop.document.geometry import Rect
from genart_desktop.document.history import History
from genart_desktop.document.layer import BLEND_MODES, Layer
from genart_desktop.document.selection import Selection
from genart_desktop.document.stroke import Stroke

__all__ = ["BLEND_MODES", "BrushSettings", "Document", "DocumentChange", "History", "Layer", "Rect", "Selection",
           "Signal", "Stroke"]
