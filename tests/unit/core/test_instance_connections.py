"""A run's instance keeps its PostgreSQL connections; other instances are left alone."""

import dagster as dg

from pipeline.defs.instance import hold_connections, on_postgres


def test_an_instance_not_on_postgres_is_left_as_it_is():
    with dg.DagsterInstance.ephemeral() as instance:
        storage = instance.event_log_storage
        assert not on_postgres(instance)
        assert hold_connections(instance) is False
        assert instance.event_log_storage is storage


def test_no_instance_is_nothing_to_do():
    assert hold_connections(None) is False


def test_the_check_does_not_import_dagster_postgres():
    """Importing it costs most of a second; an in-memory instance (every `pipeline run`) must not pay it."""
    import subprocess
    import sys

    script = (
        "import sys, dagster as dg; from pipeline.defs.instance import hold_connections; "
        "assert hold_connections(dg.DagsterInstance.ephemeral()) is False; "
        "assert 'dagster_postgres' not in sys.modules, 'imported'"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
