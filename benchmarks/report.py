"""Writing a benchmark's JSON report: one way for every script, atomically (a Ctrl-C leaves the old file)."""

from __future__ import annotations

import json
from pathlib import Path

from core.atomic import atomic_write_text


def write_json_report(path: str | Path, report: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(report, indent=2))
    print(f"wrote {path}")
