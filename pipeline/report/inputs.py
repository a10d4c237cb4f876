"""The report's input contract: everything the report shows, in plain types, and nothing else.

The reconciliation, scoring and ingest stages map their outputs onto :class:`ReportInputs`;
the renderers read nothing else, so a figure in the report is always a figure from these tables.

Value conventions follow ``summary.json``: money is a string in the money unit with two
decimals ("30790.00"), rates are percent strings ("89.23") or None, scores are strings
("84.88"). DataFrame cells may hold strings or numbers; the renderers format them.

Findings the report groups by ``code`` (the problem headings and the recommendations follow
these codes; other codes are shown too, under their code). ``subject`` conventions let the
report avoid stating a condition twice when it also sees it in its own tables:

================================ ============== =================================================
code                             subject        meaning
================================ ============== =================================================
``target_unrealistic``           indicator code target above history or far off trend
``indicator_unmet``              indicator code performance target missed
``indicator_not_collected``      indicator code actual not collected (未完成数据采集)
``low_arrival``                  source code    arrival rate (到位率) below threshold
``low_execution``                source or sub  execution rate (执行率) below threshold
``funds_recovered``              source code    funds recovered (收回) by the funder
``subproject_delayed``           sub-project    delayed or paused (延后实施或暂停实施)
``subproject_extended``          sub-project    end moved, still under way (持续推进中)
``archive_not_synced``           county code    archive items not sent to the project office
``submission_missing``           submitter      expected submission not received (未提交)
``rows_quarantined``             file           rows set aside by validation (隔离)
================================ ============== =================================================
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any, Mapping, Optional

import pandas as pd
import yaml

from pipeline.evaluation import _date
from pipeline.findings import COLUMNS as FINDING_COLUMNS

RECOMMENDATIONS_FILE = "recommendations.yaml"
DEFAULT_RECOMMENDATIONS = Path(__file__).with_name(RECOMMENDATIONS_FILE)

# Problem heading per finding code, in the order section 四(二) lists them (the seed's order).
FINDING_CODES: dict[str, str] = {
    "target_unrealistic": "部分绩效目标值设定不够合理",
    "indicator_unmet": "部分绩效指标未达到目标值",
    "indicator_not_collected": "部分绩效指标未完成数据采集统计",
    "low_arrival": "部分资金到位率偏低",
    "low_execution": "部分资金执行率偏低",
    "funds_recovered": "部分资金未按期使用被收回",
    "subproject_delayed": "个别子项目未按计划时间完成，延后实施或暂停实施",
    "subproject_extended": "个别子项目建设进度延期",
    "archive_not_synced": "涉旗县区子项目档案管理工作尚需加强",
    "submission_missing": "部分报送单位未按要求报送资料",
    "rows_quarantined": "部分报送资料存在数据质量问题",
}

STATUS_LABELS = {
    "completed": "基本完成",
    "delayed_or_paused": "未按计划时间完成延后实施或暂停实施",
    "ongoing": "计划时间调整后仍在实施期内持续推进中",
}
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
    def from_metadata(cls, meta: Mapping[str, Any]) -> "ReportMeta":
        """Build from an ``evaluation.yaml`` mapping."""
        return cls(
            title=meta["title"],
            programme=meta["programme"],
            region=meta["region"]["name"],
            evaluator=meta["evaluator"],
            report_date=_date(meta["report_date"]),
            programme_start=_date(meta["programme_period"]["start"]),
            programme_end=_date(meta["programme_period"]["cutoff"]),
            evaluation_start=_date(meta["evaluation_period"]["start"]),
            evaluation_end=_date(meta["evaluation_period"]["end"]),
            money_unit=meta.get("money_unit", "万元"),
            implementing_unit=meta.get("implementing_unit", ""),
        )


# eq=False: DataFrames have no single truth value, so generated __eq__/__hash__ would mislead.
@dataclasses.dataclass(frozen=True, eq=False)
class ReportInputs:
    """Exactly what the report needs; see the module docstring for value conventions."""

    meta: ReportMeta
    summary: Mapping[str, Any]  # summary.json as a dict (funds, coverage, score, subprojects, indicators, rows, files)
    sources: Mapping[str, str]  # source code → Chinese label, in display order
    subprojects: pd.DataFrame
    dimensions: pd.DataFrame  # primary framework only
    indicators: pd.DataFrame
    findings: pd.DataFrame
    quarantine: pd.DataFrame
    inputs: pd.DataFrame
    quality: pd.DataFrame
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
