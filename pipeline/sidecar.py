"""A second process for a run's heavy library work: Great Expectations' suites and the PDF's layout.

A run's steps execute one after another in one process (Dagster's in-process executor), on a
machine with more than one core. Two pieces of a run are library work with a large fixed cost that
need nothing from the steps running beside them until their result is wanted:

- importing Great Expectations (2–4 s of pure Python) and running its suites (``data_quality``, and
  the steps that store the tables, which hand their suites over as soon as they are stored);
- laying out the report's PDF with WeasyPrint (3–8 s), while ``evaluation_report`` builds the
  workbook and the charts.

A thread cannot overlap them with anything: both hold the GIL. Measured on the Hohhot evaluation,
importing GX in a background thread made the step it overlapped 2 s slower, the same 2 s it saved
later. So a run starts one worker process (:func:`start`: ``python -m pipeline run`` before Dagster
loads, a run launched by Dagster in its first step), which imports both libraries on the other core
while the workbooks are read and validated; the steps hand it their work with :func:`submit` and
take the result when they need it.

The sidecar is one worker: work runs in the order it is handed over. Work that nothing waits for yet
(``data_quality``'s Data Docs) is submitted ``after_next``, so it goes in behind the next submission
(the report's PDF, which a step is about to wait for) instead of ahead of it.

The work is the same function on the same arguments either way, so the bytes it gives are the same.
It runs in this process instead when the sidecar was not started (one asset materialised alone, a
step process of the multiprocess executor, a test) or when the sidecar died: a run never depends on
it. Arguments and results travel by pickle between this process and its own child; nothing from a
submission or the output folder is unpickled.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import logging
import multiprocessing
import multiprocessing.util
import sys
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

# Imported by the sidecar as it starts: the slow import of the first work it is given (the GX suites).
WARM = ("great_expectations",)
# Imported when asked (:func:`warm`), in a gap before the work that needs it (the report's PDF).
LATER = ("weasyprint",)

_executor: ProcessPoolExecutor | None = None
_starter: threading.Thread | None = None
_guard = threading.Lock()
_deferred: list[Pending] = []  # submitted with after_next, not handed over yet
_handing_over = threading.Lock()  # guards _deferred and the order in which work is handed over


def _warm(names: tuple[str, ...] = WARM, freeze: bool = False) -> None:
    from pipeline.memory import no_collection

    with no_collection(freeze=freeze):
        for name in names:
            with contextlib.suppress(Exception):  # the work imports it again and raises there, with its traceback
                importlib.import_module(name)


def _start_up() -> None:
    """The worker's initializer: :data:`WARM` imported, and frozen with what the fork server preloaded.

    Nothing has run in the worker yet, so what is frozen is modules and their objects, not garbage:
    no later collection in the sidecar looks at them again (``pipeline.memory.no_collection``).
    """
    _warm(WARM, freeze=True)


def warm(*names: str) -> None:
    """Have the sidecar import these libraries now, behind the work handed to it so far (nothing without one).

    WeasyPrint is not imported as the sidecar starts: that took 0.7–1 s, by which time the first GX
    suites of a small evaluation were waiting for it. A step that knows the sidecar has a gap before
    the PDF asks for it then.
    """
    if running():
        submit(_warm, names)


def _ready() -> bool:
    return True


def loaded() -> list[str]:
    """The libraries of :data:`WARM` and :data:`LATER` this process has imported (in the sidecar: WARM once it is up)."""
    return [name for name in WARM + LATER if name in sys.modules]


def start() -> None:
    """Start the sidecar (once per process) and have it import its libraries now; returns at once.

    The start itself runs on a thread: the first worker process of a run also starts the fork server,
    whose preloads (pandas, Arrow, the reader) take 0.5–0.9 s before the worker exists, and the caller
    has its own work meanwhile (loading Dagster, reading files). :func:`submit` waits for a start
    under way.
    """
    global _starter
    with _guard:
        if _executor is not None or (_starter is not None and _starter.is_alive()):
            return
        _starter = threading.Thread(target=_start, name="pes-sidecar-start", daemon=True)
        _starter.start()


def _start(fork: bool = False) -> None:
    global _executor
    from pipeline.processes import forkserver, workers_skip_main

    with _guard:
        if _executor is not None:
            return
        context = multiprocessing.get_context("fork") if fork else forkserver()
        _executor = ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_start_up)
        atexit.register(shutdown)
        # As for the readers: a process that multiprocessing started joins its children before atexit runs.
        multiprocessing.util.Finalize(None, shutdown, exitpriority=100)
        with workers_skip_main(), warnings.catch_warnings():
            # A fork on Python 3.12+ warns when native pools run (OpenBLAS, jemalloc; see pipeline.zygote).
            warnings.simplefilter("ignore", DeprecationWarning)
            _executor.submit(_ready)  # the worker starts here, not at the first real submit


def start_forked() -> None:
    """Start the sidecar now as a fork of this process, which must be running no other thread.

    For a run forked from the warm process (:mod:`pipeline.zygote`), which has GX and WeasyPrint
    imported already: a sidecar forked from the run has them too, where one from the fork server
    imports them again. The pool forks its worker on this thread, before it starts its own threads.
    With another thread running already, this is :func:`start`.
    """
    if threading.active_count() != 1:
        start()
        return
    _start(fork=True)


def _wait_for_start() -> None:
    starter = _starter
    if starter is not None and starter is not threading.current_thread():
        starter.join()


def running() -> bool:
    _wait_for_start()
    return _executor is not None


def shutdown() -> None:
    """Stop the sidecar (at exit); a later :func:`start` starts a new one.

    Work submitted ``after_next`` whose next submission never came (a run that failed between
    ``data_quality`` and the report's PDF) is still done first: that run's unpublished set keeps its
    Data Docs. Nothing else that is queued is started.
    """
    global _executor
    _wait_for_start()
    with _handing_over:
        behind = _hand_over_deferred()
    with _guard:
        executor, _executor = _executor, None
    for pending in behind:
        if pending._future is not None:
            try:
                pending._future.result()
            except Exception:  # the run is ending anyway: say so, do not hide it
                log.warning(
                    "sidecar: %s failed at exit", getattr(pending._fn, "__qualname__", pending._fn), exc_info=True
                )
    if executor is not None:
        executor.shutdown(wait=True, cancel_futures=True)


class Pending(Generic[T]):
    """Work handed to the sidecar; :meth:`result` waits for it (or does it here, see the module)."""

    def __init__(self, fn: Callable[..., T], args: tuple[object, ...], future: Future[T] | None) -> None:
        self._fn, self._args, self._future = fn, args, future

    def result(self) -> T:
        with _handing_over:
            if self in _deferred:  # wanted before any other work came: hand it over now
                _deferred.remove(self)
                self._future = _hand_over(self._fn, self._args)
        if self._future is not None:
            try:
                return self._future.result()
            except BrokenProcessPool:
                name = getattr(self._fn, "__qualname__", repr(self._fn))
                log.warning("sidecar process died running %s; running it in this process instead", name)
                shutdown()
        return self._fn(*self._args)


def submit(fn: Callable[..., T], *args: object, after_next: bool = False) -> Pending[T]:
    """Run ``fn(*args)`` in the sidecar if one is running; otherwise it runs in this process at ``result()``.

    ``fn`` and ``args`` must pickle: ``fn`` a module-level function, the arguments plain data or frames.
    With ``after_next``, the work is handed over right behind the next submission, or when its result is
    wanted, whichever comes first: work that can wait (``data_quality``'s Data Docs) then does not hold
    up the work a step will be waiting for (the report's PDF).
    """
    _wait_for_start()
    with _guard:
        running = _executor is not None
    if not running:
        return Pending(fn, args, None)
    with _handing_over:
        if after_next:
            pending: Pending[T] = Pending(fn, args, None)
            _deferred.append(pending)
            return pending
        pending = Pending(fn, args, _hand_over(fn, args))
        _hand_over_deferred()
    return pending


def _hand_over_deferred() -> list[Pending]:
    """Hand over the work submitted ``after_next``, in its order; the caller holds ``_handing_over``."""
    behind = list(_deferred)
    _deferred.clear()
    for pending in behind:
        pending._future = _hand_over(pending._fn, pending._args)
    return behind


def _hand_over(fn: Callable[..., T], args: tuple[object, ...]) -> Future[T] | None:
    """The sidecar's future for ``fn(*args)``, or None when it has died or shut down since (then it runs here)."""
    with _guard:
        executor = _executor
    if executor is None:
        return None
    try:
        return executor.submit(fn, *args)
    except (BrokenProcessPool, RuntimeError):  # died, or shut down since
        return None
