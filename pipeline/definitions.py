"""The code location: every asset, check, resource, schedule and sensor, assembled (nothing defined here)."""

import dagster as dg

from pipeline.defs.assets.ingest import validated_submissions
from pipeline.defs.assets.raw import raw_submissions
from pipeline.defs.assets.reconciliation import fund_reconciliation
from pipeline.defs.assets.scoring import indicator_scoring
from pipeline.defs.assets.summary import evaluation_summary
from pipeline.defs.io_manager import EvaluationIOManager
from pipeline.defs.jobs import evaluate_job
from pipeline.defs.resources import PipelinePaths
from pipeline.defs.schedules import nightly_evaluations
from pipeline.defs.sensors import raw_submissions_sensor, run_failure_alert

paths = PipelinePaths()

defs = dg.Definitions(
    assets=[raw_submissions, validated_submissions, fund_reconciliation, indicator_scoring, evaluation_summary],
    jobs=[evaluate_job],
    schedules=[nightly_evaluations],
    sensors=[raw_submissions_sensor, run_failure_alert],
    resources={"paths": paths, "io_manager": EvaluationIOManager(paths=paths)},
    # One process: DuckDB allows a single writer per database file.
    executor=dg.in_process_executor,
)
