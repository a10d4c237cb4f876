"""summary.json: its serialisation and the blocks that come straight from ingest."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from pipeline.report.safe import write_csv

SUMMARY_FILE = "summary.json"


def dump(obj: dict) -> str:
    """UTF-8 JSON, 2-space indent, sorted keys, non-ASCII kept: the same inputs give the same bytes."""
    return json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def ingest_block(evaluation_id: str, inventory: pd.DataFrame, missing: pd.DataFrame) -> dict:
    return {
        "evaluation_id": evaluation_id,
        "rows": {"read": int(inventory["rows_read"].sum()), "accepted": int(inventory["rows_accepted"].sum()),
                 "quarantined": int(inventory["rows_quarantined"].sum())},
        "files": {"read": len(inventory), "rejected": int((inventory["status"] == "rejected").sum()),
                  "missing": len(missing)},
    }


def write_quarantine_by_submitter(out_dir: Path, quarantine: pd.DataFrame) -> list[str]:
    """Each submitter gets back its own list: ``quarantine/<submitter>.csv`` (only those with records)."""
    folder = out_dir / "quarantine"
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.csv"):
        old.unlink()
    written = []
    for submitter, part in quarantine.groupby("submitter", sort=True):
        write_csv(part.drop(columns="submitter").reset_index(drop=True), folder / f"{submitter}.csv")
        written.append(f"quarantine/{submitter}.csv")
    return written
