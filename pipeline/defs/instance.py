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
"""

from __future__ import annotations

import sys
import weakref

import dagster as dg

STATEMENT_TIMEOUT_MS = 0  # none, as a run has without this (the webserver's 15 s is for its UI queries)
POOL_RECYCLE_S = 3600  # a connection older than an hour is replaced when next taken
MAX_OVERFLOW = 10  # connections beyond the held one while threads of the run query at once

_held: weakref.WeakSet[dg.DagsterInstance] = weakref.WeakSet()


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
