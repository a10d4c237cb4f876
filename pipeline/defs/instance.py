"""A run keeps its PostgreSQL connections open, instead of opening one per query of its instance.

dagster-postgres builds its run, event-log and schedule storages on SQLAlchemy's ``NullPool``: every
query, every event a step logs, connects to PostgreSQL anew (a TCP connection, SCRAM authentication and
a new server process each time) and closes again. Only the webserver holds its connections, through
:meth:`dagster.DagsterInstance.optimize_for_webserver`. A run logs some 600 events and asks for asset
versions as it goes, about 2,700 connections per Hohhot-sized run; measured here on PostgreSQL 15, one
evaluation run against a PostgreSQL instance took 53.9 s this way and 19.9 s with its connections held
(``docs/deployment.md``, "The run's database connections").

:func:`hold_connections` gives the run's instance the webserver's pooling: one connection per storage,
kept for the run, and more while threads use it at once (closed again when they are returned). It runs
when a run's resources are set up (:class:`pipeline.defs.resources.PipelinePaths`), so it covers every
way a run starts: the run queue's run worker, a Kubernetes run pod, ``python -m pipeline run`` with
``DAGSTER_HOME`` set. An instance on SQLite or in memory is left as it is.

:func:`remember_yes` spares the same run's repeated existence questions, on any SQL event log
(PostgreSQL, SQLite, in memory). For every step input and output Dagster asks the event log whether
the run's dynamic partition exists, and before most writes whether a table exists: in a Hohhot run
567 partition lookups and 787 catalogue queries (``has_table``: of ``dynamic_partitions`` before each
partition lookup, of ``asset_check_executions`` before each check result, of ``asset_event_tags``
before each materialisation's tags), 1,354 of the run's 3,530 SQL statements, and 42 more asking
whether a column exists (``has_asset_key_col``). Once an answer is yes it stays yes for the run:
``dagster instance migrate`` adds tables and columns and drops none, and the run's partition existed
when Dagster created the run. So a yes is remembered for the run's instance and a no asked again.
"""

from __future__ import annotations

import functools
import sys
import weakref
from collections.abc import Callable, Hashable
from typing import Any

import dagster as dg

STATEMENT_TIMEOUT_MS = 0  # none, as a run has without this (the webserver's 15 s is for its UI queries)
POOL_RECYCLE_S = 3600  # a connection older than an hour is replaced when next taken
MAX_OVERFLOW = 10  # connections beyond the held one while threads of the run query at once

_held: weakref.WeakSet[dg.DagsterInstance] = weakref.WeakSet()
_remembering: weakref.WeakSet[dg.DagsterInstance] = weakref.WeakSet()


def hold_connections(instance: dg.DagsterInstance | None) -> bool:
    """Make ``instance``'s PostgreSQL storages keep their connections; True when it did (once per instance)."""
    if instance is None or instance in _held or not on_postgres(instance):
        return False
    instance.optimize_for_webserver(
        statement_timeout=STATEMENT_TIMEOUT_MS, pool_recycle=POOL_RECYCLE_S, max_overflow=MAX_OVERFLOW
    )
    _held.add(instance)
    return True


def on_postgres(instance: dg.DagsterInstance) -> bool:
    """Whether the instance's event log is in PostgreSQL (dagster-postgres).

    An instance on PostgreSQL was built from dagster-postgres' classes, so when that package is not
    imported yet the answer is no, without importing it (0.3–0.9 s, on every ``python -m pipeline run``).
    """
    module = sys.modules.get("dagster_postgres")
    return module is not None and isinstance(instance.event_log_storage, module.PostgresEventLogStorage)


def remember_yes(instance: dg.DagsterInstance | None) -> bool:
    """Answer the run's repeated "does this table / partition exist?" from memory once it was yes.

    Wraps the methods of this instance's event-log storage object (no other instance, no class): the
    run's instance only, which :class:`pipeline.defs.resources.PipelinePaths` and
    :func:`pipeline.materialize.materialize_evaluation` hand here. A partition this storage deletes is
    forgotten at once. True when it wrapped them (once per instance).
    """
    if instance is None or instance in _remembering:
        return False
    from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage

    storage = instance.event_log_storage
    if not isinstance(storage, SqlEventLogStorage):
        return False
    tables: set[Hashable] = set()
    partitions: set[Hashable] = set()
    storage.has_table = _yes_remembered(storage.has_table, tables)  # type: ignore[method-assign]
    storage.has_asset_key_col = _yes_remembered(storage.has_asset_key_col, tables)  # type: ignore[method-assign]
    storage.has_dynamic_partition = _yes_remembered(  # type: ignore[method-assign]
        storage.has_dynamic_partition, partitions
    )
    delete = storage.delete_dynamic_partition

    @functools.wraps(delete)
    def delete_and_forget(*args: Any, **kwargs: Any) -> None:
        partitions.clear()
        delete(*args, **kwargs)

    storage.delete_dynamic_partition = delete_and_forget  # type: ignore[method-assign]
    _remembering.add(instance)
    return True


def _yes_remembered(ask: Callable[..., bool], yes: set[Hashable]) -> Callable[..., bool]:
    """``ask`` with the arguments it said yes to remembered."""

    @functools.wraps(ask)
    def remembered(*args: Any, **kwargs: Any) -> bool:
        key = (args, tuple(sorted(kwargs.items())))
        if key in yes:
            return True
        answer = bool(ask(*args, **kwargs))
        if answer:
            yes.add(key)
        return answer

    return remembered
