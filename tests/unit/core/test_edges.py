"""Edge frames stay categorical when built and put together, with the values and order ``pd.concat`` of text gives."""

import pandas as pd

from pipeline import edges
from pipeline.tables import LINEAGE_COLUMNS


def _part(table, keys, files, first_row=4):
    return pd.DataFrame(
        {
            "output_table": table,
            "output_key": keys,
            "measure": "actual",
            "input_kind": "county_indicators",
            "file": files,
            "sheet": "指标完成值",
            "row": list(range(first_row, first_row + len(keys))),
        }
    )


def _as_text(df):
    return df.astype(dict.fromkeys(edges.TEXT_COLUMNS, object)).astype(dict.fromkeys(edges.TEXT_COLUMNS, str))


def test_concat_keeps_categoricals_and_equals_concat_of_text():
    a = _part("indicators", ["x1", "x2"], ["c/1.xlsx", "c/2.xlsx"])
    b = _part("findings", ["F-1"], ["c/2.xlsx"], first_row=9)
    b[["output_key", "file"]] = b[["output_key", "file"]].astype("category")  # one part already categorical
    out = edges.concat([a, b])
    assert list(out.columns) == LINEAGE_COLUMNS
    assert all(isinstance(out[c].dtype, pd.CategoricalDtype) for c in edges.TEXT_COLUMNS)
    assert out["row"].dtype == "int64"
    expected = pd.concat([_as_text(a), _as_text(b)], ignore_index=True)
    pd.testing.assert_frame_equal(_as_text(out), expected)


def test_empty_parts_add_no_categories_and_all_empty_gives_an_empty_frame():
    a = _part("indicators", ["x1"], ["c/1.xlsx"])
    empty = _part("subprojects", [], [])
    out = edges.concat([empty, a, empty])
    assert list(out["output_table"].cat.categories) == ["indicators"]
    only_empty = edges.concat([empty])
    assert len(only_empty) == 0 and list(only_empty.columns) == LINEAGE_COLUMNS


def test_constant_and_categorical():
    assert list(edges.constant("status", 3)) == ["status"] * 3
    assert len(edges.constant("status", 0)) == 0
    column = pd.Series([1, "a", 1])  # not text yet: as text, as before
    assert list(edges.categorical(column)) == ["1", "a", "1"]


def test_text_categorical_of_a_categorical_is_what_its_text_gives():
    """Categories in the order met and some no longer used (rows filtered away): the used ones, sorted, as from text."""
    values = ["c/2.xlsx", "c/1.xlsx", "c/2.xlsx"]
    column = pd.Series(pd.Categorical(values, categories=["c/9.xlsx", "c/2.xlsx", "c/1.xlsx"]))
    got, expected = edges.text_categorical(column), pd.Categorical(pd.Series(values).astype(str))
    assert list(got) == values and list(got.categories) == list(expected.categories) == ["c/1.xlsx", "c/2.xlsx"]
    assert list(got.codes) == list(expected.codes)
    normal = pd.Series(expected)
    assert edges.text_categorical(normal) is normal.array  # used and sorted already: as it is, no copy
    with_missing = pd.Series(pd.Categorical(["a", None]))
    assert list(edges.text_categorical(with_missing)) == list(pd.Categorical(with_missing.astype(str)))
