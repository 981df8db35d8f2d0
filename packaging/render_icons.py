"""Render the application icon's PNG sizes from ``resources/icons/adalora-studio.svg``.

Run from the repository root after editing the SVG, then commit the PNGs:

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/render_icons.py

Uses PySide6's QtSvg (part of PySide6-Essentials), so no extra tool is needed. The PNGs are what the
hicolor icon theme, the PyInstaller bundle and ``QIcon`` use at each size; the SVG is installed as the
scalable variant. The same PNGs are packed into ``adalora-studio.ico`` (Windows) and ``adalora-studio.icns``
(macOS) for the bundle and the shortcuts.
"""

from __future__ import annotations

import os
import struct
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


ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_TYPES = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08", 512: b"ic09"}


def write_ico(out: Path, icons_dir: Path = ICONS_DIR) -> Path:
    """A Windows .ico holding the PNGs of :data:`ICO_SIZES` (PNG-compressed entries, Windows Vista and later)."""
    images = [(size, png_path(size, icons_dir).read_bytes()) for size in ICO_SIZES]
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    entries, blobs = b"", b""
    for size, data in images:
        side = 0 if size >= 256 else size  # 0 means 256 in the ICO directory
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset + len(blobs))
        blobs += data
    out.write_bytes(header + entries + blobs)
    return out


def write_icns(out: Path, icons_dir: Path = ICONS_DIR) -> Path:
    """A macOS .icns holding the PNGs of :data:`ICNS_TYPES` (the PNG-in-ICNS entry types)."""
    body = b""
    for size, kind in ICNS_TYPES.items():
        data = png_path(size, icons_dir).read_bytes()
        body += kind + struct.pack(">I", 8 + len(data)) + data
    out.write_bytes(b"icns" + struct.pack(">I", 8 + len(body)) + body)
    return out


def main() -> int:
    """Render every size, then the .ico (Windows) and .icns (macOS) files; list what was written."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    written = render(ICONS_DIR / f"{ICON_NAME}.svg")
    written.append(write_ico(ICONS_DIR / f"{ICON_NAME}.ico"))
    written.append(write_icns(ICONS_DIR / f"{ICON_NAME}.icns"))
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
