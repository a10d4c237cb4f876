"""Asset checks built from declarations: a pandera model becomes a blocking check that keeps its failures."""

from __future__ import annotations

import dagster as dg
import pandas as pd
from pandera.errors import SchemaErrors

from pipeline.contract import Kind

MAX_FAILURES_KEPT = 50


def pandera_check_spec(kind: Kind) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        "contract", asset=kind.name, blocking=True,
        description=f"Accepted rows conform to the {kind.model.__name__} contract (types, nullability).",
    )


def pandera_check_result(kind: Kind, df: pd.DataFrame) -> dg.AssetCheckResult:
    """Validate accepted rows against the declared model; failure cases become check metadata."""
    try:
        kind.model.validate(df, lazy=True)
        failures = pd.DataFrame()
    except SchemaErrors as exc:
        failures = exc.failure_cases
    return dg.AssetCheckResult(
        check_name="contract", asset_key=kind.name, passed=failures.empty,
        metadata={
            "rows_checked": len(df),
            "failure_count": len(failures),
            "failure_cases": dg.MetadataValue.md(
                failures.head(MAX_FAILURES_KEPT).astype(str).to_markdown(index=False) if len(failures) else "none"),
        },
    )
