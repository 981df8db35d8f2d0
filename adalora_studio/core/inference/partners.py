"""A run's A/B partners: the other run folders beside it whose ``run.json`` carries the same ``comparison_id``.

Read from the raw JSON, so it works whether or not this version's config knows the field; a folder that cannot be
read is skipped (it is no partner anyone could open).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _raw_config(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def ab_partners(run_dir: str | Path) -> list[dict[str, str]]:
    """``[{"name", "path", "method", "report"}]`` of the runs sharing this run's comparison id (empty if none)."""
    run_dir = Path(run_dir)
    cid = str(_raw_config(run_dir).get("comparison_id") or "")
    if not cid or not run_dir.parent.is_dir():
        return []
    out = []
    for other in sorted(run_dir.parent.iterdir()):
        if other == run_dir or not other.is_dir():
            continue
        raw = _raw_config(other)
        if str(raw.get("comparison_id") or "") != cid:
            continue
        report = other / "report.json"
        out.append({"name": str(raw.get("name", other.name)), "path": str(other),
                    "method": str(raw.get("method", "adalora")), "report": str(report) if report.is_file() else ""})
    return out
