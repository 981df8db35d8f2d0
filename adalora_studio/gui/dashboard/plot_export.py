"""Save dashboard plots as PNG and SVG with pyqtgraph's exporters."""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pyqtgraph.exporters import ImageExporter, SVGExporter
from pyqtgraph.Qt import QtWidgets

PNG_WIDTH = 1200
_CLOSE_PATH = re.compile(r"\s*[Zz]\s*")


@contextlib.contextmanager
def _svg_paths_without_close_commands() -> Iterator[None]:
    """Qt 6.12's SVG generator ends closed paths with ``Z``, which pyqtgraph 0.14's coordinate fix-up cannot
    parse (it expects only ``x,y`` pairs). For the duration of one export, drop the ``Z`` before the fix-up:
    the paths it concerns already return to their start point, and fills close implicitly."""
    module: Any = sys.modules[SVGExporter.__module__]
    original = module.correctCoordinates

    def correct(node: Any, defs: Any, item: Any, options: Any) -> Any:
        for path in node.getElementsByTagName("path"):
            d = path.getAttribute("d")
            if "Z" in d or "z" in d:
                path.setAttribute("d", _CLOSE_PATH.sub(" ", d).strip() + " ")
        return original(node, defs, item, options)

    module.correctCoordinates = correct
    try:
        yield
    finally:
        module.correctCoordinates = original


def save_plots(items: Mapping[str, QtWidgets.QGraphicsItem], folder: Path) -> list[Path]:
    """Write ``<name>.png`` and ``<name>.svg`` for each plot item into ``folder`` (created); returns the files."""
    folder.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    for name, item in items.items():
        png = folder / f"{name}.png"
        exporter = ImageExporter(item)
        exporter.parameters()["width"] = PNG_WIDTH  # background: the plot's own (light or dark, as drawn)
        exporter.export(str(png))
        svg = folder / f"{name}.svg"
        with _svg_paths_without_close_commands():
            SVGExporter(item).export(str(svg))
        files += [png, svg]
    return files
