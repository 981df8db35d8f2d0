"""The run dashboard: live curves, rank bars, rank heatmap, progress, log and finish panel.

``Dashboard`` is imported lazily (``from adalora_studio.gui.dashboard import Dashboard`` works, but costs the
pyqtgraph import only when used), so a window can import this package without slowing its start-up.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Dashboard", "DashboardState"]


def __getattr__(name: str) -> Any:
    if name == "Dashboard":
        from .dashboard import Dashboard

        return Dashboard
    if name == "DashboardState":
        from .state import DashboardState

        return DashboardState
    raise AttributeError(name)
