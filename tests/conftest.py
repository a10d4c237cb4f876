"""Shared fixtures: one real pipeline run over raw/ per test session, and a Dagster instance."""

from __future__ import annotations

import json

import pytest

from tests.support import HOHHOT, RAW


@pytest.fixture(scope="session")
def hohhot_run(tmp_path_factory):
    """The whole pipeline over raw/, through the same entry point as `python -m pipeline run`."""
    from pipeline.materialize import materialize_evaluation

    out = tmp_path_factory.mktemp("out")
    outcome = materialize_evaluation(HOHHOT, raw_root=str(RAW), out_root=str(out))
    return outcome


@pytest.fixture(scope="session")
def hohhot_summary(hohhot_run) -> dict:
    return json.loads((hohhot_run.out_dir / "summary.json").read_text(encoding="utf-8"))


@pytest.fixture
def instance(tmp_path):
    """A persistent Dagster instance (SQLite in a temp folder): schedule and sensor contexts refuse an ephemeral one."""
    import dagster as dg

    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as inst:
        yield inst


# Each folder is a marker, so a subset runs by name: `pytest -m "not system"`, `pytest -m hostile`.
FOLDER_MARKERS = {"unit": "unit", "integration": "integration", "hostile": "hostile", "system": "system"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        folder = item.path.relative_to(config.rootpath / "tests").parts[0]
        if folder in FOLDER_MARKERS:
            item.add_marker(FOLDER_MARKERS[folder])
