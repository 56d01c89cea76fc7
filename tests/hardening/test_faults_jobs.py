"""Faults in background jobs: an inference error mid-job, a GPU provider that fails, and cancel at every stage
(queued, between steps, inside one long ONNX run) of every job type: nothing half-done reaches the document."""

from __future__ import annotations

import dataclasses
import threading
import time
import types

import numpy as np
import onnxruntime as ort
import pytest

from genart_desktop.core.errors import InputError
from genart_desktop.engine import providers
from genart_desktop.engine.events import Cancelled, Error, Preview, Progress, Result
from genart_desktop.engine.jobs import JobRequest, call_payload
from genart_desktop.engine.providers import CPU, CUDA
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.engine.session import ModelSession
from genart_desktop.workspace.diffusion import DiffusionController
from genart_desktop.workspace.style import StyleController
from genart_desktop.workspace.workspace import Workspace
from tests.hardening.helpers import SETTINGS, document_state, sample_document
from tests.hardening.slow_models import slow_stylizer, slow_unet
from tests.tiny_onnx import image_model, save_model, write_model_folder
from tests.workspace.tiny_diffusion import SCHEDULE, diffusion_folder

TIMEOUT = 30
SLOW_LAYERS = 300  # about 1.6 s per 512 x 512 run on one core: long enough to cancel half way; quick to load
SLOW_SIDE = 512


class Recorder:
    def __init__(self) -> None:
        self.events: list = []
        self.lock = threading.Lock()
        self.hooks: list = []

    def __call__(self, event) -> None:
        with self.lock:
            self.events.append(event)
        for hook in list(self.hooks):
            hook(event)

    def of(self, job_id: int, kind=None) -> list:
        with self.lock:
            return [e for e in self.events if e.job_id == job_id and (kind is None or isinstance(e, kind))]


@pytest.fixture
def workspace(tmp_path):
    """The app's job path: one workspace, its registry reading ``tmp_path/models`` when first asked (after a test
    wrote its models there). The worker posts every event to a recorder, as it would to the app's bridge; plain
    functions (blockers, raw ONNX jobs) run as jobs too."""
    recorder = Recorder()
    workspace = Workspace(ModelRegistry([(tmp_path / "models", "user")], SETTINGS), post=recorder)
    workspace.register(types.FunctionType, call_payload)
    workspace.recorder = recorder
    yield workspace
    workspace.shutdown()
    assert not any(t.name.startswith("genart-jobs") and t.is_alive() for t in threading.enumerate())


@pytest.fixture
def runner(workspace):
    runner = workspace.runner
    runner.recorder, runner.workspace = workspace.recorder, workspace
    return runner


@pytest.fixture(autouse=True)
def fresh_probes(monkeypatch):
    monkeypatch.delenv(providers.ENV_VAR, raising=False)
    providers.reset_probe_cache()
    yield
    providers.reset_probe_cache()


def _style_setup(workspace, tmp_path, network=None, **card):
    root = tmp_path / "models"
    write_model_folder(root, "tiny-style", "style", {"stylizer": network or image_model(scale=-1.0)},
                       resolution=[64, 64], **card)
    return workspace.registry


def _diffusion_setup(workspace, tmp_path, slow: bool = False):
    root = tmp_path / "models"
    if slow:
        config = {"schedule": SCHEDULE.to_dict(), "conditioning": {"type": "none"}, "default_steps": 4,
                  "default_guidance": 1.0}
        write_model_folder(root, "tiny-diffusion", "diffusion", {"unet": slow_unet(SLOW_LAYERS)},
                           resolution=[SLOW_SIDE, SLOW_SIDE], config=config)
    else:
        diffusion_folder(root)
    return workspace.registry


def _generate(controller: DiffusionController, doc, **changes):
    settings = dataclasses.replace(controller.default_settings("tiny-diffusion"), seed_mode="fixed", seed=3,
                                   **changes)
    entries, _ = controller.submit("generate", settings, doc)
    return entries[0]


def _feed(runner, job_id):
    """Deliver a job's recorded events, as the app's GUI thread does."""
    for event in runner.recorder.of(job_id):
        runner.workspace.deliver(event)


def _blocker(runner):
    release, started = threading.Event(), threading.Event()

    def work(context):
        started.set()
        while not release.wait(0.01):
            context.check_cancelled()

    handle = runner.submit(JobRequest(work, "blocker"))
    assert started.wait(TIMEOUT)
    return handle, release


def _break_session(session: ModelSession, fail_on_call: int, message: str) -> list[int]:
    """Make the onnxruntime session under ``session`` fail on its n-th run, as a GPU running out of memory does."""
    real_run = session._session.run
    calls = [0]

    def run(names, feeds, options=None):
        calls[0] += 1
        if calls[0] == fail_on_call:
            raise RuntimeError(message)
        return real_run(names, feeds, options)

    session._session.run = run
    return calls


# -- an inference error mid-job --------------------------------------------------------------------------------------

def test_inference_error_mid_generation_fails_the_job_and_lands_nothing(tmp_path, runner):
    registry = _diffusion_setup(runner.workspace, tmp_path)
    controller = DiffusionController(runner.workspace, preview_every=1)
    calls = _break_session(registry.session("tiny-diffusion", "unet"), 3,
                           "[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : CUDA failure 2: out of memory")
    doc = sample_document()
    state = document_state(doc)
    entry = _generate(controller, doc, steps=8)
    assert entry.handle.wait(TIMEOUT)
    assert isinstance(entry.handle.outcome, Error) and calls[0] == 3, "the job must stop at the failing step"
    assert "failed while running" in entry.handle.outcome.message and "out of memory" in entry.handle.outcome.message
    assert not runner.recorder.of(entry.job_id, Result)
    _feed(runner, entry.job_id)
    assert entry.state == "failed" and "out of memory" in entry.message
    assert entry not in controller.staged  # a failed result never stays in the strip
    with pytest.raises(InputError, match="no longer in the staging strip"):
        controller.accept(entry.id, doc)
    assert document_state(doc) == state
    again = _generate(controller, doc, steps=2)  # the model still works afterwards
    assert again.handle.wait(TIMEOUT) and isinstance(again.handle.outcome, Result)


def test_inference_error_mid_style_apply_fails_the_job_and_lands_nothing(tmp_path, runner):
    registry = _style_setup(runner.workspace, tmp_path, config={"tile": 64, "overlap": 8})
    controller = StyleController(runner.workspace)
    controller.select("tiny-style")
    calls = _break_session(registry.session("tiny-style", "stylizer"), 5, "[ONNXRuntimeError] : 1 : FAIL : bad allocation")
    doc = _canvas(256)  # a preview run, then 16 tiles: the fifth run fails
    state = document_state(doc)
    handle = controller.apply(doc)
    assert handle.wait(TIMEOUT) and isinstance(handle.outcome, Error)
    assert "bad allocation" in handle.outcome.message and calls[0] == 5
    _feed(runner, handle.job_id)  # the Error event reaches the controller, which drops the render
    assert controller.applying == [] and document_state(doc) == state


# -- a GPU provider failing ------------------------------------------------------------------------------------------

class _ClaimsProvider:
    def __init__(self, session, provider):
        self._session, self._provider = session, provider

    def get_providers(self):
        return [self._provider, CPU]

    def __getattr__(self, name):
        return getattr(self._session, name)


@pytest.mark.parametrize("failure", ["driver_missing", "model_rejected"])
def test_failing_gpu_provider_falls_back_to_cpu_and_says_so(failure, tmp_path, runner, monkeypatch):
    monkeypatch.setattr(providers.ort, "get_available_providers", lambda: [CUDA, CPU])
    requests = []

    def factory(source, sess_options=None, providers=None):
        requests.append(list(providers))
        if CUDA in providers:
            if failure == "driver_missing" or not isinstance(source, bytes):  # bytes: the tiny probe model
                raise RuntimeError("CUDAExecutionProvider: libcudnn.so.9: cannot open shared object file")
            return _ClaimsProvider(ort.InferenceSession(source, sess_options=sess_options, providers=[CPU]), CUDA)
        return ort.InferenceSession(source, sess_options=sess_options, providers=[CPU])

    monkeypatch.setattr(providers, "_session_factory", factory)
    registry = _style_setup(runner.workspace, tmp_path)
    registry.settings["execution_provider"] = "auto"
    controller = StyleController(runner.workspace)
    controller.select("tiny-style")
    doc = sample_document()
    doc.deselect()
    original = doc.composite()[..., :3].astype(int)
    handle = controller.apply(doc)
    assert handle.wait(TIMEOUT) and isinstance(handle.outcome, Result), handle.outcome
    landed = []
    controller.applied.connect(landed.append)
    _feed(runner, handle.job_id)  # the Result event reaches the controller, which lands the render
    assert len(landed) == 1
    layer = landed[0]
    assert np.abs(layer.pixels[..., :3].astype(int) - (255 - original)).max() <= 2, "the CPU fallback must compute"
    choice = registry.provider_choice()
    assert choice.provider == CPU and choice.requested == "auto"
    assert "CUDA" in choice.reason and "libcudnn" in choice.reason
    assert choice.describe().startswith("CPU (CUDA")
    assert [CUDA, CPU] in requests and requests[-1] == [CPU]


# -- cancel at every stage of every job type ------------------------------------------------------------------------

def _style_job(tmp_path, runner, slow: bool):
    network = slow_stylizer(SLOW_LAYERS) if slow else image_model(scale=-1.0)
    registry = _style_setup(runner.workspace, tmp_path, network, config={"tile": 768 if slow else 64, "overlap": 8})
    controller = StyleController(runner.workspace)
    controller.select("tiny-style")
    if slow:
        registry.session("tiny-style", "stylizer")  # loaded beforehand: the cancel must land inside a run
    doc = _canvas(SLOW_SIDE if slow else 256)
    state = document_state(doc)
    handle = controller.apply(doc)

    def landed() -> bool:
        _feed(runner, handle.job_id)  # the controller lands a Result, drops anything else
        return document_state(doc) != state

    return handle, registry, landed


def _diffusion_job(tmp_path, runner, slow: bool):
    registry = _diffusion_setup(runner.workspace, tmp_path, slow)
    controller = DiffusionController(runner.workspace, preview_every=1)
    if slow:
        registry.session("tiny-diffusion", "unet")
    doc = _canvas(64)
    state = document_state(doc)
    entry = _generate(controller, doc, steps=4 if slow else 8)

    def landed() -> bool:
        _feed(runner, entry.job_id)
        if entry.state == "done":
            controller.accept(entry.id, doc)
        assert entry.state in ("cancelled", "done")
        return document_state(doc) != state

    return entry.handle, registry, landed


def _onnx_job(tmp_path, runner, slow: bool):
    path = save_model(slow_stylizer(SLOW_LAYERS) if slow else image_model(), tmp_path / "slow.onnx")
    session = ModelSession.load(path, SETTINGS)
    side = SLOW_SIDE if slow else 16
    results = []

    def work(context):
        x = np.ones((1, 3, side, side), np.float32) * 0.01
        for step in range(4):
            x = session.run({"content": x}, context.run_options)["stylized"]
            yield (step + 1) / 4, f"Step {step + 1} of 4"
        results.append(x)
        return x

    handle = runner.submit(JobRequest(work, "ONNX job"))
    registry = ModelRegistry([(tmp_path / "none", "user")], SETTINGS)
    return handle, registry, lambda: bool(results)


def _canvas(side: int):
    from genart_desktop.document import Document

    doc = Document(side, side)
    doc.fill(0, 0, (30, 90, 200, 255))
    return doc


JOBS = {"style": _style_job, "diffusion": _diffusion_job, "onnx": _onnx_job}


@pytest.mark.parametrize("job", sorted(JOBS))
def test_cancel_while_queued_never_runs_the_job(job, tmp_path, runner):
    blocker, release = _blocker(runner)
    handle, registry, landed = JOBS[job](tmp_path, runner, slow=False)
    assert handle.state == "pending"
    assert handle.cancel()
    assert handle.wait(TIMEOUT) and isinstance(handle.outcome, Cancelled)
    assert "before it started" in handle.outcome.reason
    release.set()
    assert blocker.wait(TIMEOUT)
    assert not runner.recorder.of(handle.job_id, Progress), "a cancelled queued job must never start"
    assert registry.cached_sessions() == [] and not landed()


@pytest.mark.parametrize("job", sorted(JOBS))
def test_cancel_between_steps_stops_at_the_next_step(job, tmp_path, runner):
    stop_at = {"style": "Tile 2 of", "diffusion": "Step 2 of", "onnx": "Step 2 of"}[job]
    cancelled_at = []

    def hook(event):
        if isinstance(event, Progress) and stop_at in event.message and not cancelled_at:
            cancelled_at.append(len(runner.recorder.events))
            runner.cancel(event.job_id)

    runner.recorder.hooks.append(hook)
    handle, registry, landed = JOBS[job](tmp_path, runner, slow=False)
    assert handle.wait(TIMEOUT)
    assert isinstance(handle.outcome, Cancelled), handle.outcome
    assert cancelled_at, "the job never reached the step where it should be cancelled"
    later = [e for e in runner.recorder.events[cancelled_at[0]:]
             if e.job_id == handle.job_id and isinstance(e, Progress)]
    assert len(later) <= 1, f"the job went on after the cancel: {[e.message for e in later]}"
    assert not landed()


@pytest.mark.slow
@pytest.mark.parametrize("job", ["diffusion", "onnx", "style"])
def test_cancel_inside_a_long_onnx_run_stops_it_promptly(job, tmp_path, runner):
    """The cancel arrives 0.1 s into a run that takes over a second: it must end within 0.3 s."""
    first_run_done = threading.Event()

    def hook(event):
        if job == "style" and isinstance(event, Preview):  # the quick look is done; the full-size run starts
            first_run_done.set()
        elif isinstance(event, Progress) and "Step 1 of" in event.message:
            first_run_done.set()

    runner.recorder.hooks.append(hook)
    handle, registry, landed = JOBS[job](tmp_path, runner, slow=True)
    assert first_run_done.wait(TIMEOUT)
    time.sleep(0.1)
    asked = time.monotonic()
    handle.cancel()
    assert handle.wait(TIMEOUT)
    latency = time.monotonic() - asked
    assert isinstance(handle.outcome, Cancelled), handle.outcome
    assert latency < 0.3, f"cancelling took {latency:.2f} s: the ONNX run was not terminated"
    assert not landed()
