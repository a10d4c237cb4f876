"""The code location: every asset, check, resource, schedule and sensor, assembled (nothing defined here)."""

import dagster as dg

from pipeline.defs.assets import ingest, raw, reconciliation, report, scoring
from pipeline.defs.io_manager import EvaluationIOManager
from pipeline.defs.jobs import evaluate_job
from pipeline.defs.resources import PipelinePaths
from pipeline.defs.schedules import nightly_evaluations
from pipeline.defs.sensors import publish_partial_runs, raw_submissions_sensor, run_failure_alert

paths = PipelinePaths()

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([raw, ingest, reconciliation, scoring, report]),
    jobs=[evaluate_job],
    schedules=[nightly_evaluations],
    sensors=[raw_submissions_sensor, run_failure_alert, publish_partial_runs],
    resources={"paths": paths, "io_manager": EvaluationIOManager(paths=paths)},
    # One process: DuckDB allows a single writer per database file.
    executor=dg.in_process_executor,
)
