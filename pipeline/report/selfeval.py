"""项目支出绩效自评表 — the one-page unit self-evaluation form, as XLSX and as a table in the report.

Written when the evaluation's primary framework is a unit self-evaluation (``form: self_evaluation``
in the framework file). Layout as the standard form: 项目名称, 主管部门, 实施单位; 项目资金（万元）
with 年初预算数, 全年预算数 (A), 全年执行数 (B), 分值, 执行率 (B/A), 得分, split into 本年财政拨款,
上年结转资金 and 其他资金 by each source's ``budget_line`` in ``evaluation.yaml``; 年度总体目标;
the indicator rows; 总分.

The funding block scores the budget-execution leaf (the framework's ``execution_rate`` from the
reconciliation); its points and score are that leaf's, and the other leaves fill the indicator
rows. The submission contract carries one planned figure per fund-plan line, so 年初预算数 equals
全年预算数 (an in-year budget adjustment is not yet a submission kind).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from decimal import Decimal
from fractions import Fraction

import xlsxwriter

from pipeline.escape import escape_text
from pipeline.formats import round_half_up
from pipeline.report.blocks import Block, Paragraph, Row, Table
from pipeline.report.inputs import BUDGET_LINES, ReportInputs
from pipeline.report.values import actual_text, dec, target_text

FORM_TITLE = "项目支出绩效自评表"
BUDGET_LEAF = "reconciliation:execution_rate"


@dataclasses.dataclass(frozen=True)
class FundLine:
    label: str
    initial: Decimal  # 年初预算数
    annual: Decimal  # 全年预算数 (A)
    executed: Decimal  # 全年执行数 (B)
    points: Decimal | None  # 分值: the total line only
    score: Decimal | None  # 得分: the total line only

    @property
    def rate(self) -> Decimal | None:
        """执行率 B/A in percent, two decimals half-up; None where A is zero."""
        return None if not self.annual else round_half_up(Fraction(self.executed) / Fraction(self.annual) * 100)


@dataclasses.dataclass(frozen=True)
class IndicatorLine:
    level1: str
    level2: str
    level3: str
    target: str  # 年度指标值, with direction and unit
    actual: str  # 实际完成值
    points: Decimal
    score: Decimal
    reason: str  # 偏差原因分析及改进措施


@dataclasses.dataclass(frozen=True)
class Form:
    year: int
    programme: str
    department: str
    unit: str
    funds: tuple[FundLine, ...]  # 年度资金总额 first, then one line per budget line
    goal_expected: str
    goal_achieved: str
    indicators: tuple[IndicatorLine, ...]
    total_points: Decimal
    total_score: Decimal


def build(inp: ReportInputs) -> Form:
    """The form's figures from the report's inputs (money in 万元 as exact decimals)."""
    meta = inp.meta
    by_source = inp.summary["funds"].get("by_source", {})
    lines = {line: [Decimal(0), Decimal(0)] for line in BUDGET_LINES}
    for code, f in by_source.items():
        line = meta.budget_lines.get(code, "current")
        lines[line][0] += dec(f.get("planned")) or Decimal(0)
        lines[line][1] += dec(f.get("spent")) or Decimal(0)
    ind = inp.indicators
    source = (
        ind["source"] if "source" in ind else ind["code"].map(lambda c: BUDGET_LEAF if c == "execution_rate" else "")
    )
    budget = ind[source == BUDGET_LEAF]
    points = dec(budget["points"].iat[0]) if len(budget) else None
    score = dec(budget["score"].iat[0]) if len(budget) else None
    total_a = sum((v[0] for v in lines.values()), Decimal(0))
    total_b = sum((v[1] for v in lines.values()), Decimal(0))
    funds = [FundLine("年度资金总额", total_a, total_a, total_b, points, score)]
    funds += [
        FundLine(label, lines[key][0], lines[key][0], lines[key][1], None, None) for key, label in BUDGET_LINES.items()
    ]
    dims = dict(zip(inp.dimensions["code"].astype(str), inp.dimensions["name"]))
    rows = tuple(
        IndicatorLine(
            dims.get(str(r.dimension), str(r.dimension)),
            str(r.level2 or ""),
            str(r.name),
            target_text(r),
            actual_text(r),
            dec(r.points) or Decimal(0),
            dec(r.score) or Decimal(0),
            "" if r.deviation_reason is None or r.deviation_reason != r.deviation_reason else str(r.deviation_reason),
        )
        for r, s in zip(ind.itertuples(index=False), source)
        if s != BUDGET_LEAF
    )
    return Form(
        year=meta.evaluation_start.year,
        programme=meta.programme,
        department=meta.competent_department,
        unit=meta.implementing_unit,
        funds=tuple(funds),
        goal_expected=meta.goal_expected,
        goal_achieved=meta.goal_achieved,
        indicators=rows,
        total_points=sum((dec(w) or Decimal(0) for w in inp.dimensions["weight"]), Decimal(0)),
        total_score=Decimal(str(inp.summary["score"]["total"])),
    )


def _two(value: Decimal | None) -> str:
    return "—" if value is None else f"{round_half_up(value):.2f}"


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def form_blocks(inp: ReportInputs) -> tuple[bool, list[Block]]:
    """The form as report tables (landscape): the same figures as the XLSX."""
    f = build(inp)
    head = Table(
        f"{FORM_TITLE}（{f.year} 年度）",
        ("项目名称", f.programme, "", ""),
        (Row(("主管部门", f.department, "实施单位", f.unit)),),
    )
    funds = Table(
        "项目资金",
        ("项目资金（万元）", "年初预算数", "全年预算数（A）", "全年执行数（B）", "分值", "执行率（B/A，%）", "得分"),
        tuple(
            Row(
                (
                    x.label if n == 0 else f"其中：{x.label}" if n == 1 else x.label,
                    _two(x.initial),
                    _two(x.annual),
                    _two(x.executed),
                    _two(x.points) if x.points is not None else "—",
                    _two(x.rate),
                    _two(x.score) if x.score is not None else "—",
                ),
                "total" if n == 0 else "data",
            )
            for n, x in enumerate(f.funds)
        ),
        frozenset({1, 2, 3, 4, 5, 6}),
    )
    goal = Table("年度总体目标", ("预期目标", "实际完成情况"), (Row((f.goal_expected or "—", f.goal_achieved or "—")),))
    rows = [
        Row((x.level1, x.level2, x.level3, x.target, x.actual, _plain(x.points), _two(x.score), x.reason))
        for x in f.indicators
    ]
    rows.append(Row(("总分", "", "", "", "", _plain(f.total_points), _two(f.total_score), ""), "total"))
    indicators = Table(
        "绩效指标",
        ("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"),
        tuple(rows),
        frozenset({5, 6}),
    )
    note = Paragraph(
        "说明：执行率 = 全年执行数 ÷ 全年预算数；资金部分得分为预算执行率指标得分；总分为各项得分之和。"
        "本表同时以 self_evaluation_form.xlsx 单独输出。",
        "note",
    )
    return True, [head, funds, goal, indicators, note]


def render_form_xlsx(inp: ReportInputs) -> bytes:
    """The form as one printable XLSX sheet, laid out like the standard paper form."""
    f = build(inp)
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    )
    wb.set_properties(
        {
            "title": f"{FORM_TITLE}（{f.year} 年度）",
            "author": inp.meta.evaluator,
            "created": dt.datetime.combine(inp.meta.report_date, dt.time()),
        }
    )
    base = {"font_name": "宋体", "font_size": 10, "border": 1, "valign": "vcenter", "text_wrap": True}
    fmt = {
        "title": wb.add_format({"font_name": "黑体", "font_size": 16, "align": "center", "valign": "vcenter"}),
        "sub": wb.add_format({"font_name": "宋体", "font_size": 10, "align": "center"}),
        "label": wb.add_format({**base, "bold": True, "align": "center", "bg_color": "#F2F2F2"}),
        "text": wb.add_format({**base, "align": "left"}),
        "center": wb.add_format({**base, "align": "center"}),
        "money": wb.add_format({**base, "align": "right", "num_format": "#,##0.00"}),
        "score": wb.add_format({**base, "align": "right", "num_format": "0.00"}),
        "percent": wb.add_format({**base, "align": "right", "num_format": "0.00%"}),
    }
    ws = wb.add_worksheet("自评表")
    ws.set_paper(9)  # A4
    ws.set_portrait()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    for col, width in enumerate((8, 10, 12, 16, 13, 13, 8, 8, 30)):
        ws.set_column(col, col, width)

    def put(r: int, c1: int, c2: int, value: object, style: str = "text") -> None:
        if isinstance(value, (Decimal, int)) and not isinstance(value, bool):
            # numbers sit in single cells; an xlsx number is a double, exact to the cent for these values
            ws.write_number(r, c1, float(value), fmt[style])
            return
        text = escape_text("—" if value is None else str(value))
        if c1 == c2:
            ws.write_string(r, c1, text, fmt[style])
        else:
            ws.merge_range(r, c1, r, c2, text, fmt[style])

    ws.merge_range(0, 0, 0, 8, FORM_TITLE, fmt["title"])
    ws.merge_range(1, 0, 1, 8, f"（{f.year} 年度）", fmt["sub"])
    put(2, 0, 1, "项目名称", "label")
    put(2, 2, 8, f.programme)
    put(3, 0, 1, "主管部门", "label")
    put(3, 2, 4, f.department)
    put(3, 5, 5, "实施单位", "label")
    put(3, 6, 8, f.unit)
    r = 4
    ws.merge_range(r, 0, r + len(f.funds), 0, "项目资金（万元）", fmt["label"])
    put(r, 1, 2, "", "label")
    for c, h in enumerate(
        ("年初预算数", "全年预算数（A）", "全年执行数（B）", "分值", "执行率（B/A）", "得分"), start=3
    ):
        put(r, c, c, h, "label")
    for n, line in enumerate(f.funds):
        r += 1
        put(r, 1, 2, line.label if n != 1 else f"其中：{line.label}")
        put(r, 3, 3, line.initial, "money")
        put(r, 4, 4, line.annual, "money")
        put(r, 5, 5, line.executed, "money")
        put(r, 6, 6, line.points if line.points is not None else "—", "score" if line.points is not None else "center")
        put(
            r, 7, 7, line.rate / 100 if line.rate is not None else "—", "percent" if line.rate is not None else "center"
        )
        put(r, 8, 8, line.score if line.score is not None else "—", "score" if line.score is not None else "center")
    r += 1
    ws.merge_range(r, 0, r + 1, 0, "年度总体目标", fmt["label"])
    put(r, 1, 4, "预期目标", "label")
    put(r, 5, 8, "实际完成情况", "label")
    r += 1
    ws.set_row(r, 66)
    put(r, 1, 4, f.goal_expected or "—")
    put(r, 5, 8, f.goal_achieved or "—")
    r += 1
    ws.merge_range(r, 0, r + len(f.indicators), 0, "绩效指标", fmt["label"])
    for c, h in enumerate(
        ("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"),
        start=1,
    ):
        put(r, c, c, h, "label")
    for x in f.indicators:
        r += 1
        for c, v in enumerate((x.level1, x.level2, x.level3, x.target, x.actual), start=1):
            put(r, c, c, v, "center" if c < 3 else "text")
        put(r, 6, 6, x.points, "score")
        put(r, 7, 7, x.score, "score")
        put(r, 8, 8, x.reason)
    r += 1
    put(r, 0, 5, "总分", "label")
    put(r, 6, 6, f.total_points, "score")
    put(r, 7, 7, f.total_score, "score")
    put(r, 8, 8, "")
    ws.print_area(0, 0, r, 8)
    ws.repeat_rows(0, 1)
    wb.close()
    return buffer.getvalue()
