"""How the report writes one value: exact decimals from whatever a cell holds, money in 万元 from 分,
rates and scores with two decimals half-up, dates in Chinese, targets and actuals with their direction
and unit. Shared by the report's text, its tables and the self-evaluation form."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, SupportsInt, cast

import pandas as pd

from pipeline.formats import fen_to_wan, round_half_up

MISSING = "—"
DIRECTIONS = {">=": "≥", "<=": "≤", "=": "="}


def is_missing(value: object) -> bool:
    """None, NaN, NA or NaT: a missing cell (text never is)."""
    # pandas-stubs type pd.isna for pandas' own scalar types only; at run time it takes any value
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))  # type: ignore[call-overload]


def dec(value: object) -> Decimal | None:
    """Exact Decimal from a string or number; None for missing or non-numeric text."""
    if is_missing(value):
        return None
    try:
        return Decimal(str(value).strip().rstrip("%").replace(",", ""))
    except InvalidOperation:
        return None


def two(value: object) -> str:
    """Money, rate or score with two decimals, half-up; "—" when missing."""
    d = dec(value)
    return MISSING if d is None else f"{round_half_up(d):.2f}"


def plain(value: object) -> str:
    """Weights, points, targets: as few decimals as needed ("20", "12.5"); text stays text."""
    d = dec(value)
    if d is None:
        return "" if blank(value) else str(value)
    return format(d.normalize(), "f")


def wan(fen: object) -> str:
    """Integer 分 → 万元 with two decimals."""
    return MISSING if is_missing(fen) else fen_to_wan(int(cast(SupportsInt, fen)))  # 分: an int or a numpy integer


def rate_of(numerator: int, denominator: int) -> str:
    """numerator / denominator as a percent with two decimals, half-up; "—" without a denominator."""
    return MISSING if not denominator else f"{round_half_up(Fraction(int(numerator), int(denominator)) * 100):.2f}"


def cn_date(d: dt.date) -> str:
    """2024 年 3 月 5 日."""
    return f"{d.year} 年 {d.month} 月 {d.day} 日"


def cn_numeral(n: int) -> str:
    """1 → 一, 12 → 十二, 23 → 二十三 (group and status headings up to 99)."""
    digits = "零一二三四五六七八九"
    tens, ones = divmod(n, 10)
    if tens == 0:
        return digits[ones]
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def blank(value: object) -> bool:
    """Missing, or text that is only white space."""
    return is_missing(value) or str(value).strip() == ""


def cell_text(value: object) -> str:
    """A cell as trimmed text; "" when blank."""
    return "" if blank(value) else str(value).strip()


def direction(r: Any) -> str:
    """≥, ≤, = for a quantitative indicator, 定性 for a graded one (r: an indicators row, a tuple or a Series)."""
    if getattr(r, "method", "") == "qualitative" or blank(getattr(r, "comparator", None)):
        return "定性" if getattr(r, "method", "") == "qualitative" or blank(r.target) else "≥"
    return DIRECTIONS.get(str(r.comparator), str(r.comparator))


def with_unit(value: object, unit: object) -> str:
    """A target or actual as scoring printed it (its declared places kept: “4.50”), with its unit."""
    shown = cell_text(value)
    return f"{shown}{cell_text(unit)}" if shown else ""


def target_text(r: Any) -> str:
    """The target with its direction and unit: “≥4.5万人”, “≤2.5万人”, “定性”."""
    d = direction(r)
    if d == "定性":
        return "好" if blank(r.target) else plain(r.target)
    return f"{d}{with_unit(r.target, r.unit)}"


def actual_text(r: Any) -> str:
    """The actual with its unit, “未采集” when it was not collected, the grade of a qualitative indicator."""
    if r.status == "not_collected" or blank(r.actual):
        return "未采集" if r.status == "not_collected" else ""
    return with_unit(r.actual, r.unit) if getattr(r, "method", "") != "qualitative" else plain(r.actual)
