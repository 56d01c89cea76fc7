"""Inference engine: onnxruntime + numpy only (no Qt, no torch). Sessions, model registry, samplers, pipelines, jobs."""
