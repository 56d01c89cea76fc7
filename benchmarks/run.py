"""The benchmark suite in one command: prints one Markdown table (with the machine it ran on) and writes JSON.

    python benchmarks/run.py [--quick] [--json OUT] [--threads N] [--only models,ui,strokes,...] [--config FILE]

Sections:
- ``models``: every default model family through our engine (onnxruntime) vs PyTorch eager, same network, weights,
  process and thread count, with achieved GFLOP/s against this machine's measured matrix-multiply ceiling
  (bench_models.py); GPU rows too when CUDA really runs.
- ``ui``: the event loop's longest stall while a style job runs, and cold start to the first painted window with a
  check that torch was never imported (bench_ui.py).
- ``strokes``, ``style``, ``arbitrary_style``, ``diffusion``, ``latent``, ``upscale``, ``seams``, ``live``,
  ``regions``: the per-area scripts (bench_<name>.py), each run in its own process; their Markdown rows join the
  table and their full output goes into the JSON.

``--config FILE`` takes JSON to shrink or grow the work: ``{"sizes": {...bench_models.Sizes fields...},
"ui": {"size": 256, "tile": 256, "launches": 1}, "scripts": {"strokes": ["--size", "1024"]}, "only": [...]}``.
Numbers depend on the machine and on what else runs on it; nothing here asserts a target.
"""

from __future__ import annotations

import argparse
import os
import sys

SECTIONS = ("models", "ui", "strokes", "style", "arbitrary_style", "diffusion", "latent", "upscale", "seams", "live",
            "regions")
SCRIPTS = ("strokes", "style", "arbitrary_style", "diffusion", "latent", "upscale", "seams", "live", "regions")


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and few repeats: keeps the suite working")
    parser.add_argument("--json", metavar="OUT", help="write every measurement to this JSON file")
    parser.add_argument("--threads", type=int, default=_usable_cpus(),
                        help="threads for onnxruntime, PyTorch and numpy alike (default: usable CPUs)")
    parser.add_argument("--only", help=f"comma-separated sections to run (default all: {','.join(SECTIONS)})")
    parser.add_argument("--config", metavar="FILE", help="JSON with size overrides (see the module docstring)")
    parser.add_argument("--script-timeout", type=float, default=1800.0, help="seconds allowed per per-area script")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    return args


# The thread count must reach BLAS and OpenMP before numpy or torch are imported, so set it first.
if __name__ == "__main__":
    _ARGS = parse_args(None)
    for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        os.environ[_name] = str(_ARGS.threads)
    # PyTorch's OpenMP workers spin between ops by default; next to numpy's BLAS threads on a small machine they
    # starve each other (a 32 px U-Net step measured 40x slower on 2 cores). Waiting passively keeps it fair.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import datetime as _dt  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from common import Row, core_counts, cpu_model, gemm_ceiling, markdown_table  # noqa: E402


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_config(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SystemExit(f"Cannot read the config {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise SystemExit(f"The config {path} must hold a JSON object.")
    return data


def machine(threads: int) -> dict[str, Any]:
    """What the numbers were measured on: CPU, cores, library versions and the provider onnxruntime would use."""
    import numpy
    import onnxruntime

    from genart_desktop.engine.providers import choose_provider

    info: dict[str, Any] = {
        "cpu": cpu_model(), "cores": core_counts(), "threads": threads, "platform": platform.platform(),
        "python": platform.python_version(), "numpy": numpy.__version__, "onnxruntime": onnxruntime.__version__,
        "onnxruntime_providers_built": onnxruntime.get_available_providers(),
        "environment": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                                       "OMP_WAIT_POLICY", "GENART_PROVIDER") if os.environ.get(k)},
    }
    try:
        import psutil

        info["memory_gib"] = round(psutil.virtual_memory().total / 2**30, 1)
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    except (ModuleNotFoundError, OSError):
        pass
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_cuda"] = torch.cuda.is_available()
    except ModuleNotFoundError:
        info["torch"] = None
    choice = choose_provider({"execution_provider": "auto"})
    info["provider"] = choice.provider
    info["provider_note"] = choice.reason
    return info


def machine_lines(info: dict[str, Any], ceiling: dict[str, float], cuda: dict[str, Any] | None) -> list[str]:
    cores = info["cores"]
    lines = [
        f"- CPU: {info['cpu']} ({cores['physical'] or '?'} physical cores, {cores['logical']} logical, "
        f"{cores['usable']} usable); {info.get('memory_gib', '?')} GiB RAM; load average "
        f"{', '.join(str(x) for x in info.get('load_average', [])) or '?'} at start",
        f"- Threads: {info['threads']} for onnxruntime (intra-op), PyTorch and numpy",
        f"- Software: Python {info['python']}, onnxruntime {info['onnxruntime']}, "
        f"PyTorch {info['torch'] or 'not installed'}, numpy {info['numpy']}; {info['platform']}",
        f"- Provider: {info['provider']}" + (f" ({info['provider_note']})" if info.get("provider_note") else "")
        + "; the CPU comparison rows force CPUExecutionProvider",
        f"- Ceiling: numpy float32 GEMM {ceiling['size']}x{ceiling['size']}, {ceiling['threads']} threads: "
        f"{ceiling['best_gflops']:.1f} GFLOP/s best, {ceiling['median_gflops']:.1f} median "
        "(\"of GEMM ceiling\" is against the best)",
    ]
    if cuda is not None:
        lines.append("- CUDA: " + ("available: GPU rows use the CUDA provider with IO binding and fp16 models vs "
                                   "PyTorch CUDA eager" + (f" ({cuda['note']})" if cuda.get("note") else "")
                                   if cuda.get("available") else f"unavailable ({cuda.get('note') or 'no device'})"))
    return lines


# --- per-area scripts -------------------------------------------------------------------------------------------------

_SEPARATOR = re.compile(r"^\|\s*:?-{2,}")


def harvest(name: str, stdout: str) -> list[Row]:
    """Turn a per-area script's output into table rows: each Markdown data row becomes one row with its cells
    labelled by the header; a script without a Markdown table gives one row per non-empty output line."""
    lines = [line.rstrip() for line in stdout.splitlines()]
    rows: list[Row] = []
    header: list[str] | None = None
    for index, line in enumerate(lines):
        if not (line.startswith("|") and line.endswith("|")):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if _SEPARATOR.match(line):
            continue
        if index + 1 < len(lines) and _SEPARATOR.match(lines[index + 1]):
            header = cells
            continue
        labels = header or [""] * len(cells)
        described = "; ".join(f"{label}: {cell}" if label else cell
                              for label, cell in zip(labels[1:], cells[1:]) if cell)
        rows.append(Row(name, cells[0], text=described))
    if rows:
        return rows
    body = [re.sub(r"\s{2,}", " · ", line.strip()) for line in lines if line.strip()]
    return [Row(name, "output", text=line) for line in body]


def run_script(name: str, quick: bool, threads: int, extra: list[str], timeout: float) -> tuple[list[Row], dict]:
    script = HERE / f"bench_{name}.py"
    if not script.is_file():
        return [Row(name, f"bench_{name}.py", text="not present yet")], {"present": False}
    command = [sys.executable, str(script)]
    if quick:
        command.append("--quick")
    if "--threads" in script.read_text(encoding="utf-8"):
        command += ["--threads", str(threads)]
    command += [str(a) for a in extra]
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    started = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return ([Row(name, f"bench_{name}.py", text=f"timed out after {timeout:.0f} s")],
                {"present": True, "command": command, "timed_out": True, "stdout": output})
    wall = time.perf_counter() - started
    record = {"present": True, "command": command[1:], "returncode": done.returncode, "wall_s": wall,
              "stdout": done.stdout, "stderr_tail": done.stderr[-4000:]}
    rows = harvest(name, done.stdout)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no message)"])[-1][:200]
        note = f"exit code {done.returncode}" + ("" if rows and rows[0].text else f": {tail}")
        rows.append(Row(name, f"bench_{name}.py", text=note))
    return rows, record


# --- the suite ------------------------------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    config = load_config(args.config)
    only = args.only.split(",") if args.only else config.get("only", list(SECTIONS))
    sections = [s.strip() for s in only if s.strip()]
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        raise SystemExit(f"Unknown sections {', '.join(unknown)}; choose from {', '.join(SECTIONS)}.")
    threads = args.threads
    from bench_models import Sizes

    sizes = Sizes.quick() if args.quick else Sizes()
    try:
        sizes = sizes.updated(config.get("sizes", {}))
    except (TypeError, ValueError) as exc:
        raise SystemExit(f"Bad sizes in the config: {exc}") from exc

    started = time.perf_counter()
    info = machine(threads)
    log(f"[run] measuring the GEMM ceiling ({sizes.ceiling_size}x{sizes.ceiling_size}, {threads} threads) ...")
    ceiling = gemm_ceiling(threads, sizes.ceiling_size)
    rows: list[Row] = []
    result: dict[str, Any] = {"format": "genart-benchmarks/1", "created": _dt.datetime.now(_dt.timezone.utc)
                              .replace(microsecond=0).isoformat(), "quick": args.quick, "sections": sections,
                              "machine": info, "ceiling": ceiling, "sizes": sizes.__dict__, "scripts": {}}
    cuda = None
    if "models" in sections:
        from bench_models import run_models

        model_rows, models_info = run_models(threads, sizes, log=log)
        rows += model_rows
        result["models"] = models_info
        cuda = models_info.get("cuda")
    if "ui" in sections:
        from bench_ui import run_ui

        ui = config.get("ui", {})
        ui_rows, ui_info = run_ui(threads, args.quick, ui.get("size"), int(ui.get("tile", 0)), ui.get("launches"),
                                  log=log)
        rows += ui_rows
        result["ui"] = ui_info
    for name in SCRIPTS:
        if name in sections:
            log(f"[run] bench_{name}.py ...")
            extra = config.get("scripts", {}).get(name, [])
            script_rows, record = run_script(name, args.quick, threads, extra, args.script_timeout)
            rows += script_rows
            result["scripts"][name] = record
    if cuda is None:
        from bench_models import cuda_status

        available, note = cuda_status(threads)
        cuda = {"available": available, "note": note}
        result["cuda"] = cuda
    result["wall_s"] = time.perf_counter() - started
    result["rows"] = [row.to_dict(ceiling["best_gflops"]) for row in rows]

    title = "# GenArt Desktop benchmarks" + (" (quick mode: smoke sizes, not representative)" if args.quick else "")
    text = "\n".join([title, "", *machine_lines(info, ceiling, cuda), "",
                      markdown_table(rows, ceiling["best_gflops"]), "",
                      "Weights marked \"untrained\" are freshly initialised default architectures exported through "
                      "the training module: the timings hold, the pictures would be noise.",
                      f"Suite wall time {result['wall_s']:.0f} s."])
    return text, result


def _finite(value: Any) -> Any:
    """The result with NaN and infinities as null, so the file is strict JSON."""
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def main(args: argparse.Namespace) -> int:
    text, result = run(args)
    print(text, flush=True)
    if args.json:
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".partial")
        tmp.write_text(json.dumps(_finite(result), indent=2, default=str, allow_nan=False), encoding="utf-8")
        os.replace(tmp, out)
        log(f"[run] wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(_ARGS))
