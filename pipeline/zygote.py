"""The warm process Dagster's runs are forked from: the code location, GX and WeasyPrint imported once.

Every run Dagster launches is a new Python process. With Dagster's default launcher it is spawned
by the code server and imports everything again: Dagster and the code location (the bare start-up,
2.3–3.4 s of CPU here), then its sidecar imports Great Expectations and WeasyPrint (3.5–5 s more).
In the run queue, on evaluations of Hohhot's size, forking instead took a run's CPU from 18.8 s to
15.1 s (README, Performance). :class:`pipeline.launcher.WarmRunLauncher` instead keeps this process: it
imports :data:`PRELOAD` once, freezes what it imported out of the garbage collector's passes
(:func:`pipeline.memory.no_collection`), and then forks one child per run it is asked for. The
child becomes ``dagster api execute_run`` with the launcher's arguments, the run worker command
Dagster's container launchers run too, and it exits as that command does (its exit status, its
``atexit`` work); the sidecar it starts is forked from it in turn (:func:`pipeline.sidecar.start_forked`),
so nothing is imported twice.

Fork safety. A fork copies only the thread that calls it, so this process runs no Python thread
besides its main one and opens no connection, file or pool before it forks: it imports, and it
reads requests. It refuses to fork (the launcher then starts the run the usual way) when a second
Python thread exists. The native thread pools that imports start (OpenBLAS, Arrow's jemalloc)
register their own fork handlers, as for every ``fork`` of a process that imported numpy.

The protocol is one JSON object per line: this process says ``{"ready": fingerprint, "pid": …,
"package": …}``
once its imports are done (or ``{"error": …}`` and exits 1), then answers each request
``{"argv": [...]}`` with ``{"pid": …}`` of the run it forked, or ``{"error": …}``. End of input
ends it; the runs it forked go on in their own sessions. :func:`fingerprint` is what its modules
were loaded from: the launcher compares it with the files on disk before every run, and replaces a
process whose code has changed since.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import signal
import sys
import sysconfig
import threading
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

# What a run needs that costs time to import: the code location (with Dagster), the run worker's command,
# and what the sidecar does (the GX suites, the PDF's layout).
PRELOAD = ("pipeline.definitions", "dagster._cli", "great_expectations", "weasyprint")
PACKAGE = Path(__file__).resolve().parent
# The run tags the launcher sets: the run worker's pid, and how it started:
# "warm" (forked from this process) or "spawned" (a new process).
PID_TAG = "pes/run_worker_pid"
HOW_TAG = "pes/run_worker"


def fingerprint(package: Path = PACKAGE) -> str:
    """Where the warm modules come from, as it is now: every file of ``package`` and the installed packages.

    Each file of the package counts by name, size and modification time, and each directory of
    installed packages by its modification time (installing or removing a package changes it).
    The launcher computes it before every run (3.3 ms here) for the package the warm process
    loaded, with its own interpreter: the daemon and the code location share one environment.
    """
    h = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if "__pycache__" in path.parts or not path.is_file():
            continue
        st = path.stat()
        h.update(f"{path.relative_to(package).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    paths = sysconfig.get_paths()
    for folder in sorted({paths["purelib"], paths["platlib"]}):
        try:
            h.update(f"{folder}\0{os.stat(folder).st_mtime_ns}\n".encode())
        except OSError:
            h.update(f"{folder}\0missing\n".encode())
    return h.hexdigest()


def _say(out: IO[bytes], message: dict[str, Any]) -> None:
    out.write(json.dumps(message).encode() + b"\n")
    out.flush()


def serve(requests: IO[bytes], replies: IO[bytes], preload: tuple[str, ...] = PRELOAD) -> list[str] | int:
    """Import ``preload``, then fork one child per request until the requests end.

    Returns the request's ``argv`` in a child, which runs it (:func:`main`), and in this process its
    exit status: 0 at the end of the requests, 1 when an import failed.
    """
    from pipeline.memory import no_collection

    mark = fingerprint()  # before the imports: a file changed while they ran makes the next check fail
    try:
        with no_collection(freeze=True):
            for name in preload:
                importlib.import_module(name)
    except BaseException:  # noqa: BLE001 — any failure here is the launcher's reason to start runs the usual way
        _say(replies, {"error": traceback.format_exc()})
        return 1
    _say(replies, {"ready": mark, "pid": os.getpid(), "package": str(PACKAGE)})
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # runs end on their own: the kernel reaps them
    for line in requests:
        try:
            argv = json.loads(line)["argv"]
            if not (isinstance(argv, list) and all(isinstance(a, str) for a in argv)):
                raise ValueError("argv must be a list of strings")
        except (ValueError, KeyError, TypeError) as e:
            _say(replies, {"error": f"bad request: {e}"})
            continue
        if threading.active_count() != 1:
            _say(replies, {"error": f"{threading.active_count()} Python threads: not forking"})
            continue
        with warnings.catch_warnings():
            # Python 3.12+ warns on fork when native pools run (OpenBLAS, jemalloc); see the module's docstring.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:
            _become_run(requests, replies)
            return argv
        _say(replies, {"pid": pid})
    return 0


def _become_run(requests: IO[bytes], replies: IO[bytes]) -> None:
    """In the child: its own session, the default SIGCHLD, and no hold on the launcher's pipes."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # its own subprocesses are waited for as usual
    os.setsid()  # a signal to the launcher's process group (a daemon's restart) does not end the run
    requests.close()
    replies.close()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # standard output is standard error already (:func:`main`)
    os.close(devnull)


def run(argv: list[str]) -> int:
    """Run ``argv`` (``dagster api execute_run …``) in this process, as the ``dagster`` command would."""
    from dagster._cli import main as dagster

    from pipeline import sidecar

    sidecar.start_forked()  # now, while this process runs one thread
    sys.argv = argv
    try:
        dagster()
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0


def main(preload: tuple[str, ...] = PRELOAD, then: Callable[[list[str]], int] = run) -> int:
    """Serve until the requests end (status 0, or 1 when an import failed); in a child, ``then(argv)``."""
    # The replies go on a copy of standard output; standard output itself becomes standard error, so
    # whatever an import or a run prints (Python or native code) never mixes into the replies.
    sys.stdout.flush()
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    argv = serve(sys.stdin.buffer, replies, preload)
    return argv if isinstance(argv, int) else then(argv)


if __name__ == "__main__":
    sys.exit(main())
