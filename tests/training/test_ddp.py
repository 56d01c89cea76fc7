"""DistributedDataParallel on CPU with the gloo backend and two processes, as torchrun launches them."""

import os
import socket
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from genart_desktop.training.checkpoint import list_checkpoints, load_checkpoint  # noqa: E402
from tests.training._fixtures import build_tiny_dataset  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
@pytest.mark.parametrize("family,extra", [("vae", ["--channels", "8", "--latent-dim", "8"]),
                                          ("gan", ["--g-channels", "4", "--d-channels", "4", "--latent-dim", "8",
                                                   "--loss", "wgan-gp"])])
def test_two_process_training(tmp_path, family, extra):
    data = build_tiny_dataset(tmp_path)
    runs = tmp_path / "runs"
    port = _free_port()
    command = [sys.executable, "-m", "genart_desktop.training.cli", family, "--data", str(data), "--runs-dir",
               str(runs), "--resolution", "32", "--batch-size", "4", "--max-channels", "16", "--steps", "3",
               "--log-every", "1", "--sample-every", "3", "--checkpoint-every", "3", "--device", "cpu",
               "--threads", "1", *extra]
    procs = []
    for rank in range(2):
        env = dict(os.environ, WORLD_SIZE="2", RANK=str(rank), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                   MASTER_PORT=str(port), OMP_NUM_THREADS="1")
        procs.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [p.communicate(timeout=240)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    folders = list(runs.iterdir())
    assert [f.name for f in folders] == [f"0001-{family}"]  # only rank 0 writes
    assert [s for s, _ in list_checkpoints(folders[0] / "checkpoints")] == [3]
    _, meta = load_checkpoint(folders[0] / "checkpoints" / "step-0000003.safetensors")
    assert meta["hardware"].startswith("2x ")
