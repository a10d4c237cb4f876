"""scored_tables.xlsx: one sheet per table behind the report, for a clerk to read and print.

Every sheet has Chinese headers with units; money is in 万元 with two decimals (分 stay in DuckDB
and the machine CSVs), rates are numbers with a percent format, codes sit beside their Chinese
names, and every sheet prints on A4 one page wide with its header row repeated (landscape where
wide). Every text cell goes through :mod:`pipeline.escape`, so no submitted text becomes a
formula. xlsxwriter in memory stamps zip entries 1980-01-01 and the properties carry the report
date: bytes are reproducible.

A cell value is an IEEE double in any xlsx file; money is converted from exact integers of 分 or
exact decimal text once, at the cell, and is exact to the cent.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import numbers
import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from fractions import Fraction

import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from pipeline.contract import SUBPROJECT_STATUS_LABELS
from pipeline.escape import escape_text
from pipeline.findings import SEVERITY_LABELS
from pipeline.formats import FEN_PER_WAN
from pipeline.report.inputs import (
    INDICATOR_STATUS_LABELS,
    SUBJECT_TYPES,
    TARGET_FLAG_LABELS,
    ReportInputs,
)
from pipeline.report.narrative import parse
from pipeline.report.text import (
    FUND_KEYS,
    RULE_LABELS,
    code_title,
    problems_of,
    source_rows,
    subject_names,
)
from pipeline.report.values import direction, is_missing
from pipeline.tables import MEASURE_NAMES

# Column kinds: how a cell's value is written.
WAN, FEN, RATE, SCORE, INT, NUMBER, TEXT = "wan", "fen", "rate", "score", "int", "number", "text"
MAX_WIDTH = 60
WIDE = 8  # sheets with more columns print landscape

METHOD_LABELS = {
    "proportional": "按比例",
    "banded": "区间",
    "reverse": "逆向（越低越好）",
    "deduction": "扣分",
    "qualitative": "定性",
}
KIND_LABELS = {"count": "数量", "percent": "百分比", "amount": "金额", "grade": "定性"}
DISCREPANCY_LABELS = {
    "amount_differs": "金额不一致",
    "duplicate_receipt": "重复登记",
    "unmatched_transfer": "下拨无到位记录",
    "unmatched_receipt": "到位无下拨记录",
    "matched": "一致",
}
MATCH_LABELS = {"doc_no": "按文号", "amount_date": "按金额和日期"}
MEASURE_LABELS = {
    **MEASURE_NAMES,
    "stated_plan": "旗县区报送配套计划",
    "allocation": "登记资金额",
    "transfer_amount": "下拨金额",
    "receipt_amount": "到位金额",
    "actual": "完成值",
    "status": "实施状态",
    "synced": "档案同步",
    "target_realism": "目标值与往年水平",
}
TABLE_LABELS = {
    "funds_cells": "资金明细",
    "funds_by_subproject": "子项目资金",
    "funds_by_source": "资金来源",
    "county_matching": "配套资金",
    "transfer_matches": "下拨核对",
    "transfer_discrepancies": "下拨核对差异",
    "reconciliation_findings": "资金问题发现",
    "scoring_findings": "绩效问题发现",
    "indicator_scores": "指标得分",
    "subproject_status": "子项目状态",
}

# Headers and kinds of the stages' own columns, for the fund tables the report adds as sheets.
STAGE_COLUMNS: dict[str, tuple[str, str]] = {
    "key": ("键", TEXT),
    "source_code": ("资金来源编码", TEXT),
    "source_label": ("资金来源", TEXT),
    "subproject_code": ("子项目编码", TEXT),
    "subproject_name": ("子项目名称", TEXT),
    "group_code": ("项目组编码", TEXT),
    "group_name": ("项目组", TEXT),
    "county_code": ("旗县区编码", TEXT),
    "county_name": ("旗县区", TEXT),
    "allocation": ("登记资金额（万元）", FEN),
    "planned": ("计划资金（万元）", FEN),
    "received": ("到位资金（万元）", FEN),
    "spent": ("实际支出（万元）", FEN),
    "carried_forward": ("结转下年（万元）", FEN),
    "recovered": ("收回（万元）", FEN),
    "balance": ("结余（万元）", FEN),
    "transfers_in": ("下拨转入（万元）", FEN),
    "transfers_out": ("下拨转出（万元）", FEN),
    "arrival_rate": ("到位率", RATE),
    "execution_rate": ("执行率", RATE),
    "stated_plan": ("旗县区报送配套计划（万元）", FEN),
    "shortfall": ("配套缺口（万元）", FEN),
    "discrepancy_type": ("差异类型", TEXT),
    "status": ("核对结果", TEXT),
    "match_method": ("配对方式", TEXT),
    "transfer_id": ("下拨编号", TEXT),
    "transfer_doc_no": ("下拨文号", TEXT),
    "transfer_date": ("下拨日期", TEXT),
    "transfer_amount": ("下拨金额（万元）", FEN),
    "transfer_file": ("下拨记录文件", TEXT),
    "transfer_sheet": ("下拨记录工作表", TEXT),
    "transfer_row": ("下拨记录行号", INT),
    "receipt_id": ("到位编号", TEXT),
    "receipt_doc_no": ("到位文号", TEXT),
    "receipt_date": ("到位日期", TEXT),
    "receipt_amount": ("到位金额（万元）", FEN),
    "receipt_file": ("到位记录文件", TEXT),
    "receipt_sheet": ("到位记录工作表", TEXT),
    "receipt_row": ("到位记录行号", INT),
    "difference": ("差额（万元）", FEN),
    "output_table": ("输出表", TEXT),
    "output_key": ("输出行", TEXT),
    "measure": ("数据项", TEXT),
    "input_kind": ("来源资料类型", TEXT),
    "file": ("文件", TEXT),
    "sheet": ("工作表", TEXT),
    "row": ("行号", INT),
    "sha256": ("文件 SHA-256", TEXT),
}
VALUE_LABELS: dict[str, Mapping[str, str]] = {
    "discrepancy_type": DISCREPANCY_LABELS,
    "status": DISCREPANCY_LABELS,
    "match_method": MATCH_LABELS,
    "measure": MEASURE_LABELS,
    "output_table": TABLE_LABELS,
}


def render_xlsx(inp: ReportInputs, extra_tables: Mapping[str, pd.DataFrame] | None = None) -> bytes:
    """The scored tables as XLSX bytes; ``extra_tables`` (the stages' fund tables) become further sheets."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,  # in memory, xlsxwriter stamps every zip entry 1980-01-01
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    workbook.set_properties(
        {
            "title": inp.meta.report_title,
            "subject": inp.meta.programme,
            "author": inp.meta.evaluator,
            "created": dt.datetime.combine(inp.meta.report_date, dt.time()),
        }
    )
    base = {"font_name": "宋体", "font_size": 10, "valign": "top"}
    formats = {
        "header": workbook.add_format(
            {
                **base,
                "bold": True,
                "bg_color": "#DCE6F1",
                "border": 1,
                "text_wrap": True,
                "align": "center",
                "valign": "vcenter",
            }
        ),
        "two": workbook.add_format({**base, "num_format": "#,##0.00"}),
        "score": workbook.add_format({**base, "num_format": "0.00"}),
        "percent": workbook.add_format({**base, "num_format": "0.00%"}),
        "int": workbook.add_format({**base, "num_format": "0"}),
        "general": workbook.add_format(base),
        "text": workbook.add_format({**base, "text_wrap": True}),
    }
    used: set[str] = set()
    for name, (columns, frame) in _tables(inp).items():
        _sheet(workbook, formats, name, columns, frame)
        used.add(name)
    kind_labels = dict(inp.kind_labels)
    for name, frame in (extra_tables or {}).items():
        sheet_name = _sheet_name(name, used)
        used.add(sheet_name)
        frame = _labelled(frame, inp, kind_labels)
        columns = [(_header(c), c, STAGE_COLUMNS.get(c, (c, _kind_of(frame[c])))[1]) for c in frame.columns]
        _sheet(workbook, formats, sheet_name, columns, frame)
    workbook.close()
    return buffer.getvalue()


def _header(column: str) -> str:
    header = STAGE_COLUMNS.get(column, (column, TEXT))[0]
    return header if re.search(r"[\u4e00-\u9fff]", header) else f"{header}（原始列）"


def _labelled(frame: pd.DataFrame, inp: ReportInputs, kind_labels: Mapping[str, str]) -> pd.DataFrame:
    """Codes beside their Chinese names: a source or county name column next to its code, labels for enumerations."""
    df = frame.copy()
    for column, labels in VALUE_LABELS.items():
        if column in df:
            df[column] = df[column].map(functools.partial(_label, labels))
    if "input_kind" in df:
        df["input_kind"] = (
            df["input_kind"]
            .astype(str)
            .map(lambda v: kind_labels.get(v, {"reconciliation": "资金核对", "history": "往年数据"}.get(v, v)))
        )
    if "source_code" in df and "source_label" not in df:
        df.insert(
            _after(df, "source_code"),
            "source_label",
            df["source_code"].astype(str).map(dict(inp.sources)).fillna(df["source_code"].astype(str)),
        )
    if "county_code" in df and "county_name" not in df:
        df.insert(
            _after(df, "county_code"),
            "county_name",
            df["county_code"].astype(str).map(dict(inp.names)).fillna(""),
        )
    return df


def _label(labels: Mapping[str, str], value: object) -> object:
    """A code's Chinese label; anything else as it is."""
    return labels.get(str(value), value) if isinstance(value, str) else value


def _after(df: pd.DataFrame, column: str) -> int:
    """The position just after column."""
    at = df.columns.get_loc(column)
    if not isinstance(at, int):
        raise ValueError(f"column {column!r} is not unique")
    return at + 1


Columns = list[tuple[str, str, str]]  # (Chinese header, column in the frame, kind)


def _tables(inp: ReportInputs) -> dict[str, tuple[Columns, pd.DataFrame]]:
    dims = {str(c): str(n) for c, n in zip(inp.dimensions["code"], inp.dimensions["name"])}
    funds = inp.summary["funds"]
    fund_rows = [{"code": code, "label": label, **f} for code, label, f in source_rows(inp)]
    fund_rows.append({"code": "", "label": "合计", **{k: funds.get(k) for k in FUND_KEYS}})
    ind = inp.indicators
    indicators = ind.assign(
        dimension_name=ind["dimension"].astype(str).map(dims),
        direction=[direction(r) for r in ind.itertuples(index=False)],
        status_label=ind["status"].map(INDICATOR_STATUS_LABELS),
        flag_label=ind["target_flag"].map(TARGET_FLAG_LABELS).fillna(ind["target_flag"]),
        flag_reason=ind.get("realism_reason", ""),
        method_label=ind["method"].map(METHOD_LABELS) if "method" in ind else "",
        kind_label=ind["value_kind"].map(KIND_LABELS) if "value_kind" in ind else "",
        scoring_rule=ind.get("scoring_rule", ""),
    )
    grouping = problems_of(inp, parse(inp.narrative))
    where = {
        fid: f"{n}. {p.heading}" for n, p in enumerate(grouping.problems, start=1) for fid in p.findings["finding_id"]
    }
    f = inp.findings
    findings = f.assign(
        title=f["code"].map(code_title),
        severity_label=f["severity"].map(SEVERITY_LABELS),
        type_label=f["subject_type"].map(SUBJECT_TYPES).fillna(f["subject_type"]),
        subject_name=subject_names(inp, f),
        problem=f["finding_id"].map(where).fillna("仅列于附件问题发现清单"),
    )
    quarantine = inp.quarantine.assign(rule_label=inp.quarantine["rule"].map(RULE_LABELS).fillna("其他校验问题"))
    inputs = inp.inputs.assign(
        submitter_name=inp.inputs["submitter"]
        .astype(str)
        .map(dict(inp.names))
        .fillna(inp.inputs["submitter"].astype(str)),
        kind_label=inp.inputs["kind"]
        .fillna("")
        .astype(str)
        .map(lambda k: "、".join(dict.fromkeys(inp.kind_labels.get(x, x) for x in k.split(",") if x)) or "未识别"),
        short=inp.inputs["sha256"].astype(str).str[:12],
    )
    unit = inp.meta.money_unit
    subprojects = inp.subprojects.assign(status_label=inp.subprojects["status"].map(SUBPROJECT_STATUS_LABELS))
    return {
        "资金": (
            [
                ("资金来源", "label", TEXT),
                ("资金来源编码", "code", TEXT),
                *(
                    (f"{h}（{unit}）", k, WAN)
                    for h, k in zip(("计划资金", "到位资金", "实际支出", "结转下年", "收回"), FUND_KEYS[:5])
                ),
                ("到位率", "arrival_rate", RATE),
                ("执行率", "execution_rate", RATE),
            ],
            pd.DataFrame(fund_rows),
        ),
        "维度得分": (
            [
                ("评价维度", "name", TEXT),
                ("维度编码", "code", TEXT),
                ("权重（分）", "weight", NUMBER),
                ("得分（分）", "score", SCORE),
            ],
            inp.dimensions,
        ),
        "子项目": (
            [
                ("子项目编码", "subproject_code", TEXT),
                ("子项目名称", "name", TEXT),
                ("项目组编码", "group_code", TEXT),
                ("项目组", "group_name", TEXT),
                (f"资金额（{unit}）", "allocation", WAN),
                ("实施状态", "status_label", TEXT),
            ],
            subprojects,
        ),
        "指标": (
            [
                ("一级指标", "dimension_name", TEXT),
                ("二级指标", "level2", TEXT),
                ("三级指标", "name", TEXT),
                ("指标编码", "code", TEXT),
                ("指标类型", "kind_label", TEXT),
                ("方向", "direction", TEXT),
                ("单位", "unit", TEXT),
                ("年度指标值", "target", NUMBER),
                ("实际完成值", "actual", NUMBER),
                ("完成率", "completion_rate", RATE),
                ("分值（分）", "points", NUMBER),
                ("得分（分）", "score", SCORE),
                ("计分方法", "method_label", TEXT),
                ("评分规则", "scoring_rule", TEXT),
                ("完成状态", "status_label", TEXT),
                ("偏差原因", "deviation_reason", TEXT),
                ("目标值与往年水平", "flag_label", TEXT),
                ("说明", "flag_reason", TEXT),
            ],
            indicators,
        ),
        "问题发现": (
            [
                ("编号", "finding_id", TEXT),
                ("问题类型", "title", TEXT),
                ("类型编码", "code", TEXT),
                ("严重程度", "severity_label", TEXT),
                ("对象类型", "type_label", TEXT),
                ("对象", "subject_name", TEXT),
                ("对象编码", "subject", TEXT),
                (f"涉及金额（{unit}）", "stake_fen", FEN),
                ("失分（分）", "points_lost", SCORE),
                ("数值", "figure", NUMBER),
                ("说明", "message", TEXT),
                ("判定规则", "rule", TEXT),
                ("严重程度依据", "severity_rule", TEXT),
                ("所在问题（四（二））", "problem", TEXT),
            ],
            findings,
        ),
        "隔离记录": (
            [
                ("文件", "file", TEXT),
                ("工作表", "sheet", TEXT),
                ("行号", "row", INT),
                ("列", "column", TEXT),
                ("问题", "rule_label", TEXT),
                ("规则编码", "rule", TEXT),
                ("值", "value", TEXT),
                ("说明", "message", TEXT),
            ],
            quarantine,
        ),
        "输入文件": (
            [
                ("报送单位", "submitter_name", TEXT),
                ("资料类型", "kind_label", TEXT),
                ("文件", "file", TEXT),
                ("数据行数", "rows", INT),
                ("文件摘要（SHA-256 前 12 位）", "short", TEXT),
            ],
            inputs,
        ),
        "输入文件_技术": (
            [
                ("文件", "file", TEXT),
                ("报送单位编码", "submitter", TEXT),
                ("资料类型编码", "kind", TEXT),
                ("文件 SHA-256（完整）", "sha256", TEXT),
            ],
            inputs,
        ),
    }


def _sheet(workbook: Workbook, formats: dict[str, Format], name: str, columns: Columns, frame: pd.DataFrame) -> None:
    ws = workbook.add_worksheet(name)
    widths = []
    for j, (header, _, _) in enumerate(columns):
        ws.write_string(0, j, escape_text(header), formats["header"])
        widths.append(min(_width(header), 24))
    for j, (_, column, kind) in enumerate(columns):
        values = frame[column].tolist() if column in frame else [None] * len(frame)
        for i, value in enumerate(values, start=1):
            shown = _write(ws, formats, i, j, value, kind)
            if i <= 1000:  # widths from a sample keep national-scale sheets fast
                widths[j] = max(widths[j], _width(shown))
    for j, width in enumerate(widths):
        ws.set_column(j, j, min(width + 2, MAX_WIDTH))
    ws.set_row(0, 30)
    ws.freeze_panes(1, 0)
    if len(frame):
        ws.autofilter(0, 0, len(frame), len(columns) - 1)
    # print: A4, one page wide, the header row on every page, landscape when wide
    ws.set_paper(9)
    ws.set_landscape() if len(columns) >= WIDE else ws.set_portrait()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer("&C第 &P 页 共 &N 页")


def _write(ws: Worksheet, formats: dict[str, Format], i: int, j: int, value: object, kind: str) -> str:
    """Write one typed cell and return its text as shown, for the column width."""
    if is_missing(value) or (isinstance(value, str) and value == "" and kind != TEXT):
        return ""
    if isinstance(value, pd.Timestamp):
        value = value.date().isoformat()
    converters: dict[str, Callable[[object], Decimal | None]] = {
        WAN: _decimal,
        FEN: lambda v: _scaled(v, FEN_PER_WAN),
        RATE: lambda v: _scaled(v, 100),
        SCORE: _decimal,
        INT: _decimal,
        NUMBER: _decimal,
    }
    number = converters[kind](value) if kind in converters else None
    if number is not None:
        fmt = {WAN: "two", FEN: "two", RATE: "percent", SCORE: "score", INT: "int", NUMBER: "general"}[kind]
        ws.write_number(i, j, float(number), formats[fmt])
        return f"{number:.2f}" if kind != RATE else f"{number * 100:.2f}%"
    text = escape_text(str(value))
    ws.write_string(i, j, text, formats["text" if len(text) > 30 else "general"])
    return text[:40]


def _scaled(value: object, divisor: int) -> Decimal | None:
    """_decimal(value) / divisor: 分 in 万元, a percentage as a fraction."""
    d = _decimal(value)
    return None if d is None else d / divisor


def _decimal(value: object) -> Decimal | None:
    """An exact number from an integer, a Decimal or plain decimal text; text such as “好” or “85%” is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    if isinstance(value, numbers.Integral):
        return Decimal(int(value))
    if isinstance(value, numbers.Real):
        return Decimal(str(value))
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
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
