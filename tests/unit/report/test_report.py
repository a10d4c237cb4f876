"""The report's content and scored tables, on inputs built from the seed's published figures.

Figures the seed publishes (funds, allocations, score, grade, status lists, shortfall lists) are
exact; indicator targets, actuals and leaf scores are illustrative, chosen to add up to 84.88.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import re

import openpyxl
import pandas as pd
import pytest

from pipeline.config import Settings
from pipeline.escape import csv_bytes, escape_text
from pipeline.findings import assess
from pipeline.findings import frame as findings_frame
from pipeline.report import ReportInputs, ReportMeta, load_recommendations, render, render_html, render_xlsx
from pipeline.report.blocks import GENERATED, Heading, Paragraph, Table, walk
from pipeline.report.inputs import FINDING_CODES
from pipeline.report.problems import causes
from pipeline.report.text import document
from tests.support.report_example import (
    COMPLETED,
    DELAYED,
    FUNDS,
    INDICATORS,
    NARRATIVE,
    ONGOING,
    PLANNED_FEN,
    SOURCES,
    SUBPROJECTS,
    TOTAL,
    UNMET,
    WAN,
    body_text,
    example_inputs,
    html_text,
    section,
    seed_figures,
)


@pytest.fixture(scope="module")
def inp() -> ReportInputs:
    return example_inputs()


@pytest.fixture(scope="module")
def page(inp) -> bytes:
    return render_html(inp)


def _status_lists(cells: list[str]) -> dict[str, list[str]]:
    """Sub-project codes under each status heading of the completion table, in order."""
    start = cells.index("19 项子项目完成情况表")
    lists: dict[str, list[str]] = {}
    current = None
    for cell in cells[start + 1 :]:
        if cell.startswith(("一、基本完成", "二、未按计划时间完成", "三、计划时间调整后")):
            current = cell.split("（")[0]
            lists[current] = []
        elif current and re.match(r"^\d+--", cell):
            lists[current].append(cell.split("--")[0])
        elif current and lists[current] and not re.match(r"^\d+--", cell):
            break
    return lists


def test_html_holds_every_seed_figure(page):
    text = "\n".join(html_text(page))
    for figure in seed_figures() + ["89.23", "38.99", "1279.74", "2114.00", "13.11"]:
        assert figure in text, figure
    assert "本次绩效评价最终评价得分为 84.88 分，评级为“良”。" in text
    assert (
        "计划投资总额 30790.00 万元，其中：中央资金 10000.00 万元，自治区资金 5000.00 万元，市级资金 9710.00 万元，"
        "旗县区资金 3815.00 万元，企业自筹 2265.00 万元。" in text
    )
    assert "中央资金支出 6606.26 万元，结转下年支出 1279.74 万元，回收金额 2114.00 万元" in text


def test_cover_title_and_header_facts_come_from_the_metadata(page):
    cells = html_text(page)
    assert cells[:5] == ["2023年公共就业服务能力提升示范项目绩效评价简版报告"] * 2 + [
        "委托方：呼和浩特市财政局",
        "评价机构：内蒙古腾冠管理咨询有限公司",
        "报告日期：2024 年 3 月 29 日",
    ]
    text = "\n".join(cells)
    assert (
        "2022 年 5 月，呼和浩特市人力资源和社会保障局根据《关于组织申报2022年公共就业服务能力提升示范项目的通知》"
        "要求，申报公共就业服务能力提升示范项目并获批准。"
    ) in text
    assert (
        "本次评价受呼和浩特市财政局委托，由内蒙古腾冠管理咨询有限公司组织实施，评价依据《项目支出绩效评价管理办法》"
        "（财预〔2020〕10号）等文件开展。" in text
    )
    assert (
        "采用现场评价方式，实地调研共计 19 个项目，覆盖项目范围占具体项目地区总数的 100%、项目预算总额的 100.00%"
        in text
    )


def test_older_metadata_without_the_new_keys_still_reports(inp):
    old = dataclasses.replace(
        inp,
        meta=ReportMeta(
            **{
                f.name: getattr(inp.meta, f.name)
                for f in dataclasses.fields(ReportMeta)
                if f.name
                in (
                    "title",
                    "programme",
                    "region",
                    "evaluator",
                    "report_date",
                    "programme_start",
                    "programme_end",
                    "evaluation_start",
                    "evaluation_end",
                )
            }
        ),
    )
    text = "\n".join(html_text(render_html(old)))
    assert "2023年公共就业服务能力提升示范项目绩效评价报告" in text and "委托方" not in text
    assert "评价共覆盖 19 个子项目（子项目总数 19 个），覆盖项目预算总额的 100.00%。" in text


def test_html_follows_the_seed_sections(page):
    cells = body_text(page)
    headings = [
        "一、基本情况",
        "二、绩效评价工作开展情况",
        "三、综合评价情况及评价结论",
        "四、主要经验及做法、存在的问题及原因分析",
        "（一）主要经验及做法",
        "（二）存在的问题及原因分析",
        "五、相关建议",
        "附件一：绩效指标评分表",
        "附件二：问题发现清单",
        "附件三：数据质量摘要",
        "附件四：输入文件清单",
    ]
    positions = [cells.index(h) for h in headings]
    assert positions == sorted(positions)
    toc = html_text(page)[: html_text(page).index("一、基本情况", html_text(page).index("一、基本情况") + 1)]
    assert [c for c in toc if c in headings] == headings
    alloc = cells[cells.index("19 项子项目名称及资金分配情况统计表") :]
    for label, value in (
        ("子项目 1-5 小计", "7830.00"),
        ("子项目 6-18 小计", "18960.00"),
        ("子项目 19 小计", "4000.00"),
        ("总项目合计（1-19）", "30790.00"),
    ):
        assert alloc[alloc.index(label) + 1] == value
    assert "一、开展特色技能培训，提升就业创业能力" in alloc
    assert _status_lists(cells) == {
        "一、基本完成": COMPLETED,
        "二、未按计划时间完成延后实施或暂停实施": DELAYED,
        "三、计划时间调整后仍在实施期内持续推进中": ONGOING,
    }


def _problems(inp: ReportInputs) -> list[tuple[str, list]]:
    """(heading, blocks under it) for every problem of 四（二）."""
    blocks = list(walk(document(inp)))
    start = next(i for i, b in enumerate(blocks) if isinstance(b, Heading) and b.text == "（二）存在的问题及原因分析")
    end = next(i for i, b in enumerate(blocks) if isinstance(b, Heading) and b.text == "五、相关建议")
    out: list[tuple[str, list]] = []
    for b in blocks[start + 1 : end]:
        if isinstance(b, Heading) and b.level == 3:
            out.append((b.text, []))
        elif out:
            out[-1][1].append(b)
    return out


def test_problems_are_one_per_cause_with_evidence_not_bullets(inp):
    problems = _problems(inp)
    headings = [h.split(". ", 1)[1] for h, _ in problems]
    assert len(headings) == len(set(headings))
    assert "部分子项目未按计划实施，资金使用进度滞后" in headings
    assert "部分资金未足额到位" in headings and "部分绩效指标未达到年度指标值" in headings
    assert not any(isinstance(b, Paragraph) and b.style == "bullet" for _, blocks in problems for b in blocks)
    schedule = dict(problems)[next(h for h in dict(problems) if h.endswith("部分子项目未按计划实施，资金使用进度滞后"))]
    tables = [b for b in schedule if isinstance(b, Table)]
    rows = [r.cells[0] for t in tables for r in t.rows]
    for c in [*DELAYED, *ONGOING]:
        assert f"{c}--{SUBPROJECTS[c][0]}" in rows
    assert {"中央资金", "自治区资金", "市级资金", "旗县区资金"} <= set(rows)
    # ranked by what is at stake: the most severe problem first
    assert problems[0][0] == "1. 部分子项目未按计划实施，资金使用进度滞后"


def test_money_shared_by_lineage_cells_is_counted_once(inp):
    schedule = _problems(inp)[0][1]
    text = "\n".join(b.text for b in schedule if isinstance(b, Paragraph))
    assert (
        "旗县区资金与子项目 8（调整落实职业介绍补贴项目）的已到位未支出资金为同一笔资金（276.07 万元），只计一次。"
        in text
    )
    # the union of the two findings' cells: 300 + 200 received − 150 − 73.93 spent, not 2 × 276.07
    assert "已到位未支出资金 276.07 万元" in text and "552.14" not in text


def test_every_finding_sits_in_exactly_one_problem_or_the_appendix(inp):
    from pipeline.report.narrative import parse
    from pipeline.report.text import problems_of

    for narrative in ("", NARRATIVE, HOHHOT_LIKE_NARRATIVE):
        grouping = problems_of(dataclasses.replace(inp, narrative=narrative), parse(narrative))
        placed = [fid for p in grouping.problems for fid in p.findings["finding_id"]]
        placed += list(grouping.appendix_only["finding_id"])
        assert sorted(placed) == sorted(inp.findings["finding_id"]), narrative[:20]


def test_report_findings_are_the_stages_findings(inp):
    """The report raises nothing of its own: its finding list and the xlsx hold exactly the given findings."""
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(inp)))
    ids = [r[0].value for r in book["问题发现"].iter_rows(min_row=2)]
    assert sorted(ids) == sorted(inp.findings["finding_id"])
    text = "\n".join(body_text(render_html(inp)))
    listing = section(text, "附件二：问题发现清单", "附件三")
    assert f"本次评价各环节共形成问题发现 {len(inp.findings)} 项" in listing


HOHHOT_LIKE_NARRATIVE = (
    NARRATIVE
    + """
## 存在的问题及原因分析

### 部分绩效目标值设定偏高
发现：target_unrealistic、indicator_not_collected

部分指标的目标值高于往年最好水平。

#### 原因分析

设定目标值时未结合往年完成情况测算。

#### 建议

结合历史数据设定绩效目标。

设定目标值时参考近三年完成情况。

### 培训学员技能人才产出不理想
发现：indicator_unmet:O8、indicator_unmet:O10、indicator_unmet:nothing_here

#### 原因分析

技能价值激励导向机制未建立。

### 评价机构另行发现的问题

数据看不到的问题，由评价机构说明。

## 相关建议

### (1) 建议强化全民终身技能学习意识。
"""
)


def test_the_evaluators_problems_come_first_with_their_cause_analysis(inp):
    narrated = dataclasses.replace(inp, narrative=HOHHOT_LIKE_NARRATIVE)
    problems = _problems(narrated)
    assert [h for h, _ in problems[:3]] == [
        "1. 部分绩效目标值设定偏高",
        "2. 培训学员技能人才产出不理想",
        "3. 评价机构另行发现的问题",
    ]
    first = problems[0][1]
    texts = [b.text if isinstance(b, Paragraph) else b for b in first]
    analysis = texts.index("原因分析")
    table = next(i for i, b in enumerate(first) if isinstance(b, Table))
    assert texts.index("部分指标的目标值高于往年最好水平。") < table < analysis  # description, evidence, analysis
    assert texts[analysis + 1] == "设定目标值时未结合往年完成情况测算。"
    assert {r.cells[0] for r in first[table].rows} >= {"服务高校毕业生就业人次", "公共就业服务满意度"}
    second = [r.cells[0] for b in problems[1][1] if isinstance(b, Table) for r in b.rows]
    assert second == ["技能劳动者总量占比", "接受职业培训后取得职业资格证书人员比例"]
    text = "\n".join(html_text(render_html(narrated)))
    assert "未对应任何问题发现" in text and "indicator_unmet:nothing_here" in text
    # the other unmet indicators still form their own generated problem
    assert any(h.endswith("部分绩效指标未达到年度指标值") for h, _ in problems)


def test_recommendations_take_the_evaluators_first_then_one_per_remaining_problem(inp):
    narrated = dataclasses.replace(inp, narrative=HOHHOT_LIKE_NARRATIVE)
    text = "\n".join(body_text(render_html(narrated)))
    advice = section(text, "五、相关建议", "附件一")
    numbered = re.findall(r"^(\d+)\. (.*)$", advice, flags=re.M)
    assert numbered[0] == ("1", "结合历史数据设定绩效目标。")
    assert advice.index("(1) 建议强化全民终身技能学习意识。") < advice.index("2. ")
    heads = [h for _, h in numbered]
    assert len(heads) == len(set(heads))
    generated = {c.recommendation.split("\n")[0] for c in causes().values()}
    assert len([h for h in heads if h in generated]) == len(heads) - 1  # one per remaining problem, none twice


def test_generated_text_agrees_with_the_tables(inp):
    """No generated sentence calls a completed sub-project delayed, a met target too high, or a head-count fractional."""
    blocks = [
        b
        for b in walk(document(dataclasses.replace(inp, narrative=HOHHOT_LIKE_NARRATIVE)))
        if getattr(b, "origin", GENERATED) == GENERATED
    ]
    lines = [b.text for b in blocks if isinstance(b, (Paragraph, Heading))]
    lines += ["｜".join(r.cells) for b in blocks if isinstance(b, Table) for r in b.rows]
    met = [r[1] for r in INDICATORS if r[10] == "met"]
    completed = [f"{c}--{SUBPROJECTS[c][0]}" for c in COMPLETED]
    for line in lines:
        assert not ("偏高" in line and any(name in line for name in met)), line
        if any(name in line for name in completed):
            assert not re.search(r"延后|暂停|未按计划", line), line
        for number, unit in re.findall(r"(\d+\.\d+)\s*(人次|人|个|户)(?![/\w])", line):
            pytest.fail(f"a count with decimals: {number}{unit} in {line}")
    completed_row = next(line for line in lines if line.startswith("9--") and "｜基本完成｜" in line)
    assert "已基本完成，资金支付结算滞后" in completed_row  # a rule and its explanation, not a contradiction


def test_scoring_rules_are_disclosed_in_the_indicator_appendix(page):
    cells = body_text(page)
    table = cells[cells.index("附件一：绩效指标评分表") :]
    assert table[1:12] == [
        "绩效指标评分表",
        "三级指标",
        "方向",
        "年度指标值",
        "实际完成值",
        "完成率（%）",
        "分值",
        "得分",
        "评分规则",
        "完成状态",
        "偏差原因",
    ]
    row = table.index("登记失业人员规模")
    assert table[row + 1 : row + 3] == ["≤", "20000人"]
    assert "按完成比例计分：实际完成值 ÷ 年度指标值 × 分值，满分为止" in table


def test_appendices_speak_chinese(page):
    text = "\n".join(body_text(page))
    quality = section(text, "附件三：数据质量摘要", "附件四")
    assert "子项目登记表" in quality and "结构校验 19 行，0 个问题；质量期望 6/6 项通过" in quality
    assert "报送文件 17 份：读取 1864 行 = 采用 1864 行 + 隔离 0 行" in quality
    assert (
        "来源、子项目、项目组、旗县区各层级合计一致（计划 30790.00 万元，到位 27475.00 万元，支出 10713.76 万元）"
        in quality
    )
    files = section(text, "附件四：输入文件清单", "说明：")
    assert "市人社局规划财务科" in files and "配套计划、资金到位" in files
    assert hashlib.sha256(b"county/150102.xlsx").hexdigest()[:12] in files
    assert hashlib.sha256(b"county/150102.xlsx").hexdigest() not in text
    for code in ("subprojects:contract", "rows_checked", "fund_plan", "county_receipts", "finance"):
        assert code not in quality + files, code


def test_html_is_self_contained_and_prints_on_a4(page):
    html = page.decode("utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, flags=re.I)
    assert not re.search(r"@import|url\(", html, flags=re.I)
    assert "http://" not in html and "https://" not in html
    assert (
        "size: A4" in html and "page-break-before: always" in html and 'counter(page) " 页 共 " counter(pages)' in html
    )
    assert '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "SimSun", sans-serif' in html
    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    assert len(svgs) == 3
    assert all("<text" in s for s in svgs)
    assert ">中央资金</text>" in svgs[0] and ">6606.26</text>" in svgs[0]
    assert ">28.33 / 40 分</text>" in svgs[1]
    assert ">未采集</text>" in svgs[2] and ">80.00%</text>" in svgs[2]


def test_xlsx_sheets_are_chinese_with_units_and_numeric_rates(inp):
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(inp)))
    assert book.properties.created == dt.datetime(2024, 3, 29) and book.properties.creator == inp.meta.evaluator
    assert book.sheetnames == [
        "资金",
        "维度得分",
        "子项目",
        "指标",
        "问题发现",
        "隔离记录",
        "输入文件",
        "输入文件_技术",
    ]
    for ws in book:
        assert ws.freeze_panes == "A2"
        assert ws.print_title_rows == "$1:$1" and ws.page_setup.paperSize == 9
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0  # one page wide
        assert all(re.search(r"[\u4e00-\u9fff]", c.value) for c in ws[1]), ws.title
    funds = book["资金"]
    assert [c.value for c in funds[1]] == [
        "资金来源",
        "资金来源编码",
        "计划资金（万元）",
        "到位资金（万元）",
        "实际支出（万元）",
        "结转下年（万元）",
        "收回（万元）",
        "到位率",
        "执行率",
    ]
    rows = {r[0].value: r for r in funds.iter_rows(min_row=2)}
    for code, values in {**{SOURCES[c]: v for c, v in FUNDS.items()}, "合计": TOTAL}.items():
        assert [f"{c.value:.2f}" for c in rows[code][2:7]] == list(values[:5]), code
        assert all(c.data_type == "n" and c.number_format == "#,##0.00" for c in rows[code][2:7])
        assert [f"{c.value * 100:.2f}" for c in rows[code][7:]] == list(values[5:])
        assert all(c.number_format == "0.00%" for c in rows[code][7:])
    assert book["资金"].page_setup.orientation == "landscape"
    ind = book["指标"]
    header = [c.value for c in ind[1]]
    status = {r[2].value: r[header.index("完成状态")].value for r in ind.iter_rows(min_row=2)}
    assert [n for n, s in status.items() if s == "未达目标"] == UNMET
    assert sum(r[header.index("得分（分）")].value for r in ind.iter_rows(min_row=2)) == pytest.approx(84.88)
    flags = {r[3].value: r[header.index("目标值与往年水平")].value for r in ind.iter_rows(min_row=2)}
    assert flags["O7"] == "超出往年实际水平" and flags["E1"] == "与往年水平相符" and flags["D1"] == "无往年数据"
    found = book["问题发现"]
    header = [c.value for c in found[1]]
    county = next(r for r in found.iter_rows(min_row=2) if r[0].value == "low_arrival:county")
    assert county[header.index("涉及金额（万元）")].value == pytest.approx(3315.00)
    assert county[header.index("严重程度")].value == "高"
    assert county[header.index("严重程度依据")].value == "涉及资金占计划总额 10% 及以上"


def test_xlsx_extra_tables_get_chinese_headers_and_money_in_wan(inp):
    extra = {
        "资金核对_来源": pd.DataFrame(
            {
                "key": ["county"],
                "source_code": ["county"],
                "planned": [3815 * WAN],
                "received": [500 * WAN],
                "arrival_rate": ["13.11"],
            }
        )
    }
    sheet = openpyxl.load_workbook(io.BytesIO(render_xlsx(inp, extra)))["资金核对_来源"]
    assert [c.value for c in sheet[1]] == [
        "键",
        "资金来源编码",
        "资金来源",
        "计划资金（万元）",
        "到位资金（万元）",
        "到位率",
    ]
    assert [c.value for c in sheet[2]] == ["county", "county", "旗县区资金", 3815, 500, pytest.approx(0.1311)]
    assert sheet.cell(2, 6).number_format == "0.00%"


def _injected(inp: ReportInputs) -> ReportInputs:
    findings = pd.concat(
        [
            inp.findings,
            assess(
                findings_frame(
                    [
                        {
                            "code": "submission_missing",
                            "severity": "high",
                            "subject_type": "submitter",
                            "subject": "=SUM(1)",
                            "figure": "-5",
                            "message": "=SUM(1)",
                        }
                    ]
                ),
                Settings(),
                PLANNED_FEN,
            ),
        ],
        ignore_index=True,
    )
    quarantine = pd.DataFrame(
        [
            {
                "file": "county/150103.xlsx",
                "sheet": "资金到位",
                "row": 7,
                "column": "金额",
                "rule": "not_a_number",
                "value": "=SUM(1)",
                "message": "+cmd|' /C calc'!A0",
            }
        ]
    )
    return dataclasses.replace(inp, findings=findings, quarantine=quarantine)


def test_submitted_text_never_becomes_a_formula(inp):
    bad = _injected(inp)
    data = render_xlsx(bad)
    book = openpyxl.load_workbook(io.BytesIO(data))
    values = [c for ws in book for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c for c in values if c.data_type == "f"]
    assert not [c.value for c in values if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@"))]
    assert [c.value for c in book["隔离记录"][2]] == [
        "county/150103.xlsx",
        "资金到位",
        7,
        "金额",
        "不是有效数字",
        "not_a_number",
        "'=SUM(1)",
        "'+cmd|' /C calc'!A0",
    ]
    header = [c.value for c in book["问题发现"][1]]
    finding = next(r for r in book["问题发现"].iter_rows(min_row=2) if r[2].value == "submission_missing")
    assert [finding[header.index(h)].value for h in ("对象编码", "数值", "说明")] == ["'=SUM(1)", -5, "'=SUM(1)"]
    # The report still shows the text as submitted, escaped for HTML only.
    assert "=SUM(1)" in "\n".join(html_text(render_html(bad)))


def test_quarantine_summary_names_rules_in_chinese(inp):
    quarantine = pd.DataFrame(
        [
            ("county/150103.xlsx", "资金到位", 7, "金额", "not_a_number", "abc", "金额不是数字"),
            ("county/150103.xlsx", "资金到位", 9, "金额", "too_many_decimals", "1.234", "金额最多两位小数"),
            ("county/150104.xlsx", "", None, "", "unreadable", "", "文件无法读取"),
        ],
        columns=["file", "sheet", "row", "column", "rule", "value", "message"],
    )
    cells = body_text(render_html(dataclasses.replace(inp, quarantine=quarantine)))
    summary = cells[cells.index("隔离记录汇总（按文件及问题）") :]
    assert summary[summary.index("合计") + 1] == "3"
    assert "不是有效数字" in summary and "金额超过两位小数" in summary and "not_a_number" not in summary


def test_csv_helper_escapes_text_not_numbers():
    df = pd.DataFrame(
        {"value": ["=SUM(1)", "@A1", "-2+3", "正常"], "amount": [-5, 3, 0, 12], "rate": [-1.5, 2.0, None, 0.5]}
    )
    assert csv_bytes(df).decode("utf-8-sig").splitlines() == [
        "value,amount,rate",
        "'=SUM(1),-5,-1.5",
        "'@A1,3,2.0",
        "'-2+3,0,",
        "正常,12,0.5",
    ]
    assert csv_bytes(df).startswith(b"\xef\xbb\xbf")
    no_text = pd.DataFrame({"n": pd.Series([-1, 2], dtype=object), "c": pd.Categorical(["-x", "y"])})
    assert csv_bytes(no_text).decode("utf-8-sig").splitlines() == ["n,c", "-1,'-x", "2,y"]
    assert escape_text("\t=1") == "'\t=1" and escape_text("1=1") == "1=1"


def test_every_file_is_byte_identical_across_renders():
    first, second = render(example_inputs()), render(example_inputs())
    assert set(first) == {
        "report.html",
        "report.pdf",
        "report.docx",
        "scored_tables.xlsx",
        "charts/chart-1-funds-by-source.png",
        "charts/chart-2-score-by-dimension.png",
        "charts/chart-3-indicator-completion.png",
    }
    assert {k: hashlib.sha256(v).hexdigest() for k, v in first.items()} == {
        k: hashlib.sha256(v).hexdigest() for k, v in second.items()
    }


def test_national_scale_problems_show_the_worst_20(inp):
    many = assess(
        findings_frame(
            [
                {
                    "code": "submission_missing",
                    "severity": "high",
                    "subject_type": "submitter",
                    "subject": f"county-{n:04d}",
                    "figure": "",
                    "message": f"县 {n:04d} 未提交资金到位表。",
                }
                for n in range(2850)
            ]
        ),
        Settings(),
        PLANNED_FEN,
    )
    big = dataclasses.replace(inp, findings=pd.concat([inp.findings, many], ignore_index=True))
    text = "\n".join(body_text(render_html(big)))
    problems = section(text, "（二）存在的问题及原因分析", "五、相关建议")
    assert len(re.findall(r"县 (\d{4}) 未提交", problems)) == 20
    assert "另有 2830 项见附件问题发现清单" in problems
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(big)), read_only=True)
    assert sum(1 for r in book["问题发现"].iter_rows(min_row=2) if r[2].value == "submission_missing") == 2850


def test_recommendations_override_per_evaluation(tmp_path):
    (tmp_path / "recommendations.yaml").write_text("low_arrival: |\n  督促旗县区落实配套资金。\n", encoding="utf-8")
    texts = load_recommendations(tmp_path)
    assert texts["arrival"] == "督促旗县区落实配套资金。"  # a finding code stands for its category
    assert texts["schedule"] == load_recommendations()["schedule"]
    inp = dataclasses.replace(example_inputs(), recommendations=texts)
    assert any(re.fullmatch(r"\d+\. 督促旗县区落实配套资金。", c) for c in html_text(render_html(inp)))


def test_every_known_finding_code_has_a_category():
    collected = {code for c in causes().values() for code in c.codes}
    assert set(FINDING_CODES) <= collected


def test_narrative_parts_go_where_the_seed_puts_them(inp):
    narrative = (
        NARRATIVE
        + """
## 综合评价

项目立项依据充分，但个别子项目绩效目标不明确。

## 相关建议

### (1) 建议强化全民终身技能学习意识。

建议积极加大政策宣传引导作用。
"""
    )
    cells = body_text(render_html(dataclasses.replace(inp, narrative=narrative)))
    experience, problems, advice = (
        cells.index(h) for h in ("（一）主要经验及做法", "（二）存在的问题及原因分析", "五、相关建议")
    )
    assert experience < cells.index("2. 乳业技能人才培养服务绩效显著，具有先进性创新性。") < problems
    assert cells.index("本次绩效评价最终评价得分为 84.88 分，评级为“良”。") + 1 == cells.index(
        "项目立项依据充分，但个别子项目绩效目标不明确。"
    )
    assert advice < cells.index("(1) 建议强化全民终身技能学习意识。") < cells.index("附件一：绩效指标评分表")
    assert "1. 项目实施在促进全市高质量充分就业方面起到了积极助力作用。" in cells


def test_inputs_contract_names_missing_columns(inp):
    with pytest.raises(ValueError, match=r"ReportInputs.subprojects lacks columns \['status'\]"):
        dataclasses.replace(inp, subprojects=inp.subprojects.drop(columns="status"))


def test_a_firms_reference_docx_keeps_its_styles_and_letterhead(inp):
    import docx
    from docx.shared import RGBColor

    from pipeline.report import render_docx

    ref = docx.Document()
    ref.styles["Heading 1"].font.color.rgb = RGBColor(0x80, 0x00, 0x00)
    ref.sections[0].header.paragraphs[0].text = "某某管理咨询有限公司　评价报告专用"
    ref.add_paragraph("模板中的示例正文")
    buffer = io.BytesIO()
    ref.save(buffer)
    out = docx.Document(io.BytesIO(render_docx(dataclasses.replace(inp, reference_docx=buffer.getvalue()))))
    assert out.sections[0].header.paragraphs[0].text == "某某管理咨询有限公司　评价报告专用"  # its letterhead, not ours
    assert out.styles["Heading 1"].font.color.rgb == RGBColor(0x80, 0x00, 0x00)
    text = [p.text for p in out.paragraphs]
    assert "模板中的示例正文" not in text and "一、基本情况" in text
    assert " PAGE " in out.sections[0].footer._element.xml  # the template had no page numbers: ours are added


def test_a_submission_table_gx_did_not_check_again_says_so_in_the_appendix():
    from pipeline.quality.expectations import not_run_row
    from pipeline.report.text import _cn_detail

    for limit in (0, 20_000):
        detail = not_run_row("payments", 40_000, limit, True)["detail"]
        assert _cn_detail("expectations", True, detail) == "质量期望未另行复核（结论同结构校验）"
    assert _cn_detail("expectations", True, "6/6 项期望通过 / expectations met") == "质量期望 6/6 项通过"
