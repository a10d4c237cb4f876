"""Kinds are validated side by side, largest first, within a budget of rows in flight."""

from __future__ import annotations

import threading
import time

import pytest

from pipeline.ingest.stage import in_parallel


def run(sizes, budget, threads=2, fail=None):
    lock = threading.Lock()
    running: dict[str, int] = {}
    seen: list[dict[str, int]] = []
    started: list[str] = []

    def work(key):
        with lock:
            running[key] = sizes[key]
            seen.append(dict(running))
            started.append(key)
        time.sleep(0.02)
        with lock:
            del running[key]
        if key == fail:
            raise ValueError(key)
        return key.upper()

    return in_parallel(sizes, work, threads, budget), seen, started


def test_every_key_is_done_once():
    sizes = {"a": 5, "b": 0, "c": 7, "d": 1}
    results, _, started = run(sizes, budget=10)
    assert results == {"a": "A", "b": "B", "c": "C", "d": "D"}
    assert sorted(started) == sorted(sizes)


def test_largest_first_and_never_over_the_budget():
    sizes = {"indicators": 1_000_000, "payments": 720_000, "receipts": 280_000, "survey": 57_000, "plan": 23_000}
    _, seen, started = run(sizes, budget=1_200_000)
    assert started[0] == "indicators"
    for at_once in seen:
        assert sum(min(n, 1_200_000) for n in at_once.values()) <= 1_200_000
    assert not any({"indicators", "payments"} <= set(at_once) for at_once in seen)


def test_a_key_larger_than_the_budget_runs_alone():
    sizes = {"huge": 5_000, "small": 10, "other": 20}
    _, seen, _ = run(sizes, budget=1_000)
    assert all(at_once == {"huge": 5_000} for at_once in seen if "huge" in at_once)


def test_without_a_budget_both_threads_work():
    sizes = {"a": 1, "b": 1, "c": 1, "d": 1}
    _, seen, _ = run(sizes, budget=100)
    assert max(len(at_once) for at_once in seen) == 2


def test_the_first_error_is_raised_after_running_work_ends():
    sizes = {"a": 3, "b": 2, "c": 1}
    with pytest.raises(ValueError, match="a"):
        run(sizes, budget=10, fail="a")
