"""The dashboard's "Inside AdaLoRA" tab: importance explorer, pruning timeline, where the budget went, Λ spectra.

Redraws only while visible (a hidden tab costs the GUI thread nothing during a run) and catches up when shown.
A click on a rank bar or a heatmap cell picks that matrix in the explorer.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QTabWidget, QWidget

from ...core.events import RanksUpdated
from .budget_summary import BudgetSummaryView
from .explorer import ImportanceExplorer
from .pruning_timeline import PruningTimelineView
from .spectra import SpectraView


class InsightsPanel(QTabWidget):
    """Four views over a run's rank snapshots; feed it with :meth:`refresh`."""

    pick_requested = Signal()
    """A matrix was picked on the bars or the heatmap (the dashboard may bring this panel forward)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.explorer = ImportanceExplorer()
        self.timeline = PruningTimelineView()
        self.budget = BudgetSummaryView()
        self.spectra = SpectraView()
        self.addTab(self.explorer, "Importance explorer")
        self.addTab(self.timeline, "Pruning timeline")
        self.addTab(self.budget, "Where the budget went")
        self.addTab(self.spectra, "Λ spectra")
        self._state: Any = None
        self._drawn = (-1, -1)
        self.currentChanged.connect(lambda _i: self._draw())

    def refresh(self, state: Any) -> None:
        """New snapshots in ``state`` (a DashboardState); drawn now if visible, else when shown."""
        self._state = state
        if self.isVisible():
            self._draw()

    def clear(self) -> None:
        """Forget the run."""
        self._state = None
        self._drawn = (-1, -1)
        for view in (self.explorer, self.timeline, self.budget, self.spectra):
            view.clear()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        self._draw()

    def _draw(self) -> None:
        state = self._state
        if state is None:
            return
        snaps: list[RanksUpdated] = state.snapshots
        key = (state.generation * 1_000_003 + len(snaps), self.currentIndex())
        if key == self._drawn:
            return
        self._drawn = key
        started = state.started
        view = self.currentWidget()
        if view is self.explorer:
            self.explorer.show_snapshots(snaps, started.target_r if started else 0)
        elif view is self.timeline:
            self.timeline.run_dir = state.run_dir
            self.timeline.show_snapshots(snaps, started.init_r if started else 0)
        elif view is self.budget:
            self.budget.show_snapshot(snaps[-1] if snaps else None)
        else:
            self.spectra.show_snapshot(next((s for s in reversed(snaps) if any(m.singular_values
                                                                                for m in s.matrices)), None))

    # ------------------------------------------------------------------ picking

    def attach_pickers(self, rank_bars: Any, heatmap: Any) -> None:
        """Clicks on ``rank_bars`` (RankBarsView) and ``heatmap`` (RankHeatmapView) pick a matrix here."""
        rank_bars.widget.scene().sigMouseClicked.connect(lambda ev: self._pick_bar(rank_bars, ev))
        heatmap.widget.scene().sigMouseClicked.connect(lambda ev: self._pick_cell(heatmap, ev))

    def _pick_bar(self, bars: Any, ev: Any) -> None:
        point = _view_point(bars.plot, ev)
        if point is None or bars.snapshot is None:
            return
        index = bars.index_at(point.x())
        if index >= 0:
            self._pick(bars.snapshot.matrices[index].module)

    def _pick_cell(self, heatmap: Any, ev: Any) -> None:
        point = _view_point(heatmap.plot, ev)
        state = self._state
        if point is None or state is None or not state.snapshots or not heatmap.layers:
            return
        i, j = round(point.x()), round(point.y())
        if not (0 <= i < len(heatmap.layers) and 0 <= j < len(heatmap.types)):
            return
        layer, mtype = heatmap.layers[i], heatmap.types[j]
        for m in state.snapshots[-1].matrices:
            if m.matrix_type == mtype and (f"L{m.layer}" if m.layer is not None else "other") == layer:
                self._pick(m.module)
                return

    def _pick(self, module: str) -> None:
        self.setCurrentWidget(self.explorer)
        self._draw()
        self.explorer.select(module)
        self.pick_requested.emit()


def _view_point(plot: Any, ev: Any) -> QPointF | None:
    if ev.button() != Qt.MouseButton.LeftButton:
        return None
    vb = plot.getViewBox()
    pos = ev.scenePos()
    if not vb.sceneBoundingRect().contains(pos):
        return None
    point: QPointF = vb.mapSceneToView(pos)
    return point
