"""The code location loads, validates with Dagster's own CLI, and names every stage."""

import subprocess
import sys
from pathlib import Path

from tests.support import ROOT


def test_dagster_definitions_validate():
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Validation successful" in proc.stdout + proc.stderr


def test_defs_is_a_definitions_object_with_the_stages():
    import dagster as dg

    from pipeline.definitions import defs

    assert isinstance(defs, dg.Definitions)
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"receipts", "payments", "quarantine", "submission_inventory", "evaluation_summary"} <= keys
