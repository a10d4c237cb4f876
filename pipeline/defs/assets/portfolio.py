"""Across evaluations — the portfolio (组合视图): one unpartitioned asset downstream of every evaluation's partition."""

from pathlib import Path

import dagster as dg

from pipeline import portfolio as portfolio_mod
from pipeline.defs.metadata import PREVIEW_ROWS
from pipeline.defs.resources import PipelinePaths

GROUP = "portfolio"

# Refresh once an evaluation has published new outputs (its run_manifest materialised), after every run of the
# evaluations then in progress has ended: several evaluations finishing together give one refresh. Not eager():
# that waits while any partition is missing, and a folder that failed or never ran would block it for good.
REFRESH_CONDITION = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("an evaluation published new outputs")


@dg.asset(
    group_name=GROUP,
    # run_manifest is the step that publishes OUT/<evaluation_id>/ (summary.json with it): every partition.
    deps=[dg.AssetDep("run_manifest", partition_mapping=dg.AllPartitionMapping())],
    automation_condition=REFRESH_CONDITION,
)
def portfolio(context: dg.AssetExecutionContext, paths: PipelinePaths) -> dg.MaterializeResult:
    """组合视图 — every scored evaluation: programme, year, score, grade, arrival and execution rates, unmet and
    not-collected indicators, top problems, and the change since the programme's previous year (OUT/portfolio/)."""
    folder, table = portfolio_mod.refresh(Path(paths.raw_root), Path(paths.out_root), context.run.run_id)
    schema = dg.TableSchema(
        columns=[
            dg.TableColumn(name=c, type=str(table[c].dtype), description=f"{label} / {c}")
            for c, (label, _) in portfolio_mod.COLUMNS.items()
        ]
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": dg.MetadataValue.int(len(table)),
            "dagster/column_schema": schema,
            "preview": dg.MetadataValue.md(
                table.head(PREVIEW_ROWS).astype(str).to_markdown(index=False) if len(table) else "(empty)"
            ),
            "evaluations": dg.MetadataValue.json(table["evaluation_id"].tolist()),
            "path": dg.MetadataValue.path(str(Path(paths.out_root) / portfolio_mod.PORTFOLIO_ID)),
            "output_set": dg.MetadataValue.path(str(folder)),
        }
    )
