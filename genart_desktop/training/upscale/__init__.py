"""Super-resolution training: a compact pixel-shuffle upscaler (x2/x4), Real-ESRGAN-style degradations made on the
fly, L1 + SqueezeNet perceptual (+ optional patch-adversarial) loss, held-out measurement and ONNX export."""
