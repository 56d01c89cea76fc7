"""The ``model.json`` card (docs/model-card.md): parsing and validation with reasons a person can act on.

Parsing checks the card on its own (fields, id, family, roles, tensors, paths that stay inside the folder);
:func:`verify_files` checks the files on disk (present, size, sha256, external data too). Checking the card against
the real ONNX graph is the registry's job, because it needs a session.

Models come from anywhere, so a role's tensors keep the graph's own names: ``io.<role>.names`` maps the role's
standard names (``content``, ``stylized``, ``z``, ``image`` ...) to them, and image tensors say their value range,
which the engine converts to and from (:mod:`engine.value_range`).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genart_desktop.core.errors import ModelError
from genart_desktop.engine.contained import inside, is_regular, load_contained_json

CARD_NAME = "model.json"
CARD_FORMAT = "genart-model-card/1"
MAX_CARD_BYTES = 1 << 20
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
FAMILIES = ("gan", "vae", "style", "style-arbitrary", "diffusion", "upscaler", "sd-onnx")
DTYPES = ("float32", "float16", "float64", "int64", "int32", "int8", "uint8", "bool")
# A fixed tensor axis larger than this, or a fixed shape with more elements, is a broken or hostile file: no model of
# ours (or Stable Diffusion's) comes near, and trusting it could make us allocate absurd buffers.
MAX_TENSOR_DIM = 1 << 16
MAX_TENSOR_ELEMENTS = 1 << 31

# role -> (input names that must exist, output names that must exist); see the table in docs/model-card.md.
ROLE_TENSORS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "generator": (("z",), ("image",)),
    "encoder": (("image",), ("mean", "logvar")),
    "decoder": (("latent",), ("image",)),
    "stylizer": (("content",), ("stylized",)),
    "unet": (("sample", "timestep"), ("prediction",)),
    "vae_decoder": (("latent",), ("image",)),
    "upscaler": (("low",), ("high",)),
}
# Roles whose tensors depend on the family: the arbitrary style model's encoder measures feature statistics (mean,
# std), not a VAE's (mean, logvar), and its transfer network takes the content and style statistics and a strength.
FAMILY_ROLE_TENSORS: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "style-arbitrary": {
        "encoder": (("image",), ("mean", "std")),
        "transfer": (("content", "content_mean", "content_std", "style_mean", "style_std", "strength"),
                     ("stylized",)),
    },
}
FAMILY_IMAGE_TENSORS: dict[str, dict[str, tuple[str, ...]]] = {
    "style-arbitrary": {"encoder": ("image",), "transfer": ("content", "stylized")},
}
# Standard names a role may map besides the required ones.
ROLE_OPTIONAL: dict[str, tuple[str, ...]] = {"unet": ("cond",)}
# Image tensors whose declared ``range`` the engine honours (default [-1, 1]).
IMAGE_TENSORS: dict[str, tuple[str, ...]] = {
    "generator": ("image",), "encoder": ("image",), "decoder": ("image",), "stylizer": ("content", "stylized"),
    "vae_decoder": ("image",), "upscaler": ("low", "high"),
}
DEFAULT_RANGE = (-1.0, 1.0)
# External data beside an ONNX file (torch writes ``model.onnx.data``): hashed like the graph, and never larger
# than this (the largest Stable Diffusion U-Net in float32 is about 3.5 GB).
MAX_EXTERNAL_DATA_BYTES = 16 << 30
# family -> (required roles, optional roles); sd-onnx cards may name any roles.
FAMILY_ROLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "gan": (("generator",), ()),
    "vae": (("decoder",), ("encoder",)),  # without an encoder the explorer still works; encoding is disabled
    "style": (("stylizer",), ()),
    "diffusion": (("unet",), ("vae_decoder",)),
    "upscaler": (("upscaler",), ()),
    "style-arbitrary": (("encoder", "transfer"), ()),
}


@dataclass(frozen=True)
class TensorDecl:
    """A tensor as the card declares it: dims are ints (fixed) or names (dynamic axes)."""

    name: str
    shape: tuple[int | str, ...]
    dtype: str
    range: tuple[float, float] | None = None


@dataclass(frozen=True)
class RoleIO:
    """A role's declared tensors, keyed by the graph's names, and ``names``: standard name -> graph name."""

    inputs: dict[str, TensorDecl]
    outputs: dict[str, TensorDecl]
    names: dict[str, str] = field(default_factory=dict)

    def name(self, standard: str) -> str:
        """The graph's name for a standard tensor name (itself when the card maps nothing)."""
        return self.names.get(standard, standard)

    def tensor(self, standard: str) -> TensorDecl | None:
        name = self.name(standard)
        return self.inputs.get(name) or self.outputs.get(name)

    def value_range(self, standard: str) -> tuple[float, float]:
        decl = self.tensor(standard)
        return decl.range if decl is not None and decl.range is not None else DEFAULT_RANGE


@dataclass(frozen=True)
class DataRef:
    """An external data file an ONNX file reads its weights from, relative to the card's folder."""

    relative: str
    path: Path
    sha256: str


@dataclass(frozen=True)
class FileRef:
    role: str
    relative: str
    path: Path
    sha256: str
    data: tuple[DataRef, ...] = ()


@dataclass(frozen=True)
class ModelCard:
    id: str
    name: str
    family: str
    folder: Path
    files: dict[str, FileRef]
    io: dict[str, RoleIO]
    description: str = ""
    resolution: tuple[int, int] | None = None
    latent: dict[str, Any] | None = None
    license: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    thumbnail: Path | None = None
    config: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def onnx_roles(self) -> list[str]:
        return [role for role, ref in self.files.items() if ref.relative.lower().endswith(".onnx")]

    @property
    def latent_shape(self) -> tuple[int, ...] | None:
        return tuple(self.latent["shape"]) if self.latent else None

    def tensor_name(self, role: str, standard: str) -> str:
        """The graph's own name of a role's standard tensor (``content`` -> ``input1``)."""
        return self.io[role].name(standard) if role in self.io else standard

    def value_range(self, role: str, standard: str) -> tuple[float, float]:
        """The declared value range of an image tensor ([-1, 1] unless the card says otherwise)."""
        return self.io[role].value_range(standard) if role in self.io else DEFAULT_RANGE


def load_card(folder: str | os.PathLike[str]) -> ModelCard:
    """Read and validate ``folder/model.json``; raises :class:`ModelError` with the reason."""
    folder = Path(folder)
    path = folder / CARD_NAME
    if not path.exists() and not path.is_symlink():
        raise ModelError(f"{folder.name} has no {CARD_NAME} model card.")
    data = load_contained_json(folder, CARD_NAME, MAX_CARD_BYTES, f"{folder.name}/{CARD_NAME}")
    return parse_card(data, folder)


def parse_card(data: Any, folder: str | os.PathLike[str]) -> ModelCard:
    folder = Path(folder)
    where = f"{folder.name}/{CARD_NAME}"
    if not isinstance(data, dict):
        raise ModelError(f"{where} must hold a JSON object.")
    if data.get("format") != CARD_FORMAT:
        raise ModelError(f"{where}: 'format' must be \"{CARD_FORMAT}\", got {data.get('format')!r}.")
    model_id = _string(data, "id", where)
    if not ID_PATTERN.fullmatch(model_id):
        raise ModelError(f"{where}: id {model_id!r} must be lower-case letters, digits, '.', '_' or '-' "
                         "(starting with a letter or digit, at most 64 characters).")
    name = _string(data, "name", where)
    family = _string(data, "family", where)
    if family not in FAMILIES:
        raise ModelError(f"{where}: family {family!r} is not one of {', '.join(FAMILIES)}.")
    license_text = _string(data, "license", where)
    provenance = _object(data, "provenance", where)
    files = _parse_files(data.get("files"), folder, where)
    io = _parse_io(data.get("io"), where)
    _check_roles(family, files, io, where)
    resolution = _parse_resolution(data.get("resolution"), where, required=family != "sd-onnx")
    latent = _parse_latent(data.get("latent"), where, required=family in ("gan", "vae"))
    thumbnail = None
    if data.get("thumbnail") is not None:
        thumb_path = inside(folder, data["thumbnail"], where, "thumbnail")
        thumbnail = thumb_path if is_regular(thumb_path) else None
    description = data.get("description", "")
    return ModelCard(
        id=model_id, name=name, family=family, folder=folder, files=files, io=io,
        description=description if isinstance(description, str) else "",
        resolution=resolution, latent=latent, license=license_text, provenance=provenance,
        metrics=_object(data, "metrics", where, required=False),
        thumbnail=thumbnail, config=_object(data, "config", where, required=False), raw=data,
    )


def _string(data: dict, key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ModelError(f"{where}: '{key}' is missing or not a non-empty string.")
    return value


def _object(data: dict, key: str, where: str, required: bool = True) -> dict[str, Any]:
    value = data.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise ModelError(f"{where}: '{key}' is missing or not an object.")
    return value


def _parse_files(value: Any, folder: Path, where: str) -> dict[str, FileRef]:
    if not isinstance(value, dict) or not value:
        raise ModelError(f"{where}: 'files' must map each role to {{\"path\", \"sha256\"}}.")
    files = {}
    for role, entry in value.items():
        if not isinstance(entry, dict):
            raise ModelError(f"{where}: files.{role} must be an object with 'path' and 'sha256'.")
        path = inside(folder, entry.get("path"), where, f"files.{role}")
        digest = entry.get("sha256")
        files[role] = FileRef(role, entry["path"], path, _digest(digest, f"files.{role}", where),
                              _parse_data(entry.get("data"), folder, where, f"files.{role}.data"))
    return files


def _digest(value: Any, what: str, where: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", value):
        raise ModelError(f"{where}: {what}.sha256 must be 64 hexadecimal digits.")
    return value.lower()


def _parse_data(value: Any, folder: Path, where: str, what: str) -> tuple[DataRef, ...]:
    """``[{"path", "sha256"}, ...]``: the external data files of one ONNX file."""
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > 64:
        raise ModelError(f"{where}: {what} must be a list of {{\"path\", \"sha256\"}} (at most 64).")
    refs = []
    for index, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise ModelError(f"{where}: {what}[{index}] must be an object with 'path' and 'sha256'.")
        path = inside(folder, entry.get("path"), where, f"{what}[{index}]")
        refs.append(DataRef(entry["path"], path, _digest(entry.get("sha256"), f"{what}[{index}]", where)))
    return tuple(refs)


def _parse_tensor(name: str, value: Any, where: str) -> TensorDecl:
    if not isinstance(value, dict):
        raise ModelError(f"{where}: tensor '{name}' must be an object with 'shape' and 'dtype'.")
    shape = value.get("shape")
    if not isinstance(shape, list) or not all(
            (isinstance(d, int) and not isinstance(d, bool) and d > 0) or (isinstance(d, str) and d) for d in shape):
        raise ModelError(f"{where}: tensor '{name}' shape must be a list of positive ints or axis names.")
    fixed = [d for d in shape if isinstance(d, int)]
    if any(d > MAX_TENSOR_DIM for d in fixed) or math.prod(fixed) > MAX_TENSOR_ELEMENTS:
        raise ModelError(f"{where}: tensor '{name}' shape {shape} is absurdly large.")
    dtype = value.get("dtype")
    if dtype not in DTYPES:
        raise ModelError(f"{where}: tensor '{name}' dtype {dtype!r} is not one of {', '.join(DTYPES)}.")
    value_range = value.get("range")
    if value_range is not None:
        if (not isinstance(value_range, list) or len(value_range) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                           for v in value_range)
                or value_range[0] > value_range[1]):
            raise ModelError(f"{where}: tensor '{name}' range must be [low, high].")
        value_range = (float(value_range[0]), float(value_range[1]))
    return TensorDecl(name, tuple(shape), dtype, value_range)


def _parse_io(value: Any, where: str) -> dict[str, RoleIO]:
    if not isinstance(value, dict) or not value:
        raise ModelError(f"{where}: 'io' must map each ONNX role to its inputs and outputs.")
    io = {}
    for role, entry in value.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("inputs"), dict) or not isinstance(
                entry.get("outputs"), dict):
            raise ModelError(f"{where}: io.{role} must have 'inputs' and 'outputs' objects.")
        if not entry["outputs"]:
            raise ModelError(f"{where}: io.{role} declares no outputs.")
        names = entry.get("names", {})
        if not isinstance(names, dict) or not all(isinstance(v, str) and v for v in names.values()):
            raise ModelError(f"{where}: io.{role}.names must map standard tensor names to the graph's names.")
        io[role] = RoleIO(
            {n: _parse_tensor(n, t, where) for n, t in entry["inputs"].items()},
            {n: _parse_tensor(n, t, where) for n, t in entry["outputs"].items()},
            dict(names),
        )
    return io


def _check_roles(family: str, files: dict[str, FileRef], io: dict[str, RoleIO], where: str) -> None:
    onnx_roles = {role for role, ref in files.items() if ref.relative.lower().endswith(".onnx")}
    if not onnx_roles:
        raise ModelError(f"{where}: 'files' lists no .onnx file.")
    for role in sorted(onnx_roles - io.keys()):
        raise ModelError(f"{where}: io has no entry for the ONNX file of role '{role}'.")
    for role in sorted(io.keys() - onnx_roles):
        raise ModelError(f"{where}: io.{role} describes a role with no .onnx file in 'files'.")
    if family not in FAMILY_ROLES:
        return
    required, optional = FAMILY_ROLES[family]
    missing = [role for role in required if role not in onnx_roles]
    if missing:
        raise ModelError(f"{where}: a {family} model needs the role(s) {', '.join(missing)}.")
    extra = sorted(onnx_roles - set(required) - set(optional))
    if extra:
        raise ModelError(f"{where}: a {family} model has no role {', '.join(extra)} "
                         f"(expected {', '.join(required + optional)}).")
    for role in onnx_roles:
        _check_names(role, io[role], where, family)


def _check_names(role: str, role_io: RoleIO, where: str, family: str = "") -> None:
    """Every standard tensor of the role resolves (through ``names``) to a declared tensor of the right kind, and
    image tensors have a usable range."""
    inputs, outputs = FAMILY_ROLE_TENSORS.get(family, {}).get(role) or ROLE_TENSORS[role]
    known = set(inputs) | set(outputs) | set(ROLE_OPTIONAL.get(role, ()))
    for standard in sorted(set(role_io.names) - known):
        raise ModelError(f"{where}: io.{role}.names maps '{standard}', which is not a {role} tensor "
                         f"(expected {', '.join(sorted(known))}).")
    for kind, wanted, declared in (("take an input", inputs, role_io.inputs),
                                   ("produce an output", outputs, role_io.outputs)):
        for standard in wanted:
            name = role_io.name(standard)
            if name not in declared:
                mapped = f" (mapped to '{name}')" if name != standard else ""
                raise ModelError(f"{where}: the {role} must {kind} named '{standard}'{mapped}; declare it, or map "
                                 f"io.{role}.names.{standard} to the graph's name.")
    for standard in FAMILY_IMAGE_TENSORS.get(family, {}).get(role, IMAGE_TENSORS.get(role, ())):
        low, high = role_io.value_range(standard)
        if not low < high:
            raise ModelError(f"{where}: the {role} tensor '{role_io.name(standard)}' range must have low < high.")


def _parse_resolution(value: Any, where: str, required: bool) -> tuple[int, int] | None:
    if value is None and not required:
        return None
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 16384 for v in value)):
        raise ModelError(f"{where}: 'resolution' must be [width, height] in pixels.")
    return int(value[0]), int(value[1])


def _parse_latent(value: Any, where: str, required: bool) -> dict[str, Any] | None:
    if value is None and not required:
        return None
    if not isinstance(value, dict):
        raise ModelError(f"{where}: 'latent' must be an object like {{\"shape\": [128], \"distribution\": \"normal\"}}.")
    shape = value.get("shape")
    if (not isinstance(shape, list) or not shape
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in shape)):
        raise ModelError(f"{where}: latent.shape must be a non-empty list of positive ints.")
    if value.get("prior") is not None:
        from genart_desktop.engine.latent.prior import LatentPrior

        LatentPrior.from_card(value["prior"], math.prod(shape), f"{where}: latent.prior")
    return dict(value)


# --- files on disk ---------------------------------------------------------------------------------------------

_hash_lock = threading.Lock()
_hash_cache: dict[tuple[str, int, int], str] = {}


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Streamed sha256, remembered per (path, size, mtime) so rescans do not re-read unchanged files."""
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _hash_lock:
        if key in _hash_cache:
            return _hash_cache[key]
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    value = digest.hexdigest()
    with _hash_lock:
        _hash_cache[key] = value
    return value


def verify_files(card: ModelCard) -> None:
    """Every listed file (and external data file) exists, is not absurdly large and matches its sha256; raises
    :class:`ModelError` naming the first that does not."""
    for role, ref in card.files.items():
        _verify_one(card.folder, role, ref.relative, ref.path, ref.sha256)
        for data in ref.data:
            _verify_one(card.folder, f"{role} external data", data.relative, data.path, data.sha256)


def _verify_one(folder: Path, what: str, relative: str, path: Path, expected: str) -> None:
    if not is_regular(path):
        raise ModelError(f"{folder.name}: the {what} file {relative} is missing or not a regular file.")
    try:
        if os.stat(path).st_size > MAX_EXTERNAL_DATA_BYTES:
            raise ModelError(f"{folder.name}: {relative} is larger than {MAX_EXTERNAL_DATA_BYTES >> 30} GiB; "
                             "refusing to read it.")
        actual = sha256_file(path)
    except OSError as exc:
        raise ModelError(f"{folder.name}: cannot read {relative}: {exc.strerror or exc}.") from exc
    if actual != expected:
        raise ModelError(f"{folder.name}: {relative} does not match its sha256 in the card "
                         "(the file is damaged or was replaced).")
