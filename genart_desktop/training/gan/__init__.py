"""DCGAN-style generative adversarial networks (non-saturating or WGAN-GP loss)."""
