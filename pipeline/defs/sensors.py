"""Sensors: new or changed submissions start a run for that evaluation; failed runs raise an alert."""

import json
from pathlib import Path

import dagster as dg

from pipeline import evaluation
from pipeline.alerts import RUN_FAILURE, Alert, raise_alert
from pipeline.defs.automation import CONTENT_TAG, PARTITION_TAG, alert_on_failure, run_request, scan, skip_reason
from pipeline.defs.jobs import evaluate_job
from pipeline.defs.partitions import EVALUATIONS, evaluations
from pipeline.defs.resources import PipelinePaths
from pipeline.fingerprint import evaluation_fingerprint


def changed_evaluations(
    found: list[evaluation.Evaluation], cursor: dict[str, str]
) -> tuple[dict[str, str], list[evaluation.Evaluation]]:
    """(new cursor: content hash by evaluation, the evaluations whose hash changed or that are new)."""
    current = {ev.id: evaluation_fingerprint(ev.folder) for ev in found}
    return current, [ev for ev in found if cursor.get(ev.id) != current[ev.id]]


@dg.sensor(
    job=evaluate_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Notices a new or changed submission (content-hash cursor) and runs only that evaluation.",
)
def raw_submissions_sensor(context: dg.SensorEvaluationContext, paths: PipelinePaths):
    with alert_on_failure(context, paths, "raw_submissions_sensor"):
        cursor = json.loads(context.cursor) if context.cursor else {}
        found, skipped = scan(context, paths)
        current, changed = changed_evaluations(found, cursor)
        known = set(context.instance.get_dynamic_partitions(EVALUATIONS))
        to_add = [e for e in current if e not in known]
        # A skipped folder leaves the cursor too, so once repaired it counts as changed.
        context.update_cursor(json.dumps(current, sort_keys=True))
        requests = [r for ev in changed if (r := run_request(context.instance, ev))]
        partitions = [evaluations.build_add_request(to_add)] if to_add else []
        if not requests:
            reason = "no new or changed submissions" if not changed else "changed evaluations already requested"
            return dg.SensorResult(skip_reason=skip_reason(reason, skipped), dynamic_partitions_requests=partitions)
        return dg.SensorResult(run_requests=requests, dynamic_partitions_requests=partitions)


def first_failure(instance: dg.DagsterInstance, run_id: str) -> tuple[str, str] | None:
    """(step key, error message) of the run's first failed step, from its event log; None if no step failed."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_FAILURE, limit=1).records
    if not records:
        return None
    event = records[0].event_log_entry.dagster_event
    assert event is not None and event.step_key is not None  # a step-failure record holds its step's event
    error = event.step_failure_data.error
    # Dagster wraps what a step, an input or an output raised (DagsterExecution…Error); the cause is what happened.
    while error is not None and (error.cls_name or "").startswith("Dagster") and error.cause is not None:
        error = error.cause
    return event.step_key, (error.message.strip() if error else "step failed")


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Writes an alert (log line, file under the output folder, optional webhook) "
    "naming the evaluation, the first failed step and its error.",
)
def run_failure_alert(context: dg.RunFailureSensorContext, paths: PipelinePaths):
    run = context.dagster_run
    evaluation_id = run.tags.get(PARTITION_TAG)
    failed = first_failure(context.instance, run.run_id)
    step, cause = failed or ("", context.failure_event.message or "run failed")
    subject = f"评价 {evaluation_id} 运行失败" if evaluation_id else f"运行 {run.run_id} 失败"
    message = f"{subject} / run failed" + (f"，步骤 {step} / step {step}" if step else "") + f"：{cause}"
    raise_alert(
        Path(paths.out_root),
        Alert(
            RUN_FAILURE,
            evaluation_id or run.run_id,
            message,
            details={"run_id": run.run_id, "job": run.job_name, "evaluation": evaluation_id, "step": step},
            content=run.tags.get(CONTENT_TAG, ""),
        ),
        context.log,
    )


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=15,
    description="Publishes the output set of a successful run that materialised only some assets "
    "(a materialisation from the UI): the rest of the set is carried over from the "
    "previous one, then DuckDB, the CSVs and the manifest are rebuilt.",
)
def publish_partial_runs(context: dg.RunStatusSensorContext, paths: PipelinePaths):
    from pipeline import outputs

    run = context.dagster_run
    evaluation_id = run.tags.get(PARTITION_TAG)
    out_root = Path(paths.out_root)
    folder = outputs.sets_dir(out_root, evaluation_id or "") / run.run_id
    if not evaluation_id or not folder.is_dir() or outputs.published(out_root, evaluation_id) == folder.resolve():
        return dg.SkipReason("nothing to publish: the run published its own set (run_manifest) or wrote none")
    current = outputs.published(out_root, evaluation_id)
    if current is not None:
        newer = context.instance.get_run_record_by_id(current.name)
        mine = context.instance.get_run_record_by_id(run.run_id)
        if newer is not None and mine is not None and (newer.start_time or 0) > (mine.start_time or 0):
            return dg.SkipReason(f"a later run ({current.name}) already published {evaluation_id}")
    try:
        published = outputs.finalize(out_root, paths.evaluation(evaluation_id), run.run_id)
    except outputs.OutputLocked as exc:
        return dg.SkipReason(str(exc))
    context.log.info("published %s for %s from run %s", published, evaluation_id, run.run_id)
    return None


portfolio_refresh = dg.AutomationConditionSensorDefinition(
    "portfolio_refresh",
    target=dg.AssetSelection.assets("portfolio"),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Refreshes the portfolio (OUT/portfolio/) once an evaluation has published new outputs "
    "(its automation condition: pipeline/defs/assets/portfolio.py).",
)
