"""Checking a run before anything heavy happens: the data, the model's modules, the ranks, the step count and
the runs folder (writable, with room for the checkpoints and the adapter).

Used by ``adalora-studio validate`` and by the engine itself before it loads weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config import RunConfig, check_config
from .disk import check_output_folder

_QUESTIONS_NOTE = "steps are counted from questions, not windows"


@dataclass(frozen=True)
class ValidationReport:
    """What a valid config resolves to: data summary, model description and the run plan."""

    config: RunConfig
    data: Any
    """core.data.DataSummary"""
    model: Any
    """core.model.ModelInfo"""
    plan: Any
    """core.adalora.RunPlan"""
    doctor: Any = None
    """core.data.DoctorReport, or None when the doctor was not asked for"""
    doctor_problem: str = ""
    """Why the doctor could not run (the tokenizer could not be loaded), when it was asked for"""

    def lines(self) -> list[str]:
        """Human-readable summary, one fact per line."""
        d, m, p = self.data, self.model, self.plan
        out = [
            f"Model:   {m.description}; {len(m.matrices)} adaptable matrices",
            f"Data:    {d.n_train} training rows, {d.n_eval} evaluation rows",
        ]
        if self.config.task == "question-answering" and not any(w.startswith(_QUESTIONS_NOTE) for w in d.warnings):
            out[-1] = f"Data:    {d.n_train} training windows, {d.n_eval} evaluation windows (the features trained on)"
        if self.config.task == "text-classification":
            out.append(f"Text:    {', '.join(d.text_columns)}; label column: {d.label_column}")
            counts = ", ".join(f"{name} ({d.label_counts.get(name, 0)})" for name in d.label_names)
            out.append(f"Labels:  {len(d.label_names)}: {counts}")
        elif self.config.task == "question-answering":
            out.append(f"Columns: question '{d.question_column}', context '{d.context_column}', "
                       f"answers '{d.answers_column}'")
        elif self.config.task == "seq2seq":
            out.append(f"Columns: source '{d.source_column}', target '{d.target_column}'")
        else:
            out.append(f"Columns: prompt '{d.prompt_column}', response '{d.response_column}'")
        if d.delimiter:
            out.append(f"Format:  {d.format}, separator {d.delimiter!r}")
        if d.chat_format:
            out.append(f"Layout:  {d.chat_format} ({', '.join(c for c in d.chat_columns if c)}); template "
                       f"{self.config.data.template} (auto: the tokenizer's chat template if it has one, else plain)")
        for warning in d.warnings:
            out.append(f"Warning: {warning}")
        for note in getattr(d, "notes", ()):
            out.append(f"Note:    {note}")
        if self.doctor is not None:
            out.extend(self.doctor.lines())
        elif self.doctor_problem:
            out.append(f"Doctor:  not run: {self.doctor_problem}")
        out.extend(p.summary_lines())  # ends with the plan's warnings
        from ..adalora import schedule_advice

        for advice in schedule_advice(self.config, p):
            out.append(f"Advice:  {advice.message} Fix: {advice.fix_label}.")
        return out


def validate_run(cfg: RunConfig, num_processes: int = 1, doctor: bool = False,
                 count_windows: bool = True) -> ValidationReport:
    """Validate ``cfg`` against its data and model (meta device, no weights). Raises StudioError subclasses.

    ``doctor``: also load the tokenizer and run the dataset doctor (:func:`core.data.run_doctor`) on a sample.
    ``count_windows``: for question answering, load the tokenizer and count the training windows (features after
    doc-stride splitting), which is what the engine trains on, so the plan's step count and budget schedule are the
    engine's (the engine itself, which tokenises anyway, passes False and replans from its features).
    """
    from ..adalora import make_plan
    from ..data import examine_dataset, inspect_dataset
    from ..model import describe_model
    from .task_eval import run_metric

    check_config(cfg)
    run_metric(cfg)  # a missing metric package stops here, saying how to install it
    windows = count_windows and cfg.task == "question-answering"
    tokenizer, problem = _doctor_tokenizer(cfg) if doctor or windows else (None, "")
    report = None
    if tokenizer is not None and doctor:
        data, report = examine_dataset(cfg, tokenizer)  # the data is read and checked once for both
    elif tokenizer is not None:
        from ..data.qa_prepare import count_qa_windows

        data = count_qa_windows(cfg, tokenizer)
    else:
        data = inspect_dataset(cfg)
        if windows:
            data = _questions_only(data, problem)
    num_labels = max(len(data.label_names), 2) if cfg.task == "text-classification" else 2
    model = describe_model(cfg.model, cfg.task, num_labels=num_labels)
    plan = make_plan(cfg, data.n_train, model, num_processes=num_processes)
    check_output_folder(cfg, plan.trainable_init)  # writable, with room for the checkpoints and the adapter
    return ValidationReport(cfg, data, model, plan, doctor=report, doctor_problem=problem if doctor else "")


def _questions_only(data: Any, problem: str) -> Any:
    """A question-answering summary counted in questions (no tokenizer), saying the steps are a lower bound."""
    import dataclasses

    note = (f"{_QUESTIONS_NOTE}: the tokenizer could not be loaded ({problem}); the run "
            "will take more steps if contexts are longer than data.max_length")
    return dataclasses.replace(data, warnings=(*data.warnings, note))


def _doctor_tokenizer(cfg: RunConfig) -> tuple[Any, str]:
    """The tokenizer for the doctor, or None and why it could not be loaded."""
    from ..errors import ModelError
    from ..model import load_tokenizer

    try:
        return load_tokenizer(cfg.model), ""
    except ModelError as exc:
        return None, str(exc)
