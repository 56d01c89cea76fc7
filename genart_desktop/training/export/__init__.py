"""ONNX export of trained runs: self-contained graphs, an onnxruntime parity check, then the model card."""
