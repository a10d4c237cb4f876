"""Score an evaluation: set every leaf's actual against its target, score it, add it up.

Two steps kept apart so the what-if can reuse them:
1. :func:`observe` finds each leaf's actual in its source (bureau or county submissions, the
   reconciliation, the survey, the evaluator's grades) with the rows it came from;
2. :func:`score_observations` scores the leaves by their methods, rounds each leaf half-up to two
   decimals, and adds the rounded leaves into dimensions and the total, so every table adds up
   as printed.

Inputs are the validated tables of the submission contract (``pipeline.contract``): canonical
values (``data_status`` is ``collected`` / ``not_collected``), ``actual`` as exact decimal text
or NA, and the source columns ``file, sheet, row, submitter``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline import edges as edge_frames
from pipeline import findings as findings_mod
from pipeline.checks import Check
from pipeline.config import Settings
from pipeline.formats import exact_decimal_sums, parse_decimal, percent, round_half_up
from pipeline.formats import score as fmt_score
from pipeline.scoring import methods
from pipeline.scoring.framework import Framework, Leaf
from pipeline.tables import LINEAGE_COLUMNS, columns

INVALID_ANSWER = "无效"

HISTORY_COLUMNS = ["indicator_code", "year", "actual", "file", "sheet", "row"]
# Lineage edges share the reconciliation's columns; ``measure`` is the output column an input feeds.
EDGE_COLUMNS = LINEAGE_COLUMNS
INDICATOR_COLUMNS = columns("indicator_scores")
DIMENSION_COLUMNS = columns("dimension_scores")


@dataclasses.dataclass(frozen=True, eq=False)  # DataFrames have no single truth value
class ScoringInputs:
    """Everything a framework is scored from.

    - ``indicator_actuals``: kind ``indicator_actuals`` (bureau), ``county_indicators``: kind
      ``county_indicators``, ``grades``: kind ``grades``, ``survey``: kind ``survey``;
    - ``reconciliation``: exact rates by key, e.g. ``{"arrival_rate": Fraction(27475, 30790)}``
      (a rate as a fraction, not a percent; None where undefined);
    - ``settings``: the evaluation's settings (``satisfied_answers``, ``realism_trend_tolerance_pct``);
    - ``history``: earlier years' actuals (:func:`read_history`), ``year``: the evaluated year
      (default: the year after the latest history year);
    - ``counties``: code → name of the counties expected to report (``Evaluation.counties``); a
      county figure missing one is not collected, and county deviation reasons carry the name.
    """

    indicator_actuals: pd.DataFrame
    county_indicators: pd.DataFrame
    grades: pd.DataFrame
    survey: pd.DataFrame
    reconciliation: Mapping[str, Fraction | None]
    settings: Settings = dataclasses.field(default_factory=Settings)
    history: pd.DataFrame | None = None
    year: int | None = None
    counties: Mapping[str, str] | None = None


@dataclasses.dataclass(frozen=True)
class Observation:
    """A leaf's actual as found in its source: ``value`` None means not collected (with ``missing``)."""

    value: Fraction | None
    grades: tuple[str, ...] = ()
    missing: str = ""
    deviation_reason: str | None = None
    basis: str = ""


@dataclasses.dataclass(frozen=True, eq=False)  # DataFrames have no single truth value
class ScoreResult:
    """A framework's scores: the indicator and dimension tables, total, grade, lineage and findings."""

    framework: Framework
    indicators: pd.DataFrame
    dimensions: pd.DataFrame
    total: Decimal
    grade: str
    edges: pd.DataFrame
    findings: pd.DataFrame

    def score_block(self) -> dict[str, Any]:
        """``{total, grade, by_dimension}`` as summary.json holds it."""
        return {
            "total": fmt_score(self.total),
            "grade": self.grade,
            "by_dimension": dict(zip(self.dimensions["code"], self.dimensions["score"])),
        }


def read_history(path: Path, display_path: str | None = None) -> pd.DataFrame:
    """Earlier years' actuals (``indicator_code,year,actual``) with their source rows; empty if absent."""
    path = Path(path)
    if not path.is_file():
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df["year"] = df["year"].astype(int)
    df["file"] = display_path or path.as_posix()
    df["sheet"] = ""
    df["row"] = range(2, len(df) + 2)  # as a spreadsheet shows it, header on row 1
    return df[HISTORY_COLUMNS]


def score_evaluation(framework: Framework, inputs: ScoringInputs) -> ScoreResult:
    """Score the evaluation's data under one framework."""
    observations, edges = observe(framework, inputs)
    return score_observations(framework, observations, inputs, edges)


# ---------------------------------------------------------------------------------------------
# 1. Observing actuals


def _fraction(text: Any) -> Fraction | None:
    value = parse_decimal(None if pd.isna(text) else text)
    return None if value is None else Fraction(value)


def _rows_for(df: pd.DataFrame, codes: Sequence[str]) -> pd.DataFrame:
    """The rows of an input table whose indicator is one of ``codes``, in file/sheet/row order."""
    if df is None or df.empty or not codes:
        return pd.DataFrame(columns=["indicator_code", "file", "sheet", "row"])
    rows = _lexical(df[df["indicator_code"].isin(codes)], _ROW_ORDER)
    # The kinds arrive in file order already: checking that costs less than sorting a million rows again.
    return rows if _in_order(rows, _ROW_ORDER) else rows.sort_values(_ROW_ORDER, kind="stable")


_COUNTY_TEXT = ["file", "sheet", "submitter", "indicator_code", "data_status"]


def _as_categories(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``df`` with the object ones of ``columns`` as categoricals (the same values)."""
    if df is None:
        return df
    text = [c for c in columns if c in df and df[c].dtype == object]
    return df.assign(**{c: pd.Categorical(df[c]) for c in text}) if text else df


def _lexical(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``df`` with the categorical ones of ``columns`` ordered by their text (as read from Parquet's dictionaries,
    in the order met), so that sorting by their codes sorts as their text does."""
    unsorted = [
        c
        for c in columns
        if c in df and isinstance(df[c].dtype, pd.CategoricalDtype) and not df[c].cat.categories.is_monotonic_increasing
    ]
    if not unsorted:
        return df
    out = {}
    for c in unsorted:
        try:
            out[c] = df[c].cat.reorder_categories(sorted(df[c].cat.categories))
        except TypeError:  # values that do not compare (text and numbers): sorted as the values themselves are
            out[c] = df[c].astype(object)
    return df.assign(**out)


_ROW_ORDER = ["file", "sheet", "row"]


def _in_order(df: pd.DataFrame, by: Sequence[str]) -> bool:
    """Whether ``df.sort_values(by, kind="stable")`` would leave the rows as they are (categoricals by their codes,
    as pandas sorts them; a missing value or values that do not compare: not known to be in order)."""
    equal = np.ones(max(len(df) - 1, 0), dtype=bool)  # row i + 1 equal to row i on the columns so far
    for name in by:
        column = df[name]
        if column.hasnans:
            return False
        values = column.cat.codes.to_numpy() if isinstance(column.dtype, pd.CategoricalDtype) else column.to_numpy()
        before, after = values[:-1], values[1:]
        try:
            if (equal & (after < before)).any():
                return False
            equal &= after == before
        except TypeError:
            return False
    return True


def lineage_edges(
    rows: pd.DataFrame,
    kind: str,
    output_key: pd.Series | None = None,
    measure: str = "actual",
    output_table: str = "indicators",
) -> pd.DataFrame:
    """Edges from output rows (by default the indicator each input row reports) to the input rows (categoricals)."""
    n = len(rows)
    return pd.DataFrame(
        {
            "output_table": edge_frames.constant(output_table, n),
            "output_key": edge_frames.text_categorical(rows["indicator_code"] if output_key is None else output_key),
            "measure": edge_frames.constant(measure, n),
            "input_kind": edge_frames.constant(kind, n),
            "file": edge_frames.text_categorical(rows["file"]),
            "sheet": edge_frames.text_categorical(rows["sheet"]),
            "row": rows["row"].to_numpy(dtype="int64"),
        },
        columns=EDGE_COLUMNS,
    )


def _codes(framework: Framework, source_type: str) -> list[str]:
    return [leaf.code for leaf in framework.leaves if leaf.source.type == source_type]


def _as_unit(rate: Fraction, unit: str) -> Fraction:
    """A ratio shown in the leaf's unit: × 100 for a percentage."""
    return rate * 100 if unit == "%" else rate


def observe(framework: Framework, inputs: ScoringInputs) -> tuple[dict[str, Observation], pd.DataFrame]:
    """Each leaf's observation, and the lineage edges from leaf code to input rows."""
    obs: dict[str, Observation] = {}
    edge_parts: list[pd.DataFrame] = []

    bureau = _rows_for(inputs.indicator_actuals, _codes(framework, "bureau"))
    edge_parts.append(lineage_edges(bureau, "indicator_actuals"))
    for code, rows in bureau.groupby("indicator_code", sort=False):
        first = rows.iloc[0]  # several departments reporting one indicator is a finding, see _conflicts
        collected = first["data_status"] == "collected"
        reason = first.get("deviation_reason")
        reason = None if pd.isna(reason) or reason == "" else str(reason)
        obs[str(code)] = Observation(
            value=_fraction(first["actual"]) if collected else None,
            missing="" if reason else f"{first['submitter']} 报送{'实际值为空' if collected else '为未采集'}",
            deviation_reason=reason,
            basis=f"{first['submitter']} 报送（{first['file']} 第 {first['row']} 行）",
        )

    county_codes = _codes(framework, "county_sum") + _codes(framework, "county_mean")
    # A million rows at national scale: its text columns grouped and edged as categoricals, hashed once here
    # (none of it when the table comes read with its text as categoricals).
    county = _rows_for(_as_categories(inputs.county_indicators, _COUNTY_TEXT), county_codes)
    edge_parts.append(lineage_edges(county, "county_indicators"))
    obs.update(_county_observations(framework, county, inputs.counties))

    for leaf in framework.leaves:
        if leaf.source.type == "reconciliation":
            assert leaf.source.key is not None  # the framework file is checked: a reconciliation source names its key
            rate = inputs.reconciliation.get(leaf.source.key)
            obs[leaf.code] = Observation(
                value=None if rate is None else _as_unit(Fraction(rate), leaf.unit),
                missing=f"资金核对未给出 {leaf.source.key}",
                basis=f"资金核对 {leaf.source.key}",
            )
            # not a file row: the edge names the reconciliation figure (funds.<measure>), row 0
            edge_parts.append(
                pd.DataFrame(
                    [
                        {
                            "output_table": "indicators",
                            "output_key": leaf.code,
                            "measure": leaf.source.key,
                            "input_kind": "reconciliation",
                            "file": "",
                            "sheet": "",
                            "row": 0,
                        }
                    ],
                    columns=EDGE_COLUMNS,
                ).astype({"row": "int64"})
            )

    survey = _rows_for(inputs.survey, _codes(framework, "survey"))
    edge_parts.append(lineage_edges(survey, "survey"))
    counts = survey.groupby(["indicator_code", "answer"]).size() if not survey.empty else pd.Series(dtype=int)
    default_satisfied = tuple(inputs.settings.satisfied_answers)
    for leaf in (leaf for leaf in framework.leaves if leaf.source.type == "survey"):
        answers: pd.Series = (
            counts[leaf.code]  # type: ignore[assignment]  # stubs: a first-level key selects a Series
            if leaf.code in counts.index.get_level_values(0)
            else pd.Series(dtype=int)
        )
        satisfied_answers = leaf.source.satisfied or default_satisfied
        valid = int(answers[answers.index != INVALID_ANSWER].sum())
        satisfied = int(answers[answers.index.isin(satisfied_answers)].sum())
        rate = methods.satisfaction_rate(satisfied, valid)
        obs[leaf.code] = Observation(
            value=None if rate is None else _as_unit(rate, leaf.unit),
            missing="无有效问卷",
            basis=f"问卷：{'、'.join(satisfied_answers)} {satisfied} 份 / 有效 {valid} 份（无效 {int(answers.get(INVALID_ANSWER, 0))} 份）",
        )

    graded = _rows_for(inputs.grades, _codes(framework, "grade"))
    edge_parts.append(lineage_edges(graded, "grades"))
    by_code = {code: rows.sort_values("grader") for code, rows in graded.groupby("indicator_code")}
    for leaf in (leaf for leaf in framework.leaves if leaf.source.type == "grade"):
        given = by_code.get(leaf.code)
        grades = tuple(given["grade"]) if given is not None else ()
        obs[leaf.code] = Observation(
            value=Fraction(1) if grades else None,  # the grades themselves are scored
            grades=grades,
            missing="评价机构未评分",
            basis="评分：" + "、".join(f"{g} {x}" for g, x in zip(given["grader"], given["grade"]))
            if given is not None and grades
            else "",
        )

    for leaf in framework.leaves:
        obs.setdefault(leaf.code, Observation(value=None, missing="未收到报送"))
    return obs, edge_frames.concat(edge_parts)


def _county_observations(
    framework: Framework, rows: pd.DataFrame, counties: Mapping[str, str] | None
) -> dict[str, Observation]:
    """County sums and means, by groupby: a county that did not collect (or did not report) voids the figure."""
    if rows.empty:
        return {}
    rows = rows.reset_index(drop=True)
    status_collected = rows["data_status"] == "collected"
    totals, parsed = exact_decimal_sums(rows["actual"].where(status_collected), rows["indicator_code"])
    rows["collected"] = status_collected & parsed
    # Looked up by indicator code below, so the groups' order does not matter; a categorical (the table read
    # with its text as categoricals) groups only the codes present.
    grouped = rows.groupby("indicator_code", sort=False, observed=True)
    n_collected = rows[rows["collected"]].groupby("indicator_code", observed=True).size()
    uncollected = (
        rows[~rows["collected"]].groupby("indicator_code", observed=True)["submitter"].agg(lambda s: sorted(set(s)))
    )
    reported = grouped["submitter"].agg(lambda s: set(s))  # type: ignore[type-var]  # stubs: agg results may be sets
    reason = _text(rows.get("deviation_reason", pd.Series(pd.NA, index=rows.index))).fillna("").astype(str)
    with_reason = rows[reason != ""]
    names = _text(with_reason["submitter"]).map(lambda c: (counties or {}).get(c, c))
    reasons = (names + "：" + reason[reason != ""]).groupby(with_reason["indicator_code"], observed=True).agg("；".join)

    out: dict[str, Observation] = {}
    for leaf in framework.leaves:
        if leaf.source.type not in ("county_sum", "county_mean") or leaf.code not in reported.index:
            continue
        absent = sorted(set(counties or ()) - reported[leaf.code])
        short = [(counties or {}).get(c, c) for c in list(uncollected.get(leaf.code, [])) + absent]
        n = int(n_collected.get(leaf.code, 0))
        total = totals.get(leaf.code, Fraction(0))
        value = None if short or n == 0 else (total if leaf.source.type == "county_sum" else total / n)
        out[leaf.code] = Observation(
            value=value,
            missing=f"旗县区未采集或未报送：{'、'.join(short)}",
            deviation_reason=reasons.get(leaf.code),
            basis=f"{n} 个旗县区报送{'合计' if leaf.source.type == 'county_sum' else '平均'}",
        )
    return out


def _text(column: pd.Series) -> pd.Series:
    """A categorical column as its values (objects), for text operations; any other column as it is."""
    return column.astype(object) if isinstance(column.dtype, pd.CategoricalDtype) else column


def _conflicts(framework: Framework, bureau: pd.DataFrame) -> list[dict[str, str]]:
    """Findings for an indicator reported more than once with different values (the first row was used)."""
    if bureau.empty:
        return []
    rows = []
    for code, group in bureau.groupby("indicator_code", sort=False):
        values = {(s, "" if pd.isna(a) else a) for s, a in zip(group["data_status"], group["actual"])}
        if len(values) > 1:
            leaf = framework.leaf(str(code))
            listed = "；".join(f"{s} 报 {'' if pd.isna(a) else a}" for s, a in zip(group["submitter"], group["actual"]))
            rows.append(
                _finding(
                    "indicator_conflicting_actuals",
                    "high",
                    leaf,
                    "",
                    f"指标{_quoted(leaf.name)}被多次报送且数值不一致（{listed}），已采用第一行，请核实。",
                )
            )
    return rows


# ---------------------------------------------------------------------------------------------
# 2. Scoring


def _exact_score(leaf: Leaf, ob: Observation) -> Fraction:
    if ob.value is None:
        return Fraction(0)
    p = leaf.params
    if leaf.method == "qualitative":
        return methods.qualitative(leaf.points, ob.grades, p["shares"])
    assert leaf.target is not None  # the framework file is checked: every other method has a target
    if leaf.method == "proportional":
        return methods.proportional(leaf.points, ob.value, leaf.target, leaf.comparator)
    if leaf.method == "reverse":
        return methods.reverse(leaf.points, ob.value, leaf.target)
    if leaf.method == "banded":
        return methods.banded(leaf.points, ob.value, leaf.target, p["bands"], leaf.comparator)
    return methods.deduction(leaf.points, ob.value, leaf.target, p["step"], p["deduct"], leaf.comparator, p["partial"])


def _show(value: Fraction | Decimal | None, decimals: int | None) -> str | None:
    """Display a value rounded half-up to ``decimals`` places; with None, exactly when it has at
    most two decimals, else rounded half-up to two."""
    if value is None:
        return None
    q = Fraction(value)
    if decimals is None and (q * 100).denominator == 1:
        return str(q.numerator) if q.denominator == 1 else format(Decimal(q.numerator) / Decimal(q.denominator), "f")
    places = 2 if decimals is None else decimals
    return f"{round_half_up(q, places):.{places}f}"


def _status(leaf: Leaf, ob: Observation, performance: bool, exact: Fraction) -> str | None:
    if not performance:
        return None
    if ob.value is None:
        return "not_collected"
    if leaf.method == "qualitative":
        return "met" if exact == leaf.points else "unmet"
    assert leaf.target is not None  # the framework file is checked: every other method has a target
    return "met" if methods.meets(ob.value, leaf.target, leaf.comparator) else "unmet"


def score_observations(
    framework: Framework,
    observations: Mapping[str, Observation],
    inputs: ScoringInputs,
    edges: pd.DataFrame,
) -> ScoreResult:
    """Score observed leaves; build the indicator and dimension tables, findings and lineage."""
    realism = target_realism(framework, inputs.history, inputs.year, inputs.settings)
    dims = {d.code: d for d in framework.dimensions}
    rows = []
    for order, leaf in enumerate(framework.leaves, start=1):
        ob = observations[leaf.code]
        exact = _exact_score(leaf, ob)
        collected = ob.value is not None
        completion = (
            methods.completion_rate(ob.value, leaf.target, leaf.comparator)
            if ob.value is not None and leaf.target is not None and leaf.method != "qualitative"
            else None
        )
        flag, reason = realism.get(leaf.code, ("no_history", None))
        rows.append(
            {
                "framework": framework.name,
                "order": order,
                "code": leaf.code,
                "name": leaf.name,
                "dimension": leaf.dimension,
                "dimension_name": dims[leaf.dimension].name,
                "level2": leaf.level2,
                "unit": leaf.unit,
                "target": _show(leaf.target, leaf.decimals),
                "comparator": leaf.comparator if leaf.target is not None else None,
                "method": leaf.method,
                "source": leaf.source.type + (f":{leaf.source.key}" if leaf.source.key else ""),
                "actual": ("、".join(ob.grades) if leaf.method == "qualitative" else _show(ob.value, leaf.decimals))
                if collected
                else None,
                "completion_rate": percent(completion),
                "points": fmt_score(leaf.points),
                "score": fmt_score(methods.leaf_score(exact)),
                "status": _status(leaf, ob, dims[leaf.dimension].performance, exact),
                "deviation_reason": ob.deviation_reason
                if collected
                else "；".join(filter(None, (ob.missing, ob.deviation_reason))),
                "basis": ob.basis,
                "target_realism": flag,
                "realism_reason": reason,
                "value_kind": leaf.kind,
                "scoring_rule": methods.describe(leaf.method, leaf.params, leaf.comparator, leaf.points),
            }
        )
    table = pd.DataFrame(rows, columns=INDICATOR_COLUMNS)

    leaf_scores = table["score"].map(Decimal)
    dim_rows = []
    for d in framework.dimensions:
        mask = table["dimension"] == d.code
        dim_rows.append(
            {
                "framework": framework.name,
                "code": d.code,
                "name": d.name,
                "weight": fmt_score(d.weight),
                "score": fmt_score(sum(leaf_scores[mask], Decimal(0))),
                "indicator_count": int(mask.sum()),
                "performance": d.performance,
            }
        )
    dimensions = pd.DataFrame(dim_rows, columns=DIMENSION_COLUMNS)
    total = round_half_up(sum(leaf_scores, Decimal(0)))
    grade = methods.grade_for(total, framework.grade_bands)

    finding_rows = _indicator_findings(framework, table) + _conflicts(
        framework, _rows_for(inputs.indicator_actuals, _codes(framework, "bureau"))
    )
    found = findings_mod.frame(finding_rows)
    edges = edge_frames.concat([edges, _finding_edges(found, edges, inputs.history)])
    return ScoreResult(framework, table, dimensions, total, grade, edges, found)


# ---------------------------------------------------------------------------------------------
# Target realism (目标值合理性): the seed's first recommendation, made checkable


def target_realism(
    framework: Framework,
    history: pd.DataFrame | None,
    year: int | None,
    settings: Settings,
) -> dict[str, tuple[str, str | None]]:
    """code → (``unrealistic`` | ``realistic``, reason) for each leaf with a target and earlier years' actuals.

    A target is unrealistic when it lies beyond the best earlier value (above it where higher is
    better, below it where lower is better) or further from the least-squares trend of earlier
    years, extrapolated to the evaluated year, than the tolerance (% of the trend value).
    """
    if history is None or history.empty:
        return {}
    tolerance = Fraction(settings.realism_trend_tolerance_pct) / 100
    year = year or int(history["year"].max()) + 1
    out: dict[str, tuple[str, str | None]] = {}
    for code, rows in history.groupby("indicator_code"):
        try:
            leaf = framework.leaf(str(code))
        except KeyError:
            continue
        if leaf.target is None or leaf.comparator == "=":
            continue
        points = sorted(
            (int(y), Fraction(v)) for y, a in zip(rows["year"], rows["actual"]) if (v := parse_decimal(a)) is not None
        )  # a year left blank has no actual
        if not points:
            continue
        target = Fraction(leaf.target)
        higher = leaf.comparator == ">="
        best_year, best = (max if higher else min)(points, key=lambda p: (p[1], -p[0]) if higher else (p[1], p[0]))
        reasons = []
        if (target > best) if higher else (target < best):
            word = "高于" if higher else "低于"
            reasons.append(
                f"目标值 {_show(target, leaf.decimals)}{leaf.unit} {word}往年最好水平 {_show(best, leaf.decimals)}{leaf.unit}（{best_year}年）"
            )
        trend = _trend(points, year)
        if trend is not None and trend != 0 and abs(target - trend) > tolerance * abs(trend):
            # a trend of people or things is a whole number unless the leaf declares its places
            places = 0 if leaf.kind == "count" and leaf.decimals is None else leaf.decimals
            reasons.append(
                f"目标值偏离往年趋势值 {_show(trend, places)}{leaf.unit}（{year}年）超过 {_show(tolerance * 100, None)}%"
            )
        out[str(code)] = ("unrealistic", "；".join(reasons)) if reasons else ("realistic", None)
    return out


def _trend(points: Sequence[tuple[int, Fraction]], year: int) -> Fraction | None:
    """Least-squares line through (year, actual), evaluated at ``year``; None with fewer than two years."""
    if len({y for y, _ in points}) < 2:
        return None
    n = len(points)
    mean_x = Fraction(sum(y for y, _ in points), n)
    mean_y = sum((v for _, v in points), Fraction(0)) / n
    slope = sum(((y - mean_x) * (v - mean_y) for y, v in points), Fraction(0)) / sum(
        (y - mean_x) ** 2 for y, _ in points
    )
    return mean_y + slope * (year - mean_x)


# ---------------------------------------------------------------------------------------------
# Findings and their lineage


def _quoted(name: str) -> str:
    """A name in “ ” unless it already carries them (“一网通办”…), which would double the marks."""
    return name if "“" in name else f"“{name}”"


def _finding(code: str, severity: str, leaf: Leaf, figure: str, message: str, points_lost: str = "") -> dict[str, str]:
    return {
        "code": code,
        "severity": severity,
        "subject_type": "indicator",
        "subject": leaf.code,
        "figure": figure,
        "message": message,
        "points_lost": points_lost,
    }


def _indicator_findings(framework: Framework, table: pd.DataFrame) -> list[dict[str, str]]:
    rows = []
    for r in table.itertuples(index=False):
        leaf = framework.leaf(str(r.code))
        cmp = {">=": "≥", "<=": "≤", "=": "="}.get(str(r.comparator or ""), "")
        target = f"{cmp}{r.target!s}{r.unit!s}"
        why = f"偏差原因：{r.deviation_reason!s}" if r.deviation_reason else "未说明偏差原因"
        if r.status == "unmet":
            rate = f"，完成率 {r.completion_rate!s}%" if r.completion_rate is not None else ""
            rows.append(
                _finding(
                    "indicator_unmet",
                    "medium",
                    leaf,
                    str(r.actual or ""),
                    f"指标{_quoted(str(r.name))}未完成目标值：目标 {target}，实际 {r.actual}{r.unit}{rate}，"
                    f"得 {r.score} 分（满分 {r.points} 分）。{why}。",
                    _lost(r),
                )
            )
        elif r.actual is None:
            rows.append(
                _finding(
                    "indicator_not_collected",
                    "medium",
                    leaf,
                    "",
                    f"指标{_quoted(str(r.name))}未完成数据采集统计（{r.deviation_reason}），不得分（满分 {r.points} 分）。",
                    _lost(r),
                )
            )
        if r.target_realism == "unrealistic":
            rows.append(
                _finding(
                    "target_unrealistic",
                    "medium",
                    leaf,
                    str(r.target),
                    f"指标{_quoted(str(r.name))}年度指标值超出往年实际水平：{r.realism_reason}。",
                    # the points an unrealistic target cost, where it was not reached; none where it was
                    _lost(r) if r.status in ("unmet", "not_collected") else "0.00",
                )
            )
    return rows


def _lost(r: Any) -> str:
    """Points the leaf did not score (its score at stake), as printed."""
    return fmt_score(Decimal(r.points) - Decimal(r.score))


def _finding_edges(found: pd.DataFrame, indicator_edges: pd.DataFrame, history: pd.DataFrame | None) -> pd.DataFrame:
    """A finding points at the rows of its indicator; a realism finding at the history rows."""
    data = found.loc[found["code"] != "target_unrealistic", ["finding_id", "subject"]]
    linked = data.merge(indicator_edges, left_on="subject", right_on="output_key")
    parts = [linked.assign(output_table="findings", output_key=linked["finding_id"])[EDGE_COLUMNS]]
    realism = found.loc[found["code"] == "target_unrealistic", ["finding_id", "subject"]]
    if history is not None and not history.empty:
        hist = realism.merge(history, left_on="subject", right_on="indicator_code")
        parts.append(lineage_edges(hist, "history", hist["finding_id"], "target_realism", "findings"))
    return edge_frames.concat(parts)


# ---------------------------------------------------------------------------------------------
# summary.json and what-if


def summary(primary: ScoreResult, alternatives: Mapping[str, ScoreResult] | None = None) -> dict[str, Any]:
    """The ``score`` and ``indicators`` blocks of summary.json; other frameworks go under ``score.alternatives``."""
    t = primary.indicators
    perf = t[t["status"].notna()]
    by_code = {
        r.code: {
            "name": r.name,
            "dimension": r.dimension,
            "target": r.target,
            "actual": r.actual,
            "status": r.status,
            "points": r.points,
            "score": r.score,
        }
        for r in t.itertuples(index=False)
    }
    return {
        "score": {
            **primary.score_block(),
            "alternatives": {name: result.score_block() for name, result in (alternatives or {}).items()},
        },
        "indicators": {
            "unmet": list(perf.loc[perf["status"] == "unmet", "name"]),
            "not_collected": list(perf.loc[perf["status"] == "not_collected", "name"]),
            "met_count": int((perf["status"] == "met").sum()),
            "total_count": int(len(perf)),
            "by_code": by_code,
        },
    }


@dataclasses.dataclass(frozen=True, eq=False)  # DataFrames have no single truth value
class WhatIf:
    """How scores move when some actuals are overridden: only the changed leaves are listed."""

    leaves: pd.DataFrame
    dimensions: pd.DataFrame
    total: tuple[str, str]
    grade: tuple[str, str]

    def text(self) -> str:
        lines = ["指标 / indicator: 实际 actual, 得分 score"]
        for r in self.leaves.itertuples(index=False):
            before, after = (_shown(v) for v in (r.actual_before, r.actual_after))
            lines.append(f"  {r.code} {r.name}: {before} → {after}, {r.score_before} → {r.score_after} ({r.delta})")
        lines.append("维度 / dimension:")
        for r in self.dimensions.itertuples(index=False):
            lines.append(f"  {r.code} {r.name}: {r.score_before} → {r.score_after} ({r.delta})")
        lines.append(f"总分 / total: {self.total[0]} → {self.total[1]}")
        lines.append(f"等级 / grade: {self.grade[0]} → {self.grade[1]}")
        return "\n".join(lines)


NOT_COLLECTED_OVERRIDES = ("", "未采集", "not_collected")


def _shown(actual: object) -> str:
    """An actual as the what-if prints it: a value, or 未采集 where there is none."""
    return "未采集" if actual is None or (isinstance(actual, float) and actual != actual) else str(actual)


def override(leaf: Leaf, value: str) -> Observation:
    """An observation from a what-if value: a number in the leaf's unit, grades for a qualitative
    leaf (``好`` or ``好,较好,一般``), or ``未采集`` for not collected."""
    text = value.strip()
    if text in NOT_COLLECTED_OVERRIDES:
        return Observation(value=None, missing="假设未采集", basis="假设 what-if")
    if leaf.method == "qualitative":
        grades = tuple(g.strip() for g in text.replace("，", ",").split(","))
        unknown = [g for g in grades if g not in leaf.params["shares"]]
        if unknown:
            raise ValueError(f"{leaf.code}: 等级应为 好/较好/一般/差，收到 {'、'.join(unknown)}")
        return Observation(value=Fraction(1), grades=grades, basis="假设 what-if")
    try:
        number = parse_decimal(text)
        assert number is not None  # text is not empty (empty is "not collected", above)
        return Observation(value=Fraction(number), basis="假设 what-if")
    except InvalidOperation:
        raise ValueError(f"{leaf.code}: '{value}' 不是数值 / not a number") from None


def what_if(framework: Framework, inputs: ScoringInputs, overrides: Mapping[str, str]) -> WhatIf:
    """Score with and without the overrides ``{code: value}`` and report the movement; writes nothing."""
    unknown = [code for code in overrides if code not in framework.codes]
    if unknown:
        raise ValueError(f"指标体系 {framework.name} 中没有指标 {', '.join(unknown)} / unknown indicator codes")
    observations, edges = observe(framework, inputs)
    changed = {code: override(framework.leaf(code), value) for code, value in overrides.items()}
    before = score_observations(framework, observations, inputs, edges)
    after = score_observations(framework, {**observations, **changed}, inputs, edges)

    b, a = before.indicators.set_index("code"), after.indicators.set_index("code")
    moved = [c for c in framework.codes if c in changed or b.at[c, "score"] != a.at[c, "score"]]
    leaves = pd.DataFrame(
        {
            "code": moved,
            "name": [b.at[c, "name"] for c in moved],
            "actual_before": [b.at[c, "actual"] for c in moved],
            "actual_after": [a.at[c, "actual"] for c in moved],
            "score_before": [b.at[c, "score"] for c in moved],
            "score_after": [a.at[c, "score"] for c in moved],
            "status_before": [b.at[c, "status"] for c in moved],
            "status_after": [a.at[c, "status"] for c in moved],
        }
    )
    leaves["delta"] = [_delta(x, y) for x, y in zip(leaves["score_before"], leaves["score_after"])]
    dims = before.dimensions[["code", "name", "score"]].rename(columns={"score": "score_before"})
    dims["score_after"] = list(after.dimensions["score"])
    dims["delta"] = [_delta(x, y) for x, y in zip(dims["score_before"], dims["score_after"])]
    return WhatIf(
        leaves=leaves,
        dimensions=dims.reset_index(drop=True),
        total=(fmt_score(before.total), fmt_score(after.total)),
        grade=(before.grade, after.grade),
    )


def _delta(before: str, after: str) -> str:
    return f"{Decimal(after) - Decimal(before):+.2f}"


def dimensions_add_up(results: Mapping[str, ScoreResult]) -> Check:
    """The printed table adds up: leaves → dimensions → total, for every framework."""
    problems = []
    for name, r in results.items():
        leaves = r.indicators.groupby("dimension")["score"].apply(lambda s: sum(Decimal(x) for x in s))
        for d in r.dimensions.itertuples():
            if Decimal(str(d.score)) != leaves.get(d.code, Decimal(0)):
                problems.append(f"{name}.{d.code}: {d.score} ≠ Σ leaves {leaves.get(d.code)}")
        if sum(Decimal(x) for x in r.dimensions["score"]) != r.total:
            problems.append(f"{name}: total {r.total} ≠ Σ dimensions")
    return Check(
        "dimension_scores",
        "dimensions_add_up",
        not problems,
        {"problems": problems, "totals": {n: str(r.total) for n, r in results.items()}},
    )
