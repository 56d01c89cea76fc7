"""Training and export (PyTorch). The only package that imports torch; the app never imports it."""
