"""In-year monitoring on a hand-computed case (tests/support/monitoring_example.py), its settings and its form.

Every expected figure below is computed by hand from the example's docstring: 序时进度 at 2023-07-31 is
7/12 = 58.333… → 58.33 %; money in 分 (1 万元 = 1 000 000 分).
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from fractions import Fraction

import openpyxl
import pandas as pd
import pytest

from pipeline import evaluation
from pipeline.config import MonitoringSettings
from pipeline.evaluation import EvaluationError
from pipeline.ingest.stage import ingest
from pipeline.monitoring.compute import level, monitor, months_elapsed, time_progress
from pipeline.monitoring.form import indicator_header, render_form
from pipeline.monitoring.page import render_page, warnings
from tests.support.monitoring_example import write_folder

WAN = 1_000_000  # 分 per 万元


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    raw = tmp_path_factory.mktemp("raw")
    write_folder(raw, "demo-m07")
    ev = evaluation.find(raw, "demo-m07")
    result = ingest(ev, raw)
    assert result.quarantine.empty and int(result.inventory["rows_read"].sum()) == 18
    return ev, monitor(result.tables, ev)


def _lines(m):
    return {(r["level"], r["key"]): r for r in m.execution.to_dict("records")}


# --- time progress and levels -------------------------------------------------------------------


def test_time_progress_by_months_days_and_plan():
    months = MonitoringSettings()
    assert months_elapsed(dt.date(2023, 7, 31)) == 7 and months_elapsed(dt.date(2023, 7, 30)) == 6
    assert time_progress(dt.date(2023, 7, 31), months) == Fraction(7, 12)
    assert time_progress(dt.date(2023, 2, 28), months) == Fraction(2, 12)
    # days: 31 + 28 + 31 + 30 + 31 + 30 + 31 = 212 days of 365
    assert time_progress(dt.date(2023, 7, 31), MonitoringSettings(time_progress="days")) == Fraction(212, 365)
    assert time_progress(dt.date(2024, 7, 31), MonitoringSettings(time_progress="days")) == Fraction(213, 366)
    plan = [5, 10, 20, 30, 40, 50, 65, 70, 80, 90, 95, 100]
    by_plan = MonitoringSettings(time_progress="plan", plan_cumulative_pct=plan)
    assert time_progress(dt.date(2023, 7, 31), by_plan) == Fraction(65, 100)
    assert time_progress(dt.date(2023, 1, 15), by_plan) == 0  # no month completed yet


def test_plan_basis_needs_a_non_decreasing_plan_of_twelve_months():
    with pytest.raises(ValueError, match="plan_cumulative_pct"):
        MonitoringSettings(time_progress="plan")
    with pytest.raises(ValueError, match="不递减"):
        MonitoringSettings(plan_cumulative_pct=[10, 5, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100])
    with pytest.raises(ValueError):
        MonitoringSettings(plan_cumulative_pct=[10, 20])
    with pytest.raises(ValueError, match="red_gap_pct"):
        MonitoringSettings(yellow_gap_pct=Decimal(30), red_gap_pct=Decimal(20))


def test_levels_are_strictly_more_than_the_gaps():
    s = MonitoringSettings()
    assert [level(Decimal(g), s) for g in ("10.00", "10.01", "20.00", "20.01", "-5")] == ["绿", "黄", "黄", "红", "绿"]
    tight = MonitoringSettings(yellow_gap_pct=Decimal(5), red_gap_pct=Decimal(8))
    assert [level(Decimal(g), tight) for g in ("5.00", "5.01", "8.01")] == ["绿", "黄", "红"]


def test_a_cutoff_outside_the_programme_period_is_refused(tmp_path):
    write_folder(tmp_path, "late", cutoff=dt.date(2024, 1, 31))
    with pytest.raises(EvaluationError, match="monitoring.cutoff"):
        evaluation.find(tmp_path, "late")


# --- execution lines ----------------------------------------------------------------------------


def test_execution_by_programme_source_subproject_and_county(case):
    _, m = case
    got = {
        k: (r["planned"], r["spent"], r["execution_rate"], r["gap"], r["deviation_level"]) for k, r in _lines(m).items()
    }
    assert got == {
        # 60 + 10 + 12 = 82.00 of 210.00 → 39.047… → 39.05 %; 58.33 − 39.05 = 19.28 → 黄 (≤ 20)
        ("programme", "demo-programme"): (210 * WAN, 82 * WAN, "39.05", "19.28", "黄"),
        ("source", "central"): (160 * WAN, 72 * WAN, "45.00", "13.33", "黄"),
        ("source", "municipal"): (50 * WAN, 10 * WAN, "20.00", "38.33", "红"),
        ("subproject", "1"): (150 * WAN, 70 * WAN, "46.67", "11.66", "黄"),
        ("subproject", "2"): (60 * WAN, 12 * WAN, "20.00", "38.33", "红"),
        ("county", "150100"): (150 * WAN, 70 * WAN, "46.67", "11.66", "黄"),
        ("county", "150102"): (60 * WAN, 12 * WAN, "20.00", "38.33", "红"),
    }
    assert set(m.execution["time_progress"]) == {"58.33"}


def test_projection_and_money_behind_time_progress(case):
    _, m = case
    lines = _lines(m)
    programme = lines[("programme", "demo-programme")]
    # 82 万元 / (7/12) = 140.571428… 万元 = 140 571 428.57 分 → 140 571 429 分
    assert programme["projected_spent"] == 140_571_429
    # 210 × 7/12 = 122.5 万元 due, 82 spent
    assert programme["lag_fen"] == 40_500_000
    # 50 × 7/12 = 29.1666… 万元 → 29 166 667 分 due, 10 万元 spent
    assert lines[("source", "municipal")]["lag_fen"] == 19_166_667
    assert lines[("subproject", "1")]["projected_spent"] == 120 * WAN  # 70 × 12/7


def test_rows_after_the_cutoff_are_listed_not_counted(case):
    _, m = case
    assert m.excluded[["kind", "row", "amount_fen"]].values.tolist() == [["payments", 7, 30 * WAN]]
    assert m.summary["rows_excluded_after_cutoff"] == 1 and m.summary["amount_excluded_after_cutoff"] == str(30 * WAN)


# --- indicator lines ----------------------------------------------------------------------------


def test_indicator_completion_projection_likelihood_and_level(case):
    _, m = case
    got = {
        r["indicator_code"]: (
            r["completion_to_date"],
            r["expected_progress"],
            r["gap"],
            r["projected_annual"],
            r["projection_basis"],
            r["projected_completion"],
            r["deviation_level"],
        )
        for r in m.indicators.to_dict("records")
    }
    assert got == {
        # cumulative: 600/1000 = 60.00 % against 58.33 %; straight line 600 × 12/7 = 1028.57 → 1029
        "jobs": ("60.00", "58.33", "-1.67", "1029", "直线推算", "102.90", "绿"),
        # 200/500 = 40 %, 18.33 points behind → 黄; the unit's own projection 450 → 90 %
        "trained": ("40.00", "58.33", "18.33", "450", "单位预计", "90.00", "黄"),
        # on pace, but the unit says 完全不可能 → 红
        "brands": ("60.00", "58.33", "-1.67", "3", "单位预计", "60.00", "红"),
        # a rate is a level: 85.5/90 = 95 % against 100 %
        "pass_rate": ("95.00", "100.00", "5.00", "85.5", "直线推算", "95.00", "绿"),
        # lower is better: 2000/2500 = 80 %, exactly 20 points short → 黄, not 红
        "unit_cost": ("80.00", "100.00", "20.00", "2500", "直线推算", "80.00", "黄"),
    }
    assert list(m.indicators["indicator_code"]) == ["jobs", "trained", "brands", "pass_rate", "unit_cost"]


def test_only_yellow_and_red_lines_become_findings(case):
    _, m = case
    stakes = [None if v is pd.NA else int(v) for v in m.findings["stake_fen"]]
    got = sorted(zip(m.findings["code"], m.findings["subject"], stakes), key=str)
    assert got == sorted(
        [
            ("monitoring_red", "source:municipal", 19_166_667),
            ("monitoring_red", "subproject:2", 23 * WAN),  # 60 × 7/12 = 35 due, 12 spent
            ("monitoring_red", "county:150102", 23 * WAN),
            ("monitoring_red", "indicator:brands", None),
            ("monitoring_yellow", "programme:demo-programme", 40_500_000),
            ("monitoring_yellow", "source:central", 21_333_333),
            ("monitoring_yellow", "subproject:1", 17_500_000),
            ("monitoring_yellow", "county:150100", 17_500_000),
            ("monitoring_yellow", "indicator:trained", None),
            ("monitoring_yellow", "indicator:unit_cost", None),
            ("rows_after_cutoff", "demo-m07/bureau/fin/payments.csv", 30 * WAN),
        ],
        key=str,
    )
    assert m.summary["lines"] == {"红": 4, "黄": 6, "绿": 2}


def test_settings_move_the_levels(tmp_path):
    write_folder(tmp_path, "wide", settings="settings:\n  monitoring:\n    yellow_gap_pct: 15\n    red_gap_pct: 40\n")
    ev = evaluation.find(tmp_path, "wide")
    m = monitor(ingest(ev, tmp_path).tables, ev)
    levels = {(r["level"], r["key"]): r["deviation_level"] for r in m.execution.to_dict("records")}
    # 19.28 → 黄, 13.33 → 绿, 38.33 → 黄 (not above 40)
    assert levels[("programme", "demo-programme")] == "黄"
    assert levels[("source", "central")] == "绿"
    assert levels[("source", "municipal")] == "黄"


# --- the form and the page ----------------------------------------------------------------------


def test_the_form_reads_back_with_its_headers_and_figures(case):
    ev, m = case
    wb = openpyxl.load_workbook(io.BytesIO(render_form(ev, m.execution, m.indicators)))
    assert wb.sheetnames == ["项目", "子项目", "旗县区"]
    rows = [list(r) for r in wb["项目"].iter_rows(values_only=True)]
    assert rows[0][0] == "项目绩效运行监控表（截至2023年7月31日）"
    assert [r[:2] for r in rows[1:6]] == [
        ["项目名称", "监控示例项目"],
        ["主管部门", "示例主管部门"],
        ["实施单位", "示例实施单位"],
        ["监控截止日", "2023-07-31"],
        ["序时进度（%）", 58.33],
    ]
    header = next(r for r in rows if r[0] == "项目资金")
    assert header[1:8] == [
        "年度预算数（万元）",
        "1—7月执行数（万元）",
        "执行率（%）",
        "序时进度（%）",
        "落后序时进度（百分点）",
        "全年预计执行数（万元）",
        "预警等级",
    ]
    total = next(r for r in rows if r[0] == "年度资金总额")
    assert total[1:8] == [210, 82, 39.05, 58.33, 19.28, 140.57, "黄"]
    municipal = next(r for r in rows if r[0] == "其中：市级资金")
    assert municipal[1:8] == [50, 10, 20, 58.33, 38.33, 17.14, "红"]
    start = next(i for i, r in enumerate(rows) if r[0] == "一级指标")
    assert rows[start][:13] == indicator_header(dt.date(2023, 7, 31))
    assert rows[start][4] == "1—7月实际完成值" and rows[start][6] == "偏差原因分析：经费保障"
    trained = rows[start + 2]
    assert trained[:6] == ["产出指标", "数量指标", "培训人次", "≥500人次", "200人次", "450人次"]
    assert trained[6:11] == ["√", None, None, None, None] and trained[11] == "有可能"
    assert "培训补贴资金下达较晚" in trained[12]
    sub = [list(r) for r in wb["子项目"].iter_rows(values_only=True)]
    assert sub[0][:3] == ["子项目编码", "子项目名称", "年度预算数（万元）"]
    assert sub[1:] == [
        ["1", "培训平台", 150, 70, 46.67, 58.33, 11.66, 120, "黄"],
        ["2", "县级服务站", 60, 12, 20, 58.33, 38.33, 20.57, "红"],
    ]
    county = [list(r) for r in wb["旗县区"].iter_rows(values_only=True)]
    assert [r[:2] for r in county[1:]] == [["150100", "市本级"], ["150102", "新城区"]]


def test_the_form_is_byte_identical_on_rerun(case):
    ev, m = case
    assert render_form(ev, m.execution, m.indicators) == render_form(ev, m.execution, m.indicators)


def test_the_page_puts_red_lines_first(case):
    ev, m = case
    order = [(w["level"], w["subject"]) for w in warnings(m.execution, m.indicators)]
    assert order == [
        ("红", "市级资金"),
        ("红", "县级服务站"),
        ("红", "新城区"),
        ("红", "培训品牌数量"),
        ("黄", "监控示例项目"),
        ("黄", "中央资金"),
        ("黄", "培训平台"),
        ("黄", "市本级"),
        ("黄", "培训人次"),
        ("黄", "人均培训成本"),
    ]
    points = [
        {"cutoff": "2023-03-31", "evaluation_id": "demo-m03", "status": "未运行"},
        {
            "evaluation_id": "demo-m07",
            "status": "本期",
            **{
                k: m.summary[k]
                for k in ("cutoff", "time_progress", "execution_rate", "planned", "spent", "deviation_level")
            },
        },
    ]
    rows = {"read": 18, "accepted": 18, "quarantined": 0}
    html = render_page(ev, m.summary, m.execution, m.indicators, m.excluded, rows, points).decode()
    assert html.index("市级资金") < html.index("预算执行进度与序时进度") < html.index("<h2>预算执行</h2>")
    assert "序时进度 58.33%" in html and "执行率 39.05%" in html and "红 4 项，黄 6 项，绿 2 项" in html
    assert "读入 18 = 采用 18 + 隔离 0" in html and "1 行日期晚于截止日（30.00 万元）" in html
    assert "<svg" in html and "未运行" in html and "http" not in html.replace('lang="zh-CN"', "")


def test_lineage_leads_each_finding_to_its_rows(case):
    _, m = case

    def rows_of(table: str, key: str) -> list[tuple[str, str, int]]:
        e = m.lineage[(m.lineage["output_table"] == table) & (m.lineage["output_key"] == key)]
        return sorted(zip(e["input_kind"], e["file"].str.rsplit("/", n=1).str[-1], e["row"]))

    # sub-project 2: its plan line P3 (row 5) and the payment on the cut-off day (Z4, row 6), not Z5 after it
    assert rows_of("monitoring_findings", "monitoring_red:subproject:2") == [
        ("fund_plan", "fund_plan.csv", 5),
        ("payments", "payments.csv", 6),
    ]
    assert rows_of("monitoring_findings", "monitoring_red:indicator:brands") == [
        ("indicator_monitoring", "indicator_monitoring.csv", 7)
    ]
    assert rows_of("monitoring_findings", "rows_after_cutoff:demo-m07/bureau/fin/payments.csv") == [
        ("payments", "payments.csv", 7)
    ]
    programme = rows_of("monitoring_execution", "programme:demo-programme")
    assert len(programme) == 3 + 4  # three plan lines, four payments up to the cut-off


def test_a_bad_monitoring_row_is_quarantined_with_file_row_and_column(tmp_path):
    folder = write_folder(tmp_path, "bad")
    path = folder / "bureau" / "ops" / "indicator_monitoring.csv"
    with path.open("a", encoding="utf-8") as f:
        f.write("satisfaction,,也许,,,\n")  # columns as written: code, cause, likelihood, to date, projected, note
    header = path.read_text(encoding="utf-8").splitlines()[1].split(",")
    assert header[:4] == ["指标编码", "偏差原因类别", "完成目标可能性", "1-N月实际完成值"]
    ev = evaluation.find(tmp_path, "bad")
    result = ingest(ev, tmp_path)
    q = result.quarantine
    assert sorted(zip(q["file"], q["row"], q["column"])) == [
        ("bad/bureau/ops/indicator_monitoring.csv", 8, "1-N月实际完成值"),
        ("bad/bureau/ops/indicator_monitoring.csv", 8, "完成目标可能性"),
    ]
    assert any("确定能、有可能、完全不可能" in m for m in q["message"])
    # the good rows still make their lines
    assert len(monitor(result.tables, ev).indicators) == 5
