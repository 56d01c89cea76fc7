"""Neural style transfer training: perceptual loss networks (VGG-19, SqueezeNet 1.1), Gram/content/TV losses,
Gatys et al.'s pixel optimisation and the fast feed-forward style network with its trainer and ONNX export."""
