"""`python -m pipeline health` against an instance: a failed tick of a running sensor, a silent daemon, recovery.

The sensor is switched on as `dagster sensor start` records it, its ticks are evaluated for real (a raw root
that is gone, then back) and recorded with the outcome the daemon would store, and daemon heartbeats are
written as the daemon writes them.
"""

from __future__ import annotations

import shutil
import sys
import time

import dagster as dg
import pytest
from dagster._core.definitions.run_request import InstigatorType
from dagster._core.remote_origin import RegisteredCodeLocationOrigin, RemoteInstigatorOrigin, RemoteRepositoryOrigin
from dagster._core.scheduler.instigation import (
    InstigatorState,
    InstigatorStatus,
    SensorInstigatorData,
    TickData,
    TickStatus,
)
from dagster._daemon.types import DaemonHeartbeat
from dagster._utils.error import serializable_error_info_from_exc_info

from pipeline import cli
from pipeline.defs.resources import PipelinePaths
from pipeline.defs.sensors import raw_submissions_sensor
from tests.support import HOHHOT, RAW

SENSOR = "raw_submissions_sensor"


@pytest.fixture
def instance(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))  # what `python -m pipeline health` reads
    with dg.instance_for_test(temp_dir=str(home)) as inst:
        yield inst


@pytest.fixture
def sensor_on(instance) -> InstigatorState:
    """raw_submissions_sensor switched on (RUNNING), as `dagster sensor start` stores it."""
    origin = RemoteInstigatorOrigin(
        RemoteRepositoryOrigin(RegisteredCodeLocationOrigin("pes_evaluation"), "__repository__"), SENSOR
    )
    return instance.add_instigator_state(
        InstigatorState(origin, InstigatorType.SENSOR, InstigatorStatus.RUNNING, SensorInstigatorData(min_interval=60))
    )


def heartbeat(instance: dg.DagsterInstance, age_s: float = 0) -> None:
    for daemon in instance.get_required_daemon_types():
        instance.add_daemon_heartbeat(DaemonHeartbeat(time.time() - age_s, daemon, None, None))


def sensor_tick(instance: dg.DagsterInstance, state: InstigatorState, paths: PipelinePaths) -> TickStatus:
    """Evaluate the real sensor and record the tick with the outcome the daemon stores (failure with its error)."""
    data = dict(
        instigator_origin_id=state.instigator_origin_id,
        instigator_name=SENSOR,
        instigator_type=InstigatorType.SENSOR,
        timestamp=time.time(),
        selector_id=state.selector_id,
        run_ids=[],
    )
    try:
        with dg.build_sensor_context(instance=instance, resources={"paths": paths}) as context:
            result = raw_submissions_sensor(context)
    except Exception:
        tick = TickData(status=TickStatus.FAILURE, error=serializable_error_info_from_exc_info(sys.exc_info()), **data)
    else:
        ran = bool(result.run_requests)
        tick = TickData(
            status=TickStatus.SUCCESS if ran else TickStatus.SKIPPED,
            skip_reason=None if ran else result.skip_reason.skip_message,
            **data,
        )
    return instance.create_tick(tick).status


def health(capsys) -> tuple[int, str]:
    code = cli.main(["health"])
    return code, capsys.readouterr().out


def test_health_fails_after_a_failed_tick_and_recovers_after_a_good_one(instance, sensor_on, tmp_path, capsys):
    raw = tmp_path / "raw"
    paths = PipelinePaths(raw_root=str(raw), out_root=str(tmp_path / "out"))
    heartbeat(instance)
    assert health(capsys) == (
        0,
        f"健康 / OK\n  ✓ sensor {SENSOR}: 尚无执行记录 / no tick yet\n"
        + "".join(f"  ✓ daemon {d}: 正常 / heartbeat 0 s ago\n" for d in instance.get_required_daemon_types()),
    )

    assert sensor_tick(instance, sensor_on, paths) == TickStatus.FAILURE  # the raw root is not mounted
    code, out = health(capsys)
    assert code == 1
    assert out.splitlines()[:2] == [
        "异常 / UNHEALTHY: 1 problem(s)",
        f"  ✗ sensor {SENSOR}: 最近一次执行失败 / last tick failed (0 s ago): "
        f"pipeline.evaluation.EvaluationError: {raw}: 原始数据目录不存在 / raw root does not exist",
    ]

    shutil.copytree(RAW / HOHHOT, raw / HOHHOT)
    assert sensor_tick(instance, sensor_on, paths) == TickStatus.SUCCESS
    code, out = health(capsys)
    assert code == 0
    assert f"  ✓ sensor {SENSOR}: 正常 / last tick success (0 s ago)" in out.splitlines()


def test_a_stopped_sensor_does_not_count(instance, sensor_on, tmp_path, capsys):
    heartbeat(instance)
    sensor_tick(instance, sensor_on, PipelinePaths(raw_root=str(tmp_path / "gone"), out_root=str(tmp_path)))
    instance.update_instigator_state(sensor_on.with_status(InstigatorStatus.STOPPED))
    assert health(capsys)[0] == 0


def test_health_fails_when_the_daemon_is_silent_or_never_ran(instance, capsys):
    code, out = health(capsys)
    assert code == 1
    assert "  ✗ daemon SENSOR: 从未有心跳，dagster-daemon 未运行过？/ never sent a heartbeat" in out.splitlines()

    heartbeat(instance, age_s=301)
    code, out = health(capsys)
    assert code == 1
    assert "  ✗ daemon SENSOR: 心跳已过期 / heartbeat 301 s ago, threshold 300 s" in out.splitlines()
    assert cli.main(["health", "--max-heartbeat-age", "600"]) == 0


def test_health_without_an_instance_says_so(monkeypatch, capsys):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert cli.main(["health"]) == 2
    assert "DAGSTER_HOME" in capsys.readouterr().err
