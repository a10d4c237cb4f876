"""The warm run launcher (deploy/dagster.yaml's ``run_launcher``) under Dagster, with the real warm process.

A run launched the documented way (``dagster job launch``, which uses the instance's launcher) is
forked from the warm process and gives the same files as ``python -m pipeline run``; the warm process
is replaced when the code on disk changes, and a run it cannot take starts as a new process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
import yaml

from pipeline import launcher, zygote
from tests.support import HOHHOT, RAW, ROOT

DAGSTER = str(Path(sys.executable).parent / "dagster")


def _home(tmp_path, monkeypatch, **settings) -> Path:
    """A DAGSTER_HOME whose instance (SQLite) launches runs with deploy/dagster.yaml's launcher."""
    deploy = yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text(encoding="utf-8"))
    assert deploy["run_launcher"] == {"module": "pipeline.launcher", "class": "WarmRunLauncher"}
    home = tmp_path / "dagster_home"
    home.mkdir()
    config = {"run_launcher": deploy["run_launcher"], "telemetry": {"enabled": False}, **settings}
    (home / "dagster.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    for name, value in {
        "DAGSTER_HOME": str(home),
        "PIPELINE_RAW_ROOT": str(RAW),
        "PIPELINE_OUT_ROOT": str(tmp_path / "out"),
    }.items():
        monkeypatch.setenv(name, value)
    return home


@pytest.fixture
def daemon(tmp_path, monkeypatch):
    """The queue's daemon, as production runs it: it dequeues the runs and launches them."""
    _home(tmp_path, monkeypatch)
    log = (tmp_path / "daemon.log").open("wb")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", "workspace.yaml"],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield tmp_path / "daemon.log"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def _run(cmd: list[str]) -> str:
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def _finished(instance: dg.DagsterInstance, run_id: str, timeout: float = 300.0) -> dg.DagsterRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = instance.get_run_by_id(run_id)
        if run is not None and run.is_finished:
            return run
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} did not finish in {timeout:.0f} s")


def _gone(pid: int, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split(")")[-1][:3]:
            return True
        time.sleep(0.2)
    return False


def _queue_hohhot() -> None:
    """Queue one Hohhot run the documented way: its partition added, then `dagster job launch`."""
    _run([sys.executable, "-m", "pipeline", "partitions", "--raw", str(RAW)])
    _run(
        [
            DAGSTER,
            "job",
            "launch",
            "-w",
            "workspace.yaml",
            "-j",
            "evaluate",
            "--tags",
            json.dumps({"dagster/partition": HOHHOT}),
        ]
    )


def test_a_queued_run_is_forked_warm_by_the_daemon_and_gives_the_files_of_a_cli_run(daemon, tmp_path, hohhot_run):
    _queue_hohhot()
    with dg.DagsterInstance.get() as instance:
        [record] = instance.get_run_records()
        run = _finished(instance, record.dagster_run.run_id)
        assert run.status == dg.DagsterRunStatus.SUCCESS, daemon.read_text(errors="replace")[-3000:]
        assert run.tags[launcher.HOW_TAG] == "warm"
        pid = int(run.tags[launcher.PID_TAG])
        messages = [e.message for e in instance.all_logs(run.run_id)]
        assert f"[WarmRunLauncher] Run worker forked from the warm process (pid {pid})." in messages
        assert f"Started process for run (pid: {pid})." in messages  # Dagster's run worker, in that process
    assert _gone(pid)  # the run worker ended with its run
    # The same bytes as the CLI's run over the same inputs: every output's SHA-256 in the manifest.
    launched = tmp_path / "out" / HOHHOT / "manifest.json"
    assert launched.read_bytes() == (hohhot_run.out_dir / "manifest.json").read_bytes()


def test_the_warm_process_forks_runs_and_is_replaced_when_the_code_changes(monkeypatch):
    warm = launcher.WarmRunLauncher()
    try:
        first = warm._fork(sys.executable, str(ROOT), ["dagster", "--version"])
        (process,) = warm._zygotes.values()
        assert process.alive() and not process.stale() and process.package == zygote.PACKAGE
        assert _gone(first)  # `dagster --version` ran in the child and it exited
        warm._fork(sys.executable, str(ROOT), ["dagster", "--version"])
        assert list(warm._zygotes.values()) == [process]  # the same warm process served both
        monkeypatch.setattr(zygote, "fingerprint", lambda package: "the code changed on disk")
        warm._fork(sys.executable, str(ROOT), ["dagster", "--version"])
        (replaced,) = warm._zygotes.values()
        assert replaced is not process and not process.alive()
        assert replaced.process.pid != process.process.pid
    finally:
        warm.dispose()
    assert not replaced.alive()  # dispose ends the warm processes


def test_a_run_of_another_code_location_starts_as_a_new_process(tmp_path, monkeypatch):
    # Launched by the CLI itself (no queue): the launcher runs in that process, which exits at once.
    _home(
        tmp_path,
        monkeypatch,
        run_coordinator={"module": "dagster._core.run_coordinator", "class": "DefaultRunCoordinator"},
    )
    defs = tmp_path / "other_defs.py"
    defs.write_text(
        "import dagster as dg\n\n"
        "@dg.op\ndef hello():\n    return 1\n\n"
        "@dg.job\ndef other():\n    hello()\n\n"
        "defs = dg.Definitions(jobs=[other])\n",
        encoding="utf-8",
    )
    _run([DAGSTER, "job", "launch", "-f", str(defs), "-j", "other"])
    with dg.DagsterInstance.get() as instance:
        [record] = instance.get_run_records()
        run = _finished(instance, record.dagster_run.run_id)
        assert run.status == dg.DagsterRunStatus.SUCCESS
        assert run.tags[launcher.HOW_TAG] == "spawned"
        pid = run.tags[launcher.PID_TAG]
        [said] = [
            e.message for e in instance.all_logs(run.run_id) if "Run worker started as a new process" in e.message
        ]
        assert said.startswith(
            f"[WarmRunLauncher] Run worker started as a new process (pid {pid}): the code location is "
        )


def test_cancelling_a_warm_run_interrupts_its_worker(daemon, tmp_path):
    _queue_hohhot()
    with dg.DagsterInstance.get() as instance:
        [record] = instance.get_run_records()
        run_id = record.dagster_run.run_id
        deadline = time.monotonic() + 300
        while (run := instance.get_run_by_id(run_id)) is not None and run.status != dg.DagsterRunStatus.STARTED:
            assert time.monotonic() < deadline and not run.is_finished, run.status
            time.sleep(0.2)
        # As the UI's "Terminate" does, from another process than the one that launched it.
        assert instance.run_launcher.terminate(run_id)
        run = _finished(instance, run_id)
        assert run.status == dg.DagsterRunStatus.CANCELED
        assert _gone(int(run.tags[launcher.PID_TAG]))
        assert not instance.run_launcher.terminate(run_id)  # a finished run has nothing to terminate
