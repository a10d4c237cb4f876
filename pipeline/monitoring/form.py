"""项目绩效运行监控表 (``monitoring.xlsx``): the form units fill for the finance bureau, rolled up by the pipeline.

One sheet each for the programme, its sub-projects and its counties. The programme sheet follows the
standard layout: header (项目名称, 主管部门, 实施单位, 监控截止日, 序时进度), 项目资金（万元）with
年度预算数, 1–N 月执行数, 执行率 and 全年预计执行数 by source, then each indicator's 年度指标值,
1–N 月实际完成值, 全年预计完成值, 偏差原因分析 (one column per cause, marked √), 完成目标可能性 and 备注.
Money is written in 万元 rounded half-up to two decimals from integer 分, percentages in percent with
two decimals, both as numbers. No clock: the workbook's date is the cut-off.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from decimal import Decimal

import pandas as pd
import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from pipeline.contract import DEVIATION_CAUSE_VALUES
from pipeline.escape import escape_text
from pipeline.evaluation import Evaluation
from pipeline.formats import fen_to_wan

FORM_FILE = "monitoring.xlsx"
FORM_TITLE = "项目绩效运行监控表"
CAUSES = list(DEVIATION_CAUSE_VALUES)


def month_span(cutoff: dt.date) -> str:
    """“1—7月”: the months the cumulative figures cover."""
    return f"1—{cutoff.month}月"


def _wan(fen: object) -> Decimal | None:
    return None if fen is None or pd.isna(fen) else Decimal(fen_to_wan(int(fen)))  # type: ignore[call-overload]


def _dec(text: str | None) -> Decimal | None:
    """Percent text → Decimal; None where undefined."""
    return Decimal(text) if isinstance(text, str) and text else None


def execution_header(cutoff: dt.date) -> list[str]:
    span = month_span(cutoff)
    return [
        "年度预算数（万元）",
        f"{span}执行数（万元）",
        "执行率（%）",
        "序时进度（%）",
        "落后序时进度（百分点）",
        "全年预计执行数（万元）",
        "预警等级",
    ]


def indicator_header(cutoff: dt.date) -> list[str]:
    span = month_span(cutoff)
    return [
        "一级指标",
        "二级指标",
        "三级指标",
        "年度指标值",
        f"{span}实际完成值",
        "全年预计完成值",
        *(f"偏差原因分析：{c}" for c in CAUSES),
        "完成目标可能性",
        "备注",
    ]


def execution_cells(r: pd.Series) -> list[object]:
    return [
        _wan(r["planned"]),
        _wan(r["spent"]),
        _dec(r["execution_rate"]),
        _dec(r["time_progress"]),
        _dec(r["gap"]),
        _wan(r["projected_spent"]),
        r["deviation_level"],
    ]


def indicator_cells(r: pd.Series) -> list[object]:
    unit = r["unit"] or ""
    direction = "≤" if r["comparator"] == "<=" else ("≥" if r["comparator"] == ">=" else "")
    note = [f"预警等级：{r['deviation_level']}", f"全年预计完成值为{r['projection_basis']}"]
    if r["completion_to_date"]:
        note.append(f"已完成年度指标值的 {r['completion_to_date']}%（应达 {r['expected_progress']}%）")
    if r["deviation_note"]:
        note.append(r["deviation_note"])
    return [
        r["level1"],
        r["level2"],
        r["name"],
        f"{direction}{r['target']}{unit}" if r["target"] is not None else "",
        f"{r['actual_to_date']}{unit}" if r["actual_to_date"] is not None else "",
        f"{r['projected_annual']}{unit}" if r["projected_annual"] is not None else "",
        *("√" if r["deviation_cause"] == c else "" for c in CAUSES),
        r["likelihood"],
        "；".join(note),
    ]


class _Writer:
    def __init__(self, workbook: Workbook) -> None:
        base = {"font_name": "宋体", "font_size": 10, "valign": "vcenter", "border": 1}
        self.formats = {
            "title": workbook.add_format({"font_name": "黑体", "font_size": 14, "align": "center", "bold": True}),
            "label": workbook.add_format({**base, "bold": True, "bg_color": "#DCE6F1", "text_wrap": True}),
            "text": workbook.add_format({**base, "text_wrap": True}),
            "number": workbook.add_format({**base, "num_format": "#,##0.00"}),
            "红": workbook.add_format({**base, "bg_color": "#F4B6B6", "align": "center"}),
            "黄": workbook.add_format({**base, "bg_color": "#FFE699", "align": "center"}),
            "绿": workbook.add_format({**base, "bg_color": "#C6E0B4", "align": "center"}),
        }

    def cell(self, ws: Worksheet, i: int, j: int, v: object, label: bool = False) -> None:
        if isinstance(v, Decimal):
            ws.write_number(i, j, float(v), self.formats["number"])
        elif v is None or v == "":
            ws.write_blank(i, j, None, self.formats["text"])
        elif isinstance(v, str) and v in ("红", "黄", "绿") and not label:
            ws.write_string(i, j, v, self.formats[v])
        else:
            ws.write_string(i, j, escape_text(str(v)), self.formats["label" if label else "text"])

    def row(self, ws: Worksheet, i: int, values: Sequence[object], label: bool = False) -> None:
        for j, v in enumerate(values):
            self.cell(ws, i, j, v, label)


def _sheet(workbook: Workbook, name: str, title: str, widths: Sequence[int]) -> Worksheet:
    ws = workbook.add_worksheet(name)
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer("&C第 &P 页 共 &N 页")
    return ws


def render_form(ev: Evaluation, execution: pd.DataFrame, indicators: pd.DataFrame) -> bytes:
    """The monitoring form as XLSX bytes, byte-identical for the same inputs."""
    cutoff = ev.monitoring_cutoff
    assert cutoff is not None
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    workbook.set_properties(
        {
            "title": f"{ev.config.programme}{FORM_TITLE}",
            "subject": ev.config.programme,
            "author": ev.config.implementing_unit or ev.config.title,
            "created": dt.datetime.combine(cutoff, dt.time()),
        }
    )
    w = _Writer(workbook)
    programme = execution[execution["level"] == "programme"].iloc[0]
    ws = _sheet(workbook, "项目", FORM_TITLE, [14, 14, 26, 14, 16, 16, 10, 10, 10, 10, 10, 12, 40])
    ws.merge_range(
        0, 0, 0, 12, f"{FORM_TITLE}（截至{cutoff.year}年{cutoff.month}月{cutoff.day}日）", w.formats["title"]
    )
    header_block = [
        ("项目名称", ev.config.programme),
        ("主管部门", ev.config.competent_department),
        ("实施单位", ev.config.implementing_unit),
        ("监控截止日", cutoff.isoformat()),
        ("序时进度（%）", _dec(programme["time_progress"])),
    ]
    i = 1
    for label, value in header_block:
        w.cell(ws, i, 0, label, label=True)
        w.cell(ws, i, 1, value)
        i += 1
    i += 1
    w.row(ws, i, ["项目资金", *execution_header(cutoff)], label=True)
    i += 1
    w.row(ws, i, ["年度资金总额", *execution_cells(programme)])
    i += 1
    for _, r in execution[execution["level"] == "source"].iterrows():
        w.row(ws, i, [f"其中：{r['name']}", *execution_cells(r)])
        i += 1
    i += 1
    w.row(ws, i, indicator_header(cutoff), label=True)
    i += 1
    for _, r in indicators.iterrows():
        w.row(ws, i, indicator_cells(r))
        i += 1
    ws.repeat_rows(0)
    for sheet, level, key_label, name_label in (
        ("子项目", "subproject", "子项目编码", "子项目名称"),
        ("旗县区", "county", "旗县区编码", "旗县区名称"),
    ):
        ws = _sheet(workbook, sheet, FORM_TITLE, [12, 36, 14, 16, 10, 10, 12, 16, 10])
        w.row(ws, 0, [key_label, name_label, *execution_header(cutoff)], label=True)
        for n, (_, r) in enumerate(execution[execution["level"] == level].iterrows(), start=1):
            w.row(ws, n, [r["key"], r["name"], *execution_cells(r)])
        ws.freeze_panes(1, 0)
        ws.repeat_rows(0)
    workbook.close()
    return buffer.getvalue()
