"""What each input kind feeds: the measures, and the fact rows (one per input row and measure) every level sums."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from pipeline.contract import KINDS, SOURCE_COLUMNS
from pipeline.tables import MEASURES

TRANSFER_MEASURES = ["transfers_in", "transfers_out"]


CELL = ["subproject_code", "source_code", "county_code"]


# Every value the lineage's measure column takes: the output column an input row feeds.
EDGE_MEASURES = MEASURES + TRANSFER_MEASURES + ["stated_plan", "allocation", "transfer_amount", "receipt_amount"]


INPUT_KINDS = [
    "fund_plan",
    "receipts",
    "payments",
    "carry_forwards",
    "recoveries",
    "transfers",
    "county_match_plan",
    "county_receipts",
    "county_payments",
    "subprojects",
]


# The measure each kind's rows feed; county_receipts and transfers are split by channel and leg.
MEASURE_OF_KIND = {
    "fund_plan": "planned",
    "receipts": "received",
    "payments": "spent",
    "carry_forwards": "carried_forward",
    "recoveries": "recovered",
    "county_payments": "spent",
}


INT_COLUMNS = ("row", "amount_fen", "allocation_fen")


def input_table(tables: Mapping[str, pd.DataFrame], kind: str) -> pd.DataFrame:
    """The validated table of a kind with every contract column present; empty when nothing came.

    A table that is already so (from :func:`input_tables`) is returned as it is, not copied: the
    stages of a reconciliation each ask for some kinds, a million rows each at national scale. No
    caller modifies what it gets.
    """
    columns = list(SOURCE_COLUMNS) + list(KINDS[kind].columns)
    df = tables.get(kind)
    if df is not None and _is_input_table(df, columns):
        return df
    df = pd.DataFrame(columns=columns) if df is None else df.reindex(columns=columns)  # optional columns may be absent
    df = df.astype({c: "int64" for c in INT_COLUMNS if c in df})
    if "date" in df:
        df["date"] = pd.to_datetime(df["date"])
    return df.reset_index(drop=True)


def input_tables(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every input kind through :func:`input_table`, once."""
    return {kind: input_table(tables, kind) for kind in INPUT_KINDS}


def _is_input_table(df: pd.DataFrame, columns: list[str]) -> bool:
    index = df.index
    return (
        list(df.columns) == columns
        and isinstance(index, pd.RangeIndex)
        and index.start == 0
        and index.step == 1
        and all(df[c].dtype == "int64" for c in INT_COLUMNS if c in df)
        and ("date" not in df or pd.api.types.is_datetime64_any_dtype(df["date"]))
    )


def input_facts(tables: Mapping[str, pd.DataFrame], city_code: str) -> pd.DataFrame:
    """One row per (input row, measure it feeds): the long table every level is summed from."""
    parts = [fact_rows(input_table(tables, kind), kind, measure) for kind, measure in MEASURE_OF_KIND.items()]
    receipts = input_table(tables, "county_receipts")
    parts.append(fact_rows(receipts[receipts["channel"] == "own"], "county_receipts", "received"))
    transfers = input_table(tables, "transfers")
    parts.append(fact_rows(transfers, "transfers", "transfers_in"))
    parts.append(fact_rows(transfers.assign(county_code=city_code), "transfers", "transfers_out"))
    facts = pd.concat(parts, ignore_index=True)
    return facts.astype(dict.fromkeys(CELL + ["file", "sheet"], "category"))


def fact_rows(df: pd.DataFrame, kind: str, measure: str) -> pd.DataFrame:
    county = df["county_code"] if "county_code" in df else df["submitter"]  # a county kind's rows are its submitter's
    return pd.DataFrame(
        {
            "measure": constant(measure, EDGE_MEASURES, len(df)),
            "input_kind": constant(kind, INPUT_KINDS, len(df)),
            "subproject_code": df["subproject_code"].astype(str).to_numpy(),
            "source_code": df["source_code"].astype(str).to_numpy(),
            "county_code": county.astype(str).to_numpy(),
            "amount_fen": df["amount_fen"].to_numpy(dtype="int64"),
            "file": df["file"].to_numpy(),
            "sheet": df["sheet"].to_numpy(),
            "row": df["row"].to_numpy(dtype="int64"),
        }
    )


def constant(value: str, categories: list[str], n: int) -> pd.Categorical:
    codes = np.full(n, categories.index(value), dtype="int8")
    return pd.Categorical.from_codes(codes, categories=pd.Index(categories))  # type: ignore[arg-type]  # stubs: codes as a sequence
