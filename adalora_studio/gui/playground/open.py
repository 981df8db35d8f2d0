"""Opening the playground page from the main window (kept here so the window stays small)."""

from __future__ import annotations

from typing import Any


def open_playground(window: Any, run_dir: str = "") -> Any:
    """Show the playground page of ``window`` (built on first use), on ``run_dir`` when given; returns the page."""
    page = getattr(window, "_playground", None)
    if page is None:
        from .page import PlaygroundPage

        page = PlaygroundPage(window.worker, window.pages)
        page.back_requested.connect(window.show_home)
        window.pages.addWidget(page)
        window._playground = page
    page.refresh_runs()
    window.pages.setCurrentWidget(page)
    if run_dir:
        index = page.run_combo.findData(str(run_dir))
        if index >= 0:
            page.run_combo.setCurrentIndex(index)
        page.choose(str(run_dir))
    return page

