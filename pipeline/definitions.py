"""The code location: every asset, check, resource, schedule and sensor, assembled (nothing defined here)."""

from types import ModuleType

import dagster as dg

from pipeline import codeversion
from pipeline.defs.assets import ingest, monitoring, portfolio, raw, reconcile, report, scoring
from pipeline.defs.io_manager import EvaluationIOManager
from pipeline.defs.jobs import evaluate_job
from pipeline.defs.resources import PipelinePaths
from pipeline.defs.schedules import nightly_evaluations
from pipeline.defs.sensors import portfolio_refresh, publish_partial_runs, raw_submissions_sensor, run_failure_alert

paths = PipelinePaths()


def versioned(module: ModuleType) -> list:
    """The module's assets, each with the code version of the module's import closure (see codeversion)."""
    version = codeversion.of_module(module.__name__)
    return [
        a.map_asset_specs(lambda spec: spec.replace_attributes(code_version=version))
        if isinstance(a, dg.AssetsDefinition) and a.is_materializable
        else a
        for a in dg.load_assets_from_modules([module])
    ]


defs = dg.Definitions(
    assets=[
        a for module in (raw, ingest, reconcile, scoring, monitoring, report, portfolio) for a in versioned(module)
    ],
    jobs=[evaluate_job],
    schedules=[nightly_evaluations],
    sensors=[raw_submissions_sensor, run_failure_alert, publish_partial_runs, portfolio_refresh],
    resources={"paths": paths, "io_manager": EvaluationIOManager(paths=paths)},
    # One process per run. The multiprocess executor was measured (docs/deployment.md, "Why one process per run"):
    # two steps of one run at once are two holders of the evaluation's output lock, and the second fails; one
    # step at a time, every step process imports Dagster, pandas and the code location again (67.7 s against
    # 22.2 s for Hohhot). A run uses a second core through its sidecar process instead (pipeline/sidecar.py).
    executor=dg.in_process_executor,
)
