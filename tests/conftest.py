"""Shared fixtures: one real pipeline run over raw/ per test session, and system-program gates."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "raw"
HOHHOT = "2023-hohhot-pes"
SELF_EVALUATION = "2023-tumote-skills-self"  # the unit self-evaluation example (自评表)


def require_program(name: str) -> str:
    """Path of a system program; skip visibly when absent, fail when CI demands system deps."""
    path = shutil.which(name)
    if path:
        return path
    reason = f"system program '{name}' is not installed (.ci/run installs it)"
    if os.environ.get("PIPELINE_REQUIRE_SYSTEM_DEPS") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


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
