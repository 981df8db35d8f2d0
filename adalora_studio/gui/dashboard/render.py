"""Render the dashboard to a PNG (screenshots, docs): from events, optionally cut off mid-run."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ...core.events import Event

DEFAULT_SIZE = (1400, 900)


def events_until(events: Iterable[Event], step: int) -> list[Event]:
    """The events a live viewer had seen when optimizer step ``step`` was logged (a mid-run state)."""
    out: list[Event] = []
    for event in events:
        event_step = getattr(event, "step", None)
        if event_step is not None and event_step > step:
            break
        out.append(event)
    return out


def render_dashboard(events: Iterable[Event] | str | Path, path: str | Path, size: tuple[int, int] = DEFAULT_SIZE,
                     upto_step: int | None = None) -> Path:
    """Draw a dashboard fed with ``events`` (or a run folder's log) and save it as a PNG; returns the path.

    ``upto_step`` stops the feed at that optimizer step, showing the run as it looked mid-run. Needs a
    QApplication (offscreen is fine).
    """
    from ...core.runs import read_run_events
    from .dashboard import Dashboard

    if isinstance(events, (str, Path)):
        events = read_run_events(events)
    events = list(events)
    if upto_step is not None:
        events = events_until(events, upto_step)
    dashboard = Dashboard()
    dashboard.resize(*size)
    dashboard.live = upto_step is not None
    dashboard.apply_events(events)
    dashboard.show()
    dashboard.redraw()
    from PySide6.QtWidgets import QApplication

    # Two passes: pyqtgraph sizes its axes to their tick labels during the first paint.
    for _ in range(2):
        dashboard.grab()
        QApplication.processEvents()
    dashboard.redraw()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not dashboard.grab().save(str(out)):
        raise OSError(f"could not write {out}")
    dashboard.close()
    dashboard.deleteLater()
    return out
