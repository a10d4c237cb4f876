"""Every output table's schema, declared once (a field catalogue and the tables built from it, as in PUDL).

A field is declared once (``FIELDS``: its dtype, meaning and unit) and tables list the fields they
carry (``TABLES``). From that one declaration come: the column lists the stages build their frames
with, the schema check every table asset must pass (columns, dtypes, nullability — cheap even on
a million rows), the column descriptions with units shown in the Dagster UI, and the simple
Great Expectations rules of the reconciliation and score tables (money is integer 分, rates are
two-decimal percent text, keys are unique). The submission tables' schemas are the contract's
(``pipeline.contract``).
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pandera.pandas as pa

from pipeline.schemas import holds


@dataclasses.dataclass(frozen=True)
class Field:
    dtype: str  # text, int, money, rate, score, bool, date
    description: str
    unit: str = ""  # 分 for money, % for rates
    nullable: bool = False

    @property
    def pandas(self) -> str | None:
        """The pandas dtype the column has when read back from Parquet (None for text: object, string or category)."""
        if self.dtype in ("int", "money") and self.nullable:
            return "Int64"  # pandas' nullable integer: money and counts stay exact where a value may be missing
        return {"int": "int64", "money": "int64", "bool": "bool", "date": "datetime64[ns]"}.get(self.dtype)

    @property
    def shown(self) -> str:
        return self.description + (f"（单位：{self.unit}）" if self.unit else "")


def _money(zh: str, en: str) -> Field:
    return Field("money", f"{zh} / {en}", "分")


def _rate(zh: str, en: str) -> Field:
    return Field("rate", f"{zh} / {en}, percent text with two decimals, empty where undefined", "%", nullable=True)


FIELDS: dict[str, Field] = {
    # where a row came from (submissions, quarantine, lineage)
    "file": Field("text", "来源文件（相对原始数据根目录） / source file, relative to the raw root"),
    "sheet": Field("text", "工作表（CSV 为空） / sheet ('' for CSV)"),
    "row": Field("int", "行号（Excel 行号或 CSV 物理行号） / the row or line number the submitter sees"),
    "submitter": Field("text", "报送单位编码 / submitter code"),
    "submitter_type": Field("text", "报送单位类型 bureau / county / evaluator / submitter type"),
    "sha256": Field(
        "text",
        "文件内容的 SHA-256（配置文件如 history.csv 为空） / SHA-256 of the file's bytes, empty for "
        "configuration files",
        nullable=True,
    ),
    # quarantine
    "column": Field("text", "列（按报送文件表头） / column, as the submitter's header reads"),
    "rule": Field(
        "text",
        "规则：隔离记录违反的规则，或引发问题发现的检测规则（中文） / the rule a quarantined cell, sheet or "
        "file breaks, or the detection rule that raised a finding",
    ),
    "value": Field("text", "原始值 / the value as submitted"),
    "message": Field("text", "说明与修改提示（中文） / what is wrong and what to do, in Chinese"),
    "kind": Field("text", "报送表类型 / submission kind"),
    # inventories
    "format": Field("text", "实际格式 xlsx / csv / the sniffed format"),
    "kinds": Field("text", "读到的表类型 / kinds read from the file"),
    "status": Field("text", "状态 / status"),
    "warnings": Field("text", "提示 / warnings"),
    "lines": Field("int", "物理行数 / physical lines"),
    "lines_structural": Field("int", "标题、说明、表头与空行 / title, notes, header and blank lines"),
    "lines_title": Field("int", "表头以上的行（标题、说明） / lines above the header"),
    "lines_header": Field("int", "表头行 / header lines"),
    "lines_blank": Field("int", "空行 / blank lines"),
    "lines_accepted": Field("int", "采用的数据行所占物理行 / lines of accepted records"),
    "lines_quarantined": Field("int", "隔离的数据行所占物理行 / lines of quarantined records"),
    "rows_read": Field("int", "读取的数据行 / data rows read"),
    "rows_accepted": Field("int", "采用的数据行 / rows accepted"),
    "rows_quarantined": Field("int", "隔离的数据行 / rows quarantined"),
    # findings and checks
    "finding_id": Field("text", "发现编号 code:subject / finding id"),
    "code": Field("text", "编码 / code"),
    "severity": Field("text", "严重程度 high / medium / low / severity"),
    "subject_type": Field("text", "对象类型 / what the finding is about"),
    "subject": Field("text", "对象 / its code or file"),
    "figure": Field("text", "相关数字（万元、%、行数） / the figure at stake"),
    "stake_fen": Field("money", "涉及资金（未到位、未支出、差额…） / money at stake", "分", nullable=True),
    "points_lost": Field("text", "失分（指标分值减得分，两位小数） / points lost, as printed"),
    "severity_rule": Field("text", "确定严重程度的规则名称 / the severity rule that applied"),
    "check": Field("text", "检查 / check"),
    "passed": Field("bool", "是否通过 / passed"),
    "detail": Field("text", "详情 / detail"),
    # reconciliation
    "key": Field("text", "行键 / the row's key (a code, or codes joined by |)"),
    "source_code": Field("text", "资金来源编码 / funding source code"),
    "source_label": Field("text", "资金来源 / funding source"),
    "subproject_code": Field("text", "子项目编码 / sub-project code"),
    "subproject_name": Field("text", "子项目名称 / sub-project name"),
    "group_code": Field("text", "项目组编码 / project group code"),
    "group_name": Field("text", "项目组名称 / project group name"),
    "county_code": Field("text", "旗县区编码（150100 为市本级） / county code"),
    "county_name": Field("text", "旗县区名称 / county name"),
    "allocation": _money("分配资金（子项目登记表）", "allocation in the registry"),
    "planned": _money("计划", "planned"),
    "received": _money("到位", "received"),
    "spent": _money("支出", "spent"),
    "carried_forward": _money("结转", "carried forward"),
    "recovered": _money("收回", "recovered"),
    "transfers_in": _money("下拨转入", "transferred in from the city"),
    "transfers_out": _money("下拨转出", "transferred out to counties"),
    "balance": _money("结余 = 可用 − 支出 − 结转 − 收回", "balance"),
    "stated_plan": _money("旗县区自报配套计划", "the county's own statement of its matching funds"),
    "shortfall": _money("配套缺口", "matching funds not received"),
    "arrival_rate": _rate("到位率", "arrival rate"),
    "execution_rate": _rate("执行率", "execution rate"),
    "match_method": Field(
        "text", "匹配方式 doc_no / amount_date / how transfer and receipt were paired", nullable=True
    ),
    "discrepancy_type": Field("text", "差异类型 / discrepancy type"),
    "transfer_id": Field("text", "下拨单号 / transfer id", nullable=True),
    "transfer_doc_no": Field("text", "下拨文号 / transfer document number", nullable=True),
    "transfer_date": Field("date", "下拨日期 / transfer date", nullable=True),
    "transfer_amount": Field("money", "下拨金额 / transfer amount", "分", nullable=True),
    "transfer_file": Field("text", "下拨来源文件 / transfer's file", nullable=True),
    "transfer_sheet": Field("text", "下拨来源工作表 / transfer's sheet", nullable=True),
    "transfer_row": Field("int", "下拨来源行 / transfer's row", nullable=True),
    "receipt_id": Field("text", "到位单号 / receipt id", nullable=True),
    "receipt_doc_no": Field("text", "到位文号 / receipt document number", nullable=True),
    "receipt_date": Field("date", "到账日期 / receipt date", nullable=True),
    "receipt_amount": Field("money", "到位金额 / receipt amount", "分", nullable=True),
    "receipt_file": Field("text", "到位来源文件 / receipt's file", nullable=True),
    "receipt_sheet": Field("text", "到位来源工作表 / receipt's sheet", nullable=True),
    "receipt_row": Field("int", "到位来源行 / receipt's row", nullable=True),
    "difference": Field("money", "差额 = 到位 − 下拨 / receipt minus transfer", "分", nullable=True),
    # lineage
    "output_table": Field("text", "输出表 / output table"),
    "output_key": Field("text", "输出行的键 / the output row's key"),
    "measure": Field("text", "该输入行影响的输出列 / the output column the input row feeds"),
    "input_kind": Field("text", "输入表类型 / kind of the input row"),
    # scoring
    "framework": Field("text", "指标体系 / framework"),
    "order": Field("int", "指标体系中的顺序 / order in the framework"),
    "name": Field("text", "名称 / name"),
    "dimension": Field("text", "一级指标编码 / dimension code"),
    "dimension_name": Field("text", "一级指标 / dimension"),
    "level2": Field("text", "二级指标 / group"),
    "unit": Field("text", "单位 / unit"),
    "target": Field("score", "目标值 / target", nullable=True),
    "comparator": Field(
        "text", "比较方向 >= / <= / =（定性指标为空） / direction, empty for qualitative", nullable=True
    ),
    "method": Field("text", "计分方法 / scoring method"),
    "source": Field("text", "数据来源 / source of the actual"),
    "actual": Field("score", "实际完成值 / actual", nullable=True),
    "completion_rate": _rate("完成率", "completion rate"),
    "points": Field("score", "分值 / points", "分"),
    "score": Field("score", "得分（两位小数） / score, two decimals", "分"),
    "deviation_reason": Field("text", "偏差原因 / reason for a deviation", nullable=True),
    "basis": Field("text", "计算依据 / how the actual was obtained", nullable=True),
    "target_realism": Field("text", "目标是否切实 realistic / unrealistic / target realism", nullable=True),
    "realism_reason": Field("text", "判断依据 / why", nullable=True),
    "value_kind": Field(
        "text", "指标值类型 count / percent / amount / grade（数量的派生值取整显示） / what the value is"
    ),
    "scoring_rule": Field("text", "计分规则（中文） / the scoring rule, in Chinese"),
    "weight": Field("score", "权重 / weight", "分"),
    "indicator_count": Field("int", "三级指标个数 / leaves"),
    "performance": Field("bool", "是否绩效目标（有达成状态） / its leaves are performance targets"),
    "allocation_fen": _money("分配资金", "allocation"),
    "status_label": Field("text", "状态（中文） / status label"),
    "planned_end": Field("date", "计划完成日期 / planned end"),
    "adjusted_end": Field("date", "调整后完成日期 / adjusted end", nullable=True),
    "end": Field("date", "适用的完成日期 / the end that applies"),
    "check_message": Field("text", "核对说明 / what the date check found", nullable=True),
    # in-year monitoring (绩效运行监控)
    "level": Field(
        "text", "行的层级 programme 项目 / source 资金来源 / subproject 子项目 / county 旗县区 / line level"
    ),
    "time_progress": _rate("序时进度", "time progress at the cut-off"),
    "gap": _rate("落后序时进度的百分点（负数为超前）", "percentage points behind the expected progress"),
    "projected_spent": Field(
        "money", "全年预计执行数（按序时进度直线推算） / projected spending for the year, straight line", "分", True
    ),
    "lag_fen": _money("按序时进度应支未支的金额", "money behind time progress: planned × time progress − spent, ≥ 0"),
    "deviation_level": Field("text", "偏差等级 绿 / 黄 / 红 / deviation level"),
    "indicator_code": Field("text", "指标编码 / indicator code"),
    "level1": Field("text", "一级指标 / dimension"),
    "actual_to_date": Field("text", "1—N 月实际完成值（精确小数） / completion to the cut-off", nullable=True),
    "projected_annual": Field("text", "全年预计完成值 / projected value for the year", nullable=True),
    "projection_basis": Field("text", "预计值来源：单位预计 / 直线推算 / whose projection"),
    "completion_to_date": _rate("截至截止日完成年度指标值的比例", "completion of the annual target to date"),
    "projected_completion": _rate("预计全年完成年度指标值的比例", "projected completion of the annual target"),
    "expected_progress": _rate(
        "应达进度：累计型指标为序时进度，比率等水平型指标为 100", "expected progress: time progress or 100 for a level"
    ),
    "likelihood": Field("text", "完成目标可能性 确定能 / 有可能 / 完全不可能 / likelihood of meeting the target"),
    "deviation_cause": Field("text", "偏差原因类别 / deviation cause category"),
    "deviation_note": Field("text", "偏差原因说明 / deviation explained"),
    "date": Field("date", "日期 / date"),
    "amount_fen": _money("金额", "amount"),
}

MEASURES = ["planned", "received", "spent", "carried_forward", "recovered"]
# The short Chinese name of each fund measure and transfer flow, as the report's sentences and sheets write it.
MEASURE_NAMES = {
    "planned": "计划",
    "received": "到位",
    "spent": "支出",
    "carried_forward": "结转",
    "recovered": "收回",
    "transfers_in": "下拨转入",
    "transfers_out": "下拨转出",
}
FUND_COLUMNS = (*MEASURES, "balance", "arrival_rate", "execution_rate")
FINDING_COLUMNS = (
    "finding_id",
    "code",
    "severity",
    "subject_type",
    "subject",
    "figure",
    "message",
    "stake_fen",
    "points_lost",
    "rule",
    "severity_rule",
)
CHECK_COLUMNS = ("check", "passed", "detail")
LINEAGE_COLUMNS = ["output_table", "output_key", "measure", "input_kind", "file", "sheet", "row"]
PAIR_COLUMNS = (
    "match_method",
    "county_code",
    "subproject_code",
    "source_code",
    "transfer_id",
    "transfer_doc_no",
    "transfer_date",
    "transfer_amount",
    "transfer_file",
    "transfer_sheet",
    "transfer_row",
    "receipt_id",
    "receipt_doc_no",
    "receipt_date",
    "receipt_amount",
    "receipt_file",
    "receipt_sheet",
    "receipt_row",
    "difference",
)


@dataclasses.dataclass(frozen=True)
class Table:
    name: str
    title: str  # what the table is, as its asset's description begins
    columns: tuple[str, ...]
    key: tuple[str, ...] = ()  # columns that identify a row (unique)
    empty: tuple[str, ...] = ()  # columns that may be empty in this table although the field is not elsewhere

    def fields(self) -> dict[str, Field]:
        return {
            c: dataclasses.replace(FIELDS[c], nullable=True) if c in self.empty else FIELDS[c] for c in self.columns
        }

    def schema(self) -> pa.DataFrameSchema:
        """Columns, dtypes and nullability: what every row of the table must satisfy, checked in one pass per column."""
        return pa.DataFrameSchema(
            {c: pa.Column(f.pandas, nullable=f.nullable, coerce=False) for c, f in self.fields().items()},
            strict=True,
            ordered=True,
            unique=list(self.key) or None,
            report_duplicates="all",
        )


def _t(
    name: str, title: str, columns: tuple[str, ...] | list[str], key: tuple[str, ...] = (), empty: tuple[str, ...] = ()
) -> Table:
    return Table(name, title, tuple(columns), key, empty)


def columns(name: str) -> list[str]:
    """A table's columns, in order: what the stage building it uses."""
    return list(TABLES[name].columns)


def empty(name: str) -> pd.DataFrame:
    """A table with no rows and every column of its declared dtype: what a stage skipped for a folder yields."""
    return pd.DataFrame({c: pd.Series(dtype=f.pandas or object) for c, f in TABLES[name].fields().items()})


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        _t(
            "quarantine",
            "隔离记录",
            ("file", "sheet", "row", "column", "rule", "value", "message", "submitter", "kind"),
            empty=("row",),  # a file or sheet rejected whole has no row
        ),
        _t(
            "submission_inventory",
            "报送文件清单",
            (
                "file",
                "sha256",
                "submitter_type",
                "submitter",
                "format",
                "kinds",
                "lines",
                "lines_structural",
                "rows_read",
                "rows_accepted",
                "rows_quarantined",
                "status",
                "warnings",
            ),
            ("file",),
        ),
        _t(
            "sheet_inventory",
            "工作表清单",
            (
                "file",
                "sheet",
                "kind",
                "status",
                "lines",
                "lines_title",
                "lines_header",
                "lines_blank",
                "rows_read",
                "rows_accepted",
                "rows_quarantined",
                "lines_accepted",
                "lines_quarantined",
            ),
            ("file", "sheet"),
        ),
        _t("missing_submissions", "未提交清单", ("submitter_type", "submitter", "kind")),
        _t("ingest_findings", "数据质量发现", FINDING_COLUMNS),
        _t("ingest_checks", "校验结果", CHECK_COLUMNS),
        _t(
            "funds_by_source", "资金核对（按资金来源）", ("key", "source_code", "source_label", *FUND_COLUMNS), ("key",)
        ),
        _t(
            "funds_by_subproject",
            "资金核对（按子项目）",
            ("key", "subproject_code", "subproject_name", "group_code", "allocation", *FUND_COLUMNS),
            ("key",),
        ),
        _t("funds_by_group", "资金核对（按项目组）", ("key", "group_code", "group_name", *FUND_COLUMNS), ("key",)),
        _t(
            "funds_by_county",
            "资金核对（按旗县区）",
            (
                "key",
                "county_code",
                "county_name",
                *MEASURES,
                "transfers_in",
                "transfers_out",
                "balance",
                "arrival_rate",
                "execution_rate",
            ),
            ("key",),
        ),
        _t(
            "funds_cells",
            "资金核对（子项目 × 资金来源 × 旗县区）",
            (
                "key",
                "subproject_code",
                "source_code",
                "county_code",
                *MEASURES,
                "transfers_in",
                "transfers_out",
                "balance",
                "arrival_rate",
                "execution_rate",
            ),
            ("key",),
        ),
        _t("funds_lineage", "资金核对血缘", LINEAGE_COLUMNS),
        _t("transfer_matches", "下拨核对（已匹配）", ("key", "status", *PAIR_COLUMNS), ("key",)),
        _t("transfer_discrepancies", "下拨核对差异", ("key", "discrepancy_type", *PAIR_COLUMNS)),
        _t(
            "county_matching",
            "旗县区配套资金",
            ("key", "county_code", "county_name", "planned", "stated_plan", "received", "shortfall", "arrival_rate"),
            ("key",),
        ),
        _t("reconciliation_findings", "资金问题发现", FINDING_COLUMNS),
        _t("reconciliation_checks", "核对校验结果", CHECK_COLUMNS),
        _t(
            "indicator_scores",
            "绩效指标得分",
            (
                "framework",
                "order",
                "code",
                "name",
                "dimension",
                "dimension_name",
                "level2",
                "unit",
                "target",
                "comparator",
                "method",
                "source",
                "actual",
                "completion_rate",
                "points",
                "score",
                "status",
                "deviation_reason",
                "basis",
                "target_realism",
                "realism_reason",
                "value_kind",
                "scoring_rule",
            ),
            ("framework", "code"),
            empty=("status",),
        ),  # a leaf outside the performance dimensions has no status
        _t(
            "dimension_scores",
            "一级指标得分",
            ("framework", "code", "name", "weight", "score", "indicator_count", "performance"),
            ("framework", "code"),
        ),
        _t(
            "subproject_status",
            "子项目完成情况",
            (
                "subproject_code",
                "name",
                "group_code",
                "group_name",
                "allocation_fen",
                "status",
                "status_label",
                "planned_end",
                "adjusted_end",
                "end",
                "check",
                "check_message",
                "file",
                "sheet",
                "row",
            ),
            ("subproject_code",),
            empty=("check",),
        ),  # the date check that failed, empty when none did
        _t("scoring_findings", "绩效问题发现", FINDING_COLUMNS),
        _t("scoring_lineage", "得分血缘", LINEAGE_COLUMNS),
        _t("findings", "问题发现", FINDING_COLUMNS),
        _t("lineage", "血缘", (*LINEAGE_COLUMNS, "sha256")),
        _t("data_quality", "数据质量", CHECK_COLUMNS),
        _t(
            "monitoring_execution",
            "预算执行进度",
            (
                "level",
                "key",
                "name",
                "planned",
                "spent",
                "execution_rate",
                "time_progress",
                "gap",
                "projected_spent",
                "lag_fen",
                "deviation_level",
            ),
            ("level", "key"),
        ),
        _t(
            "monitoring_indicators",
            "绩效目标实现进度",
            (
                "indicator_code",
                "name",
                "level1",
                "level2",
                "unit",
                "comparator",
                "target",
                "actual_to_date",
                "projected_annual",
                "projection_basis",
                "completion_to_date",
                "projected_completion",
                "expected_progress",
                "gap",
                "likelihood",
                "deviation_cause",
                "deviation_note",
                "deviation_level",
                "file",
                "sheet",
                "row",
            ),
            ("indicator_code",),
        ),
        _t("monitoring_findings", "监控预警发现", FINDING_COLUMNS),
        _t("monitoring_lineage", "监控血缘", LINEAGE_COLUMNS),
        _t(
            "monitoring_excluded",
            "截止日后的资金行",
            ("kind", "file", "sheet", "row", "date", "source_code", "subproject_code", "amount_fen"),
            ("file", "sheet", "row"),
        ),
    )
}


def schema_failures(table: Table, df: pd.DataFrame, max_kept: int = 50) -> pd.DataFrame:
    """The table's schema failures as rows (empty when it conforms): kept as the check's metadata."""
    from pandera.errors import SchemaErrors

    schema = table.schema()
    if holds(schema, df):  # the common case decided in C; pandera names the failures otherwise
        return pd.DataFrame()
    try:
        schema.validate(df, lazy=True)
        return pd.DataFrame()
    except SchemaErrors as exc:
        return exc.failure_cases.head(max_kept)
