"""Is the unattended pipeline healthy? For an outside monitor (cron, systemd timer, Nagios, a k8s probe).

Unhealthy when the last finished tick of a sensor or schedule that is switched on failed, or when a daemon
the instance needs has not sent a heartbeat within the threshold (or never has). Reads only the instance
(``DAGSTER_HOME``), so it answers even when the code location cannot load.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time

import dagster as dg
from dagster._core.scheduler.instigation import InstigatorStatus, TickStatus

DEFAULT_MAX_HEARTBEAT_AGE_S = 300
# Switched on in the UI or the CLI (RUNNING), or on by default in code and never switched off (DECLARED_IN_CODE).
ENABLED = {InstigatorStatus.RUNNING, InstigatorStatus.DECLARED_IN_CODE}
FINISHED_TICKS = [TickStatus.SUCCESS, TickStatus.SKIPPED, TickStatus.FAILURE]


@dataclasses.dataclass
class Health:
    problems: list[str]  # one line each, Chinese first
    lines: list[str]  # what is fine, for the reader

    @property
    def ok(self) -> bool:
        return not self.problems


def check(
    instance: dg.DagsterInstance, max_heartbeat_age_s: float = DEFAULT_MAX_HEARTBEAT_AGE_S, now: float | None = None
) -> Health:
    now = time.time() if now is None else now
    health = Health([], [])
    for state in sorted(instance.all_instigator_state(), key=lambda s: s.instigator_name):
        if state.status not in ENABLED:
            continue
        kind = state.instigator_type.value.lower()
        ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1, statuses=FINISHED_TICKS)
        if not ticks:
            health.lines.append(f"{kind} {state.instigator_name}: 尚无执行记录 / no tick yet")
        elif ticks[0].status == TickStatus.FAILURE:
            error = _root_cause(ticks[0].error)
            health.problems.append(
                f"{kind} {state.instigator_name}: 最近一次执行失败 / last tick failed "
                f"({_ago(now, ticks[0].timestamp)}): {error}"
            )
        else:
            health.lines.append(
                f"{kind} {state.instigator_name}: 正常 / last tick {ticks[0].status.value.lower()} "
                f"({_ago(now, ticks[0].timestamp)})"
            )
    heartbeats = instance.get_daemon_heartbeats()
    for daemon in instance.get_required_daemon_types():
        beat = heartbeats.get(daemon)
        if beat is None:
            health.problems.append(f"daemon {daemon}: 从未有心跳，dagster-daemon 未运行过？/ never sent a heartbeat")
        elif now - beat.timestamp > max_heartbeat_age_s:
            health.problems.append(
                f"daemon {daemon}: 心跳已过期 / heartbeat {_ago(now, beat.timestamp)}, "
                f"threshold {max_heartbeat_age_s:.0f} s"
            )
        else:
            health.lines.append(f"daemon {daemon}: 正常 / heartbeat {_ago(now, beat.timestamp)}")
    return health


def _root_cause(error) -> str:
    """The innermost error's first line: the sensor's own exception, not Dagster's SensorExecutionError around it."""
    if error is None:
        return "failed"
    while error.cause is not None:
        error = error.cause
    return error.message.strip().splitlines()[0]


def _ago(now: float, timestamp: float) -> str:
    return f"{max(0, now - timestamp):.0f} s ago"


def report(health: Health) -> str:
    head = "健康 / OK" if health.ok else f"异常 / UNHEALTHY: {len(health.problems)} problem(s)"
    return "\n".join([head, *(f"  ✗ {p}" for p in health.problems), *(f"  ✓ {line}" for line in health.lines)])


def run(max_heartbeat_age_s: float | None = None) -> int:
    """``python -m pipeline health``: print the status; 0 healthy, 1 unhealthy, 2 no instance configured."""
    if not os.environ.get("DAGSTER_HOME"):
        print("错误 / error: 未设置 DAGSTER_HOME（见 docs/deployment.md）/ DAGSTER_HOME is not set", file=sys.stderr)
        return 2
    with dg.DagsterInstance.get() as instance:
        health = check(instance, DEFAULT_MAX_HEARTBEAT_AGE_S if max_heartbeat_age_s is None else max_heartbeat_age_s)
    print(report(health))
    return 0 if health.ok else 1
