"""What check_rows no longer copies or builds for every row gives what the per-row versions gave."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from pipeline import evaluation
from pipeline.contract import KINDS
from pipeline.ingest.validate import Codes, Context, _by_sheet, _HeaderTitles, contract_schema

RAW = Path(__file__).resolve().parents[3] / "raw"


def _table(rel: str, sheet: str, titles: dict[str, str] | None = None) -> SimpleNamespace:
    return SimpleNamespace(file=SimpleNamespace(rel=rel), sheet=sheet, titles=titles or {})


def _grouped_rows(tables, index, span, keep) -> pd.DataFrame:
    """What check_rows computed before: every row named by its file and sheet, grouped."""
    return (
        pd.DataFrame(
            {
                "file": np.array([t.file.rel for t in tables], dtype=object)[index],
                "sheet": np.array([t.sheet for t in tables], dtype=object)[index],
                "rows": 1,
                "row_lines": span,
                "accepted": keep.astype("int64"),
                "accepted_lines": span * keep,
            }
        )
        .groupby(["file", "sheet"], sort=False)
        .sum()
        .reset_index()
    )


TABLES = [
    _table("a.xlsx", "资金支出"),
    _table("a.xlsx", "资金到位"),
    _table("b.xlsx", "资金支出"),  # no rows: no group
    _table("c.csv", ""),
    _table("a.xlsx", "资金支出"),  # the same file and sheet again, after others
]


@pytest.mark.parametrize(
    ("index", "span", "keep"),
    [
        ([0, 0, 1, 3, 3, 3, 4], [1, 2, 1, 1, 1, 3, 1], [True, False, True, True, False, False, True]),
        ([1, 1, 1], [1, 1, 1], [False, False, False]),  # every row of a sheet quarantined
        ([3, 0, 4], [2, 1, 1], [True, True, True]),  # rows in another order than their tables
        ([], [], []),
    ],
)
def test_lines_per_sheet_are_those_of_grouping_every_row(index, span, keep):
    index, span, keep = np.array(index, dtype=np.int64), np.array(span, dtype=np.int64), np.array(keep, dtype=bool)
    got = _by_sheet(TABLES, index, span, keep)
    pd.testing.assert_frame_equal(got, _grouped_rows(TABLES, index, span, keep), check_exact=True)


def test_no_tables_gives_the_same_empty_frame():
    empty = np.zeros(0, dtype=np.int64)
    got = _by_sheet([], empty, empty, np.zeros(0, dtype=bool))
    pd.testing.assert_frame_equal(got, _grouped_rows([], empty, empty, np.zeros(0, dtype=bool)), check_exact=True)


def test_header_titles_are_made_only_for_the_columns_asked_for():
    kind = KINDS["payments"]
    money = next(name for name, col in kind.columns.items() if col.title.startswith("金额"))
    tables = [_table("a.xlsx", "资金支出", {money: "金额（万元）"}), _table("b.xlsx", "资金支出")]
    titles = _HeaderTitles(kind, tables, np.array([0, 1, 1, 0], dtype=np.int64))
    assert titles.made == {}
    assert titles[money].tolist() == [
        "金额（万元）",
        kind.columns[money].title,
        kind.columns[money].title,
        "金额（万元）",
    ]
    assert list(titles.made) == [money]
    assert list(titles) == list(kind.columns) and len(titles) == len(kind.columns)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_contract_schema_only_checks(kind):
    """check_rows has pandera validate in place (no copy of every row): safe only while the schema changes nothing."""
    ev = evaluation.find(RAW, "2023-hohhot-pes")
    codes = Codes.for_evaluation(ev, [], ev.indicator_codes)
    schema = contract_schema(KINDS[kind], Context(evaluation=ev, codes=codes, unit=pd.Series(dtype=object)))
    assert not (schema.coerce or schema.parsers or schema.add_missing_columns or schema.strict)
    assert not schema.drop_invalid_rows
    for column in schema.columns.values():
        assert not column.coerce and column.default is None and not column.parsers and column.dtype is None
