"""The portfolio over real runs: `python -m pipeline run` over raw/, the asset in the graph, and its refresh under
the daemon (the raw-submissions sensor, then the portfolio's automation condition, evaluated on a real instance)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pandas as pd

from pipeline.defs.partitions import EVALUATIONS
from pipeline.defs.resources import PipelinePaths
from pipeline.defs.sensors import raw_submissions_sensor
from pipeline.evaluation import scan
from pipeline.materialize import materialize_evaluation, materialize_portfolio
from tests.support import HOHHOT, RAW, ROOT, SELF_EVALUATION

PORTFOLIO = dg.AssetKey("portfolio")
FILES = ["manifest.json", "portfolio.csv", "portfolio.html", "portfolio.xlsx", "tables/portfolio.parquet"]
SECOND_YEAR = "2024-hohhot-pes"


def published_files(out: Path) -> dict[str, bytes]:
    folder = (out / "portfolio").resolve()
    return {rel: (folder / rel).read_bytes() for rel in FILES}


def test_run_over_raw_lists_every_evaluation_with_its_score_and_the_year_over_year_row(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "run", "--raw", str(RAW), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "组合视图 / portfolio: 3 项已评分的评价" in proc.stdout
    assert (out / "portfolio").is_symlink()  # published as an output set, like an evaluation's
    table = pd.read_csv(out / "portfolio" / "portfolio.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    found, errors = scan(RAW)
    scored = [ev for ev in found if ev.monitoring_cutoff is None]  # a monitoring cut-off is not scored
    assert len(scored) == 3 and len(found) > len(scored)
    assert not errors and sorted(table["evaluation_id"]) == sorted(ev.id for ev in scored)
    for ev in scored:
        summary = json.loads((out / ev.id / "summary.json").read_text(encoding="utf-8"))
        row = table.set_index("evaluation_id").loc[ev.id]
        assert (row["score"], row["grade"]) == (summary["score"]["total"], summary["score"]["grade"])
    rows = table.set_index("evaluation_id")
    assert (rows.loc[HOHHOT, "score"], rows.loc[HOHHOT, "grade"]) == ("84.88", "良")  # the seed's
    assert (rows.loc[SELF_EVALUATION, "programme_id"], rows.loc[SELF_EVALUATION, "year"]) == (SELF_EVALUATION, "2023")
    # The programme evaluated twice: 2024 against 2023 (hand-checked from the two summaries).
    yoy = rows.loc[SECOND_YEAR]
    assert (yoy["programme_id"], yoy["year"], yoy["previous_evaluation_id"]) == ("hohhot-pes", "2024", HOHHOT)
    assert (yoy["score"], yoy["grade"], yoy["score_change"]) == ("87.92", "良", "3.04")  # 87.92 − 84.88
    assert (yoy["arrival_rate"], yoy["arrival_rate_change"]) == ("90.21", "0.98")  # 27775 / 30790; 89.23
    assert (yoy["execution_rate"], yoy["execution_rate_change"]) == ("38.57", "-0.42")  # 10713.76 / 27775; 38.99
    assert (yoy["unmet_count"], yoy["not_collected_count"]) == ("4", "2")  # 7 and 3 in 2023
    assert yoy["newly_met_count"] == "3"
    assert set(yoy["newly_met"].split("、")) == {
        "新增城镇就业人员规模",
        "打造特色培训品牌数量",
        "“一网通办”政策经办系统服务率",
    }
    assert rows.loc[HOHHOT, "previous_evaluation_id"] == "" and rows.loc[HOHHOT, "top_findings"]

    # A rerun (one evaluation again, then the refresh) publishes a new set with the same bytes.
    before = published_files(out)
    first_set = (out / "portfolio").resolve()
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "run",
            "--raw",
            str(RAW),
            "--out",
            str(out),
            "--evaluation",
            SELF_EVALUATION,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert (out / "portfolio").resolve() != first_set
    assert published_files(out) == before


def test_the_portfolio_is_one_unpartitioned_asset_downstream_of_every_evaluation_partition():
    from pipeline.definitions import defs
    from pipeline.defs.assets.portfolio import REFRESH_CONDITION
    from pipeline.defs.jobs import evaluate_job

    graph = defs.resolve_asset_graph()
    node = graph.get(PORTFOLIO)
    assert node.partitions_def is None
    assert node.parent_keys == {dg.AssetKey("run_manifest")}
    assert graph.get(dg.AssetKey("run_manifest")).partitions_def is not None
    # every evaluation asset is upstream of it: the UI draws it below the whole graph
    assert {dg.AssetKey("receipts"), dg.AssetKey("evaluation_summary")} <= set(graph.upstream_key_iterator(PORTFOLIO))
    assert isinstance(node.partition_mappings[dg.AssetKey("run_manifest")], dg.AllPartitionMapping)
    assert node.automation_condition == REFRESH_CONDITION
    assert node.group_name == "portfolio"
    # the evaluation job (one partition) leaves it out; the refresh sensor targets it and runs by default
    job = defs.resolve_job_def(evaluate_job.name)
    assert PORTFOLIO not in job.asset_layer.executable_asset_keys
    assert dg.AssetKey("run_manifest") in job.asset_layer.executable_asset_keys
    sensor = defs.resolve_sensor_def("portfolio_refresh")
    assert isinstance(sensor, dg.AutomationConditionSensorDefinition)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.asset_selection.resolve(graph) == {PORTFOLIO}


def requests_portfolio(instance: dg.DagsterInstance, cursor) -> tuple[int, object]:
    """One tick of the portfolio_refresh sensor: how many portfolio runs it requests, and its new cursor."""
    from pipeline.definitions import defs

    result = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, asset_selection=dg.AssetSelection.assets(PORTFOLIO), cursor=cursor
    )
    return result.get_num_requested(PORTFOLIO), result.cursor


def test_a_changed_submission_refreshes_the_portfolio_under_the_daemon(instance, tmp_path):
    evaluation_id = SELF_EVALUATION  # the smaller of the two raw/ evaluations
    raw, out = tmp_path / "raw", tmp_path / "out"
    shutil.copytree(RAW / evaluation_id, raw / evaluation_id)
    paths = PipelinePaths(raw_root=str(raw), out_root=str(out))

    def sensor_tick(cursor: str | None) -> tuple[list[str], str | None]:
        with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"paths": paths}) as context:
            result = raw_submissions_sensor(context)
        for request in result.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions(EVALUATIONS, list(request.partition_keys))
        return [r.partition_key for r in result.run_requests or []], context.cursor

    # Nothing evaluated yet: nothing to refresh.
    count, cursor = requests_portfolio(instance, None)
    assert count == 0

    requested, raw_cursor = sensor_tick(None)
    assert requested == [evaluation_id]
    assert materialize_evaluation(evaluation_id, str(raw), str(out), instance).success  # the run the daemon launches
    count, cursor = requests_portfolio(instance, cursor)
    assert count == 1
    refreshed = materialize_portfolio(str(raw), str(out), instance)
    assert refreshed.success and refreshed.evaluations == [evaluation_id]
    first = pd.read_csv(out / "portfolio" / "portfolio.csv", dtype=str, encoding="utf-8-sig").iloc[0]
    assert (first["score"], first["execution_rate"]) == ("97.17", "89.10")

    count, cursor = requests_portfolio(instance, cursor)
    assert count == 0  # handled: no second refresh for the same publish

    # The finance section resends payments.csv with one payment corrected (205.40 → 150.40 万元).
    payments = raw / evaluation_id / "bureau" / "finance" / "payments.csv"
    text = payments.read_text(encoding="utf-8")
    assert text.count(",205.40,") == 1
    payments.write_text(text.replace(",205.40,", ",150.40,"), encoding="utf-8")
    requested, raw_cursor = sensor_tick(raw_cursor)
    assert requested == [evaluation_id]
    count, cursor = requests_portfolio(instance, cursor)
    assert count == 0  # the evaluation has not published anything new yet
    assert materialize_evaluation(evaluation_id, str(raw), str(out), instance).success
    count, cursor = requests_portfolio(instance, cursor)
    assert count == 1
    assert materialize_portfolio(str(raw), str(out), instance).success
    summary = json.loads((out / evaluation_id / "summary.json").read_text(encoding="utf-8"))
    second = pd.read_csv(out / "portfolio" / "portfolio.csv", dtype=str, encoding="utf-8-sig").iloc[0]
    assert second["execution_rate"] == summary["funds"]["execution_rate"] != first["execution_rate"]
    assert second["score"] == summary["score"]["total"]
    materialisations = instance.fetch_materializations(PORTFOLIO, limit=10).records
    assert len(materialisations) == 2
