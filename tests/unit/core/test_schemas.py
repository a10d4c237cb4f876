"""``schemas.holds`` says True only where pandera passes: every output table's schema, clean and broken frames."""

from __future__ import annotations

import pandas as pd
import pytest
from pandera.errors import SchemaErrors

from pipeline.schemas import holds
from pipeline.tables import TABLES


def _column(field, key: bool) -> pd.Series:
    dtype = field.pandas
    if dtype == "int64":
        return pd.Series([0, 1, 2], dtype="int64")
    if dtype == "Int64":
        return pd.Series([0, 1, pd.NA if field.nullable else 2], dtype="Int64")
    if dtype == "datetime64[ns]":
        return pd.Series(pd.to_datetime(["2023-01-01", "2023-06-30", "2023-12-31"]))
    if dtype == "bool":
        return pd.Series([True, False, True])
    return pd.Series(["a0", "a1", "a2"] if key or not field.nullable else ["a0", None, "a2"], dtype=object)


def clean(name: str) -> pd.DataFrame:
    table = TABLES[name]
    return pd.DataFrame({c: _column(f, c in table.key) for c, f in table.fields().items()})


def pandera_passes(name: str, df: pd.DataFrame) -> bool:
    try:
        TABLES[name].schema().validate(df, lazy=True)
    except SchemaErrors:
        return False
    return True


def broken(name: str) -> dict[str, pd.DataFrame]:
    """Frames pandera refuses, where this table's schema allows building them."""
    table, df = TABLES[name], clean(name)
    out = {"extra column": df.assign(extra=1), "columns reordered": df[list(reversed(df.columns))]}
    if len(df.columns) < 2:
        del out["columns reordered"]
    out["a column missing"] = df.drop(columns=df.columns[-1])
    for c, f in table.fields().items():
        if not f.nullable:
            bad = df.copy()
            bad[c] = bad[c].astype(object)
            bad.loc[1, c] = None
            out[f"missing value in {c}"] = bad
            break
    for c, f in table.fields().items():
        if f.pandas in ("int64", "bool", "datetime64[ns]", "Int64"):
            out[f"{c} as text"] = df.assign(**{c: df[c].astype(str)})
            break
    if table.key:
        out["duplicate key"] = pd.concat([df, df.iloc[[0]]], ignore_index=True)
    return out


@pytest.mark.parametrize("name", sorted(TABLES))
def test_clean_frames_hold_and_pass(name):
    df = clean(name)
    assert pandera_passes(name, df)
    assert holds(TABLES[name].schema(), df)


@pytest.mark.parametrize("name", sorted(TABLES))
def test_holds_never_says_yes_where_pandera_says_no(name):
    for what, df in broken(name).items():
        assert not pandera_passes(name, df), what  # each is a real failure
        assert not holds(TABLES[name].schema(), df), what
