"""The unit self-evaluation example (raw/2023-tumote-skills-self): the 项目支出绩效自评表 it writes matches
the source table in the folder's README, cell by cell, carry-in line included."""

from __future__ import annotations

import re

import docx
import openpyxl
import pytest

from pipeline.materialize import materialize_evaluation
from tests.support import RAW, SELF_EVALUATION

FUND_LINES = ("年度资金总额", "本年财政拨款", "上年结转资金", "其他资金")


def _readme_tables() -> list[list[list[str]]]:
    """The Markdown tables of the folder's README, rows of cells (header and rule rows dropped)."""
    tables, current = [], []
    for line in (RAW / SELF_EVALUATION / "README.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("|"):
            current.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif current:
            tables.append(current[2:])
            current = []
    return tables + ([current[2:]] if current else [])


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    outcome = materialize_evaluation(SELF_EVALUATION, raw_root=str(RAW), out_root=str(tmp_path_factory.mktemp("out")))
    assert outcome.success
    return outcome


@pytest.fixture(scope="module")
def form(run):
    ws = openpyxl.load_workbook(run.out_dir / "self_evaluation_form.xlsx").active
    return [list(row) for row in ws.iter_rows(values_only=True)]


def _shown(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return f"{value:.2f}"
    return str(value)


def test_the_funding_block_matches_the_source_table(form):
    funds, _ = _readme_tables()
    rows = {str(r[1]).replace("其中：", ""): r for r in form if r[1] and str(r[1]).replace("其中：", "") in FUND_LINES}
    assert list(rows) == list(FUND_LINES)
    for label, initial, annual, executed, points, rate, score in funds:
        row = rows[label]
        assert [_shown(v) for v in row[3:6]] == [initial, annual, executed], label
        assert (_shown(row[6]) if row[6] != "—" else "—") == (f"{float(points):.2f}" if points != "—" else "—"), label
        assert (f"{row[7] * 100:.2f}" if row[7] != "—" else "—") == rate, label
        assert (_shown(row[8]) if row[8] != "—" else "—") == score, label


def test_the_indicator_rows_and_the_total_match_the_source_table(form):
    _, indicators = _readme_tables()
    start = next(i for i, r in enumerate(form) if r[1] == "一级指标")
    got = [[_shown(v) for v in r[1:8]] for r in form[start + 1 :] if r[0] != "总分"]
    expected = [[*r[:5], f"{float(r[5]):.2f}", r[6]] for r in indicators if r[0] != "总分"]
    assert got == expected
    total = next(r for r in form if r[0] == "总分")
    assert [_shown(total[6]), _shown(total[7])] == ["100.00", "97.17"]
    reason = next(r for r in form if r[3] == "职业技能培训人次")[8]
    assert reason.startswith("部分乡镇开班时间推迟至农闲")  # 偏差原因分析及改进措施 from the submission


def test_the_form_header_and_goal_come_from_the_metadata(form):
    assert form[0][0] == "项目支出绩效自评表" and form[1][0] == "（2023 年度）"
    assert form[2][2] == "土默特左旗职业技能提升培训补贴项目"
    assert form[3][2] == form[3][6] == "土默特左旗人力资源和社会保障局"
    goal = next(i for i, r in enumerate(form) if r[0] == "年度总体目标")
    assert form[goal + 1][1].startswith("全年开展职业技能培训 3000 人次") and form[goal + 1][5].startswith("全年完成")


def test_the_report_carries_the_form_as_its_first_appendix(run):
    d = docx.Document(str(run.out_dir / "report.docx"))
    headings = [p.text for p in d.paragraphs if p.style.name.startswith("Heading 1")]
    assert headings[5] == "附件一：项目支出绩效自评表"
    cells = {c.text for t in d.tables for r in t.rows for c in r.cells}
    assert {"上年结转资金", "120.00", "96.00", "80.00", "97.17"} <= cells
    title = next(p.text for p in d.paragraphs if p.text.strip())
    assert title == "2023年度土默特左旗职业技能提升培训补贴项目绩效自评报告"


def test_a_carry_in_source_must_be_a_known_budget_line(tmp_path):
    import shutil

    from pipeline.evaluation import EvaluationError, load
    from pipeline.report.inputs import ReportMeta

    folder = tmp_path / SELF_EVALUATION
    shutil.copytree(RAW / SELF_EVALUATION, folder)
    assert ReportMeta.from_config(load(folder).config).budget_lines == {
        "banner_budget": "current",
        "regional_grant": "current",
        "carry_in": "carry_in",
    }
    path = folder / "evaluation.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("budget_line: carry_in", "budget_line: last_year"), encoding="utf-8"
    )
    with pytest.raises(EvaluationError, match=r"sources\[2=carry_in\]\.budget_line"):  # refused at load, naming the key
        load(folder)
    assert re.search(r"county-only|counties: \[\]", (RAW / SELF_EVALUATION / "README.md").read_text(encoding="utf-8"))
