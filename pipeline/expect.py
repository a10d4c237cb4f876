"""An expectation as data: Great Expectations' type, its arguments and why it must hold (no GX import here)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

INTEGER_TYPES = ["int64", "Int64"]  # numpy int64, or pandas' nullable Int64


@dataclasses.dataclass(frozen=True)
class Expect:
    """One expectation as data: GX's snake_case type, its arguments, and why it must hold."""

    type: str
    kwargs: Mapping[str, Any]
    why: str
    where: tuple[str, str, Any] | None = None  # only rows where (column, operator, value) holds


def not_null(column: str, why: str) -> Expect:
    return Expect("expect_column_values_to_not_be_null", {"column": column}, why)


def integer(column: str, why: str) -> Expect:
    return Expect("expect_column_values_to_be_in_type_list", {"column": column, "type_list": INTEGER_TYPES}, why)


def between(column: str, low: Any = None, high: Any = None, *, why: str) -> Expect:
    """Values within bounds; integer bounds use the exact-integer expectation (``expectations._integer_expectations``)."""
    exact = all(v is None or isinstance(v, int) for v in (low, high))
    kind = "expect_column_integer_values_to_be_between" if exact else "expect_column_values_to_be_between"
    return Expect(kind, {"column": column, "min_value": low, "max_value": high}, why)


def in_set(column: str, values: Sequence[Any], why: str) -> Expect:
    return Expect("expect_column_values_to_be_in_set", {"column": column, "value_set": list(values)}, why)


def unique(columns: Sequence[str], why: str) -> Expect:
    if len(columns) == 1:
        return Expect("expect_column_values_to_be_unique", {"column": columns[0]}, why)
    return Expect("expect_compound_columns_to_be_unique", {"column_list": list(columns)}, why)


def matches(column: str, regex: str, why: str) -> Expect:
    return Expect("expect_column_values_to_match_regex", {"column": column, "regex": regex}, why)
