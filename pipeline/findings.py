"""Findings: one row per condition an evaluator must report, with a Chinese sentence.

Every stage (ingest, reconciliation, scoring) emits findings in this one shape; nothing else
does. Each finding carries what is at stake — money (``stake_fen``, integer 分) or points
(``points_lost``, the leaf's points minus its score) — and :func:`assess` then gives it

- ``rule``: the detection rule that raised it, in Chinese, from :data:`DETECTION_RULES` and the
  evaluation's settings (``到位率低于 60%`` …);
- ``severity`` and ``severity_rule``: from the declared severity rules (:data:`DEFAULT_SEVERITY_RULES`,
  replaced as a whole by ``settings: severity_rules:`` in ``evaluation.yaml``), the first rule
  that matches wins, e.g. money at stake ≥ 10 % of the programme's planned funds → 高.

The report only selects, groups and words these rows; it never raises a finding of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import pandas as pd

from pipeline.tables import columns

if TYPE_CHECKING:
    from pipeline.config import Settings

# Severity: 高 needs action before the report is signed, 中 belongs in the report, 低 is a note.
SEVERITIES = ("high", "medium", "low")
SEVERITY_LABELS = {"high": "高", "medium": "中", "low": "低"}

EMITTED = ["code", "severity", "subject_type", "subject", "figure", "message"]
COLUMNS = columns("findings")

# The rule behind each code, in Chinese; ``{name}`` fields come from the evaluation's settings.
DETECTION_RULES: dict[str, str] = {
    "low_arrival": "资金来源到位率低于 {arrival_rate_threshold}%",
    "low_execution_source": "资金来源预算执行率低于 {execution_rate_threshold}%",
    "low_execution_subproject": "子项目预算执行率低于 {execution_rate_threshold}%",
    "funds_recovered": "资金来源存在收回金额",
    "county_matching_short": "旗县区配套资金到位少于资金计划",
    "county_plan_differs": "旗县区报送的配套计划与资金计划不一致",
    "allocation_differs": "子项目登记资金额与资金计划合计不一致",
    "negative_balance": "到位 + 下拨转入 − 下拨转出 − 支出 − 结转 − 收回 < 0",
    "arrival_over_100_source": "资金来源到位超过计划",
    "arrival_over_100_subproject": "子项目到位超过计划",
    "execution_over_100_source": "资金来源支出超过执行率分母",
    "execution_over_100_subproject": "子项目支出超过执行率分母",
    "amount_differs": "同一下拨文号的市级下拨与旗县区到位金额不等",
    "duplicate_receipt": "旗县区到位记录重复登记已配对的市级下拨",
    "unmatched_transfer": "市级下拨在 {transfer_match_window_days} 天内无对应的旗县区到位记录",
    "unmatched_receipt": "旗县区到位（市级下拨）无对应的市级下拨记录",
    "indicator_unmet": "实际完成值未达到年度指标值",
    "indicator_not_collected": "实际完成值未采集或未报送",
    "indicator_conflicting_actuals": "同一指标被多次报送且数值不一致",
    "target_unrealistic": "年度指标值超出往年最好水平或偏离往年趋势超过 {realism_trend_tolerance_pct}%",
    "subproject_delayed": "项目办上报实施状态为延后实施或暂停实施",
    "subproject_extended": "计划完成时间调整后截至截止日仍在实施",
    "subproject_status_conflict": "上报实施状态与完成日期矛盾",
    "archive_not_synced": "旗县区档案清单中有未同步至总项目管理组的资料",
    "submission_missing": "应报资料未报送",
    "file_rejected": "报送文件整份无法使用",
    "sheet_rejected": "报送文件中有工作表无法使用",
    "file_unrecognised": "文件名不符合报送命名规则",
    "rows_quarantined": "报送数据行未通过校验",
    "file_warning": "报送文件格式不规范",
    "monitoring_red": "监控截止日进度落后序时进度（或应达进度）超过红色预警阈值，或单位判断完全不可能完成目标",
    "monitoring_yellow": "监控截止日进度落后序时进度（或应达进度）超过黄色预警阈值",
    "rows_after_cutoff": "报送的资金行日期晚于监控截止日（未计入本期）",
}

# Ordered; the first rule that matches a finding gives its severity. Conditions in one rule all
# hold (AND): ``codes`` (the finding's code is one of them), ``min_stake_share_pct`` (money at
# stake ≥ this % of the programme's planned funds), ``min_points_lost_pct`` (points lost ≥ this %
# of the indicator's points). A rule with no condition matches every finding.
DEFAULT_SEVERITY_RULES: tuple[dict[str, Any], ...] = (
    # In-year monitoring: the warning colour is the severity; rows after the cut-off are a note.
    {"name": "绩效运行监控红色预警", "codes": ["monitoring_red"], "severity": "high"},
    {"name": "绩效运行监控黄色预警", "codes": ["monitoring_yellow"], "severity": "medium"},
    {"name": "截止日后的资金行（提示）", "codes": ["rows_after_cutoff"], "severity": "low"},
    {"name": "涉及资金占计划总额 10% 及以上", "min_stake_share_pct": 10, "severity": "high"},
    {"name": "失分达到指标分值的 50% 及以上", "min_points_lost_pct": 50, "severity": "high"},
    {
        "name": "影响资金安全或评价依据完整",
        "severity": "high",
        "codes": [
            "submission_missing",
            "file_rejected",
            "sheet_rejected",
            "negative_balance",
            "amount_differs",
            "duplicate_receipt",
            "unmatched_transfer",
            "indicator_conflicting_actuals",
            "subproject_status_conflict",
        ],
    },
    {"name": "涉及资金占计划总额 1% 及以上", "min_stake_share_pct": 1, "severity": "medium"},
    {"name": "失分达到指标分值的 10% 及以上", "min_points_lost_pct": 10, "severity": "medium"},
    {
        "name": "管理或数据规范问题",
        "severity": "medium",
        "codes": [
            "archive_not_synced",
            "rows_quarantined",
            "unmatched_receipt",
            "file_unrecognised",
            "allocation_differs",
            "county_plan_differs",
            "arrival_over_100_source",
            "arrival_over_100_subproject",
            "execution_over_100_source",
            "execution_over_100_subproject",
        ],
    },
    {"name": "其他", "severity": "low"},
)


def frame(rows: list[dict] | pd.DataFrame) -> pd.DataFrame:
    """Findings as a DataFrame in a stable order (code, then subject: numeric codes numerically).

    Each row needs ``code``, ``severity``, ``subject_type``, ``subject``, ``figure`` and
    ``message``, and may give ``stake_fen`` (money at stake, integer 分) and ``points_lost``
    (decimal text); ``finding_id`` is ``code:subject`` so lineage edges can point at it.
    ``rule`` and ``severity_rule`` stay empty until :func:`assess`. Vectorised: a national run
    can produce hundreds of thousands of findings.
    """
    df = (
        rows.copy()
        if isinstance(rows, pd.DataFrame)
        else pd.DataFrame(rows, columns=EMITTED + ["stake_fen", "points_lost"])
    )
    if df.empty:
        return _typed(pd.DataFrame(columns=COLUMNS))
    bad = set(df["severity"]) - set(SEVERITIES)
    if bad:
        raise ValueError(f"unknown severity {sorted(bad)}")
    for column in ("stake_fen", "points_lost", "rule", "severity_rule"):
        if column not in df:
            df[column] = None
    df["subject"] = df["subject"].astype(str)
    df["figure"] = df["figure"].fillna("").astype(str)
    df["finding_id"] = df["code"] + ":" + df["subject"]
    df["_num"] = pd.to_numeric(df["subject"].where(df["subject"].str.fullmatch(r"\d{1,15}")), errors="coerce")
    df = df.sort_values(["code", "_num", "subject"], na_position="last", kind="stable")
    return _typed(df[COLUMNS].reset_index(drop=True))


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    """Money at stake as nullable integers of 分; the text columns as text ("" where empty)."""
    df = df.copy()
    df["stake_fen"] = pd.array([None if _missing(v) else int(v) for v in df["stake_fen"]], dtype="Int64")
    for column in ("finding_id", *EMITTED, "points_lost", "rule", "severity_rule"):
        df[column] = [("" if _missing(v) else str(v)) for v in df[column]] if len(df) else pd.Series(dtype=object)
        df[column] = df[column].astype(object)
    return df


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value))


def concat(*frames: pd.DataFrame) -> pd.DataFrame:
    parts = [frame(f) if set(f.columns) != set(COLUMNS) else f for f in frames if not f.empty]
    if not parts:
        return frame([])
    return _typed(pd.concat([p[COLUMNS] for p in parts], ignore_index=True))


def severity_rules(settings: Settings) -> list[dict[str, Any]]:
    """The evaluation's severity rules (``settings: severity_rules:``, validated at load) or the defaults."""
    if settings.severity_rules is None:
        return [dict(r) for r in DEFAULT_SEVERITY_RULES]
    return [
        r.model_dump(exclude_none=True, exclude_defaults=True) | {"severity": r.severity}
        for r in settings.severity_rules
    ]


def assess(
    findings: pd.DataFrame, settings: Settings, planned_fen: int, points: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Give every finding its detection rule and its severity from the declared rules.

    ``planned_fen`` is the programme's planned funds (the base of ``min_stake_share_pct``);
    ``points`` maps an indicator code to its points (the base of ``min_points_lost_pct``).
    Vectorised per rule.
    """
    df = frame(findings) if set(findings.columns) != set(COLUMNS) else findings.copy()
    if df.empty:
        return df
    values = {k: v for k, v in settings.model_dump().items() if isinstance(v, (str, int, Decimal))}
    df["rule"] = [DETECTION_RULES.get(c, c).format_map(_Defaulted(values)) for c in df["code"]]
    lost = pd.Series([_fraction(v) for v in df["points_lost"]], index=df.index, dtype=object)
    base = df["subject"].map(dict(points or {})).map(_fraction)
    lost_pct = pd.Series(
        [(x * 100 / b) if x is not None and b else None for x, b in zip(lost, base)], index=df.index, dtype=object
    )
    open_ = pd.Series(True, index=df.index)
    severity = df["severity"].copy()
    used = pd.Series("", index=df.index, dtype=object)
    for r in severity_rules(settings):
        hit = open_.copy()
        if "codes" in r:
            hit &= df["code"].isin(list(r["codes"]))
        if "min_stake_share_pct" in r:
            # exact: stake × 100 × q ≥ p × planned for a threshold p/q, on Python integers
            t = Fraction(str(r["min_stake_share_pct"]))
            hit &= pd.Series(
                [
                    v is not pd.NA
                    and v is not None
                    and planned_fen > 0
                    and int(v) * 100 * t.denominator >= t.numerator * planned_fen
                    for v in df["stake_fen"]
                ],
                index=df.index,
            )
        if "min_points_lost_pct" in r:
            t = Fraction(str(r["min_points_lost_pct"]))
            hit &= pd.Series([p is not None and p >= t for p in lost_pct], index=df.index)
        severity[hit] = r["severity"]
        used[hit] = r.get("name", "")
        open_ &= ~hit
    df["severity"], df["severity_rule"] = severity, used
    return df


class _Defaulted(dict):
    """format_map that leaves an unknown ``{name}`` as it is."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fraction(value: Any) -> Fraction | None:
    if _missing(value) or str(value).strip() == "":
        return None
    return Fraction(Decimal(str(value)))
