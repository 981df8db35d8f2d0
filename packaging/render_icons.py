"""Render the application icon's PNG sizes from ``resources/icons/adalora-studio.svg``.

Run from the repository root after editing the SVG, then commit the PNGs:

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/render_icons.py

Uses PySide6's QtSvg (part of PySide6-Essentials), so no extra tool is needed. The PNGs are what the
hicolor icon theme, the PyInstaller bundle and ``QIcon`` use at each size; the SVG is installed as the
scalable variant.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ICON_NAME = "adalora-studio"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICONS_DIR = Path(__file__).resolve().parents[1] / "resources" / "icons"


def png_path(size: int, icons_dir: Path = ICONS_DIR) -> Path:
    """Where the PNG for ``size`` pixels lives."""
    return icons_dir / f"{ICON_NAME}-{size}.png"


def render(svg: Path, sizes: tuple[int, ...] = SIZES, icons_dir: Path = ICONS_DIR) -> list[Path]:
    """Render ``svg`` to one square, transparent PNG per size; return the files written."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg}: not a valid SVG file; fix it and run again")
    written = []
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter)
        painter.end()
        out = png_path(size, icons_dir)
        if not image.save(str(out), "PNG"):
            raise SystemExit(f"{out}: could not write the PNG; check the folder is writable")
        written.append(out)
    return written


def main() -> int:
    """Render every size and list the files."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    for path in render(ICONS_DIR / f"{ICON_NAME}.svg"):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
