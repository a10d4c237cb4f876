"""report.docx writes a table's plain rows as copies of the first row of their shape: the bytes must be
those python-docx gives when it writes every row itself."""

from __future__ import annotations

import io

import docx
import pytest

from pipeline.report import docx as report_docx
from pipeline.report.blocks import Heading, Row, Table
from tests.support.report_example import example_inputs

META = example_inputs().meta

# Every shape the writer meets: data, subtotal and total rows; empty cells; a text with a leading
# space (xml:space="preserve"), a tab and a line break (never copied); a row of fewer cells than
# columns; group rows merged across the table; and CJK, digits and XML's special characters.
ROWS = (
    Row(("1", "就业服务中心", "1,234.56", "98.70%")),
    Row(("2", "人力资源市场", "0.00", "")),
    Row(("", "", "12.00", "100.00%")),
    Row(("3", " 前导空格", "7.10", "1.00%")),
    Row(("4", "含\t制表符", "8.00", "2.00%")),
    Row(("5", "两行\n文字", "9.00", "3.00%")),
    Row(("6", 'A & B <c> "d"', "10.00", "4.00%")),
    Row(("小计",), kind="group"),
    Row(("7", "子项目七", "11.00", "5.00%")),
    Row(("8", "子项目八")),
    Row(("9", "子项目九")),
    Row(("二级分组",), kind="group2"),
    Row(("", "小计", "1,290.66", ""), kind="subtotal"),
    Row(("", "小计", "1,300.00", "9.99%"), kind="subtotal"),
    Row(("", "合计", "2,590.66", "99.00%"), kind="total"),
    Row(("10", "就业服务中心", "1,234.56", "98.70%")),
    Row(("11", "只有一格")),
    Row(("12", " 又一前导空格 ", "1.00", "1.00%")),
)
TABLE = Table(
    caption="表 1 行的各种形状",
    columns=("序号", "名称", "金额", "比率"),
    rows=ROWS,
    numeric=frozenset({2, 3}),
    unit="单位：万元",
)


def _document(monkeypatch: pytest.MonkeyPatch | None = None) -> bytes:
    if monkeypatch is not None:  # python-docx writes every row
        monkeypatch.setattr(report_docx._RowShapes, "copy", lambda self, r: False)
    blocks = [Heading(0, META.title), Heading(1, "一、表格"), TABLE, TABLE]
    return report_docx.draft_docx(blocks, META, {}).finish({})


def test_copied_rows_give_the_bytes_python_docx_gives(monkeypatch):
    copied = _document()
    with monkeypatch.context() as m:
        written = _document(m)
    assert copied == written


def test_copied_rows_hold_their_own_texts():
    tables = docx.Document(io.BytesIO(_document())).tables
    assert len(tables) == 2
    for table in tables:
        got = [[c.text for c in row.cells] for row in table.rows[1:]]
        assert got[0] == ["1", "就业服务中心", "1,234.56", "98.70%"]
        assert got[2] == ["", "", "12.00", "100.00%"]
        assert got[3][1] == " 前导空格" and got[4][1] == "含\t制表符" and got[5][1] == "两行\n文字"
        assert got[6][1] == 'A & B <c> "d"'
        assert got[10] == ["9", "子项目九", "", ""]
        assert got[13] == ["", "小计", "1,300.00", "9.99%"]
        assert got[15] == ["10", "就业服务中心", "1,234.56", "98.70%"]
        assert got[17][1] == " 又一前导空格 "
        assert len(table.rows) == 1 + len(ROWS)
