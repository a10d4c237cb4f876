"""Stage 4 — scored tables → findings, lineage, data quality, the report, summary.json, the manifest."""

import json
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow.parquet as pq

from pipeline import findings as findings_mod
from pipeline import lineage as lineage_mod
from pipeline import manifest as manifest_mod
from pipeline import outputs, progress, store
from pipeline.defs.assets import ingest as ingest_assets
from pipeline.defs.assets import monitoring as monitoring_assets
from pipeline.defs.assets import reconcile as reconcile_assets
from pipeline.defs.assets import scoring as scoring_assets
from pipeline.defs.checks import schema_check_result, schema_check_spec
from pipeline.defs.io_manager import TEXT_AS_CATEGORY, load, stored
from pipeline.defs.metadata import table_metadata
from pipeline.defs.partitions import evaluations
from pipeline.defs.quality import (
    RESULT_TABLES,
    RUN_AFTER_READY_STEPS,
    SUBMISSION_TABLES,
    run_suites,
    sidecar_serves,
    submission_tables,
    wait_for_docs,
    will_run_here,
)
from pipeline.defs.resources import PipelinePaths
from pipeline.files import atomic_write
from pipeline.monitoring import NOT_GRADED
from pipeline.report import Layout, start, write_all
from pipeline.report.gather import gather
from pipeline.report.problems import finding_cells
from pipeline.summary import SUMMARY_FILE, dump, ingest_block, write_quarantine_by_submitter

GROUP = "report"
log = logging.getLogger(__name__)
# Below data_quality's −1 (RUN_AFTER_READY_STEPS): report_layout, which needs data_quality, runs first.
AFTER_REPORT_LAYOUT = {"dagster/priority": "-2"}


@dg.asset(partitions_def=evaluations, group_name=GROUP, check_specs=[schema_check_spec("findings")])
def findings(
    context: dg.AssetExecutionContext,
    paths: PipelinePaths,
    ingest_findings: pd.DataFrame,
    reconciliation_findings: pd.DataFrame,
    scoring_findings: pd.DataFrame,
    monitoring_findings: pd.DataFrame,
    funds_by_source: pd.DataFrame,
    indicator_scores: pd.DataFrame,
):
    """问题发现 — every finding of every stage, one row each: code, subject, what is at stake, the rule that raised it,
    and its severity under the evaluation's declared severity rules."""
    ev = paths.evaluation(context.partition_key)
    if ev.monitoring_cutoff is None and will_run_here(context, "report_layout", "evaluation_report"):
        # The stages' lineage is stored (this step follows every stage): the report's query of it runs beside this step.
        _begin_finding_cells(paths, context.partition_key, context.run.run_id)
    primary = indicator_scores[indicator_scores["framework"] == ev.primary_framework]
    df = findings_mod.assess(
        findings_mod.concat(ingest_findings, reconciliation_findings, scoring_findings, monitoring_findings),
        ev.settings,
        int(funds_by_source["planned"].sum()),
        dict(zip(primary["code"], primary["points"], strict=True)),
    )
    counts = {str(k): int(n) for k, n in df["code"].value_counts().sort_index().items()}
    by_severity = {str(k): int(n) for k, n in df["severity"].value_counts().sort_index().items()}
    yield dg.Output(
        df,
        metadata={
            **table_metadata(df, "findings"),
            "by_code": dg.MetadataValue.json(counts),
            "by_severity": dg.MetadataValue.json(by_severity),
        },
    )
    yield schema_check_result("findings", df)


@dg.asset(
    partitions_def=evaluations,
    group_name=GROUP,
    check_specs=[schema_check_spec("lineage")],
    # After report_layout has handed the report's PDF over: built on this core while the PDF is laid out on the other.
    op_tags=AFTER_REPORT_LAYOUT,
    # The stages' edge tables arrive as categoricals, which unify takes without turning a cell into a Python string.
    ins={
        name: dg.AssetIn(name, metadata={TEXT_AS_CATEGORY: True})
        for name in ("funds_lineage", "scoring_lineage", "monitoring_lineage")
    },
)
def lineage(
    context: dg.AssetExecutionContext,
    paths: PipelinePaths,
    funds_lineage: pd.DataFrame,
    scoring_lineage: pd.DataFrame,
    monitoring_lineage: pd.DataFrame,
    submission_inventory: pd.DataFrame,
):
    """血缘 — the edge table: every output row (reconciliation, indicator scores, monitoring lines, findings) → the raw
    rows behind it."""
    edges = lineage_mod.unify(funds_lineage, scoring_lineage, submission_inventory, monitoring_lineage)
    out = paths.run_dir(context.partition_key, context.run.run_id)
    tmp = out / ".lineage.parquet.tmp"
    edges.to_parquet(tmp, index=False)
    tmp.replace(out / "lineage.parquet")
    outputs.record(out, "lineage", ["lineage.parquet"])
    yield dg.Output(
        edges,
        metadata={
            **table_metadata(edges, "lineage"),
            "parquet": dg.MetadataValue.path(str(out / "lineage.parquet")),
            "dagster/column_lineage": dg.TableColumnLineage(
                deps_by_column={
                    "file": [dg.TableColumnDep(asset_key=dg.AssetKey("submission_inventory"), column_name="file")],
                    "sha256": [dg.TableColumnDep(asset_key=dg.AssetKey("submission_inventory"), column_name="sha256")],
                }
            ),
        },
    )
    yield schema_check_result("lineage", edges)


@dg.asset(partitions_def=evaluations, group_name=GROUP)
def evaluation_figures(
    context: dg.AssetExecutionContext,
    submission_inventory: pd.DataFrame,
    missing_submissions: pd.DataFrame,
    reconciliation_summary: dict,
    scoring_summary: dict,
    monitoring_summary: dict,
) -> dict:
    """评价数据汇总 — every figure of summary.json except the artifacts: rows, files, funds, coverage, score,
    indicators (an evaluation), or the monitoring block (a monitoring cut-off)."""
    figures = ingest_block(context.partition_key, submission_inventory, missing_submissions)
    figures.update({k: v for k, v in reconciliation_summary.items() if k != "rates"})
    figures.update(scoring_summary)
    figures.update(monitoring_summary)
    return figures


@dg.asset(
    partitions_def=evaluations,
    group_name=GROUP,
    # After every other step that is ready: meanwhile the sidecar finishes the suites handed to it early.
    op_tags=RUN_AFTER_READY_STEPS,
    ins={t: dg.AssetIn(t) for t in [*RESULT_TABLES, "ingest_checks", "reconciliation_checks"]},
    # Submission tables are read here only when GX checks them again (settings.expectations_max_submission_rows).
    deps=[dg.AssetKey(t) for t in SUBMISSION_TABLES],
    check_specs=[
        dg.AssetCheckSpec(
            f"expectations_{t}", asset="data_quality", blocking=True, description=f"Great Expectations suite on {t}."
        )
        for t in SUBMISSION_TABLES + RESULT_TABLES
    ]
    + [schema_check_spec("data_quality")],
)
def data_quality(context: dg.AssetExecutionContext, paths: PipelinePaths, **tables: pd.DataFrame):
    """数据质量 — every check's outcome (contracts, rows accounted, reconciliation identities, GX suites) for the report appendix.

    The Great Expectations suites run here (GX 1.x called directly); their Data Docs are written to
    ``OUT/<evaluation_id>/data_docs/``. A failing suite on a fund or score table blocks the report;
    on a submission table it warns, since the pandera contract already blocks there. A submission
    table is checked a second time only when ``settings.expectations_max_submission_rows`` asks for
    it (0, the default: none); otherwise its row takes the pandera contract's outcome, and says so.
    """
    from pipeline.quality.expectations import not_run_row, quality_rows

    ev = paths.evaluation(context.partition_key)
    out = paths.run_dir(context.partition_key, context.run.run_id)
    earlier = [tables.pop("ingest_checks"), tables.pop("reconciliation_checks")]
    contract = dict(zip(earlier[0]["check"], earlier[0]["passed"].astype(bool)))
    limit = ev.settings.expectations_max_submission_rows
    checked, not_checked = submission_tables(paths, ev, context.run.run_id)
    tables.update({t: store.read_table(path) for t, path in checked.items()})
    results = run_suites(context, tables, out, ev)  # in the sidecar, which has GX loaded and most suites run
    outputs.record(out, "data_quality", ["data_docs/"])
    by_table = {r.table: r for r in results}
    for t in SUBMISSION_TABLES + RESULT_TABLES:
        if t in not_checked:
            yield dg.AssetCheckResult(
                check_name=f"expectations_{t}",
                asset_key="data_quality",
                passed=bool(contract[f"{t}:contract"]),
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"not_run": not_run_row(t, not_checked[t], limit, True)["detail"], "rows": not_checked[t]},
            )
            continue
        r = by_table[t]
        yield dg.AssetCheckResult(
            check_name=f"expectations_{t}",
            asset_key="data_quality",
            passed=bool(r.success),
            severity=dg.AssetCheckSeverity.ERROR if t in RESULT_TABLES else dg.AssetCheckSeverity.WARN,
            metadata={
                "evaluated": r.statistics["evaluated"],
                "unsuccessful": r.statistics["unsuccessful"],
                "data_docs": dg.MetadataValue.path(str(out / r.docs_page)),
                "failures": dg.MetadataValue.json(r.to_dict()["failures"][:20]),
            },
        )
    gx_rows = quality_rows(results)
    skipped = pd.DataFrame(
        [not_run_row(t, n, limit, bool(contract[f"{t}:contract"])) for t, n in not_checked.items()],
        columns=gx_rows.columns,
    )
    # Submission tables first, in the contract's order, then the result tables (the order of the suites).
    order = {f"{t}:expectations": i for i, t in enumerate(SUBMISSION_TABLES)}
    suite_rows = pd.concat([gx_rows, skipped], ignore_index=True) if len(skipped) else gx_rows
    rank = suite_rows["check"].map(order).fillna(len(order))
    suite_rows = suite_rows.iloc[rank.reset_index(drop=True).sort_values(kind="stable").index]
    df = pd.concat([*earlier, suite_rows], ignore_index=True)
    yield dg.Output(
        df,
        metadata={
            **table_metadata(df, "data_quality"),
            "failed": int((~df["passed"]).sum()),
            "gx_not_run": dg.MetadataValue.json(not_checked),
            "data_docs": dg.MetadataValue.path(str(out / "data_docs" / "index.html")),
            # Suites the sidecar ran as their tables were stored, before this step (docs/architecture.md).
            "gx_suites_ran_ahead": sum(r.ran_ahead for r in results),
            "gx_suites": len(results),
        },
    )
    yield schema_check_result("data_quality", df)


# What the report is made of: report_layout receives them; evaluation_report reads them itself only when it
# lays the report out alone (no report_layout earlier in its run). The stages' lineage is read in DuckDB.
REPORT_INPUTS = (
    "evaluation_figures",
    "subproject_status",
    "dimension_scores",
    "indicator_scores",
    "findings",
    "quarantine",
    "submission_inventory",
    "data_quality",
    "funds_by_source",
    "funds_by_subproject",
    "funds_cells",
    "transfer_discrepancies",
    "county_matching",
)
STAGE_LINEAGE = ("funds_lineage", "scoring_lineage", "monitoring_lineage")
# Reports under way in this process, by (run, evaluation): report_layout began them, evaluation_report finishes them.
_layouts: dict[tuple[str, str], tuple[Layout, dict[str, pd.DataFrame]]] = {}
# The findings' cells (a DuckDB query over the stages' lineage, 0.3-0.45 s at national scale) by (run, evaluation):
# begun by ``findings`` on a thread of their own (DuckDB works without the GIL), taken by the report's layout, which
# would otherwise run the query just before handing the PDF over: the query is off the run's critical path.
_cells: dict[tuple[str, str], Future[pd.DataFrame]] = {}
_cells_pool = ThreadPoolExecutor(1, thread_name_prefix="pes-finding-cells")


def _lineage_paths(paths: PipelinePaths, evaluation_id: str, run_id: str) -> list[Path]:
    return [stored(Path(paths.out_root), evaluation_id, run_id, name) for name in STAGE_LINEAGE]


def _begin_finding_cells(paths: PipelinePaths, evaluation_id: str, run_id: str) -> None:
    key = (run_id, evaluation_id)
    if key not in _cells:
        _cells[key] = _cells_pool.submit(finding_cells, *_lineage_paths(paths, evaluation_id, run_id))


def _finding_cells(paths: PipelinePaths, evaluation_id: str, run_id: str) -> tuple[pd.DataFrame, str]:
    """The query ``findings`` began in this run, or the query now (none begun, or it failed: run again here);
    and which of the two (the step that began it)."""
    begun = _cells.pop((run_id, evaluation_id), None)
    if begun is not None:
        try:
            return begun.result(), "findings"
        except Exception:  # e.g. a lineage table replaced meanwhile: the query again, whose error is the step's
            log.warning("the findings' cells begun early failed; queried again", exc_info=True)
    return finding_cells(*_lineage_paths(paths, evaluation_id, run_id)), "here"


def _begin(
    paths: PipelinePaths, evaluation_id: str, run_id: str, values: dict
) -> tuple[Layout, dict[str, pd.DataFrame], str]:
    """The report begun (its PDF's layout handed to the sidecar), the extra tables its workbook carries, and the
    step whose query gave the findings' cells (``findings``, or ``here``)."""
    ev = paths.evaluation(evaluation_id)
    cells, cells_from = _finding_cells(paths, evaluation_id, run_id)
    inp = gather(
        ev,
        values["evaluation_figures"],
        values["subproject_status"],
        values["dimension_scores"],
        values["indicator_scores"],
        values["findings"],
        values["quarantine"],
        values["submission_inventory"],
        values["data_quality"],
        values["funds_by_subproject"],
        values["county_matching"],
        values["funds_cells"],
        cells,
    )
    extra = {
        "资金核对_来源": values["funds_by_source"],
        "资金核对_子项目": values["funds_by_subproject"],
        "下拨核对差异": values["transfer_discrepancies"],
        "配套资金": values["county_matching"],
    }
    return start(inp), extra, cells_from


@dg.asset(
    partitions_def=evaluations,
    group_name=GROUP,
    ins={name: dg.AssetIn(name) for name in REPORT_INPUTS},
    deps=[dg.AssetKey(name) for name in STAGE_LINEAGE],
)
def report_layout(context: dg.AssetExecutionContext, paths: PipelinePaths, **values) -> dg.MaterializeResult:
    """报告排版 — the report begun ahead of ``evaluation_report``, which writes it: the page handed over to the
    PDF's layout (WeasyPrint, in the sidecar process), the charts drawn and the DOCX drafted.

    The layout is the longest piece of a run's end (15 s at national scale): begun here, before ``lineage``,
    it runs on the other core while this process builds the lineage and the workbook. Nothing is written
    here. Nothing is begun for a monitoring cut-off, nor when nothing would lay the PDF out beside ``lineage``
    or collect it (no sidecar, no ``evaluation_report`` in this run, a step process of another executor):
    ``evaluation_report`` then lays the report out itself."""
    key = (context.run.run_id, context.partition_key)
    ev = paths.evaluation(context.partition_key)
    if ev.monitoring_cutoff is not None:
        return dg.MaterializeResult(metadata={"skipped": NOT_GRADED})
    if not sidecar_serves(context, "evaluation_report"):
        return dg.MaterializeResult(
            metadata={
                "skipped": "本次运行不提前排版 / nothing begun: no evaluation_report in this process, or no sidecar"
            }
        )
    layout, extra, cells_from = _begin(paths, context.partition_key, context.run.run_id, values)
    _layouts[key] = (layout, extra)
    return dg.MaterializeResult(
        metadata={
            "html_bytes": len(layout.html),
            "charts": len(layout.images),
            # "findings": the findings' cells were queried beside the findings step, off the run's critical path
            "finding_cells_from": cells_from,
        }
    )


@dg.asset(partitions_def=evaluations, group_name=GROUP, deps=[report_layout, lineage])
def evaluation_report(context: dg.AssetExecutionContext, paths: PipelinePaths) -> dict:
    """评价报告 — report.html, report.pdf, report.docx, their chart images, scored_tables.xlsx (and the
    项目支出绩效自评表 of a self-evaluation), byte-identical on rerun; none for a monitoring cut-off.

    Finishes the report ``report_layout`` began in this run; materialised without it (the report alone, after
    an edit to the narrative), it reads the report's inputs and lays the report out itself."""
    ev = paths.evaluation(context.partition_key)
    if ev.monitoring_cutoff is not None:
        context.add_output_metadata({"skipped": NOT_GRADED})
        return {}
    run_id = context.run.run_id
    begun = _layouts.pop((run_id, context.partition_key), None)
    laid_out_here = {}
    if begun is None:
        out_root = Path(paths.out_root)
        values = {name: load(out_root, context.partition_key, run_id, name) for name in REPORT_INPUTS}
        layout, extra, cells_from = _begin(paths, context.partition_key, run_id, values)
        laid_out_here = {"finding_cells_from": cells_from}
    else:
        layout, extra = begun
    # The lineage is the largest table of a run: the workbook carries it only while it fits.
    lineage_path = stored(Path(paths.out_root), context.partition_key, run_id, "lineage")
    if pq.read_metadata(lineage_path).num_rows < 200_000:
        extra = {**extra, "血缘": store.read_table(lineage_path)}
    out = paths.run_dir(context.partition_key, run_id)
    artifacts = write_all(layout, out, extra_tables=extra)
    outputs.record(out, "evaluation_report", [a["path"] for a in artifacts.values()])
    context.add_output_metadata(
        {
            "begun_in": "report_layout" if begun is not None else "evaluation_report",
            **laid_out_here,
            **{k: dg.MetadataValue.json(v) for k, v in artifacts.items()},
        }
    )
    return artifacts


@dg.asset(partitions_def=evaluations, group_name=GROUP)
def evaluation_summary(
    context: dg.AssetExecutionContext,
    paths: PipelinePaths,
    evaluation_figures: dict,
    evaluation_report: dict,
    quarantine: pd.DataFrame,
) -> dg.MaterializeResult:
    """summary.json — the evaluation's figures (rows, files, funds, score, artifacts) as strings, by dotted path."""
    out = paths.run_dir(context.partition_key, context.run.run_id)
    summary = {**evaluation_figures, "artifacts": evaluation_report}
    per_submitter = write_quarantine_by_submitter(out, quarantine)
    atomic_write(out / SUMMARY_FILE, dump(summary).encode())
    outputs.record(out, "evaluation_summary", [SUMMARY_FILE, *per_submitter])
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(out / SUMMARY_FILE)),
            "score": dg.MetadataValue.json(summary.get("score", {})),
            "quarantine_files": dg.MetadataValue.json(per_submitter),
        }
    )


# Every other asset of an evaluation: the manifest is written, and the set published, after all of them.
EVERY_ASSET = [
    *ingest_assets.OUTPUT_NAMES,
    *reconcile_assets.OUTPUT_NAMES,
    *scoring_assets.OUTPUT_NAMES,
    *monitoring_assets.OUTPUT_NAMES,
    "findings",
    "lineage",
    "evaluation_figures",
    "data_quality",
    "report_layout",
    "evaluation_report",
    "evaluation_summary",
]


@dg.asset(partitions_def=evaluations, group_name=GROUP, deps=[dg.AssetKey(name) for name in EVERY_ASSET])
def run_manifest(context: dg.AssetExecutionContext, paths: PipelinePaths) -> dg.MaterializeResult:
    """manifest.json — written last (input and output SHA-256s, configuration, code and package versions),
    then the run's output set is published as ``OUT/<evaluation_id>`` in one atomic step."""
    progress.current().step("run_manifest")
    ev = paths.evaluation(context.partition_key)
    # data_quality's Data Docs are written in the sidecar behind the report's PDF: waited for once the exports are.
    folder = outputs.finalize(Path(paths.out_root), ev, context.run.run_id, lambda: wait_for_docs(context))
    manifest = json.loads((folder / manifest_mod.MANIFEST).read_text(encoding="utf-8"))
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(paths.out_dir(ev.id) / manifest_mod.MANIFEST)),
            "output_set": dg.MetadataValue.path(str(folder)),
            "outputs_hashed": len(manifest["outputs"]),
            # What the outputs reflect: the automation compares these with the folder and the code of today.
            "input_fingerprint": manifest["input_fingerprint"],
            "code_version": manifest["code_version"],
        }
    )
