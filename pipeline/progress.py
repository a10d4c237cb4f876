"""Progress of long work, so that a national run never looks hung.

The command line installs a reporter for the duration of a run (:func:`reporting`); the stages
report through :func:`current`, which is a silent no-op reporter everywhere else (in the Dagster
UI, in tests). On a terminal the reporter draws a live line per task with rich (files read of
total, rows validated, the Dagster step running and the time it has taken); when the output is
not a terminal (a log file, the nightly cron mail) it writes plain lines instead: each step when it
starts and ends, each task every ``PLAIN_EVERY_S`` seconds and when it is done.

Progress goes to stderr and is never part of an output.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from typing import IO, Any

PLAIN_EVERY_S = 5.0


class Reporter:
    """Silent: what the stages see when nobody watches."""

    def step(self, name: str) -> None:
        """A Dagster step (or another named stage) starts; the one before it has ended."""

    def task(self, key: str, label: str, total: int, unit: str) -> None:
        """Work of ``total`` ``unit`` starts (or restarts) under ``key``."""

    def advance(self, key: str, n: int = 1) -> None:
        """``n`` more units of ``key`` are done."""

    def close(self) -> None:
        """The run is over: the last step ends."""


class PlainReporter(Reporter):
    """Log lines, for output that is not a terminal: no escape codes, one line per event worth saying."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.lock = threading.Lock()
        self.current: tuple[str, float] | None = None
        self.tasks: dict[str, dict[str, Any]] = {}

    def _say(self, text: str) -> None:
        print(f"[进度 progress] {text}", file=self.stream, flush=True)

    def _end_step(self, now: float) -> None:
        if self.current is not None:
            name, started = self.current
            self._say(f"{name} 完成 done in {now - started:.1f} s")
            self.current = None

    def step(self, name: str) -> None:
        with self.lock:
            if self.current is not None and self.current[0] == name:
                return
            now = time.perf_counter()
            self._end_step(now)
            self.current = (name, now)
            self._say(f"{name} 开始 started")

    def task(self, key: str, label: str, total: int, unit: str) -> None:
        with self.lock:
            now = time.perf_counter()
            self.tasks[key] = {"label": label, "total": total, "unit": unit, "done": 0, "start": now, "said": now}

    def advance(self, key: str, n: int = 1) -> None:
        with self.lock:
            t = self.tasks.get(key)
            if t is None:
                return
            t["done"] += n
            now = time.perf_counter()
            finished = t["done"] >= t["total"]
            if finished or now - t["said"] >= PLAIN_EVERY_S:
                t["said"] = now
                self._say(f"{t['label']}: {t['done']:,}/{t['total']:,} {t['unit']} ({now - t['start']:.1f} s)")
            if finished:
                del self.tasks[key]

    def close(self) -> None:
        with self.lock:
            self._end_step(time.perf_counter())


class LiveReporter(Reporter):
    """A live display on a terminal (rich): the running step with its elapsed time, and a bar per task."""

    def __init__(self, stream: IO[str]) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[unit]}"),
            TimeElapsedColumn(),
            console=Console(file=stream),
            transient=False,
        )
        self.lock = threading.Lock()
        self.ids: dict[str, Any] = {}
        self.step_id: Any = None
        self.progress.start()

    def step(self, name: str) -> None:
        with self.lock:
            if self.step_id is not None:
                if self.progress.tasks[self.step_id].description == f"步骤 step {name}":
                    return
                self.progress.update(self.step_id, total=1, completed=1)
                self.progress.stop_task(self.step_id)
            self.step_id = self.progress.add_task(f"步骤 step {name}", total=None, unit="")

    def task(self, key: str, label: str, total: int, unit: str) -> None:
        with self.lock:
            if key in self.ids:
                self.progress.reset(self.ids[key], total=total, description=label)
            else:
                self.ids[key] = self.progress.add_task(label, total=total, unit=unit)

    def advance(self, key: str, n: int = 1) -> None:
        with self.lock:
            if key in self.ids:
                self.progress.advance(self.ids[key], n)

    def close(self) -> None:
        with self.lock:
            if self.step_id is not None:
                self.progress.update(self.step_id, total=1, completed=1)
            self.progress.stop()


_SILENT = Reporter()
_current: Reporter = _SILENT


def current() -> Reporter:
    """The reporter of the run in progress (silent when none was installed)."""
    return _current


@contextlib.contextmanager
def reporting(stream: IO[str] | None = None, live: bool | None = None) -> Iterator[Reporter]:
    """Install a reporter for the ``with`` block: live on a terminal, plain lines otherwise."""
    global _current
    stream = stream or sys.stderr
    is_tty = stream.isatty() if live is None else live
    reporter: Reporter = LiveReporter(stream) if is_tty else PlainReporter(stream)
    saved, _current = _current, reporter
    try:
        yield reporter
    finally:
        reporter.close()
        _current = saved
