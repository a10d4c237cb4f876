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
