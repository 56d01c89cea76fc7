"""Test-wide setup: offscreen Qt and an isolated per-user data directory for every test."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "2")

import pytest


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    """Each test gets its own GENART_HOME so settings, autosaves and user models never leak between tests."""
    home = tmp_path_factory.mktemp("genart_home")
    monkeypatch.setenv("GENART_HOME", str(home))
    return home


@pytest.fixture
def runner(request):
    """A one-worker job runner, shut down after the test."""
    from genart_desktop.engine.jobs import JobRunner

    runner = JobRunner(1, name=f"test-{request.node.name}")
    yield runner
    runner.shutdown()


@pytest.fixture
def kill_children():
    """Collects training children a test leaves running (the app kept them) and kills them at the end."""
    import signal

    children = []
    yield children.append
    for child in children:
        if child.returncode() is None:
            os.kill(child.pid, signal.SIGKILL)
        child.process.wait(10)
