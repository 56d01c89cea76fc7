"""Latent-space exploration for GAN generators and VAE decoders: numpy only, no Qt.

Latents travel through this package as flat float32 vectors (``(D,)`` or ``(N, D)``); :class:`LatentSpace` reshapes
them to the model's real latent shape (read from the ONNX session) when it renders.
"""
