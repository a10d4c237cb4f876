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


def test_a_yes_about_a_partition_or_a_table_is_remembered_and_a_no_asked_again():
    from pipeline.defs.instance import remember_yes

    with dg.DagsterInstance.ephemeral() as instance:
        storage = instance.event_log_storage
        asked: list[tuple] = []
        for name in ("has_dynamic_partition", "has_table"):
            method = getattr(storage, name)
            setattr(storage, name, lambda *a, _m=method, _n=name: asked.append((_n, *a)) or _m(*a))
        instance.add_dynamic_partitions("evaluations", ["2023-a"])
        assert remember_yes(instance) is True
        assert remember_yes(instance) is False  # once per instance
        asked.clear()

        for _ in range(3):
            assert instance.has_dynamic_partition("evaluations", "2023-a")
            assert not instance.has_dynamic_partition("evaluations", "2023-b")
        assert asked.count(("has_dynamic_partition", "evaluations", "2023-a")) == 1
        assert asked.count(("has_dynamic_partition", "evaluations", "2023-b")) == 3
        # Dagster asks whether the table exists before each lookup: once, then remembered.
        assert storage.has_table("dynamic_partitions") and storage.has_table("dynamic_partitions")
        assert asked.count(("has_table", "dynamic_partitions")) == 1

        # A partition this instance deletes is forgotten, and asked about again.
        instance.delete_dynamic_partition("evaluations", "2023-a")
        assert not instance.has_dynamic_partition("evaluations", "2023-a")
        assert asked.count(("has_dynamic_partition", "evaluations", "2023-a")) == 2


def test_only_that_instance_remembers():
    from pipeline.defs.instance import remember_yes

    with dg.DagsterInstance.ephemeral() as one, dg.DagsterInstance.ephemeral() as other:
        remember_yes(one)
        assert "has_dynamic_partition" in vars(one.event_log_storage)
        assert "has_dynamic_partition" not in vars(other.event_log_storage)
    assert remember_yes(None) is False
