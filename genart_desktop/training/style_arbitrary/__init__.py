"""Arbitrary style transfer: one network that takes any picture as its style (AdaIN on SqueezeNet features)."""
