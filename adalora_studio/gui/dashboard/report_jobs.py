"""Worker jobs behind the report view (Qt-free): post-hoc evaluation, unseen labels returned as data to confirm."""

from __future__ import annotations

from typing import Any


def evaluate_job(run_dir: str, file: str, known_labels_only: bool = False) -> dict[str, Any]:
    """Evaluate ``run_dir`` on ``file`` and write a new report; ``{"unseen": labels, "message"}`` when the file holds
    labels the model never saw (so the GUI can ask before evaluating on the known ones)."""
    from ...core.inference import UnseenLabelsError, evaluate_run

    try:
        _, path = evaluate_run(run_dir, file, known_labels_only=known_labels_only)
    except UnseenLabelsError as exc:
        return {"unseen": exc.labels, "message": exc.user_message()}
    return {"path": str(path)}
