"""The run configuration: frozen dataclasses that round-trip exactly through JSON (and YAML).

One file format drives the GUI, the CLI (``adalora-studio train run.json``) and ``accelerate launch``.
Each field carries help text in its metadata; the CLI's ``init-config`` writes it as ``//`` comments and the GUI
uses it for tooltips. ``validate_config`` performs every check that needs no model or data; checks that need
the dataset size or the model's modules live in :mod:`adalora_studio.core.adalora.plan`.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from ..errors import ConfigError, ConfigErrors
from .lora_options import LoraOptions
from .migrations import SCHEMA_VERSION, migrate

TASKS = ("text-classification", "causal-lm", "question-answering", "seq2seq")
"""Tasks the engine runs: classification, causal LM, extractive question answering (SQuAD) and seq2seq."""
FUTURE_TASKS: tuple[str, ...] = ()
MODEL_SOURCES = ("bundled", "folder", "gguf", "hub")
DATA_FORMATS = ("auto", "csv", "tsv", "json", "jsonl", "parquet", "arrow", "xlsx", "txt")
BUDGET_MODES = ("ranks", "percent", "params")
SCHEDULERS = ("linear", "cosine", "constant")
DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
DELIMITERS = ("auto", ",", ";", "\t", "|")
CHAT_FORMATS = ("auto", "messages", "sharegpt", "alpaca", "prompt-response", "text")
TEMPLATES = ("auto", "chat", "plain")
TEXT_MODES = ("lines", "chunks")
EVAL_METRICS = ("auto", "loss", "rouge", "bleu", "chrf", "exact_match", "squad", "squad_v2")
"""``data.eval_metric``: auto picks squad for question answering, rouge for seq2seq and loss elsewhere."""


def _f(default: Any, help: str, **kw: Any) -> Any:
    """A dataclass field with help text in its metadata."""
    if isinstance(default, (list, dict, set)):
        raise TypeError("use tuples for sequence defaults")
    return field(default=default, metadata={"help": help, **kw})


@dataclass(frozen=True)
class ModelConfig:
    """Which base model to adapt and how it may be loaded."""

    source: str = _f("bundled", "bundled | folder | gguf | hub. 'bundled' is all-MiniLM-L6-v2 (BERT, 22.7M params).")
    path: str = _f("", "Local folder (source=folder), .gguf file (source=gguf) or hub id (source=hub).")
    allow_pickle: bool = _f(False, "Allow loading pickle (.bin) weights. Off: only safetensors are loaded.")
    trust_remote_code: bool = _f(False, "Allow running code shipped with the model. Off unless you trust it.")
    load_in_4bit: bool = _f(
        False, "Load the base in 4-bit (bitsandbytes NF4; CUDA and the 'quant' extra). The merged export is then "
               "unsupported.")


@dataclass(frozen=True)
class DataConfig:
    """Where the data is and which columns mean what."""

    train_file: str = _f("", "Training data: a CSV, TSV, JSON, JSONL or Parquet file, or a saved datasets folder.")
    format: str = _f("auto", "auto | csv | tsv | json | jsonl | parquet | arrow (a datasets save_to_disk folder).")
    eval_file: str = _f("", "Separate evaluation file. Empty: split eval_fraction off the training data.")
    eval_fraction: float = _f(0.1, "Fraction of training rows held out for evaluation when eval_file is empty.")
    text_columns: tuple[str, ...] = _f(
        (), "Text column(s) for classification (one, or two for sentence pairs). Empty: detect.")
    label_column: str = _f("", "Label column for classification. Empty: detect.")
    prompt_column: str = _f("", "Prompt column for causal LM. Empty: detect.")
    response_column: str = _f("", "Response column for causal LM. Empty: detect.")
    max_length: int = _f(128, "Maximum tokens per example.")
    delimiter: str = _f("auto", "CSV field separator: auto (detect comma, semicolon, tab or pipe) or the character "
                                "itself: , ; | or \\t for tab.")
    sheet: str = _f("", "Spreadsheet (.xlsx) sheet to read. Empty: the first sheet.")
    chat_format: str = _f("auto", "Causal LM row layout: auto | messages (OpenAI) | sharegpt (conversations) | "
                                  "alpaca (instruction/input/output) | prompt-response | text (loss on all text).")
    template: str = _f("auto", "Causal LM rendering: auto (the tokenizer's chat template if it has one, else plain) | "
                               "chat | plain (turn text + newline; assistant text + end token; loss on assistant).")
    text_mode: str = _f("lines", "Plain-text (.txt) files for causal LM: lines (one example per non-blank line) or "
                                 "chunks (the whole file cut into max_length-token blocks, for continued pretraining).")
    question_column: str = _f("", "Question column for question answering. Empty: detect.")
    context_column: str = _f("", "Context (passage) column for question answering. Empty: detect.")
    answers_column: str = _f(
        "", "Answers column for question answering: {text: [...], answer_start: [...]} per row. Empty: detect.")
    source_column: str = _f("", "Source (input text) column for seq2seq. Empty: detect.")
    target_column: str = _f("", "Target (output text) column for seq2seq. Empty: detect.")
    doc_stride: int = _f(32, "Question answering: tokens shared by consecutive windows of a long context.")
    eval_metric: str = _f(
        "auto", "auto | loss | rouge | bleu | chrf | exact_match | squad | squad_v2. auto: squad for question "
        "answering, rouge for seq2seq, eval loss for causal LM. Eval loss is always reported too.")
    generation_eval_rows: int = _f(
        32, "Evaluate generation on N eval rows (greedy, batched) for rouge/bleu/chrf/exact_match. 0: all rows.")
    max_new_tokens: int = _f(48, "Most tokens generated per eval row for generation metrics.")
    metric_fallback_to_loss: bool = _f(
        False, "If the metric's package is not installed, evaluate by eval loss alone instead of refusing to start.")
    max_answer_length: int = _f(30, "Question answering: longest answer span (tokens) considered at evaluation.")


@dataclass(frozen=True)
class BudgetConfig:
    """The AdaLoRA parameter budget and its schedule."""

    target_modules: tuple[str, ...] = _f(
        (), "Module names or name suffixes to adapt (e.g. query, value). Empty: the architecture's default set."
    )
    budget_mode: str = _f("ranks", "ranks: use init_r/target_r. percent/params: resolve ranks from budget_value.")
    budget_value: float = _f(0.0, "percent: % of model parameters kept at the end; params: absolute count.")
    init_r: int = _f(12, "Initial rank per matrix (triplets each matrix starts with).")
    target_r: int = _f(8, "Average final rank per matrix. Must be smaller than init_r.")
    tinit: float = _f(0.1, "Warm-up before pruning starts, as a fraction of total optimizer steps.")
    tfinal: float = _f(0.2, "Final phase with a fixed budget, as a fraction of total optimizer steps.")
    delta_t: int = _f(10, "Prune every delta_t optimizer steps during the budgeting phase.")
    beta1: float = _f(0.85, "EMA factor for importance sensitivity.")
    beta2: float = _f(0.85, "EMA factor for importance uncertainty.")
    orth_reg_weight: float = _f(0.5, "Weight of the orthogonality regulariser on P and Q.")
    lora_alpha: float = _f(32.0, "Scaling numerator: updates are scaled by lora_alpha / init_r.")
    lora_dropout: float = _f(0.0, "Dropout on the adapter input.")
    fast_allocator: bool = _f(
        True, "Batched rank allocator and orthogonality term (same maths as peft, fewer small ops). "
              "false: peft's own per-tensor code.")


@dataclass(frozen=True)
class TrainingConfig:
    """Optimisation, evaluation, checkpointing and hardware."""

    epochs: float = _f(3.0, "Passes over the training data (ignored when max_steps > 0).")
    max_steps: int = _f(0, "Total optimizer steps. 0: derive from epochs.")
    batch_size: int = _f(16, "Examples per micro-batch (per device).")
    grad_accum: int = _f(1, "Micro-batches per optimizer step.")
    learning_rate: float = _f(5e-4, "Peak learning rate of AdamW.")
    scheduler: str = _f("linear", "linear | cosine | constant, after warm-up.")
    warmup_ratio: float = _f(0.06, "Learning-rate warm-up as a fraction of total optimizer steps.")
    weight_decay: float = _f(0.0, "AdamW weight decay.")
    max_grad_norm: float = _f(1.0, "Gradient clipping norm. 0: no clipping.")
    seed: int = _f(42, "Seed for initialisation, data order and dropout.")
    eval_every: int = _f(0, "Evaluate every N optimizer steps. 0: at the end of each epoch.")
    checkpoint_every: int = _f(0, "Checkpoint every N optimizer steps. 0: at the end of each epoch.")
    keep_checkpoints: int = _f(2, "How many recent checkpoints to keep.")
    log_every: int = _f(1, "Log metrics every N optimizer steps.")
    device: str = _f("auto", "auto | cpu | cuda | mps. auto picks CUDA, then MPS, then CPU.")
    precision: str = _f("auto", "auto | fp32 | bf16 | fp16. auto: bf16 on GPUs that support it, else fp32.")
    gradient_checkpointing: bool = _f(
        False, "Recompute activations during the backward pass: less memory for activations, ~30% slower steps.")
    processes: int = _f(
        1, "Processes (GPUs) the app starts for this run; more than 1 runs torchrun as child processes. The CLI "
           "ignores it: start `adalora-studio train` under torchrun or accelerate launch (see export-launch).")


@dataclass(frozen=True)
class RunConfig:
    """Everything needed to run one AdaLoRA fine-tune."""

    schema_version: int = _f(SCHEMA_VERSION, "Config file format version.")
    name: str = _f("run", "Run name; the run folder is named after it.")
    task: str = _f("text-classification", "text-classification | causal-lm | question-answering | seq2seq.")
    model: ModelConfig = field(default_factory=ModelConfig, metadata={"help": "Base model."})
    data: DataConfig = field(default_factory=DataConfig, metadata={"help": "Dataset."})
    budget: BudgetConfig = field(default_factory=BudgetConfig, metadata={"help": "AdaLoRA budget and schedule."})
    training: TrainingConfig = field(default_factory=TrainingConfig, metadata={"help": "Training."})
    output_dir: str = _f("", "Folder that holds run folders. Empty: the user's runs folder.")
    method: str = _f("adalora", "adalora | lora. lora trains a plain LoRA baseline with the same targets and data.")
    lora: LoraOptions = field(default_factory=LoraOptions, metadata={"help": "LoRA baseline options (method lora)."})
    comparison_id: str = _f("", "Set by an A/B comparison or budget sweep: the id shared by all its runs.")

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with top-level fields replaced (sections are whole dataclasses)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (tuples become lists)."""
        return _to_plain(self)

    def to_json(self) -> str:
        """JSON text, stable key order, two-space indent."""
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<config>") -> RunConfig:
        """Build from a plain dict, upgraded first from an older ``schema_version`` (:mod:`.migrations`); unknown
        or ill-typed fields raise :class:`ConfigErrors` naming them."""
        errors: list[ConfigError] = []
        cfg = _from_plain(cls, migrate(data, source), "", errors)
        if errors:
            raise ConfigErrors(errors)
        return cfg

    @classmethod
    def from_json(cls, text: str, source: str = "<config>") -> RunConfig:
        """Parse JSON text; ``//`` line comments (as ``init-config`` writes) are allowed."""
        try:
            data = json.loads(strip_json_comments(text))
        except json.JSONDecodeError as exc:
            raise ConfigError(
                "", f"{source}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
        if not isinstance(data, dict):
            raise ConfigError("", f"{source}: the top level must be an object")
        return cls.from_dict(data, source)


def with_section(cfg: RunConfig, section: str, **changes: Any) -> RunConfig:
    """A copy of ``cfg`` with fields of one section replaced, e.g. ``with_section(c, "budget", init_r=16)``."""
    return dataclasses.replace(cfg, **{section: dataclasses.replace(getattr(cfg, section), **changes)})


# ----------------------------------------------------------------------------------------------- files


def load_config(path: str | Path) -> RunConfig:
    """Read a config file (``.json`` with optional ``//`` comments, or ``.yaml``/``.yml``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("", f"{path}: config file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError("", f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError("", f"{path}: not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError("", f"{path}: the top level must be a mapping")
        return RunConfig.from_dict(data, str(path))
    return RunConfig.from_json(text, source=str(path))


def save_config(cfg: RunConfig, path: str | Path) -> None:
    """Write a config atomically (JSON, or YAML for ``.yaml``/``.yml``)."""
    from ..atomic import atomic_write_text

    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        text = yaml.safe_dump(cfg.to_dict(), sort_keys=False)
    else:
        text = cfg.to_json()
    atomic_write_text(path, text)


def commented_json(cfg: RunConfig) -> str:
    """JSON with a ``//`` comment above every field from its help text (what ``init-config`` writes)."""
    lines = ["// AdaLoRA Studio run configuration. Lines starting with // are comments.",
             "// Run it with: adalora-studio train THIS_FILE   (check it first: adalora-studio validate THIS_FILE)"]
    lines += _commented(cfg, 0)
    return "\n".join(lines) + "\n"


def _commented(obj: Any, depth: int) -> list[str]:
    pad = "  " * (depth + 1)
    out = ["  " * depth + "{"] if depth == 0 else []
    fields = dataclasses.fields(obj)
    for i, f in enumerate(fields):
        comma = "," if i < len(fields) - 1 else ""
        help_text = f.metadata.get("help", "")
        if help_text:
            out.append(f"{pad}// {help_text}")
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            out.append(f'{pad}"{f.name}": {{')
            out += _commented(value, depth + 1)
            out.append(f"{pad}}}{comma}")
        else:
            out.append(f'{pad}"{f.name}": {json.dumps(_to_plain(value))}{comma}')
    if depth == 0:
        out.append("}")
    return out


def strip_json_comments(text: str) -> str:
    """Remove ``//`` comments outside strings, keeping line numbers intact."""
    out: list[str] = []
    in_string = False
    escape = False
    i = 0
    while i < len(text):
        ch = text[i]
        if in_string:
            out.append(ch)
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_string = False
            i += 1
            continue
        if ch == '"':
            in_string = True
            out.append(ch)
            i += 1
        elif ch == "/" and text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        else:
            out.append(ch)
            i += 1
    return "".join(out)


# ------------------------------------------------------------------------------------ plain conversion


def _to_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [_to_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _to_plain(v) for k, v in value.items()}
    return value


def _from_plain(cls: type, data: Any, prefix: str, errors: list[ConfigError]) -> Any:
    if not isinstance(data, dict):
        errors.append(ConfigError(prefix.rstrip("."), f"expected an object, got {type(data).__name__}"))
        return cls()
    hints = get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1)
            hint = f"; did you mean '{prefix}{close[0]}'?" if close else f"; valid fields: {', '.join(names)}"
            errors.append(ConfigError(path, f"unknown field{hint}"))
            continue
        hint = hints[key]
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            kwargs[key] = _from_plain(hint, value, path + ".", errors)
            continue
        converted = _coerce(hint, value, path, errors)
        if converted is not _INVALID:
            kwargs[key] = converted
    return cls(**kwargs)


_INVALID = object()


def _coerce(hint: Any, value: Any, path: str, errors: list[ConfigError]) -> Any:
    origin = get_origin(hint)
    if origin is tuple:
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            errors.append(ConfigError(path, f"expected a list of strings, got {json.dumps(value)}"))
            return _INVALID
        return tuple(value)
    if hint is bool:
        if isinstance(value, bool):
            return value
        errors.append(ConfigError(path, f"expected true or false, got {json.dumps(value)}"))
        return _INVALID
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        errors.append(ConfigError(path, f"expected a whole number, got {json.dumps(value)}"))
        return _INVALID
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        errors.append(ConfigError(path, f"expected a number, got {json.dumps(value)}"))
        return _INVALID
    if hint is str:
        if isinstance(value, str):
            return value
        errors.append(ConfigError(path, f"expected text, got {json.dumps(value)}"))
        return _INVALID
    if get_args(hint):  # pragma: no cover - no other generic types in the config
        return value
    return value


def field_help(section: str, name: str) -> str:
    """Help text of a field, for CLI help and GUI tooltips (``section`` is '' for top-level fields)."""
    cls: Any = RunConfig
    if section:
        cls = {"model": ModelConfig, "data": DataConfig, "budget": BudgetConfig, "training": TrainingConfig,
               "lora": LoraOptions}[section]
    for f in dataclasses.fields(cls):
        if f.name == name:
            return f.metadata.get("help", "")
    raise KeyError(f"{section}.{name}")

