"""What each input kind feeds: the measures, and the fact rows (one per input row and measure) every level sums."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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


def input_columns(kind: str) -> list[str]:
    """The columns of a kind's table the reconciliation reads: the source columns, then the contract's."""
    return list(SOURCE_COLUMNS) + list(KINDS[kind].columns)


def input_table(tables: Mapping[str, pd.DataFrame], kind: str) -> pd.DataFrame:
    """The validated table of a kind with every contract column present; empty when nothing came.

    A table that is already so (from :func:`input_tables`, or read in :func:`input_columns` only) is
    returned as it is, not copied: the stages of a reconciliation each ask for some kinds, a million
    rows each at national scale. No caller modifies what it gets.
    """
    columns = input_columns(kind)
    df = tables.get(kind)
    if df is not None and _is_input_table(df, columns):
        return df
    # One copy: optional columns may be absent, and a county kind's rows carry their county_code beyond the contract.
    df = pd.DataFrame(columns=columns) if df is None else df.reindex(columns=columns)
    ints = {c: "int64" for c in INT_COLUMNS if c in df and df[c].dtype != "int64"}
    if ints:
        df = df.astype(ints)
    if "date" in df and not pd.api.types.is_datetime64_any_dtype(df["date"]):
        df = df.assign(date=pd.to_datetime(df["date"]))
    if not _from_zero(df.index):
        df = df.reset_index(drop=True)
    return df


def input_tables(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every input kind through :func:`input_table`, once."""
    return {kind: input_table(tables, kind) for kind in INPUT_KINDS}


def _is_input_table(df: pd.DataFrame, columns: list[str]) -> bool:
    return (
        list(df.columns) == columns
        and _from_zero(df.index)
        and all(df[c].dtype == "int64" for c in INT_COLUMNS if c in df)
        and ("date" not in df or pd.api.types.is_datetime64_any_dtype(df["date"]))
    )


def _from_zero(index: pd.Index) -> bool:
    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1


def input_facts(tables: Mapping[str, pd.DataFrame], city_code: str) -> pd.DataFrame:
    """One row per (input row, measure it feeds): the long table every level is summed from."""
    parts = [_fact_columns(input_table(tables, kind), kind, measure) for kind, measure in MEASURE_OF_KIND.items()]
    receipts = input_table(tables, "county_receipts")
    parts.append(_fact_columns(receipts[receipts["channel"] == "own"], "county_receipts", "received"))
    transfers = input_table(tables, "transfers")
    parts.append(_fact_columns(transfers, "transfers", "transfers_in"))
    parts.append(_fact_columns(transfers.assign(county_code=city_code), "transfers", "transfers_out"))

    # Column by column, never a frame of Python strings copied whole: a million rows at national scale.
    def joined(column: str) -> np.ndarray:
        return np.concatenate([p[column] for p in parts])

    def constants(column: str, categories: list[str]) -> pd.Categorical:
        codes = np.concatenate([p[column].codes for p in parts])
        return pd.Categorical.from_codes(codes, categories=pd.Index(categories))  # type: ignore[arg-type]  # stubs: codes

    return pd.DataFrame(
        {
            "measure": constants("measure", EDGE_MEASURES),
            "input_kind": constants("input_kind", INPUT_KINDS),
            **{c: text_categorical(joined(c)) for c in CELL},
            "amount_fen": joined("amount_fen"),
            "file": pd.Categorical(joined("file")),
            "sheet": pd.Categorical(joined("sheet")),
            "row": joined("row"),
        }
    )


def text_categorical(values: np.ndarray) -> pd.Categorical:
    """``Series(values).astype(str).astype("category")`` without a ``str()`` per cell when every value is text."""
    cat = pd.Categorical(values)
    if (cat.codes < 0).any() or pd.api.types.infer_dtype(cat.categories, skipna=False) not in ("string", "empty"):
        return pd.Categorical(pd.Series(values).astype(str))  # a missing or non-text value: as its text
    return cat


def fact_rows(df: pd.DataFrame, kind: str, measure: str) -> pd.DataFrame:
    """The fact rows of one input table, codes as text."""
    columns = _fact_columns(df, kind, measure)
    return pd.DataFrame(columns | {c: pd.Series(columns[c]).astype(str).to_numpy() for c in CELL})


def _fact_columns(df: pd.DataFrame, kind: str, measure: str) -> dict[str, Any]:
    county = df["county_code"] if "county_code" in df else df["submitter"]  # a county kind's rows are its submitter's
    return {
        "measure": constant(measure, EDGE_MEASURES, len(df)),
        "input_kind": constant(kind, INPUT_KINDS, len(df)),
        "subproject_code": df["subproject_code"].to_numpy(),
        "source_code": df["source_code"].to_numpy(),
        "county_code": county.to_numpy(),
        "amount_fen": df["amount_fen"].to_numpy(dtype="int64"),
        "file": df["file"].to_numpy(),
        "sheet": df["sheet"].to_numpy(),
        "row": df["row"].to_numpy(dtype="int64"),
    }


def constant(value: str, categories: list[str], n: int) -> pd.Categorical:
    codes = np.full(n, categories.index(value), dtype="int8")
    return pd.Categorical.from_codes(codes, categories=pd.Index(categories))  # type: ignore[arg-type]  # stubs: codes as a sequence
