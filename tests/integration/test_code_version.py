"""Honest code versions: change one scoring module in a copy of the code, and exactly the assets whose
import closure holds it get a new ``code_version``; Dagster reports them and everything downstream of
them stale, and nothing upstream.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from pipeline import codeversion
from tests.support import ROOT as REPO

EVALUATION = "2023-hohhot-pes"

# Runs inside the copy: materialise once, or report every asset's code version and stale status.
SCRIPT = textwrap.dedent("""
    import json, sys
    import dagster as dg
    from dagster._utils.test.data_versions import get_stale_status_resolver
    from pipeline.definitions import defs
    from pipeline.materialize import materialize_evaluation, materialize_portfolio

    mode, evaluation, raw_root, out_root = sys.argv[1:]
    instance = dg.DagsterInstance.get()
    if mode == "materialize":
        assert materialize_evaluation(evaluation, raw_root, out_root, instance).success
        assert materialize_portfolio(raw_root, out_root, instance).success  # as `run` does after the evaluations
    graph = defs.resolve_asset_graph()
    resolver = get_stale_status_resolver(instance, list(defs.assets))
    print(json.dumps({key.to_user_string(): [graph.get(key).code_version,
                                             resolver.get_status(key, evaluation if graph.get(key).is_partitioned
                                                                 else None).value]
                      for key in sorted(graph.materializable_asset_keys)}))
""")


def _state(proj: Path, home: Path, mode: str, tmp: Path) -> dict[str, list[str]]:
    env = {**os.environ, "PYTHONPATH": str(proj), "DAGSTER_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode, EVALUATION, str(REPO / "raw"), str(tmp / "out")],
        cwd=proj,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_one_changed_scoring_module_makes_its_assets_and_downstream_stale_and_nothing_upstream(tmp_path):
    proj, home = tmp_path / "proj", tmp_path / "home"
    shutil.copytree(REPO / "pipeline", proj / "pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")

    before = _state(proj, home, "materialize", tmp_path)
    assert {status for _, status in before.values()} == {"FRESH"}

    methods = proj / "pipeline" / "scoring" / "methods.py"
    methods.write_text(methods.read_text(encoding="utf-8") + "\n# a change to a scoring method\n", encoding="utf-8")
    after = _state(proj, home, "inspect", tmp_path)

    changed = {k for k in after if after[k][0] != before[k][0]}
    stale = {k for k, (_, status) in after.items() if status == "STALE"}
    scoring = {
        "indicator_scores",
        "dimension_scores",
        "subproject_status",
        "scoring_findings",
        "scoring_lineage",
        "scoring_summary",
    }
    downstream = {
        "findings",
        "lineage",
        "evaluation_figures",
        "data_quality",
        "report_layout",
        "evaluation_report",
        "evaluation_summary",
        "run_manifest",
    }
    # The portfolio (unpartitioned, below every partition's run_manifest) does not import the scoring methods, and
    # Dagster does not carry a partition's staleness across the all-partitions mapping: it is refreshed when an
    # evaluation publishes again (its automation condition), not marked stale.
    assert after["portfolio"] == before["portfolio"] == [before["portfolio"][0], "FRESH"]
    upstream = set(after) - scoring - downstream - {"portfolio"}
    assert scoring <= changed and not (changed & upstream)
    assert stale == scoring | downstream
    assert {"submission_inventory", "receipts", "funds_by_source", "reconciliation_summary"} <= upstream


def test_closure_follows_imports_including_parents_and_lazy_imports_but_not_type_checking():
    closure = codeversion.closure("pipeline.defs.assets.scoring")
    assert "pipeline.scoring.methods" in closure and "pipeline.scoring" in closure  # the package __init__ runs too
    assert "pipeline.reconcile" not in codeversion.closure("pipeline.defs.assets.ingest")
    # evaluation imports the limits model only under TYPE_CHECKING, the framework loader lazily in a function
    assert "pipeline.scoring.framework" in codeversion.closure("pipeline.evaluation")
    assert "pipeline.limits" not in codeversion.imports("pipeline.evaluation")


def test_imports_are_found_in_every_kind_of_block_and_not_under_type_checking():
    import ast

    source = textwrap.dedent("""
        import a
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            import never
        else:
            import b
        def f():
            import c
            with open("x"):
                from d import e
        class K:
            import g
        try:
            import h
        except ImportError:
            import i
        else:
            import j
        finally:
            import k
        for _ in ():
            import l
        else:
            import m
        while False:
            import n
        match 1:
            case 1:
                import o
        async def q():
            async with x:
                import p
        handler = lambda: __import__("not_a_statement")
    """)
    found = {a.name for node in codeversion._import_nodes(ast.parse(source)) for a in node.names}
    found |= {node.module for node in codeversion._import_nodes(ast.parse(source)) if isinstance(node, ast.ImportFrom)}
    assert found == {*"abcdeghijklmnop", "typing", "TYPE_CHECKING"}
