"""A Dagster run launcher that forks each run from a warm process (:mod:`pipeline.zygote`).

Set in ``deploy/dagster.yaml`` (``run_launcher``). It runs where Dagster launches runs: in the
daemon with the run queue, in the webserver without it. For each run it hands ``dagster api
execute_run`` with the run's arguments (Dagster's own run worker command) to the warm process, which
forks a child that runs it. The child is a run worker like any other: it loads the instance from
the arguments, writes every event to the event log, and is cancelled by a signal
(:meth:`WarmRunLauncher.terminate`).

The warm process is started on the first launch with the code location's Python and working
directory, and replaced when it died or when :func:`pipeline.zygote.fingerprint` says the code or
the installed packages changed since it loaded them. A run the warm process cannot take (its import
failed, its code location is not this package's, it refused to fork) starts as a new process of
``dagster api execute_run`` instead, and the run's log says so. Nothing about the run's outputs
depends on which way it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Self

from dagster import _check as check
from dagster._core.launcher.base import LaunchRunContext, RunLauncher
from dagster._core.storage.dagster_run import DagsterRun
from dagster._serdes import ConfigurableClass, ConfigurableClassData, serialize_value

from pipeline import zygote

PID_TAG, HOW_TAG = zygote.PID_TAG, zygote.HOW_TAG
READY_SECONDS = 120.0  # the warm process's imports; beyond this it is not waited for


class WarmError(RuntimeError):
    """The warm process could not take a run (the run then starts as a new process)."""


class Zygote:
    """One warm process, and the pipes to it; :meth:`fork` asks it for one run."""

    def __init__(self, executable: str, cwd: str | None) -> None:
        try:
            self.process = subprocess.Popen(
                [executable, "-m", "pipeline.zygote"],
                cwd=cwd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                start_new_session=True,  # not in the launcher's process group: a Ctrl-C there is not one here
            )
        except OSError as e:
            raise WarmError(f"the warm process did not start: {e}") from e
        assert self.process.stdin is not None and self.process.stdout is not None
        self._in: IO[bytes] = self.process.stdin
        self._out: IO[bytes] = self.process.stdout
        ready = self._answer(READY_SECONDS)
        if "ready" not in ready:
            self.close()
            raise WarmError(f"the warm process did not start: {ready.get('error', ready)}")
        self.fingerprint: str = ready["ready"]
        self.package = Path(ready["package"])  # where its code came from (its working directory's, first)

    def stale(self) -> bool:
        """Whether the code or the installed packages on disk are no longer what this process loaded."""
        return zygote.fingerprint(self.package) != self.fingerprint

    def _answer(self, timeout: float) -> dict[str, Any]:
        answer: list[bytes] = []
        reader = threading.Thread(target=lambda: answer.append(self._out.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not answer or not answer[0]:
            self.close()
            raise WarmError("the warm process did not answer" if not answer else "the warm process exited")
        try:
            message = json.loads(answer[0])
        except ValueError:
            message = None
        if not isinstance(message, dict):
            self.close()
            raise WarmError(f"the warm process said {answer[0][:200]!r}")
        return message

    def alive(self) -> bool:
        return self.process.poll() is None

    def fork(self, argv: Sequence[str]) -> int:
        """The pid of a new run worker running ``argv``."""
        try:
            self._in.write(json.dumps({"argv": list(argv)}).encode() + b"\n")
            self._in.flush()
        except OSError as e:
            self.close()
            raise WarmError(f"the warm process is gone: {e}") from e
        answer = self._answer(30.0)
        if "pid" not in answer:
            raise WarmError(str(answer.get("error", answer)))
        return int(answer["pid"])

    def close(self) -> None:
        """End the warm process (end of input); the runs it forked go on."""
        with contextlib.suppress(OSError):
            self._in.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class WarmRunLauncher(RunLauncher, ConfigurableClass):
    """Launches each run as a fork of a warm process that has imported the code location, GX and WeasyPrint."""

    def __init__(self, inst_data: ConfigurableClassData | None = None) -> None:
        self._inst_data = inst_data
        self._zygotes: dict[tuple[str, str | None], Zygote] = {}
        self._lock = threading.Lock()
        super().__init__()

    @property
    def inst_data(self) -> ConfigurableClassData | None:
        return self._inst_data

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]) -> Self:
        return cls(inst_data=inst_data)

    def launch_run(self, context: LaunchRunContext) -> None:
        from dagster._grpc.types import ExecuteRunArgs

        run = context.dagster_run
        origin = check.not_none(run.job_code_origin, "a run to launch has a code origin")
        args = ExecuteRunArgs(job_origin=origin, run_id=run.run_id, instance_ref=self._instance.get_ref())
        argv = ["dagster", "api", "execute_run", serialize_value(args)]
        repository = origin.repository_origin
        executable = repository.executable_path or sys.executable
        cwd = getattr(repository.code_pointer, "working_directory", None)
        module = getattr(repository.code_pointer, "module", None)
        reason = None
        if module is None or module.split(".")[0] != __name__.split(".")[0]:
            reason = f"the code location is {module or repository.code_pointer!r}, not this package"
        else:
            try:
                pid = self._fork(executable, cwd, argv)
            except WarmError as e:
                reason = str(e)
            else:
                self._started(run, pid, "warm", f"Run worker forked from the warm process (pid {pid}).")
                return
        process = subprocess.Popen(
            [executable, "-m", "dagster", *argv[1:]],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._started(
            run, process.pid, "spawned", f"Run worker started as a new process (pid {process.pid}): {reason}."
        )
        threading.Thread(target=process.wait, daemon=True).start()  # reaped when it ends

    def _fork(self, executable: str, cwd: str | None, argv: list[str]) -> int:
        key = (executable, cwd)
        with self._lock:
            warm = self._zygotes.get(key)
            if warm is not None and (not warm.alive() or warm.stale()):
                warm.close()  # died, or its code is not the code on disk any more
                warm = None
            if warm is None:
                warm = self._zygotes[key] = Zygote(executable, cwd)
            try:
                return warm.fork(argv)
            except WarmError:
                if not warm.alive():
                    del self._zygotes[key]
                raise

    def _started(self, run: DagsterRun, pid: int, how: str, message: str) -> None:
        self._instance.add_run_tags(run.run_id, {PID_TAG: str(pid), HOW_TAG: how})
        self._instance.report_engine_event(message, run, cls=self.__class__)

    def terminate(self, run_id: str) -> bool:
        """Cancel a run: SIGTERM to its worker, which Dagster's run worker takes as an interrupt."""
        check.str_param(run_id, "run_id")
        run = self._instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            return False
        pid = run.tags.get(PID_TAG)
        self._instance.report_run_canceling(run)
        if pid is None or not _is_run_worker(int(pid)):
            self._instance.report_engine_event(
                f"No run worker to send the termination to (pid {pid}).", run, cls=self.__class__
            )
            return False
        os.kill(int(pid), signal.SIGTERM)
        return True

    def dispose(self) -> None:
        with self._lock:
            for warm in self._zygotes.values():
                warm.close()
            self._zygotes.clear()


def _is_run_worker(pid: int) -> bool:
    """Whether ``pid`` is still a run worker this launcher started (a pid is reused once its process ends)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"pipeline.zygote" in cmdline or (b"execute_run" in cmdline and b"api" in cmdline)
