"""The one job: evaluate an evaluation (a partition) end to end."""

import dagster as dg

evaluate_job = dg.define_asset_job(
    "evaluate",
    selection=dg.AssetSelection.all(),
    description="Materialise every asset of one evaluation: ingest → reconciliation → scoring → report.",
)
