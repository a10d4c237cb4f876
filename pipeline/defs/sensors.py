"""Sensors: new or changed submissions start a run for that evaluation; failed runs raise an alert."""

import json
import logging
import os
import urllib.request
from pathlib import Path

import dagster as dg

from pipeline import evaluation
from pipeline.defs.jobs import evaluate_job
from pipeline.defs.partitions import evaluations
from pipeline.defs.resources import PipelinePaths
from pipeline.fingerprint import evaluation_fingerprint

log = logging.getLogger(__name__)


def changed_evaluations(raw_root: Path, cursor: dict[str, str]) -> tuple[dict[str, str], list[str], list[str]]:
    """(new cursor, evaluations whose content hash changed, evaluations seen for the first time)."""
    current = {ev.id: evaluation_fingerprint(ev.folder) for ev in evaluation.discover(raw_root)}
    changed = sorted(e for e, h in current.items() if cursor.get(e) != h)
    new = sorted(e for e in current if e not in cursor)
    return current, changed, new


@dg.sensor(job=evaluate_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED,
           description="Notices a new or changed submission (content-hash cursor) and runs only that evaluation.")
def raw_submissions_sensor(context: dg.SensorEvaluationContext, paths: PipelinePaths):
    cursor = json.loads(context.cursor) if context.cursor else {}
    current, changed, _ = changed_evaluations(Path(paths.raw_root), cursor)
    known = set(context.instance.get_dynamic_partitions(evaluations.name))
    to_add = [e for e in current if e not in known]
    context.update_cursor(json.dumps(current, sort_keys=True))
    if not changed:
        return dg.SkipReason("no new or changed submissions")
    return dg.SensorResult(
        # The run key names the change (old → new content), so reverting a file to earlier content runs again.
        run_requests=[dg.RunRequest(partition_key=e, run_key=f"{e}:{cursor.get(e, '')[:16]}->{current[e][:16]}",
                                    tags={"evaluation": e}) for e in changed],
        dynamic_partitions_requests=[evaluations.build_add_request(to_add)] if to_add else [],
    )


def write_alert(out_root: Path, run_id: str, job_name: str, message: str) -> Path:
    """The alert as a log line and a JSON file under ``OUT/alerts/``; also POSTed to a webhook if configured."""
    log.error("pipeline run %s (%s) failed: %s", run_id, job_name, message)
    folder = out_root / "alerts"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"run-failure-{run_id}.json"
    payload = {"run_id": run_id, "job": job_name, "message": message}
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    webhook = os.environ.get("PIPELINE_ALERT_WEBHOOK")
    if webhook:
        req = urllib.request.Request(webhook, data=json.dumps(payload, ensure_ascii=False).encode(),
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).close()
    return path


@dg.run_failure_sensor(default_status=dg.DefaultSensorStatus.RUNNING,
                       description="Writes an alert (log line, file under the output folder, optional webhook) for a failed run.")
def run_failure_alert(context: dg.RunFailureSensorContext, paths: PipelinePaths):
    write_alert(Path(paths.out_root), context.dagster_run.run_id, context.dagster_run.job_name,
                context.failure_event.message or "run failed")


@dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, default_status=dg.DefaultSensorStatus.RUNNING,
                      minimum_interval_seconds=15,
                      description="Publishes the output set of a successful run that materialised only some assets "
                                  "(a materialisation from the UI): the rest of the set is carried over from the "
                                  "previous one, then DuckDB, the CSVs and the manifest are rebuilt.")
def publish_partial_runs(context: dg.RunStatusSensorContext, paths: PipelinePaths):
    from pipeline import outputs

    run = context.dagster_run
    evaluation_id = run.tags.get("dagster/partition")
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
