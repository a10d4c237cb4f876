"""Sensors: new or changed submissions start a run for that evaluation; failed runs raise an alert."""

import json
from pathlib import Path

import dagster as dg

from pipeline import evaluation
from pipeline.alerts import RUN_FAILURE, Alert, raise_alert
from pipeline.defs.automation import CONTENT_TAG, PARTITION_TAG, alert_on_failure, run_request, scan, skip_reason
from pipeline.defs.jobs import evaluate_job
from pipeline.defs.partitions import evaluations
from pipeline.defs.resources import PipelinePaths
from pipeline.fingerprint import evaluation_fingerprint


def changed_evaluations(found: list[evaluation.Evaluation], cursor: dict[str, str]
                        ) -> tuple[dict[str, str], list[evaluation.Evaluation]]:
    """(new cursor: content hash by evaluation, the evaluations whose hash changed or that are new)."""
    current = {ev.id: evaluation_fingerprint(ev.folder) for ev in found}
    return current, [ev for ev in found if cursor.get(ev.id) != current[ev.id]]


@dg.sensor(job=evaluate_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED,
           description="Notices a new or changed submission (content-hash cursor) and runs only that evaluation.")
def raw_submissions_sensor(context: dg.SensorEvaluationContext, paths: PipelinePaths):
    with alert_on_failure(context, paths, "raw_submissions_sensor"):
        cursor = json.loads(context.cursor) if context.cursor else {}
        found, skipped = scan(context, paths)
        current, changed = changed_evaluations(found, cursor)
        known = set(context.instance.get_dynamic_partitions(evaluations.name))
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
    error = event.step_failure_data.error
    # Dagster wraps what a step, an input or an output raised (DagsterExecution…Error); the cause is what happened.
    while error is not None and error.cls_name.startswith("Dagster") and error.cause is not None:
        error = error.cause
    return event.step_key, (error.message.strip() if error else "step failed")


@dg.run_failure_sensor(default_status=dg.DefaultSensorStatus.RUNNING,
                       description="Writes an alert (log line, file under the output folder, optional webhook) "
                                   "naming the evaluation, the first failed step and its error.")
def run_failure_alert(context: dg.RunFailureSensorContext, paths: PipelinePaths):
    run = context.dagster_run
    evaluation_id = run.tags.get(PARTITION_TAG)
    failed = first_failure(context.instance, run.run_id)
    step, cause = failed or ("", context.failure_event.message or "run failed")
    subject = f"评价 {evaluation_id} 运行失败" if evaluation_id else f"运行 {run.run_id} 失败"
    message = f"{subject} / run failed" + (f"，步骤 {step} / step {step}" if step else "") + f"：{cause}"
    raise_alert(Path(paths.out_root),
                Alert(RUN_FAILURE, evaluation_id or run.run_id, message,
                      details={"run_id": run.run_id, "job": run.job_name, "evaluation": evaluation_id, "step": step},
                      content=run.tags.get(CONTENT_TAG, "")),
                context.log)
