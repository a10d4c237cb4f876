"""Dagster definitions, one module per kind: assets/, checks, resources, partitions, schedules, sensors."""
