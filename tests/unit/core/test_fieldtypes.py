"""The field-type registry: a type declared once reaches validation, templates, the contract docs and GX suites."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.typing import Series

from pipeline import expect as ex
from pipeline import fieldtypes
from pipeline.contract import Kind, Submission, _f
from pipeline.evaluation import find
from pipeline.fieldtypes import Bad, Context, FieldType
from tests.support import HOHHOT, RAW


@pytest.fixture
def postcode():
    """A toy type, 邮政编码: six digits; registered for one test."""

    def parse(text, col, ctx):
        bad = text.notna() & ~text.fillna("").str.fullmatch(r"\d{6}")
        return text.astype(object).where(text.notna(), None), [Bad("not_a_postcode", bad)]

    toy = fieldtypes.register(
        FieldType(
            "postcode",
            "六位邮政编码",
            "必填；六位数字邮政编码",
            2,
            None,
            parse,
            checks=lambda name, col, ctx: [pa.Check(lambda s: s.str.len() == 6, name="postcode_length")],
            expectations=lambda name, col, ctx, cols: [ex.matches(name, r"^\d{6}$", "邮编为六位数字 / six digits")],
            messages={
                "not_a_postcode": "“{col}”的值“{value}”不是六位邮政编码；请核对。",
                "postcode_length": "“{col}”的值“{value}”不是六位邮政编码；请核对。",
            },
        )
    )
    yield toy
    del fieldtypes.REGISTRY["postcode"]


def test_a_type_registered_once_is_found_everywhere(postcode):
    from pipeline.contract_docs import render
    from pipeline.ingest.validate import Codes, contract_schema
    from pipeline.quality.expectations import submission_suite
    from pipeline.workbooks import header, note

    class Letters(Submission):
        """收件登记 — a toy kind with a postcode."""

        letter_id: Series[str] = _f("收件编号", "letter id", fieldtypes.ID)
        postcode: Series[str] = _f("邮政编码", "postcode of the sender", postcode)

    kind = Kind("letters", "收件登记", Letters, "bureau", "letter_id")
    ev = find(RAW, HOHHOT)
    ctx = Context(evaluation=ev, codes=Codes.for_evaluation(ev, [], []))
    schema = contract_schema(kind, ctx)
    assert [c.name for c in schema.columns["postcode"].checks] == ["postcode_length"]
    with pytest.raises(pa.errors.SchemaErrors):
        schema.validate(pd.DataFrame({"letter_id": ["L1"], "postcode": ["1501"]}), lazy=True)
    assert note(kind, "postcode", "万元") == "必填；六位数字邮政编码"
    assert header(kind, "postcode", "万元") == "邮政编码"
    assert "| 邮政编码 | `postcode` | 必填；六位数字邮政编码 | postcode of the sender |" in render({"letters": kind})
    import pyarrow as arrow

    from pipeline.ingest.read import RawTable, SourceFile
    from pipeline.ingest.validate import validate_kind

    table = RawTable(
        SourceFile(RAW, "letters.csv", "", "bureau", "finance"),
        "",
        kind,
        arrow.table({"letter_id": ["L1", "L2"], "postcode": ["150102", "1501"], "row": [2, 3], "span": [1, 1]}),
        {},
    )
    result = validate_kind(kind, [table], ev, ctx.codes)
    assert result.accepted["letter_id"].tolist() == ["L1"]
    assert result.quarantine[["row", "rule", "message"]].values.tolist() == [
        [3, "not_a_postcode", "“邮政编码”的值“1501”不是六位邮政编码；请核对。"],
        [3, "postcode_length", "“邮政编码”的值“1501”不是六位邮政编码；请核对。"],
    ]
    suite = submission_suite(kind, ev, ctx.codes, ["letter_id", "postcode"])
    assert ("expect_column_values_to_match_regex", "postcode") in [
        (e.type, e.kwargs.get("column")) for e in suite.expectations
    ]


# --- each distinct text parsed once --------------------------------------------------------------------


def _repeated(values: list[str | None], times: int = 40) -> pd.Series:
    """A column as validation sees it (Arrow-backed text), its few texts repeated as a national column's are."""
    return pd.Series(values * times, dtype=pd.StringDtype("pyarrow"), name="cell").sample(frac=1, random_state=7)


def _same(a: pd.Series, b: pd.Series) -> None:
    assert (a.dtype, a.name) == (b.dtype, b.name)
    assert a.index.equals(b.index)
    assert [(type(x), repr(x)) for x in a] == [(type(y), repr(y)) for y in b]


@pytest.mark.parametrize(
    ("kind", "column", "values"),
    [
        ("payments", "date", ["2023-05-01", "2023/5/1", "2023年5月1日", "2023-02-30", "5月1日", " 2023-12-31 ", None]),
        ("payments", "source_code", ["central", "中央资金", "中央", "nowhere", "cen\x00tral", None]),
        ("county_receipts", "channel", ["直达", "非直达", "direct", "其他", None]),
        ("county_archive", "synced", ["是", "否", "yes", "也许", None]),
        ("county_indicators", "actual", ["12", "12.50", "95%", "-3", "1,000", "abc", None]),
        ("payments", "payment_id", ["P1", "P2", "P\x01", None]),
    ],
)
def test_a_column_parsed_once_per_distinct_text_is_the_column_parsed_row_by_row(kind, column, values):
    from pipeline.contract import KINDS
    from pipeline.ingest.validate import Codes

    ev = find(RAW, HOHHOT)
    col = KINDS[kind].columns[column]
    field_type = fieldtypes.of(col)
    text = _repeated(values)
    ctx = Context(evaluation=ev, codes=Codes.for_evaluation(ev, [], []))
    assert fieldtypes._distinct(text) is not None  # repeated texts: the distinct path is the one taken
    row_by_row, bad_rows = field_type.parse.__wrapped__(text, col, ctx)
    once, bad_once = field_type.parse(text, col, ctx)
    _same(once, row_by_row)
    assert [b.rule for b in bad_once] == [b.rule for b in bad_rows]
    for b, r in zip(bad_once, bad_rows):
        _same(b.mask, r.mask)
        assert b.kwargs == r.kwargs
    assert any(b.mask.any() for b in bad_once) or column == "payment_id"  # each case holds a bad cell


def test_money_is_parsed_once_per_distinct_text_and_unit():
    from pipeline.contract import KINDS
    from pipeline.formats import parse_money
    from pipeline.ingest.validate import Codes

    ev = find(RAW, HOHHOT)
    col = KINDS["payments"].columns["amount_fen"]
    text = _repeated(["1", "1.5", "1,234.56", "1.234", "12345678901234567890", "x", None], 60)
    unit = pd.Series(["万元", "元", None] * (len(text) // 3), index=text.index, dtype=object)
    ctx = Context(evaluation=ev, codes=Codes.for_evaluation(ev, [], []), unit=unit)
    fen, bad = fieldtypes.of(col).parse(text, col, ctx)
    for u in ("万元", "元"):
        sel = unit == u
        want_fen, want_error = parse_money(text[sel], u)  # row by row, one unit
        _same(fen[sel], want_fen.rename(fen.name))
        for b in bad:
            assert b.mask[sel].tolist() == (want_error == b.rule).tolist()
    assert fen[unit.isna()].isna().all()  # a row without a unit gets no amount


def test_a_column_of_distinct_texts_is_parsed_row_by_row():
    text = pd.Series([f"P{i}" for i in range(100)], dtype=pd.StringDtype("pyarrow"))
    assert fieldtypes._distinct(text) is None
    assert fieldtypes._distinct(text.iloc[:0]) is None
