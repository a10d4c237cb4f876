"""The one job: evaluate an evaluation (a partition) end to end."""

import dagster as dg

from pipeline.defs.partitions import evaluations

evaluate_job = dg.define_asset_job(
    "evaluate", selection=dg.AssetSelection.all(), partitions_def=evaluations,
    description="Materialise every asset of one evaluation: ingest → reconciliation → scoring → report.",
)
