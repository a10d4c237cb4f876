"""The one job: evaluate an evaluation (a partition) end to end."""

import dagster as dg

# Every asset of an evaluation's partition: all but the portfolio, which is unpartitioned and runs on its own.
EVALUATION_ASSETS = dg.AssetSelection.all() - dg.AssetSelection.assets("portfolio")

evaluate_job = dg.define_asset_job(
    "evaluate",
    selection=EVALUATION_ASSETS,
    description="Materialise every asset of one evaluation: ingest → reconciliation → scoring → report.",
)
