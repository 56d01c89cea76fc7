"""Datasets: build a cached dataset from a folder of images or from the emoji font, and load it for training."""
