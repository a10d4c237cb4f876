"""The report's input contract: everything the report shows, in plain types, and nothing else.

The reconciliation, scoring and ingest stages map their outputs onto :class:`ReportInputs`;
the renderers read nothing else, so a figure in the report is always a figure from these tables.

Value conventions follow ``summary.json``: money is a string in the money unit with two
decimals ("30790.00"), rates are percent strings ("89.23") or None, scores are strings
("84.88"). DataFrame cells may hold strings or numbers; the renderers format them. The optional
fund tables (``funds_subprojects``, ``county_matching``, ``funds_cells``) keep money in integer 分,
as the stages write them.

Findings come from the stages only (``pipeline.findings``): the report selects, groups and words
them (:mod:`pipeline.report.problems`) and never raises one of its own. :data:`FINDING_CODES` gives
each known code a short Chinese title for the finding list; an unknown code is still listed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd

from pipeline.config import EvaluationConfig
from pipeline.findings import COLUMNS as FINDING_COLUMNS

# A short title per finding code, for the finding list (appendix and xlsx).
FINDING_CODES: dict[str, str] = {
    "target_unrealistic": "年度指标值超出往年实际水平",
    "indicator_unmet": "绩效指标未达到年度指标值",
    "indicator_not_collected": "绩效指标未完成数据采集统计",
    "indicator_conflicting_actuals": "绩效指标完成值来源不一致",
    "subproject_delayed": "子项目延后实施或暂停实施",
    "subproject_extended": "子项目完成时间调整后仍在实施",
    "subproject_status_conflict": "子项目实施状态与完成日期不符",
    "low_arrival": "资金到位率偏低",
    "county_matching_short": "旗县区配套资金未足额到位",
    "low_execution_source": "资金来源预算执行率偏低",
    "low_execution_subproject": "子项目预算执行率偏低",
    "funds_recovered": "资金未按期使用被收回",
    "archive_not_synced": "旗县区档案资料未同步",
    "allocation_differs": "子项目资金额与资金计划不一致",
    "county_plan_differs": "旗县区配套计划与资金计划不一致",
    "unmatched_transfer": "市级下拨在旗县区未见到位记录",
    "unmatched_receipt": "旗县区到位记录无对应市级下拨",
    "amount_differs": "市级下拨与旗县区到位金额不一致",
    "duplicate_receipt": "旗县区重复登记市级下拨资金",
    "negative_balance": "支出超过可用资金",
    "arrival_over_100_source": "资金来源到位超过计划",
    "arrival_over_100_subproject": "子项目资金到位超过计划",
    "execution_over_100_source": "资金来源支出超过预算",
    "execution_over_100_subproject": "子项目支出超过预算",
    "submission_missing": "未按要求报送资料",
    "file_rejected": "报送文件无法读取",
    "sheet_rejected": "报送文件部分工作表无法使用",
    "file_unrecognised": "报送文件未识别",
    "rows_quarantined": "报送数据未通过校验",
    "file_warning": "报送文件格式不规范",
}
SUBJECT_TYPES = {
    "indicator": "绩效指标",
    "subproject": "子项目",
    "source": "资金来源",
    "county": "旗县区",
    "file": "报送文件",
    "submitter": "报送单位",
    "transfer": "资金下拨",
    "cell": "资金明细",
    "county_subproject": "旗县区子项目",
}

TARGET_FLAG_LABELS = {"unrealistic": "超出往年实际水平", "realistic": "与往年水平相符", "no_history": "无往年数据"}
INDICATOR_STATUS_LABELS = {"met": "达到目标", "unmet": "未达目标", "not_collected": "未完成采集"}

TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "subprojects": ("subproject_code", "name", "group_code", "group_name", "allocation", "status"),
    "dimensions": ("code", "name", "weight", "score"),
    "indicators": (
        "code",
        "name",
        "dimension",
        "level2",
        "unit",
        "target",
        "actual",
        "completion_rate",
        "points",
        "score",
        "status",
        "deviation_reason",
        "target_flag",
    ),
    "findings": tuple(FINDING_COLUMNS),
    "quarantine": ("file", "sheet", "row", "column", "rule", "value", "message"),
    "inputs": ("file", "kind", "submitter", "rows", "sha256"),
    "quality": ("check", "passed", "detail"),
}


@dataclasses.dataclass(frozen=True)
class PolicyDocument:
    """A document the programme or the evaluation rests on: 《文件名称》（文号）."""

    title: str
    doc_no: str = ""
    use: str = "evaluation"  # "approval" (立项依据, named in 一) or "evaluation" (评价依据, named in 二)

    def cited(self) -> str:
        title = self.title if self.title.startswith("《") else f"《{self.title}》"
        return f"{title}（{self.doc_no}）" if self.doc_no else title


BUDGET_LINES = {"current": "本年财政拨款", "carry_in": "上年结转资金", "other": "其他资金"}


@dataclasses.dataclass(frozen=True)
class ReportMeta:
    """Who evaluated what, for whom, when and how: the report's cover, title and period sentences.

    Read from ``evaluation.yaml`` in one place (:meth:`from_config`); every key added for the
    report has a default, so older evaluation folders still load (docs/evaluation.md).
    """

    title: str
    programme: str
    region: str
    evaluator: str
    report_date: dt.date  # from the evaluation metadata, never the clock: outputs are reproducible
    programme_start: dt.date
    programme_end: dt.date  # the cut-off the money figures are cumulative to
    evaluation_start: dt.date
    evaluation_end: dt.date
    money_unit: str = "万元"
    implementing_unit: str = ""
    commissioned_by: str = ""  # 委托方
    report_type: str = ""  # a word for the title, e.g. 简版 → “…绩效评价简版报告”
    approved: tuple[int, int] | None = None  # (year, month) the programme was approved
    policy_basis: tuple[PolicyDocument, ...] = ()
    evaluation_approach: str = ""  # 评价方式, e.g. 现场评价
    projects_visited: int | None = None  # 实地调研项目数
    region_coverage_pct: str | None = None  # 覆盖具体项目地区总数的百分比
    competent_department: str = ""  # 主管部门 (自评表)
    goal_expected: str = ""  # 年度总体目标：预期目标 (自评表)
    goal_achieved: str = ""  # 年度总体目标：实际完成情况 (自评表)
    budget_lines: Mapping[str, str] = dataclasses.field(default_factory=dict)  # source code → key of BUDGET_LINES

    @property
    def report_title(self) -> str:
        """The title as the cover prints it: “2023年…绩效评价简版报告”."""
        return f"{self.title}{self.report_type}报告"

    @classmethod
    def from_config(cls, config: EvaluationConfig) -> ReportMeta:
        """Build from the evaluation's validated ``evaluation.yaml`` (every key checked at load)."""
        approved = None
        if config.approved:
            year, month = config.approved.split("-")
            approved = (int(year), int(month))
        method, goal = config.evaluation_method, config.annual_goal
        return cls(
            title=config.title,
            programme=config.programme,
            region=config.region.name,
            evaluator=config.evaluator,
            report_date=config.report_date,
            programme_start=config.programme_period.start,
            programme_end=config.programme_period.cutoff,
            evaluation_start=config.evaluation_period.start,
            evaluation_end=config.evaluation_period.end,
            money_unit=config.money_unit,
            implementing_unit=config.implementing_unit,
            commissioned_by=config.commissioned_by,
            report_type=config.report_type,
            approved=approved,
            policy_basis=tuple(PolicyDocument(d.title, d.doc_no, d.use) for d in config.policy_basis),
            evaluation_approach=method.approach,
            projects_visited=method.projects_visited,
            region_coverage_pct=None if method.region_coverage_pct is None else str(method.region_coverage_pct),
            competent_department=config.competent_department,
            goal_expected=goal.expected.strip(),
            goal_achieved=goal.achieved.strip(),
            budget_lines={source.code: source.budget_line for source in config.sources},
        )


def _empty() -> pd.DataFrame:
    return pd.DataFrame()


# eq=False: DataFrames have no single truth value, so generated __eq__/__hash__ would mislead.
@dataclasses.dataclass(frozen=True, eq=False)
class ReportInputs:
    """Exactly what the report needs; see the module docstring for value conventions."""

    meta: ReportMeta
    summary: Mapping[str, Any]  # summary.json as a dict (funds, coverage, score, subprojects, indicators, rows, files)
    sources: Mapping[str, str]  # source code → Chinese label, in display order
    # status: completed, delayed_or_paused or ongoing; allocation in the money unit; optional planned_end, adjusted_end
    subprojects: pd.DataFrame
    dimensions: pd.DataFrame  # primary framework only, in framework order
    # status: met, unmet or not_collected (empty for decision and process items);
    # target_flag: "unrealistic" flags the target ("realistic", "no_history" or empty do not);
    # optional: realism_reason (why), comparator (>=, <=, =), method, scoring_rule (Chinese), kind (count, percent…).
    indicators: pd.DataFrame
    findings: pd.DataFrame  # pipeline.findings shape, assessed (rule, severity)
    quarantine: pd.DataFrame  # row is empty for a file that could not be read at all
    inputs: pd.DataFrame  # submission files with their SHA-256; optional submitter_type, format
    quality: pd.DataFrame  # check name, passed (bool), detail: the data-quality appendix
    narrative: str  # the evaluator's own text (pipeline.report.narrative)
    recommendations: Mapping[str, str]  # problem category → generated recommendation; first paragraph is its heading
    names: Mapping[str, str] = dataclasses.field(default_factory=dict)  # submitter / county code → Chinese name
    kind_labels: Mapping[str, str] = dataclasses.field(default_factory=dict)  # submission kind → Chinese label
    funds_subprojects: pd.DataFrame = dataclasses.field(default_factory=_empty)  # reconciliation by sub-project (分)
    county_matching: pd.DataFrame = dataclasses.field(default_factory=_empty)  # county matching funds (分)
    funds_cells: pd.DataFrame = dataclasses.field(default_factory=_empty)  # the finest grain (分), lineage cells
    finding_cells: pd.DataFrame = dataclasses.field(default_factory=_empty)  # finding_id → cell (key of funds_cells)
    self_evaluation: bool = False  # the primary framework is a unit self-evaluation form (自评表)
    reference_docx: bytes | None = None  # a firm's reference Word file: styles, letterhead, logo

    def __post_init__(self) -> None:
        for name, columns in TABLE_COLUMNS.items():
            missing = [c for c in columns if c not in getattr(self, name).columns]
            if missing:
                raise ValueError(f"ReportInputs.{name} lacks columns {missing}")
        for key in ("funds", "coverage", "score", "subprojects", "indicators", "rows", "files"):
            if key not in self.summary:
                raise ValueError(f"ReportInputs.summary lacks the {key!r} block")
