"""The nightly schedule and the sensors, evaluated directly (no daemon) over a copy of raw/ in a temp folder."""

from __future__ import annotations

import json
import logging
import shutil
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import dagster as dg
import pytest

from pipeline.defs.partitions import evaluations
from pipeline.defs.resources import PipelinePaths
from pipeline.defs.schedules import nightly_evaluations
from pipeline.defs.sensors import raw_submissions_sensor, run_failure_alert, write_alert
from pipeline.fingerprint import evaluation_fingerprint
from tests.conftest import HOHHOT, RAW

OTHER = "2024-hohhot-pes"  # a second evaluation folder: the Hohhot submissions again, under another id
PAYMENTS = Path("bureau/finance/payments.csv")


def resubmit_payments(folder: Path) -> None:
    """The finance section sends payments.csv again with one amount corrected (480.00 → 470.00 万元)."""
    path = folder / PAYMENTS
    text = path.read_text(encoding="utf-8")
    assert text.count(",480.00,") == 1
    path.write_text(text.replace(",480.00,", ",470.00,"), encoding="utf-8")


@pytest.fixture
def instance(tmp_path):
    # Persistent (SQLite in a temp folder): schedule contexts refuse an ephemeral instance.
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as inst:
        yield inst


@pytest.fixture
def paths(tmp_path) -> PipelinePaths:
    raw = tmp_path / "raw"
    shutil.copytree(RAW / HOHHOT, raw / HOHHOT)
    return PipelinePaths(raw_root=str(raw), out_root=str(tmp_path / "out"))


def tick(instance: dg.DagsterInstance, paths: PipelinePaths, cursor: str | None):
    """One sensor evaluation, applied as the daemon would: partitions registered. Returns (result, new cursor)."""
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"paths": paths}) as context:
        result = raw_submissions_sensor(context)
    if isinstance(result, dg.SensorResult):
        for request in result.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result, context.cursor


def requested(result) -> list[str]:
    return [r.partition_key for r in result.run_requests]


def test_first_sensor_tick_registers_and_runs_every_evaluation(instance, paths):
    shutil.copytree(RAW / HOHHOT, Path(paths.raw_root) / OTHER)
    result, cursor = tick(instance, paths, None)
    assert requested(result) == [HOHHOT, OTHER]
    assert sorted(instance.get_dynamic_partitions(evaluations.name)) == [HOHHOT, OTHER]
    fingerprint = evaluation_fingerprint(RAW / HOHHOT)
    assert json.loads(cursor) == {HOHHOT: fingerprint, OTHER: fingerprint}
    assert [r.run_key for r in result.run_requests] == [f"{HOHHOT}:->{fingerprint[:16]}", f"{OTHER}:->{fingerprint[:16]}"]


def test_changed_submission_runs_exactly_its_evaluation(instance, paths):
    other = Path(paths.raw_root) / OTHER
    shutil.copytree(RAW / HOHHOT, other)
    _, cursor = tick(instance, paths, None)
    resubmit_payments(other)

    result, new_cursor = tick(instance, paths, cursor)
    [request] = result.run_requests
    assert request.partition_key == OTHER
    assert request.tags == {"evaluation": OTHER}
    assert request.run_key == f"{OTHER}:{json.loads(cursor)[OTHER][:16]}->{evaluation_fingerprint(other)[:16]}"
    assert not result.dynamic_partitions_requests
    assert json.loads(new_cursor) == {HOHHOT: json.loads(cursor)[HOHHOT], OTHER: evaluation_fingerprint(other)}


def test_unchanged_raw_folder_gives_no_run(instance, paths):
    _, cursor = tick(instance, paths, None)
    result, new_cursor = tick(instance, paths, cursor)
    assert isinstance(result, dg.SkipReason)
    assert result.skip_message == "no new or changed submissions"
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
    from pipeline.runner import materialize_evaluation

    def nightly():
        with dg.build_schedule_context(instance=instance, resources={"paths": paths}) as context:
            return nightly_evaluations(context)

    outcome = materialize_evaluation(HOHHOT, raw_root=paths.raw_root, out_root=paths.out_root, dagster_instance=instance)
    assert outcome.success, (outcome.failed_checks, outcome.failed_steps)

    skipped = nightly()
    assert isinstance(skipped, dg.SkipReason)
    assert skipped.skip_message == "no evaluation changed since its last run"

    hohhot = Path(paths.raw_root) / HOHHOT
    resubmit_payments(hohhot)
    [request] = nightly()
    assert request.partition_key == HOHHOT
    assert request.run_key.startswith(f"nightly:{HOHHOT}:{evaluation_fingerprint(hohhot)[:16]}:")

    # A folder that appeared since is registered and requested; Hohhot stays requested until it is rerun.
    shutil.copytree(RAW / HOHHOT, Path(paths.raw_root) / OTHER)
    assert [r.partition_key for r in nightly()] == [HOHHOT, OTHER]
    assert sorted(instance.get_dynamic_partitions(evaluations.name)) == [HOHHOT, OTHER]


class _Webhook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):  # keep pytest output clean
        pass


def test_run_failure_alert_writes_log_line_file_and_webhook(tmp_path, monkeypatch, caplog):
    server = HTTPServer(("127.0.0.1", 0), _Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("PIPELINE_ALERT_WEBHOOK", f"http://127.0.0.1:{server.server_port}/alerts")
    _Webhook.received = []
    try:
        with caplog.at_level(logging.ERROR, logger="pipeline.defs.sensors"):
            path = write_alert(tmp_path / "out", "run-123", "evaluate", "indicator_scoring 失败")
    finally:
        server.shutdown()
        server.server_close()

    payload = {"run_id": "run-123", "job": "evaluate", "message": "indicator_scoring 失败"}
    assert path == tmp_path / "out" / "alerts" / "run-failure-run-123.json"
    assert json.loads(path.read_text(encoding="utf-8")) == payload
    assert "indicator_scoring 失败" in path.read_text(encoding="utf-8")  # Chinese kept readable, not \u-escaped
    assert "pipeline run run-123 (evaluate) failed: indicator_scoring 失败" in caplog.text
    assert _Webhook.received == [payload]


def test_run_failure_sensor_alerts_under_the_configured_output_folder(instance, tmp_path, monkeypatch):
    @dg.op
    def fails():
        raise RuntimeError("boom")

    @dg.job
    def failing():
        fails()

    result = failing.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE]
    out = tmp_path / "configured-out"
    monkeypatch.chdir(tmp_path)  # a regression to a relative "out" would write here, not into the checkout
    with dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert", dagster_event=failure, dagster_instance=instance, dagster_run=run,
        resources={"paths": PipelinePaths(raw_root=str(RAW), out_root=str(out))},
    ).for_run_failure() as context:
        run_failure_alert(context)
    assert (out / "alerts" / f"run-failure-{result.run_id}.json").is_file()
