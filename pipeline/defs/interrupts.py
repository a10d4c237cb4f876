"""A run's interrupt (the UI's "Terminate", Ctrl-C) is never lost in a finalizer.

Dagster's run worker turns SIGTERM and SIGINT into an exception raised wherever the main thread
is while a step runs (``dagster._utils.interrupts.raise_interrupts_as``). Python runs a signal's
handler at the next bytecode of any Python code, and that code may be a finalizer: a weakref
callback (SQLAlchemy keeps many) or a ``__del__`` run by the garbage collector. An exception
raised there cannot propagate: Python prints "Exception ignored in ..." and goes on, and the run
went on to SUCCESS although it had been told to stop (seen in CI: the interrupt raised inside
SQLAlchemy's ``_collection_gced``, and the cancelled run finished).

:func:`keep_interrupts` installs a ``sys.unraisablehook`` that, for an interrupt swallowed so,
records it the way Dagster records an interrupt it cannot raise at once: its captured-interrupt
flag, which the next user-code boundary (every step, input and output) turns into the
interruption. The run then stops at its next boundary instead of never. Any other unraisable
exception goes to the hook that was there before.
"""

from __future__ import annotations

import sys
from typing import Any

_installed = False


def _is_interrupt(exc_type: type[BaseException] | None) -> bool:
    from dagster._core.errors import DagsterExecutionInterruptedError

    return exc_type is not None and issubclass(exc_type, (KeyboardInterrupt, DagsterExecutionInterruptedError))


def keep_interrupts() -> None:
    """Install the hook in this process (once; a second call changes nothing)."""
    global _installed
    if _installed:
        return
    previous = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        if not _is_interrupt(unraisable.exc_type):
            previous(unraisable)
            return
        from dagster._utils import interrupts

        # Dagster's own record of an interrupt received while it could not be raised (``capture_interrupts``);
        # ``raise_interrupts_as`` raises it on entry, which every user-code boundary of a step enters.
        interrupts._received_interrupt["received"] = True
        where = getattr(unraisable.object, "__qualname__", None) or repr(unraisable.object)
        print(
            f"interrupt raised inside a finalizer ({where}): kept, the run stops at its next step boundary",
            file=sys.stderr,
        )

    sys.unraisablehook = hook
    _installed = True
