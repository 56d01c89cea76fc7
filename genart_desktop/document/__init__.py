"""The canvas document model: layers, selection, history and file formats. No widgets, no engine."""
