"""The nightly schedule and the sensors, evaluated directly (no daemon) over a copy of raw/ in a temp folder.

Runs the daemon would create from a request are recorded in the instance as it would record them (queued,
started), and a finished run is a real run that materialises ``run_manifest`` with the request's tags.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
import shutil
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.remote_origin import RegisteredCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin
from dagster._core.test_utils import create_run_for_test

from pipeline import alerts
from pipeline.defs.automation import CODE_TAG, CONTENT_TAG
from pipeline.defs.partitions import evaluations
from pipeline.defs.resources import PipelinePaths
from pipeline.defs.schedules import nightly_evaluations
from pipeline.defs.sensors import first_failure, raw_submissions_sensor, run_failure_alert
from pipeline.evaluation import EvaluationError
from pipeline.fingerprint import code_version, evaluation_fingerprint
from tests.support import HOHHOT, RAW

OTHER = "2024-hohhot-pes"  # a second evaluation folder: the Hohhot submissions again, under another id
PAYMENTS = Path("bureau/finance/payments.csv")
# A log line as the daemon prints it: time, zone, logger, level; what `grep ERROR` finds.
# Where a queued run says it comes from: the evaluate job of the workspace's code location.
EVALUATE_ORIGIN = RemoteJobOrigin(
    RemoteRepositoryOrigin(RegisteredCodeLocationOrigin("pes_evaluation"), "__repository__"), "evaluate"
)
ALERT_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} - dagster - ERROR - .*告警 / ALERT .*$", re.M)


def resubmit_payments(folder: Path, old: str = "480.00", new: str = "470.00") -> None:
    """The finance section sends payments.csv again with one amount corrected (480.00 → 470.00 万元)."""
    path = folder / PAYMENTS
    text = path.read_text(encoding="utf-8")
    assert text.count(f",{old},") == 1
    path.write_text(text.replace(f",{old},", f",{new},"), encoding="utf-8")


def break_metadata(folder: Path) -> None:
    """A clerk saves evaluation.yaml with a tab-indented line: not YAML any more."""
    path = folder / "evaluation.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n\tbroken: [\n", encoding="utf-8")


@pytest.fixture
def paths(tmp_path) -> PipelinePaths:
    raw = tmp_path / "raw"
    shutil.copytree(RAW / HOHHOT, raw / HOHHOT)
    return PipelinePaths(raw_root=str(raw), out_root=str(tmp_path / "out"))


def tick(instance: dg.DagsterInstance, paths: PipelinePaths, cursor: str | None):
    """One sensor evaluation, applied as the daemon would: partitions registered. Returns (result, new cursor)."""
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"paths": paths}) as context:
        result = raw_submissions_sensor(context)
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result, context.cursor


def nightly(instance: dg.DagsterInstance, paths: PipelinePaths):
    with dg.build_schedule_context(instance=instance, resources={"paths": paths}) as context:
        return nightly_evaluations(context)


def requested(result) -> list[str]:
    return [r.partition_key for r in (result.run_requests if isinstance(result, dg.SensorResult) else result)]


def skip_message(result) -> str:
    return (result.skip_reason if isinstance(result, dg.SensorResult) else result).skip_message


def submit(instance: dg.DagsterInstance, request: dg.RunRequest) -> dg.DagsterRun:
    """The run the daemon creates for a request, with the tags it adds (partition, run key), put in the queue."""
    tags = {**request.tags, "dagster/partition": request.partition_key, "dagster/run_key": request.run_key}
    run = create_run_for_test(instance, job_name="evaluate", tags=tags, remote_job_origin=EVALUATE_ORIGIN)
    advance(instance, run, dg.DagsterEventType.RUN_ENQUEUED)
    return run


def advance(instance: dg.DagsterInstance, run: dg.DagsterRun, event_type: dg.DagsterEventType) -> None:
    """Move the run on as the queue and the run worker would (queued, started), by its status event."""
    instance.run_storage.handle_run_event(run.run_id, dg.DagsterEvent(event_type.value, job_name="evaluate"))


@dg.asset(key="run_manifest", partitions_def=evaluations)
def manifest_stub(context):
    """Stands in for the real manifest: records the content and code the run was requested for."""
    tags = context.run.tags
    return dg.MaterializeResult(metadata={"input_fingerprint": tags[CONTENT_TAG], "code_version": tags[CODE_TAG]})


def finish(instance: dg.DagsterInstance, run: dg.DagsterRun) -> None:
    """The queued or started run completes: it materialises the summary for the content it was requested for."""
    instance.delete_run(run.run_id)
    tags = {k: v for k, v in run.tags.items() if not k.startswith("dagster/")}
    assert dg.materialize(
        [manifest_stub], instance=instance, partition_key=run.tags["dagster/partition"], tags=tags
    ).success


def test_first_sensor_tick_registers_and_runs_every_evaluation(instance, paths):
    shutil.copytree(RAW / HOHHOT, Path(paths.raw_root) / OTHER)
    result, cursor = tick(instance, paths, None)
    assert requested(result) == [HOHHOT, OTHER]
    assert sorted(instance.get_dynamic_partitions(evaluations.name)) == [HOHHOT, OTHER]
    fingerprint = evaluation_fingerprint(RAW / HOHHOT)
    assert json.loads(cursor) == {HOHHOT: fingerprint, OTHER: fingerprint}
    # <evaluation>:<content>:<code>:after:<the run whose outputs it replaces>, the same key the schedule would use.
    assert [r.run_key for r in result.run_requests] == [
        f"{e}:{fingerprint[:16]}:{code_version()}:after:none" for e in (HOHHOT, OTHER)
    ]
    assert result.run_requests[0].tags == {"evaluation": HOHHOT, CONTENT_TAG: fingerprint, CODE_TAG: code_version()}
    assert [r.run_key for r in nightly(instance, paths)] == [r.run_key for r in result.run_requests]


def test_changed_submission_runs_exactly_its_evaluation(instance, paths):
    other = Path(paths.raw_root) / OTHER
    shutil.copytree(RAW / HOHHOT, other)
    _, cursor = tick(instance, paths, None)
    resubmit_payments(other)

    result, new_cursor = tick(instance, paths, cursor)
    [request] = result.run_requests
    assert request.partition_key == OTHER
    assert request.tags["evaluation"] == OTHER
    assert request.run_key == f"{OTHER}:{evaluation_fingerprint(other)[:16]}:{code_version()}:after:none"
    assert not result.dynamic_partitions_requests
    assert json.loads(new_cursor) == {HOHHOT: json.loads(cursor)[HOHHOT], OTHER: evaluation_fingerprint(other)}


def test_unchanged_raw_folder_gives_no_run(instance, paths):
    _, cursor = tick(instance, paths, None)
    result, new_cursor = tick(instance, paths, cursor)
    assert not result.run_requests
    assert skip_message(result) == "no new or changed submissions"
    assert new_cursor == cursor


def test_new_evaluation_folder_is_registered_and_run_alone(instance, paths):
    _, cursor = tick(instance, paths, None)
    shutil.copytree(RAW / HOHHOT, Path(paths.raw_root) / OTHER)
    result, _ = tick(instance, paths, cursor)
    assert requested(result) == [OTHER]
    assert [list(r.partition_keys) for r in result.dynamic_partitions_requests] == [[OTHER]]


def test_schedule_is_nightly_at_two_in_shanghai():
    assert nightly_evaluations.cron_schedule == "0 2 * * *"
    assert nightly_evaluations.execution_timezone == "Asia/Shanghai"
    assert nightly_evaluations.job_name == "evaluate"


def test_schedule_runs_only_evaluations_changed_since_their_last_materialisation(instance, paths):
    from pipeline.materialize import materialize_evaluation

    outcome = materialize_evaluation(
        HOHHOT, raw_root=paths.raw_root, out_root=paths.out_root, dagster_instance=instance
    )
    assert outcome.success, (outcome.failed_checks, outcome.failed_steps)

    skipped = nightly(instance, paths)
    assert isinstance(skipped, dg.SkipReason)
    assert skipped.skip_message == "no evaluation changed since its last run"

    hohhot = Path(paths.raw_root) / HOHHOT
    resubmit_payments(hohhot)
    [request] = nightly(instance, paths)
    assert request.partition_key == HOHHOT
    [last_run] = instance.get_runs()
    content = evaluation_fingerprint(hohhot)[:16]
    assert request.run_key == f"{HOHHOT}:{content}:{code_version()}:after:{last_run.run_id[:8]}"

    # A folder that appeared since is registered and requested; Hohhot stays requested until it is rerun.
    shutil.copytree(RAW / HOHHOT, Path(paths.raw_root) / OTHER)
    assert [r.partition_key for r in nightly(instance, paths)] == [HOHHOT, OTHER]
    assert sorted(instance.get_dynamic_partitions(evaluations.name)) == [HOHHOT, OTHER]


def test_sensor_and_schedule_together_request_one_run_per_change(instance, paths):
    hohhot = Path(paths.raw_root) / HOHHOT
    runs = []

    # The sensor notices the folder first; its run waits in the queue, then starts.
    result, cursor = tick(instance, paths, None)
    [request] = result.run_requests
    runs.append(submit(instance, request))
    assert isinstance(nightly(instance, paths), dg.SkipReason)  # the schedule ticks while it is queued
    advance(instance, runs[-1], dg.DagsterEventType.RUN_START)
    assert isinstance(nightly(instance, paths), dg.SkipReason)  # … and while it runs
    finish(instance, runs[-1])
    assert isinstance(nightly(instance, paths), dg.SkipReason)  # … and after it finished
    result, cursor = tick(instance, paths, cursor)
    assert not result.run_requests

    # A resubmission: the sensor requests it, the schedule ticks while the run is in progress.
    resubmit_payments(hohhot)
    result, cursor = tick(instance, paths, cursor)
    [request] = result.run_requests
    runs.append(submit(instance, request))
    advance(instance, runs[-1], dg.DagsterEventType.RUN_START)
    skipped = nightly(instance, paths)
    assert skipped.skip_message == "no evaluation changed since its last run"
    finish(instance, runs[-1])

    # The other order: the schedule fires first, the sensor finds its run queued.
    resubmit_payments(hohhot, "470.00", "465.00")
    [request] = nightly(instance, paths)
    runs.append(submit(instance, request))
    result, cursor = tick(instance, paths, cursor)
    assert not result.run_requests
    assert skip_message(result) == "changed evaluations already requested"
    finish(instance, runs[-1])

    # Back to the earlier content: a new change, so a new run under a new key.
    resubmit_payments(hohhot, "465.00", "470.00")
    result, cursor = tick(instance, paths, cursor)
    [request] = result.run_requests
    assert request.tags[CONTENT_TAG] == runs[1].tags[CONTENT_TAG]
    assert request.run_key != runs[1].tags["dagster/run_key"]

    assert len({r.tags[CONTENT_TAG] for r in runs}) == len(runs) == 3  # one run per change, none twice


def test_a_broken_folder_is_skipped_and_alerted_while_the_other_runs_on_the_same_tick(instance, paths, capfd):
    raw = Path(paths.raw_root)
    shutil.copytree(RAW / HOHHOT, raw / OTHER)
    _, cursor = tick(instance, paths, None)
    break_metadata(raw / OTHER)
    resubmit_payments(raw / HOHHOT)

    result, cursor = tick(instance, paths, cursor)
    assert requested(result) == [HOHHOT]
    assert json.loads(cursor).keys() == {HOHHOT}
    alert = json.loads((Path(paths.out_root) / "alerts" / f"folder-error-{OTHER}.json").read_text(encoding="utf-8"))
    assert alert["kind"] == "folder-error" and alert["key"] == OTHER
    assert str(raw / OTHER) in alert["message"] and "evaluation.yaml" in alert["message"]
    assert alert["details"] == {"folder": str(raw / OTHER)}
    [line] = ALERT_LINE.findall(capfd.readouterr().err)
    assert f"folder-error {OTHER}" in line and str(raw / OTHER) in line

    # The schedule on the same folders: Hohhot requested, the broken folder named in nothing but its alert.
    assert requested(nightly(instance, paths)) == [HOHHOT]

    # The next tick logs it again but does not re-send: same cause, within the hour.
    tick(instance, paths, cursor)
    again = json.loads((Path(paths.out_root) / "alerts" / f"folder-error-{OTHER}.json").read_text(encoding="utf-8"))
    assert again["sent_at"] == alert["sent_at"] and again["occurrences"] == 3
    assert "already sent" in ALERT_LINE.findall(capfd.readouterr().err)[0]

    # Repaired: the alert is resolved and the folder runs again.
    shutil.rmtree(raw / OTHER)
    shutil.copytree(RAW / HOHHOT, raw / OTHER)
    result, _ = tick(instance, paths, cursor)
    assert OTHER in requested(result)
    fixed = json.loads((Path(paths.out_root) / "alerts" / f"folder-error-{OTHER}.json").read_text(encoding="utf-8"))
    assert fixed["resolved_at"]


def test_a_failing_tick_alerts_and_still_fails(instance, paths, capfd):
    gone = PipelinePaths(raw_root=str(Path(paths.raw_root) / "missing"), out_root=paths.out_root)
    with pytest.raises(EvaluationError, match="原始数据目录不存在"):
        tick(instance, gone, None)
    with pytest.raises(EvaluationError):
        nightly(instance, gone)
    alerts_dir = Path(paths.out_root) / "alerts"
    assert sorted(p.name for p in alerts_dir.iterdir()) == [
        "tick-failure-nightly_evaluations.json",
        "tick-failure-raw_submissions_sensor.json",
    ]
    sensor_alert = json.loads((alerts_dir / "tick-failure-raw_submissions_sensor.json").read_text(encoding="utf-8"))
    assert sensor_alert["message"].startswith("raw_submissions_sensor 本次执行失败 / tick failed: EvaluationError: ")
    assert len(ALERT_LINE.findall(capfd.readouterr().err)) == 2

    tick(instance, paths, None)  # the raw root is back: the next tick succeeds and clears the alert
    resolved = json.loads((alerts_dir / "tick-failure-raw_submissions_sensor.json").read_text(encoding="utf-8"))
    assert resolved["resolved_at"]


class _Webhook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture
def webhook(monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), _Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("PIPELINE_ALERT_WEBHOOK", f"http://127.0.0.1:{server.server_port}/alerts")
    _Webhook.received = []
    yield _Webhook.received
    server.shutdown()
    server.server_close()


def test_an_alert_is_sent_once_per_cause_and_again_after_the_repeat_interval(tmp_path, webhook, monkeypatch, caplog):
    log = logging.getLogger("test.alerts")
    t0 = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)
    alert = alerts.Alert(
        "run-failure",
        HOHHOT,
        "评价 2023-hohhot-pes 运行失败：indicator_scoring 失败",
        details={"run_id": "run-123"},
        content="abc",
    )
    with caplog.at_level(logging.INFO, logger="test.alerts"):
        assert alerts.raise_alert(tmp_path, alert, log, now=t0)
        assert not alerts.raise_alert(tmp_path, alert, log, now=t0 + dt.timedelta(minutes=59))
        assert alerts.raise_alert(tmp_path, alert, log, now=t0 + dt.timedelta(minutes=61))
        changed = dataclasses.replace(alert, message="评价 2023-hohhot-pes 运行失败：lineage 失败")
        assert alerts.raise_alert(tmp_path, changed, log, now=t0 + dt.timedelta(minutes=62))
        monkeypatch.setenv("PIPELINE_ALERT_REPEAT_SECONDS", "0")  # every occurrence is sent
        assert alerts.raise_alert(tmp_path, changed, log, now=t0 + dt.timedelta(minutes=62))

    path = tmp_path / "alerts" / f"run-failure-{HOHHOT}.json"
    state = json.loads(path.read_text(encoding="utf-8"))
    assert "lineage 失败" in path.read_text(encoding="utf-8")  # Chinese kept readable, not \u-escaped
    assert state["occurrences"] == 2 and state["first_seen_at"] == "2026-11-30T02:02:00+00:00"
    assert [r.levelname for r in caplog.records] == ["ERROR"] * 5
    assert [w["message"] for w in webhook] == [alert.message] * 2 + [changed.message] * 2
    assert webhook[0] == {
        "kind": "run-failure",
        "key": HOHHOT,
        "message": alert.message,
        "details": {"run_id": "run-123"},
        "first_seen_at": t0.isoformat(),
        "occurrences": 1,
    }


def test_an_unreachable_webhook_is_logged_and_retried_not_raised(tmp_path, monkeypatch, caplog):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("PIPELINE_ALERT_WEBHOOK", f"http://127.0.0.1:{port}/alerts")
    alert = alerts.Alert("folder-error", OTHER, "评价目录无法读取")
    log = logging.getLogger("test.alerts")
    with caplog.at_level(logging.ERROR, logger="test.alerts"):
        assert alerts.raise_alert(tmp_path, alert, log)
        assert alerts.raise_alert(tmp_path, alert, log)  # not delivered, so not quiet: tried again
    state = json.loads((tmp_path / "alerts" / f"folder-error-{OTHER}.json").read_text(encoding="utf-8"))
    assert state["delivered"] is False and "URLError" in state["webhook_error"]
    assert sum("alert webhook failed" in r.getMessage() for r in caplog.records) == 2


def test_run_failure_alert_names_the_evaluation_the_failed_step_and_its_error(
    instance, tmp_path, monkeypatch, webhook, capfd
):
    @dg.asset(partitions_def=evaluations)
    def validated_submissions():
        raise ValueError("payments.csv 第 3 行金额不是数字 / amount is not a number")

    instance.add_dynamic_partitions(evaluations.name, [HOHHOT])
    result = dg.materialize(
        [validated_submissions],
        instance=instance,
        partition_key=HOHHOT,
        raise_on_error=False,
        tags={CONTENT_TAG: "c0ffee"},
    )
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE]
    out = tmp_path / "configured-out"
    monkeypatch.chdir(tmp_path)  # a regression to a relative "out" would write here, not into the checkout
    with dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert",
        dagster_event=failure,
        dagster_instance=instance,
        dagster_run=run,
        resources={"paths": PipelinePaths(raw_root=str(RAW), out_root=str(out))},
    ).for_run_failure() as context:
        run_failure_alert(context)

    alert = json.loads((out / "alerts" / f"run-failure-{HOHHOT}.json").read_text(encoding="utf-8"))
    assert alert["message"] == (
        f"评价 {HOHHOT} 运行失败 / run failed，步骤 validated_submissions / step "
        "validated_submissions：ValueError: payments.csv 第 3 行金额不是数字 / amount is not a number"
    )
    assert alert["details"] == {
        "run_id": result.run_id,
        "job": run.job_name,
        "evaluation": HOHHOT,
        "step": "validated_submissions",
    }
    assert alert["content"] == "c0ffee"
    assert [w["message"] for w in webhook] == [alert["message"]]
    [line] = ALERT_LINE.findall(capfd.readouterr().err)
    assert "第 3 行金额不是数字" in line and HOHHOT in line


def test_the_cause_is_found_under_dagsters_wrappers(instance):
    class UnwritableOutput(dg.ConfigurableIOManager):
        def handle_output(self, context, obj):
            raise OSError('Could not read from file "pipeline.duckdb": Is a directory')

        def load_input(self, context):
            raise NotImplementedError

    @dg.asset(io_manager_key="duckdb")
    def subprojects():
        return 1

    result = dg.materialize(
        [subprojects], instance=instance, resources={"duckdb": UnwritableOutput()}, raise_on_error=False
    )
    assert first_failure(instance, result.run_id) == (
        "subprojects",
        'OSError: Could not read from file "pipeline.duckdb": Is a directory',
    )
