"""Stage 2 — validated money tables → reconciliation at five levels, transfer cross-check, findings."""

import dagster as dg
import pandas as pd

from pipeline import reconcile
from pipeline.checks import rows
from pipeline.defs.checks import check_result, schema_check_result, schema_check_spec
from pipeline.defs.io_manager import COLUMNS
from pipeline.defs.metadata import table_metadata
from pipeline.defs.partitions import evaluations
from pipeline.defs.quality import FUND_TABLES, advance_suites
from pipeline.defs.resources import PipelinePaths

GROUP = "reconcile"

TABLES = {
    "funds_by_source": (
        "by_source",
        "资金到位与支出（按资金来源）— planned, received, spent, carried forward, recovered, balance and rates by funding source (分).",
    ),
    "funds_by_subproject": (
        "by_subproject",
        "资金核对（按子项目）— the five measures, balance and rates per sub-project (分).",
    ),
    "funds_by_group": (
        "by_group",
        "资金核对（按项目组）— the five measures, balance and rates per project group (分).",
    ),
    "funds_by_county": (
        "by_county",
        "资金核对（按旗县区，含市本级 150100）— measures, transfers in/out, balance and rates per county (分).",
    ),
    "funds_cells": (
        "cells",
        "资金核对（子项目 × 资金来源 × 旗县区）— the finest grain every other level sums from (分).",
    ),
    "funds_lineage": (
        "lineage",
        "资金核对血缘 — edge table at the finest grain (cells; coarser levels derive from it), transfers, matching and findings → input rows (kind, file, sheet, row).",
    ),
    "transfer_matches": (
        "transfer_matches",
        "下拨核对（已匹配）— city→county transfers paired with the county's receipt, by document number or amount and date.",
    ),
    "transfer_discrepancies": (
        "transfer_discrepancies",
        "下拨核对差异 — unmatched transfers or receipts, differing amounts, transfers booked twice, with both sides' source rows.",
    ),
    "county_matching": (
        "matching",
        "旗县区配套资金 — per county: matching funds planned (fund plan), stated by the county, received, and the shortfall.",
    ),
    "reconciliation_findings": (
        "findings",
        "资金问题发现 — low arrival or execution, recovered funds, negative balances, unmatched transfers, short matching funds.",
    ),
}
CHECKS = {
    "levels_sum_to_same_totals": "Every level (cells, source, sub-project, group, county) sums to the same five totals.",
    "finest_grain_equals_inputs": "The finest grain sums to the input rows' totals: nothing dropped, nothing counted twice.",
    "transfers_net_to_zero": "Transfers out of the city equal transfers into counties.",
    "balance_formula": "balance = received (+ transfers in − out) − spent − carried forward − recovered on every row.",
    "transfer_crosscheck_complete": "Every transfer and every county receipt from the city appears in the cross-check once.",
    "lineage_complete": "Every input money row is linked to the finest-grain row it feeds.",
}


OUTPUT_NAMES = [*TABLES, "reconciliation_checks", "reconciliation_summary"]


@dg.multi_asset(
    outs={
        **{
            name: dg.AssetOut(description=desc, group_name=GROUP, metadata={"csv_export": name != "funds_lineage"})
            for name, (_, desc) in TABLES.items()
        },
        "reconciliation_checks": dg.AssetOut(
            description="核对校验结果 — the identity checks (levels agree, nothing dropped, transfers net to zero…) as rows.",
            group_name=GROUP,
        ),
        "reconciliation_summary": dg.AssetOut(
            description="资金汇总 — the funds and coverage blocks of summary.json, and the exact overall rates for scoring.",
            group_name=GROUP,
        ),
    },
    # Each kind read in the reconciliation's columns only (a county kind's Parquet also holds its county_code):
    # the frames come in the shape ``reconcile.input_tables`` wants, not copied into it (a million rows).
    ins={k: dg.AssetIn(k, metadata={COLUMNS: reconcile.input_columns(k)}) for k in reconcile.INPUT_KINDS},
    check_specs=[
        dg.AssetCheckSpec(name, asset="funds_by_source", blocking=True, description=desc)
        for name, desc in CHECKS.items()
    ]
    + [schema_check_spec(name) for name in [*TABLES, "reconciliation_checks"]],
    partitions_def=evaluations,
    can_subset=False,
)
def fund_reconciliation(context: dg.AssetExecutionContext, paths: PipelinePaths, **tables: pd.DataFrame):
    """Reconcile planned, received (到位), spent, carried forward (结转) and recovered (收回) funds."""
    ev = paths.evaluation(context.partition_key)
    tables = reconcile.input_tables(tables)  # in shape once, for the reconciliation and its checks
    rec = reconcile.reconcile(tables, ev)
    for name, (attr, _) in TABLES.items():
        df = getattr(rec, attr)
        yield dg.Output(df, output_name=name, metadata=table_metadata(df, name))
        yield schema_check_result(name, df)
        if name == FUND_TABLES[-1]:  # stored: their GX suites can start in the sidecar
            advance_suites(context, paths, ev, FUND_TABLES)
    yield dg.Output(
        {**rec.summary, "rates": {k: (str(v) if v is not None else None) for k, v in rec.rates.items()}},
        output_name="reconciliation_summary",
        metadata={"funds": dg.MetadataValue.json(rec.summary.get("funds", {}))},
    )
    results = reconcile.identity_checks(rec, tables)
    assert {c.name for c in results} == set(CHECKS), "identity checks and their specs disagree"
    yield from (check_result(c) for c in results)
    checks_table = rows(results)
    yield dg.Output(
        checks_table,
        output_name="reconciliation_checks",
        metadata=table_metadata(checks_table, "reconciliation_checks"),
    )
    yield schema_check_result("reconciliation_checks", checks_table)
