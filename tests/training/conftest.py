"""Fixtures for the training tests."""

import pytest


@pytest.fixture
def one_thread():
    """One torch thread: on the shared 2-core machine several threads contend and run many times slower."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
