"""Which onnxruntime execution provider runs our models, and with which session options.

Order: CUDA, then DirectML / CoreML when installed, then CPU. The setting ``execution_provider`` and the environment
variable ``GENART_PROVIDER`` (``auto|cuda|cpu|dml|coreml``; the variable wins) override the order. onnxruntime-gpu
lists CUDA as available even where its libraries cannot load and then silently runs on CPU, so a GPU provider only
counts once a real session reports it in ``get_providers()``: a tiny probe model decides once per process, and every
real session is checked again after it is created.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import onnxruntime as ort

from genart_desktop.core.errors import ModelError
from genart_desktop.core.settings import load_settings
from genart_desktop.engine import memory_limit
from genart_desktop.engine.onnx_wire import identity_model_bytes

log = logging.getLogger(__name__)

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
DML = "DmlExecutionProvider"
COREML = "CoreMLExecutionProvider"
GPU_ORDER = (CUDA, DML, COREML)
CHOICES = {"cuda": CUDA, "dml": DML, "coreml": COREML, "cpu": CPU}
LABELS = {CPU: "CPU", CUDA: "CUDA", DML: "DirectML", COREML: "CoreML"}
ENV_VAR = "GENART_PROVIDER"


@dataclass(frozen=True)
class ProviderChoice:
    """The provider a session uses (or would use), and why it is not the one asked for, if it is not."""

    provider: str
    requested: str
    reason: str | None = None

    @property
    def label(self) -> str:
        return provider_label(self.provider)

    @property
    def providers(self) -> list[str]:
        """The list to give ``InferenceSession``: the chosen provider with CPU behind it for unsupported nodes."""
        return [self.provider] if self.provider == CPU else [self.provider, CPU]

    def describe(self) -> str:
        return self.label if not self.reason else f"{self.label} ({self.reason})"


def provider_label(provider: str) -> str:
    return LABELS.get(provider, provider.removesuffix("ExecutionProvider"))


def requested_preference(settings: Mapping[str, Any] | None = None) -> str:
    """``auto``, ``cuda``, ``cpu``, ``dml`` or ``coreml``: the environment variable, else the setting, else auto."""
    env = os.environ.get(ENV_VAR, "").strip().lower()
    if env:
        if env == "auto" or env in CHOICES:
            return env
        log.warning("Ignoring %s=%r: expected auto, cuda, cpu, dml or coreml.", ENV_VAR, env)
    value = str((settings if settings is not None else load_settings()).get("execution_provider", "auto")).lower()
    if value == "auto" or value in CHOICES:
        return value
    log.warning("Ignoring the setting execution_provider=%r: expected auto, cuda, cpu, dml or coreml.", value)
    return "auto"


def candidate_providers(preference: str) -> list[str]:
    """GPU providers worth trying for ``preference``, best first, among those this onnxruntime build has."""
    available = set(ort.get_available_providers())
    if preference == "cpu":
        return []
    wanted = list(GPU_ORDER) if preference == "auto" else [CHOICES[preference]]
    return [provider for provider in wanted if provider in available]


def _physical_core_count() -> int | None:
    """Physical cores from /proc/cpuinfo (Linux); None where that cannot be told."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    cores = set()
    physical_id = core_id = None
    for line in text.splitlines() + [""]:
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "physical id":
            physical_id = value.strip()
        elif key == "core id":
            core_id = value.strip()
        elif not key:
            if core_id is not None:
                cores.add((physical_id, core_id))
            physical_id = core_id = None
    return len(cores) or None


# Counted once at import: this is called from job worker threads, where a first-time import or file read is best
# avoided (an import inside a worker can deadlock against Qt's import hook in the GUI thread).
_PHYSICAL_CORES = _physical_core_count()


def physical_cores() -> int:
    """Physical cores we may use: hyper-threads rarely help onnxruntime, and the process affinity may be smaller."""
    try:
        allowed = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        allowed = os.cpu_count() or 1
    return max(1, min(_PHYSICAL_CORES or allowed, allowed))


def session_options(settings: Mapping[str, Any] | None = None, log_severity: int = 3) -> ort.SessionOptions:
    """Deliberate options: all graph optimisations, sequential execution, intra-op threads from the settings."""
    values = settings if settings is not None else load_settings()
    try:
        threads = int(values.get("intra_op_threads", 0))
    except (TypeError, ValueError):
        threads = 0
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.intra_op_num_threads = threads if threads > 0 else physical_cores()
    options.inter_op_num_threads = 1
    options.log_severity_level = log_severity
    # Idle intra-op threads would otherwise busy-wait between kernels and take the cores the GUI thread needs.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    memory_limit.apply(options, values)  # one capped CPU arena for every session's runs
    return options


SessionFactory = Callable[..., ort.InferenceSession]
_session_factory: SessionFactory = ort.InferenceSession
_probe_lock = threading.Lock()
_probe_cache: dict[str, str | None] = {}


def _probe(provider: str) -> str | None:
    """None when ``provider`` really runs a tiny model here, else the reason it does not (cached per process)."""
    with _probe_lock:
        if provider in _probe_cache:
            return _probe_cache[provider]
        options = ort.SessionOptions()
        options.log_severity_level = 4
        # A failing CUDA library load is printed by onnxruntime's default logger; we report it once, below.
        ort.set_default_logger_severity(4)
        try:
            session = _session_factory(identity_model_bytes(), sess_options=options, providers=[provider, CPU])
            used = session.get_providers()
            reason = None if used and used[0] == provider else (
                f"{provider_label(provider)} is installed but could not start: missing drivers or libraries")
        except Exception as exc:  # noqa: BLE001 - any provider failure means: use CPU
            reason = f"{provider_label(provider)} failed to initialise: {_first_line(exc)}"
        finally:
            ort.set_default_logger_severity(2)  # onnxruntime's default: warnings and above
        if reason:
            log.warning("%s; using the next execution provider.", reason)
        _probe_cache[provider] = reason
        return reason


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def reset_probe_cache() -> None:
    """Forget probe results (tests, or after the user installs drivers and asks to re-check)."""
    with _probe_lock:
        _probe_cache.clear()


def choose_provider(settings: Mapping[str, Any] | None = None) -> ProviderChoice:
    """The provider that would run a model now: the first requested GPU provider that works, else CPU."""
    preference = requested_preference(settings)
    reasons = []
    for provider in candidate_providers(preference):
        reason = _probe(provider)
        if reason is None:
            return ProviderChoice(provider, preference)
        reasons.append(reason)
    if preference not in ("auto", "cpu") and not reasons:
        reasons.append(f"{provider_label(CHOICES[preference])} is not available in this onnxruntime build")
    return ProviderChoice(CPU, preference, "; ".join(reasons) or None)


def would_run(settings: Mapping[str, Any] | None = None) -> str:
    """Short label of the provider that would run a model (status bar, ``genart models``)."""
    return choose_provider(settings).label


def create_session(model: str | os.PathLike[str] | bytes, settings: Mapping[str, Any] | None = None,
                   name: str | None = None) -> tuple[ort.InferenceSession, ProviderChoice]:
    """Create an InferenceSession on the best working provider, falling back to CPU with a logged reason.

    Raises :class:`ModelError` when the model cannot be loaded even on CPU.
    """
    values = dict(settings) if settings is not None else load_settings()
    choice = choose_provider(values)
    source = model if isinstance(model, bytes) else os.fspath(model)
    display = name or ("model" if isinstance(model, bytes) else os.path.basename(os.fspath(model)))
    if choice.provider != CPU:
        try:
            session = _session_factory(source, sess_options=session_options(values), providers=choice.providers)
        except Exception as exc:  # noqa: BLE001 - GPU refused this model: retry on CPU
            reason = f"{choice.label} could not load {display}: {_first_line(exc)}"
            log.warning("%s; falling back to CPU.", reason)
            return _cpu_session(source, values, display), ProviderChoice(CPU, choice.requested, reason)
        used = session.get_providers()[0] if session.get_providers() else CPU
        if used != choice.provider:
            reason = f"{choice.label} did not start for {display}; onnxruntime runs it on {provider_label(used)}"
            log.warning("%s.", reason)
            return session, ProviderChoice(used, choice.requested, reason)
        return session, choice
    return _cpu_session(source, values, display), choice


def _cpu_session(source: str | bytes, settings: Mapping[str, Any], display: str) -> ort.InferenceSession:
    try:
        return _session_factory(source, sess_options=session_options(settings), providers=[CPU])
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises several private exception types
        raise ModelError(f"Cannot load {display}: onnxruntime refused it ({_first_line(exc)}).") from exc
