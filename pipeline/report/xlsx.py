"""scored_tables.xlsx: one sheet per table behind the report, Chinese headers, typed cells.

Money, rates and scores are numbers with a two-decimal format; every text cell goes through
:mod:`pipeline.escape`, so no submitted text becomes a formula. xlsxwriter in memory
stamps zip entries 1980-01-01 and the properties carry the report date: bytes are reproducible.
"""

from __future__ import annotations

import datetime as dt
import io
import numbers
import re
from decimal import Decimal
from typing import Mapping, Optional

import pandas as pd
import xlsxwriter

from pipeline.findings import SEVERITY_LABELS
from pipeline.report.inputs import INDICATOR_STATUS_LABELS, STATUS_LABELS, TARGET_FLAG_LABELS, ReportInputs
from pipeline.escape import escape_text
from pipeline.report.text import FUND_HEADERS, FUND_KEYS, code_title, report_findings, source_rows

# Column kinds: how a cell's value is written.
MONEY, RATE, SCORE, INT, NUMBER, TEXT = "money", "rate", "score", "int", "number", "text"
MAX_WIDTH = 60


def render_xlsx(inp: ReportInputs, extra_tables: Optional[Mapping[str, pd.DataFrame]] = None) -> bytes:
    """The scored tables as XLSX bytes; ``extra_tables`` become further sheets, typed by dtype."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {
        "in_memory": True,  # in memory, xlsxwriter stamps every zip entry 1980-01-01
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
    })
    workbook.set_properties({
        "title": inp.meta.title,
        "subject": inp.meta.programme,
        "author": inp.meta.evaluator,
        "created": dt.datetime.combine(inp.meta.report_date, dt.time()),
    })
    formats = {
        "header": workbook.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1, "text_wrap": True,
                                       "align": "center", "valign": "vcenter"}),
        "two": workbook.add_format({"num_format": "0.00"}),
        "int": workbook.add_format({"num_format": "0"}),
        "general": workbook.add_format({}),
    }
    for name, (columns, frame) in _tables(inp).items():
        _sheet(workbook, formats, name, columns, frame)
    used = {ws.get_name() for ws in workbook.worksheets()}
    for name, frame in (extra_tables or {}).items():
        sheet_name = _sheet_name(name, used)
        used.add(sheet_name)
        columns = [(str(c), c, _kind_of(frame[c])) for c in frame.columns]
        _sheet(workbook, formats, sheet_name, columns, frame)
    workbook.close()
    return buffer.getvalue()


Columns = list[tuple[str, str, str]]  # (Chinese header, column in the frame, kind)


def _tables(inp: ReportInputs) -> dict[str, tuple[Columns, pd.DataFrame]]:
    dims = {str(c): str(n) for c, n in zip(inp.dimensions["code"], inp.dimensions["name"])}
    funds = inp.summary["funds"]
    fund_rows = [{"code": code, "label": label, **f} for code, label, f in source_rows(inp)]
    fund_rows.append({"code": "total", "label": "合计", **{k: funds.get(k) for k in FUND_KEYS}})
    fund_kinds = (MONEY,) * 5 + (RATE,) * 2
    indicators = inp.indicators.assign(
        dimension_name=inp.indicators["dimension"].astype(str).map(dims),
        status_label=inp.indicators["status"].map(INDICATOR_STATUS_LABELS),
        flag_label=inp.indicators["target_flag"].map(TARGET_FLAG_LABELS).fillna(inp.indicators["target_flag"]),
        flag_reason=inp.indicators.get("realism_reason", ""),
    )
    findings = report_findings(inp)
    findings = findings.assign(title=findings["code"].map(code_title),
                               severity_label=findings["severity"].map(SEVERITY_LABELS))
    return {
        "资金": (
            [("资金来源编码", "code", TEXT), ("资金来源", "label", TEXT),
             *((h, k, kind) for h, k, kind in zip(FUND_HEADERS, FUND_KEYS, fund_kinds))],
            pd.DataFrame(fund_rows),
        ),
        "维度得分": (
            [("维度编码", "code", TEXT), ("评价维度", "name", TEXT), ("权重", "weight", NUMBER), ("得分", "score", SCORE)],
            inp.dimensions,
        ),
        "子项目": (
            [("子项目编码", "subproject_code", TEXT), ("子项目名称", "name", TEXT), ("项目组编码", "group_code", TEXT),
             ("项目组", "group_name", TEXT), (f"资金额（{inp.meta.money_unit}）", "allocation", MONEY),
             ("实施状态", "status_label", TEXT)],
            inp.subprojects.assign(status_label=inp.subprojects["status"].map(STATUS_LABELS)),
        ),
        "指标": (
            [("指标编码", "code", TEXT), ("三级指标", "name", TEXT), ("一级指标", "dimension_name", TEXT),
             ("二级指标", "level2", TEXT), ("单位", "unit", TEXT), ("年度指标值", "target", NUMBER),
             ("实际完成值", "actual", NUMBER), ("完成率（%）", "completion_rate", RATE), ("分值", "points", NUMBER),
             ("得分", "score", SCORE), ("完成状态", "status_label", TEXT), ("偏差原因", "deviation_reason", TEXT),
             ("目标值合理性", "flag_label", TEXT), ("合理性说明", "flag_reason", TEXT)],
            indicators,
        ),
        "问题发现": (
            [("编号", "finding_id", TEXT), ("问题类型", "title", TEXT), ("类型编码", "code", TEXT),
             ("严重程度", "severity_label", TEXT), ("对象类型", "subject_type", TEXT), ("对象", "subject", TEXT),
             ("数值", "figure", NUMBER), ("说明", "message", TEXT)],
            findings,
        ),
        "隔离记录": (
            [("文件", "file", TEXT), ("工作表", "sheet", TEXT), ("行号", "row", INT), ("列", "column", TEXT),
             ("规则", "rule", TEXT), ("值", "value", TEXT), ("说明", "message", TEXT)],
            inp.quarantine,
        ),
        "输入文件": (
            [("文件", "file", TEXT), ("类型", "kind", TEXT), ("报送单位", "submitter", TEXT), ("行数", "rows", INT),
             ("SHA-256", "sha256", TEXT)],
            inp.inputs,
        ),
    }


def _sheet(workbook, formats: dict, name: str, columns: Columns, frame: pd.DataFrame) -> None:
    ws = workbook.add_worksheet(name)
    widths = []
    for j, (header, _, _) in enumerate(columns):
        ws.write_string(0, j, escape_text(header), formats["header"])
        widths.append(_width(header))
    for j, (_, column, kind) in enumerate(columns):
        for i, value in enumerate(frame[column].tolist(), start=1):
            shown = _write(ws, formats, i, j, value, kind)
            if i <= 1000:  # widths from a sample keep national-scale sheets fast
                widths[j] = max(widths[j], _width(shown))
    for j, width in enumerate(widths):
        ws.set_column(j, j, min(width + 2, MAX_WIDTH))
    ws.freeze_panes(1, 0)
    if len(frame):
        ws.autofilter(0, 0, len(frame), len(columns) - 1)


def _write(ws, formats: dict, i: int, j: int, value: object, kind: str) -> str:
    """Write one typed cell and return its text as shown, for the column width."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    number = None if kind == TEXT else _number(value)
    if number is not None:
        fmt = formats["int"] if kind == INT else formats["general"] if kind == NUMBER else formats["two"]
        ws.write_number(i, j, number, fmt)
        return f"{number:.2f}"
    text = escape_text(str(value))
    ws.write_string(i, j, text, formats["general"])
    return text


def _number(value: object) -> Optional[float]:
    """A number to write as one; text only when it is plain decimal ("85%" stays as submitted)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (numbers.Real, Decimal)):
        return float(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value):
        return float(value)
    return None


def _kind_of(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return TEXT
    if pd.api.types.is_integer_dtype(series):
        return INT
    if pd.api.types.is_float_dtype(series):
        return NUMBER
    return TEXT


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _sheet_name(name: str, used: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique."""
    base = re.sub(r"[\[\]:*?/\\]", "_", str(name))[:31] or "表"
    candidate, n = base, 2
    while candidate in used:
        suffix = f"_{n}"
        candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
    return candidate
