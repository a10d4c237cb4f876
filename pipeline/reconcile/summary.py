"""The ``funds`` and ``coverage`` blocks of summary.json."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import pandas as pd

from pipeline.formats import fen_to_wan, percent, rate
from pipeline.reconcile.facts import input_table
from pipeline.tables import MEASURES


def money_block(sums: pd.Series, rates: dict[str, Fraction | None]) -> dict[str, Any]:
    return {**{m: fen_to_wan(sums[m]) for m in MEASURES}, **{k: percent(v) for k, v in rates.items()}}


def keyed_blocks(level: pd.DataFrame, code: str) -> dict[str, dict[str, Any]]:
    return {
        row[code]: {
            **{m: fen_to_wan(row[m]) for m in MEASURES},
            "arrival_rate": row["arrival_rate"],
            "execution_rate": row["execution_rate"],
        }
        for _, row in level.iterrows()  # one row per source or group, never per movement
    }


def coverage(
    tables: Mapping[str, pd.DataFrame], facts: pd.DataFrame, registry: pd.DataFrame, by_subproject: pd.DataFrame
) -> dict[str, Any]:
    """Sub-projects with any fund plan or movement rows, and their share of the registry's allocations."""
    receipts = input_table(tables, "county_receipts")  # a receipt from the city is a movement too
    seen = set(facts["subproject_code"].unique()) | set(receipts["subproject_code"].astype(str))
    total = set(by_subproject["subproject_code"])
    budget = registry.groupby("subproject_code")["allocation_fen"].sum()
    return {
        "projects_evaluated": len(seen & total),
        "projects_total": len(total),
        "budget_share": percent(rate(budget[budget.index.isin(seen)].sum(), budget.sum())),
    }
