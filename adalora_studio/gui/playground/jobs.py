"""Playground model work as worker jobs: load (kept and reused), predict, score validation rows, stream a generation.

The functions run in the TorchWorker thread and return plain data; :class:`PlaygroundJobs` queues them and relays
streamed text to the GUI thread through a signal, at most ~20 times a second (pieces are joined, none is lost).
The model cache is only ever touched from inside these jobs, i.e. from the worker thread.
"""

from __future__ import annotations

import random
import time
from typing import Any

from PySide6.QtCore import QObject, Signal

from ...core.events import StopToken

STREAM_INTERVAL_S = 0.05


def load_job(cache: Any, path: str) -> dict[str, Any]:
    """Load (or reuse) the model of ``path``, with a classification run's validation rows; describe it."""
    loaded = cache.get(path)
    if loaded.task == "text-classification" and loaded.config is not None:
        _prepare_rows(cache, path)
    return {"path": path, "name": loaded.name, "task": loaded.task, "labels": list(loaded.label_names),
            "source": loaded.source, "loads": cache.loads}


def _prepare_rows(cache: Any, path: str) -> None:
    """Read the run's validation rows now, with its model, so scoring them does no data work on any click. The
    first read in a session imports ``datasets`` (about a second holding the GIL); the load is already a wait.
    A read that fails is left for a score to report."""
    from ...core.errors import StudioError

    try:
        cache.eval_rows(path)
    except (StudioError, OSError):
        pass


def predict_job(cache: Any, path: str, texts: list[str]) -> list[dict[str, Any]]:
    """Predictions of ``texts`` as plain dicts (text, label, probabilities, note)."""
    from ...core.inference import predict

    return [{**p.to_dict(), "note": p.note} for p in predict(cache.get(path), texts)]


def score_rows_job(cache: Any, path: str, n: int, seed: int, other: str | None = None) -> list[dict[str, Any]]:
    """``n`` random rows of the run's own evaluation split: text, true label, prediction and confidence (and the
    second run's prediction on the same rows)."""
    from ...core.inference import predict

    loaded = cache.get(path)
    rows = cache.eval_rows(path)  # read once per loaded run, then reused
    picks = random.Random(seed).sample(range(len(rows.texts)), min(n, len(rows.texts)))
    texts = [rows.texts[i] for i in picks]
    mine = predict(loaded, texts)
    theirs = predict(cache.get(other), texts) if other else [None] * len(texts)
    out = []
    for i, p, q in zip(picks, mine, theirs, strict=True):
        row = {"text": texts[len(out)], "true": loaded.label_names[rows.labels[i]], "predicted": p.label,
               "confidence": p.confidence}
        if q is not None:
            row.update({"other_predicted": q.label, "other_confidence": q.confidence})
        out.append(row)
    return out


def generate_job(cache: Any, path: str, prompt: str, settings: Any, base: bool, stop: StopToken,
                 emit: Any) -> dict[str, Any]:
    """Stream a generation through ``emit(text)`` (joined pieces, throttled); return the finished generation."""
    from ...core.inference import generate

    pending: list[str] = []
    last = [0.0]

    def on_text(piece: str) -> None:
        pending.append(piece)
        now = time.monotonic()
        if now - last[0] >= STREAM_INTERVAL_S:
            emit("".join(pending))
            pending.clear()
            last[0] = now

    result = generate(cache.get(path), prompt, settings, base=base, stop=stop, on_text=on_text)
    if pending:
        emit("".join(pending))
    return {**result.to_dict(), "path": path, "base": base}


class PlaygroundJobs(QObject):
    """Queues playground jobs on the worker. ``piece(stream id, text)`` carries streamed text to the GUI thread."""

    piece = Signal(int, str)

    def __init__(self, worker: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        from ...core.inference import ModelCache

        self.worker = worker
        self.cache = ModelCache(size=2)
        self.stop_token: StopToken | None = None
        self._streams = 0

    def load(self, path: str) -> Any:
        return self.worker.submit(load_job, self.cache, path)

    def predict(self, path: str, texts: list[str]) -> Any:
        return self.worker.submit(predict_job, self.cache, path, texts)

    def score_rows(self, path: str, n: int, seed: int, other: str | None = None) -> Any:
        return self.worker.submit(score_rows_job, self.cache, path, n, seed, other)

    def generate(self, path: str, prompt: str, settings: Any, base: bool = False) -> tuple[int, Any]:
        """Queue a streamed generation; returns (stream id for :attr:`piece`, job). Stop with :meth:`stop`."""
        self._streams += 1
        stream = self._streams
        if self.stop_token is None or self.stop_token.stop_requested:
            self.stop_token = StopToken()
        job = self.worker.submit(generate_job, self.cache, path, prompt, settings, base, self.stop_token,
                                 lambda text, s=stream: self.piece.emit(s, text))
        return stream, job

    def stop(self) -> None:
        """Stop the generations queued or running now (each ends with what it has)."""
        if self.stop_token is not None:
            self.stop_token.request_stop()
