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
  not agree goes to the discrepancy table with both sides' source rows (see :mod:`pipeline.reconcile.transfers`).
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
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import pandas as pd

from pipeline.evaluation import Evaluation
from pipeline.formats import rate
from pipeline.reconcile.checks import identity_checks
from pipeline.reconcile.edges import DERIVED_LEVELS, concat_edges, derived_edges, edge_subset, level_edges
from pipeline.reconcile.facts import INPUT_KINDS, input_columns, input_facts, input_table, input_tables
from pipeline.reconcile.findings import reconciliation_findings
from pipeline.reconcile.levels import build_cells, build_levels, sort_by_orders, with_rates
from pipeline.reconcile.matching import county_matching
from pipeline.reconcile.summary import coverage, keyed_blocks, money_block
from pipeline.reconcile.transfers import transfer_pairs
from pipeline.tables import MEASURES

__all__ = [
    "INPUT_KINDS",
    "Reconciliation",
    "derived_edges",
    "identity_checks",
    "input_columns",
    "input_tables",
    "reconcile",
]


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
    rates: dict[str, Fraction | None]  # exact overall arrival_rate and execution_rate for scoring


def reconcile(tables: Mapping[str, pd.DataFrame], evaluation: Evaluation) -> Reconciliation:
    """Reconcile the validated tables of one evaluation (any kind may be missing or empty)."""
    tables = input_tables(tables)  # each kind put in shape once (a no-op for tables from input_tables)
    settings = evaluation.settings
    denominator = settings.execution_denominator
    registry = input_table(tables, "subprojects")
    facts = input_facts(tables, evaluation.city_code)
    cid, cells = build_cells(facts, registry)
    edges = level_edges(cid, cells, facts, registry)
    by_source, by_subproject, by_group, by_county, orders = build_levels(cells, registry, evaluation)
    cells = sort_by_orders(cells.drop(columns="group_code"), orders)
    cells, by_county = (with_rates(t, denominator, transfers=True) for t in (cells, by_county))
    by_source, by_subproject, by_group = (
        with_rates(t, denominator, transfers=False) for t in (by_source, by_subproject, by_group)
    )

    matching, edges["matching"], plan_detail = county_matching(tables, facts, evaluation)
    pairs, pair_edges = transfer_pairs(tables, evaluation, settings.transfer_match_window_days)
    transfer_matches = pairs[pairs["status"].isin(["matched", "amount_differs"])].reset_index(drop=True)
    transfer_discrepancies = (
        pairs[pairs["status"] != "matched"].rename(columns={"status": "discrepancy_type"}).reset_index(drop=True)
    )
    edges["transfer_matches"] = edge_subset(pair_edges, transfer_matches["key"], "transfer_matches")
    edges["transfer_discrepancies"] = edge_subset(pair_edges, transfer_discrepancies["key"], "transfer_discrepancies")

    findings, finding_edges = reconciliation_findings(
        settings,
        evaluation,
        edges,
        by_source=by_source,
        by_subproject=by_subproject,
        cells=cells,
        matching=matching,
        plan_detail=plan_detail,
        discrepancies=transfer_discrepancies,
    )
    totals = cells[MEASURES].sum()
    rates = {
        "arrival_rate": rate(totals["received"], totals["planned"]),
        "execution_rate": rate(totals["spent"], totals[denominator]),
    }
    summary = {
        "funds": {
            **money_block(totals, rates),
            "by_source": keyed_blocks(by_source, "source_code"),
            "by_group": keyed_blocks(by_group, "group_code"),
        },
        "coverage": coverage(tables, facts, registry, by_subproject),
    }
    return Reconciliation(
        cells=cells,
        by_source=by_source,
        by_subproject=by_subproject,
        by_group=by_group,
        by_county=by_county,
        # Coarser levels are sums of cells: their edges follow from the cells' codes (``derived_edges``),
        # so only the finest grain is stored — at national scale that is 1 edge per input row, not 5.
        lineage=concat_edges(
            [e for name, e in edges.items() if name not in DERIVED_LEVELS]
            + [edges["by_subproject"].pipe(lambda e: e[e["measure"] == "allocation"]), finding_edges]
        ),
        transfer_matches=transfer_matches,
        transfer_discrepancies=transfer_discrepancies,
        matching=matching,
        findings=findings,
        summary=summary,
        rates=rates,
    )
