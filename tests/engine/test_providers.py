"""Execution-provider choice: overrides, deliberate session options, and fallback to CPU when a GPU provider fails."""

from __future__ import annotations

import logging

import numpy as np
import onnxruntime as ort
import pytest

from genart_desktop.core.errors import ModelError
from genart_desktop.engine import providers
from genart_desktop.engine.providers import CPU, CUDA, DML
from tests.tiny_onnx import image_model, save_model


@pytest.fixture(autouse=True)
def fresh_probes(monkeypatch):
    monkeypatch.delenv(providers.ENV_VAR, raising=False)
    providers.reset_probe_cache()
    yield
    providers.reset_probe_cache()


@pytest.fixture
def model_path(tmp_path):
    return save_model(image_model(scale=2.0), tmp_path / "m.onnx")


class _ReportsProvider:
    """A real CPU session that claims to run on ``provider`` (as a working GPU session would)."""

    def __init__(self, session, provider):
        self._session, self._provider = session, provider

    def get_providers(self):
        return [self._provider, CPU]

    def __getattr__(self, name):
        return getattr(self._session, name)


def _fake_factory(calls, fail_gpu=None, silent=False, claim=None):
    """Session factory standing in for onnxruntime-gpu: GPU requests fail, fall back silently, or 'work'."""

    def factory(source, sess_options=None, providers=None):
        calls.append((source if isinstance(source, bytes) else "model", list(providers)))
        gpu = [p for p in providers if p != CPU]
        if gpu and fail_gpu is not None and fail_gpu(source):
            raise RuntimeError(f"{gpu[0]}: cudaErrorNoDevice: no CUDA-capable device is detected")
        session = ort.InferenceSession(source, sess_options=sess_options, providers=[CPU])
        if gpu and claim and not silent:
            return _ReportsProvider(session, gpu[0])
        return session

    return factory


def _with_cuda_listed(monkeypatch):
    monkeypatch.setattr(providers.ort, "get_available_providers", lambda: [CUDA, CPU])


def test_environment_variable_beats_setting_and_bad_values_are_ignored(monkeypatch, caplog):
    assert providers.requested_preference({"execution_provider": "cuda"}) == "cuda"
    monkeypatch.setenv(providers.ENV_VAR, "CPU")
    assert providers.requested_preference({"execution_provider": "cuda"}) == "cpu"
    monkeypatch.setenv(providers.ENV_VAR, "tpu")
    with caplog.at_level(logging.WARNING):
        assert providers.requested_preference({"execution_provider": "dml"}) == "dml"
    assert "tpu" in caplog.text
    monkeypatch.delenv(providers.ENV_VAR)
    assert providers.requested_preference({"execution_provider": "quantum"}) == "auto"


def test_session_options_are_deliberate():
    options = providers.session_options({"intra_op_threads": 3})
    assert options.intra_op_num_threads == 3
    assert options.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    assert options.execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL
    automatic = providers.session_options({"intra_op_threads": 0})
    assert automatic.intra_op_num_threads == providers.physical_cores() >= 1


def test_gpu_provider_that_fails_to_initialise_falls_back_to_cpu_with_reason(monkeypatch, model_path, caplog):
    _with_cuda_listed(monkeypatch)
    calls = []
    monkeypatch.setattr(providers, "_session_factory", _fake_factory(calls, fail_gpu=lambda source: True))
    with caplog.at_level(logging.WARNING, logger="genart_desktop.engine.providers"):
        session, choice = providers.create_session(model_path, {"execution_provider": "auto"})
    assert choice.provider == CPU and choice.label == "CPU"
    assert "CUDA failed to initialise" in choice.reason and "no CUDA-capable device" in choice.reason
    assert "CUDA failed to initialise" in caplog.text
    assert session.get_providers() == [CPU]
    x = np.ones((1, 3, 2, 2), np.float32)
    np.testing.assert_allclose(session.run(None, {"content": x})[0], 2 * x)
    # the probe is remembered: later sessions go straight to CPU
    providers.create_session(model_path, {})
    assert [p for _, p in calls if CUDA in p] == [[CUDA, CPU]]


def test_silent_cpu_fallback_is_detected_from_session_providers(monkeypatch, model_path):
    _with_cuda_listed(monkeypatch)
    monkeypatch.setattr(providers, "_session_factory", _fake_factory([], silent=True))
    choice = providers.choose_provider({})
    assert choice.provider == CPU
    assert "could not start" in choice.reason
    assert providers.would_run({}) == "CPU"


def test_working_gpu_is_used_and_model_specific_failure_falls_back(monkeypatch, model_path):
    _with_cuda_listed(monkeypatch)
    monkeypatch.setattr(providers, "_session_factory", _fake_factory([], claim=True))
    session, choice = providers.create_session(model_path, {})
    assert choice.provider == CUDA and choice.reason is None and choice.providers == [CUDA, CPU]
    assert providers.would_run({}) == "CUDA"
    # the probe works but this particular model cannot be placed on the GPU
    monkeypatch.setattr(providers, "_session_factory",
                        _fake_factory([], fail_gpu=lambda source: not isinstance(source, bytes), claim=True))
    session, choice = providers.create_session(model_path, {})
    assert choice.provider == CPU and "could not load m.onnx" in choice.reason
    assert session.get_providers() == [CPU]


def test_cpu_preference_never_touches_the_gpu(monkeypatch, model_path):
    _with_cuda_listed(monkeypatch)
    calls = []
    monkeypatch.setattr(providers, "_session_factory", _fake_factory(calls, fail_gpu=lambda source: True))
    monkeypatch.setenv(providers.ENV_VAR, "cpu")
    session, choice = providers.create_session(model_path, {"execution_provider": "cuda"})
    assert choice.provider == CPU and choice.reason is None
    assert all(p == [CPU] for _, p in calls)


def test_requested_provider_missing_from_this_build_is_reported(monkeypatch):
    _with_cuda_listed(monkeypatch)
    choice = providers.choose_provider({"execution_provider": "dml"})
    assert choice.provider == CPU and choice.requested == "dml"
    assert "DirectML is not available" in choice.reason
    assert DML not in providers.candidate_providers("dml")


def test_real_onnxruntime_reports_the_provider_it_runs_on(model_path):
    session, choice = providers.create_session(model_path, {})
    assert session.get_providers()[0] == choice.provider
    assert choice.provider in ort.get_available_providers()


def test_unloadable_model_is_a_model_error(tmp_path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"\x08\x07this is not a model")
    with pytest.raises(ModelError, match="Cannot load broken.onnx"):
        providers.create_session(broken, {"execution_provider": "cpu"})


def test_probe_model_is_a_valid_onnx_graph():
    onnx = pytest.importorskip("onnx")
    model = onnx.load_from_string(providers.identity_model_bytes())
    onnx.checker.check_model(model)
    session = ort.InferenceSession(providers.identity_model_bytes(), providers=[CPU])
    x = np.array([[-1, 2, -3, 4]], np.float32)
    np.testing.assert_array_equal(session.run(None, {"x": x})[0], np.maximum(x, 0))
