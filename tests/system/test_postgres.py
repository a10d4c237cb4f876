"""The production instance (deploy/dagster.yaml) against a real PostgreSQL: a Hohhot run succeeds and is recorded there."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
import sqlalchemy
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

from pipeline.defs.instance import hold_connections
from pipeline.defs.resources import PipelinePaths
from tests.support import HOHHOT, RAW, ROOT
from tests.support.pg import throwaway_database

DEPLOY_YAML = ROOT / "deploy" / "dagster.yaml"
# The environment variables deploy/dagster.yaml reads, by postgres_db field.
PG_ENV = {
    "username": "DAGSTER_PG_USERNAME",
    "password": "DAGSTER_PG_PASSWORD",
    "hostname": "DAGSTER_PG_HOST",
    "db_name": "DAGSTER_PG_DB",
    "port": "DAGSTER_PG_PORT",
}


@pytest.fixture
def pg_instance(tmp_path, monkeypatch):
    """(instance loaded from deploy/dagster.yaml in a temp DAGSTER_HOME, the database it writes to)."""
    with throwaway_database() as db:
        for field, variable in PG_ENV.items():
            monkeypatch.setenv(variable, str(db[field]))
        home = tmp_path / "dagster_home"
        home.mkdir()
        shutil.copy(DEPLOY_YAML, home / "dagster.yaml")
        monkeypatch.setenv("DAGSTER_HOME", str(home))
        # Disposed before the database is dropped, so no pooled connection outlives it.
        with dg.DagsterInstance.get() as instance:
            yield instance, db


@contextlib.contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements this process sends through SQLAlchemy meanwhile."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append(statement)

    sqlalchemy.event.listen(sqlalchemy.engine.Engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sqlalchemy.event.remove(sqlalchemy.engine.Engine, "before_cursor_execute", record)


def query(db: dict, sql: str, *params) -> list[tuple]:
    con = psycopg2.connect(
        user=db["username"], password=db["password"], host=db["hostname"], port=db["port"], dbname=db["db_name"]
    )
    try:
        with con.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        con.close()


def test_deploy_yaml_puts_every_storage_in_postgres(pg_instance):
    instance, db = pg_instance
    assert isinstance(instance.run_storage, PostgresRunStorage)
    assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
    assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
    tables = {t for (t,) in query(db, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"runs", "run_tags", "event_logs", "asset_keys", "dynamic_partitions", "instigators", "job_ticks"} <= tables


def test_turning_the_schedule_on_is_recorded_in_postgres(pg_instance):
    _, db = pg_instance
    # As docs/deployment.md says to do it; the CLI reads DAGSTER_HOME and DAGSTER_PG_* from the environment.
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "dagster"),
            "schedule",
            "start",
            "nightly_evaluations",
            "-w",
            "workspace.yaml",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [(kind, status, body)] = query(db, "SELECT instigator_type, status, instigator_body FROM instigators")
    assert (kind, status) == ("SCHEDULE", "RUNNING")
    assert '"nightly_evaluations"' in body


def test_hohhot_run_against_postgres_is_recorded_there(pg_instance, tmp_path):
    from pipeline.definitions import defs
    from pipeline.defs.automation import last_versions
    from pipeline.fingerprint import code_version, evaluation_fingerprint
    from pipeline.materialize import materialize_evaluation

    instance, db = pg_instance
    sessions = "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
    [(before,)] = query(db, sessions)
    with statements() as sent:
        outcome = materialize_evaluation(
            HOHHOT, raw_root=str(RAW), out_root=str(tmp_path / "out"), dagster_instance=instance
        )
    assert outcome.success, (outcome.failed_checks, outcome.failed_steps)
    # The run held its connections (pipeline.defs.instance): dagster-postgres alone connects once per query,
    # about 2,700 times in this run.
    [(after,)] = query(db, sessions)
    assert after - before < 200
    # It asked once whether each table and its partition exist (pipeline.defs.instance.remember_yes), not
    # before every step input and output: 787 catalogue queries and 567 partition lookups without that.
    said = [" ".join(s.split()) for s in sent]
    tables = [s for s in said if s.startswith("SELECT pg_catalog.pg_class.relname FROM")]
    lookups = [s for s in said if s.startswith("SELECT dynamic_partitions.partition FROM")]
    assert len(tables) <= 5 and len(lookups) <= 3, (len(tables), len(lookups))
    assert len(said) > 1000  # the listener saw the run's statements
    assert outcome.summary["score"]["total"] == "84.88"
    assert outcome.summary["funds"]["by_source"]["county"]["received"] == "500.00"

    [(run_id, status)] = query(db, "SELECT run_id, status FROM runs")
    assert status == "SUCCESS"
    assert query(db, "SELECT value FROM run_tags WHERE run_id = %s AND key = 'dagster/partition'", run_id) == [
        (HOHHOT,)
    ]
    assert query(db, "SELECT partition FROM dynamic_partitions WHERE partitions_def_name = 'evaluations'") == [
        (HOHHOT,)
    ]

    materialised = query(
        db,
        "SELECT asset_key, partition FROM event_logs "
        "WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION'",
        run_id,
    )
    graph = defs.resolve_asset_graph()
    # Every asset of the evaluation; the portfolio (across evaluations, unpartitioned) is refreshed by its own run.
    evaluation_assets = {k for k in graph.materializable_asset_keys if graph.get(k).partitions_def is not None}
    assert dg.AssetKey("portfolio") in set(graph.materializable_asset_keys) - evaluation_assets
    assert {dg.AssetKey.from_db_string(key) for key, _ in materialised} == evaluation_assets
    assert {partition for _, partition in materialised} == {HOHHOT}
    [(checks,)] = query(
        db,
        "SELECT count(*) FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_CHECK_EVALUATION'",
        run_id,
    )
    assert checks == len(graph.asset_check_keys)

    # What the nightly schedule reads back from PostgreSQL matches the inputs and code just run: no rerun.
    assert last_versions(instance, HOHHOT) == (evaluation_fingerprint(RAW / HOHHOT), code_version())


def test_a_run_holds_its_connections_from_its_resources(pg_instance, tmp_path):
    instance, _ = pg_instance
    paths = PipelinePaths(raw_root=str(tmp_path), out_root=str(tmp_path))

    @dg.asset
    def touches_paths(paths: PipelinePaths) -> None:
        assert paths.raw_root == str(tmp_path)

    assert dg.materialize([touches_paths], instance=instance, resources={"paths": paths}).success
    assert hold_connections(instance) is False  # the run's resource set-up held them already


def test_a_sensor_tick_keeps_dagsters_connections(pg_instance, tmp_path):
    instance, _ = pg_instance
    # Resources set up outside a run, as for a sensor's or a schedule's tick.
    with dg.build_resources(
        {"paths": PipelinePaths(raw_root=str(tmp_path), out_root=str(tmp_path))}, instance=instance
    ):
        pass
    assert hold_connections(instance) is True  # nothing had held them
