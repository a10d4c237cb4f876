"""Where a run's worker processes come from: one fork server, and a main module they do not re-run.

The readers (:mod:`pipeline.ingest.isolation`) and the sidecar (:mod:`pipeline.sidecar`) both start
their processes here, never by ``fork`` from a process that already runs threads.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import multiprocessing
import multiprocessing.context
import sys
import threading
from collections.abc import Iterator


def forkserver() -> multiprocessing.context.ForkServerContext:
    """The ``forkserver`` context every worker process of a run starts from.

    The fork server is one process per run, started by the first worker. Whichever pool starts it,
    it preloads what the readers need, which also makes pandas and Arrow cheap for any other worker.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["pipeline.ingest.read", "fastexcel", "pyarrow"])
    return context


@contextlib.contextmanager
def workers_skip_main() -> Iterator[None]:
    """Keep new worker processes from re-running the parent's main module.

    multiprocessing re-imports ``__main__`` in every child it starts (by path, or by module name),
    which re-runs a script, fails for a program read from stdin, and costs start-up. No worker
    needs it (the readers need ``pipeline.ingest.read``, the sidecar the functions it is handed);
    a main module *named* ``__main__`` is skipped by the child. Hold it while a pool may start
    processes (pebble replaces a worker that died or timed out).
    """
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    global _held, _saved
    with _skip_guard:  # threads may start pools at once (the sidecar starts on one): the first sets, the last restores
        if _held == 0:
            _saved = main.__dict__.get("__spec__")
            main.__spec__ = importlib.machinery.ModuleSpec("__main__", None)
        _held += 1
    try:
        yield
    finally:
        with _skip_guard:
            _held -= 1
            if _held == 0:
                main.__spec__ = _saved


_skip_guard = threading.Lock()
_held = 0
_saved: importlib.machinery.ModuleSpec | None = None
