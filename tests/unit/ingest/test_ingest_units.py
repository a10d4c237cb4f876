"""Unit tests of the ingest building blocks: money and date parsing, sniffing and decoding, header detection."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pytest

from pipeline.contract import KINDS
from pipeline.fieldtypes import parse_dates
from pipeline.files import sha256_file
from pipeline.formats import parse_money
from pipeline.ingest.csvfile import detect_encoding
from pipeline.ingest.read import Problem, SourceFile, _filled, read_file, sniff
from pipeline.ingest.xlsx import Rejected
from pipeline.limits import Limits
from pipeline.workbooks import Sheet, write_xlsx
from tests.support import CORPUS as CORPUS_ROOT

CORPUS = CORPUS_ROOT / "raw" / "defects"
RECEIPTS_HEADER = "到位单号,到账日期,资金来源,子项目编码,旗县区编码,金额（万元）,文号,冲红凭证号,备注"
NA = None


def money(values: list, unit: str) -> list[tuple]:
    fen, error = parse_money(pd.Series(values, dtype=object), unit)
    return [(None if pd.isna(f) else int(f), e) for f, e in zip(fen, error)]


# --- parse_money -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, unit, fen, error",
    [
        ("800", "万元", 800_000_000, ""),
        ("0.01", "万元", 10_000, ""),
        ("1234.5", "万元", 1_234_500_000, ""),
        ("0.01", "元", 1, ""),
        ("1234.5", "元", 123_450, ""),
        (" 96.40 ", "元", 9_640, ""),
        # thousands separators, only in their right places
        ("1,234.56", "元", 123_456, ""),
        ("12,345,678.90", "元", 1_234_567_890, ""),
        ("5,200,000.00", "万元", 5_200_000_000_000, ""),
        ("1,23", "元", NA, "not_a_number"),
        ("12,34.5", "元", NA, "not_a_number"),
        ("1234,567", "元", NA, "not_a_number"),
        # negative amounts parse; whether they are allowed is the reversal check's business
        ("-50", "万元", -50_000_000, ""),
        ("-1,234.50", "元", -123_450, ""),
        ("-0.5", "元", -50, ""),
        # empty is not an error here: the required-column check reports it
        ("", "万元", NA, ""),
        ("   ", "万元", NA, ""),
        (None, "万元", NA, ""),
        # three decimals is an error, never a rounding
        ("86.125", "万元", NA, "too_many_decimals"),
        ("120.125", "元", NA, "too_many_decimals"),
        ("1,234.567", "元", NA, "too_many_decimals"),
        ("0.001", "元", NA, "too_many_decimals"),
        # text
        ("待核实", "万元", NA, "not_a_number"),
        ("见附件", "元", NA, "not_a_number"),
        ("100万元", "元", NA, "not_a_number"),
        ("￥100", "元", NA, "not_a_number"),
        ("1.2e3", "元", NA, "not_a_number"),
        ("1.000.00", "元", NA, "not_a_number"),
        ("-", "元", NA, "not_a_number"),
    ],
)
def test_parse_money(text, unit, fen, error):
    assert money([text], unit) == [(fen, error)]


def test_parse_money_is_exact_integer_fen_and_keeps_the_index():
    values = pd.Series(["0.07", "1,540.00", "abc", None], index=[10, 11, 12, 13], dtype=object)
    fen, error = parse_money(values, "万元")
    assert str(fen.dtype) == "Int64"
    assert fen.index.tolist() == [10, 11, 12, 13]
    assert fen.tolist()[:2] == [70_000, 1_540_000_000]
    assert error.tolist() == ["", "", "not_a_number", ""]


@pytest.mark.parametrize("text, unit", [("99999999999999999999", "元"), ("10000000000000", "万元")])
def test_parse_money_flags_amounts_too_large_for_exact_fen(text, unit):
    [(fen, error)] = money([text], unit)
    assert fen is None and error != ""


# --- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, date",
    [
        ("2023-05-01", "2023-05-01"),
        ("2023/5/1", "2023-05-01"),
        ("2023.05.01", "2023-05-01"),
        ("2023年5月1日", "2023-05-01"),
        ("2022年12月31日", "2022-12-31"),
        ("2023-04-19 00:00:00", "2023-04-19"),  # an Excel date cell read as text
        ("2024-02-29", "2024-02-29"),
        ("2023-02-29", None),
        ("2023-13-01", None),
        ("20230501", None),
        ("05/01/2023", None),
        ("2023-05-01 13:05:00", "2023-05-01"),  # a date cell with a time: the day counts
        ("明年五月", None),
        (None, None),
    ],
)
def test_parse_dates(text, date):
    got = parse_dates(pd.Series([text], dtype="string"))[0]
    assert (None if pd.isna(got) else got.strftime("%Y-%m-%d")) == date


# --- sniff and decode --------------------------------------------------------------------------


def test_a_row_is_filled_when_any_cell_holds_more_than_whitespace():
    grid = pa.table(
        {
            "a": pa.array([None, " ", None, "x", None, "\t"], pa.string()),
            "b": pa.array([None, None, "  ", None, None, None], pa.string()),
            "c": pa.array([None, None, None, None, 7, None], pa.int64()),
        }
    )
    assert _filled(grid).tolist() == [False, False, False, True, True, False]
    assert _filled(grid.select(["a"])).tolist() == [False, False, False, True, False, False]
    assert _filled(grid.select([])).tolist() == [False] * 6


@pytest.mark.parametrize(
    ("cell", "filled"),
    [
        (" \t\n\f\r", False),  # RE2's \s: what a row of nothing but these holds is blank
        ("\v", True),  # not in RE2's \s: a cell holding it is not blank (as the regular expression read it)
        ("\u3000", True),  # a full-width space is text here; validation trims it and says the cell is missing
        ("\xa0", True),
        (" x ", True),
    ],
)
def test_whitespace_is_what_the_rows_test_always_took_it_to_be(cell, filled):
    grid = pa.table({"a": pa.array([cell, None], pa.string()), "b": pa.array([None, " "], pa.string())})
    assert _filled(grid).tolist() == [filled, False]


def test_sniff_reads_the_content_not_the_extension():
    assert sniff((CORPUS / "county" / "150102.xlsx").read_bytes()) == "xlsx"
    assert sniff((CORPUS / "bureau" / "finance" / "receipts_really_csv.xlsx").read_bytes()) == "csv"
    assert sniff(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100)) == "xls"
    assert sniff("到位单号,金额\n".encode("gb18030")) == "csv"
    assert sniff(b"") is None


@pytest.mark.parametrize(
    "data, encoding, lines",
    [
        ("到位单号,金额\nDW001,800\n".encode(), "utf-8-sig", 2),
        (b"\xef\xbb\xbf" + "到位单号\n".encode(), "utf-8-sig", 1),
        ("财社〔2022〕88号,中央资金\n".encode("gb18030"), "gb18030", 1),
        ("呼和浩特市".encode("gbk"), "gb18030", 1),
        (b"\xff\xfe\x00", None, 0),
        ("a,b\n".encode("utf-16"), None, 0),
    ],
)
def test_detect_encoding(tmp_path, data, encoding, lines):
    path = tmp_path / "x.csv"
    path.write_bytes(data)
    if encoding is None:
        with pytest.raises(Rejected) as info:
            detect_encoding(path, Limits())
        assert info.value.rule == "encoding"
    else:
        found = detect_encoding(path, Limits())
        assert (found.name, found.lines) == (encoding, lines)


# --- reading files: header detection, row numbers, units --------------------------------------


def source(
    tmp_path: Path, name: str, data: bytes | str, submitter_type: str = "bureau", submitter: str = "finance"
) -> SourceFile:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return SourceFile(
        path=path,
        rel=name,
        sha256=sha256_file(path),
        submitter_type=submitter_type,
        submitter=submitter if submitter_type == "bureau" else submitter_type,
    )


def only_table(sf: SourceFile):
    tables = read_file(sf)
    assert sf.problems == [] and len(tables) == 1
    return tables[0]


def rows_of(t):
    """The table's rows as validation sees them: cleaned text, blank rows dropped."""
    from pipeline.ingest.validate import table_frame

    return table_frame(t.kind, [t])[0]


@pytest.mark.parametrize("titles", [[], ["资金到位明细"], ["呼和浩特市人社局", "资金到位明细", "填报日期：2024-01-05"]])
def test_header_is_found_under_any_number_of_title_rows(tmp_path, titles):
    body = [RECEIPTS_HEADER, "DW001,2022-07-18,central,1,150100,800,,,", "DW002,2022-07-18,central,2,150100,15,,,"]
    t = only_table(source(tmp_path, "receipts.csv", "\n".join(titles + body) + "\n"))
    first = len(titles) + 2  # the header is Excel row len(titles) + 1
    assert rows_of(t)["row"].tolist() == [first, first + 1]
    assert rows_of(t)["receipt_id"].tolist() == ["DW001", "DW002"]
    assert t.units == {"amount_fen": "万元"}


def test_excel_padded_title_rows_and_blank_lines_keep_excel_row_numbers(tmp_path):
    text = (
        "资金到位明细,,,,,,,,\n" + RECEIPTS_HEADER + "\n"
        "DW001,2022-07-18,central,1,150100,800,,,\n,,,,,,,,\n\nDW002,2022-07-18,central,2,150100,15,,,\n"
    )
    t = only_table(source(tmp_path, "receipts.csv", text))
    assert rows_of(t)["row"].tolist() == [3, 6]


@pytest.mark.parametrize(
    "title, amount_header, unit",
    [
        ("资金到位明细　单位：万元", "金额", "万元"),
        ("资金到位明细（单位：元）", "金额", "元"),
        ("", "金额(元)", "元"),
        ("", "amount (wan)", "万元"),
    ],
)
def test_money_unit_comes_from_the_header_or_the_title(tmp_path, title, amount_header, unit):
    header = RECEIPTS_HEADER.replace("金额（万元）", amount_header)
    text = (title + "\n" if title else "") + header + "\nDW001,2022-07-18,central,1,150100,800,,,\n"
    assert only_table(source(tmp_path, "receipts.csv", text)).units == {"amount_fen": unit}


@pytest.mark.parametrize(
    "title, amount_header", [("资金到位明细　单位：元", "金额（万元）"), ("单位：万元", "金额(元)")]
)
def test_a_title_unit_that_contradicts_the_header_unit_is_refused(tmp_path, title, amount_header):
    header = RECEIPTS_HEADER.replace("金额（万元）", amount_header)
    sf = source(tmp_path, "receipts.csv", f"{title}\n{header}\nDW001,2022-07-18,central,1,150100,800,,,\n")
    assert read_file(sf) == []
    assert [(p.rule, p.column) for p in sf.problems] == [("unit_conflict", amount_header)]


def test_an_amount_without_a_unit_is_refused(tmp_path):
    sf = source(
        tmp_path,
        "receipts.csv",
        RECEIPTS_HEADER.replace("金额（万元）", "金额") + "\nDW001,2022-07-18,central,1,150100,800,,,\n",
    )
    assert read_file(sf) == []
    assert sf.problems == [
        Problem("undeclared_unit", "金额列“金额”未声明单位；请在表头写明“金额（万元）”或“金额（元）”。", column="金额")
    ]


def test_english_canonical_headers_are_aliases(tmp_path):
    text = (
        "receipt_id,date,source_code,subproject_code,county_code,amount (wan)\nEN001,2023-05-08,central,1,150100,120\n"
    )
    t = only_table(source(tmp_path, "receipts.csv", text))
    assert t.frame.column_names == [
        "receipt_id",
        "date",
        "source_code",
        "subproject_code",
        "county_code",
        "amount_fen",
        "row",
        "span",
    ]


def test_a_file_without_a_header_row_is_refused(tmp_path):
    sf = source(tmp_path, "receipts.csv", "DW001,2022-07-18,central,1,150100,800\n")
    assert read_file(sf) == []
    assert [p.rule for p in sf.problems] == ["missing_header"]
    assert "到位单号、到账日期" in sf.problems[0].message


def test_xlsx_rows_are_numbered_as_excel_shows_them(tmp_path):
    path = tmp_path / "receipts.xlsx"
    write_xlsx(
        path,
        [
            Sheet(
                KINDS["receipts"],
                [
                    dict(
                        receipt_id="DW001",
                        date=dt.date(2022, 7, 18),
                        source_code="central",
                        subproject_code="1",
                        county_code="150100",
                        amount_fen=800,
                    ),
                ],
                title="资金到位明细　单位：万元",
            )
        ],
    )
    t = only_table(source(tmp_path, "receipts.xlsx", path.read_bytes()))
    # row 1 title, row 2 notes, row 3 header
    assert t.sheet == "资金到位" and rows_of(t)["row"].tolist() == [4]
    assert rows_of(t)[["date", "amount_fen"]].iloc[0].tolist() == ["2022-07-18 00:00:00", "800"]


def test_xlsx_header_below_blank_rows_keeps_excel_row_numbers(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "资金到位"
    for j, h in enumerate(RECEIPTS_HEADER.split(","), start=1):
        ws.cell(row=3, column=j, value=h)
    for j, v in enumerate(["DW001", "2022-07-18", "central", 1, "150100", 120.5], start=1):
        ws.cell(row=4, column=j, value=v)
    path = tmp_path / "receipts.xlsx"
    wb.save(path)
    t = only_table(source(tmp_path, "receipts.xlsx", path.read_bytes()))
    assert rows_of(t)["row"].tolist() == [4]
    assert rows_of(t)[["subproject_code", "amount_fen"]].iloc[0].tolist() == ["1", "120.5"]


def test_an_old_xls_file_is_refused(tmp_path):
    sf = source(tmp_path, "receipts.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))
    assert read_file(sf) == [] and [p.rule for p in sf.problems] == ["unreadable"]


def test_an_undecodable_csv_is_refused(tmp_path):
    sf = source(tmp_path, "receipts.csv", (RECEIPTS_HEADER + "\n").encode("utf-16"))
    assert read_file(sf) == [] and [p.rule for p in sf.problems] == ["encoding"]


def test_an_xlsx_named_xls_is_read_with_a_warning(tmp_path):
    sf = source(
        tmp_path,
        "subprojects.xls",
        (CORPUS / "bureau" / "project_office" / "subprojects.xlsx").read_bytes(),
        submitter="project_office",
    )
    assert len(read_file(sf)) == 1
    assert sf.format == "xlsx" and sum("扩展名为 .xls" in w for w in sf.warnings) == 1


def test_a_survey_with_an_id_card_column_is_refused_without_echoing_it(tmp_path):
    text = "答卷编号,受访者编号,身份证号,指标编码,回答\nS1,R1,15010219800101123X,satisfaction_service,满意\n"
    sf = source(tmp_path, "survey.csv", text, "evaluator")
    assert read_file(sf) == []
    [p] = sf.problems
    assert (p.rule, p.column, p.value) == ("pii_column", "身份证号", "")
    assert "15010219800101123X" not in p.message


@pytest.mark.parametrize("respondent", ["139-1234-5678", "139 1234 5678", "150102800101123"])
def test_a_survey_with_formatted_phone_or_old_id_numbers_is_refused(tmp_path, respondent):
    sf = source(
        tmp_path,
        "survey.csv",
        f"答卷编号,受访者编号,指标编码,回答\nS1,{respondent},satisfaction_service,满意\n",
        "evaluator",
    )
    assert read_file(sf) == []
    assert [p.rule for p in sf.problems] == ["pii_column"]


def test_a_negative_planned_amount_is_told_to_be_positive(tmp_path):
    from pipeline import evaluation
    from pipeline.ingest.validate import Codes, validate_kind

    ev = evaluation.find(CORPUS.parent, "defects")
    sf = source(
        tmp_path, "fund_plan.csv", "计划编号,子项目编码,资金来源,旗县区编码,金额（万元）\nJH001,1,central,150100,-800\n"
    )
    result = validate_kind(KINDS["fund_plan"], read_file(sf), ev, Codes.for_evaluation(ev, ["1"], []))
    [rec] = result.quarantine.to_dict("records")
    assert rec["rule"] == "negative_amount"
    assert "冲红凭证号" not in rec["message"] and "正数" in rec["message"]


@pytest.mark.parametrize("name", ["receipts.csv", "receipts.xlsx"])
def test_a_file_changed_after_the_inventory_hashed_it_is_not_read_and_not_hashed_again(tmp_path, name):
    from pipeline.files import hash_and_stamp

    path = tmp_path / name
    rows = [{"到位单号": "R1", "到位日期": "2023-03-01", "资金来源": "central", "金额（万元）": "1.00"}]
    if name.endswith(".csv"):
        path.write_text("到位单号,到位日期,资金来源,金额（万元）\nR1,2023-03-01,central,1.00\n", encoding="utf-8")
    else:
        write_xlsx(path, [Sheet(KINDS["receipts"], rows)])
    digest, stamp = hash_and_stamp(path)
    unchanged = SourceFile(path=path, rel=name, sha256=digest, submitter_type="bureau", submitter="czj", stamp=stamp)
    read_file(unchanged)
    assert not [p for p in unchanged.problems if p.rule == "changed_while_reading"]

    with open(path, "ab") as fh:  # the submitter saves again after the inventory
        fh.write(b"\n")
    changed = SourceFile(path=path, rel=name, sha256=digest, submitter_type="bureau", submitter="czj", stamp=stamp)
    assert read_file(changed) == []
    assert [p.rule for p in changed.problems] == ["changed_while_reading"]
    assert hash_and_stamp(path)[0] != digest  # the remembered hash is of the old stamp: the file is read again
