"""GenArt Desktop: an offline painting studio that runs your own AI models."""

__version__ = "0.1.0"
