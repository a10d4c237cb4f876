"""The levels: sub-project × source × county cells, and their sums by source, sub-project, group and county, with rates."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipeline.evaluation import Evaluation
from pipeline.formats import natural_sorted
from pipeline.reconcile.facts import CELL, EDGE_MEASURES, TRANSFER_MEASURES
from pipeline.tables import MEASURES

UNREGISTERED_GROUP = "unregistered"


def build_cells(facts: pd.DataFrame, registry: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Sum the facts per sub-project × source × county; also each fact's cell number, for lineage."""
    categories = [facts[c].cat.categories for c in CELL]
    combined = np.zeros(len(facts), dtype="int64")
    for c, cats in zip(CELL, categories):
        combined = combined * len(cats) + facts[c].cat.codes.to_numpy()
    cell_codes, cid = np.unique(combined, return_inverse=True)
    codes = {}
    for c, cats in reversed(list(zip(CELL, categories))):
        cell_codes, codes[c] = np.divmod(cell_codes, max(len(cats), 1))
    cells = pd.DataFrame({c: np.asarray(cats, dtype=object)[codes[c]] for c, cats in zip(CELL, categories)})

    width = len(EDGE_MEASURES)
    sums = facts["amount_fen"].groupby(cid * width + facts["measure"].cat.codes.to_numpy()).sum()
    flat = np.zeros(len(cells) * width, dtype="int64")
    flat[sums.index.to_numpy(dtype="int64")] = sums.to_numpy()
    grid = flat.reshape(len(cells), width)
    for m in MEASURES + TRANSFER_MEASURES:
        cells[m] = grid[:, EDGE_MEASURES.index(m)]
    cells.insert(0, "key", join_keys(cells, CELL))
    cells["group_code"] = cells["subproject_code"].map(group_of(registry)).fillna(UNREGISTERED_GROUP)
    return cid, cells


def group_of(registry: pd.DataFrame) -> dict[str, str]:
    return dict(zip(registry["subproject_code"], registry["group_code"]))


def build_levels(
    cells: pd.DataFrame, registry: pd.DataFrame, evaluation: Evaluation
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, list[str]]]:
    """by_source, by_subproject, by_group and by_county (every configured code present), and the code orders."""
    orders = {
        "subproject_code": ordered(pd.concat([cells["subproject_code"], registry["subproject_code"]])),
        "source_code": ordered(cells["source_code"], evaluation.sources),
        "county_code": ordered(cells["county_code"], [evaluation.city_code, *evaluation.counties]),
    }
    by_source = level_table(cells, "source_code", orders["source_code"], MEASURES)
    labels = by_source["source_code"].map(evaluation.sources).fillna(by_source["source_code"])
    by_source.insert(2, "source_label", labels.astype(str))

    by_subproject = level_table(cells, "subproject_code", orders["subproject_code"], MEASURES)
    code = by_subproject["subproject_code"]
    allocation = registry.groupby("subproject_code")["allocation_fen"].sum()
    by_subproject.insert(
        2, "subproject_name", code.map(dict(zip(registry["subproject_code"], registry["name"]))).fillna("").astype(str)
    )
    by_subproject.insert(3, "group_code", code.map(group_of(registry)).fillna(UNREGISTERED_GROUP).astype(str))
    by_subproject.insert(4, "allocation", code.map(allocation).fillna(0).astype("int64"))

    by_group = level_table(
        cells, "group_code", ordered(pd.concat([cells["group_code"], registry["group_code"]])), MEASURES
    )
    group_names = dict(zip(registry["group_code"], registry["group_name"]))
    by_group.insert(2, "group_name", by_group["group_code"].map(group_names).fillna("").astype(str))

    by_county = level_table(cells, "county_code", orders["county_code"], MEASURES + TRANSFER_MEASURES)
    by_county.insert(2, "county_name", county_names(by_county["county_code"], evaluation))
    return by_source, by_subproject, by_group, by_county, orders


def join_keys(df: pd.DataFrame, columns: list[str]) -> pd.Series:
    first, *rest = (df[c].astype(str) for c in columns)
    return first.str.cat(rest, sep="|") if rest else first  # type: ignore[arg-type]  # stubs: a list of Series is allowed


def level_table(cells: pd.DataFrame, by: str, order: list[str], measures: list[str]) -> pd.DataFrame:
    sums = cells.groupby(by, sort=False)[measures].sum()
    out = (
        sums.reindex(pd.Index(order, name=by, dtype=object), fill_value=0).astype("int64").reset_index()
    )  # silent codes show as zeros
    out.insert(0, "key", out[by])
    return out


def with_rates(df: pd.DataFrame, denominator: str, *, transfers: bool) -> pd.DataFrame:
    available = df["received"] + (df["transfers_in"] - df["transfers_out"] if transfers else 0)
    df["balance"] = available - df["spent"] - df["carried_forward"] - df["recovered"]
    df["arrival_rate"] = rate_percent(df["received"], df["planned"])
    df["execution_rate"] = rate_percent(df["spent"], df["planned"] if denominator == "planned" else available)
    return df


def rate_percent(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """Vectorised ``percent(rate(n, d))``: exact half-up on Python ints, None where d is 0."""
    defined = denominator.to_numpy() != 0
    out = np.full(len(numerator), None, dtype=object)
    n = numerator.to_numpy(dtype=object)[defined]
    d = denominator.to_numpy(dtype=object)[defined]
    hundredths = pd.Series((2 * abs(n) * 10000 + abs(d)) // (2 * abs(d)), dtype=object)  # object: no int64 overflow
    negative = pd.Series(np.where((hundredths.to_numpy() != 0) & ((n < 0) != (d < 0)), "-", ""), dtype=str)
    text = negative + (hundredths // 100).astype(str) + "." + (hundredths % 100).astype(str).str.zfill(2)  # no -0.00
    out[defined] = text.to_numpy(dtype=object)
    return pd.Series(out, index=numerator.index, dtype=object)


def county_names(codes: pd.Series, evaluation: Evaluation) -> pd.Series:
    """County names (市本级 for the city's own bucket), looked up once per distinct code."""
    names = {**evaluation.counties, evaluation.city_code: evaluation.city_name}
    return codes.map(names).fillna(codes).astype(str)


def ordered(present: pd.Series, first: Any = ()) -> list[str]:
    """Configured codes in their configured order, then every other present code in natural order."""
    head = [str(code) for code in first]
    return head + natural_sorted(set(present.dropna().astype(str)) - set(head))


def sort_by_orders(df: pd.DataFrame, orders: dict[str, list[str]]) -> pd.DataFrame:
    """Rows in the given code orders, column by column; missing codes last."""
    ranks = [
        df[c].map({code: i for i, code in enumerate(order)}).fillna(len(order)).to_numpy()
        for c, order in orders.items()
    ]
    return df.iloc[np.lexsort(ranks[::-1])].reset_index(drop=True)
