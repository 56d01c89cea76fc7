"""``genart-train style-arbitrary``: train one network that takes any picture as its style (AdaIN decoder)."""

from __future__ import annotations

from genart_desktop.training.commands._family import training_command
from genart_desktop.training.style_arbitrary.config import ArbitraryStyleConfig

NAME = "style-arbitrary"
HELP = ("Train an arbitrary-style network (a decoder for AdaIN on SqueezeNet features) on content photos and a "
        "folder of paintings; export it with `genart-train export RUN`.")

add_arguments, run = training_command(ArbitraryStyleConfig,
                                      "genart_desktop.training.style_arbitrary.trainer.ArbitraryStyleTrainer")
