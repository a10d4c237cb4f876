"""Stage 3b — in-year monitoring (绩效运行监控): the money and indicators as of a folder's monitoring cut-off.

Every evaluation partition materialises these assets. A folder without ``monitoring: cutoff:`` gets
empty tables and a form asset that writes nothing, each with metadata saying so, and reads none of
the submission tables (they are the asset's dependencies, read in the step only for a cut-off); a
monitoring folder gets its execution and indicator lines, its 黄/红 findings and ``monitoring.xlsx`` +
``monitoring.html``.
"""

from pathlib import Path

import dagster as dg
import pandas as pd

from pipeline import outputs
from pipeline.defs.checks import schema_check_result, schema_check_spec
from pipeline.defs.io_manager import load
from pipeline.defs.metadata import table_metadata
from pipeline.defs.partitions import evaluations
from pipeline.defs.resources import PipelinePaths
from pipeline.files import atomic_write
from pipeline.monitoring import history as history_mod
from pipeline.monitoring.compute import monitor
from pipeline.monitoring.form import FORM_FILE, render_form
from pipeline.monitoring.page import PAGE_FILE, render_page
from pipeline.reconcile.facts import INPUT_KINDS
from pipeline.tables import empty

GROUP = "monitoring"
NOT_MONITORING = "本文件夹未声明 monitoring.cutoff，不是绩效运行监控：表为空，不生成监控表 / not a monitoring folder"

TABLES = {
    "monitoring_execution": "预算执行进度 — as of the cut-off, per programme, source, sub-project and county: 年度预算数, 1–N 月执行数, 执行率 against 序时进度, 全年预计执行数, deviation level 绿/黄/红.",
    "monitoring_indicators": "绩效目标实现进度 — each indicator of the 绩效监控表: completion to date against the annual target, projection for the year, likelihood, deviation cause and level.",
    "monitoring_excluded": "截止日后的资金行 — money rows dated after the monitoring cut-off: accepted, not counted in this cut-off, listed so rows read = accepted + quarantined stays visible.",
    "monitoring_findings": "监控预警发现 — the 黄 and 红 lines (with the money behind time progress) and files with rows after the cut-off.",
    "monitoring_lineage": "监控血缘 — edge table: execution line (level:key), indicator line and finding → the submission rows behind it.",
}
OUTPUT_NAMES = [*TABLES, "monitoring_summary", "monitoring_form"]
INPUTS = (*INPUT_KINDS, "indicator_monitoring")


@dg.multi_asset(
    outs={
        **{
            name: dg.AssetOut(description=desc, group_name=GROUP, metadata={"csv_export": name != "monitoring_lineage"})
            for name, desc in TABLES.items()
        },
        "monitoring_summary": dg.AssetOut(
            description="监控汇总 — the monitoring block of summary.json (cut-off, 序时进度, programme execution, lines by level).",
            group_name=GROUP,
        ),
    },
    # Dependencies, not inputs: a folder without a cut-off reads none of them (the national run's million rows).
    deps=[dg.AssetKey(k) for k in INPUTS],
    check_specs=[schema_check_spec(name) for name in TABLES],
    partitions_def=evaluations,
    can_subset=False,
)
def monitoring(context: dg.AssetExecutionContext, paths: PipelinePaths):
    """Execution progress against 序时进度 and indicator completion as of the monitoring cut-off; empty otherwise."""
    ev = paths.evaluation(context.partition_key)
    if ev.monitoring_cutoff is None:
        frames = {name: empty(name) for name in TABLES}
        summary: dict = {}
        note = {"monitoring": NOT_MONITORING}
    else:
        out_root, run_id = Path(paths.out_root), context.run.run_id
        m = monitor({name: load(out_root, context.partition_key, run_id, name) for name in INPUTS}, ev)
        frames = {
            "monitoring_execution": m.execution,
            "monitoring_indicators": m.indicators,
            "monitoring_excluded": m.excluded,
            "monitoring_findings": m.findings,
            "monitoring_lineage": m.lineage,
        }
        summary = {"monitoring": m.summary}
        note = {"cutoff": m.summary["cutoff"], "time_progress": m.summary["time_progress"]}
    for name, df in frames.items():
        yield dg.Output(df, output_name=name, metadata={**table_metadata(df, name), **note})
        yield schema_check_result(name, df)
    yield dg.Output(summary, output_name="monitoring_summary", metadata=note)


@dg.asset(partitions_def=evaluations, group_name=GROUP)
def monitoring_form(
    context: dg.AssetExecutionContext,
    paths: PipelinePaths,
    monitoring_execution: pd.DataFrame,
    monitoring_indicators: pd.DataFrame,
    monitoring_excluded: pd.DataFrame,
    monitoring_summary: dict,
    submission_inventory: pd.DataFrame,
) -> dg.MaterializeResult:
    """项目绩效运行监控表 — monitoring.xlsx (the bureau's roll-up: programme, sub-projects, counties) and
    monitoring.html (red and yellow lines first, execution against 序时进度 over the programme's cut-offs)."""
    ev = paths.evaluation(context.partition_key)
    if ev.monitoring_cutoff is None:
        return dg.MaterializeResult(metadata={"monitoring": NOT_MONITORING})
    block = monitoring_summary["monitoring"]
    points = history_mod.history(ev, Path(paths.raw_root), Path(paths.out_root), block)
    out = paths.run_dir(context.partition_key, context.run.run_id)
    atomic_write(out / FORM_FILE, render_form(ev, monitoring_execution, monitoring_indicators))
    rows = {c: int(submission_inventory[f"rows_{c}"].sum()) for c in ("read", "accepted", "quarantined")}
    page = render_page(ev, block, monitoring_execution, monitoring_indicators, monitoring_excluded, rows, points)
    atomic_write(out / PAGE_FILE, page)
    outputs.record(out, "monitoring_form", [FORM_FILE, PAGE_FILE])
    return dg.MaterializeResult(
        metadata={
            "cutoff": block["cutoff"],
            "form": dg.MetadataValue.path(str(paths.out_dir(ev.id) / FORM_FILE)),
            "page": dg.MetadataValue.path(str(paths.out_dir(ev.id) / PAGE_FILE)),
            "history": dg.MetadataValue.json(points),
        }
    )
