"""The synthetic generator forks its workbook writers only from a process with no other thread."""

from __future__ import annotations

import multiprocessing
import threading

from pipeline.tools import synth


def test_a_process_running_threads_writes_the_workbooks_itself(tmp_path, monkeypatch):
    # A fork copies every lock another thread holds, still locked: a forked writer that needs one waits
    # for ever, and so does the pool's map (the likely cause of a CI run that never finished).
    asked: list[str | None] = []
    real = multiprocessing.get_context

    def get_context(method: str | None = None):
        asked.append(method)
        return real(method)

    monkeypatch.setattr(multiprocessing, "get_context", get_context)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, name="another-thread")
    other.start()
    try:
        synth.generate(tmp_path / "syn", counties=3, workers=2)
    finally:
        stop.set()
        other.join()
    assert "fork" not in asked
    assert len(list((tmp_path / "syn" / "county").glob("*.xlsx"))) == 3
