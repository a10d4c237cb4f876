"""The defect corpus (tests/corpus/raw/defects/): each file is a clerk's mistake with its exact quarantine records.

The corpus is an evaluation folder with Hohhot's counties, sources and period; expected.csv lists,
per defective file, every record it must produce (file, sheet, row, column, rule, value, message).
A file not listed there must produce none.
"""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from tests.support import ROOT

CORPUS = ROOT / "tests" / "corpus"
RAW = CORPUS / "raw"
EVALUATION = "defects"
RECORD_COLUMNS = ["file", "sheet", "row", "column", "rule", "value", "message"]
FEN_PER_WAN = 1_000_000

SUBMISSIONS = sorted(
    p.relative_to(RAW).as_posix()
    for top in ("bureau", "county", "evaluator")
    for p in (RAW / EVALUATION / top).rglob("*")
    if p.is_file()
)
UNRECOGNISED = {"defects/county/150199.xlsx"}  # a county code that does not exist: not read at all
REJECTED = {
    "defects/bureau/finance/payments_empty.csv",
    "defects/bureau/finance/receipts_missing_column.csv",
    "defects/evaluator/survey_id_card.csv",
    "defects/evaluator/survey_phone.csv",
}
# Files with bad rows: (rows read, rows that must reach the accepted tables).
PARTIAL = {
    "defects/bureau/finance/receipts_duplicate_id.csv": (4, 2),
    "defects/bureau/finance/receipts_negative.csv": (4, 3),
    "defects/bureau/finance/receipts_out_of_period.csv": (5, 3),
    "defects/bureau/finance/receipts_text_amount.csv": (3, 2),
    "defects/bureau/finance/receipts_three_decimals.csv": (2, 1),
    "defects/bureau/finance/receipts_two_mistakes.csv": (2, 1),
    "defects/bureau/finance/receipts_unknown_county.csv": (2, 1),
    "defects/bureau/finance/receipts_unknown_subproject.csv": (2, 1),
    "defects/bureau/finance/receipts_yuan_in_wan.csv": (2, 1),
    "defects/county/150103.xlsx": (11, 10),
    "defects/county/150104.xlsx": (11, 10),
    "defects/county/150105.xlsx": (12, 10),
    "defects/county/150122.xlsx": (12, 11),
    "defects/county/150124.xlsx": (7, 7),  # its archive sheet is missing: a file-level record, the rest used
}
PII_VALUES = ["15010219800101123X", "150102198502023456", "13912345678", "15047123456"]


@pytest.fixture(scope="module")
def ingested():
    from pipeline import evaluation
    from pipeline.ingest.stage import ingest

    ev = evaluation.find(RAW, EVALUATION)
    return ingest(ev, RAW)


@pytest.fixture(scope="module")
def expected() -> pd.DataFrame:
    return pd.read_csv(CORPUS / "expected.csv", dtype=str, keep_default_na=False)


def records(q: pd.DataFrame) -> list[tuple]:
    q = q[RECORD_COLUMNS].astype(object).copy()
    q["row"] = q["row"].map(lambda r: "" if pd.isna(r) or r == "" else str(int(r)))
    return sorted(q.fillna("").astype(str).itertuples(index=False, name=None))


def accepted_rows(ingested, file: str) -> pd.DataFrame:
    """Every accepted row that came from ``file``, whatever its kind, with the kind as a column."""
    parts = [df[df["file"] == file].assign(kind=kind) for kind, df in ingested.tables.items() if len(df)]
    return pd.concat(parts, ignore_index=True)


def test_corpus_covers_every_file_expected_lists(expected):
    assert set(expected["file"]) <= set(SUBMISSIONS)
    assert len(SUBMISSIONS) == 37


@pytest.mark.parametrize("file", SUBMISSIONS)
def test_each_file_gives_exactly_its_expected_records(ingested, expected, file):
    got = records(ingested.quarantine[ingested.quarantine["file"] == file])
    assert got == records(expected[expected["file"] == file])


def test_no_record_names_a_file_outside_the_corpus(ingested):
    assert set(ingested.quarantine["file"]) <= set(SUBMISSIONS)


def test_messages_say_what_to_fix(ingested):
    q = ingested.quarantine.set_index(["file", "rule"])["message"]
    assert q[("defects/bureau/finance/receipts_text_amount.csv", "not_a_number")].iloc[0] == (
        "“金额（万元）”的值“待核实”不是有效数字；请填写数字（如 1234.56），不要带文字或单位。"
    )
    assert q[("defects/bureau/finance/receipts_yuan_in_wan.csv", "implausible_amount")].iloc[0] == (
        "“金额（万元）”的值“5,200,000.00”（万元）超过单笔合理上限 20000 万元，疑似按“元”填入了“万元”文件；请核对金额单位。"
    )
    assert q[("defects/bureau/finance/receipts_missing_column.csv", "missing_column")].iloc[0] == (
        "缺少必填列：到账日期。请按模板补齐表头后重新报送。"
    )
    assert q[("defects/county/150124.xlsx", "missing_sheet")].iloc[0] == (
        "缺少工作表“档案清单”；请按模板补齐该工作表（无数据时保留表头）。"
    )


@pytest.mark.parametrize("file", sorted(PARTIAL))
def test_good_rows_of_a_partly_bad_file_go_through(ingested, file):
    read, accepted = PARTIAL[file]
    inv = ingested.inventory.set_index("file").loc[file]
    assert (inv["rows_read"], inv["rows_accepted"], inv["status"]) == (read, accepted, "partial")
    assert len(accepted_rows(ingested, file)) == accepted


def test_every_clean_file_is_accepted_whole(ingested):
    inv = ingested.inventory.set_index("file")
    clean = [f for f in SUBMISSIONS if f not in PARTIAL and f not in REJECTED | UNRECOGNISED]
    assert len(clean) == 18
    for f in clean:
        assert inv.loc[f, "status"] == "accepted", f
        assert inv.loc[f, "rows_read"] > 0, f
        assert len(accepted_rows(ingested, f)) == inv.loc[f, "rows_accepted"] == inv.loc[f, "rows_read"], f


def test_wholly_bad_files_are_rejected_and_the_others_go_through(ingested):
    inv = ingested.inventory.set_index("file")
    assert set(inv.index[inv["status"] == "rejected"]) == REJECTED
    assert set(inv.index[inv["status"] == "unrecognised"]) == UNRECOGNISED
    assert ingested.files == {"read": 36, "rejected": 4, "unrecognised": 1, "missing": 1}
    # Beside the empty payments file and the refused surveys, their siblings are used.
    assert sorted(ingested.tables["payments"]["payment_id"]) == ["ZC2022-001", "ZC2023-001"]
    assert sorted(ingested.tables["survey"]["response_id"]) == ["S001", "S002", "S003"]
    assert set(ingested.tables["receipts"]["file"]) == {f for f in SUBMISSIONS if "/receipts_" in f} - REJECTED


def test_a_workbook_missing_a_sheet_keeps_its_other_sheets(ingested):
    """The missing sheet is one file-level record; the county's other sheets are still used (nothing lost)."""
    inv = ingested.inventory.set_index("file").loc["defects/county/150124.xlsx"]
    assert inv["status"] == "partial"
    assert inv["rows_read"] == inv["rows_accepted"] + inv["rows_quarantined"] > 0
    q = ingested.quarantine
    [rec] = q[(q["file"] == "defects/county/150124.xlsx") & q["row"].isna()].to_dict("records")
    assert (rec["rule"], rec["sheet"]) == ("missing_sheet", "档案清单")
    f = ingested.findings.set_index("finding_id").loc["sheet_rejected:defects/county/150124.xlsx"]
    assert "工作表“档案清单”无法使用" in f["message"] and "其余工作表已采用" in f["message"]


def test_nothing_lost(ingested):
    inv = ingested.inventory
    assert (inv["rows_read"] == inv["rows_accepted"] + inv["rows_quarantined"]).all()
    sheets = ingested.sheets
    assert (
        sheets["lines"]
        == sheets[["lines_title", "lines_header", "lines_blank", "lines_accepted", "lines_quarantined"]].sum(axis=1)
    ).all()
    # quarantined counts distinct rows: two records on one row, two rows sharing an id.
    q = ingested.quarantine.dropna(subset=["row"])
    distinct = q.drop_duplicates(["file", "sheet", "row"]).groupby("file").size()
    assert (inv.set_index("file")["rows_quarantined"].loc[distinct.index] == distinct).all()
    assert inv.set_index("file").loc["defects/bureau/finance/receipts_two_mistakes.csv", "rows_quarantined"] == 1
    assert sum(len(df) for df in ingested.tables.values()) == ingested.rows["accepted"]
    # A wholly rejected file's rows are quarantined with it (one file-level record, no row records).
    rejected = inv[inv["status"] == "rejected"]
    assert (
        ingested.rows["quarantined"]
        == len(q.drop_duplicates(["file", "sheet", "row"])) + rejected["rows_read"].sum()
        == 22
    )


def test_a_valid_reversal_passes_and_its_amount_stays_negative(ingested):
    r = ingested.tables["receipts"].set_index("receipt_id")
    assert r.loc["NG004", "amount_fen"] == -200 * FEN_PER_WAN
    assert r.loc["NG004", "reverses"] == "NG003"
    assert "NG002" not in r.index
    p = ingested.tables["county_payments"]
    rev = p[(p["county_code"] == "150121") & (p["payment_id"] == "ZF2023-004")]
    assert rev["amount_fen"].tolist() == [-12 * FEN_PER_WAN]


def test_dates_in_2022_inside_the_period_pass_and_the_bounds_are_inclusive(ingested):
    r = ingested.tables["receipts"]
    r = r[r["file"] == "defects/bureau/finance/receipts_out_of_period.csv"]
    assert sorted(r["date"].dt.strftime("%Y-%m-%d")) == ["2022-05-01", "2022-06-30", "2023-12-31"]


def test_duplicate_county_ids_are_scoped_per_county(ingested):
    """150105 repeats PT2023-001 within its workbook; every county has its own SX2023-001 (150104's is bad)."""
    r = ingested.tables["county_receipts"]
    assert sorted(r.loc[r["receipt_id"] == "SX2023-001", "county_code"]) == [
        "150102",
        "150103",
        "150105",
        "150121",
        "150122",
        "150123",
        "150124",
    ]
    assert not ((r["county_code"] == "150105") & (r["receipt_id"] == "PT2023-001")).any()


def test_county_records_are_filed_under_the_county_that_sent_them(ingested):
    q = ingested.quarantine
    county = q[q["file"].str.startswith("defects/county/") & ~q["file"].isin(UNRECOGNISED)]
    assert (county["submitter"] == county["file"].str.extract(r"(\d{6})\.xlsx$")[0]).all()
    assert sorted(q.loc[q["submitter"] == "150105", "kind"]) == ["county_receipts", "county_receipts"]


def test_gb18030_csv_is_read_with_its_chinese_values_intact(ingested):
    r = ingested.tables["receipts"]
    r = r[r["file"] == "defects/bureau/finance/receipts_gb18030.csv"].set_index("receipt_id")
    assert r.loc["GB-001", "doc_no"] == "财社〔2022〕88号"
    assert r.loc["GB-001", "note"] == "中央财政就业补助资金"
    assert r.loc["GB-002", "note"] == "自治区就业补助资金"
    # Labels become codes: 中央资金 → central, 市本级 → 150100.
    assert r["source_code"].tolist() == ["central", "provincial"]
    assert r["county_code"].tolist() == ["150100", "150100"]
    assert r["amount_fen"].tolist() == [800 * FEN_PER_WAN, 600 * FEN_PER_WAN]
    assert r["date"].dt.strftime("%Y-%m-%d").tolist() == ["2022-07-18", "2022-09-06"]


def test_an_xlsx_that_is_really_a_csv_is_read_as_csv_with_a_warning(ingested):
    f = "defects/bureau/finance/receipts_really_csv.xlsx"
    inv = ingested.inventory.set_index("file").loc[f]
    assert (inv["format"], inv["status"], inv["rows_accepted"]) == ("csv", "accepted", 2)
    assert inv["warnings"].startswith("文件扩展名为 .xlsx，但内容是 CSV；已按 CSV 读取，请改正扩展名。")
    assert (ingested.findings["finding_id"] == f"file_warning:{f}").any()


def test_title_rows_above_the_header_are_tolerated(ingested):
    r = ingested.tables["receipts"]
    r = r[r["file"] == "defects/bureau/finance/receipts_title_rows.csv"]
    # Header on row 3 under two title rows; the unit (万元) comes from the title.
    assert r["row"].tolist() == [4, 5, 6]
    assert r["amount_fen"].tolist() == [800 * FEN_PER_WAN, 1540 * FEN_PER_WAN, 4885 * FEN_PER_WAN]


def test_english_canonical_headers_are_accepted(ingested):
    r = ingested.tables["receipts"]
    r = r[r["file"] == "defects/bureau/finance/receipts_english_headers.csv"]
    assert r["receipt_id"].tolist() == ["EN001", "EN002"]
    assert r["amount_fen"].tolist() == [120 * FEN_PER_WAN, 80 * FEN_PER_WAN]


def test_a_missing_county_submission_is_a_finding(ingested):
    assert ingested.missing.to_dict("records") == [
        {"submitter_type": "county", "submitter": "150125", "kind": "county_workbook"}
    ]
    f = ingested.findings.set_index("finding_id").loc["submission_missing:150125"]
    assert f["code"] == "submission_missing"
    assert f["message"] == "武川县（150125）未提交项目报送工作簿（未提交）。"
    assert ingested.files["missing"] == 1


def test_pii_values_are_never_echoed_or_kept(ingested):
    cells = ingested.quarantine.astype(str).to_numpy().ravel().tolist()
    kept = [str(v) for df in ingested.tables.values() for v in df.astype(str).to_numpy().ravel()]
    for value in PII_VALUES:
        assert not any(value in c for c in cells), value
        assert value not in kept, value


def pipeline_check(*files: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "check",
            "--raw",
            "tests/corpus/raw",
            "--evaluation",
            EVALUATION,
            *[f"tests/corpus/raw/{f}" for f in files],
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    "file, line",
    [
        (
            "defects/bureau/finance/receipts_negative.csv",
            "tests/corpus/raw/defects/bureau/finance/receipts_negative.csv 第 3 行 列“金额（万元）” [negative_not_reversal] "
            "“金额（万元）”为负数“-50”，但未填写“冲红凭证号”；负数仅用于冲红，请填写被冲红的凭证号，或改为正数。",
        ),
        (
            "defects/county/150104.xlsx",
            "tests/corpus/raw/defects/county/150104.xlsx [资金到位] 第 4 行 列“金额（万元）” [too_many_decimals] "
            "“金额（万元）”的值“120.125”超过两位小数；金额最多保留两位小数（单位：万元），请核对后重填。",
        ),
        (
            "defects/bureau/finance/payments_empty.csv",
            "tests/corpus/raw/defects/bureau/finance/payments_empty.csv [empty_file] 文件为空（0 字节）；请重新导出后报送。",
        ),
        (
            "defects/evaluator/survey_id_card.csv",
            "tests/corpus/raw/defects/evaluator/survey_id_card.csv 列“身份证号” [pii_column] "
            "文件含有个人敏感信息列（身份证号）；请删除身份证号、手机号等列，仅保留匿名编号后重新报送。",
        ),
    ],
)
def test_check_prints_the_problem_and_exits_1_on_a_bad_file(file, line):
    proc = pipeline_check(file)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert line in proc.stdout.splitlines()
    assert not any(v in proc.stdout for v in PII_VALUES)


@pytest.mark.parametrize(
    "file",
    [
        "defects/county/150102.xlsx",
        "defects/bureau/finance/receipts_gb18030.csv",
        "defects/bureau/project_office/subprojects.xlsx",
    ],
)
def test_check_exits_0_on_a_good_file(file):
    proc = pipeline_check(file)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "未发现问题，可以报送。" in proc.stdout or "未发现错误" in proc.stdout


def test_check_prints_the_format_warning_but_passes_a_good_mislabelled_file():
    proc = pipeline_check("defects/bureau/finance/receipts_really_csv.xlsx")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[提示] 文件扩展名为 .xlsx，但内容是 CSV；已按 CSV 读取，请改正扩展名。" in proc.stdout
