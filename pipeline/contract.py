"""The submission contract: every kind of file a submitter sends, declared once as pandera models.

Each model describes the *typed* table a submission becomes after strict parsing: money is an
integer number of 分 (fen), dates are datetimes, codes and free text are strings. The same
declarations drive validation (`pipeline.ingest.validate`), the blank templates
(`pipeline.templates`), the docs (`docs/contract.md`) and the column descriptions shown in the
Dagster UI.

Field conventions:
- ``title`` is the Chinese header a submitter sees; ``alias`` names are accepted too.
- Each field declares its type from ``pipeline.fieldtypes`` (id, code, money, date, decimal, enum,
  flag, text): the type knows how a cell is parsed and checked, its template note, its docs and its
  data-quality expectations. Type options sit beside it: ``codes`` (the register a code is checked
  against), ``values`` (an enumeration's accepted labels → canonical values).
- ``in_period``: the date must fall inside the programme period (money movements).
- ``reversal_of``: the column that names the voucher a negative amount reverses.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from pipeline.fieldtypes import CODE, DATE, DECIMAL, ENUM, FLAG, ID, MONEY, TEXT, FieldType

# Canonical values for enumerations, with the labels submitters write.
STATUS_VALUES = {
    "基本完成": "completed",
    "延后实施或暂停实施": "delayed_or_paused",
    "延期或暂停": "delayed_or_paused",
    "持续推进中": "ongoing",
    "持续推进": "ongoing",
    "completed": "completed",
    "delayed_or_paused": "delayed_or_paused",
    "ongoing": "ongoing",
}
# A sub-project's status as the report prints it (the wording of the published brief reports).
SUBPROJECT_STATUS_LABELS = {
    "completed": "基本完成",
    "delayed_or_paused": "未按计划时间完成延后实施或暂停实施",
    "ongoing": "计划时间调整后仍在实施期内持续推进中",
}
DATA_STATUS_VALUES = {
    "已采集": "collected",
    "未采集": "not_collected",
    "collected": "collected",
    "not_collected": "not_collected",
}
CHANNEL_VALUES = {"本级配套": "own", "市级下拨": "city", "own": "own", "city": "city"}
GRADE_VALUES = {"好": "好", "较好": "较好", "一般": "一般", "差": "差"}
ANSWER_VALUES = {v: v for v in ("满意", "比较满意", "一般", "不太满意", "不满意", "无效")}
# 绩效监控表: why an indicator deviates (偏差原因类别) and how likely the annual target is (完成目标可能性).
DEVIATION_CAUSE_VALUES = {v: v for v in ("经费保障", "制度保障", "人员保障", "硬件条件保障", "其他")}
LIKELIHOOD_VALUES = {
    "确定能": "确定能",
    "有可能": "有可能",
    "完全不可能": "完全不可能",
    "certain": "确定能",
    "possible": "有可能",
    "impossible": "完全不可能",
}
YES_NO_VALUES = {"是": True, "否": False, "yes": True, "no": False, "Y": True, "N": False}


def _f(title: str, description: str, type_: FieldType | str, *, nullable: bool = False, **meta: Any) -> Any:
    """A contract field: Chinese ``title``, bilingual ``description``, its type and the type's options."""
    aliases = meta.pop("aliases", [])
    return pa.Field(
        title=title,
        description=description,
        nullable=nullable,
        metadata={"type": type_ if isinstance(type_, str) else type_.name, "aliases": aliases, **meta},
    )


def _code(title: str, description: str, codes: str, **kw: Any) -> Any:
    return _f(title, description, CODE, codes=codes, **kw)


def _money(title: str, description: str, **kw: Any) -> Any:
    return _f(title, description, MONEY, **kw)


class Submission(pa.DataFrameModel):
    """Columns every validated row carries: where it came from."""

    file: Series[str] = _f("文件", "source file, relative to the raw root / 来源文件", TEXT)
    sheet: Series[str] = _f("工作表", "sheet name ('' for CSV) / 工作表", TEXT)
    row: Series[int] = _f("行号", "row number as Excel shows it, header included / Excel 行号", TEXT)
    submitter: Series[str] = _f("报送单位", "submitter code: county code or bureau department / 报送单位编码", TEXT)

    class Config:
        strict = False
        coerce = False


class Subprojects(Submission):
    """子项目登记表 — the sub-project registry kept by the bureau's project office."""

    subproject_code: Series[str] = _f(
        "子项目编码", "sub-project code, e.g. '1' / 子项目编码", ID, aliases=["subproject_code"]
    )
    name: Series[str] = _f("子项目名称", "sub-project name / 子项目名称", TEXT, aliases=["name"])
    group_code: Series[str] = _f(
        "项目组编码", "project group code, e.g. '1' / 项目组编码", TEXT, aliases=["group_code"]
    )
    group_name: Series[str] = _f("项目组名称", "project group name / 项目组名称", TEXT, aliases=["group_name"])
    lead_unit: Series[str] = _f("牵头单位", "lead unit / 牵头实施单位", TEXT, aliases=["lead_unit"])
    allocation_fen: Series[int] = _money("资金额", "allocated funds in 分 / 分配资金", aliases=["allocation"])
    status_reported: Series[str] = _f(
        "实施状态",
        "implementation status as the bureau reports it / 实施状态",
        ENUM,
        values=STATUS_VALUES,
        aliases=["status_reported", "status"],
    )
    planned_end: Series[pd.Timestamp] = _f(
        "计划完成日期", "planned end date / 计划完成日期", DATE, aliases=["planned_end"]
    )
    adjusted_end: Series[pd.Timestamp] = _f(
        "调整后完成日期",
        "adjusted end date, if changed / 调整后完成日期",
        DATE,
        nullable=True,
        aliases=["adjusted_end"],
    )
    note: Series[str] = _f("备注", "free note / 备注", TEXT, nullable=True, optional=True, aliases=["note"])


class FundPlan(Submission):
    """资金计划表 — planned funds by sub-project × source (× county where a county carries them)."""

    plan_id: Series[str] = _f("计划编号", "plan line id / 计划编号", ID, aliases=["plan_id"])
    subproject_code: Series[str] = _code(
        "子项目编码", "sub-project code / 子项目编码", "subproject", aliases=["subproject_code"]
    )
    source_code: Series[str] = _code(
        "资金来源", "funding source / 资金来源", "source", aliases=["source_code", "source"]
    )
    county_code: Series[str] = _code(
        "旗县区编码", "county code (150100 = 市本级) / 旗县区编码", "county_or_city", aliases=["county_code"]
    )
    amount_fen: Series[int] = _money("金额", "planned amount in 分 / 计划金额", aliases=["amount"])
    note: Series[str] = _f("备注", "free note / 备注", TEXT, nullable=True, optional=True, aliases=["note"])


class _Movement(Submission):
    """A money movement: dated, with a source, a sub-project, an amount and an optional reversal."""

    source_code: Series[str] = _code(
        "资金来源", "funding source / 资金来源", "source", aliases=["source_code", "source"]
    )
    subproject_code: Series[str] = _code(
        "子项目编码", "sub-project code / 子项目编码", "subproject", aliases=["subproject_code"]
    )
    amount_fen: Series[int] = _money(
        "金额", "amount in 分; negative only as a reversal / 金额", aliases=["amount"], reversal_of="reverses"
    )
    doc_no: Series[str] = _f(
        "文号", "document or voucher number / 文号", TEXT, nullable=True, optional=True, aliases=["doc_no"]
    )
    reverses: Series[str] = _f(
        "冲红凭证号",
        "id of the voucher this row reverses (冲红) / 冲红凭证号",
        TEXT,
        nullable=True,
        optional=True,
        aliases=["reverses"],
    )
    note: Series[str] = _f("备注", "free note / 备注", TEXT, nullable=True, optional=True, aliases=["note"])


class _CityMovement(_Movement):
    county_code: Series[str] = _code(
        "旗县区编码", "county code (150100 = 市本级) / 旗县区编码", "county_or_city", aliases=["county_code"]
    )


class Receipts(_CityMovement):
    """资金到位 — funds received (到位) into the bureau's account from outside the programme."""

    receipt_id: Series[str] = _f("到位单号", "receipt id / 到位单号", ID, aliases=["receipt_id"])
    date: Series[pd.Timestamp] = _f("到账日期", "date received / 到账日期", DATE, in_period=True, aliases=["date"])


class Payments(_CityMovement):
    """资金支出 — payments (支出) to final recipients made by the bureau."""

    payment_id: Series[str] = _f("支付单号", "payment id / 支付单号", ID, aliases=["payment_id"])
    date: Series[pd.Timestamp] = _f("支付日期", "payment date / 支付日期", DATE, in_period=True, aliases=["date"])
    payee: Series[str] = _f("收款方", "final recipient / 收款方", TEXT, nullable=True, optional=True, aliases=["payee"])


class CarryForwards(_CityMovement):
    """资金结转 — unspent funds carried forward (结转) to the next year."""

    carry_id: Series[str] = _f("结转单号", "carry-forward id / 结转单号", ID, aliases=["carry_id"])
    date: Series[pd.Timestamp] = _f("结转日期", "carry-forward date / 结转日期", DATE, in_period=True, aliases=["date"])


class Recoveries(_CityMovement):
    """资金收回 — unspent funds recovered (收回) by the funder."""

    recovery_id: Series[str] = _f("收回单号", "recovery id / 收回单号", ID, aliases=["recovery_id"])
    date: Series[pd.Timestamp] = _f("收回日期", "recovery date / 收回日期", DATE, in_period=True, aliases=["date"])


class Transfers(_Movement):
    """资金下拨 — transfers from the city to a county: internal movements, not spending."""

    transfer_id: Series[str] = _f("下拨单号", "transfer id / 下拨单号", ID, aliases=["transfer_id"])
    date: Series[pd.Timestamp] = _f("下拨日期", "transfer date / 下拨日期", DATE, in_period=True, aliases=["date"])
    county_code: Series[str] = _code(
        "旗县区编码", "receiving county code / 接收旗县区编码", "county", aliases=["county_code"]
    )


class IndicatorActuals(Submission):
    """指标完成值 — actual values of performance indicators, with data status and deviation reason."""

    indicator_code: Series[str] = _code(
        "指标编码", "indicator code from the framework / 指标编码", "indicator", aliases=["indicator_code"]
    )
    actual: Series[str] = _f(
        "实际完成值",
        "actual value, exact decimal; empty when not collected / 实际完成值",
        DECIMAL,
        nullable=True,
        aliases=["actual"],
    )
    data_status: Series[str] = _f(
        "数据状态",
        "已采集 collected / 未采集 not collected / 数据状态",
        ENUM,
        values=DATA_STATUS_VALUES,
        aliases=["data_status"],
    )
    deviation_reason: Series[str] = _f(
        "偏差原因",
        "reason for a deviation from target / 偏差原因分析",
        TEXT,
        nullable=True,
        optional=True,
        aliases=["deviation_reason"],
    )


class IndicatorMonitoring(Submission):
    """绩效监控表 — in-year monitoring of each indicator as of the folder's monitoring cut-off: completion so far,
    the unit's projection for the year, why it deviates and how likely the annual target is."""

    indicator_code: Series[str] = _code(
        "指标编码", "indicator code from the framework / 指标编码", "indicator", aliases=["indicator_code"]
    )
    actual_to_date: Series[str] = _f(
        "1-N月实际完成值",
        "completion from January to the cut-off, exact decimal / 1—N 月实际完成值",
        DECIMAL,
        aliases=["actual_to_date", "1—N月实际完成值", "1–N月实际完成值", "实际完成值"],
    )
    projected_annual: Series[str] = _f(
        "全年预计完成值",
        "the unit's projection for the whole year; empty: a straight-line projection is used / 全年预计完成值",
        DECIMAL,
        nullable=True,
        aliases=["projected_annual"],
    )
    deviation_cause: Series[str] = _f(
        "偏差原因类别",
        "经费保障 / 制度保障 / 人员保障 / 硬件条件保障 / 其他; empty when on track / 偏差原因类别",
        ENUM,
        nullable=True,
        values=DEVIATION_CAUSE_VALUES,
        aliases=["deviation_cause"],
    )
    deviation_note: Series[str] = _f(
        "偏差原因说明",
        "what causes the deviation and what is done about it / 偏差原因说明",
        TEXT,
        nullable=True,
        optional=True,
        aliases=["deviation_note"],
    )
    likelihood: Series[str] = _f(
        "完成目标可能性",
        "确定能 / 有可能 / 完全不可能 — whether the annual target will be met / 完成目标可能性",
        ENUM,
        values=LIKELIHOOD_VALUES,
        aliases=["likelihood"],
    )


class CountyMatchPlan(Submission):
    """配套计划 — a county's own statement of its planned matching funds (配套), by sub-project."""

    subproject_code: Series[str] = _code(
        "子项目编码", "sub-project code / 子项目编码", "subproject", aliases=["subproject_code"]
    )
    amount_fen: Series[int] = _money("计划配套金额", "planned matching funds in 分 / 计划配套金额", aliases=["amount"])
    note: Series[str] = _f("备注", "free note / 备注", TEXT, nullable=True, optional=True, aliases=["note"])


class CountyReceipts(_Movement):
    """资金到位 — money a county received: its own matching funds (本级配套) or from the city (市级下拨)."""

    receipt_id: Series[str] = _f("到位单号", "receipt id / 到位单号", ID, aliases=["receipt_id"])
    date: Series[pd.Timestamp] = _f("到账日期", "date received / 到账日期", DATE, in_period=True, aliases=["date"])
    channel: Series[str] = _f(
        "资金渠道",
        "本级配套 own budget / 市级下拨 from the city / 资金渠道",
        ENUM,
        values=CHANNEL_VALUES,
        aliases=["channel"],
    )


class CountyPayments(_Movement):
    """资金支出 — payments a county made to final recipients."""

    payment_id: Series[str] = _f("支付单号", "payment id / 支付单号", ID, aliases=["payment_id"])
    date: Series[pd.Timestamp] = _f("支付日期", "payment date / 支付日期", DATE, in_period=True, aliases=["date"])
    payee: Series[str] = _f("收款方", "final recipient / 收款方", TEXT, nullable=True, optional=True, aliases=["payee"])


class CountyIndicators(IndicatorActuals):
    """指标完成值 — a county's share of indicator actuals."""


class CountyArchive(Submission):
    """档案清单 — a county's project archive checklist: which records reached the project office."""

    subproject_code: Series[str] = _code(
        "子项目编码", "sub-project code / 子项目编码", "subproject", aliases=["subproject_code"]
    )
    item: Series[str] = _f("档案项目", "archive item, e.g. 组织管理机制 / 档案项目", TEXT, aliases=["item"])
    synced: Series[bool] = _f(
        "是否已同步项目办",
        "是 / 否: sent to the project office / 是否已同步项目办",
        FLAG,
        values=YES_NO_VALUES,
        aliases=["synced"],
    )
    note: Series[str] = _f("备注", "free note / 备注", TEXT, nullable=True, optional=True, aliases=["note"])


class Grades(Submission):
    """定性评分 — the evaluator's qualitative grades with evidence; several graders per indicator."""

    indicator_code: Series[str] = _code(
        "指标编码", "indicator code / 指标编码", "indicator", aliases=["indicator_code"]
    )
    grader: Series[str] = _f("评分人", "grader id / 评分人编号", TEXT, aliases=["grader"])
    grade: Series[str] = _f("等级", "好 / 较好 / 一般 / 差", ENUM, values=GRADE_VALUES, aliases=["grade"])
    evidence: Series[str] = _f(
        "评分依据", "evidence for the grade / 评分依据", TEXT, nullable=True, optional=True, aliases=["evidence"]
    )


class Survey(Submission):
    """满意度问卷 — satisfaction survey responses; respondents appear only as pseudonymous ids."""

    response_id: Series[str] = _f("答卷编号", "response id / 答卷编号", ID, aliases=["response_id"])
    respondent: Series[str] = _f(
        "受访者编号", "pseudonymous respondent id / 受访者匿名编号", TEXT, aliases=["respondent"]
    )
    indicator_code: Series[str] = _code(
        "指标编码", "satisfaction indicator code / 指标编码", "indicator", aliases=["indicator_code"]
    )
    answer: Series[str] = _f(
        "回答", "满意 / 比较满意 / 一般 / 不太满意 / 不满意 / 无效", ENUM, values=ANSWER_VALUES, aliases=["answer"]
    )


@dataclasses.dataclass(frozen=True)
class Kind:
    """One kind of submission: its table name, who sends it and the sheet name it is filed under."""

    name: str
    label: str  # Chinese sheet / file name
    model: type[Submission]
    submitter: str  # "bureau", "county" or "evaluator"
    id_column: str | None = None
    county_scoped: bool = False  # rows belong to the county named by the submitter

    @functools.cached_property
    def schema(self) -> pa.DataFrameSchema:
        """The model as a pandera schema, built once."""
        return self.model.to_schema()

    @functools.cached_property
    def columns(self) -> dict[str, pa.Column]:
        return {n: c for n, c in self.schema.columns.items() if n not in SOURCE_COLUMNS}

    @property
    def unique_key(self) -> list[str] | None:
        """The columns an id must be unique over: per county for county submissions, else across the kind."""
        if self.id_column is None:
            return None
        return ["submitter", self.id_column] if self.county_scoped else [self.id_column]

    @property
    def description(self) -> str:
        return inspect.cleandoc(self.model.__doc__ or "")  # the same text on every Python (3.13 dedents docstrings)


SOURCE_COLUMNS = ("file", "sheet", "row", "submitter")

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("subprojects", "子项目登记表", Subprojects, "bureau", "subproject_code"),
        Kind("fund_plan", "资金计划表", FundPlan, "bureau", "plan_id"),
        Kind("receipts", "资金到位", Receipts, "bureau", "receipt_id"),
        Kind("payments", "资金支出", Payments, "bureau", "payment_id"),
        Kind("carry_forwards", "资金结转", CarryForwards, "bureau", "carry_id"),
        Kind("recoveries", "资金收回", Recoveries, "bureau", "recovery_id"),
        Kind("transfers", "资金下拨", Transfers, "bureau", "transfer_id"),
        Kind("indicator_actuals", "指标完成值", IndicatorActuals, "bureau"),
        Kind("indicator_monitoring", "绩效监控表", IndicatorMonitoring, "bureau", "indicator_code"),
        Kind("county_match_plan", "配套计划", CountyMatchPlan, "county", county_scoped=True),
        Kind("county_receipts", "资金到位", CountyReceipts, "county", "receipt_id", county_scoped=True),
        Kind("county_payments", "资金支出", CountyPayments, "county", "payment_id", county_scoped=True),
        Kind("county_indicators", "指标完成值", CountyIndicators, "county", county_scoped=True),
        Kind("county_archive", "档案清单", CountyArchive, "county", county_scoped=True),
        Kind("grades", "定性评分", Grades, "evaluator"),
        Kind("survey", "满意度问卷", Survey, "evaluator", "response_id"),
    )
}

COUNTY_KINDS = tuple(k for k in KINDS.values() if k.submitter == "county")


def kinds_for(submitter_type: str) -> list[Kind]:
    return [k for k in KINDS.values() if k.submitter == submitter_type]
