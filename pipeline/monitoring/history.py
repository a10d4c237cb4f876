"""A programme's monitoring history: its monitoring folders, keyed by their declared cut-off (never the run date).

The folders of one programme share ``programme_id``. A cut-off's history holds the programme's
cut-offs up to and including its own (a report as of June cannot know September): its own point from
this run, each earlier one from that folder's published ``summary.json`` (its ``monitoring`` block).
An earlier folder that has not been run yet is listed as such, with no figures, rather than skipped;
``python -m pipeline run`` runs folders in name order, so ``…-m03`` is published before ``…-m06``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipeline import outputs
from pipeline.evaluation import Evaluation, scan
from pipeline.summary import SUMMARY_FILE

POINT_KEYS = ("cutoff", "time_progress", "execution_rate", "planned", "spent", "deviation_level")


def history(ev: Evaluation, raw_root: Path, out_root: Path, own: dict[str, Any]) -> list[dict[str, Any]]:
    """One point per cut-off of the programme up to ``ev``'s, in cut-off order: figures, or status 未运行."""
    cutoff = ev.monitoring_cutoff
    assert cutoff is not None
    points = [{"evaluation_id": ev.id, "status": "本期", **{k: own[k] for k in POINT_KEYS}}]
    folders, _ = scan(raw_root)
    for other in folders:
        theirs = other.monitoring_cutoff
        if other.id == ev.id or other.programme_id != ev.programme_id or theirs is None or theirs >= cutoff:
            continue
        block = _published_block(out_root, other.id)
        if block is None or block.get("cutoff") != theirs.isoformat():
            points.append({"evaluation_id": other.id, "status": "未运行", "cutoff": theirs.isoformat()})
        else:
            points.append({"evaluation_id": other.id, "status": "已发布", **{k: block[k] for k in POINT_KEYS}})
    return sorted(points, key=lambda p: (p["cutoff"], p["evaluation_id"]))


def _published_block(out_root: Path, evaluation_id: str) -> dict[str, Any] | None:
    folder = outputs.published(out_root, evaluation_id)
    path = folder / SUMMARY_FILE if folder is not None else None
    if path is None or not path.is_file():
        return None
    block = json.loads(path.read_text(encoding="utf-8")).get("monitoring")
    return block if isinstance(block, dict) else None
