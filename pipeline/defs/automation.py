"""What the sensor and the schedule share: discovery that skips a broken folder alone, one run per content,
and an alert when a tick fails.

Both decide the same way whether an evaluation needs a run: compare the folder's content hash and the code
version with what the evaluation's outputs will reflect once the runs already requested have finished (the
newest queued or running run of that evaluation, else its last ``run_manifest`` materialisation). So
whichever of the two fires first requests the run, and the other finds it pending and requests nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from pipeline import evaluation
from pipeline.alerts import FOLDER_ERROR, TICK_FAILURE, Alert, raise_alert, resolve
from pipeline.defs.resources import PipelinePaths
from pipeline.fingerprint import code_version, evaluation_fingerprint

MANIFEST_KEY = dg.AssetKey("run_manifest")
# Run tags naming what a requested run evaluates, so a later tick can see it is already pending.
EVALUATION_TAG = "evaluation"
CONTENT_TAG = "pipeline/content"
CODE_TAG = "pipeline/code_version"
# Statuses of a run that has not written its outputs yet but will (a cancelling run will not).
PENDING_STATUSES = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]
PARTITION_TAG = "dagster/partition"


@dataclasses.dataclass(frozen=True)
class Version:
    """Input content hash and code version of an evaluation's outputs, and the run that wrote (or will write) them."""

    content: str | None
    code: str | None
    run_id: str = ""


def last_versions(instance: dg.DagsterInstance, evaluation_id: str) -> tuple[str | None, str | None]:
    """(input fingerprint, code version) recorded by the last materialisation of the evaluation's manifest."""
    version = _materialised(instance, evaluation_id)
    return version.content, version.code


def _materialised(instance: dg.DagsterInstance, evaluation_id: str) -> Version:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=MANIFEST_KEY, asset_partitions=[evaluation_id]), limit=1
    ).records
    if not records:
        return Version(None, None)
    materialization = records[0].asset_materialization
    assert materialization is not None  # a materialisation record holds its materialisation
    fp, cv = materialization.metadata.get("input_fingerprint"), materialization.metadata.get("code_version")
    return Version(
        fp.value if isinstance(fp, dg.TextMetadataValue) else None,
        cv.value if isinstance(cv, dg.TextMetadataValue) else None,
        records[0].run_id,
    )


def expected_version(instance: dg.DagsterInstance, evaluation_id: str) -> Version:
    """What the evaluation's outputs will reflect once the runs already requested finish.

    Runs of one evaluation queue one after another (the ``dagster/partition`` limit), so the newest pending
    run is the last to write; a run launched by hand carries no content tag and counts as unknown content.
    """
    pending = instance.get_runs(
        filters=dg.RunsFilter(tags={PARTITION_TAG: evaluation_id}, statuses=PENDING_STATUSES), limit=1
    )
    if pending:
        tags = pending[0].tags
        return Version(tags.get(CONTENT_TAG), tags.get(CODE_TAG), pending[0].run_id)
    return _materialised(instance, evaluation_id)


def run_request(instance: dg.DagsterInstance, ev: evaluation.Evaluation) -> dg.RunRequest | None:
    """A run of the evaluation if its content or code differs from what its outputs will reflect, else None.

    The run key names the evaluation, its content, the code and the run it follows, so the sensor and the
    schedule request the same key for the same change, and a return to earlier content is a new key.
    """
    content, code = evaluation_fingerprint(ev.folder), code_version()
    expected = expected_version(instance, ev.id)
    if (expected.content, expected.code) == (content, code):
        return None
    return dg.RunRequest(
        partition_key=ev.id,
        run_key=f"{ev.id}:{content[:16]}:{code}:after:{expected.run_id[:8] or 'none'}",
        tags={EVALUATION_TAG: ev.id, CONTENT_TAG: content, CODE_TAG: code},
    )


def scan(
    context: dg.SensorEvaluationContext | dg.ScheduleEvaluationContext, paths: PipelinePaths
) -> tuple[list[evaluation.Evaluation], list[evaluation.FolderError]]:
    """Every loadable evaluation, and the folders skipped this tick, each alerted with its reason."""
    out = Path(paths.out_root)
    found, errors = evaluation.scan(Path(paths.raw_root))
    for err in errors:
        raise_alert(
            out,
            Alert(
                FOLDER_ERROR,
                err.id,
                f"评价目录 {err.folder} 无法读取，本次跳过 / evaluation folder skipped: {err.message}",
                details={"folder": str(err.folder)},
                content=evaluation_fingerprint(err.folder),
            ),
            context.log,
        )
    for ev in found:
        resolve(out, FOLDER_ERROR, ev.id, context.log)
    return found, errors


def skip_reason(reason: str, skipped: list[evaluation.FolderError]) -> str:
    """A tick's skip message, naming the folders it skipped (their alerts say why)."""
    return reason + (f" ({len(skipped)} folder(s) skipped: {', '.join(e.id for e in skipped)})" if skipped else "")


@contextlib.contextmanager
def alert_on_failure(
    context: dg.SensorEvaluationContext | dg.ScheduleEvaluationContext, paths: PipelinePaths, name: str
) -> Iterator[None]:
    """Around a tick's body: a failure raises an alert and is re-raised, so the tick shows as failed."""
    out = Path(paths.out_root)
    try:
        yield
    except Exception as exc:
        raise_alert(
            out,
            Alert(TICK_FAILURE, name, f"{name} 本次执行失败 / tick failed: {type(exc).__name__}: {exc}"),
            context.log,
        )
        raise
    resolve(out, TICK_FAILURE, name, context.log)
