"""SVG plots of a run are written from its event log and contain the data."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from adalora_studio.core.events import EvalLogged, MatrixRank, RanksUpdated, StepLogged, event_to_json
from adalora_studio.core.export.plots_svg import ema, write_run_plots


def _write_log(run_dir: Path) -> None:
    events = []
    for step in range(1, 21):
        events.append(StepLogged(step=step, epoch=step / 10, task_loss=1.0 / step, orth_loss=0.01, lr=1e-3,
                                 grad_norm=1.0, samples_per_s=10.0, elapsed_s=step, eta_s=20 - step))
    events.append(EvalLogged(step=10, eval_loss=0.2, metrics={"accuracy": 0.8}))
    for step, ranks in ((0, (4, 4)), (10, (3, 2)), (20, (3, 1))):
        matrices = tuple(MatrixRank(f"L{i}.query", f"layer.{i}.query", i, "query", r, 4, ())
                         for i, r in enumerate(ranks))
        events.append(RanksUpdated(step=step, budget=sum(ranks), phase="budgeting", total_rank=sum(ranks),
                                   matrices=matrices))
    (run_dir / "events.jsonl").write_text("\n".join(event_to_json(e) for e in events) + "\n")


def test_write_run_plots(tmp_path: Path) -> None:
    _write_log(tmp_path)
    written = write_run_plots(tmp_path)
    assert sorted(p.name for p in written) == ["budget.svg", "loss.svg", "rank_heatmap.svg"]
    for path in written:
        ET.parse(path)  # well-formed XML
    heat = (tmp_path / "plots" / "rank_heatmap.svg").read_text()
    assert ">3<" in heat and ">1<" in heat  # the final ranks are printed in the cells
    assert "polyline" in (tmp_path / "plots" / "loss.svg").read_text()


def test_no_log_no_plots(tmp_path: Path) -> None:
    assert write_run_plots(tmp_path) == []


def test_ema() -> None:
    assert ema([1.0, 0.0], alpha=0.5) == [1.0, 0.5]


def _labels(svg: ET.Element, anchor: str) -> list[str]:
    ns = "{http://www.w3.org/2000/svg}"
    return [t.text or "" for t in svg.iter(f"{ns}text") if t.get("text-anchor") == anchor and t.get("x") == "64"]


def test_tick_labels_are_round_and_distinct_on_a_narrow_loss_range(tmp_path: Path) -> None:
    from adalora_studio.core.export.plots_svg import loss_svg, nice_ticks

    assert nice_ticks(1.6, 1.63) == ([1.6, 1.61, 1.62, 1.6300000000000001], 2)
    events = [StepLogged(step=s, epoch=0.0, task_loss=1.6 + 0.004 * (s % 8), orth_loss=0.0, lr=1e-3, grad_norm=1.0,
                         samples_per_s=1.0, elapsed_s=s, eta_s=0) for s in range(1, 9)]
    labels = _labels(ET.fromstring(loss_svg(events)), "end")  # the y-axis labels, right-aligned at x = left - 6
    assert len(labels) >= 3 and len(set(labels)) == len(labels), labels  # was 1.63, 1.63, 1.62, 1.61, 1.61, 1.6


def test_heatmap_is_wide_enough_for_its_title_with_few_layers(tmp_path: Path) -> None:
    from adalora_studio.core.export.plots_svg import heatmap_svg

    matrices = tuple(MatrixRank(f"L{i}.{t}", f"layer.{i}.{t}", i, t, 2, 4, ()) for i in range(2) for t in ("q", "v"))
    root = ET.fromstring(heatmap_svg(RanksUpdated(step=8, budget=8, phase="final", total_rank=8, matrices=matrices)))
    title = next(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("font-size") == "15")
    assert float(root.get("width")) >= len(title) * 8  # ~8 px per character at 15 px: the title is not cut off
