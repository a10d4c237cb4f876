"""The code location: every asset, check, resource, schedule and sensor, assembled (nothing defined here)."""

import dagster as dg

from pipeline.defs.assets.ingest import validated_submissions
from pipeline.defs.assets.summary import evaluation_summary
from pipeline.defs.io_manager import EvaluationIOManager
from pipeline.defs.resources import PipelinePaths

paths = PipelinePaths()

defs = dg.Definitions(
    assets=[validated_submissions, evaluation_summary],
    resources={"paths": paths, "io_manager": EvaluationIOManager(paths=paths)},
    # One process: DuckDB allows a single writer per database file.
    executor=dg.in_process_executor,
)
