"""The configuration of an evaluation (``evaluation.yaml``), as typed models validated when it is loaded.

Every key is declared here once, with its type, default, meaning and an example; the same
declarations validate the file (an error names the file, the key path and what is allowed, in
Chinese and English) and generate the reference ``docs/evaluation.md`` (``pipeline.config_docs``).
Codes (of counties, sources, departments) are text: a county code written as a YAML integer would
lose a leading zero, so it is refused with the fix rather than converted.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from pipeline.limits import Limits

# A code is text without dots (figures are addressed by dotted paths) or spaces.
Code = Annotated[str, StringConstraints(strict=True, min_length=1, pattern=r"^[^.\s]+$")]
Text = Annotated[str, StringConstraints(strict=True, min_length=1)]
YearMonth = Annotated[str, StringConstraints(strict=True, pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


class Model(BaseModel):
    """Configuration models refuse unknown keys: a misspelt key is an error, never silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Place(Model):
    code: Code = Field(description="行政区划代码，须加引号 / administrative code, quoted", examples=['"150102"'])
    name: Text = Field(description="名称 / name", examples=["新城区"])


class FundingSource(Model):
    code: Code = Field(description="资金来源编码，报送文件中可写编码或名称 / funding source code", examples=["central"])
    label: Text = Field(description="资金来源名称（报表显示用） / label shown in the report", examples=["中央资金"])
    budget_line: Literal["current", "carry_in", "other"] = Field(
        "current",
        description="自评表中的资金行：current 本年财政拨款，carry_in 上年结转资金（结转来源的标记），other 其他资金 / "
        "the self-evaluation form's funding line; carry_in marks a source carried in from last year",
    )


class Department(Model):
    code: Code = Field(
        description="科室编码 = 报送目录名 bureau/<code>/ / department code = its folder", examples=["finance"]
    )
    name: Text = Field(description="科室名称 / department name", examples=["市人社局规划财务科"])
    submits: list[Code] = Field(
        default_factory=list,
        description="该科室报送的表类型（见 docs/contract.md） / kinds it sends",
        examples=["[receipts, payments]"],
    )


class PolicyDocument(Model):
    title: Text = Field(
        description="文件名称（无书名号时自动加上） / document title", examples=["《就业补助资金管理办法》"]
    )
    doc_no: str = Field("", description="文号 / document number", examples=["财社〔2017〕164号"])
    use: Literal["approval", "evaluation"] = Field(
        "evaluation",
        description="approval 立项依据（第一部分），evaluation 评价依据（第二部分） / approval or evaluation basis",
    )


class EvaluationMethod(Model):
    approach: str = Field("", description="评价方式 / evaluation approach", examples=["现场评价"])
    projects_visited: int | None = Field(None, ge=0, description="实地调研项目数 / projects visited")
    region_coverage_pct: Decimal | None = Field(
        None,
        ge=0,
        le=100,
        description="覆盖具体项目地区总数的百分比（预算覆盖面由数据计算） / share of the areas covered, %",
    )


class AnnualGoal(Model):
    expected: str = Field("", description="预期目标 / expected")
    achieved: str = Field("", description="实际完成情况 / achieved")


class ProgrammePeriod(Model):
    start: dt.date = Field(description="项目实施期开始 / programme start", examples=["2022-05-01"])
    cutoff: dt.date = Field(
        description="资金数据截止日（累计至此日） / cut-off the money figures are cumulative to",
        examples=["2023-12-31"],
    )


class EvaluationPeriod(Model):
    start: dt.date = Field(description="评价期开始 / evaluation period start", examples=["2023-01-01"])
    end: dt.date = Field(description="评价期结束 / evaluation period end", examples=["2023-12-31"])


class Monitoring(Model):
    """A monitoring folder (绩效运行监控): the in-year cut-off its figures are cumulative to."""

    cutoff: dt.date = Field(
        description="监控截止日，须在项目实施期内；资金数据取至此日，之后日期的行单列为“截止日后”不计入 / "
        "the monitoring cut-off inside the programme period: money is taken up to it, later rows are listed "
        "as excluded after the cut-off",
        examples=["2023-07-31"],
    )


class SeverityRule(Model):
    """One severity rule; a finding takes the severity of the first rule whose conditions all hold."""

    name: Text = Field(
        description="规则名称（报告附件中显示） / name shown in the report", examples=["涉及资金占计划总额 10% 及以上"]
    )
    severity: Literal["high", "medium", "low"] = Field(description="严重程度 高/中/低 / severity")
    codes: list[Code] = Field(
        default_factory=list,
        description="条件：发现代码之一 / condition: the finding's code is one of these",
        examples=["[negative_balance, amount_differs]"],
    )
    min_stake_share_pct: Decimal | None = Field(
        None,
        ge=0,
        description="条件：涉及资金 ≥ 计划总额的此百分比 / condition: money at stake ≥ this % of the planned funds",
    )
    min_points_lost_pct: Decimal | None = Field(
        None,
        ge=0,
        description="条件：失分 ≥ 指标分值的此百分比 / condition: points lost ≥ this % of the indicator's points",
    )

    @property
    def conditional(self) -> bool:
        return bool(self.codes) or self.min_stake_share_pct is not None or self.min_points_lost_pct is not None


class MonitoringSettings(Model):
    """绩效运行监控的计算设置 / how an in-year monitoring folder is computed (``settings: monitoring:``)."""

    time_progress: Literal["months", "days", "plan"] = Field(
        "months",
        description="序时进度：months 已过完整月数/12（默认，7 月末 = 58.33%），days 已过天数/全年天数，"
        "plan 按 plan_cumulative_pct 的月度支出计划 / time progress: full months elapsed / 12 (default), "
        "days elapsed / days in the year, or the declared monthly disbursement plan",
    )
    plan_cumulative_pct: list[Annotated[Decimal, Field(ge=0, le=100)]] | None = Field(
        None,
        min_length=12,
        max_length=12,
        description="月度支出计划：1–12 月末累计应支出的百分比（12 个值，不递减），time_progress: plan 时必填 / "
        "the disbursement plan: cumulative % due by the end of each month, 12 non-decreasing values",
        examples=["[5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100]"],
    )
    yellow_gap_pct: Decimal = Field(
        Decimal(10),
        ge=0,
        description="黄色预警：进度落后序时进度超过此百分点 / yellow when progress trails time progress by more "
        "than this many percentage points",
    )
    red_gap_pct: Decimal = Field(
        Decimal(20),
        ge=0,
        description="红色预警：进度落后序时进度超过此百分点 / red when progress trails by more than this",
    )

    @model_validator(mode="after")
    def _consistent(self) -> MonitoringSettings:
        if self.red_gap_pct < self.yellow_gap_pct:
            raise ValueError("monitoring.red_gap_pct 不应小于 yellow_gap_pct / red gap below the yellow gap")
        plan = self.plan_cumulative_pct
        if self.time_progress == "plan" and plan is None:
            raise ValueError(
                "time_progress: plan 须声明 plan_cumulative_pct（12 个月末累计百分比） / "
                "a plan-based time progress needs plan_cumulative_pct"
            )
        if plan is not None and any(b < a for a, b in zip(plan, plan[1:])):
            raise ValueError("plan_cumulative_pct 应逐月不递减 / must not decrease month to month")
        return self


class Settings(Model):
    execution_denominator: Literal["received", "planned"] = Field(
        "received",
        description="预算执行率的分母：received 实际到位（默认），planned 全年预算数（自评表的 B/A） / "
        "execution-rate denominator",
    )
    transfer_match_window_days: int = Field(
        30,
        ge=0,
        description="下拨与到位按金额匹配时允许相差的天数 / days a transfer "
        "and its receipt may lie apart when matched by amount",
    )
    arrival_rate_threshold: Decimal = Field(
        Decimal(60),
        ge=0,
        le=100,
        description="到位率低于此值（%）列为问题 / arrival rate (%) below which a source is a finding",
    )
    execution_rate_threshold: Decimal = Field(
        Decimal(60), ge=0, le=100, description="执行率低于此值（%）列为问题 / execution rate (%) below which a finding"
    )
    max_amount_wan: int = Field(
        20000,
        gt=0,
        description="单笔金额合理上限（万元），超出视为单位填错 / a single amount above "
        "this (万元) is implausible: usually 元 typed into a 万元 file",
    )
    satisfied_answers: list[Text] = Field(
        ["满意", "比较满意"], min_length=1, description="问卷中计为满意的回答 / survey answers that count as satisfied"
    )
    realism_trend_tolerance_pct: Decimal = Field(
        Decimal(20),
        ge=0,
        description="目标偏离历史趋势超过此比例（%）视为不切实际 / "
        "a target further than this from the trend is unrealistic",
    )
    limits: Limits = Field(
        default_factory=Limits, description="读取报送文件的资源上限 / resource limits for reading submissions"
    )
    expectations_max_submission_rows: int = Field(
        0,
        ge=0,
        description="报送表行数不超过此值时，另用 Great Expectations 复核其逐行规则；0（默认）为不复核。不复核的表，"
        "结论取自已逐行阻断校验的 pandera 合同（结果表总是运行 GX）/ Great Expectations checks a submission table "
        "again only when it has at most this many rows; 0 (the default) checks none again. A table not checked "
        "again takes the outcome of the pandera contract, which already checked its every row, blocking; result "
        "tables always run their suites",
    )
    monitoring: MonitoringSettings = Field(
        default_factory=lambda: MonitoringSettings(),
        description="绩效运行监控（声明了 monitoring 的文件夹）的计算设置 / settings of in-year monitoring",
    )
    severity_rules: list[SeverityRule] | None = Field(
        None,
        min_length=1,
        description="问题严重程度规则，整体替换默认规则（pipeline/findings.py）；按顺序第一条满足的规则生效，"
        "最后一条须无条件 / severity rules, replacing the defaults as a whole: the first rule "
        "that matches wins; the last must have no condition",
    )

    @model_validator(mode="after")
    def _last_rule_catches_all(self) -> Settings:
        if self.severity_rules is not None and self.severity_rules[-1].conditional:
            raise ValueError(
                "severity_rules 最后一条须无条件（兜底），以保证每条发现都有严重程度 / "
                "the last severity rule must have no condition"
            )
        return self


class EvaluationConfig(Model):
    """``evaluation.yaml``: what is evaluated, who submits what, and the settings."""

    title: Text = Field(
        description="评价名称（报告标题） / evaluation title", examples=["2023年公共就业服务能力提升示范项目绩效评价"]
    )
    programme: Text = Field(description="项目名称 / programme name", examples=["公共就业服务能力提升示范项目"])
    programme_id: Code | None = Field(
        None,
        description="项目标识：同一项目各年度评价与各期监控的文件夹共用此值（指标编码在其间保持不变），"
        "组合视图据此做同比；缺省为评价文件夹名 / the programme's id, shared by the folders of one programme "
        "(its evaluations of several years and its monitoring cut-offs); defaults to the folder's id",
        examples=["hohhot-pes"],
    )
    region: Place = Field(description="项目所在地区 / region of the programme")
    commissioned_by: str = Field(
        "", description="委托方 / who commissioned the evaluation", examples=["呼和浩特市财政局"]
    )
    implementing_unit: str = Field(
        "", description="项目实施单位 / implementing unit", examples=["呼和浩特市人力资源和社会保障局"]
    )
    evaluator: Text = Field(description="评价机构 / evaluator", examples=["内蒙古腾冠管理咨询有限公司"])
    approved: YearMonth | None = Field(
        None,
        description="立项时间 YYYY-MM；与立项依据文件一起，报告第一部分以此开头 / when the programme was approved",
        examples=["2022-05"],
    )
    report_type: str = Field(
        "", description="报告类型，加在标题后，如 简版 → “…绩效评价简版报告” / a word for the title", examples=["简版"]
    )
    policy_basis: list[PolicyDocument] = Field(
        default_factory=list, description="政策依据（文件名称和文号） / policy basis"
    )
    evaluation_method: EvaluationMethod = Field(
        default_factory=lambda: EvaluationMethod(), description="评价方式与覆盖面 / evaluation method and coverage"
    )
    competent_department: str = Field(
        "",
        description="主管部门（自评表） / competent department, on the self-evaluation form",
        examples=["土默特左旗人力资源和社会保障局"],
    )
    annual_goal: AnnualGoal = Field(
        default_factory=lambda: AnnualGoal(),
        description="年度总体目标（自评表） / the year's overall goal, on the self-evaluation form",
    )
    programme_period: ProgrammePeriod = Field(description="项目实施期 / programme period")
    evaluation_period: EvaluationPeriod = Field(description="评价期 / evaluation period")
    report_date: dt.date = Field(
        description="报告日期（报告上的日期；从不取当天） / the report's date, never the clock", examples=["2024-03-29"]
    )
    money_unit: Literal["万元"] = Field("万元", description="报告金额单位 / money unit of the report")
    primary_framework: Code = Field(
        "third_party",
        description="主指标体系（frameworks/<name>.yaml），总分与等级取自它 / "
        "the framework that gives the score and grade",
    )
    frameworks: list[Code] = Field(
        default_factory=list,
        description="另外计算的指标体系 / other frameworks scored too",
        examples=["[third_party, self_evaluation]"],
    )
    sources: list[FundingSource] = Field(min_length=1, description="资金来源 / funding sources")
    county_source: Code = Field(
        "county",
        description="旗县区自有配套资金记在哪个资金来源下 / the source counties' own "
        "matching funds (本级配套) are booked under",
    )
    city: Place = Field(
        description="市本级（其编码即市本级资金的“旗县区编码”）；只有一个县的项目，把该县写作 city、counties 留空 / "
        "the city level; a county-only programme declares the county here and no counties"
    )
    counties: list[Place] = Field(
        default_factory=list, description="报送的旗县区（文件 county/<code>.xlsx） / counties"
    )
    departments: list[Department] = Field(
        default_factory=list,
        description="报送的市级科室（目录 bureau/<code>/） / bureau departments and what each sends",
    )
    evaluator_submits: list[Code] = Field(
        default_factory=list,
        description="评价机构报送的表类型 / kinds the evaluator sends",
        examples=["[grades, survey]"],
    )
    monitoring: Monitoring | None = Field(
        None,
        description="声明后本文件夹为绩效运行监控（年中某截止日），生成 monitoring.xlsx 与 monitoring.html，"
        "不做年度评分与评价报告；同一项目的各期监控以 programme_id 相连 / "
        "makes the folder an in-year monitoring cut-off: it writes the monitoring form and page instead of a "
        "score and report; the cut-offs of one programme share programme_id",
    )
    settings: Settings = Field(default_factory=Settings, description="计算设置 / settings")

    @model_validator(mode="after")
    def _consistent(self) -> EvaluationConfig:
        from pipeline.contract import kinds_for

        problems = []
        for name, codes in (
            ("sources", [s.code for s in self.sources]),
            ("counties", [c.code for c in self.counties]),
            ("departments", [d.code for d in self.departments]),
        ):
            doubled = sorted(c for c, n in Counter(codes).items() if n > 1)  # one pass: 2,850 counties
            if doubled:
                problems.append(f"{name} 中编码重复：{', '.join(doubled)} / duplicate codes in {name}")
        if self.city.code in {c.code for c in self.counties}:
            problems.append(f"city 的编码 {self.city.code} 与某个旗县区相同 / the city code is also a county's")
        if self.county_source not in {s.code for s in self.sources}:
            problems.append(f"county_source '{self.county_source}' 不是 sources 中的编码 / not a declared source")
        bureau = {k.name for k in kinds_for("bureau")}
        for d in self.departments:
            unknown = sorted(set(d.submits) - bureau)
            if unknown:
                problems.append(
                    f"departments.{d.code}.submits 含未知表类型 {', '.join(unknown)}；可用：{', '.join(sorted(bureau))}"
                )
        evaluator = {k.name for k in kinds_for("evaluator")}
        if set(self.evaluator_submits) - evaluator:
            problems.append(f"evaluator_submits 含未知表类型；可用：{', '.join(sorted(evaluator))}")
        if self.programme_period.start > self.programme_period.cutoff:
            problems.append("programme_period.start 晚于 cutoff / start after cut-off")
        if self.monitoring is not None and not (
            self.programme_period.start <= self.monitoring.cutoff <= self.programme_period.cutoff
        ):
            problems.append(
                f"monitoring.cutoff {self.monitoring.cutoff} 不在项目实施期 {self.programme_period.start}"
                f"–{self.programme_period.cutoff} 内 / the monitoring cut-off must lie inside the programme period"
            )
        if self.evaluation_period.start > self.evaluation_period.end:
            problems.append("evaluation_period.start 晚于 end / start after end")
        if problems:
            raise ValueError("；".join(problems))
        return self

    @property
    def framework_names(self) -> list[str]:
        """The primary framework first, then the others listed."""
        return list(dict.fromkeys([self.primary_framework, *self.frameworks]))


# How each kind of pydantic error reads to the person who wrote the file.
_MESSAGES = {
    "missing": "缺少必填键",
    "extra_forbidden": "未知的键（拼写错误？见 docs/evaluation.md）",
    "string_type": '应为文本；编码请加引号，如 "150102"',
    "string_too_short": "不能为空",
    "string_pattern_mismatch": "编码不得含点或空格",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "decimal_type": "应为数值",
    "decimal_parsing": "应为数值",
    "date_type": "应为日期，如 2023-12-31",
    "date_parsing": "应为日期，如 2023-12-31",
    "date_from_datetime_parsing": "应为日期，如 2023-12-31",
    "literal_error": "取值不在允许范围内",
    "list_type": "应为列表",
    "too_short": "至少需要一项",
    "model_type": "应为“键: 值”的映射",
    "model_attributes_type": "应为“键: 值”的映射",
    "dict_type": "应为“键: 值”的映射",
    "greater_than": "应大于下限",
    "greater_than_equal": "不应小于下限",
    "less_than_equal": "不应大于上限",
    "bool_type": "应为 true 或 false",
}


def key_path(loc: tuple[Any, ...], data: Any = None) -> str:
    """``("counties", 3, "code")`` → ``counties[3].code`` (with the item's code when it has one)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            code = (
                data[part].get("code")
                if isinstance(data, list) and part < len(data) and isinstance(data[part], dict)
                else None
            )
            out += f"[{part}{'=' + str(code) if code is not None else ''}]"
        else:
            out += f".{part}" if out else str(part)
        data = data[part] if isinstance(data, (list, dict)) and _has(data, part) else None
    return out


def _has(data: Any, part: Any) -> bool:
    return (isinstance(data, dict) and part in data) or (
        isinstance(data, list) and isinstance(part, int) and part < len(data)
    )


def explain(exc: ValidationError, path: Path, data: Any) -> str:
    """A validation error as one message per problem: file, key path, what is wrong, in Chinese and English."""
    lines = []
    for err in exc.errors():
        where = key_path(err["loc"], data) or "(文件顶层 / top level)"
        if err["type"] == "value_error":
            text = str(err.get("ctx", {}).get("error", err["msg"]))
        else:
            text = _MESSAGES.get(err["type"], err["msg"])
            if err["type"] == "literal_error":
                text += f"：{err['ctx']['expected']}"
            value = err.get("input")
            if err["type"] not in ("missing", "extra_forbidden") and not isinstance(value, (dict, list)):
                text += f"（实际为 {value!r}）"
        english = "" if err["type"] == "value_error" else f" / {where}: {err['msg']}"  # custom messages are bilingual
        lines.append(f"{path}: 键 {where}：{text}{english}")
    return "\n".join(lines)


def parse_evaluation(data: Any, path: Path) -> EvaluationConfig:
    """Validate ``evaluation.yaml``'s data; ``ValueError`` with :func:`explain`'s message when it is not valid."""
    if not isinstance(data, dict):
        raise ValueError(f"{path}: 评价元数据应为“键: 值”的映射，实际为 {type(data).__name__} / not a mapping")
    try:
        return EvaluationConfig.model_validate(data)
    except ValidationError as exc:
        raise ValueError(explain(exc, path, data)) from exc
