"""Exports of a trained adapter: rank tables, plain LoRA, and the base model with the adapter merged in.

Every entry point takes a run folder (``run.json`` gives the base model and task, ``adapter/`` the adapter,
``labels.json`` the labels), an adapter folder, or a live AdaLoRA ``PeftModel``:

- :func:`read_adapter_ranks` / :func:`format_rank_table` - what ``adalora-studio inspect PATH`` prints; works on
  any peft AdaLoRA (or LoRA) adapter folder and needs no base model.
- :func:`export_as_lora` - a plain LoRA adapter with per-module ranks (the conversion is
  :mod:`adalora_studio.core.adalora.to_lora`); no base model.
- :func:`export_merged` - the base model with the adapter merged, saved with ``save_pretrained`` (safetensors)
  plus its tokenizer, loadable with the Auto classes and no peft.

Without ``out_dir`` a run folder exports to ``<run>/exports/lora`` or ``<run>/exports/merged``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..adalora import (
    ADAPTER_NAME,
    AdapterMatrixRank,
    adapter_dir_of,
    format_rank_table,
    load_adapter_model,
    read_adapter_config,
    read_adapter_ranks,
)
from ..atomic import atomic_write_text
from ..config import ModelConfig
from ..errors import ModelError, RunError
from ..runs import RunFolder
from .lora import write_lora_adapter
from .publish import publish_dir

EXPORT_KINDS = ("lora", "merged")
MERGE_4BIT_MESSAGE = ("this run trained on a 4-bit (bitsandbytes) base: peft cannot merge an adapter into "
                      "quantised layers. Export the adapter or plain LoRA instead, and merge into the "
                      "full-precision base yourself.")


def _run_folder(path: Any) -> RunFolder | None:
    """The run folder ``path`` names, or None when it is not one (an adapter folder, a live model)."""
    if isinstance(path, RunFolder):
        return path
    if isinstance(path, (str, Path)) and (Path(path) / "run.json").is_file():
        return RunFolder(path)
    return None


def default_export_dir(source: Any, kind: str) -> Path:
    """``<run>/exports/<kind>`` for a run folder; :class:`ModelError` for anything else (give ``out_dir``)."""
    if kind not in EXPORT_KINDS:
        raise ValueError(f"kind must be one of {', '.join(EXPORT_KINDS)}")
    run = _run_folder(source)
    if run is None:
        raise ModelError("choose an output folder for the export (only a run folder has a default one)")
    return run.exports_dir / kind


def export_as_lora(
    source: Any, out_dir: str | Path | None = None, *, uniform_rank: bool = False, adapter_name: str = ADAPTER_NAME
) -> Path:
    """Export an AdaLoRA adapter (run folder, adapter folder, or live PeftModel) as plain LoRA; see
    :func:`.lora.write_lora_adapter`. Returns the output folder."""
    target = Path(out_dir) if out_dir is not None else default_export_dir(source, "lora")
    return write_lora_adapter(source, target, uniform_rank=uniform_rank, adapter_name=adapter_name)



def export_merged(
    source: Any,
    out_dir: str | Path | None = None,
    *,
    model_cfg: ModelConfig | None = None,
    task: str | None = None,
    label_names: Sequence[str] | None = None,
    tokenizer: Any = None,
) -> Path:
    """Save the base model with the adapter merged in (``merge_and_unload``) plus the tokenizer.

    ``source``: a run folder (base model, task and labels from it), an adapter folder with ``model_cfg`` (and
    optionally ``task``/``label_names``), or a live PeftModel (merged on a copy; pass ``tokenizer`` to save it
    too). Returns the output folder, loadable with ``AutoModelFor...from_pretrained`` without peft.
    """
    run = _run_folder(source)
    base_cfg = model_cfg or (run.read_config().model if run is not None else None)
    if base_cfg is not None and base_cfg.load_in_4bit:
        raise ModelError(MERGE_4BIT_MESSAGE)
    target = Path(out_dir) if out_dir is not None else default_export_dir(source, "merged")
    protect: Path | None = None
    if hasattr(source, "peft_config"):
        model = copy.deepcopy(source)
    else:
        if run is not None:
            cfg = run.read_config()
            model_cfg = model_cfg or cfg.model
            task = task or cfg.task
            label_names = label_names or run.read_labels() or None
            adapter_dir = run.adapter_dir
        elif model_cfg is None:
            raise ModelError(f"{source} is an adapter folder: say which base model to merge it into")
        else:
            adapter_dir = adapter_dir_of(source)
        protect = adapter_dir
        model, loaded_tokenizer = load_adapter_model(adapter_dir, model_cfg, task, label_names)
        tokenizer = tokenizer or loaded_tokenizer
    try:
        merged = model.merge_and_unload(safe_merge=True)
    except ValueError as exc:  # NaNs in the merged weights
        raise ModelError(f"merging failed: {exc}") from exc
    except (TypeError, NotImplementedError, AttributeError) as exc:
        raise ModelError(f"this model's layers cannot be merged ({exc}); export the adapter or LoRA instead") from exc
    merged.eval()
    _forget_gguf_quantizer(merged)

    def write(staging: Path) -> None:
        merged.save_pretrained(str(staging))
        if tokenizer is not None:
            tokenizer.save_pretrained(str(staging))

    return publish_dir(write, target, protect=protect)


def _forget_gguf_quantizer(model: Any) -> None:
    """Let a model loaded from GGUF be saved: transformers dequantises GGUF weights to plain float tensors on load
    but keeps its GGUF quantizer on the model, and ``save_pretrained`` refuses any model with a non-serialisable
    quantizer. The weights need no quantizer, so drop it (transformers' own ``remove_quantization_config``)."""
    quantizer = getattr(model, "hf_quantizer", None)
    method = getattr(getattr(quantizer, "quantization_config", None), "quant_method", None)
    if quantizer is not None and str(getattr(method, "value", method)).lower() == "gguf":
        quantizer.remove_quantization_config(model)


def inspect_adapter(path: str | Path) -> str:
    """The rank table of an adapter or run folder, as ``adalora-studio inspect PATH`` prints it."""
    adapter_dir = adapter_dir_of(path)
    config = read_adapter_config(adapter_dir)
    head = f"{adapter_dir}  ({config.get('peft_type')}"
    if config.get("init_r"):
        head += f", init_r {config.get('init_r')}, target_r {config.get('target_r')}"
    head += f", task {config.get('task_type') or '-'})\n"
    return head + format_rank_table(read_adapter_ranks(adapter_dir))



# ------------------------------------------------------------------------------- run-folder entry points


def _finished_run(run_dir: str | Path) -> RunFolder:
    """The run folder, or :class:`RunError` when it has no saved adapter yet (saying why)."""
    run = RunFolder.open(run_dir)
    if not (run.adapter_dir / "adapter_config.json").is_file():
        status = run.read_status()
        state = f"it is {status.state} at step {status.step}" if status else "it has not run"
        raise RunError(f"run '{run.name}' has no saved adapter yet ({state}); let it finish, or resume it first")
    return run


def export_run_as_lora(run_dir: str | Path, out_dir: str | Path | None = None, *, uniform_rank: bool = False) -> Path:
    """A finished run's adapter as plain LoRA (default ``<run>/exports/lora``)."""
    run = _finished_run(run_dir)
    return export_as_lora(run.path, out_dir, uniform_rank=uniform_rank)


def export_run_merged(run_dir: str | Path, out_dir: str | Path | None = None) -> Path:
    """A finished run's base model with the adapter merged, plus tokenizer (default ``<run>/exports/merged``)."""
    run = _finished_run(run_dir)
    return export_merged(run.path, out_dir)


def rank_table_csv(rows: Sequence[AdapterMatrixRank]) -> str:
    """CSV text (module, rank, init_r, in_features, out_features) of :func:`read_adapter_ranks` rows."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["module", "rank", "init_r", "in_features", "out_features"])
    for r in rows:
        writer.writerow([r.module, r.rank, r.init_r, "" if r.in_features is None else r.in_features,
                         "" if r.out_features is None else r.out_features])
    return buf.getvalue()


def export_rank_csv(source: str | Path, out_csv: str | Path) -> Path:
    """Write the final rank table as CSV: a run's own ``ranks.csv`` when it has one (it names layers and matrix
    types), else the table read from the adapter (run or adapter folder). Written atomically."""
    run = _run_folder(source)
    if run is not None and run.ranks_csv.is_file():
        text = run.ranks_csv.read_text(encoding="utf-8")
    else:
        if run is not None:
            _finished_run(run.path)
        text = rank_table_csv(read_adapter_ranks(source))
    out = Path(out_csv)
    atomic_write_text(out, text)
    return out
