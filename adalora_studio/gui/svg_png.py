"""PNG twins of the SVG figures in a run folder (the report's confusion matrix and reliability diagram, the run's
loss, budget and rank plots), drawn with Qt's SVG renderer.

The core writes only SVG (it is Qt-free and matplotlib is not a dependency). The PNGs are drawn here: by the
dashboard when it shows a report (in the background, :class:`PngDrawer`), and by ``adalora-studio png`` (which
``train`` and ``evaluate`` start as a separate process, so a headless command never loads Qt itself). Each PNG is
written under a temporary name and renamed into place, and is redrawn only when it is missing or older than its
SVG.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QRectF, Signal
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

SCALE = 2.0
"""Pixels per SVG unit: figures are drawn at twice their nominal size so text stays crisp on a high-DPI screen."""


def run_svgs(run_dir: str | Path) -> list[Path]:
    """The figures of a run folder: ``report*.svg`` beside the reports and ``plots/*.svg``."""
    folder = Path(run_dir)
    return sorted(folder.glob("report*.svg")) + sorted((folder / "plots").glob("*.svg"))


def needs_png(svg: Path) -> bool:
    """True when ``svg`` has no PNG twin, or one older than itself."""
    png = svg.with_suffix(".png")
    try:
        return not png.is_file() or png.stat().st_mtime < svg.stat().st_mtime
    except OSError:
        return True


def svg_to_png(svg: str | Path, png: str | Path | None = None, scale: float = SCALE) -> Path:
    """Draw ``svg`` on a white background at ``scale`` and save it as PNG (beside it by default), atomically.

    Needs a QGuiApplication (fonts). Raises ValueError when the SVG cannot be read or the PNG cannot be written.
    """
    source = Path(svg)
    target = Path(png) if png is not None else source.with_suffix(".png")
    renderer = QSvgRenderer(str(source))
    if not renderer.isValid():
        raise ValueError(f"{source}: not a readable SVG file")
    size = renderer.defaultSize()
    image = QImage(max(1, round(size.width() * scale)), max(1, round(size.height() * scale)),
                   QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    renderer.render(painter, QRectF(0, 0, image.width(), image.height()))
    painter.end()
    tmp = target.with_name(f".{target.stem}.{uuid.uuid4().hex[:12]}.png")  # created by Qt with the usual mode
    try:
        if not image.save(str(tmp), "PNG"):
            raise ValueError(f"{target}: the PNG could not be written")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def write_pngs(svgs: Iterable[Path], force: bool = False) -> tuple[list[Path], list[str]]:
    """PNG twins of ``svgs`` (only the missing or stale ones unless ``force``): the files written, and one message
    per figure that could not be drawn."""
    written: list[Path] = []
    problems: list[str] = []
    for svg in svgs:
        if not force and not needs_png(svg):
            continue
        try:
            written.append(svg_to_png(svg))
        except (ValueError, OSError) as exc:
            problems.append(str(exc))
    return written, problems


class PngDrawer(QObject):
    """Draws PNG twins on a short-lived background thread and reports on the GUI thread.

    Drawing five report and plot figures took 150-220 ms; Qt renders SVG into a QImage without holding Python's
    GIL and supports it outside the GUI thread, so the window goes on while they are drawn (the thread touches no
    widget; it only emits :attr:`drawn`, delivered queued to the GUI thread).
    """

    drawn = Signal(list, list)
    """(the PNG files written, a message per figure that could not be drawn), once a :meth:`draw` is done."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pending = 0
        """Draws started and not yet reported."""
        self.drawn.connect(self._done)

    def draw(self, svgs: Sequence[Path]) -> bool:
        """Draw the missing or stale twins of ``svgs`` in the background; False (and no signal) when all are up to
        date."""
        stale = [svg for svg in svgs if needs_png(svg)]
        if not stale:
            return False
        self.pending += 1
        threading.Thread(target=self._draw, args=(stale,), name="adalora-studio-png", daemon=True).start()
        return True

    def _draw(self, svgs: list[Path]) -> None:
        written, problems = write_pngs(svgs, force=True)
        try:
            self.drawn.emit(written, problems)
        except RuntimeError:  # the view was closed meanwhile: nobody to tell
            pass

    def _done(self, _written: list, _problems: list) -> None:
        self.pending -= 1


def main(paths: Sequence[str], force: bool = False) -> int:
    """``adalora-studio png RUN_DIR|SVG...``: write the PNG twins; print each file; 1 when one failed."""
    import sys

    if QGuiApplication.instance() is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QGuiApplication(["adalora-studio-png"])  # noqa: F841 (kept alive while drawing)
    svgs: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            svgs += run_svgs(path)
        elif path.suffix.lower() == ".svg" and path.is_file():
            svgs.append(path)
        else:
            print(f"error: {path}: not a run folder or an SVG file", file=sys.stderr)
            return 2
    written, problems = write_pngs(svgs, force=force)
    for png in written:
        print(f"PNG:     {png}")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0
