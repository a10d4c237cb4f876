"""The nightly schedule: 02:00 Asia/Shanghai, only evaluations whose inputs or code changed."""

import os

import dagster as dg

from pipeline.defs.automation import alert_on_failure, run_request, scan, skip_reason
from pipeline.defs.jobs import evaluate_job
from pipeline.defs.partitions import EVALUATIONS
from pipeline.defs.resources import PipelinePaths

# A trial on one machine may tick more often (e.g. "* * * * *"); the deployment's time is 02:00.
CRON = os.environ.get("PIPELINE_NIGHTLY_CRON", "0 2 * * *")


@dg.schedule(
    job=evaluate_job,
    cron_schedule=CRON,
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Nightly at 02:00 (Asia/Shanghai): runs only evaluations whose inputs or code changed.",
)
def nightly_evaluations(context: dg.ScheduleEvaluationContext, paths: PipelinePaths):
    with alert_on_failure(context, paths, "nightly_evaluations"):
        found, skipped = scan(context, paths)
        known = set(context.instance.get_dynamic_partitions(EVALUATIONS))
        new = [ev.id for ev in found if ev.id not in known]
        if new:
            # Schedules cannot return partition requests; a folder that appeared since is registered here.
            context.instance.add_dynamic_partitions(EVALUATIONS, new)
        requests = [r for ev in found if (r := run_request(context.instance, ev))]
        if requests:
            return requests
        return dg.SkipReason(skip_reason("no evaluation changed since its last run", skipped))
