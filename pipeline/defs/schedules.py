"""The nightly schedule: 02:00 Asia/Shanghai, only evaluations whose inputs or code changed."""

from pathlib import Path

import dagster as dg

from pipeline import evaluation
from pipeline.defs.jobs import evaluate_job
from pipeline.defs.partitions import evaluations
from pipeline.defs.resources import PipelinePaths
from pipeline.fingerprint import code_version, evaluation_fingerprint

SUMMARY_KEY = dg.AssetKey("evaluation_summary")


def last_versions(instance: dg.DagsterInstance, evaluation_id: str) -> tuple[str | None, str | None]:
    """(input fingerprint, code version) recorded by the last materialisation of the evaluation's summary."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=SUMMARY_KEY, asset_partitions=[evaluation_id]), limit=1).records
    if not records:
        return None, None
    meta = records[0].asset_materialization.metadata
    fp, cv = meta.get("input_fingerprint"), meta.get("code_version")
    return (fp.value if fp else None), (cv.value if cv else None)


@dg.schedule(job=evaluate_job, cron_schedule="0 2 * * *", execution_timezone="Asia/Shanghai",
             default_status=dg.DefaultScheduleStatus.STOPPED,
             description="Nightly at 02:00 (Asia/Shanghai): runs only evaluations whose inputs or code changed.")
def nightly_evaluations(context: dg.ScheduleEvaluationContext, paths: PipelinePaths):
    requests = []
    known = set(context.instance.get_dynamic_partitions(evaluations.name))
    for ev in evaluation.discover(Path(paths.raw_root)):
        fp, code = evaluation_fingerprint(ev.folder), code_version()
        if ev.id not in known:
            # Schedules cannot return partition requests; a folder that appeared since is registered here.
            context.instance.add_dynamic_partitions(evaluations.name, [ev.id])
        if last_versions(context.instance, ev.id) != (fp, code):
            requests.append(dg.RunRequest(partition_key=ev.id, run_key=f"nightly:{ev.id}:{fp[:16]}:{code}",
                                          tags={"evaluation": ev.id}))
    return requests or dg.SkipReason("no evaluation changed since its last run")
