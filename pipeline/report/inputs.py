"""The report's input contract: everything the report shows, in plain types, and nothing else.

The reconciliation, scoring and ingest stages map their outputs onto :class:`ReportInputs`;
the renderers read nothing else, so a figure in the report is always a figure from these tables.

Value conventions follow ``summary.json``: money is a string in the money unit with two
decimals ("30790.00"), rates are percent strings ("89.23") or None, scores are strings
("84.88"). DataFrame cells may hold strings or numbers; the renderers format them.

Findings are grouped by ``code``: :data:`FINDING_CODES` gives each known code its problem
heading and its place in section 四(二); an unknown code is still reported, under its code.
``subject`` follows the producing stage (indicator code, source code, sub-project code, county
code, file); the report also states shortfalls it sees in its own tables (unmet and uncollected
indicators, flagged targets, delayed sub-projects, recovered funds, quarantined files) unless a
finding with the same code and subject was supplied.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any, Mapping, Optional

import pandas as pd
import yaml

from pipeline.config import EvaluationConfig
from pipeline.contract import SUBPROJECT_STATUS_LABELS
from pipeline.findings import COLUMNS as FINDING_COLUMNS

RECOMMENDATIONS_FILE = "recommendations.yaml"
DEFAULT_RECOMMENDATIONS = Path(__file__).with_name(RECOMMENDATIONS_FILE)

# Problem heading per finding code, in the order section 四(二) lists them: the seed's order
# (targets, indicators, sub-projects, funds, archives), then reconciliation and data-quality findings.
FINDING_CODES: dict[str, str] = {
    "target_unrealistic": "部分绩效目标值设定较高",
    "indicator_unmet": "部分绩效指标未达到目标值",
    "indicator_not_collected": "部分绩效指标未完成数据采集统计",
    "indicator_conflicting_actuals": "部分绩效指标完成值来源不一致",
    "subproject_delayed": "个别子项目未按计划时间完成，延后实施或暂停实施",
    "subproject_extended": "个别子项目建设进度延期",
    "subproject_status_conflict": "个别子项目实施状态与完成日期不符",
    "low_arrival": "部分资金到位率偏低",
    "county_matching_short": "旗县区配套资金未足额到位",
    "low_execution_source": "部分资金来源预算执行率偏低",
    "low_execution_subproject": "部分子项目预算执行率偏低",
    "funds_recovered": "部分资金未按期使用被收回",
    "archive_not_synced": "涉旗县区子项目档案管理工作尚需加强",
    "allocation_differs": "子项目登记资金额与资金计划不一致",
    "county_plan_differs": "旗县区配套计划与资金计划不一致",
    "unmatched_transfer": "市级下拨资金在旗县区未见到位记录",
    "unmatched_receipt": "旗县区到位记录无对应市级下拨",
    "amount_differs": "市级下拨与旗县区到位金额不一致",
    "duplicate_receipt": "旗县区重复登记市级下拨资金",
    "negative_balance": "部分资金支出超过可用资金",
    "arrival_over_100_source": "部分资金来源到位超过计划",
    "arrival_over_100_subproject": "部分子项目资金到位超过计划",
    "execution_over_100_source": "部分资金来源支出超过预算",
    "execution_over_100_subproject": "部分子项目支出超过预算",
    "submission_missing": "部分报送单位未按要求报送资料",
    "file_rejected": "部分报送文件无法读取",
    "rows_quarantined": "部分报送资料存在数据质量问题",
    "file_warning": "部分报送文件格式不规范",
}

STATUS_LABELS = SUBPROJECT_STATUS_LABELS
TARGET_FLAG_LABELS = {"unrealistic": "目标值设定偏高或偏离历史水平", "realistic": "与历年水平相符", "no_history": "无历年数据"}
INDICATOR_STATUS_LABELS = {"met": "达到目标", "unmet": "未达目标", "not_collected": "未完成采集"}

TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "subprojects": ("subproject_code", "name", "group_code", "group_name", "allocation", "status"),
    "dimensions": ("code", "name", "weight", "score"),
    "indicators": (
        "code", "name", "dimension", "level2", "unit", "target", "actual", "completion_rate",
        "points", "score", "status", "deviation_reason", "target_flag",
    ),
    "findings": tuple(FINDING_COLUMNS),
    "quarantine": ("file", "sheet", "row", "column", "rule", "value", "message"),
    "inputs": ("file", "kind", "submitter", "rows", "sha256"),
    "quality": ("check", "passed", "detail"),
}


@dataclasses.dataclass(frozen=True)
class ReportMeta:
    """Who evaluated what, when: the report's title page and period sentences."""

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

    @classmethod
    def from_config(cls, config: EvaluationConfig) -> "ReportMeta":
        """Build from the evaluation's validated ``evaluation.yaml``."""
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
        )


# eq=False: DataFrames have no single truth value, so generated __eq__/__hash__ would mislead.
@dataclasses.dataclass(frozen=True, eq=False)
class ReportInputs:
    """Exactly what the report needs; see the module docstring for value conventions."""

    meta: ReportMeta
    summary: Mapping[str, Any]  # summary.json as a dict (funds, coverage, score, subprojects, indicators, rows, files)
    sources: Mapping[str, str]  # source code → Chinese label, in display order
    subprojects: pd.DataFrame  # status: completed, delayed_or_paused or ongoing; allocation in the money unit
    dimensions: pd.DataFrame  # primary framework only, in framework order
    # status: met, unmet or not_collected (empty for decision and process items);
    # target_flag: "unrealistic" flags the target ("realistic", "no_history" or empty do not);
    # an optional realism_reason column says why.
    indicators: pd.DataFrame
    findings: pd.DataFrame  # pipeline.findings shape
    quarantine: pd.DataFrame  # row is empty for a file that could not be read at all
    inputs: pd.DataFrame  # submission files with their SHA-256
    quality: pd.DataFrame  # check name, passed (bool), detail: the data-quality appendix
    narrative: str  # the evaluator's own text: "## 主要经验及做法", "1. …" paragraphs, "- " bullets
    recommendations: Mapping[str, str]  # finding code → recommendation; first paragraph is its heading

    def __post_init__(self) -> None:
        for name, columns in TABLE_COLUMNS.items():
            missing = [c for c in columns if c not in getattr(self, name).columns]
            if missing:
                raise ValueError(f"ReportInputs.{name} lacks columns {missing}")
        for key in ("funds", "coverage", "score", "subprojects", "indicators", "rows", "files"):
            if key not in self.summary:
                raise ValueError(f"ReportInputs.summary lacks the {key!r} block")


def load_recommendations(evaluation_folder: Optional[Path] = None) -> dict[str, str]:
    """Default recommendation text, overridden code by code by the evaluation's own file."""
    texts = _read_yaml(DEFAULT_RECOMMENDATIONS)
    if evaluation_folder is not None and (evaluation_folder / RECOMMENDATIONS_FILE).is_file():
        texts.update(_read_yaml(evaluation_folder / RECOMMENDATIONS_FILE))
    return texts


def _read_yaml(path: Path) -> dict[str, str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ValueError(f"{path}: expected a mapping of finding code → recommendation text")
    return {str(k): v.strip() for k, v in data.items()}
