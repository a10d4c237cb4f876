"""The contract check's column-by-column path agrees with pandera: it passes only what pandera passes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandera.errors import SchemaErrors

from pipeline.contract import KINDS
from pipeline.ingest.checks import contract, holds

KIND = KINDS["payments"]
SCHEMA = KIND.model.to_schema()


def payments(n: int = 4) -> pd.DataFrame:
    """Accepted payment rows as validation leaves them: text as str objects, money int64, dates datetime64."""
    text = {
        name: pd.Series([f"{name}-{i}" for i in range(n)], dtype=object)
        for name, col in SCHEMA.columns.items()
        if str(col.dtype) == "str"
    }
    df = pd.DataFrame(text)
    for name, col in SCHEMA.columns.items():
        if str(col.dtype) == "int64":
            df[name] = np.arange(n, dtype="int64") * 100
        elif str(col.dtype) == "datetime64[ns]":
            df[name] = pd.to_datetime(["2023-03-01"] * n)
    for name, col in SCHEMA.columns.items():
        if col.nullable and str(col.dtype) == "str":
            df[name] = pd.Series([None] * n, dtype=object)  # nullable text left empty passes
    return df[list(SCHEMA.columns)]


def pandera_passes(df: pd.DataFrame) -> bool:
    try:
        KIND.model.validate(df, lazy=True)
    except SchemaErrors:
        return False
    return True


def broken_text(df):
    df = df.copy()
    df.loc[1, "payment_id"] = 7  # a number where text must be
    return df


def null_required(df):
    df = df.copy()
    df.loc[2, "county_code"] = None
    return df


def nullable_money(df):
    return df.assign(amount_fen=df["amount_fen"].astype("Int64"))


def missing_column(df):
    return df.drop(columns=["date"])


def text_as_arrow(df):
    return df.assign(payee=df["payee"].astype("string"))


def nat_in_text(df):
    df = df.copy()
    df["note"] = pd.Series(["a", pd.NaT, None, "b"], dtype=object)
    return df


CASES = {
    "valid": lambda df: df,
    "number_in_text": broken_text,
    "null_in_required": null_required,
    "nullable_integer_dtype": nullable_money,
    "missing_column": missing_column,
    "arrow_string_dtype": text_as_arrow,
    "nat_in_nullable_text": nat_in_text,
}


@pytest.mark.parametrize("case", list(CASES))
def test_holds_is_never_more_lenient_than_pandera(case):
    df = CASES[case](payments())
    if holds(SCHEMA, df):
        assert pandera_passes(df)
    check = contract(KIND, df)
    assert check.passed == pandera_passes(df)


def test_a_valid_table_holds_without_pandera():
    assert holds(SCHEMA, payments())
    assert contract(KIND, payments()).passed


def test_what_holds_cannot_decide_goes_to_pandera():
    df = nullable_money(payments())  # pandera accepts Int64 for int64; the column-by-column path leaves it to pandera
    assert not holds(SCHEMA, df)
    assert contract(KIND, df).passed == pandera_passes(df)


@pytest.mark.parametrize("case", ["number_in_text", "null_in_required", "missing_column"])
def test_a_failing_table_gets_pandera_failure_cases(case):
    df = CASES[case](payments())
    assert not holds(SCHEMA, df)
    check = contract(KIND, df)
    assert not check.passed
    with pytest.raises(SchemaErrors) as exc:
        KIND.model.validate(df, lazy=True)
    assert check.metadata["failure_count"] == len(exc.value.failure_cases) > 0
