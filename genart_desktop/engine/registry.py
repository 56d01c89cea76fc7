"""The model registry: finds model folders, checks each card against its real ONNX graphs, caches sessions.

A folder that fails any check is listed as rejected with its reason and the others still load. Stable Diffusion
folders in the layout Hugging Face Optimum exports are recognised without a card (family ``sd-onnx``) and checked as
deeply: every component's graph must open, and an error names the component. Sessions are created on first use,
kept in a small LRU cache (setting ``session_cache_size``) and released on request.
"""

from __future__ import annotations

import logging
import math
import os
import re
import stat
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genart_desktop.core.errors import GenArtError, ModelError
from genart_desktop.core.paths import builtin_models_dir, user_data_dir, user_models_dir
from genart_desktop.core.settings import load_settings
from genart_desktop.engine.cards import (
    CARD_NAME,
    FAMILIES,
    ID_PATTERN,
    MAX_CARD_BYTES,
    MAX_TENSOR_DIM,
    MAX_TENSOR_ELEMENTS,
    ModelCard,
    RoleIO,
    load_card,
    verify_files,
)
from genart_desktop.engine.contained import load_contained_json
from genart_desktop.engine.onnx_wire import external_data_locations
from genart_desktop.engine.providers import ProviderChoice, choose_provider
from genart_desktop.engine.sd.folder import SD_GRAPHS, SDFolder
from genart_desktop.engine.session import ModelSession, TensorSpec, inspect_graph

log = logging.getLogger(__name__)

OPTIMUM_INDEX = "model_index.json"


@dataclass(frozen=True)
class ModelEntry:
    """One folder the registry looked at: an ``ok`` model, or a rejected folder with its reason."""

    id: str
    name: str
    family: str | None
    folder: Path
    source: str  # "builtin" or "user"
    status: str  # "ok" or "rejected"
    reason: str | None = None
    card: ModelCard | None = None
    files: dict[str, Path] = field(default_factory=dict)  # ONNX role -> file

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def roles(self) -> list[str]:
        return list(self.files)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "family": self.family, "status": self.status,
                "reason": self.reason, "source": self.source, "folder": str(self.folder),
                "roles": self.roles}


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-._")
    return slug[:64] or "model"


def check_graph(card_io: RoleIO, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec], role: str) -> None:
    """Raise :class:`ModelError` where the card's declared tensors disagree with the graph's real ones."""
    for kind, declared, real in (("inputs", card_io.inputs, inputs), ("outputs", card_io.outputs, outputs)):
        real_by_name = {spec.name: spec for spec in real}
        for spec in real:
            fixed = [d for d in spec.shape if isinstance(d, int)]
            if any(d > MAX_TENSOR_DIM for d in fixed) or math.prod(fixed) > MAX_TENSOR_ELEMENTS:
                raise ModelError(f"{role} {kind[:-1]} '{spec.name}' has absurd fixed dimensions "
                                 f"({spec.describe()}); refusing to use it.")
        # Every graph input must be fed, so all are declared; outputs the card does not name are simply unread.
        if (set(declared) != set(real_by_name)) if kind == "inputs" else not set(declared) <= set(real_by_name):
            raise ModelError(f"the card declares {role} {kind} {sorted(declared)} but the graph has "
                             f"{sorted(real_by_name)}.")
        for name, decl in declared.items():
            spec = real_by_name[name]
            if str(spec.dtype) != decl.dtype:
                raise ModelError(f"{role} {kind[:-1]} '{name}' is {spec.dtype} in the graph but {decl.dtype} in the card.")
            if spec.rank != len(decl.shape):
                raise ModelError(f"{role} {kind[:-1]} '{name}' has {spec.rank} dimensions in the graph "
                                 f"({spec.describe()}) but {len(decl.shape)} in the card {list(decl.shape)}.")
            for axis, (want, got) in enumerate(zip(decl.shape, spec.shape)):
                if isinstance(want, int) and isinstance(got, int) and want != got:
                    raise ModelError(f"{role} {kind[:-1]} '{name}' axis {axis} is {got} in the graph but {want} "
                                     "in the card.")
                if isinstance(want, str) and isinstance(got, int):
                    raise ModelError(f"{role} {kind[:-1]} '{name}' axis {axis} is dynamic ('{want}') in the card "
                                     f"but fixed to {got} in the graph.")


def check_external_data(card: ModelCard, role: str) -> None:
    """The external data files an ONNX file reads are exactly the ones its card lists (and so hashes)."""
    ref = card.files[role]
    base = ref.path.parent
    used = {os.path.normpath(base / location) for location in external_data_locations(ref.path)}
    listed = {os.path.normpath(data.path) for data in ref.data}
    missing = sorted(os.path.relpath(p, card.folder) for p in used - listed)
    if missing:
        raise ModelError(f"{ref.relative} reads external data {', '.join(missing)} that files.{role}.data does "
                         "not list (so its sha256 is unchecked).")
    unused = sorted(os.path.relpath(p, card.folder) for p in listed - used)
    if unused:
        raise ModelError(f"files.{role}.data lists {', '.join(unused)}, which {ref.relative} does not read.")


def check_latent_shape(card: ModelCard, role: str, inputs: Sequence[TensorSpec]) -> None:
    """A GAN generator's or VAE decoder's latent input must hold ``latent.shape``'s values: a card ``[100]`` fits a
    graph ``[batch, 100, 1, 1]`` (the engine reshapes), a card ``[64]`` does not."""
    standard = {"generator": "z", "decoder": "latent"}.get(role)
    if standard is None or card.latent_shape is None or card.family not in ("gan", "vae"):
        return
    name = card.tensor_name(role, standard)
    spec = next((s for s in inputs if s.name == name), None)
    if spec is None or spec.rank < 2:
        raise ModelError(f"the {role} input '{name}' must be [batch, latent...].")
    dims = spec.shape[1:]
    wanted = math.prod(card.latent_shape)
    if all(isinstance(d, int) for d in dims):
        if math.prod(dims) != wanted:  # type: ignore[arg-type]
            raise ModelError(f"latent.shape {list(card.latent_shape)} has {wanted} values but the {role} input "
                             f"'{name}' takes {list(dims)} ({math.prod(dims)} values).")  # type: ignore[arg-type]
    elif len(dims) != len(card.latent_shape):
        raise ModelError(f"the {role} input '{name}' has dynamic dimensions {list(dims)}; latent.shape must give "
                         f"all {len(dims)} of them, not {list(card.latent_shape)}.")
    else:
        for axis, (got, want) in enumerate(zip(dims, card.latent_shape), start=1):
            if isinstance(got, int) and got != want:
                raise ModelError(f"latent.shape {list(card.latent_shape)} disagrees with the {role} input "
                                 f"'{name}' on axis {axis} ({got}).")


class ModelRegistry:
    """Models found in the shipped and per-user model folders, with lazily created, cached sessions."""

    def __init__(self, roots: Sequence[tuple[Path, str]] | None = None,
                 settings: Mapping[str, Any] | None = None) -> None:
        self._roots = list(roots) if roots is not None else None
        self.settings = dict(settings) if settings is not None else load_settings()
        try:
            self.cache_size = max(1, int(self.settings.get("session_cache_size", 4)))
        except (TypeError, ValueError):
            self.cache_size = 4
        self._folders: list[Path] = []  # single model folders named by path, examined after the roots
        self._entries: list[ModelEntry] | None = None
        self._scan_lock = threading.Lock()
        self._cache_lock = threading.Lock()
        self._sessions: OrderedDict[tuple[str, str], ModelSession] = OrderedDict()
        self._last_choice: ProviderChoice | None = None

    @classmethod
    def for_folder(cls, folder: Path, settings: Mapping[str, Any] | None = None) -> ModelRegistry:
        """A registry of exactly one model folder named by path (``genart generate --model PATH``), which need not
        lie in a model folder."""
        registry = cls(roots=[], settings=settings)
        registry._folders = [Path(folder)]
        return registry

    # --- discovery -------------------------------------------------------------------------------------------

    def roots(self) -> list[tuple[Path, str]]:
        if self._roots is not None:
            return self._roots
        try:
            user = user_models_dir()
        except OSError:  # "models" is a file or a link loop: the scan reports it as a rejected folder
            user = user_data_dir() / "models"
        return [(builtin_models_dir(), "builtin"), (user, "user")]

    def entries(self) -> list[ModelEntry]:
        """Every folder found, ok or rejected (scanning on first use)."""
        with self._scan_lock:
            if self._entries is None:
                self._entries = self._scan()
            return list(self._entries)

    def rescan(self) -> list[ModelEntry]:
        """Look at the folders again; sessions of models that changed or vanished are released."""
        with self._scan_lock:
            old = {entry.id: entry for entry in self._entries or []}
            self._entries = self._scan()
            fresh = {entry.id: entry for entry in self._entries}
        for model_id, entry in old.items():
            if fresh.get(model_id) != entry:
                self.release(model_id)
        return list(self._entries)

    def models(self, family: str | None = None) -> list[ModelEntry]:
        """The usable models, optionally of one family."""
        return [e for e in self.entries() if e.ok and (family is None or e.family == family)]

    def rejected(self) -> list[ModelEntry]:
        return [e for e in self.entries() if not e.ok]

    def get(self, model_id: str) -> ModelEntry:
        for entry in self.entries():
            if entry.id == model_id and entry.ok:
                return entry
        for entry in self.entries():
            if entry.id == model_id:
                raise ModelError(f"Model '{model_id}' cannot be used: {entry.reason}")
        raise ModelError(f"There is no model '{model_id}'. Run `genart models` to list the models found.")

    def _scan(self) -> list[ModelEntry]:
        found: list[ModelEntry] = []
        seen: dict[str, Path] = {}
        for root, source in self.roots():
            folders, problem = list_model_folders(root)
            if problem is not None:
                log.warning("Cannot list models in %s: %s", root, problem)
                found.append(_rejected(root, source, problem))
            for folder in folders:
                entry = self._examine(folder, source)
                if entry.id in seen:
                    entry = _rejected(folder, source,
                                      f"{folder.name}: its id '{entry.id}' is already used by {seen[entry.id]}.",
                                      entry.id, entry.name, entry.family)
                elif entry.ok:
                    seen[entry.id] = folder
                if not entry.ok:
                    log.info("Model folder %s rejected: %s", folder, entry.reason)
                found.append(entry)
        found.extend(self._examine(folder, "path") for folder in self._folders)
        return found

    def _examine(self, folder: Path, source: str) -> ModelEntry:
        card: ModelCard | None = None
        try:
            if not os.path.lexists(folder / CARD_NAME) and os.path.lexists(folder / OPTIMUM_INDEX):
                return self._examine_optimum(folder, source)
            card = load_card(folder)
            verify_files(card)
            for role in card.onnx_roles:
                inputs, outputs = inspect_graph(card.files[role].path, f"{folder.name}/{card.files[role].relative}")
                try:
                    check_graph(card.io[role], inputs, outputs, role)
                    check_external_data(card, role)
                    check_latent_shape(card, role, inputs)
                except ModelError as exc:
                    raise ModelError(f"{folder.name}: {exc}") from exc
        except GenArtError as exc:
            if card is None:
                return _rejected(folder, source, str(exc), *_peek_card(folder))
            return _rejected(folder, source, str(exc), card.id, card.name, card.family)
        except Exception as exc:  # noqa: BLE001 - one broken folder must never stop the scan
            log.exception("Unexpected failure while checking %s", folder)
            return _rejected(folder, source, f"{folder.name}: unexpected error while checking it ({exc}).")
        return ModelEntry(card.id, card.name, card.family, folder, source, "ok", None, card,
                          {role: card.files[role].path for role in card.onnx_roles})

    def _examine_optimum(self, folder: Path, source: str) -> ModelEntry:
        """Read as the loader reads it, and every component's graph opened (a damaged U-Net is refused here, not
        on the first Generate), each error naming the component."""
        model_id, name = _slug(folder.name), folder.name
        try:
            layout = SDFolder.open(folder)
            files = {part: layout.graph(part) for part in SD_GRAPHS if layout.has(part)}
            for part, path in files.items():
                try:
                    inspect_graph(path, f"{folder.name}/{part}/{path.name}")
                except ModelError as exc:
                    raise ModelError(f"{folder.name}: the {part} component cannot be used: {exc}") from exc
        except GenArtError as exc:
            return _rejected(folder, source, str(exc), model_id, name, "sd-onnx")
        return ModelEntry(model_id, name, "sd-onnx", folder, source, "ok", None, None, files)

    # --- sessions --------------------------------------------------------------------------------------------

    def session(self, model_id: str, role: str) -> ModelSession:
        """The session for one ONNX file of a model, created on first use and cached (least recently used out)."""
        key = (model_id, role)
        with self._cache_lock:
            cached = self._sessions.get(key)
            if cached is not None:
                self._sessions.move_to_end(key)
                self._last_choice = cached.choice
                return cached
        entry = self.get(model_id)
        if role not in entry.files:
            raise ModelError(f"Model '{model_id}' has no '{role}' network (it has {', '.join(entry.roles)}).")
        if entry.card is not None:
            verify_files(entry.card)  # cheap when unchanged; catches a file replaced since the scan
        created = ModelSession.load(entry.files[role], self.settings, name=f"{entry.name} ({role})")
        with self._cache_lock:
            existing = self._sessions.get(key)
            if existing is not None:
                self._sessions.move_to_end(key)
                return existing
            self._sessions[key] = created
            self._last_choice = created.choice
            while len(self._sessions) > self.cache_size:
                evicted, _ = self._sessions.popitem(last=False)
                log.debug("Released session %s (cache full)", evicted)
        return created

    def cached_sessions(self) -> list[tuple[str, str]]:
        with self._cache_lock:
            return list(self._sessions)

    def release(self, model_id: str) -> None:
        """Drop the cached sessions of one model (memory is freed once no running job holds them)."""
        with self._cache_lock:
            for key in [k for k in self._sessions if k[0] == model_id]:
                del self._sessions[key]

    def release_all(self) -> None:
        with self._cache_lock:
            self._sessions.clear()

    # --- providers -------------------------------------------------------------------------------------------

    def provider_choice(self) -> ProviderChoice:
        """The provider of the most recently used session, else the one that would run a model now."""
        with self._cache_lock:
            if self._last_choice is not None:
                return self._last_choice
        return choose_provider(self.settings)

    def would_run(self, entry: ModelEntry) -> str | None:
        """Label of the provider that would run ``entry`` (None for a rejected folder)."""
        if not entry.ok:
            return None
        with self._cache_lock:
            for (model_id, _), session in self._sessions.items():
                if model_id == entry.id:
                    return session.choice.label
        return choose_provider(self.settings).label


def _peek_card(folder: Path) -> tuple[str | None, str | None, str | None]:
    """Best-effort id, name and family from a card that failed validation, so the listing still says what it was."""
    try:
        data = load_contained_json(folder, CARD_NAME, MAX_CARD_BYTES, CARD_NAME)
    except GenArtError:
        return None, None, None
    if not isinstance(data, dict):
        return None, None, None
    values = [data.get(key) if isinstance(data.get(key), str) and data.get(key) else None
              for key in ("id", "name", "family")]
    if values[0] is not None and not ID_PATTERN.fullmatch(values[0]):
        values[0] = None
    if values[2] not in FAMILIES:
        values[2] = None
    return values[0], values[1], values[2]


def list_model_folders(root: Path) -> tuple[list[Path], str | None]:
    """The candidate model folders in ``root`` (sorted; hidden and ``_`` names skipped), and a one-line problem
    when ``root`` exists but cannot be listed (a file, a link loop, no permission). A missing root is no problem."""
    if not root.exists() and not root.is_symlink():
        return [], None
    try:
        if not stat.S_ISDIR(os.stat(root).st_mode):
            return [], f"The models folder {root} is not a folder."
        children = [p for p in root.iterdir() if not p.name.startswith((".", "_"))]
        return sorted(p for p in children if p.is_dir()), None
    except (OSError, RuntimeError) as exc:
        detail = getattr(exc, "strerror", None) or type(exc).__name__
        return [], f"Cannot list the models folder {root}: {detail}."


def _rejected(folder: Path, source: str, reason: str, model_id: str | None = None, name: str | None = None,
              family: str | None = None) -> ModelEntry:
    return ModelEntry(model_id or _slug(folder.name), name or folder.name, family, folder, source, "rejected", reason)
