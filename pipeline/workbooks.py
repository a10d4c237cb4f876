"""Writing submission files in the contract's layout: XLSX workbooks and CSV, deterministically.

Used for the blank templates (``python -m pipeline templates``), the Hohhot reconstruction and
the synthetic generator. A sheet is a title row (who, what, unit), a notes row (what each column
takes), then the Chinese header and the data. The reader tolerates both rows above the header.
Bytes are deterministic: fixed document properties, no clock.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path

import xlsxwriter

from pipeline import fieldtypes
from pipeline.contract import Kind

FIXED_CREATED = dt.datetime(2020, 1, 1)
CODE_LABEL = "填报单位代码"


def column_order(kind: Kind) -> list[str]:
    """Columns in the order a clerk fills them: id, date, codes, choices, amounts, then the rest, note last."""
    cols = kind.columns
    return sorted(cols, key=lambda n: (n == "note", fieldtypes.of(cols[n]).order, list(cols).index(n)))


def header(kind: Kind, name: str, unit: str) -> str:
    return fieldtypes.of(kind.columns[name]).header(kind.columns[name], unit)


def note(kind: Kind, name: str, unit: str) -> str:
    col = kind.columns[name]
    return fieldtypes.of(col).template_note(col, unit)


@dataclasses.dataclass
class Sheet:
    kind: Kind
    rows: Sequence[dict]  # canonical column name → cell value (str, number, date) or missing
    title: str = ""
    unit: str = "万元"
    columns: list[str] | None = None  # default: every column of the kind
    choices: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # drop-down lists
    name: str | None = None  # sheet name, default the kind's Chinese label
    code: str | None = None  # 填报单位代码: the submitter's code, written beside the title (None: a blank to fill)


def write_xlsx(path: Path, sheets: list[Sheet], created: dt.datetime = FIXED_CREATED) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False, "in_memory": True})
    wb.set_properties({"created": created, "author": "", "comments": ""})
    bold = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    grey = wb.add_format({"italic": True, "font_color": "#666666", "text_wrap": True})
    money = wb.add_format({"num_format": "0.00"})
    datef = wb.add_format({"num_format": "yyyy-mm-dd"})
    lists: list[list[str]] = []  # long drop-down lists, written to a hidden sheet at the end
    for sh in sheets:
        ws = wb.add_worksheet(sh.name or sh.kind.label)
        cols = sh.columns or column_order(sh.kind)
        ws.write_row(0, 0, [sh.title or f"{sh.kind.label}　单位：{sh.unit}"])
        at = max(len(cols) - 2, 1)  # the code sits at the right end of the title row, where the reader looks for it
        ws.write_string(0, at, CODE_LABEL, bold)
        ws.write_string(0, at + 1, sh.code or "", bold)
        ws.write_row(
            1,
            0,
            ["说明：" + note(sh.kind, c, sh.unit) if i == 0 else note(sh.kind, c, sh.unit) for i, c in enumerate(cols)],
            grey,
        )
        ws.write_row(2, 0, [header(sh.kind, c, sh.unit) for c in cols], bold)
        ws.freeze_panes(3, 0)
        for j, c in enumerate(cols):
            ws.set_column(j, j, 16)
            if c in sh.choices:
                ws.data_validation(
                    3,
                    j,
                    1_048_575,
                    j,
                    {
                        "validate": "list",
                        "source": _choice_source(sh.choices[c], lists),
                        "error_message": "请从下拉列表中选择",
                        "ignore_blank": True,
                    },
                )
        for i, r in enumerate(sh.rows, start=3):
            for j, c in enumerate(cols):
                v = r.get(c)
                if v is None or v == "":
                    continue
                is_money = fieldtypes.of(sh.kind.columns[c]) is fieldtypes.MONEY
                if isinstance(v, (dt.date, dt.datetime)):
                    ws.write_datetime(i, j, dt.datetime.combine(v, dt.time()) if type(v) is dt.date else v, datef)
                elif is_money and _is_number(v):
                    ws.write_number(i, j, float(v), money)
                else:
                    ws.write_string(i, j, str(v))
    if lists:
        hidden = wb.add_worksheet("_lists")
        for j, values in enumerate(lists):
            hidden.write_column(0, j, values)
        hidden.hide()
    wb.close()


def _choice_source(values: list[str], lists: list[list[str]]) -> str | list[str]:
    """Drop-down source: inline when short, else a range on a hidden sheet (Excel caps inline lists at 255 chars)."""
    if len(",".join(values)) <= 250:
        return values
    lists.append(values)
    letter = xlsxwriter.utility.xl_col_to_name(len(lists) - 1)
    return f"=_lists!${letter}$1:${letter}${len(values)}"


def _is_number(v: object) -> bool:
    try:
        float(str(v))
        return True
    except ValueError:
        return False


def csv_text(
    kind: Kind,
    rows: Sequence[dict],
    unit: str = "万元",
    title: str = "",
    columns: list[str] | None = None,
    code: str | None = None,
) -> str:
    """A CSV in the contract's layout: an optional title line (with the 填报单位代码 when given), header, rows."""
    cols = columns or column_order(kind)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if title or code:
        w.writerow([title or kind.label, *([CODE_LABEL, code] if code else [])])
    w.writerow([header(kind, c, unit) for c in cols])
    for r in rows:
        w.writerow(["" if r.get(c) is None else str(r.get(c)) for c in cols])
    return buf.getvalue()


def write_csv(
    path: Path,
    kind: Kind,
    rows: Sequence[dict],
    unit: str = "万元",
    title: str = "",
    encoding: str = "utf-8",
    columns: list[str] | None = None,
    code: str | None = None,
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_text(kind, rows, unit, title, columns, code).encode(encoding))
