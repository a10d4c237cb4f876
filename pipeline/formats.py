"""Exact numbers in, display strings out: money in 分, rates and scores as Decimal.

Money is an integer number of 分 (fen) from the moment it is parsed until it is displayed;
rounding happens only here, half-up, after exact sums.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

FEN_PER_YUAN = 100
FEN_PER_WAN = 1_000_000  # 1 万元 = 10 000 元 = 1 000 000 分
UNIT_FEN = {"元": FEN_PER_YUAN, "万元": FEN_PER_WAN}
# Integer digits that still fit int64 分 (< 9.2e18): 10^16 元 and 10^12 万元 are far beyond any programme.
MAX_INT_DIGITS = {"元": 16, "万元": 12}

# A signed decimal number, and one with thousands separators in their right places.
NUMBER = r"^(?P<sign>[-+]?)(?P<int>\d+)(?:\.(?P<frac>\d*))?$"
_GROUPED = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d*)?$")

Number = int | Fraction | Decimal


def arrow_text(values: pd.Series) -> pa.Array:
    """The cells as an arrow string array (zero-copy for pyarrow-backed strings), NFKC-normalised and trimmed."""
    arr = pa.array(values.astype("string[pyarrow]"), type=pa.string(), from_pandas=True)
    return pc.utf8_trim_whitespace(pc.utf8_normalize(arr, "NFKC"))


def parse_money(values: pd.Series, unit: str) -> tuple[pd.Series, pd.Series]:
    """Parse money text into integer 分, vectorised in arrow (RE2), no Python per cell.

    Returns ``(fen, error)``: ``fen`` is Int64 (NA where unparsable or empty), ``error`` holds a
    rule id per cell (``""`` when fine): ``not_a_number``, ``too_many_decimals`` or ``too_large``
    (more integer digits than any amount could have, e.g. an account number: it would overflow
    int64 分). Thousands separators are accepted only in their right places; full-width digits are
    read as digits; at most two decimals in either unit.
    """
    scale = UNIT_FEN[unit]
    text = arrow_text(values)
    grouped = pc.fill_null(pc.match_substring_regex(text, _GROUPED.pattern), False)
    text = pc.if_else(grouped, pc.replace_substring(text, ",", ""), text)
    parts = pc.extract_regex(text, NUMBER)
    ok = pc.is_valid(parts).to_numpy(zero_copy_only=False)
    ints = pc.struct_field(parts, "int")
    frac = pc.fill_null(pc.struct_field(parts, "frac"), "")
    too_many = ok & (pc.fill_null(pc.utf8_length(frac), 0).to_numpy(zero_copy_only=False) > 2)
    digits = pc.fill_null(pc.utf8_length(pc.utf8_ltrim(ints, "0")), 0).to_numpy(zero_copy_only=False)
    too_large = ok & (digits > MAX_INT_DIGITS[unit])
    empty = pc.fill_null(pc.equal(text, ""), True).to_numpy(zero_copy_only=False)
    error = np.full(len(values), "", dtype=object)
    error[~ok & ~empty] = "not_a_number"
    error[too_many] = "too_many_decimals"
    error[too_large] = "too_large"
    good = ok & ~too_many & ~too_large
    fen = np.zeros(len(values), dtype=np.int64)
    if good.any():
        sel = pa.array(good)
        int_part = pc.cast(pc.filter(ints, sel), pa.int64()).to_numpy()
        cents = pc.cast(pc.utf8_rpad(pc.filter(frac, sel), 2, "0"), pa.int64()).to_numpy()
        sign = np.where(pc.filter(pc.struct_field(parts, "sign"), sel).to_numpy(zero_copy_only=False) == "-", -1, 1)
        fen[good] = sign * (int_part * scale + cents * (scale // 100))
    return (
        pd.Series(pd.arrays.IntegerArray(fen, ~good), index=values.index),
        pd.Series(error, index=values.index, dtype=object),
    )


def round_half_up(value: Number, places: int = 2) -> Decimal:
    """Round half away from zero to ``places`` decimals, exactly (integer arithmetic for Fractions)."""
    if isinstance(value, Fraction):
        scale = 10**places
        num, den = abs(value.numerator) * scale, value.denominator
        q = (2 * num + den) // (2 * den)  # floor(x + 1/2) on the scaled magnitude
        return (Decimal(-q if value < 0 else q)).scaleb(-places)
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def fen_to_wan(fen: int) -> str:
    """Integer 分 → "30790.00" (万元, two decimals, half-up)."""
    return f"{round_half_up(Fraction(int(fen), FEN_PER_WAN)):.2f}"


def fen_to_wan_series(fen: pd.Series) -> pd.Series:
    """Vectorised :func:`fen_to_wan` (exact integer arithmetic, half-up away from zero)."""
    f = fen.astype("int64")
    q = (f.abs() + FEN_PER_WAN // 200) // (FEN_PER_WAN // 100)  # in 0.01 万元
    sign: npt.NDArray[np.str_] = np.where((f < 0) & (q > 0), "-", "")  # no "-0.00", as fen_to_wan
    return pd.Series(sign, index=f.index) + (q // 100).astype(str) + "." + (q % 100).astype(str).str.zfill(2)


def rate(numerator: int, denominator: int) -> Fraction | None:
    """Exact ratio, or None where the denominator is zero."""
    return None if denominator == 0 else Fraction(int(numerator), int(denominator))


def percent(value: Fraction | None) -> str | None:
    """Fraction → percent string with two decimals ("89.23"), None stays None."""
    return None if value is None else f"{round_half_up(value * 100):.2f}"


def score(value: Number) -> str:
    return f"{round_half_up(value):.2f}"


def natural_key(code: str) -> tuple:
    """Sort key putting "2" before "10" and "150102" before "150103"."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", str(code)) if p)


def natural_sorted(codes: Iterable[str]) -> list[str]:
    return sorted(codes, key=natural_key)


def parse_decimal(text: str | None) -> Decimal | None:
    """Exact decimal from text ("12.5", "85%"), None for empty."""
    if text is None or (isinstance(text, float) and np.isnan(text)) or str(text).strip() == "":
        return None
    t = str(text).strip().rstrip("%").replace(",", "")
    return Decimal(t)


def exact_decimal_sums(values: pd.Series, groups: pd.Series) -> tuple[dict, pd.Series]:
    """Exact per-group sums of decimal text ("12.5", "85%"), vectorised: no Fraction per row.

    Every value is scaled to an integer at the column's largest number of decimals and summed in
    int64 (in Python integers if that could overflow). Returns ``({group: Fraction}, parsed)`` where
    ``parsed`` marks the cells that held a number.
    """
    text = pc.replace_substring_regex(arrow_text(values), r"%$", "")
    parts = pc.extract_regex(text, NUMBER)
    parsed = pc.is_valid(parts).to_numpy(zero_copy_only=False)
    if not parsed.any():
        return {}, pd.Series(parsed, index=values.index)
    sel = pa.array(parsed)
    ints = pc.filter(pc.struct_field(parts, "int"), sel)
    frac = pc.fill_null(pc.filter(pc.struct_field(parts, "frac"), sel), "")
    places = int(pc.max(pc.utf8_length(frac)).as_py() or 0)
    negative = pc.filter(pc.struct_field(parts, "sign"), sel).to_numpy(zero_copy_only=False) == "-"
    digits = int(pc.max(pc.utf8_length(ints)).as_py())
    if digits + places + len(str(len(negative))) <= 18:  # the sum fits int64
        whole = pc.cast(ints, pa.int64()).to_numpy() * 10**places
        part = pc.cast(pc.utf8_rpad(frac, places, "0"), pa.int64()).to_numpy() if places else 0
        scaled = np.where(negative, -1, 1) * (whole + part)
    else:
        whole = [int(x) * 10**places for x in ints.to_pylist()]
        part = [int(x.ljust(places, "0") or 0) for x in frac.to_pylist()]
        scaled = np.array([(-1 if n else 1) * (w + f) for n, w, f in zip(negative, whole, part)], dtype=object)
    sums = pd.Series(scaled, index=values.index[parsed]).groupby(groups[parsed].to_numpy()).sum()
    return {g: Fraction(int(v), 10**places) for g, v in sums.items()}, pd.Series(parsed, index=values.index)
