"""Subcommands of genart-train, one module each (see genart_desktop.training.cli)."""
