"""Ingest's checks: accepted rows keep the contract, and nothing is lost (rows and lines accounted for)."""

from __future__ import annotations

import pandas as pd
from pandera.errors import SchemaErrors

from pipeline.checks import Check
from pipeline.contract import Kind
from pipeline.schemas import holds

MAX_FAILURES_KEPT = 50


def contract(kind: Kind, df: pd.DataFrame) -> Check:
    """Accepted rows against the kind's model (types, nullability); the first failure cases are kept.

    A table that :func:`holds` the contract column by column passes without pandera; any other goes
    through ``kind.model.validate``, which names every failing value.
    """
    failures = pd.DataFrame()
    if not holds(kind.schema, df):
        try:
            kind.model.validate(df, lazy=True)
        except SchemaErrors as exc:
            failures = exc.failure_cases
    return Check(
        kind.name,
        "contract",
        failures.empty,
        {
            "rows_checked": len(df),
            "failure_count": len(failures),
            "failure_cases": failures.head(MAX_FAILURES_KEPT).astype(str).to_markdown(index=False)
            if len(failures)
            else "none",
        },
    )


def rows_accounted(inventory: pd.DataFrame) -> Check:
    """Nothing lost: per file, rows read = accepted + quarantined (a rejected file's rows are all quarantined)."""
    diff = inventory[inventory["rows_read"] != inventory["rows_accepted"] + inventory["rows_quarantined"]]
    return Check(
        "submission_inventory",
        "rows_accounted",
        diff.empty,
        {
            "files_checked": len(inventory),
            "rows_read": int(inventory["rows_read"].sum()),
            "rows_accepted": int(inventory["rows_accepted"].sum()),
            "rows_quarantined": int(inventory["rows_quarantined"].sum()),
            "files_unbalanced": diff[["file", "rows_read", "rows_accepted", "rows_quarantined"]].to_dict("records"),
        },
    )


def lines_accounted(sheets: pd.DataFrame) -> Check:
    """Nothing vanishes: per sheet, every physical line is a title, header, blank, accepted or quarantined line."""
    parts = sheets[["lines_title", "lines_header", "lines_blank", "lines_accepted", "lines_quarantined"]].sum(axis=1)
    diff = sheets[sheets["lines"] != parts]
    return Check(
        "sheet_inventory",
        "lines_accounted",
        diff.empty,
        {
            "sheets_checked": len(sheets),
            "lines": int(sheets["lines"].sum()),
            "lines_structural": int(sheets[["lines_title", "lines_header", "lines_blank"]].sum().sum()),
            "lines_accepted": int(sheets["lines_accepted"].sum()),
            "lines_quarantined": int(sheets["lines_quarantined"].sum()),
            "sheets_unbalanced": diff[["file", "sheet", "lines"]].to_dict("records"),
        },
    )
