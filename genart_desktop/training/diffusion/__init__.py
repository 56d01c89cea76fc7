"""Diffusion U-Nets: DDPM training (pixel or VAE latent space), conditioning, ONNX export and model cards."""
