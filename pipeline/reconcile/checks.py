"""Identities that only a bug can break (levels agree, nothing dropped, transfers net to zero…): each a blocking asset check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pandas as pd

from pipeline.checks import Check
from pipeline.formats import fen_to_wan
from pipeline.reconcile.facts import MEASURE_OF_KIND, TRANSFER_MEASURES, input_table
from pipeline.tables import MEASURES

if TYPE_CHECKING:
    from pipeline.reconcile import Reconciliation


def _check(name: str, passed: bool, detail: str) -> Check:
    return Check("funds_by_source", name, passed, detail=detail)


def identity_checks(rec: Reconciliation, tables: Mapping[str, pd.DataFrame]) -> list[Check]:
    """Identities that only a bug can break; each becomes a blocking asset check."""
    t = {kind: input_table(tables, kind) for kind in [*MEASURE_OF_KIND, "county_receipts", "transfers"]}
    channel = t["county_receipts"]["channel"]
    own, city = t["county_receipts"][channel == "own"], t["county_receipts"][channel == "city"]
    transferred = t["transfers"]["amount_fen"].sum()
    inputs = pd.Series(
        {
            "planned": t["fund_plan"]["amount_fen"].sum(),
            "received": t["receipts"]["amount_fen"].sum() + own["amount_fen"].sum(),
            "spent": t["payments"]["amount_fen"].sum() + t["county_payments"]["amount_fen"].sum(),
            "carried_forward": t["carry_forwards"]["amount_fen"].sum(),
            "recovered": t["recoveries"]["amount_fen"].sum(),
            "transfers_in": transferred,
            "transfers_out": transferred,
        }
    )
    levels = {name: getattr(rec, name) for name in ("cells", "by_source", "by_subproject", "by_group", "by_county")}

    sums = pd.DataFrame({name: level[MEASURES].sum() for name, level in levels.items()})
    uneven = sums[sums.nunique(axis=1) > 1]
    checks = [
        _check(
            "levels_sum_to_same_totals",
            uneven.empty,
            _detail(sums["cells"])
            if uneven.empty
            else "; ".join(
                f"{m}: " + ", ".join(f"{name} {fen_to_wan(v)}" for name, v in row.items())
                for m, row in uneven.iterrows()
            ),
        )
    ]

    finest = rec.cells[MEASURES + TRANSFER_MEASURES].sum()
    off = [m for m in inputs.index if finest[m] != inputs[m]]
    checks.append(
        _check(
            "finest_grain_equals_inputs",
            not off,
            "; ".join(f"{m}: cells {fen_to_wan(finest[m])} ≠ inputs {fen_to_wan(inputs[m])}" for m in off)
            or _detail(finest),
        )
    )

    county = rec.by_county[TRANSFER_MEASURES].sum()
    checks.append(
        _check(
            "transfers_net_to_zero",
            bool(
                county["transfers_in"] == county["transfers_out"] == finest["transfers_in"] == finest["transfers_out"]
            ),
            f"transfers_in {fen_to_wan(county['transfers_in'])}, transfers_out {fen_to_wan(county['transfers_out'])}",
        )
    )

    wrong = []
    for name, level in levels.items():
        available = level["received"] + (
            level["transfers_in"] - level["transfers_out"] if "transfers_in" in level else 0
        )
        bad = level["balance"] != available - level["spent"] - level["carried_forward"] - level["recovered"]
        wrong += (name + " " + level.loc[bad, "key"]).tolist()
    checks.append(_check("balance_formula", not wrong, ", ".join(wrong[:20]) or "every row"))

    pairs = pd.concat([rec.transfer_matches, rec.transfer_discrepancies.rename(columns={"discrepancy_type": "status"})])
    pairs = pairs.drop_duplicates("key")
    booked_t = pairs.loc[pairs["status"] != "duplicate_receipt", "transfer_amount"].sum()
    booked_r = pairs["receipt_amount"].sum()
    receipts_once = not pairs.dropna(subset=["receipt_id"]).duplicated(["county_code", "receipt_id"]).any()
    checks.append(
        _check(
            "transfer_crosscheck_complete",
            bool(booked_t == transferred and booked_r == city["amount_fen"].sum() and receipts_once),
            f"transfers {fen_to_wan(booked_t)} of {fen_to_wan(transferred)}, city receipts {fen_to_wan(booked_r)} of "
            f"{fen_to_wan(city['amount_fen'].sum())}, each receipt once: {receipts_once}",
        )
    )

    legs = sum(len(t[kind]) for kind in MEASURE_OF_KIND) + len(own) + 2 * len(t["transfers"])  # a transfer has two legs
    cell_edges = rec.lineage[rec.lineage["output_table"] == "cells"]
    orphans = set(rec.cells["key"]) - set(cell_edges["output_key"])
    checks.append(
        _check(
            "lineage_complete",
            len(cell_edges) == legs and not orphans,
            f"{len(cell_edges)} of {legs} input legs linked to cells; cells without lineage: {len(orphans)}",
        )
    )
    return checks


def _detail(sums: pd.Series) -> str:
    return ", ".join(f"{m} {fen_to_wan(v)}" for m, v in sums.items())
