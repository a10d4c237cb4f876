"""The last stage — ``summary.json``: the figures of the evaluation, addressable by dotted paths."""


import json

import dagster as dg
import pandas as pd

from pipeline.defs.partitions import evaluations
from pipeline.defs.resources import PipelinePaths
from pipeline.fingerprint import code_version, evaluation_fingerprint
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


def write_quarantine_by_submitter(out_dir, quarantine: pd.DataFrame) -> list[str]:
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


@dg.asset(
    partitions_def=evaluations, group_name="report", code_version="summary-1",
    description="summary.json — the evaluation's figures (rows, files, funds, scores, artifacts) as strings, by dotted path.",
)
def evaluation_summary(context: dg.AssetExecutionContext, paths: PipelinePaths, submission_inventory: pd.DataFrame,
                       missing_submissions: pd.DataFrame, quarantine: pd.DataFrame, reconciliation_summary: dict,
                       scoring_summary: dict) -> dg.MaterializeResult:
    out = paths.out_dir(context.partition_key)
    summary = ingest_block(context.partition_key, submission_inventory, missing_submissions)
    summary.update({k: v for k, v in reconciliation_summary.items() if k != "figures"})
    summary.update(scoring_summary)
    per_submitter = write_quarantine_by_submitter(out, quarantine)
    (out / SUMMARY_FILE).write_text(dump(summary), encoding="utf-8")
    ev = paths.evaluation(context.partition_key)
    return dg.MaterializeResult(metadata={
        "input_fingerprint": evaluation_fingerprint(ev.folder),
        "code_version": code_version(),
        "path": dg.MetadataValue.path(str(out / SUMMARY_FILE)),
        "summary": dg.MetadataValue.json(summary),
        "quarantine_files": dg.MetadataValue.json(per_submitter),
    })
