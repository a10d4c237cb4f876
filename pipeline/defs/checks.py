"""Asset checks built from declarations: a schema becomes a blocking check that keeps its failures (as PUDL does).

A submission table is checked against its contract model; every output table against its schema
in ``pipeline.tables`` (columns, dtypes, nullability, unique key). A failed check keeps the first
failure cases as metadata, so a red run leaves an audit record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import dagster as dg
import pandas as pd

from pipeline.checks import Check
from pipeline.contract import Kind
from pipeline.tables import TABLES, schema_failures

if TYPE_CHECKING:
    from dagster._core.definitions.metadata import RawMetadataValue

MAX_FAILURES_KEPT = 50


def pandera_check_spec(kind: Kind) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        "contract",
        asset=kind.name,
        blocking=True,
        description=f"Accepted rows conform to the {kind.model.__name__} contract (types, nullability).",
    )


def check_result(check: Check) -> dg.AssetCheckResult:
    """A stage's :class:`pipeline.checks.Check` as the blocking asset check it stands for."""
    return dg.AssetCheckResult(
        check_name=check.name,
        asset_key=check.asset,
        passed=bool(check.passed),
        metadata={k: _metadata(v) for k, v in check.metadata.items()} or {"detail": check.detail},
    )


def _metadata(value: Any) -> RawMetadataValue:
    if isinstance(value, str) and "\n" in value:
        return dg.MetadataValue.md(value)
    if isinstance(value, (list, dict)):
        return dg.MetadataValue.json(value)
    return value


def schema_check_spec(name: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        "schema",
        asset=name,
        blocking=True,
        description=f"{TABLES[name].title}：列、类型、可否为空与唯一键符合 pipeline/tables.py / "
        "columns, dtypes, nullability and key as declared.",
    )


def schema_check_result(name: str, df: pd.DataFrame) -> dg.AssetCheckResult:
    """Check an output table against its declared schema; failure cases become check metadata."""
    failures = schema_failures(TABLES[name], df, MAX_FAILURES_KEPT)
    return check_result(
        Check(
            name,
            "schema",
            failures.empty,
            {
                "rows_checked": len(df),
                "failure_count": len(failures),
                "failure_cases": failures.astype(str).to_markdown(index=False) if len(failures) else "none",
            },
        )
    )
