"""An interrupt raised inside a finalizer is kept for the next step boundary (pipeline.defs.interrupts).

Each test reproduces what CI saw: Dagster raises the interrupt from its signal handler wherever
the main thread is, here inside a weakref callback, where Python swallows it.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import signal, sys, weakref
    from dagster._core.errors import DagsterExecutionInterruptedError
    from dagster._utils.interrupts import capture_interrupts, raise_interrupts_as

    if sys.argv[1] == "keep":
        from pipeline.defs.interrupts import keep_interrupts
        keep_interrupts()
        keep_interrupts()  # a second call changes nothing

    class Held:
        pass

    def finalizer(_ref):
        signal.raise_signal(signal.SIG)  # the UI's Terminate arrives while a finalizer runs
        for _ in range(1000):  # the handler runs at the finalizer's next bytecodes
            pass

    with capture_interrupts():
        with raise_interrupts_as(DagsterExecutionInterruptedError):  # a step's user code
            held = Held()
            ref = weakref.ref(held, finalizer)
            del held  # the finalizer runs: the interrupt raised in it is swallowed ("Exception ignored")
            print("step went on", flush=True)
        try:
            with raise_interrupts_as(DagsterExecutionInterruptedError):  # the next step boundary
                print("next step ran", flush=True)
        except DagsterExecutionInterruptedError:
            print("next step interrupted", flush=True)
    """
)


def _run(mode: str, sig: signal.Signals) -> subprocess.CompletedProcess[str]:
    script = SCRIPT.replace("signal.SIG)", f"signal.{sig.name})")
    return subprocess.run([sys.executable, "-c", script, mode], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupt_swallowed_by_a_finalizer_stops_the_run_at_the_next_boundary(sig):
    kept = _run("keep", sig)
    assert kept.stdout.splitlines() == ["step went on", "next step interrupted"], kept.stderr
    assert "kept, the run stops at its next step boundary" in kept.stderr
    # Without the hook (Dagster alone) the interrupt is lost: this is what let a cancelled run finish.
    lost = _run("dagster", sig)
    assert lost.stdout.splitlines() == ["step went on", "next step ran"], lost.stderr
    assert "Exception ignored" in lost.stderr and "DagsterExecutionInterruptedError" in lost.stderr


def test_other_unraisable_exceptions_go_to_the_hook_before(monkeypatch):
    from pipeline.defs import interrupts

    seen = []
    monkeypatch.setattr(interrupts, "_installed", False)
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(u.exc_type))
    interrupts.keep_interrupts()

    class Bad:
        def __del__(self):
            raise ValueError("in a finalizer")

    Bad()
    assert seen == [ValueError]
