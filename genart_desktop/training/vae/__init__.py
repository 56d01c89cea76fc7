"""Convolutional variational autoencoders with a vector or spatial latent."""
