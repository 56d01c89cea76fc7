"""The Qt user interface: the only package that imports PySide6. Widgets adapt models; they do not own logic."""
