"""A suite stopped by SIGINT (CI's time limit) names the running test and where it waited, at the very end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.support import ROOT

SLEEPER = """
import threading
import time


def wait_for_ever():
    time.sleep(600)


def test_hangs():
    open("started", "w").close()
    threading.Thread(target=wait_for_ever, name="another-waiter", daemon=True).start()
    wait_for_ever()
"""


def test_the_end_of_an_interrupted_suites_output_names_the_test_and_where_each_thread_waits(tmp_path):
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import pytest_keyboard_interrupt, pytest_runtest_logstart  # noqa: F401\n",
        encoding="utf-8",
    )
    (tmp_path / "test_sleeper.py").write_text(SLEEPER, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-s", str(tmp_path / "test_sleeper.py")],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (tmp_path / "started").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # in its sleep by now
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=60)
    tail = output[output.rindex("!!! interrupted in") :]
    assert "test_sleeper.py::test_hangs" in tail, output
    assert "in wait_for_ever" in tail and "time.sleep(600)" in tail, output
    assert "thread another-waiter:" in tail, output
    assert output.rstrip().endswith(tail.rstrip()), output  # the very last thing printed
    assert output.count("!!! interrupted in") == 2, output  # at once, and again at the end
