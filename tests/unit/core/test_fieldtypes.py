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
