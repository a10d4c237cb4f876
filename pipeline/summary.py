"""summary.json: its serialisation and the blocks that come straight from ingest."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pandas as pd

from pipeline.escape import write_csv

SUMMARY_FILE = "summary.json"


def dump(obj: dict) -> str:
    """UTF-8 JSON, 2-space indent, sorted keys, non-ASCII kept: the same inputs give the same bytes."""
    return json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def ingest_block(evaluation_id: str, inventory: pd.DataFrame, missing: pd.DataFrame) -> dict:
    return {
        "evaluation_id": evaluation_id,
        "rows": {
            "read": int(inventory["rows_read"].sum()),
            "accepted": int(inventory["rows_accepted"].sum()),
            "quarantined": int(inventory["rows_quarantined"].sum()),
        },
        "files": {
            "read": int((inventory["status"] != "unrecognised").sum()),
            "rejected": int((inventory["status"] == "rejected").sum()),
            "unrecognised": int((inventory["status"] == "unrecognised").sum()),
            "missing": len(missing),
        },
    }


def write_quarantine_by_submitter(out_dir: Path, quarantine: pd.DataFrame) -> list[str]:
    """Each submitter gets back its own list: ``quarantine/<submitter>.csv`` (only those with records)."""
    folder = out_dir / "quarantine"
    folder.mkdir(exist_ok=True)
    written = []
    for submitter, part in quarantine.groupby(quarantine["submitter"].map(safe_file_name), sort=True):
        write_csv(part.drop(columns="submitter").reset_index(drop=True), folder / f"{submitter}.csv")
        written.append(f"quarantine/{submitter}.csv")
    return written


def safe_file_name(name: str) -> str:
    """A submitter code as a file name: letters, digits, CJK, "-" and "_" only; anything else is replaced and
    disambiguated by a short hash, so no name from the file system or the configuration escapes its folder."""
    if not name:
        return "未识别"
    clean = re.sub(r"[^0-9A-Za-z_\-\u4e00-\u9fff]", "_", name)[:64]
    return clean if clean == name else f"{clean}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
