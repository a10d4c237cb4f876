"""Shared fixtures: one real pipeline run over raw/ per test session, and a Dagster instance."""

from __future__ import annotations

import atexit
import json
import sys
import threading
import time
import traceback

import pytest

from tests.support import HOHHOT, RAW


@pytest.fixture(scope="session")
def hohhot_run(tmp_path_factory):
    """The whole pipeline over raw/, through the same entry point as `python -m pipeline run`."""
    from pipeline.materialize import materialize_evaluation

    out = tmp_path_factory.mktemp("out")
    outcome = materialize_evaluation(HOHHOT, raw_root=str(RAW), out_root=str(out))
    return outcome


@pytest.fixture(scope="session")
def hohhot_summary(hohhot_run) -> dict:
    return json.loads((hohhot_run.out_dir / "summary.json").read_text(encoding="utf-8"))


@pytest.fixture
def instance(tmp_path):
    """A persistent Dagster instance (SQLite in a temp folder): schedule and sensor contexts refuse an ephemeral one."""
    import dagster as dg

    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as inst:
        yield inst


# Each folder is a marker, so a subset runs by name: `pytest -m "not system"`, `pytest -m hostile`.
FOLDER_MARKERS = {"unit": "unit", "integration": "integration", "hostile": "hostile", "system": "system"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        folder = item.path.relative_to(config.rootpath / "tests").parts[0]
        if folder in FOLDER_MARKERS:
            item.add_marker(FOLDER_MARKERS[folder])


# Which test is running, and since when (for an interrupted suite, below).
_running: tuple[str, float] | None = None


def pytest_runtest_logstart(nodeid, location):
    global _running
    _running = (nodeid, time.monotonic())


@pytest.hookimpl(tryfirst=True)
def pytest_keyboard_interrupt(excinfo):
    """Say which test was running and where every thread waited, now and again as the very last output.

    CI stops a suite that outlasts its time with SIGINT and keeps only the end of its log, which pytest
    fills with its summary: a hang must still say where it was.
    """
    if _running is None:
        return
    text = where_it_stopped(_running, excinfo.value)
    _say(text)
    atexit.register(_say, text)


def _say(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


def where_it_stopped(running: tuple[str, float], error: BaseException, depth: int = 12) -> str:
    """The interrupted test, how long it had run, and the innermost frames of every thread (test code first)."""
    nodeid, began = running
    lines = [f"\n!!! interrupted in {nodeid}, {time.monotonic() - began:.0f} s into it\n", "main thread:\n"]
    lines += traceback.format_list([f for f in traceback.extract_tb(error.__traceback__) if _ours(f)][-depth:])
    frames = sys._current_frames()
    for thread in threading.enumerate():
        frame = frames.get(thread.ident) if thread.ident is not None else None
        if thread is threading.main_thread() or frame is None:
            continue
        lines.append(f"thread {thread.name}:\n")
        lines += traceback.format_list([f for f in traceback.extract_stack(frame) if _ours(f)][-4:])
    return "".join(lines)


def _ours(frame: traceback.FrameSummary) -> bool:
    """Not pytest's or pluggy's own frames, which every test has below its own, nor a thread's start-up."""
    if frame.filename.endswith("threading.py") and frame.name in ("_bootstrap", "_bootstrap_inner", "run"):
        return False
    return not any(part in frame.filename for part in ("/_pytest/", "/pluggy/", "/pytest/"))
