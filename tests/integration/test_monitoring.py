"""`python -m pipeline run` over two monitoring cut-offs of one programme (tests/support/monitoring_example.py):
monitoring.xlsx and monitoring.html carry the hand-computed figures, the history holds both cut-offs, the
after-the-year assets skip without pretending to grade, and a rerun writes the same bytes."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import dagster as dg
import openpyxl
import pandas as pd
import pytest

from tests.support import ROOT
from tests.support.monitoring_example import write_folder


def _run(raw, out, *extra):
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}  # a throwaway instance
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "run", "--raw", str(raw), "--out", str(out), *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    raw, out = tmp_path_factory.mktemp("raw"), tmp_path_factory.mktemp("out")
    write_folder(raw, "demo-m03", cutoff=dt.date(2023, 3, 31))
    write_folder(raw, "demo-m07")
    done = _run(raw, out)
    assert done.returncode == 0, done.stdout + done.stderr
    return raw, out, done.stdout


def test_the_run_prints_the_monitoring_line(run):
    _, out, stdout = run
    assert "监控 monitoring: 截至 2023-07-31  序时进度 58.33%  执行率 39.05%（黄）  红 4 黄 6" in stdout
    assert str(out / "demo-m07" / "monitoring.xlsx") in stdout


def test_the_form_holds_the_hand_computed_figures(run):
    _, out, _ = run
    wb = openpyxl.load_workbook(out / "demo-m07" / "monitoring.xlsx")
    rows = [list(r) for r in wb["项目"].iter_rows(values_only=True)]
    assert next(r for r in rows if r[0] == "项目资金")[1:3] == ["年度预算数（万元）", "1—7月执行数（万元）"]
    # 82.00 of 210.00 万元 = 39.05 %; 序时进度 7/12 = 58.33 %; 82 × 12/7 = 140.57 万元
    assert next(r for r in rows if r[0] == "年度资金总额")[1:8] == [210, 82, 39.05, 58.33, 19.28, 140.57, "黄"]
    assert next(r for r in rows if r[0] == "其中：中央资金")[1:8] == [160, 72, 45, 58.33, 13.33, 123.43, "黄"]
    jobs = next(r for r in rows if r[2] == "新增就业人数")
    assert jobs[3:6] == ["≥1000人", "600人", "1029人"]  # straight line 600 × 12/7
    sub = [list(r) for r in wb["子项目"].iter_rows(values_only=True)]
    assert sub[2] == ["2", "县级服务站", 60, 12, 20, 58.33, 38.33, 20.57, "红"]
    county = [list(r) for r in wb["旗县区"].iter_rows(values_only=True)]
    assert county[1] == ["150100", "市本级", 150, 70, 46.67, 58.33, 11.66, 120, "黄"]


def test_the_page_has_red_first_and_the_history_of_both_cutoffs(run):
    _, out, _ = run
    html = (out / "demo-m07" / "monitoring.html").read_text(encoding="utf-8")
    assert html.index(">红<") < html.index(">黄<")
    # 2023-03-31: 3/12 = 25.00 %; 40.00 of 210.00 spent by then = 19.05 %
    assert "2023-03-31（已发布）、2023-07-31（本期）" in html
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert all(s in svg for s in ("25.00%", "19.05%", "58.33%", "39.05%"))
    earlier = json.loads((out / "demo-m03" / "summary.json").read_text(encoding="utf-8"))["monitoring"]
    assert (earlier["time_progress"], earlier["execution_rate"], earlier["rows_excluded_after_cutoff"]) == (
        "25.00",
        "19.05",
        4,
    )


def test_findings_summary_and_skipped_assets(run):
    _, out, _ = run
    folder = out / "demo-m07"
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["monitoring"]["lines"] == {"红": 4, "黄": 6, "绿": 2}
    assert summary["rows"] == {"read": 18, "accepted": 18, "quarantined": 0}
    assert "score" not in summary and summary["artifacts"] == {}
    assert not (folder / "report.html").exists()
    assert pd.read_csv(folder / "indicator_scores.csv").empty
    findings = pd.read_csv(folder / "findings.csv", dtype=str)
    red = findings[findings["code"] == "monitoring_red"]
    assert sorted(red["subject"]) == ["county:150102", "indicator:brands", "source:municipal", "subproject:2"]
    assert set(red["severity"]) == {"high"}
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["outputs"]
    assert {"monitoring.xlsx", "monitoring.html", "monitoring_execution.csv"} <= set(manifest)


def test_a_rerun_writes_the_same_bytes(run):
    raw, out, _ = run
    before = json.loads((out / "demo-m07" / "manifest.json").read_text(encoding="utf-8"))["outputs"]
    again = _run(raw, out, "--evaluation", "demo-m07")
    assert again.returncode == 0, again.stdout + again.stderr
    after = json.loads((out / "demo-m07" / "manifest.json").read_text(encoding="utf-8"))["outputs"]
    assert after == before


def test_monitoring_of_a_folder_without_a_cutoff_reads_none_of_its_inputs(tmp_path, instance):
    """The asset depends on the money and indicator kinds but reads them only for a cut-off: materialised alone,
    with none of them stored, a folder without one gets its empty tables (an input would have failed the run)."""
    from pipeline.definitions import defs
    from pipeline.defs.assets import monitoring
    from pipeline.defs.io_manager import EvaluationIOManager
    from pipeline.defs.partitions import evaluations
    from pipeline.defs.resources import PipelinePaths
    from tests.support import HOHHOT, RAW

    instance.add_dynamic_partitions(evaluations.name, [HOHHOT])
    paths = PipelinePaths(raw_root=str(RAW), out_root=str(tmp_path / "out"))
    result = dg.materialize(
        list(defs.assets),
        selection=[*monitoring.TABLES, "monitoring_summary"],  # the multi-asset's outputs
        instance=instance,
        partition_key=HOHHOT,
        resources={"paths": paths, "io_manager": EvaluationIOManager(paths=paths)},
    )
    assert result.success
    keys = {m.asset_key.path[-1] for m in result.get_asset_materialization_events() for m in [m.materialization]}
    assert {"monitoring_execution", "monitoring_lineage", "monitoring_summary"} <= keys
    assert not [e for e in result.all_events if e.event_type_value == "LOADED_INPUT"]
    deps = {k.path[-1] for k in defs.resolve_asset_graph().get(dg.AssetKey("monitoring_execution")).parent_keys}
    assert {"county_payments", "indicator_monitoring", "subprojects"} <= deps  # still upstream in the graph
