"""Stage 3 — indicator actuals and the reconciliation's exact rates → indicator scores, dimensions, grade."""

import dagster as dg
import pandas as pd

from pipeline import archive, findings
from pipeline import edges as edge_frames
from pipeline.defs.checks import check_result, schema_check_result, schema_check_spec
from pipeline.defs.io_manager import TEXT_AS_CATEGORY
from pipeline.defs.metadata import table_metadata
from pipeline.defs.partitions import evaluations
from pipeline.defs.quality import SCORE_TABLES, advance_suites
from pipeline.defs.resources import PipelinePaths
from pipeline.monitoring import NOT_GRADED
from pipeline.scoring import score as scoring
from pipeline.scoring.stage import score_all, scoring_inputs
from pipeline.scoring.subprojects import subproject_status, subprojects_summary
from pipeline.tables import empty

GROUP = "scoring"

TABLES = {
    "indicator_scores": "绩效指标得分 — one row per 三级 indicator and framework: target, actual, completion rate, points, score, status (met / unmet / not_collected for output and outcome), deviation reason, target realism.",
    "dimension_scores": "一级指标得分 — each dimension's weight and score (the sum of its printed leaf scores), per framework.",
    "subproject_status": "子项目完成情况 — each sub-project's reported status (completed / delayed_or_paused / ongoing) checked against its dates and the cut-off.",
    "scoring_findings": "绩效问题发现 — indicators unmet, not collected, unrealistic targets, delayed sub-projects, county archive gaps.",
    "scoring_lineage": "得分血缘 — edge table: indicator / finding row → the submission rows (file, sheet, row) its actual came from.",
}


OUTPUT_NAMES = [*TABLES, "scoring_summary"]


@dg.multi_asset(
    outs={
        **{
            name: dg.AssetOut(description=desc, group_name=GROUP, metadata={"csv_export": name != "scoring_lineage"})
            for name, desc in TABLES.items()
        },
        "scoring_summary": dg.AssetOut(
            description="得分汇总 — the score, indicators and subprojects blocks of summary.json.", group_name=GROUP
        ),
    },
    ins={
        **{
            k: dg.AssetIn(k)
            for k in (
                "indicator_actuals",
                "grades",
                "survey",
                "subprojects",
                "county_archive",
                "reconciliation_summary",
            )
        },
        # A million rows at national scale and a few thousand distinct texts: as categoricals straight from
        # Parquet's dictionaries (no Python string per cell), which the scoring groups without hashing a string.
        "county_indicators": dg.AssetIn("county_indicators", metadata={TEXT_AS_CATEGORY: True}),
    },
    check_specs=[
        dg.AssetCheckSpec(
            "dimensions_add_up",
            asset="dimension_scores",
            blocking=True,
            description="Each dimension score is the sum of its printed leaf scores and the total the sum of the dimensions.",
        )
    ]
    + [schema_check_spec(name) for name in TABLES],
    partitions_def=evaluations,
    can_subset=False,
)
def indicator_scoring(
    context: dg.AssetExecutionContext,
    paths: PipelinePaths,
    indicator_actuals: pd.DataFrame,
    county_indicators: pd.DataFrame,
    grades: pd.DataFrame,
    survey: pd.DataFrame,
    subprojects: pd.DataFrame,
    county_archive: pd.DataFrame,
    reconciliation_summary: dict,
):
    """Score every indicator by its framework's method, sum into dimensions, a total and a grade."""
    ev = paths.evaluation(context.partition_key)
    if ev.monitoring_cutoff is not None:  # a partial year is not graded: empty tables, saying why
        skipped = {"skipped": dg.MetadataValue.text(NOT_GRADED)}
        for name in TABLES:
            df = empty(name)
            yield dg.Output(df, output_name=name, metadata={**table_metadata(df, name), **skipped})
            yield schema_check_result(name, df)
        yield dg.Output({}, output_name="scoring_summary", metadata=skipped)
        yield dg.AssetCheckResult(
            check_name="dimensions_add_up", asset_key="dimension_scores", passed=True, metadata=skipped
        )
        return
    tables = dict(
        indicator_actuals=indicator_actuals, county_indicators=county_indicators, grades=grades, survey=survey
    )
    results = score_all(ev, scoring_inputs(ev, tables, reconciliation_summary["rates"]))
    primary = results[ev.primary_framework]
    status, status_edges, status_findings = subproject_status(subprojects, ev.cutoff)
    archive_findings, archive_edges = archive.findings_and_edges(county_archive, ev)

    indicators = pd.concat([r.indicators for r in results.values()], ignore_index=True)
    dimensions = pd.concat([r.dimensions for r in results.values()], ignore_index=True)
    found = findings.concat(primary.findings, status_findings, archive_findings)
    lineage = edge_frames.concat([primary.edges, status_edges, archive_edges])
    summary = scoring.summary(primary, {n: r for n, r in results.items() if n != ev.primary_framework})
    summary["subprojects"] = subprojects_summary(status)

    tables = {
        "indicator_scores": indicators,
        "dimension_scores": dimensions,
        "subproject_status": status,
        "scoring_findings": found,
        "scoring_lineage": lineage,
    }
    extra = {"indicator_scores": {"total": primary.score_block()["total"], "grade": primary.grade}}
    for name, df in tables.items():
        yield dg.Output(df, output_name=name, metadata={**table_metadata(df, name), **extra.get(name, {})})
        yield schema_check_result(name, df)
        if name == SCORE_TABLES[-1]:  # stored: their GX suites can start in the sidecar
            advance_suites(context, paths, ev, SCORE_TABLES)
    yield dg.Output(summary, output_name="scoring_summary", metadata={"score": dg.MetadataValue.json(summary["score"])})
    yield check_result(scoring.dimensions_add_up(results))
