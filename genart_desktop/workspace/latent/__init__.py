"""The latent explorer, Qt-free, split like its panel's tabs: ``state`` (the shared space and position),
``history`` (grid and moves), ``directions``, ``bookmarks``, ``breed``, ``animate``, ``encode``; ``requests``
holds the job types and their executors, and ``controller`` composes the parts and runs their jobs."""

from genart_desktop.workspace.latent.controller import LatentController
from genart_desktop.workspace.latent.requests import Encoded, GridResult

__all__ = ["Encoded", "GridResult", "LatentController"]
