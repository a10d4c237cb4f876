"""The monitoring figures as of the cut-off: time progress, execution lines, indicator lines, findings.

Definitions in :mod:`pipeline.monitoring`. Money is integer 分; progress is an exact ``Fraction`` until
it is printed as a two-decimal percentage (half-up), and gaps are differences of printed percentages.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pandas as pd

from pipeline import findings as findings_mod
from pipeline.config import MonitoringSettings
from pipeline.evaluation import Evaluation
from pipeline.formats import parse_decimal, round_half_up
from pipeline.reconcile import reconcile
from pipeline.reconcile.facts import INPUT_KINDS, input_facts, input_table
from pipeline.scoring.framework import Leaf
from pipeline.tables import LINEAGE_COLUMNS, columns

GREEN, YELLOW, RED = "绿", "黄", "红"
LEVEL_ORDER = {RED: 0, YELLOW: 1, GREEN: 2}
IMPOSSIBLE = "完全不可能"
# Execution lines, by level: the reconciliation table, its key column and its name column.
EXECUTION_LEVELS = {
    "source": ("by_source", "source_label"),
    "subproject": ("by_subproject", "subproject_name"),
    "county": ("by_county", "county_name"),
}
LEVEL_LABELS = {"programme": "项目", "source": "资金来源", "subproject": "子项目", "county": "旗县区"}
FINDING_CODE = {RED: "monitoring_red", YELLOW: "monitoring_yellow"}
FINDING_SEVERITY = {RED: "high", YELLOW: "medium"}


def months_elapsed(cutoff: dt.date) -> int:
    """Full months of the cut-off's year completed by the cut-off (a cut-off on a month's last day completes it)."""
    last_day = calendar.monthrange(cutoff.year, cutoff.month)[1]
    return cutoff.month if cutoff.day == last_day else cutoff.month - 1


def time_progress(cutoff: dt.date, settings: MonitoringSettings) -> Fraction:
    """序时进度 as a fraction of the year, by the declared basis."""
    if settings.time_progress == "days":
        year_days = 366 if calendar.isleap(cutoff.year) else 365
        return Fraction(cutoff.timetuple().tm_yday, year_days)
    months = months_elapsed(cutoff)
    if settings.time_progress == "plan":
        assert settings.plan_cumulative_pct is not None  # the settings model requires it for "plan"
        return Fraction(settings.plan_cumulative_pct[months - 1]) / 100 if months else Fraction(0)
    return Fraction(months, 12)


def pct(value: Fraction | None) -> Decimal | None:
    """A fraction as a percentage with two decimals, half-up."""
    return None if value is None else round_half_up(value * 100)


def level(gap: Decimal | None, settings: MonitoringSettings) -> str:
    """绿 / 黄 / 红 from how many percentage points progress trails (a positive gap trails)."""
    if gap is None:
        return GREEN
    if gap > settings.red_gap_pct:
        return RED
    if gap > settings.yellow_gap_pct:
        return YELLOW
    return GREEN


def _text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


@dataclasses.dataclass(frozen=True)
class Monitoring:
    """Every table of one monitoring cut-off, and its summary block."""

    execution: pd.DataFrame  # columns("monitoring_execution")
    indicators: pd.DataFrame  # columns("monitoring_indicators")
    excluded: pd.DataFrame  # columns("monitoring_excluded")
    findings: pd.DataFrame  # pipeline.findings.COLUMNS
    lineage: pd.DataFrame  # LINEAGE_COLUMNS: every line and finding → the submission rows behind it
    summary: dict[str, Any]  # the ``monitoring`` block of summary.json


def split_at_cutoff(
    tables: Mapping[str, pd.DataFrame], cutoff: dt.date
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The money tables with rows dated up to the cut-off, and the later rows (one line each, never dropped)."""
    limit = pd.Timestamp(cutoff)
    kept: dict[str, pd.DataFrame] = {}
    later = []
    for kind in INPUT_KINDS:
        df = input_table(tables, kind)
        if "date" not in df:
            kept[kind] = df
            continue
        after = df["date"] > limit
        kept[kind] = df[~after].reset_index(drop=True)
        rows = df[after]
        later.append(
            pd.DataFrame(
                {
                    "kind": kind,
                    "file": rows["file"].astype(str),
                    "sheet": rows["sheet"].astype(str),
                    "row": rows["row"].astype("int64"),
                    "date": rows["date"].astype("datetime64[ns]"),
                    "source_code": rows["source_code"].astype(str),
                    "subproject_code": rows["subproject_code"].astype(str),
                    "amount_fen": rows["amount_fen"].astype("int64"),
                }
            )
        )
    excluded = pd.concat(later, ignore_index=True) if later else pd.DataFrame(columns=columns("monitoring_excluded"))
    excluded = excluded.sort_values(["file", "sheet", "row"], kind="stable").reset_index(drop=True)
    return kept, excluded[columns("monitoring_excluded")]


def execution_lines(
    tables: Mapping[str, pd.DataFrame], ev: Evaluation, progress: Fraction, settings: MonitoringSettings
) -> pd.DataFrame:
    """One line for the programme, then each source, sub-project and county: planned, spent to date, rates, level."""
    rec = reconcile(tables, ev)
    parts = []
    for level_name, (attr, name_column) in EXECUTION_LEVELS.items():
        t = getattr(rec, attr)
        parts.append(
            pd.DataFrame(
                {
                    "level": level_name,
                    "key": t["key"].astype(str),
                    "name": t[name_column].astype(str),
                    "planned": t["planned"].astype("int64"),
                    "spent": t["spent"].astype("int64"),
                }
            )
        )
    lines = pd.concat(parts, ignore_index=True)
    total = pd.DataFrame(
        {
            "level": ["programme"],
            "key": [ev.programme_id],
            "name": [ev.config.programme],
            "planned": [int(rec.by_source["planned"].sum())],
            "spent": [int(rec.by_source["spent"].sum())],
        }
    )
    lines = pd.concat([total, lines], ignore_index=True)
    shown_progress = pct(progress)
    rates = [pct(Fraction(int(s), int(p))) if p else None for s, p in zip(lines["spent"], lines["planned"])]
    gaps = [None if r is None or shown_progress is None else shown_progress - r for r in rates]
    lines["execution_rate"] = [_text(r) for r in rates]
    lines["time_progress"] = _text(shown_progress)
    lines["gap"] = [_text(g) for g in gaps]
    # 全年预计执行数: straight line from the time progress; 分 half-up (exact on integers)
    lines["projected_spent"] = pd.array(
        [int(round_half_up(Fraction(int(s)) / progress, 0)) if progress else None for s in lines["spent"]],
        dtype="Int64",
    )
    due = [Fraction(int(p)) * progress for p in lines["planned"]]
    lines["lag_fen"] = pd.array(
        [max(0, int(round_half_up(d, 0)) - int(s)) for d, s in zip(due, lines["spent"])], dtype="int64"
    )
    lines["deviation_level"] = [level(g, settings) if p else GREEN for g, p in zip(gaps, lines["planned"])]
    return lines[columns("monitoring_execution")]


def _places(text: str) -> int:
    return len(text.split(".", 1)[1]) if "." in text else 0


def _cumulative(leaf: Leaf) -> bool:
    """A count that accumulates over the year (compared with time progress), not a level such as a rate."""
    return leaf.comparator == ">=" and leaf.unit != "%"


def _completion(value: Decimal | None, leaf: Leaf) -> Fraction | None:
    target = leaf.target
    if value is None or target is None:
        return None
    if leaf.comparator == "<=":
        return Fraction(target) / Fraction(value) if value else None
    return Fraction(value) / Fraction(target) if target else None


def indicator_lines(
    submitted: pd.DataFrame,
    leaves: Mapping[str, tuple[Leaf, str]],
    progress: Fraction,
    settings: MonitoringSettings,
) -> pd.DataFrame:
    """One line per indicator of the 绩效监控表, in the framework's order, with its progress and level;
    ``leaves``: indicator code → its leaf and the name of its dimension (一级指标)."""
    order = {code: i for i, code in enumerate(leaves)}
    rows = submitted.assign(_order=submitted["indicator_code"].map(order)).sort_values("_order", kind="stable")
    shown_progress = pct(progress)
    out = []
    for r in rows.to_dict("records"):  # one row per indicator: tens of rows, never national-scale
        leaf, dimension = leaves[r["indicator_code"]]
        actual = parse_decimal(r["actual_to_date"])
        given = parse_decimal(None if pd.isna(r["projected_annual"]) else r["projected_annual"])
        cumulative = _cumulative(leaf)
        # a straight line keeps the framework's decimals, else as many as the unit wrote
        places = leaf.decimals if leaf.decimals is not None else _places(r["actual_to_date"])
        projection: Decimal | None
        if given is not None:
            projection, basis = given, "单位预计"
        elif actual is not None and cumulative:
            projection = round_half_up(Fraction(actual) / progress, places) if progress else None
            basis = "直线推算"
        else:
            projection, basis = actual, "直线推算"
        done = pct(_completion(actual, leaf))
        expected = shown_progress if cumulative else Decimal("100.00")
        gap = None if done is None or expected is None else expected - done
        lvl = RED if r["likelihood"] == IMPOSSIBLE else level(gap, settings)
        out.append(
            {
                "indicator_code": leaf.code,
                "name": leaf.name,
                "level1": dimension,
                "level2": leaf.level2,
                "unit": leaf.unit,
                "comparator": leaf.comparator,
                "target": None if leaf.target is None else str(leaf.target),
                "actual_to_date": None if actual is None else str(actual),
                "projected_annual": None if projection is None else str(projection),
                "projection_basis": basis,
                "completion_to_date": _text(done),
                "projected_completion": _text(pct(_completion(projection, leaf))),
                "expected_progress": _text(expected),
                "gap": _text(gap),
                "likelihood": r["likelihood"],
                "deviation_cause": "" if pd.isna(r["deviation_cause"]) else r["deviation_cause"],
                "deviation_note": "" if pd.isna(r["deviation_note"]) else r["deviation_note"],
                "deviation_level": lvl,
                "file": r["file"],
                "sheet": r["sheet"],
                "row": int(r["row"]),
            }
        )
    df = pd.DataFrame(out, columns=columns("monitoring_indicators"))
    return df.astype({"row": "int64"})


def monitoring_findings(execution: pd.DataFrame, indicators: pd.DataFrame, excluded: pd.DataFrame) -> pd.DataFrame:
    """黄 and 红 lines as findings (money at stake: the shortfall against time progress), and rows after the cut-off."""
    rows: list[dict[str, Any]] = []
    behind = execution[execution["deviation_level"] != GREEN]
    for r in behind.to_dict("records"):
        rows.append(
            {
                "code": FINDING_CODE[r["deviation_level"]],
                "severity": FINDING_SEVERITY[r["deviation_level"]],
                "subject_type": r["level"],
                "subject": f"{r['level']}:{r['key']}",
                "figure": r["execution_rate"] or "",
                "message": f"{LEVEL_LABELS[r['level']]}“{r['name']}”截至监控截止日执行率 {r['execution_rate']}%，"
                f"落后序时进度 {r['time_progress']}% 共 {r['gap']} 个百分点（{r['deviation_level']}色预警）",
                "stake_fen": int(r["lag_fen"]),
            }
        )
    for r in indicators[indicators["deviation_level"] != GREEN].to_dict("records"):
        why = "；单位判断完全不可能完成年度目标" if r["likelihood"] == IMPOSSIBLE else ""
        rows.append(
            {
                "code": FINDING_CODE[r["deviation_level"]],
                "severity": FINDING_SEVERITY[r["deviation_level"]],
                "subject_type": "indicator",
                "subject": f"indicator:{r['indicator_code']}",
                "figure": r["completion_to_date"] or "",
                "message": f"指标“{r['name']}”截至监控截止日完成 {r['actual_to_date'] or '—'}{r['unit']}"
                f"（年度指标值 {r['target']}{r['unit']} 的 {r['completion_to_date'] or '—'}%，应达 {r['expected_progress']}%）"
                f"{why}（{r['deviation_level']}色预警）",
            }
        )
    if len(excluded):
        by_file = excluded.groupby("file", sort=True).agg(n=("row", "size"), amount=("amount_fen", "sum"))
        for r in by_file.reset_index().to_dict("records"):
            file = r["file"]
            rows.append(
                {
                    "code": "rows_after_cutoff",
                    "severity": "low",
                    "subject_type": "file",
                    "subject": str(file),
                    "figure": str(int(r["n"])),
                    "message": f"{file} 中有 {int(r['n'])} 行日期晚于监控截止日，未计入本期监控（已单列）",
                    "stake_fen": int(r["amount"]),
                }
            )
    return findings_mod.frame(rows)


def _edges(
    table: str, keys: pd.Series | str, rows: pd.DataFrame, measure: pd.Series | str, kind: pd.Series | str
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "output_table": table,
            "output_key": keys,
            "measure": measure,
            "input_kind": kind,
            "file": rows["file"].astype(str),
            "sheet": rows["sheet"].astype(str),
            "row": rows["row"].astype("int64"),
        },
        index=rows.index,
    )[LINEAGE_COLUMNS]


def lineage_edges(
    to_date: Mapping[str, pd.DataFrame],
    ev: Evaluation,
    indicators: pd.DataFrame,
    excluded: pd.DataFrame,
    found: pd.DataFrame,
) -> pd.DataFrame:
    """Edges from each execution line (``level:key``), indicator line and finding to the submission rows behind it:
    the fund plan and payments up to the cut-off, the 绩效监控表 row, the rows after the cut-off."""
    facts = input_facts(to_date, ev.city_code)
    facts = facts[facts["measure"].isin(["planned", "spent"])].reset_index(drop=True)
    measure, kind = facts["measure"].astype(str), facts["input_kind"].astype(str)
    execution = [
        _edges("monitoring_execution", f"programme:{ev.programme_id}", facts, measure, kind),
        *(
            _edges("monitoring_execution", lvl + ":" + facts[f"{lvl}_code"].astype(str), facts, measure, kind)
            for lvl in EXECUTION_LEVELS
        ),
    ]
    execution_edges = pd.concat(execution, ignore_index=True)
    indicator_edges = _edges(
        "monitoring_indicators", indicators["indicator_code"], indicators, "actual_to_date", "indicator_monitoring"
    )
    # a finding's subject is its line's ``level:key``; an indicator's is ``indicator:<code>``; a file's its rows
    by_line = pd.concat(
        [execution_edges, indicator_edges.assign(output_key="indicator:" + indicator_edges["output_key"])],
        ignore_index=True,
    )
    linked = found[["finding_id", "subject"]].merge(by_line, left_on="subject", right_on="output_key")
    after = found[found["code"] == "rows_after_cutoff"][["finding_id", "subject"]].merge(
        excluded, left_on="subject", right_on="file"
    )
    finding_edges = pd.concat(
        [
            linked.assign(output_table="monitoring_findings", output_key=linked["finding_id"])[LINEAGE_COLUMNS],
            _edges("monitoring_findings", after["finding_id"], after, "amount", after["kind"]),
        ],
        ignore_index=True,
    )
    return pd.concat([execution_edges, indicator_edges, finding_edges], ignore_index=True)


def monitor(tables: Mapping[str, pd.DataFrame], ev: Evaluation) -> Monitoring:
    """The monitoring tables of a folder with a monitoring cut-off."""
    cutoff = ev.monitoring_cutoff
    assert cutoff is not None
    settings = ev.settings.monitoring
    progress = time_progress(cutoff, settings)
    to_date, excluded = split_at_cutoff(tables, cutoff)
    execution = execution_lines(to_date, ev, progress, settings)
    # the primary framework's leaves first: the contract accepts a code any of the frameworks declares
    leaves: dict[str, tuple[Leaf, str]] = {}
    for name in ev.framework_names:
        framework = ev.frameworks[name]
        for leaf in framework.leaves:
            leaves.setdefault(leaf.code, (leaf, framework.dimension(leaf.dimension).name))
    submitted = input_table(tables, "indicator_monitoring")
    indicators = indicator_lines(submitted, leaves, progress, settings)
    found = monitoring_findings(execution, indicators, excluded)
    lineage = lineage_edges(to_date, ev, indicators, excluded, found)
    programme = execution.iloc[0]
    summary = {
        "cutoff": cutoff.isoformat(),
        "programme_id": ev.programme_id,
        "time_progress_basis": settings.time_progress,
        "time_progress": _text(pct(progress)),
        "planned": str(int(programme["planned"])),
        "spent": str(int(programme["spent"])),
        "execution_rate": programme["execution_rate"],
        "deviation_level": programme["deviation_level"],
        "lines": {
            lvl: int(n)
            for lvl, n in pd.concat([execution["deviation_level"], indicators["deviation_level"]])
            .value_counts()
            .sort_index()
            .items()
        },
        "rows_excluded_after_cutoff": int(len(excluded)),
        "amount_excluded_after_cutoff": str(int(excluded["amount_fen"].sum())),
    }
    return Monitoring(execution, indicators, excluded, found, lineage, summary)
