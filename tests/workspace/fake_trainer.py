"""A stand-in for ``genart-train`` in the queue tests: speaks ``--progress json`` exactly as SESSION5 specifies.

``FAMILY --data D --runs-dir R --steps N ... --progress json`` makes ``R/NNNN-FAMILY`` and reports N steps (one
``step`` line each, a sample at N/2, a checkpoint at the end); ``--resume RUN`` continues from RUN/state.json.
SIGINT: checkpoint, ``stopped``, exit 130. ``export RUN --out DIR --id ID --name NAME`` writes a tiny style model
folder. Test switches (environment): FAKE_DELAY (seconds per step), FAKE_FAIL_AT (error line at that step, exit
2), FAKE_GARBAGE (malformed lines between the real ones), FAKE_EXPORT_FAIL (export exits 2 with a reason),
FAKE_WAIT_FILE (do not finish the last step until this file exists).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

STOP = {"requested": False}


def emit(event: str, **fields) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


def option(args: list[str], name: str, default: str | None = None) -> str | None:
    return args[args.index(name) + 1] if name in args else default


def write_png(path: Path, shade: int) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (48, 32), (shade, 255 - shade, 90)).save(path, format="PNG")


def train(family: str, args: list[str]) -> int:
    resume = option(args, "--resume")
    if resume:
        run = Path(resume)
        state = json.loads((run / "state.json").read_text())
        start, total = state["step"], state["total"]
    else:
        root = Path(option(args, "--runs-dir", "runs"))
        root.mkdir(parents=True, exist_ok=True)
        run = root / f"{len(list(root.glob('0*'))) + 1:04d}-{family}"
        run.mkdir()
        start, total = 0, int(option(args, "--steps", "10"))
        (run / "argv.json").write_text(json.dumps(args))
    delay = float(os.environ.get("FAKE_DELAY", "0.01"))
    fail_at = int(os.environ.get("FAKE_FAIL_AT", "0"))
    wait_file = os.environ.get("FAKE_WAIT_FILE")
    emit("start", run=str(run), family=family, step=start, total=total)
    began = time.monotonic()

    def checkpoint(step: int) -> None:
        path = run / "checkpoints" / f"step-{step:07d}.safetensors"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"fake")
        (run / "state.json").write_text(json.dumps({"step": step, "total": total}))
        emit("checkpoint", step=step, path=str(path))

    for step in range(start + 1, total + 1):
        if step == total and wait_file:
            while not Path(wait_file).exists():
                if STOP["requested"]:
                    checkpoint(step - 1)
                    emit("stopped", step=step - 1, run=str(run))
                    return 130
                time.sleep(0.01)
        time.sleep(delay)
        if step == fail_at:
            emit("error", message=f"Training diverged at step {step}\n(loss is not a number)")
            return 2
        if os.environ.get("FAKE_GARBAGE"):
            sys.stdout.write("not json at all\n{\"event\": \"step\", \"step\": \"seven\"}\n[1, 2]\n")
        elapsed = time.monotonic() - began
        rate = (step - start) / max(elapsed, 1e-6)
        emit("step", step=step, total=total, losses={"loss": 10.0 / step, "style": 5.0 / step, "bad": None},
             elapsed_s=elapsed, eta_s=(total - step) / rate, steps_per_s=rate)
        if step == total // 2:
            sample = run / "samples" / f"step-{step:07d}.png"
            write_png(sample, 40 * step % 255)
            emit("sample", step=step, path=str(sample))
        if STOP["requested"] and step < total:
            checkpoint(step)
            emit("stopped", step=step, run=str(run))
            return 130
    checkpoint(total)
    emit("done", step=total, run=str(run))
    return 0


def export(args: list[str]) -> int:
    run, out, model_id, name = Path(args[0]), Path(option(args, "--out")), option(args, "--id"), option(args, "--name")
    if os.environ.get("FAKE_EXPORT_FAIL"):
        print("genart-train: parity check failed: ONNX and PyTorch differ by 0.5", file=sys.stderr)
        return 2
    from tests.tiny_onnx import image_model, write_model_folder

    write_model_folder(out.parent, model_id, "style", {"stylizer": image_model(scale=-1.0)}, name=name,
                       folder_name=out.name, resolution=[64, 64], description=f"Trained in {run.name}.")
    print(f"Exported {model_id} to {out}")
    return 0


def main() -> int:
    signal.signal(signal.SIGINT, lambda *_: STOP.update(requested=True))
    args = sys.argv[1:]
    if args[0] == "export":
        return export(args[1:])
    return train(args[0], args[1:])


if __name__ == "__main__":
    sys.exit(main())
