"""Scoring methods (计分方法) as pure functions on exact numbers.

Every function takes and returns exact values (int, Decimal or Fraction in, Fraction out);
rounding happens once, at the leaf, in :func:`leaf_score`. Completion rates are fractions
(0.96 means 96 %).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

from pipeline.formats import round_half_up

Exact = int | Decimal | Fraction


def _q(value: Exact) -> Fraction:
    return Fraction(value)


def meets(actual: Exact, target: Exact, comparator: str) -> bool:
    """Whether the actual satisfies the target under ``>=``, ``<=`` or ``=``."""
    a, t = _q(actual), _q(target)
    return {">=": a >= t, "<=": a <= t, "=": a == t}[comparator]


def completion_rate(actual: Exact, target: Exact, comparator: str) -> Fraction | None:
    """实际完成率: actual/target for ``>=``, target/actual for ``<=`` (lower is better),
    the smaller over the larger for ``=``; None where that divides by zero."""
    a, t = _q(actual), _q(target)
    if comparator == ">=":
        return None if t == 0 else a / t
    if comparator == "<=":
        return None if a == 0 else t / a
    return None if max(a, t) == 0 else min(a, t) / max(a, t)


def _achieved(actual: Exact, target: Exact, comparator: str) -> Fraction:
    """Completion capped at 1 and floored at 0; a zero target that is met counts as complete."""
    if meets(actual, target, comparator):
        return Fraction(1)
    rate = completion_rate(actual, target, comparator)
    return Fraction(0) if rate is None else min(max(rate, Fraction(0)), Fraction(1))


def proportional(points: Exact, actual: Exact, target: Exact, comparator: str = ">=") -> Fraction:
    """按完成比例计算得分，满分为止: points × min(completion, 1)."""
    return _q(points) * _achieved(actual, target, comparator)


def reverse(points: Exact, actual: Exact, target: Exact) -> Fraction:
    """Lower is better (a cap): full points at or under the target, else points × target / actual."""
    return _q(points) * _achieved(actual, target, "<=")


def banded(
    points: Exact,
    actual: Exact,
    target: Exact,
    bands: Sequence[tuple[Exact, Exact]],
    comparator: str = ">=",
) -> Fraction:
    """区间: the share of the first band whose lower bound (completion in %, inclusive) is reached.

    ``bands`` are (lower bound in %, share of points); below every bound scores nothing.
    """
    pct = _achieved(actual, target, comparator) * 100
    for lower, share in sorted(((_q(lo), _q(sh)) for lo, sh in bands), reverse=True):
        if pct >= lower:
            return _q(points) * share
    return Fraction(0)


def deduction(
    points: Exact,
    actual: Exact,
    target: Exact,
    step: Exact,
    deduct: Exact,
    comparator: str = ">=",
    partial: bool = False,
) -> Fraction:
    """扣分: ``deduct`` points off per ``step`` percentage points of completion short of 100 %, down to 0.

    Only whole steps count unless ``partial`` (then the deduction is pro rata).
    """
    shortfall = (1 - _achieved(actual, target, comparator)) * 100
    steps = shortfall / _q(step)
    if not partial:
        steps = Fraction(math.floor(steps))
    return max(_q(points) - steps * _q(deduct), Fraction(0))


def qualitative(points: Exact, grades: Iterable[str], shares: Mapping[str, Exact]) -> Fraction:
    """定性: the average over graders of each grade's share of the points (好/较好/一般/差)."""
    given = list(grades)
    if not given:
        raise ValueError("qualitative scoring needs at least one grade")
    return _q(points) * sum((_q(shares[g]) for g in given), Fraction(0)) / len(given)


def satisfaction_rate(satisfied: int, valid: int) -> Fraction | None:
    """满意度 = satisfied responses / valid responses (无效 answers count in neither); None without any valid."""
    return Fraction(int(satisfied), int(valid)) if valid else None


def leaf_score(exact: Exact) -> Decimal:
    """The one rounding rule: a leaf score is rounded half-up to two decimals."""
    return round_half_up(_q(exact))


def grade_for(total: Decimal, bands: Sequence[tuple[Exact, str]]) -> str:
    """The grade of the printed total: the first band whose lower bound (inclusive) it reaches."""
    for lower, grade in sorted(bands, key=lambda b: _q(b[0]), reverse=True):
        if _q(total) >= _q(lower):
            return grade
    raise ValueError(f"no grade band covers {total}")


def describe(method: str, params: Mapping[str, Any], comparator: str, points: Exact) -> str:
    """The scoring rule in Chinese, so a reader can recompute the leaf score from the table alone."""
    pts = _plain(points)
    if method == "proportional":
        ratio = "实际完成值 ÷ 年度指标值" if comparator == ">=" else "较小值 ÷ 较大值"
        return f"按完成比例计分：{ratio} × {pts} 分，满分为止"
    if method == "reverse":
        return f"不高于年度指标值得满分；超出时得 年度指标值 ÷ 实际完成值 × {pts} 分"
    if method == "banded":
        bands = sorted(((_q(lo), _q(sh)) for lo, sh in params["bands"]), reverse=True)
        parts = [f"完成率 ≥ {_plain(lo)}% 得 {_plain(_q(points) * sh)} 分" for lo, sh in bands]
        return "按区间计分：" + "，".join(parts) + f"，低于 {_plain(bands[-1][0])}% 不得分"
    if method == "deduction":
        how = "按比例扣分" if params.get("partial") else f"不足 {_plain(params['step'])} 个百分点的部分不扣"
        return (
            f"扣分法：完成率每低于 100% 达 {_plain(params['step'])} 个百分点扣 {_plain(params['deduct'])} 分"
            f"（{how}），扣完 {pts} 分为止"
        )
    if method == "qualitative":
        shares = params["shares"]
        listed = "、".join(f"{g} {_plain(_q(shares[g]) * 100)}%" for g in shares)
        return f"定性：{listed}，各评价人员平均"
    raise ValueError(f"unknown method {method}")


def _plain(value: Exact) -> str:
    """A number with as few decimals as it needs ("0.5", "2", "1.6"), exactly."""
    q = _q(value)
    if q.denominator == 1:
        return str(q.numerator)
    return format(round_half_up(q, 2).normalize(), "f")
