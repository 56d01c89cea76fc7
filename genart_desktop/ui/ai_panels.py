"""Adds the AI docks to the main window. Each panel has one installer; :data:`INSTALLERS` lists them in order.

Every installer takes the window and docks its panel with ``window.add_panel``; all of them share the window's
workspace (registry, job runner and event routing) through :func:`services_for`, so every job shows in the Jobs
panel.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget

from genart_desktop.ui.diffusion_panel import install_diffusion_panel
from genart_desktop.ui.jobs_panel import JobsPanel
from genart_desktop.ui.latent_explorer import LatentExplorerPanel
from genart_desktop.ui.services import services_for
from genart_desktop.ui.style_palette import StylePalettePanel
from genart_desktop.ui.upscale_menu import install_upscale_menu
from genart_desktop.workspace.diffusion_store import DiffusionKeeper

JOBS_HEIGHT = 96  # small while idle: one finished row and the buttons; it scrolls when busy


def install_jobs_panel(window) -> QDockWidget:
    """The Jobs dock along the bottom: every queued, running and finished job, cancel one or all."""
    services = services_for(window)
    panel = JobsPanel(services.workspace)
    window.jobs_panel = panel
    dock = window.add_panel(panel, "Jobs", Qt.DockWidgetArea.BottomDockWidgetArea)
    window.resizeDocks([dock], [JOBS_HEIGHT], Qt.Orientation.Vertical)
    return dock


def install_style_palette(window) -> QDockWidget:
    """The Style dock, tabbed with Tools on the left (full height for the grid and preview; the Layers dock stays
    in view, where each result lands as a new layer)."""
    services = services_for(window)
    panel = StylePalettePanel(services.workspace, lambda: window.document)
    window.document_replaced.connect(panel.watch_document)
    panel.status_changed.connect(lambda message: window.statusBar().showMessage(message, 6000))
    window.style_palette = panel
    dock = window.add_panel(panel, "Style", Qt.DockWidgetArea.LeftDockWidgetArea, tabify_with="Tools")
    if "Tools" in window.docks:
        window.docks["Tools"].raise_()  # painting first; the Style tab is one click away
    return dock


EXPLORER_DOCK_WIDTH = 360  # the explorer's five tab titles in full, beside a vertical scroll bar


def install_latent_explorer(window) -> QDockWidget:
    """The Latent Explorer dock on the left, tabbed with the other AI docks: the full height of the window keeps its
    3x3 grid and its tab pages in view at 1440x900, and the Layers dock stays in view on the right. Its grid and
    slider renders run in the workspace's interactive lane, so they never wait behind a long style or diffusion
    job, coalesced to the latest."""
    services = services_for(window)
    panel = LatentExplorerPanel(services.workspace, lambda: window.document)
    window.document_replaced.connect(lambda _doc: panel.refresh_bookmarks())
    window.latent_explorer = panel
    neighbour = next((title for title in ("Diffusion", "Style", "Tools") if title in window.docks), None)
    dock = window.add_panel(panel, "Latent Explorer", Qt.DockWidgetArea.LeftDockWidgetArea, tabify_with=neighbour)
    window.resizeDocks([dock], [EXPLORER_DOCK_WIDTH], Qt.Orientation.Horizontal)  # the whole left column
    if "Tools" in window.docks:
        window.docks["Tools"].raise_()  # painting first; the AI docks are one tab away
    return dock


INSTALLERS: list[Callable[[object], QDockWidget]] = [
    install_style_palette,
    install_diffusion_panel,
    install_latent_explorer,
    install_jobs_panel,
]


def install_ai_panels(window) -> dict[str, QDockWidget]:
    """Run every installer; returns the new docks by title."""
    docks = {}
    for installer in INSTALLERS:
        dock = installer(window)
        docks[dock.windowTitle()] = dock
    install_upscale_menu(window)
    diffusion = getattr(window, "diffusion_panel", None)
    if diffusion is not None:  # unaccepted results and the history are saved in the .ora and asked about on close
        window.files.keepers.append(DiffusionKeeper(diffusion.controller))
    return docks
