"""A row is kept unless the quarantine holds a record of its (file, sheet, row): found without keying every row."""

import numpy as np
import pandas as pd
import pytest

from pipeline.ingest.validate import _quarantined


def _keyed_everywhere(typed: pd.DataFrame, quarantine: pd.DataFrame) -> np.ndarray:
    """What check_rows computed before: every row keyed, then looked up."""
    if quarantine.empty:
        return np.zeros(len(typed), dtype=bool)
    keys = pd.MultiIndex.from_frame(typed[["file", "sheet", "row"]])
    return np.asarray(keys.isin(pd.MultiIndex.from_frame(quarantine[["file", "sheet", "row"]])))


TYPED = pd.DataFrame(
    {
        "file": ["a.xlsx"] * 4 + ["b.xlsx"] * 4,
        "sheet": ["资金支出", "资金支出", "指标", "指标"] * 2,
        "row": np.array([4, 5, 4, 5, 4, 5, 4, 6], dtype="int64"),
    }
)


@pytest.mark.parametrize(
    "records",
    [
        [],
        [("a.xlsx", "资金支出", 5)],  # row 5 is in three other places, none of them quarantined
        [("b.xlsx", "指标", 6), ("a.xlsx", "指标", 4), ("a.xlsx", "指标", 4)],  # a row with two records
        [("c.xlsx", "资金支出", 4)],  # another file's row 4
        [("a.xlsx", "资金支出", 9)],  # no row 9 at all
        [("a.xlsx", "资金支出", pd.NA), ("b.xlsx", "资金支出", 4)],  # a sheet-level record has no row
    ],
)
def test_the_rows_found_are_those_the_quarantine_names(records):
    quarantine = pd.DataFrame(records, columns=["file", "sheet", "row"]).astype({"row": "Int64"})
    found = _quarantined(TYPED, quarantine)
    assert found.tolist() == _keyed_everywhere(TYPED, quarantine).tolist()
    named = {(f, s, int(r)) for f, s, r in records if r is not pd.NA}
    assert found.tolist() == [(f, s, r) in named for f, s, r in TYPED.itertuples(index=False)]
