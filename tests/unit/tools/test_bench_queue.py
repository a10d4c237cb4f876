"""The run-queue benchmark's pure helpers: percentiles, the instance configuration, the figures and the table.

The benchmark itself (PostgreSQL, webserver, daemon, 50 runs) is run from the README, never as a timed test.
"""

import pytest
import yaml

from pipeline.tools import bench_queue
from tests.support import ROOT


def test_percentile_interpolates_between_ranks_like_numpy():
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert bench_queue.percentile(values, 0) == 1.0
    assert bench_queue.percentile(values, 50) == 3.0
    assert bench_queue.percentile(values, 100) == 5.0
    assert bench_queue.percentile(values, 90) == pytest.approx(4.6)  # numpy.percentile(values, 90)
    assert bench_queue.percentile([7.0], 90) == 7.0
    with pytest.raises(ValueError):
        bench_queue.percentile([], 50)
    with pytest.raises(ValueError):
        bench_queue.percentile([1.0], 101)


def test_instance_yaml_is_production_with_a_run_limit():
    deploy = (ROOT / "deploy" / "dagster.yaml").read_text(encoding="utf-8")
    config = yaml.safe_load(bench_queue.instance_yaml(deploy, 2))
    production = yaml.safe_load(deploy)
    assert config["storage"] == production["storage"]  # PostgreSQL, credentials from DAGSTER_PG_* variables
    assert config["concurrency"]["runs"]["max_concurrent_runs"] == 2
    # the one-run-per-evaluation limit stays
    assert (
        config["concurrency"]["runs"]["tag_concurrency_limits"]
        == production["concurrency"]["runs"]["tag_concurrency_limits"]
    )
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert "config" not in config["run_coordinator"]  # limits in two places is an error for Dagster
    assert config["telemetry"] == {"enabled": False}
    with pytest.raises(ValueError):
        bench_queue.instance_yaml(deploy, 0)
    with pytest.raises(ValueError):
        bench_queue.instance_yaml("storage:\n  sqlite: {}\n", 2)


def test_the_instance_yaml_passes_dagsters_own_validation(tmp_path):
    from dagster._core.instance.config import dagster_instance_config

    deploy = (ROOT / "deploy" / "dagster.yaml").read_text(encoding="utf-8")
    (tmp_path / "dagster.yaml").write_text(bench_queue.instance_yaml(deploy, 2), encoding="utf-8")
    config, _ = dagster_instance_config(str(tmp_path))  # raises on a schema error or conflicting run limits
    assert config["concurrency"]["runs"]["max_concurrent_runs"] == 2


def _run(i: int, created: float, launched: float, start: float, end: float, status: str = "SUCCESS") -> dict:
    return {
        "run_id": f"r{i}",
        "partition": f"e{i}",
        "status": status,
        "created": created,
        "launched": launched,
        "start": start,
        "end": end,
        "steps_s": end - start - 1,
        "steps": {"a": end - start - 2, "b": 1.0},
    }


def test_measure_from_run_records():
    runs = [_run(1, 100, 101, 103, 113), _run(2, 101, 102, 104, 114), _run(3, 102, 113, 115, 125)]
    m = bench_queue.measure(runs, submitted_at=100.0, bare=2.0, concurrency=2)
    assert m["total_s"] == 25.0  # first submission → last end
    assert m["per_evaluation_s"] == pytest.approx(25 / 3)
    assert m["ratio_to_bare"] == pytest.approx(25 / 3 / 2.0)
    assert (m["succeeded"], m["failed"], m["unfinished"]) == (3, 0, 0)
    assert m["run_s"]["median"] == 10.0  # RUN_START → end
    assert m["launch_to_end_s"]["median"] == 12.0
    assert m["startup_s"]["median"] == 2.0
    assert m["startup_share"] == pytest.approx(6 / 36)
    assert m["queue_wait_s"]["max"] == 11.0
    assert list(m["step_median_s"]) == ["a", "b"]
    lines = bench_queue.table(m)
    assert lines[0] == "| measure | target | measured | met |"
    assert "4.17× bare" in lines[3] and lines[3].endswith("| no |")  # over 4×


def test_measure_counts_a_failure_and_an_unfinished_run_apart():
    runs = [
        _run(1, 100, 101, 103, 113),
        _run(2, 100, 101, 103, 108, status="FAILURE"),
        {**_run(3, 100, 113, 115, 0), "status": "STARTED", "end": None},
    ]
    m = bench_queue.measure(runs, submitted_at=100.0, bare=10.0, concurrency=2)
    assert (m["finished"], m["succeeded"], m["failed"], m["unfinished"]) == (2, 1, 1, 1)
    assert m["total_s"] == 13.0
    assert m["per_evaluation_s"] == 6.5  # over the finished runs
    assert "PARTIAL" in bench_queue.table(m)[2]
    assert bench_queue.table(m)[3].endswith("| yes |")  # 0.65× bare


def test_evaluation_ids_are_distinct_and_sortable():
    ids = bench_queue.evaluation_ids(50)
    assert len(set(ids)) == 50 and ids == sorted(ids) and ids[0] == "2023-queue-synth-001"
