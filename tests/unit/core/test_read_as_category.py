"""A table read with its text as categoricals holds the same values as one read plainly.

The lineage step reads the stages' edge tables so (``TEXT_AS_CATEGORY``): millions of cells, a few
thousand distinct texts. ``unify`` must give the same edges either way, and a text column with a
missing value must stay text (``None`` where missing), as ``unify``'s general path turns it into "None".
"""

import pandas as pd

from pipeline import lineage, store


def _edges(files, table="cells"):
    return pd.DataFrame(
        {
            "output_table": table,
            "output_key": [f"k{i % 3}" for i in range(len(files))],
            "measure": "spent",
            "input_kind": "county_payments",
            "file": files,
            "sheet": "资金支出",
            "row": list(range(4, 4 + len(files))),
        }
    )


def test_text_columns_come_as_categoricals_with_the_same_values(tmp_path):
    df = _edges(["2023-x/county/150102.xlsx", "2023-x/county/150103.xlsx", "2023-x/county/150102.xlsx"])
    path = store.write_table(tmp_path, "funds_lineage", df, csv_export=False)

    plain = store.read_table(path)
    as_category = store.read_table(path, text_as_category=True)

    text = [c for c in df.columns if c != "row"]
    assert all(isinstance(as_category[c].dtype, pd.CategoricalDtype) for c in text)
    assert as_category["row"].dtype == "int64"
    pd.testing.assert_frame_equal(as_category.astype(dict.fromkeys(text, object)), plain)


def test_a_text_column_with_a_missing_value_stays_text(tmp_path):
    df = _edges(["a.xlsx", None, "b.xlsx"])
    path = store.write_table(tmp_path, "scoring_lineage", df, csv_export=False)

    as_category = store.read_table(path, text_as_category=True)

    assert as_category["file"].dtype == object
    assert as_category["file"].tolist() == ["a.xlsx", None, "b.xlsx"]
    assert isinstance(as_category["sheet"].dtype, pd.CategoricalDtype)


def test_unify_gives_the_same_edges_from_categoricals(tmp_path):
    funds = _edges(["c/150102.xlsx", "c/150103.xlsx"], "cells")
    scoring = _edges(["c/150103.xlsx", "e/survey.csv", "c/150102.xlsx"], "indicators")
    inventory = pd.DataFrame({"file": ["c/150102.xlsx", "c/150103.xlsx", "e/survey.csv"], "sha256": ["1", "2", "3"]})
    paths = [store.write_table(tmp_path, n, t, csv_export=False) for n, t in (("f", funds), ("s", scoring))]

    plain = lineage.unify(*(store.read_table(p) for p in paths), inventory)
    fast = lineage.unify(*(store.read_table(p, text_as_category=True) for p in paths), inventory)

    pd.testing.assert_frame_equal(fast, plain)
    assert fast["output_table"].tolist() == ["funds_cells"] * 2 + ["indicator_scores"] * 3


def test_unify_merges_two_stage_names_of_one_asset_and_drops_unused_categories():
    """ "findings" and "scoring_findings" are both the asset ``scoring_findings``; categories nothing uses are left out."""
    scoring = _edges(["c/1.xlsx", "c/2.xlsx", "c/1.xlsx", "c/3.xlsx"], "indicators")
    scoring["output_table"] = ["indicators", "findings", "scoring_findings", "indicators"]
    funds = _edges(["c/1.xlsx", "c/2.xlsx"], "cells")
    inventory = pd.DataFrame({"file": ["c/1.xlsx", "c/2.xlsx", "c/3.xlsx"], "sha256": ["1", "2", "3"]})
    as_category = scoring.astype(dict.fromkeys([c for c in scoring.columns if c != "row"], "category"))
    # categories no edge uses, as a filtered table read from Parquet keeps them
    as_category["file"] = as_category["file"].cat.add_categories(["c/unused.xlsx"])
    as_category["output_key"] = as_category["output_key"].cat.set_categories(["zz", "k0", "k1", "k2"])

    plain = lineage.unify(funds, scoring, inventory)
    fast = lineage.unify(funds.astype({"file": "category"}), as_category, inventory)

    pd.testing.assert_frame_equal(fast, plain)
    assert fast["output_table"].tolist()[2:] == ["indicator_scores", *["scoring_findings"] * 2, "indicator_scores"]
    assert "c/unused.xlsx" not in fast["file"].cat.categories
    assert "zz" not in fast["output_key"].cat.categories


def test_without_unused_is_remove_unused_categories():
    cat = pd.Categorical.from_codes([3, 0, 3, 5, 0], categories=list("abcdef"))
    fast = lineage._without_unused(cat)
    slow = cat.remove_unused_categories()
    assert list(fast.categories) == list(slow.categories) == ["a", "d", "f"]
    assert fast.codes.dtype == slow.codes.dtype
    assert (fast.codes == slow.codes).all()
    whole = pd.Categorical(list("abca"))
    assert lineage._without_unused(whole) is whole


def test_file_hashes_are_those_pandas_map_gives():
    """One to one (every file a submission): the hashes in the files' order; else sorted, a missing one -1."""
    files = pd.Categorical(["b.xlsx", "a.xlsx", "b.xlsx", "c.csv"])
    whole = {"a.xlsx": "f1", "b.xlsx": "0e", "c.csv": "9a"}
    partial = {"a.xlsx": "f1", "b.xlsx": "0e"}  # c.csv is not a submission (as "" and history.csv are not)
    shared = {"a.xlsx": "77", "b.xlsx": "77", "c.csv": "01"}  # two files of the same bytes
    for sha in (whole, partial, shared):
        expected = pd.Series(files).map(sha).astype("category").array
        got = lineage._file_hashes(files, sha)
        assert list(got.categories) == list(expected.categories)
        assert got.codes.tolist() == expected.codes.tolist()
    assert lineage._file_hashes(files, partial).isna().tolist() == [False, False, False, True]
