"""Fund reconciliation (资金核对): what was planned, received (到位), spent, carried forward (结转) and
recovered (收回), by source, sub-project, project group and county, every figure traceable to its rows.

What counts where
- planned: the bureau's fund plan (资金计划表), the figure of record. A county's own statement of its
  matching funds (配套计划) is only cross-checked against it.
- received: money arriving from outside the programme into the account that will spend it: the
  bureau's receipts (city-level sources) and counties' receipts from their own budget
  (county_receipts with channel ``own``).
- spent: payments to final recipients, by the bureau (payments) or by a county (county_payments).
- carried_forward and recovered: the bureau's carry-forwards and recoveries.
- A transfer from the city to a county (资金下拨) is internal: never received, never spent. It is
  booked as transfers_out of the city's own bucket (150100 市本级) and transfers_in of the county,
  and is cross-checked against the county's receipts with channel ``city``.
- A reversal (冲红) is a negative amount and simply sums.

Levels: by source, by sub-project, by project group (from the registry), by county (the city's own
level is a bucket of its own), and the finest grain sub-project × source × county (``cells``).

Balance and rates
- At the by-county and finest levels, available = received + transfers_in − transfers_out and
  balance = available − spent − carried_forward − recovered.
- Every other level sums over counties, where transfers net to zero: available = received and
  balance = received − spent − carried_forward − recovered.
- arrival_rate = received / planned. execution_rate = spent / available (setting
  ``execution_denominator: received``, the default) or spent / planned (``planned``: the B/A of
  self-evaluation forms). Rates are percent strings with two decimals, None where undefined.

Cross-checks
- Each city→county transfer is paired one to one with a receipt (channel ``city``) of the same
  county: by document number, then by equal amount within ``transfer_match_window_days``; what does
  not agree goes to the discrepancy table with both sides' source rows (see ``_transfer_pairs``).
- County matching funds (配套) per county: planned (fund plan, the evaluation's county_source),
  the county's stated plan, received (its own budget) and the shortfall. The stated plan is compared
  with the fund plan sub-project by sub-project for every county that stated one.

Conditions that come from the data are findings (``pipeline.findings``), never blocking and never
clipped; identities that only a bug can break are ``identity_checks``. Coverage's budget_share is
measured on the registry's allocations: every sub-project with a fund-plan line counts as evaluated,
so the fund plan itself could only ever give 100%.

Every money column of every table here is an integer number of 分; rounding happens only at display.

Lineage is an edge table: one row per (output row, measure, input row), with ``output_key`` equal to
the ``key`` column of the output row (a source code, a sub-project code, "1|central|150100"…).
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from typing import Any, Mapping, NamedTuple, Optional

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from pipeline import findings as findings_table
from pipeline.contract import KINDS, SOURCE_COLUMNS
from pipeline.evaluation import Evaluation, EvaluationError
from pipeline.formats import fen_to_wan, fen_to_wan_series, natural_sorted, percent, rate

MEASURES = ["planned", "received", "spent", "carried_forward", "recovered"]
TRANSFER_MEASURES = ["transfers_in", "transfers_out"]
CELL = ["subproject_code", "source_code", "county_code"]
LINEAGE_COLUMNS = ["output_table", "output_key", "measure", "input_kind", "file", "sheet", "row"]
# Every value the lineage's measure column takes: the output column an input row feeds.
EDGE_MEASURES = MEASURES + TRANSFER_MEASURES + ["stated_plan", "allocation", "transfer_amount", "receipt_amount"]
INPUT_KINDS = [
    "fund_plan", "receipts", "payments", "carry_forwards", "recoveries", "transfers",
    "county_match_plan", "county_receipts", "county_payments", "subprojects",
]
DISCREPANCY_TYPES = ["amount_differs", "duplicate_receipt", "unmatched_transfer", "unmatched_receipt"]
PAIR_COLUMNS = [
    "key", "status", "match_method", "county_code", "subproject_code", "source_code",
    "transfer_id", "transfer_doc_no", "transfer_date", "transfer_amount", "transfer_file", "transfer_sheet", "transfer_row",
    "receipt_id", "receipt_doc_no", "receipt_date", "receipt_amount", "receipt_file", "receipt_sheet", "receipt_row",
    "difference",
]
UNREGISTERED_GROUP = "unregistered"
# Levels whose lineage is not stored but derived from the cells' edges (see derived_edges).
DERIVED_LEVELS = {"by_source": "source_code", "by_subproject": "subproject_code", "by_group": "group_code",
                  "by_county": "county_code"}

# The measure each kind's rows feed; county_receipts and transfers are split by channel and leg.
_MEASURE_OF_KIND = {
    "fund_plan": "planned",
    "receipts": "received",
    "payments": "spent",
    "carry_forwards": "carried_forward",
    "recoveries": "recovered",
    "county_payments": "spent",
}


@dataclasses.dataclass(frozen=True)
class Reconciliation:
    """Every table of the fund reconciliation; see the module docstring for the definitions."""

    cells: pd.DataFrame  # sub-project × source × county
    by_source: pd.DataFrame
    by_subproject: pd.DataFrame
    by_group: pd.DataFrame
    by_county: pd.DataFrame
    lineage: pd.DataFrame  # LINEAGE_COLUMNS
    transfer_matches: pd.DataFrame  # transfers paired with a county receipt (status matched or amount_differs)
    transfer_discrepancies: pd.DataFrame  # pairs and lone rows that do not agree, typed by discrepancy_type
    matching: pd.DataFrame  # county matching funds (配套) per county
    findings: pd.DataFrame  # pipeline.findings.COLUMNS
    summary: dict[str, Any]  # the ``funds`` and ``coverage`` blocks of summary.json
    figures: dict[str, Optional[Fraction]]  # exact overall arrival_rate and execution_rate for scoring


class Check(NamedTuple):
    name: str
    passed: bool
    detail: str


def reconcile(tables: Mapping[str, pd.DataFrame], evaluation: Evaluation) -> Reconciliation:
    """Reconcile the validated tables of one evaluation (any kind may be missing or empty)."""
    settings = _settings(evaluation)
    denominator = settings["execution_denominator"]
    registry = _table(tables, "subprojects")
    facts = _facts(tables, evaluation.city_code)
    cid, cells = _cells(facts, registry)
    edges = _level_edges(cid, cells, facts, registry)
    by_source, by_subproject, by_group, by_county, orders = _levels(cells, registry, evaluation)
    cells = _sorted(cells.drop(columns="group_code"), orders)
    cells, by_county = (_with_rates(t, denominator, transfers=True) for t in (cells, by_county))
    by_source, by_subproject, by_group = (_with_rates(t, denominator, transfers=False) for t in (by_source, by_subproject, by_group))

    matching, edges["matching"], plan_detail = _matching(tables, facts, evaluation)
    pairs, pair_edges = _transfer_pairs(tables, evaluation, settings["transfer_match_window_days"])
    transfer_matches = pairs[pairs["status"].isin(["matched", "amount_differs"])].reset_index(drop=True)
    transfer_discrepancies = (
        pairs[pairs["status"] != "matched"].rename(columns={"status": "discrepancy_type"}).reset_index(drop=True)
    )
    edges["transfer_matches"] = _edge_subset(pair_edges, transfer_matches["key"], "transfer_matches")
    edges["transfer_discrepancies"] = _edge_subset(pair_edges, transfer_discrepancies["key"], "transfer_discrepancies")

    findings, finding_edges = _findings(
        settings, evaluation, edges, by_source=by_source, by_subproject=by_subproject, cells=cells,
        matching=matching, plan_detail=plan_detail, discrepancies=transfer_discrepancies,
    )
    totals = cells[MEASURES].sum()
    figures = {
        "arrival_rate": rate(totals["received"], totals["planned"]),
        "execution_rate": rate(totals["spent"], totals[denominator]),
    }
    summary = {
        "funds": {
            **_money_block(totals, figures),
            "by_source": _keyed_blocks(by_source, "source_code"),
            "by_group": _keyed_blocks(by_group, "group_code"),
        },
        "coverage": _coverage(tables, facts, registry, by_subproject),
    }
    return Reconciliation(
        cells=cells, by_source=by_source, by_subproject=by_subproject, by_group=by_group, by_county=by_county,
        # Coarser levels are sums of cells: their edges follow from the cells' codes (``derived_edges``),
        # so only the finest grain is stored — at national scale that is 1 edge per input row, not 5.
        lineage=_concat_edges([e for name, e in edges.items() if name not in DERIVED_LEVELS]
                              + [edges["by_subproject"].pipe(lambda e: e[e["measure"] == "allocation"]), finding_edges]),
        transfer_matches=transfer_matches, transfer_discrepancies=transfer_discrepancies,
        matching=matching, findings=findings, summary=summary, figures=figures,
    )


def derived_edges(level: str, keys: Optional[list[str]], cell_edges: pd.DataFrame, cells: pd.DataFrame,
                  groups: Mapping[str, str]) -> pd.DataFrame:
    """The edges of rows of a coarser level (``by_source`` …), from the cells' edges and codes.

    ``cell_edges`` are the stored edges with output_table ``cells``; ``cells`` has key and the three
    codes; ``groups`` maps sub-project → group. Transfers net to zero above the county level, so
    they are left out there, as the levels' sums leave them out.
    """
    column = DERIVED_LEVELS[level]
    c = cells[["key", "subproject_code", "source_code", "county_code"]].astype(str)
    c["group_code"] = c["subproject_code"].map(groups).fillna(UNREGISTERED_GROUP)
    if keys is not None:
        c = c[c[column].isin(keys)]
    owner = dict(zip(c["key"], c[column]))
    e = cell_edges[cell_edges["output_key"].astype(str).isin(owner)]
    if level != "by_county":
        e = e[~e["measure"].astype(str).isin(TRANSFER_MEASURES)]
    return e.assign(output_table=level, output_key=e["output_key"].astype(str).map(owner))


def identity_checks(rec: Reconciliation, tables: Mapping[str, pd.DataFrame]) -> list[Check]:
    """Identities that only a bug can break; each becomes a blocking asset check."""
    t = {kind: _table(tables, kind) for kind in [*_MEASURE_OF_KIND, "county_receipts", "transfers"]}
    channel = t["county_receipts"]["channel"]
    own, city = t["county_receipts"][channel == "own"], t["county_receipts"][channel == "city"]
    transferred = t["transfers"]["amount_fen"].sum()
    inputs = pd.Series({
        "planned": t["fund_plan"]["amount_fen"].sum(),
        "received": t["receipts"]["amount_fen"].sum() + own["amount_fen"].sum(),
        "spent": t["payments"]["amount_fen"].sum() + t["county_payments"]["amount_fen"].sum(),
        "carried_forward": t["carry_forwards"]["amount_fen"].sum(),
        "recovered": t["recoveries"]["amount_fen"].sum(),
        "transfers_in": transferred,
        "transfers_out": transferred,
    })
    levels = {name: getattr(rec, name) for name in ("cells", "by_source", "by_subproject", "by_group", "by_county")}

    sums = pd.DataFrame({name: level[MEASURES].sum() for name, level in levels.items()})
    uneven = sums[sums.nunique(axis=1) > 1]
    checks = [Check(
        "levels_sum_to_same_totals", uneven.empty,
        _detail(sums["cells"]) if uneven.empty else "; ".join(
            f"{m}: " + ", ".join(f"{name} {fen_to_wan(v)}" for name, v in row.items()) for m, row in uneven.iterrows()
        ),
    )]

    finest = rec.cells[MEASURES + TRANSFER_MEASURES].sum()
    off = [m for m in inputs.index if finest[m] != inputs[m]]
    checks.append(Check(
        "finest_grain_equals_inputs", not off,
        "; ".join(f"{m}: cells {fen_to_wan(finest[m])} ≠ inputs {fen_to_wan(inputs[m])}" for m in off) or _detail(finest),
    ))

    county = rec.by_county[TRANSFER_MEASURES].sum()
    checks.append(Check(
        "transfers_net_to_zero",
        bool(county["transfers_in"] == county["transfers_out"] == finest["transfers_in"] == finest["transfers_out"]),
        f"transfers_in {fen_to_wan(county['transfers_in'])}, transfers_out {fen_to_wan(county['transfers_out'])}",
    ))

    wrong = []
    for name, level in levels.items():
        available = level["received"] + (level["transfers_in"] - level["transfers_out"] if "transfers_in" in level else 0)
        bad = level["balance"] != available - level["spent"] - level["carried_forward"] - level["recovered"]
        wrong += (name + " " + level.loc[bad, "key"]).tolist()
    checks.append(Check("balance_formula", not wrong, ", ".join(wrong[:20]) or "every row"))

    pairs = pd.concat([rec.transfer_matches, rec.transfer_discrepancies.rename(columns={"discrepancy_type": "status"})])
    pairs = pairs.drop_duplicates("key")
    booked_t = pairs.loc[pairs["status"] != "duplicate_receipt", "transfer_amount"].sum()
    booked_r = pairs["receipt_amount"].sum()
    receipts_once = not pairs.dropna(subset=["receipt_id"]).duplicated(["county_code", "receipt_id"]).any()
    checks.append(Check(
        "transfer_crosscheck_complete",
        bool(booked_t == transferred and booked_r == city["amount_fen"].sum() and receipts_once),
        f"transfers {fen_to_wan(booked_t)} of {fen_to_wan(transferred)}, city receipts {fen_to_wan(booked_r)} of "
        f"{fen_to_wan(city['amount_fen'].sum())}, each receipt once: {receipts_once}",
    ))

    legs = sum(len(t[kind]) for kind in _MEASURE_OF_KIND) + len(own) + 2 * len(t["transfers"])  # a transfer has two legs
    cell_edges = rec.lineage[rec.lineage["output_table"] == "cells"]
    orphans = set(rec.cells["key"]) - set(cell_edges["output_key"])
    checks.append(Check(
        "lineage_complete", len(cell_edges) == legs and not orphans,
        f"{len(cell_edges)} of {legs} input legs linked to cells; cells without lineage: {len(orphans)}",
    ))
    return checks


def _detail(sums: pd.Series) -> str:
    return ", ".join(f"{m} {fen_to_wan(v)}" for m, v in sums.items())


# --- inputs -----------------------------------------------------------------------------------


def _settings(evaluation: Evaluation) -> dict[str, Any]:
    settings = evaluation.settings
    if settings["execution_denominator"] not in ("received", "planned"):
        raise EvaluationError(
            f"{evaluation.folder}: execution_denominator 只能是 received 或 planned / must be received or planned, "
            f"got {settings['execution_denominator']!r}"
        )
    return settings


def _table(tables: Mapping[str, pd.DataFrame], kind: str) -> pd.DataFrame:
    """The validated table of a kind with every contract column present; empty when nothing came."""
    columns = list(SOURCE_COLUMNS) + list(KINDS[kind].columns)
    df = tables.get(kind)
    df = pd.DataFrame(columns=columns) if df is None else df.reindex(columns=columns)  # optional columns may be absent
    df = df.astype({c: "int64" for c in ("row", "amount_fen", "allocation_fen") if c in df})
    if "date" in df:
        df["date"] = pd.to_datetime(df["date"])
    return df.reset_index(drop=True)


def _facts(tables: Mapping[str, pd.DataFrame], city_code: str) -> pd.DataFrame:
    """One row per (input row, measure it feeds): the long table every level is summed from."""
    parts = [_fact_rows(_table(tables, kind), kind, measure) for kind, measure in _MEASURE_OF_KIND.items()]
    receipts = _table(tables, "county_receipts")
    parts.append(_fact_rows(receipts[receipts["channel"] == "own"], "county_receipts", "received"))
    transfers = _table(tables, "transfers")
    parts.append(_fact_rows(transfers, "transfers", "transfers_in"))
    parts.append(_fact_rows(transfers.assign(county_code=city_code), "transfers", "transfers_out"))
    facts = pd.concat(parts, ignore_index=True)
    return facts.astype({c: "category" for c in CELL + ["file", "sheet"]})


def _fact_rows(df: pd.DataFrame, kind: str, measure: str) -> pd.DataFrame:
    county = df["county_code"] if "county_code" in df else df["submitter"]  # a county kind's rows are its submitter's
    return pd.DataFrame({
        "measure": _constant(measure, EDGE_MEASURES, len(df)),
        "input_kind": _constant(kind, INPUT_KINDS, len(df)),
        "subproject_code": df["subproject_code"].astype(str).to_numpy(),
        "source_code": df["source_code"].astype(str).to_numpy(),
        "county_code": county.astype(str).to_numpy(),
        "amount_fen": df["amount_fen"].to_numpy(dtype="int64"),
        "file": df["file"].to_numpy(),
        "sheet": df["sheet"].to_numpy(),
        "row": df["row"].to_numpy(dtype="int64"),
    })


def _constant(value: str, categories: list[str], n: int) -> pd.Categorical:
    return pd.Categorical.from_codes(np.full(n, categories.index(value), dtype="int8"), categories=categories)


# --- levels -----------------------------------------------------------------------------------


def _cells(facts: pd.DataFrame, registry: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
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
    grid = np.zeros(len(cells) * width, dtype="int64")
    grid[sums.index.to_numpy(dtype="int64")] = sums.to_numpy()
    grid = grid.reshape(len(cells), width)
    for m in MEASURES + TRANSFER_MEASURES:
        cells[m] = grid[:, EDGE_MEASURES.index(m)]
    cells.insert(0, "key", _join_keys(cells, CELL))
    cells["group_code"] = cells["subproject_code"].map(_group_of(registry)).fillna(UNREGISTERED_GROUP)
    return cid, cells


def _group_of(registry: pd.DataFrame) -> dict[str, str]:
    return dict(zip(registry["subproject_code"], registry["group_code"]))


def _levels(cells: pd.DataFrame, registry: pd.DataFrame, evaluation: Evaluation):
    """by_source, by_subproject, by_group and by_county (every configured code present), and the code orders."""
    orders = {
        "subproject_code": _ordered(pd.concat([cells["subproject_code"], registry["subproject_code"]])),
        "source_code": _ordered(cells["source_code"], evaluation.sources),
        "county_code": _ordered(cells["county_code"], [evaluation.city_code, *evaluation.counties]),
    }
    by_source = _level(cells, "source_code", orders["source_code"], MEASURES)
    labels = by_source["source_code"].map(evaluation.sources).fillna(by_source["source_code"])
    by_source.insert(2, "source_label", labels.astype(str))

    by_subproject = _level(cells, "subproject_code", orders["subproject_code"], MEASURES)
    code = by_subproject["subproject_code"]
    allocation = registry.groupby("subproject_code")["allocation_fen"].sum()
    by_subproject.insert(2, "subproject_name", code.map(dict(zip(registry["subproject_code"], registry["name"]))).fillna("").astype(str))
    by_subproject.insert(3, "group_code", code.map(_group_of(registry)).fillna(UNREGISTERED_GROUP).astype(str))
    by_subproject.insert(4, "allocation", code.map(allocation).fillna(0).astype("int64"))

    by_group = _level(cells, "group_code", _ordered(pd.concat([cells["group_code"], registry["group_code"]])), MEASURES)
    group_names = dict(zip(registry["group_code"], registry["group_name"]))
    by_group.insert(2, "group_name", by_group["group_code"].map(group_names).fillna("").astype(str))

    by_county = _level(cells, "county_code", orders["county_code"], MEASURES + TRANSFER_MEASURES)
    by_county.insert(2, "county_name", _county_names(by_county["county_code"], evaluation))
    return by_source, by_subproject, by_group, by_county, orders


def _level_edges(cid: np.ndarray, cells: pd.DataFrame, facts: pd.DataFrame, registry: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Lineage of every level: each fact links to its cell, and through the cell's codes to each coarser row."""
    edges = {"cells": _edges("cells", pd.Categorical.from_codes(cid, cells["key"]), facts)}
    in_counties = ~facts["measure"].isin(TRANSFER_MEASURES).to_numpy()  # transfers net to zero above the county level
    for name, column, mask in (
        ("by_source", "source_code", in_counties),
        ("by_subproject", "subproject_code", in_counties),
        ("by_group", "group_code", in_counties),
        ("by_county", "county_code", np.ones(len(facts), dtype=bool)),
    ):
        codes, categories = pd.factorize(cells[column])
        edges[name] = _edges(name, pd.Categorical.from_codes(codes[cid[mask]], categories), facts[mask])
    allocation = _edges(
        "by_subproject", pd.Categorical(registry["subproject_code"]), registry, measure="allocation", kind="subprojects"
    )
    edges["by_subproject"] = _concat_edges([edges["by_subproject"], allocation])
    return edges


def _join_keys(df: pd.DataFrame, columns: list[str]) -> pd.Series:
    first, *rest = (df[c].astype(str) for c in columns)
    return first.str.cat(rest, sep="|") if rest else first


def _level(cells: pd.DataFrame, by: str, order: list[str], measures: list[str]) -> pd.DataFrame:
    sums = cells.groupby(by, sort=False)[measures].sum()
    out = sums.reindex(pd.Index(order, name=by, dtype=object), fill_value=0).astype("int64").reset_index()  # silent codes show as zeros
    out.insert(0, "key", out[by])
    return out


def _with_rates(df: pd.DataFrame, denominator: str, *, transfers: bool) -> pd.DataFrame:
    available = df["received"] + (df["transfers_in"] - df["transfers_out"] if transfers else 0)
    df["balance"] = available - df["spent"] - df["carried_forward"] - df["recovered"]
    df["arrival_rate"] = _percent(df["received"], df["planned"])
    df["execution_rate"] = _percent(df["spent"], df["planned"] if denominator == "planned" else available)
    return df


def _percent(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """Vectorised ``percent(rate(n, d))``: exact half-up on Python ints, None where d is 0."""
    defined = denominator.to_numpy() != 0
    out = np.full(len(numerator), None, dtype=object)
    n = numerator.to_numpy(dtype=object)[defined]
    d = denominator.to_numpy(dtype=object)[defined]
    hundredths = pd.Series((2 * abs(n) * 10000 + abs(d)) // (2 * abs(d)), dtype=object)  # object: no int64 overflow
    negative = np.where((hundredths.to_numpy() != 0) & ((n < 0) != (d < 0)), "-", "")  # like percent(): no "-0.00"
    text = negative + (hundredths // 100).astype(str) + "." + (hundredths % 100).astype(str).str.zfill(2)
    out[defined] = text.to_numpy(dtype=object)
    return pd.Series(out, index=numerator.index, dtype=object)


def _county_names(codes: pd.Series, evaluation: Evaluation) -> pd.Series:
    """County names (市本级 for the city's own bucket), looked up once per distinct code."""
    names = {**evaluation.counties, evaluation.city_code: evaluation.city_name}
    return codes.map(names).fillna(codes).astype(str)


def _ordered(present: pd.Series, first: Any = ()) -> list[str]:
    """Configured codes in their configured order, then every other present code in natural order."""
    first = list(first)
    return first + natural_sorted(set(present.dropna().astype(str)) - set(first))


def _sorted(df: pd.DataFrame, orders: dict[str, list[str]]) -> pd.DataFrame:
    """Rows in the given code orders, column by column; missing codes last."""
    ranks = [df[c].map({code: i for i, code in enumerate(order)}).fillna(len(order)).to_numpy() for c, order in orders.items()]
    return df.iloc[np.lexsort(ranks[::-1])].reset_index(drop=True)


# --- lineage ----------------------------------------------------------------------------------


def _edges(
    table: str, keys: pd.Categorical, rows: pd.DataFrame, *, measure: Optional[str] = None, kind: Optional[str] = None
) -> pd.DataFrame:
    """Edges from output rows (``keys``, one per input row) to the input ``rows``."""
    n = len(rows)
    return pd.DataFrame({
        "output_table": _constant(table, [table], n),
        "output_key": keys,
        "measure": _constant(measure, EDGE_MEASURES, n) if measure else rows["measure"].array,
        "input_kind": _constant(kind, INPUT_KINDS, n) if kind else rows["input_kind"].array,
        "file": rows["file"].array,
        "sheet": rows["sheet"].array,
        "row": rows["row"].to_numpy(dtype="int64"),
    })


def _concat_edges(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate edge frames keeping every text column categorical (the edge table can be millions of rows)."""
    parts = [p for p in parts if len(p)] or [_edges("cells", pd.Categorical([]), _empty_facts())]
    columns = {c: union_categoricals([_categorical(p[c]) for p in parts]) for c in LINEAGE_COLUMNS if c != "row"}
    columns["row"] = np.concatenate([p["row"].to_numpy(dtype="int64") for p in parts])
    return pd.DataFrame(columns)[LINEAGE_COLUMNS]


def _categorical(column: pd.Series) -> pd.Categorical:
    return column.array if isinstance(column.dtype, pd.CategoricalDtype) else pd.Categorical(column.astype(str))


def _empty_facts() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "row" else object) for c in ("measure", "input_kind", "file", "sheet", "row")})


def _edge_subset(edges: pd.DataFrame, keys: pd.Series, table: str) -> pd.DataFrame:
    out = edges[edges["output_key"].isin(set(keys))].copy()
    out["output_table"] = table
    return out


# --- county matching funds (配套) -------------------------------------------------------------


def _matching(
    tables: Mapping[str, pd.DataFrame], facts: pd.DataFrame, evaluation: Evaluation
) -> tuple[pd.DataFrame, pd.DataFrame, tuple[pd.DataFrame, pd.DataFrame]]:
    """Per county: planned (fund plan), stated plan (the county's own), received (own budget), shortfall.

    Also returns the matching table's lineage and the county × sub-project comparison of the
    stated plan with the fund plan, with its own lineage keys, for the findings.
    """
    source = evaluation.county_source
    ours = facts[
        facts["measure"].isin(["planned", "received"]).to_numpy()
        & (facts["source_code"] == source).to_numpy()
        & (facts["county_code"] != evaluation.city_code).to_numpy()
    ]
    stated = _table(tables, "county_match_plan").assign(source_code=source)
    rows = pd.concat([
        ours.astype({c: str for c in CELL + ["file", "sheet"]}),
        _fact_rows(stated, "county_match_plan", "stated_plan").astype({c: str for c in ("file", "sheet")}),
    ], ignore_index=True)
    rows["measure"] = rows["measure"].astype(str)

    pivot = rows.pivot_table(index="county_code", columns="measure", values="amount_fen", aggfunc="sum", fill_value=0)
    order = _ordered(rows["county_code"], evaluation.counties)
    matching = pivot.reindex(index=order, columns=["planned", "stated_plan", "received"], fill_value=0).astype("int64")
    matching = matching.rename_axis(index="county_code", columns=None).reset_index()
    matching.insert(0, "key", matching["county_code"])
    matching.insert(2, "county_name", _county_names(matching["county_code"], evaluation))
    matching["shortfall"] = matching["planned"] - matching["received"]
    matching["arrival_rate"] = _percent(matching["received"], matching["planned"])
    edges = _edges("matching", pd.Categorical(rows["county_code"]), rows.astype({"measure": "category"}))

    compared = rows[rows["measure"] != "received"]
    detail = compared.pivot_table(
        index=["county_code", "subproject_code"], columns="measure", values="amount_fen", aggfunc="sum", fill_value=0
    ).reindex(columns=["planned", "stated_plan"], fill_value=0).reset_index()
    detail = detail[detail["county_code"].isin(set(stated["submitter"]))]  # only counties that stated a plan
    detail.insert(0, "key", _join_keys(detail, ["county_code", "subproject_code"]))
    detail_edges = _edges(
        "county_subproject", pd.Categorical(_join_keys(compared, ["county_code", "subproject_code"])),
        compared.astype({"measure": "category"}),
    )
    return matching, edges, (detail.reset_index(drop=True), detail_edges)


# --- transfer cross-check ----------------------------------------------------------------------


def _transfer_pairs(
    tables: Mapping[str, pd.DataFrame], evaluation: Evaluation, window_days: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pair each city→county transfer with the county's receipt (channel ``city``), one to one.

    First by document number (equal amounts first, then any amount: ``amount_differs``), then by
    equal amount with dates at most ``window_days`` apart, closest first. A leftover receipt with
    the document number, or the amount and date, of an already paired transfer is a
    ``duplicate_receipt`` of it; what is left is ``unmatched_transfer`` or ``unmatched_receipt``.
    """
    raw_t = _table(tables, "transfers")
    receipts = _table(tables, "county_receipts")
    raw_r = receipts[receipts["channel"] == "city"].assign(county_code=lambda d: d["submitter"]).reset_index(drop=True)
    t, t_rows = _side(raw_t, "transfer_id", "transfers")
    r, r_rows = _side(raw_r, "receipt_id", "county_receipts")
    window = pd.Timedelta(days=int(window_days))

    t_doc, r_doc = t[t["doc"] != ""], r[r["doc"] != ""]
    same = _pair_in_order(t_doc, r_doc, ["county_code", "doc", "amount"])
    differs = _pair_in_order(_unpaired(t_doc, same, "t"), _unpaired(r_doc, same, "r"), ["county_code", "doc"])
    by_doc = pd.concat([same.assign(status="matched"), differs.assign(status="amount_differs")], ignore_index=True)
    duplicates_doc = _duplicates_by_doc(_unpaired(r, by_doc, "r"), by_doc, t, r)

    r_left = _unpaired(_unpaired(r, by_doc, "r"), duplicates_doc, "r")
    by_amount = _pair_closest(_unpaired(t, by_doc, "t"), r_left, window).assign(status="matched")
    paired = pd.concat([by_doc.assign(match_method="doc_no"), by_amount.assign(match_method="amount_date")], ignore_index=True)
    duplicates_amount = _duplicates_by_amount(_unpaired(r_left, by_amount, "r"), paired, t, window)

    pairs = pd.concat([
        paired,
        duplicates_doc.assign(status="duplicate_receipt", match_method="doc_no"),
        duplicates_amount.assign(status="duplicate_receipt", match_method="amount_date"),
    ], ignore_index=True)
    lone_t = _unpaired(t, pairs, "t")[["pos"]].rename(columns={"pos": "t"}).assign(status="unmatched_transfer")
    lone_r = _unpaired(r, pairs, "r")[["pos"]].rename(columns={"pos": "r"}).assign(status="unmatched_receipt")
    pairs = pd.concat([pairs, lone_t, lone_r], ignore_index=True).astype({"t": "Int64", "r": "Int64"})
    pairs["match_method"] = pairs["match_method"].astype(object).where(pairs["match_method"].notna(), None)

    out = pairs.merge(_prefixed(t, "transfer"), left_on="t", right_on="transfer_pos", how="left")
    out = out.merge(_prefixed(r, "receipt"), left_on="r", right_on="receipt_pos", how="left")
    for c in ("county_code", "subproject_code", "source_code"):
        out[c] = out[f"transfer_{c}"].fillna(out[f"receipt_{c}"])
    out["difference"] = (out["receipt_amount"] - out["transfer_amount"]).where(out["status"].isin(["matched", "amount_differs"]))
    out["key"] = _join_keys(out.fillna({"transfer_id": "", "receipt_id": ""}), ["transfer_id", "county_code", "receipt_id"])
    # by county, then in the order the rows stand in their files, so a clerk reads them top-down
    out = out.sort_values(["transfer_file", "transfer_row", "receipt_file", "receipt_row"], na_position="last")
    out = _sorted(out, {"county_code": _ordered(out["county_code"], evaluation.counties)})

    edge_rows = pd.concat([
        out[["key", "t"]].dropna().merge(t_rows, left_on="t", right_on="pos").assign(measure="transfer_amount"),
        out[["key", "r"]].dropna().merge(r_rows, left_on="r", right_on="pos").assign(measure="receipt_amount"),
    ], ignore_index=True)
    edges = _edges("transfer_pairs", pd.Categorical(edge_rows["key"]), edge_rows)
    return out[PAIR_COLUMNS], edges


def _side(df: pd.DataFrame, id_column: str, kind: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One side of the cross-check, reversals (冲红) folded into the row they reverse.

    Returns the side (one row per booking, ``pos`` numbering it; fully reversed bookings dropped)
    and the input rows behind each ``pos``.
    """
    ids = df[id_column].astype(str)
    reverses = df["reverses"].fillna("").astype(str).str.strip()
    booked = pd.MultiIndex.from_arrays([df["submitter"], ids])
    folds = (reverses != "") & pd.MultiIndex.from_arrays([df["submitter"], reverses]).isin(booked)
    base = df[~folds]
    position = pd.Series(np.arange(len(base)), index=pd.MultiIndex.from_arrays([base["submitter"], ids[~folds]]))
    pos = position.reindex(pd.MultiIndex.from_arrays([df["submitter"], ids.where(~folds, reverses)])).to_numpy()
    net = df["amount_fen"].groupby(pos).sum()
    side = pd.DataFrame({
        "pos": np.arange(len(base)),
        "county_code": base["county_code"].astype(str).to_numpy(),
        "id": ids[~folds].to_numpy(),
        "doc": base["doc_no"].fillna("").astype(str).str.strip().to_numpy(),
        "amount": net.reindex(np.arange(len(base))).to_numpy(dtype="int64"),
        "date": base["date"].to_numpy(),
        "subproject_code": base["subproject_code"].to_numpy(),
        "source_code": base["source_code"].to_numpy(),
        "file": base["file"].to_numpy(),
        "sheet": base["sheet"].to_numpy(),
        "row": base["row"].to_numpy(dtype="int64"),
    })
    rows = pd.DataFrame({
        "pos": pos, "input_kind": kind, "file": df["file"].to_numpy(), "sheet": df["sheet"].to_numpy(),
        "row": df["row"].to_numpy(dtype="int64"),
    })
    return side[side["amount"] != 0].reset_index(drop=True), rows


def _unpaired(side: pd.DataFrame, pairs: pd.DataFrame, which: str) -> pd.DataFrame:
    return side[~side["pos"].isin(pairs[which].dropna())] if which in pairs else side


def _pair_in_order(t: pd.DataFrame, r: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """One-to-one pairs sharing ``keys``: the n-th transfer (by date, id) with the n-th receipt."""
    def numbered(side: pd.DataFrame) -> pd.DataFrame:
        side = side.sort_values(["date", "id"])
        return side.assign(nth=side.groupby(keys).cumcount())[keys + ["nth", "pos"]]

    pairs = numbered(t).merge(numbered(r), on=keys + ["nth"], suffixes=("_t", "_r"))
    return _pair_frame(pairs["pos_t"], pairs["pos_r"])


def _pair_closest(t: pd.DataFrame, r: pd.DataFrame, window: pd.Timedelta) -> pd.DataFrame:
    """One-to-one pairs of equal amount within the window, closest dates first (greedy, by rounds)."""
    candidates = t[["pos", "county_code", "amount", "date"]].merge(
        r[["pos", "county_code", "amount", "date"]], on=["county_code", "amount"], suffixes=("_t", "_r")
    )
    candidates["gap"] = (candidates["date_r"] - candidates["date_t"]).abs()
    candidates = candidates[candidates["gap"] <= window].sort_values(["gap", "pos_t", "pos_r"])
    chosen = []
    while len(candidates):  # each round keeps the mutually closest pairs; the closest pair overall always is one
        mutual = candidates[~candidates.duplicated("pos_t") & ~candidates.duplicated("pos_r")]
        chosen.append(mutual)
        candidates = candidates[~candidates["pos_t"].isin(mutual["pos_t"]) & ~candidates["pos_r"].isin(mutual["pos_r"])]
    chosen = pd.concat(chosen) if chosen else candidates
    return _pair_frame(chosen["pos_t"], chosen["pos_r"])


def _duplicates_by_doc(r_left: pd.DataFrame, pairs: pd.DataFrame, t: pd.DataFrame, r: pd.DataFrame) -> pd.DataFrame:
    """Leftover receipts bearing the document number of a paired transfer or of its receipt."""
    docs = pd.concat([
        pairs.merge(t[["pos", "county_code", "doc"]], left_on="t", right_on="pos"),
        pairs.merge(r[["pos", "county_code", "doc"]], left_on="r", right_on="pos"),
    ])[["county_code", "doc", "t"]]
    docs = docs[docs["doc"] != ""].drop_duplicates(["county_code", "doc"])
    found = r_left[r_left["doc"] != ""].merge(docs, on=["county_code", "doc"])
    return _pair_frame(found["t"], found["pos"])


def _duplicates_by_amount(r_left: pd.DataFrame, pairs: pd.DataFrame, t: pd.DataFrame, window: pd.Timedelta) -> pd.DataFrame:
    """Leftover receipts of the amount of a paired transfer and within the window of its date."""
    paired_t = t[t["pos"].isin(pairs["t"])][["pos", "county_code", "amount", "date"]]
    found = r_left[["pos", "county_code", "amount", "date"]].merge(paired_t, on=["county_code", "amount"], suffixes=("_r", "_t"))
    found["gap"] = (found["date_r"] - found["date_t"]).abs()
    found = found[found["gap"] <= window].sort_values(["gap", "pos_t"]).drop_duplicates("pos_r")
    return _pair_frame(found["pos_t"], found["pos_r"])


def _pair_frame(t: pd.Series, r: pd.Series) -> pd.DataFrame:
    return pd.DataFrame({"t": t.to_numpy(dtype="int64"), "r": r.to_numpy(dtype="int64")})


def _prefixed(side: pd.DataFrame, prefix: str) -> pd.DataFrame:
    out = side.rename(columns={"doc": "doc_no"}).astype({"amount": "Int64", "row": "Int64", "pos": "Int64"})
    out["doc_no"] = out["doc_no"].where(out["doc_no"] != "", None)
    return out.add_prefix(f"{prefix}_")


# --- findings ---------------------------------------------------------------------------------


class _Found(NamedTuple):
    """Findings of one code, with the output rows (``ref`` keys of ``table``) whose lineage they inherit."""

    rows: pd.DataFrame
    table: str
    measures: list[str]


def _found(rows, code, severity, subject_type, subject, figure, message, table, measures, stake) -> list[_Found]:
    """``stake``: the money at stake per finding, in 分 (what did not arrive, was not spent, differs…)."""
    frame = pd.DataFrame({
        "code": code, "severity": severity, "subject_type": subject_type, "subject": subject.to_numpy(),
        "figure": figure.to_numpy(), "message": message.to_numpy(), "ref": rows["key"].to_numpy(),
        "stake_fen": stake.to_numpy(dtype="int64"),
    })
    return [_Found(frame, table, measures)] if len(frame) else []


def _findings(settings, evaluation, edges, *, by_source, by_subproject, cells, matching, plan_detail, discrepancies):
    """Conditions from the data, each a finding with a Chinese sentence; never blocking, never clipped."""
    detail, detail_edges = plan_detail
    found = (
        _level_findings(settings, by_source, by_subproject)
        + _cell_findings(cells, evaluation)
        + _county_findings(matching, detail, evaluation)
        + _transfer_findings(discrepancies, evaluation)
    )
    table = findings_table.frame(
        pd.concat([f.rows for f in found], ignore_index=True).drop(columns="ref").to_dict("records") if found else []
    )
    pool = {**edges, "county_subproject": detail_edges}
    links = []
    for f in found:  # one pass per finding code, not per finding
        ids = f.rows.merge(table[["finding_id", "code", "subject"]], on=["code", "subject"])[["ref", "finding_id"]]
        behind = pool[f.table]
        behind = behind[behind["output_key"].isin(set(ids["ref"])) & behind["measure"].isin(f.measures)]
        linked = behind.astype({"output_key": str}).merge(ids, left_on="output_key", right_on="ref")
        links.append(_edges("findings", pd.Categorical(linked["finding_id"]), linked))
    return table, _concat_edges(links)


def _level_findings(settings, by_source: pd.DataFrame, by_subproject: pd.DataFrame) -> list[_Found]:
    wan = fen_to_wan_series
    denominator = settings["execution_denominator"]
    den_label = "计划" if denominator == "planned" else "到位"
    arrival_min, execution_min = settings["arrival_rate_threshold"], settings["execution_rate_threshold"]

    low = by_source[_below(by_source["received"], by_source["planned"], Fraction(str(arrival_min)))]
    found = _found(
        low, "low_arrival", "medium", "source", low["key"], low["arrival_rate"],
        low["source_label"] + "计划 " + wan(low["planned"]) + " 万元，实际到位 " + wan(low["received"]) + " 万元，到位率 "
        + low["arrival_rate"] + f"%，低于 {arrival_min}% 的阈值。", "by_source", ["planned", "received"],
        low["planned"] - low["received"])
    back = by_source[by_source["recovered"] != 0]
    found += _found(
        back, "funds_recovered", "medium", "source", back["key"], wan(back["recovered"]),
        back["source_label"] + "未使用部分被收回 " + wan(back["recovered"]) + " 万元。", "by_source", ["recovered"],
        back["recovered"])

    named = by_subproject["subproject_name"] != ""
    subproject_label = "子项目 " + by_subproject["subproject_code"] + ("（" + by_subproject["subproject_name"] + "）").where(named, "")
    for level, t, label in (("source", by_source, by_source["source_label"]), ("subproject", by_subproject, subproject_label)):
        t = t.assign(label=label, den=t[denominator])  # at these levels available = received
        table = f"by_{level}"
        low = t[_below(t["spent"], t["den"], Fraction(str(execution_min)))]
        found += _found(
            low, f"low_execution_{level}", "medium", level, low["key"], low["execution_rate"],
            low["label"] + "预算执行率 " + low["execution_rate"] + "%（支出 " + wan(low["spent"]) + f" 万元 / {den_label} "
            + wan(low["den"]) + f" 万元），低于 {execution_min}% 的阈值。", table, ["spent", denominator],
            low["den"] - low["spent"])
        over = t[(t["planned"] > 0) & (t["received"] > t["planned"])]
        found += _found(
            over, f"arrival_over_100_{level}", "medium", level, over["key"], over["arrival_rate"],
            over["label"] + "到位率 " + over["arrival_rate"] + "%：实际到位 " + wan(over["received"]) + " 万元超过计划 "
            + wan(over["planned"]) + " 万元。", table, ["planned", "received"], over["received"] - over["planned"])
        over = t[(t["den"] > 0) & (t["spent"] > t["den"])]
        found += _found(
            over, f"execution_over_100_{level}", "medium", level, over["key"], over["execution_rate"],
            over["label"] + "预算执行率 " + over["execution_rate"] + "%：支出 " + wan(over["spent"]) + f" 万元超过{den_label}资金 "
            + wan(over["den"]) + " 万元。", table, ["spent", denominator], over["spent"] - over["den"])

    p = by_subproject.assign(label=subproject_label, gap=by_subproject["planned"] - by_subproject["allocation"])
    p = p[p["gap"] != 0]
    found += _found(
        p, "allocation_differs", "medium", "subproject", p["key"], wan(p["gap"]),
        p["label"] + "登记资金额 " + wan(p["allocation"]) + " 万元，资金计划合计 " + wan(p["planned"]) + " 万元，相差 "
        + wan(p["gap"]) + " 万元。", "by_subproject", ["allocation", "planned"], p["gap"].abs())
    return found


def _cell_findings(cells: pd.DataFrame, evaluation: Evaluation) -> list[_Found]:
    wan = fen_to_wan_series
    c = cells[cells["balance"] < 0]
    source = c["source_code"].map(evaluation.sources).fillna(c["source_code"])
    return _found(
        c, "negative_balance", "high", "cell", c["key"], wan(c["balance"]),
        "子项目 " + c["subproject_code"] + " " + source + " " + _county_names(c["county_code"], evaluation)
        + "：结余为负 " + wan(c["balance"]) + " 万元（到位 " + wan(c["received"]) + " + 下拨转入 " + wan(c["transfers_in"])
        + " − 下拨转出 " + wan(c["transfers_out"]) + " − 支出 " + wan(c["spent"]) + " − 结转 " + wan(c["carried_forward"])
        + " − 收回 " + wan(c["recovered"]) + "），支出超过可用资金。", "cells", MEASURES + TRANSFER_MEASURES, -c["balance"])


def _county_findings(matching: pd.DataFrame, detail: pd.DataFrame, evaluation: Evaluation) -> list[_Found]:
    wan = fen_to_wan_series
    m = matching[matching["shortfall"] > 0]
    found = _found(
        m, "county_matching_short", "medium", "county", m["key"], wan(m["shortfall"]),
        m["county_name"] + "配套资金计划 " + wan(m["planned"]) + " 万元，实际到位 " + wan(m["received"]) + " 万元，缺口 "
        + wan(m["shortfall"]) + " 万元。", "matching", ["planned", "received"], m["shortfall"])
    d = detail[detail["planned"] != detail["stated_plan"]]
    found += _found(
        d, "county_plan_differs", "medium", "county_subproject", d["key"], wan(d["stated_plan"] - d["planned"]),
        _county_names(d["county_code"], evaluation) + "报送的子项目 " + d["subproject_code"] + " 配套计划 "
        + wan(d["stated_plan"]) + " 万元，与资金计划 " + wan(d["planned"]) + " 万元不一致。",
        "county_subproject", ["planned", "stated_plan"], (d["stated_plan"] - d["planned"]).abs())
    return found


def _transfer_findings(discrepancies: pd.DataFrame, evaluation: Evaluation) -> list[_Found]:
    wan = fen_to_wan_series
    x = discrepancies.fillna({"transfer_id": "", "receipt_id": ""})
    county = _county_names(x["county_code"], evaluation)
    t_amount, r_amount = wan(x["transfer_amount"].fillna(0)), wan(x["receipt_amount"].fillna(0))
    t_date, r_date = x["transfer_date"].dt.strftime("%Y-%m-%d"), x["receipt_date"].dt.strftime("%Y-%m-%d")
    stake = {"amount_differs": x["difference"].fillna(0).abs(), "duplicate_receipt": x["receipt_amount"].fillna(0),
             "unmatched_transfer": x["transfer_amount"].fillna(0), "unmatched_receipt": x["receipt_amount"].fillna(0)}
    kinds = {  # discrepancy type → (severity, figure, message)
        "amount_differs": ("high", wan(x["difference"].fillna(0)), "市级下拨 " + x["transfer_id"] + " 金额 " + t_amount
                           + " 万元，" + county + "到位记录 " + x["receipt_id"] + " 金额 " + r_amount + " 万元，不一致。"),
        "duplicate_receipt": ("high", r_amount, county + "将市级下拨 " + x["transfer_id"] + "（" + t_amount
                              + " 万元）重复登记为到位记录 " + x["receipt_id"] + "。"),
        "unmatched_transfer": ("high", t_amount, "市级下拨 " + x["transfer_id"] + "（" + county + "，" + t_amount + " 万元，"
                               + t_date + "）在旗县区到位记录中未找到。"),
        "unmatched_receipt": ("medium", r_amount, county + "到位记录 " + x["receipt_id"] + "（市级下拨，" + r_amount + " 万元，"
                              + r_date + "）没有对应的市级下拨记录。"),
    }
    found = []
    for kind in DISCREPANCY_TYPES:
        severity, figure, message = kinds[kind]
        is_kind = x["discrepancy_type"] == kind
        found += _found(x[is_kind], kind, severity, "transfer", x.loc[is_kind, "key"], figure[is_kind], message[is_kind],
                        "transfer_discrepancies", ["transfer_amount", "receipt_amount"], stake[kind][is_kind])
    return found


def _below(numerator: pd.Series, denominator: pd.Series, threshold: Fraction) -> pd.Series:
    """numerator / denominator × 100 < threshold, exactly; False where the denominator is not positive."""
    n = numerator.to_numpy(dtype=object)
    d = denominator.to_numpy(dtype=object)
    defined = denominator.to_numpy() > 0
    return pd.Series(defined & (n * 100 * threshold.denominator < threshold.numerator * d), index=numerator.index, dtype=bool)


# --- summary ----------------------------------------------------------------------------------


def _money_block(sums: pd.Series, rates: dict[str, Optional[Fraction]]) -> dict[str, Any]:
    return {**{m: fen_to_wan(sums[m]) for m in MEASURES}, **{k: percent(v) for k, v in rates.items()}}


def _keyed_blocks(level: pd.DataFrame, code: str) -> dict[str, dict[str, Any]]:
    return {
        row[code]: {**{m: fen_to_wan(row[m]) for m in MEASURES},
                    "arrival_rate": row["arrival_rate"], "execution_rate": row["execution_rate"]}
        for _, row in level.iterrows()  # one row per source or group, never per movement
    }


def _coverage(
    tables: Mapping[str, pd.DataFrame], facts: pd.DataFrame, registry: pd.DataFrame, by_subproject: pd.DataFrame
) -> dict[str, Any]:
    """Sub-projects with any fund plan or movement rows, and their share of the registry's allocations."""
    receipts = _table(tables, "county_receipts")  # a receipt from the city is a movement too
    seen = set(facts["subproject_code"].unique()) | set(receipts["subproject_code"].astype(str))
    total = set(by_subproject["subproject_code"])
    budget = registry.groupby("subproject_code")["allocation_fen"].sum()
    return {
        "projects_evaluated": len(seen & total),
        "projects_total": len(total),
        "budget_share": percent(rate(budget[budget.index.isin(seen)].sum(), budget.sum())),
    }
