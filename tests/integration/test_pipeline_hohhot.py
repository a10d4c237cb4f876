"""The whole pipeline over raw/2023-hohhot-pes reproduces every figure the seed's report states."""

import subprocess
import sys

import duckdb
import pytest

from tests.support import HOHHOT, ROOT

SEED_SOURCES = {
    # planned, received, spent, carried_forward, recovered (万元) — the seed's 一、基本情况
    "central": ("10000.00", "10000.00", "6606.26", "1279.74", "2114.00"),
    "provincial": ("5000.00", "5000.00", "1514.97", "0.00", "0.00"),
    "municipal": ("9710.00", "9710.00", "103.60", "0.00", "0.00"),
    "county": ("3815.00", "500.00", "223.93", "0.00", "0.00"),
    "self_raised": ("2265.00", "2265.00", "2265.00", "0.00", "0.00"),
}
MEASURES = ("planned", "received", "spent", "carried_forward", "recovered")
UNMET = [
    "新增城镇就业人员规模",
    "登记失业人员规模",
    "打造特色培训品牌数量",
    "“一网通办”政策经办系统服务率",
    "新增技能人才数",
    "技能劳动者总量占比",
    "接受职业培训后取得职业资格证书人员比例",
]
NOT_COLLECTED = ["服务高校毕业生就业人次", "“一网通办”求职招聘系统服务人次", "公共就业服务事项网办率"]
SATISFACTION = ["公共就业服务满意度", "职业技能培训对象满意度", "就业扶持政策经办服务满意度"]


def test_run_succeeds_with_nothing_quarantined(hohhot_run, hohhot_summary):
    assert hohhot_run.success, (hohhot_run.failed_checks, hohhot_run.failed_steps)
    assert hohhot_run.failed_checks == []
    rows = hohhot_summary["rows"]
    assert rows["quarantined"] == 0
    assert rows["read"] == rows["accepted"] > 600
    assert hohhot_summary["files"] == {"read": 21, "rejected": 0, "unrecognised": 0, "missing": 0}
    assert hohhot_summary["evaluation_id"] == HOHHOT


def test_fund_totals_and_sources_are_the_seeds(hohhot_summary):
    funds = hohhot_summary["funds"]
    assert [funds[m] for m in MEASURES] == ["30790.00", "27475.00", "10713.76", "1279.74", "2114.00"]
    for source, expected in SEED_SOURCES.items():
        assert tuple(funds["by_source"][source][m] for m in MEASURES) == expected, source
    assert {g: v["planned"] for g, v in funds["by_group"].items()} == {"1": "7830.00", "2": "18960.00", "3": "4000.00"}
    assert (funds["arrival_rate"], funds["execution_rate"]) == ("89.23", "38.99")
    assert funds["by_source"]["county"]["arrival_rate"] == "13.11"
    assert hohhot_summary["coverage"] == {"projects_evaluated": 19, "projects_total": 19, "budget_share": "100.00"}


def test_score_grade_and_indicator_lists_are_the_seeds(hohhot_summary):
    score = hohhot_summary["score"]
    assert (score["total"], score["grade"]) == ("84.88", "良")
    assert set(score["by_dimension"]) == {"decision", "process", "output", "outcome"}
    assert sum(round(float(v) * 100) for v in score["by_dimension"].values()) == 8488
    assert "self_evaluation" in score["alternatives"]
    ind = hohhot_summary["indicators"]
    assert ind["unmet"] == UNMET
    assert ind["not_collected"] == NOT_COLLECTED
    by_name = {v["name"]: v for v in ind["by_code"].values()}
    assert all(by_name[n]["status"] == "met" for n in SATISFACTION)
    assert ind["total_count"] == ind["met_count"] + len(UNMET) + len(NOT_COLLECTED)


def test_subproject_status_lists_are_the_seeds(hohhot_summary):
    assert hohhot_summary["subprojects"] == {
        "completed": [str(i) for i in [1, 2, 3, 4, 5, *range(9, 19)]],
        "delayed_or_paused": ["6", "7", "8"],
        "ongoing": ["19"],
    }


def test_tables_are_queryable_in_duckdb_with_money_in_fen(hohhot_run):
    with duckdb.connect(str(hohhot_run.out_dir / "pipeline.duckdb"), read_only=True) as con:
        types = dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'payments'"
            ).fetchall()
        )
        assert types["amount_fen"] == "BIGINT"
        county = con.execute("SELECT received FROM funds_by_source WHERE key = 'county'").fetchone()[0]
        assert county == 500 * 1_000_000  # 500.00 万元 in 分
        n = con.execute(
            "SELECT count(*) FROM funds_lineage WHERE output_table = 'cells' "
            "AND output_key LIKE '%|county|%' AND measure = 'received'"
        ).fetchone()[0]
        assert n == 5  # five counties' own matching receipts make up 500.00


def test_finding_cells_from_the_stages_lineage_are_those_of_the_unified_lineage(hohhot_run):
    """The report takes a finding's cells from the stages' edge tables (it no longer waits for ``lineage``):
    the same pairs as the unified lineage gives, where the stages' table names are asset names."""
    from pipeline.report.problems import finding_cells

    tables = hohhot_run.out_dir / "tables"
    cells = finding_cells(*(tables / f"{name}_lineage.parquet" for name in ("funds", "scoring", "monitoring")))
    with duckdb.connect() as con:
        unified = con.execute(
            """
            WITH edges AS (SELECT * FROM read_parquet($path)),
                 found AS (SELECT * FROM edges WHERE output_table IN ('reconciliation_findings', 'scoring_findings')),
                 cells AS (SELECT * FROM edges WHERE output_table = 'funds_cells')
            SELECT DISTINCT CAST(found.output_key AS VARCHAR) AS finding_id, CAST(cells.output_key AS VARCHAR) AS cell
            FROM found JOIN cells USING (file, sheet, "row") ORDER BY finding_id, cell
            """,
            {"path": str(tables / "lineage.parquet")},
        ).df()
    assert len(cells) > 50 and cells.equals(unified)


def test_missing_county_workbook_is_a_finding(tmp_path):
    """Remove one county's workbook: the run still succeeds and says who did not submit (未提交)."""
    import json
    import shutil

    from pipeline.materialize import materialize_evaluation

    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "raw" / HOHHOT, raw / HOHHOT)
    (raw / HOHHOT / "county" / "150124.xlsx").unlink()
    outcome = materialize_evaluation(HOHHOT, raw_root=str(raw), out_root=str(tmp_path / "out"))
    assert outcome.success
    assert outcome.summary["files"]["missing"] == 1
    findings = (outcome.out_dir / "ingest_findings.csv").read_text(encoding="utf-8-sig")
    assert "submission_missing:150124" in findings and "清水河县（150124）未提交" in findings
    assert json.loads((outcome.out_dir / "summary.json").read_text())["rows"]["quarantined"] == 0


@pytest.mark.parametrize("args", [["run", "--evaluation", "no-such-evaluation"]])
def test_cli_reports_an_unknown_evaluation_clearly(args, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", *args, "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "no-such-evaluation" in proc.stderr and "evaluation.yaml" in proc.stderr
