"""Publishing an export folder atomically: built beside the target, then moved into place."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from ..adalora import CONFIG_NAME
from ..errors import ModelError
from ..runs import free_bytes, human_bytes, is_disk_full


def publish_dir(write: Any, out_dir: str | Path, protect: Path | None = None) -> Path:
    """Build a folder with ``write(staging_dir)`` beside ``out_dir`` and move it into place.

    A crash or error midway leaves ``out_dir`` as it was. An existing ``out_dir`` is replaced only when it is
    empty or holds an earlier export (an adapter or model config); ``protect`` (the source) is never replaced.
    """
    out_dir = Path(out_dir).expanduser().absolute()
    if protect is not None:
        source = Path(protect).resolve()
        target = out_dir.resolve()
        if target == source or target in source.parents:
            raise ModelError(f"{out_dir} holds the adapter being exported; choose another output folder")
    if out_dir.exists():
        if not out_dir.is_dir():
            raise ModelError(f"{out_dir} is a file; choose a folder for the export")
        if any(out_dir.iterdir()) and not ((out_dir / CONFIG_NAME).is_file() or (out_dir / "config.json").is_file()):
            raise ModelError(f"{out_dir} already holds other files; choose a new or empty folder for the export")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.with_name(f".{out_dir.name}.partial-{uuid.uuid4().hex[:8]}")
    staging.mkdir()
    try:
        try:
            write(staging)
        except OSError as exc:
            if is_disk_full(exc):
                raise _disk_full(out_dir, staging, protect) from exc
            raise
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old-{uuid.uuid4().hex[:8]}")
            os.replace(out_dir, old)
            os.replace(staging, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return out_dir


def _disk_full(out_dir: Path, staging: Path, source: Path | None) -> ModelError:
    """The message for an export that filled the disk: the folder, about how much it needs, what is free."""
    written = sum(f.stat().st_size for f in staging.rglob("*") if f.is_file())
    needed = written
    if source is not None and Path(source).is_dir():  # an export is about as big as what it is made from
        needed = max(written, sum(f.stat().st_size for f in Path(source).rglob("*") if f.is_file()))
    kept = f"{out_dir} is as it was" if out_dir.exists() else "nothing was left behind"
    return ModelError(f"The disk is full: the export could not be written to {out_dir.parent}. It needs at least "
                      f"{human_bytes(needed)}; {human_bytes(free_bytes(out_dir.parent))} is free. The partly "
                      f"written files were removed and {kept}. Free some space and export again.")
