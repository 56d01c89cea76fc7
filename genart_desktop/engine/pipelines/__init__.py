"""Pipelines: numpy-in, numpy-out procedures that turn user settings into model runs (style, latent, diffusion)."""
