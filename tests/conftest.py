"""Test-wide setup: offscreen Qt and an isolated per-user data directory for every test."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "2")

import pytest  # noqa: E402


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
