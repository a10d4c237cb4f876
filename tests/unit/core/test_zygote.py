"""The warm process runs are forked from (:mod:`pipeline.zygote`): its protocol, its forks, its refusals.

The warm process here imports ``json`` instead of the code location, so that each test takes
milliseconds; ``tests/integration/test_launcher.py`` runs the real one under Dagster.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pipeline import launcher, zygote
from tests.support import ROOT

# A warm process whose child writes what it is (pid, session, where its stdout goes) to argv[0] and
# exits with argv[1], after sleeping argv[2] seconds.
SERVER = textwrap.dedent(
    """
    import json, os, sys, threading, time
    from pipeline import zygote
    if sys.argv[1:] == ["thread"]:
        threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
    preload = {"broken": ("no_such_module_here",), "noisy": ("this",)}.get(sys.argv[-1], ("json",))

    def child(argv):
        time.sleep(float(argv[2]))
        facts = {"pid": os.getpid(), "sid": os.getsid(0), "stdout": os.path.samestat(os.fstat(1), os.fstat(2)),
                 "stdin": os.fstat(0).st_rdev == os.stat(os.devnull).st_rdev}
        print("a run's own output")
        open(argv[0], "w").write(json.dumps(facts))
        return int(argv[1])

    sys.exit(zygote.main(preload, then=child))
    """
)


def _server(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", SERVER, *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _ask(proc: subprocess.Popen, request: object) -> dict:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(request).encode() + b"\n")
    proc.stdin.flush()
    return json.loads(proc.stdout.readline())


def _wait_for(path: Path, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return json.loads(path.read_text())
        time.sleep(0.05)
    raise AssertionError(f"{path} was never written")


def test_it_says_ready_with_the_fingerprint_then_forks_one_child_per_request(tmp_path):
    proc = _server()
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        assert ready == {"ready": zygote.fingerprint(), "pid": proc.pid, "package": str(zygote.PACKAGE)}
        first = _ask(proc, {"argv": [str(tmp_path / "a"), "0", "0"]})
        second = _ask(proc, {"argv": [str(tmp_path / "b"), "3", "0"]})
        a, b = _wait_for(tmp_path / "a"), _wait_for(tmp_path / "b")
        assert (a["pid"], b["pid"]) == (first["pid"], second["pid"]) != (proc.pid, proc.pid)
        assert a["sid"] == a["pid"] and b["sid"] == b["pid"]  # each run in its own session
        assert a["stdout"] and a["stdin"]  # its output goes to stderr, its input is /dev/null: not the pipes
        assert proc.poll() is None  # the warm process goes on
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        assert proc.wait(timeout=20) == 0  # the end of the requests ends it, with status 0


def test_what_imports_and_runs_print_goes_to_stderr_not_into_the_replies(tmp_path):
    proc = _server("noisy")  # `import this` prints the Zen of Python
    assert proc.stdout is not None and proc.stdin is not None
    assert "ready" in json.loads(proc.stdout.readline())
    assert "pid" in _ask(proc, {"argv": [str(tmp_path / "n"), "0", "0"]})
    _wait_for(tmp_path / "n")
    proc.stdin.close()
    assert proc.wait(timeout=20) == 0
    assert proc.stderr is not None
    rest, err = proc.stdout.read(), proc.stderr.read()
    assert rest == b""  # nothing but the replies on the pipe
    assert b"Beautiful is better than ugly" in err and b"a run's own output" in err


def test_the_runs_it_forked_go_on_after_it_ends(tmp_path):
    proc = _server()
    assert proc.stdout is not None and proc.stdin is not None
    json.loads(proc.stdout.readline())
    child = _ask(proc, {"argv": [str(tmp_path / "late"), "0", "1.5"]})["pid"]
    proc.stdin.close()
    assert proc.wait(timeout=20) == 0
    assert _wait_for(tmp_path / "late")["pid"] == child


def test_a_bad_request_is_answered_with_an_error_and_the_next_one_is_served(tmp_path):
    proc = _server()
    try:
        assert proc.stdout is not None
        json.loads(proc.stdout.readline())
        assert "bad request" in _ask(proc, {"argv": "not a list"})["error"]
        assert "bad request" in _ask(proc, {"no": "argv"})["error"]
        assert "pid" in _ask(proc, {"argv": [str(tmp_path / "ok"), "0", "0"]})
        _wait_for(tmp_path / "ok")
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=20)


def test_an_import_that_fails_is_reported_and_ends_it_with_status_1():
    proc = _server("broken")
    out, _ = proc.communicate(timeout=60)
    message = json.loads(out.splitlines()[0])
    assert "no_such_module_here" in message["error"] and "ready" not in message
    assert proc.returncode == 1


def test_it_refuses_to_fork_while_a_second_python_thread_runs(tmp_path):
    proc = _server("thread")
    try:
        assert proc.stdout is not None
        json.loads(proc.stdout.readline())
        answer = _ask(proc, {"argv": [str(tmp_path / "never"), "0", "0"]})
        assert answer == {"error": "2 Python threads: not forking"}
        time.sleep(0.3)
        assert not (tmp_path / "never").exists()
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=20)


def test_the_fingerprint_follows_the_files_of_the_package(tmp_path):
    package = tmp_path / "pipeline"
    (package / "__pycache__").mkdir(parents=True)
    (package / "a.py").write_text("x = 1\n")
    before = zygote.fingerprint(package)
    assert before != zygote.fingerprint()  # another package
    (package / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"compiled")
    assert zygote.fingerprint(package) == before  # compiled files are not the code
    (package / "a.py").write_text("x = 22\n")
    changed = zygote.fingerprint(package)
    assert changed != before
    os.utime(package / "a.py", ns=(1, 1))
    assert zygote.fingerprint(package) != changed  # the same size, another time: changed too
    (package / "b.yaml").write_text("k: v\n")
    assert zygote.fingerprint(package) not in {before, changed}


SIDECAR = textwrap.dedent(
    """
    import os, sys, threading, time
    import json
    json.MARK = "set before the sidecar started"
    if sys.argv[1:] == ["thread"]:
        threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
    from pipeline import sidecar
    sidecar.start_forked()
    # eval pickles by name: the sidecar runs it whichever way it started
    pid, seen = sidecar.submit(eval, "__import__('os').getpid(), getattr(__import__('json'), 'MARK', None)").result()
    assert pid != os.getpid()
    print(seen)
    sidecar.shutdown()
    """
)


def _sidecar_sees(*args: str) -> str:
    proc = subprocess.run([sys.executable, "-c", SIDECAR, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_a_forked_sidecar_starts_with_what_its_run_had_imported():
    assert _sidecar_sees() == "set before the sidecar started"  # a fork: the module's state came with it


def test_with_a_second_thread_running_the_sidecar_starts_from_the_fork_server_instead():
    assert _sidecar_sees("thread") == "None"  # a fresh import: not forked from a process running threads


@pytest.mark.parametrize(
    ("script", "said"),
    [
        ("echo 'not a reply'", "said b'not a reply"),
        ("echo '[1, 2]'", "said b'\\[1, 2\\]"),
        ("exit 3", "exited"),
        (None, "did not start"),
    ],
)
def test_a_warm_process_that_does_not_start_as_agreed_is_an_error_the_launcher_falls_back_on(tmp_path, script, said):
    python = tmp_path / "python"  # what the launcher runs as `python -m pipeline.zygote`
    if script is not None:
        python.write_text(f"#!/bin/sh\n{script}\n")
        python.chmod(0o755)
    with pytest.raises(launcher.WarmError, match=said):
        launcher.Zygote(str(python), str(tmp_path))
