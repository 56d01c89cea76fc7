"""Latent explorer render times: neighbour grids and single slider frames of a 64x64 generator.

Uses the first GAN in the registry whose output is 64x64 (the shipped default model once models/ has one). Until
then it builds a DCGAN-sized generator itself with onnx.helper: random weights, the layer sizes of Radford et al.'s
DCGAN (z 100 -> 512x4x4 -> 256x8x8 -> 128x16x16 -> 64x32x32 -> 3x64x64, batch norm folded as inference graphs
have it), in two variants: transposed convolutions, and nearest upsampling followed by 3x3 convolutions. The timing
covers what one click costs: building the grid latents, running the generator, and converting to uint8 images.

    python benchmarks/bench_latent.py [--quick] [--model ID]

Target (issue 7): a 5x5 grid of a 64x64 model in under 100 ms on the 2-core development machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genart_desktop.engine.latent.neighbours import neighbour_grid  # noqa: E402
from genart_desktop.engine.latent.space import GAN, LatentSpace, space_from_registry  # noqa: E402
from genart_desktop.engine.registry import ModelRegistry  # noqa: E402
from genart_desktop.engine.session import ModelSession  # noqa: E402

TARGET_MS = 100.0
LATENT = 100
CHANNELS = (512, 256, 128, 64)


def build_dcgan(path: Path, variant: str, seed: int = 0) -> Path:
    """A DCGAN-sized 64x64 generator ONNX file with random weights (He-scaled so activations stay sensible)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    inits, nodes = [], []

    def weight(name: str, shape: tuple[int, ...], fan_in: int) -> str:
        inits.append(numpy_helper.from_array((rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32), name))
        return name

    def bias(name: str, size: int) -> str:
        inits.append(numpy_helper.from_array(np.zeros(size, np.float32), name))
        return name

    inits.append(numpy_helper.from_array(np.array([-1, LATENT, 1, 1], np.int64), "z_shape"))
    nodes.append(helper.make_node("Reshape", ["z", "z_shape"], ["x0"]))
    previous, cin = "x0", LATENT
    nodes.append(helper.make_node("ConvTranspose", [previous, weight("w0", (cin, CHANNELS[0], 4, 4), cin),
                                                    bias("b0", CHANNELS[0])], ["c0"], kernel_shape=[4, 4]))
    nodes.append(helper.make_node("Relu", ["c0"], ["r0"]))
    previous, cin = "r0", CHANNELS[0]
    outs = list(CHANNELS[1:]) + [3]
    for index, cout in enumerate(outs, start=1):
        w = f"w{index}"
        conv_out = f"c{index}"
        if variant == "convtranspose":
            nodes.append(helper.make_node("ConvTranspose", [previous, weight(w, (cin, cout, 4, 4), cin * 4),
                                                            bias(f"b{index}", cout)], [conv_out],
                                          kernel_shape=[4, 4], strides=[2, 2], pads=[1, 1, 1, 1]))
        else:
            inits.append(numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), f"s{index}"))
            nodes.append(helper.make_node("Resize", [previous, "", f"s{index}"], [f"u{index}"], mode="nearest"))
            nodes.append(helper.make_node("Conv", [f"u{index}", weight(w, (cout, cin, 3, 3), cin * 9),
                                                   bias(f"b{index}", cout)], [conv_out],
                                          kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
        last = cout == 3
        act = "image" if last else f"r{index}"
        nodes.append(helper.make_node("Tanh" if last else "Relu", [conv_out], [act]))
        previous, cin = act, cout
    graph = helper.make_graph(
        nodes, f"dcgan_{variant}",
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", LATENT])],
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, 64, 64])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="bench_latent")
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())
    return path


def shipped_space(model_id: str | None) -> LatentSpace | None:
    registry = ModelRegistry()
    for entry in registry.models(GAN):
        if model_id is not None and entry.id != model_id:
            continue
        space = space_from_registry(registry, entry.id)
        if model_id is not None or space.image_size == (64, 64):
            return space
    if model_id is not None:
        raise SystemExit(f"No usable GAN model '{model_id}' was found.")
    return None


def timed(action, repeats: int) -> tuple[float, float]:
    action()  # warm-up: first run allocates
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(samples), min(samples)


def bench(space: LatentSpace, label: str, repeats: int) -> list[str]:
    centre = space.sample(seed=1)[0]
    rows = []
    counter = iter(range(10**9))
    for size in (3, 5):
        median, best = timed(lambda s=size: space.decode(neighbour_grid(centre, s, 0.6, next(counter))), repeats)
        verdict = ("yes" if median < TARGET_MS else "no") if size == 5 else ""
        rows.append(f"| {label} | {size}x{size} grid | {size * size} | {median:.1f} | {best:.1f} | {verdict} |")
    median, best = timed(lambda: space.decode(centre + 0.01 * next(counter)), repeats)
    rows.append(f"| {label} | slider frame | 1 | {median:.1f} | {best:.1f} | |")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    parser.add_argument("--model", help="benchmark this registered GAN instead")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 20
    spaces: list[tuple[LatentSpace, str]] = []
    shipped = shipped_space(args.model)
    notes = []
    with tempfile.TemporaryDirectory() as tmp:
        if shipped is not None:
            spaces.append((shipped, f"{shipped.model_id} (shipped)"))
        else:
            notes.append("No 64x64 GAN in models/ yet: timing DCGAN-sized generators built by this script with "
                         "random weights (same layer sizes and FLOPs as a trained one).")
            for variant in ("convtranspose", "upsample"):
                path = build_dcgan(Path(tmp) / f"{variant}.onnx", variant)
                spaces.append((LatentSpace(GAN, ModelSession.load(path), model_id=f"dcgan-{variant}"),
                               f"DCGAN 64x64 ({variant})"))
        provider = spaces[0][0]._decoder.provider  # noqa: SLF001 - the benchmark reports what really ran
        print(f"# Latent explorer render times ({provider}, {os.cpu_count()} CPUs, {repeats} repeats)\n")
        for note in notes:
            print(note + "\n")
        print("| model | render | images | median ms | best ms | 5x5 < 100 ms |")
        print("|---|---|---|---|---|---|")
        for space, label in spaces:
            for row in bench(space, label, repeats):
                print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
