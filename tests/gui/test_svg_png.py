"""PNG twins of SVG figures: drawn right (colours where the SVG puts them), atomically, only when missing or stale;
a figure that cannot be drawn is named, in process and through the headless commands' separate process."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtGui import QColor, QImage

from adalora_studio.app.figures_png import write_pngs as write_pngs_in_a_process
from adalora_studio.core.inference import confusion_svg, reliability_svg
from adalora_studio.core.inference.report_svg import CELL, LEFT, TOP
from adalora_studio.gui.svg_png import SCALE, needs_png, run_svgs, svg_to_png, write_pngs


def test_the_png_is_the_svg_drawn_at_twice_its_size(qapp, tmp_path: Path) -> None:  # noqa: ANN001
    svg = tmp_path / "report-confusion.svg"
    svg.write_text(confusion_svg(["spam", "ham"], [[9, 0], [1, 3]], [[1.0, 0.0], [0.25, 0.75]]), encoding="utf-8")
    png = svg_to_png(svg)
    assert png == tmp_path / "report-confusion.png"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report-confusion.png", "report-confusion.svg"]  # no temp
    image = QImage(str(png))
    width = max(LEFT + 2 * CELL + 60, 460)
    assert image.width() == round(width * SCALE)

    def colour(x: float, y: float) -> QColor:
        return QColor(image.pixel(round(x * SCALE), round(y * SCALE)))

    full, empty = colour(LEFT + 5, TOP + 5), colour(LEFT + CELL + 5, TOP + 5)  # row "spam": 100% then 0%
    assert full.blue() > 150 and full.red() < 60  # dark blue
    assert (empty.red(), empty.green(), empty.blue()) == (255, 255, 255)
    assert colour(2, 2).rgb() == QColor("white").rgb()


def test_only_missing_or_stale_pngs_are_drawn_and_bad_svgs_are_named(qapp, tmp_path: Path) -> None:  # noqa: ANN001
    bins = [{"lo": 0.5, "hi": 0.6, "count": 4, "confidence": 0.55, "accuracy": 0.0}]
    (tmp_path / "report-reliability.svg").write_text(reliability_svg(bins, 0.55), encoding="utf-8")
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "loss.svg").write_text("<svg this is not", encoding="utf-8")
    svgs = run_svgs(tmp_path)
    assert [p.name for p in svgs] == ["report-reliability.svg", "loss.svg"]
    written, problems = write_pngs(svgs)
    assert written == [tmp_path / "report-reliability.png"]
    assert len(problems) == 1 and "loss.svg" in problems[0] and "not a readable SVG" in problems[0]
    assert write_pngs(svgs[:1]) == ([], [])  # up to date: not drawn again
    svg = svgs[0]
    os.utime(svg, (svg.stat().st_atime, (tmp_path / "report-reliability.png").stat().st_mtime + 5))
    assert needs_png(svg) and write_pngs(svgs[:1])[0] == [tmp_path / "report-reliability.png"]


def test_the_headless_commands_process_names_what_it_could_not_draw(tmp_path: Path) -> None:
    (tmp_path / "report-confusion.svg").write_text(confusion_svg(["a", "b"], [[1, 0], [0, 1]], [[1, 0], [0, 1]]),
                                                   encoding="utf-8")
    (tmp_path / "report-reliability.svg").write_text("not svg", encoding="utf-8")
    written, warning = write_pngs_in_a_process(tmp_path)
    assert written == [str(tmp_path / "report-confusion.png")] and (tmp_path / "report-confusion.png").is_file()
    assert "PNG figures not written" in warning and "report-reliability.svg" in warning
    assert write_pngs_in_a_process(tmp_path / "missing")[1].endswith("not a run folder or an SVG file")


def test_the_dashboard_draws_pngs_off_the_gui_thread_and_reports_on_it(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    import threading

    from adalora_studio.gui.svg_png import PngDrawer

    (tmp_path / "report-confusion.svg").write_text(confusion_svg(["a", "b"], [[1, 0], [0, 1]], [[1, 0], [0, 1]]),
                                                   encoding="utf-8")
    (tmp_path / "report-reliability.svg").write_text("not svg", encoding="utf-8")
    drawer = PngDrawer()
    drew_on: list[str] = []
    real = drawer._draw
    drawer._draw = lambda svgs: (drew_on.append(threading.current_thread().name), real(svgs))  # type: ignore[method-assign]
    reported_on: list[str] = []
    drawer.drawn.connect(lambda *_: reported_on.append(threading.current_thread().name))
    with qtbot.waitSignal(drawer.drawn, timeout=20_000) as got:
        assert drawer.draw(run_svgs(tmp_path))
    written, problems = got.args
    assert written == [tmp_path / "report-confusion.png"] and "report-reliability.svg" in problems[0]
    assert drew_on and drew_on[0] != threading.current_thread().name  # drawn on its own thread
    assert reported_on == [threading.current_thread().name] and drawer.pending == 0  # told on the GUI thread
    (tmp_path / "report-reliability.svg").unlink()
    assert not drawer.draw(run_svgs(tmp_path))  # everything up to date: nothing started, no signal
