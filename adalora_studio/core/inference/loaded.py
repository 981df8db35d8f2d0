"""Loading a trained model for use: a finished run's adapter, a stopped run's last checkpoint, or any adapter folder.

The adapter is loaded exactly as a user of plain peft would (:func:`adalora.load_adapter_model`), so using it
doubles as a check that the saved adapter is right. A stopped run has no adapter: its last checkpoint's full-size
weights are loaded and its rank pattern applied (:func:`adalora.load_checkpoint_model`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..adalora import CONFIG_NAME, TASK_OF_PEFT_TASK_TYPE, load_adapter_model, read_adapter_config
from ..config import ModelConfig, RunConfig
from ..errors import ModelError, RunError
from ..runs import RunFolder


@dataclass
class LoadedModel:
    """A model ready for prediction or generation (eval mode), with what it came from."""

    model: Any
    """The peft model (its adapter can be switched off for the base model's answers)."""
    tokenizer: Any
    task: str
    label_names: tuple[str, ...] = ()
    """Class names in id order (the run's ``labels.json``); empty for causal LM."""
    source: str = ""
    """Where the weights came from, for people: ``adapter`` or ``checkpoint step-00000120``."""
    path: Path = field(default_factory=Path)
    """The run folder or adapter folder that was opened."""
    config: RunConfig | None = None
    """The run's config (None for a bare adapter folder)."""
    max_length: int = 128
    """Tokens per classification input (the run's ``data.max_length``); longer inputs are cut, with a note."""

    @property
    def name(self) -> str:
        """A short name for labels: the run's name, else the folder name."""
        return self.config.name if self.config is not None else self.path.name


def load_for_inference(path: str | Path, model_cfg: ModelConfig | None = None) -> LoadedModel:
    """Load a run folder (its adapter, else its last checkpoint) or an adapter folder.

    ``model_cfg`` names the base model of a bare adapter folder (default: the folder its
    ``adapter_config.json`` names, when that exists). Raises :class:`RunError` / :class:`ModelError` saying what
    is missing.
    """
    path = Path(path)
    if (path / "run.json").is_file():
        return _load_run(RunFolder.open(path))
    if (path / CONFIG_NAME).is_file():
        return _load_adapter_folder(path, model_cfg)
    raise RunError(f"{path} is neither a run folder (run.json) nor an adapter folder ({CONFIG_NAME})")


def _load_run(folder: RunFolder) -> LoadedModel:
    cfg = folder.read_config()
    labels = tuple(folder.read_labels()) if cfg.task == "text-classification" else ()
    common = {"task": cfg.task, "label_names": labels, "path": folder.path, "config": cfg,
              "max_length": cfg.data.max_length}
    if (folder.adapter_dir / CONFIG_NAME).is_file():
        model, tokenizer = load_adapter_model(folder.adapter_dir, cfg.model, cfg.task, labels or None)
        return LoadedModel(model, tokenizer, source="adapter", **common)  # type: ignore[arg-type]
    ckpt = folder.latest_checkpoint()
    if ckpt is None:
        raise RunError(f"run '{folder.name}' has no adapter (it did not finish) and no checkpoint to use; "
                       f"finish or resume the run first ({folder.path})")
    model, tokenizer = _load_checkpoint(ckpt, cfg, labels)
    return LoadedModel(model, tokenizer, source=f"checkpoint {ckpt.name}", **common)  # type: ignore[arg-type]


def _load_checkpoint(ckpt: Path, cfg: RunConfig, labels: tuple[str, ...]) -> tuple[Any, Any]:
    """The run's base model with the checkpoint's full-size AdaLoRA weights and its rank mask."""
    from safetensors.torch import load_file

    from ..adalora import load_checkpoint_model, task_type
    from ..model import load_model_and_tokenizer

    try:
        state = json.loads((ckpt / "state.json").read_text(encoding="utf-8"))
        trainable = load_file(str(ckpt / "trainable.safetensors"))
    except (OSError, ValueError) as exc:
        raise RunError(f"{ckpt}: checkpoint cannot be read ({exc}); use an earlier one") from exc
    base, tokenizer = load_model_and_tokenizer(cfg.model, cfg.task, labels or None)
    model = load_checkpoint_model(base, task_type(cfg.task), trainable, state.get("rank_pattern"),
                                  cfg.budget.lora_alpha)
    return model, tokenizer


def _load_adapter_folder(adapter_dir: Path, model_cfg: ModelConfig | None) -> LoadedModel:
    config = read_adapter_config(adapter_dir)
    task = TASK_OF_PEFT_TASK_TYPE.get(str(config.get("task_type")), "")
    if model_cfg is None:
        base = Path(str(config.get("base_model_name_or_path") or ""))
        if not str(base) or not base.is_dir():
            raise ModelError(f"{adapter_dir}: the adapter names base model {str(base)!r}, which is not a folder "
                             "here; choose the base model it was trained on")
        model_cfg = ModelConfig(source="folder", path=str(base))
    parent = RunFolder(adapter_dir.parent)
    labels = tuple(parent.read_labels()) if task == "text-classification" else ()
    model, tokenizer = load_adapter_model(adapter_dir, model_cfg, task or None, labels or None)
    if task == "text-classification" and not labels:
        labels = tuple(str(model.config.id2label[i]) for i in range(model.config.num_labels))
    return LoadedModel(model, tokenizer, task=task, label_names=labels, source="adapter", path=adapter_dir)


class ModelCache:
    """The models a viewer works with, kept and reused until others are asked for (at most ``size``).

    Not thread-safe: use it from one thread (the GUI's torch worker). Two slots let two runs sit side by side.
    """

    def __init__(self, size: int = 2) -> None:
        self.size = max(1, size)
        self._models: dict[Path, LoadedModel] = {}
        self._rows: dict[Path, Any] = {}
        self.loads = 0
        """How many times a model was actually loaded (a reuse does not count)."""
        self.row_loads = 0
        """How many times a run's evaluation rows were read from its data (a reuse does not count)."""

    def get(self, path: str | Path, model_cfg: ModelConfig | None = None) -> LoadedModel:
        """The loaded model of ``path``, loading it (and dropping the least recently used) when needed."""
        key = Path(path).resolve()
        if key in self._models:
            loaded = self._models.pop(key)
        else:
            while len(self._models) >= self.size:
                dropped = next(iter(self._models))
                self._models.pop(dropped)
                self._rows.pop(dropped, None)
            loaded = load_for_inference(key, model_cfg)
            self.loads += 1
        self._models[key] = loaded
        return loaded

    def eval_rows(self, path: str | Path) -> Any:
        """The run's own evaluation rows (:func:`run_eval_rows`) of the model of ``path``, read once per loaded model.

        They are kept with the model and dropped with it, so scoring rows again does no data loading."""
        from .rows import run_eval_rows

        loaded = self.get(path)
        key = Path(path).resolve()
        if key not in self._rows:
            self._rows[key] = run_eval_rows(loaded)
            self.row_loads += 1
        return self._rows[key]

    def loaded_paths(self) -> list[Path]:
        """Paths of the models held, least recently used first."""
        return list(self._models)
