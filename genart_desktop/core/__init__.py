"""Shared foundations with no dependencies on the rest of the package: errors, paths, settings, image helpers."""
