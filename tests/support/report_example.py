"""The report example: inputs built from the seed's published figures, shared by the report's unit tests and
the browser test, and the text helpers that read a rendered page.

Figures the seed publishes (funds, allocations, score, grade, status lists, shortfall lists) are
exact; indicator targets, actuals and leaf scores are illustrative, chosen to add up to 84.88.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from html.parser import HTMLParser

import pandas as pd

from pipeline.config import Settings
from pipeline.findings import assess
from pipeline.findings import frame as findings_frame
from pipeline.report import ReportInputs, ReportMeta, load_recommendations
from pipeline.report.inputs import TABLE_COLUMNS, PolicyDocument

SOURCES = {
    "central": "中央资金",
    "provincial": "自治区资金",
    "municipal": "市级资金",
    "county": "旗县区资金",
    "self_raised": "企业自筹",
}

# code: (planned, received, spent, carried_forward, recovered, arrival_rate, execution_rate) — the seed's figures.
FUNDS = {
    "central": ("10000.00", "10000.00", "6606.26", "1279.74", "2114.00", "100.00", "66.06"),
    "provincial": ("5000.00", "5000.00", "1514.97", "0.00", "0.00", "100.00", "30.30"),
    "municipal": ("9710.00", "9710.00", "103.60", "0.00", "0.00", "100.00", "1.07"),
    "county": ("3815.00", "500.00", "223.93", "0.00", "0.00", "13.11", "44.79"),
    "self_raised": ("2265.00", "2265.00", "2265.00", "0.00", "0.00", "100.00", "100.00"),
}
TOTAL = ("30790.00", "27475.00", "10713.76", "1279.74", "2114.00", "89.23", "38.99")
FUND_KEYS = ("planned", "received", "spent", "carried_forward", "recovered", "arrival_rate", "execution_rate")

GROUPS = {
    "1": "开展特色技能培训，提升就业创业能力",
    "2": "发挥政府和市场作用，兜牢重点群体就业底线",
    "3": "建设智慧就业服务云平台，全面提升就业服务信息化水平",
}
# code: (name, group, allocation) — the seed's 19 sub-projects.
SUBPROJECTS = {
    "1": ("呼和浩特市职业培训线上培训平台建设项目", "1", "800.00"),
    "2": ("乳业高技能人才培训基地建设项目", "1", "3805.00"),
    "3": ("技能大师工作室建设项目", "1", "125.00"),
    "4": ("就业技能培训基地奖补项目", "1", "600.00"),
    "5": ("紧缺急需技能人才特色培训项目", "1", "2500.00"),
    "6": ("吸纳就业补贴项目", "2", "6100.00"),
    "7": ("公益性岗位扩岗项目", "2", "6120.00"),
    "8": ("调整落实职业介绍补贴项目", "2", "600.00"),
    "9": ("“丁香扎根”大学生创业创新示范基地", "2", "1000.00"),
    "10": ("创业园孵化基地奖补项目", "2", "600.00"),
    "11": ("“首创助航”创业服务提档升级综合项目", "2", "650.00"),
    "12": ("和林格尔云谷人力资源服务产业园建设项目", "2", "1300.00"),
    "13": ("呼和浩特人力资源产业园服务功能提升项目", "2", "300.00"),
    "14": ("驻呼高校云服务站建设项目", "2", "300.00"),
    "15": ("“丁香扎根”高校毕业生就业创业服务专项行动项目", "2", "400.00"),
    "16": ("公共就业服务“10+N”专项行动项目", "2", "670.00"),
    "17": ("流动人员人事档案数字化项目", "2", "520.00"),
    "18": ("完善城乡劳动力资源及从业失业信息库项目", "2", "400.00"),
    "19": ("呼和浩特市智慧就业服务云平台建设项目", "3", "4000.00"),
}
COMPLETED = [str(c) for c in (*range(1, 6), *range(9, 19))]
DELAYED = ["6", "7", "8"]
ONGOING = ["19"]

UNMET = [
    "新增城镇就业人员规模",
    "登记失业人员规模",
    "打造特色培训品牌数量",
    "“一网通办”政策经办系统服务率",
    "新增技能人才数",
    "技能劳动者总量占比",
    "接受职业培训后取得职业资格证书人员比例",
]
NOT_COLLECTED = ["服务高校毕业生就业人次", "“一网通办”求职招聘系统服务人次", "公共就业服务事项网办率"]
SATISFACTION = ["公共就业服务满意度", "职业技能培训对象满意度", "就业扶持政策经办服务满意度"]
TOO_HIGH = "unrealistic"  # the history check's verdict; the reason is in REALISM_REASONS

DIMENSIONS = [
    ("decision", "决策", "15", "14.00"),
    ("process", "过程", "15", "12.55"),
    ("output", "产出", "40", "28.33"),
    ("outcome", "效益", "30", "30.00"),
]

# code, name, dimension, level2, unit, target, actual, completion_rate, points, score, status, deviation_reason, target_flag
INDICATORS = [
    ("D1", "立项依据充分性", "decision", "项目立项", "", "好", "好", None, "3", "3.00", None, "", ""),
    ("D2", "立项程序规范性", "decision", "项目立项", "", "好", "好", None, "2", "2.00", None, "", ""),
    (
        "D3",
        "绩效目标合理性",
        "decision",
        "绩效目标",
        "",
        "好",
        "较好",
        None,
        "3",
        "2.70",
        None,
        "个别子项目绩效目标不明确",
        "",
    ),
    ("D4", "绩效指标明确性", "decision", "绩效目标", "", "好", "较好", None, "2", "1.60", None, "部分指标口径不清", ""),
    (
        "D5",
        "预算编制科学性",
        "decision",
        "资金投入",
        "",
        "好",
        "较好",
        None,
        "3",
        "2.70",
        None,
        "预算编制科学论证不足",
        "",
    ),
    ("D6", "资金分配合理性", "decision", "资金投入", "", "好", "好", None, "2", "2.00", None, "", ""),
    (
        "P1",
        "资金到位率",
        "process",
        "资金管理",
        "%",
        "100",
        "89.23",
        "89.23",
        "3",
        "2.68",
        None,
        "旗县区配套资金到位不足",
        "",
    ),
    (
        "P2",
        "预算执行率",
        "process",
        "资金管理",
        "%",
        "100",
        "38.99",
        "38.99",
        "3",
        "1.17",
        None,
        "部分子项目延后实施",
        "",
    ),
    ("P3", "资金使用合规性", "process", "资金管理", "", "好", "好", None, "3", "3.00", None, "", ""),
    ("P4", "管理制度健全性", "process", "组织实施", "", "好", "好", None, "3", "3.00", None, "", ""),
    ("P5", "制度执行有效性", "process", "组织实施", "", "好", "较好", None, "3", "2.70", None, "过程管理待完善", ""),
    (
        "O1",
        "新增城镇就业人员规模",
        "output",
        "产出数量",
        "人",
        "45000",
        "44500",
        "98.89",
        "4",
        "3.96",
        "unmet",
        "受企业用工需求收缩影响，新增就业规模低于预期",
        "",
    ),
    (
        "O2",
        "登记失业人员规模",
        "output",
        "产出数量",
        "人",
        "20000",
        "20800",
        "96.15",
        "4",
        "3.85",
        "unmet",
        "登记失业人员规模高于控制目标",
        "",
    ),
    (
        "O3",
        "服务高校毕业生就业人次",
        "output",
        "产出数量",
        "人次",
        "60000",
        None,
        None,
        "4",
        "0.00",
        "not_collected",
        "指标涉及多个业务科室，累计数未完成统计",
        TOO_HIGH,
    ),
    (
        "O4",
        "打造特色培训品牌数量",
        "output",
        "产出数量",
        "个",
        "5",
        "4",
        "80.00",
        "3",
        "2.40",
        "unmet",
        "培训工种与当地人才市场需求匹配性不足",
        "",
    ),
    (
        "O5",
        "“一网通办”政策经办系统服务率",
        "output",
        "产出质量",
        "%",
        "100",
        "96",
        "96.00",
        "3",
        "2.88",
        "unmet",
        "部分政策经办事项尚未接入系统",
        "",
    ),
    (
        "O6",
        "“一网通办”求职招聘系统服务人次",
        "output",
        "产出数量",
        "人次",
        "100000",
        None,
        None,
        "3",
        "0.00",
        "not_collected",
        "智慧就业服务云平台延期，服务人次未完成统计",
        "",
    ),
    (
        "O7",
        "新增技能人才数",
        "output",
        "产出数量",
        "人",
        "20000",
        "18500",
        "92.50",
        "4",
        "3.70",
        "unmet",
        "技能价值激励导向机制未建立，企业及学员培训意愿不强",
        TOO_HIGH,
    ),
    (
        "O8",
        "技能劳动者总量占比",
        "output",
        "产出质量",
        "%",
        "30",
        "28",
        "93.33",
        "3",
        "2.80",
        "unmet",
        "技术工种和高技能人才培训偏少",
        "",
    ),
    (
        "O9",
        "公共就业服务事项网办率",
        "output",
        "产出质量",
        "%",
        "90",
        None,
        None,
        "3",
        "0.00",
        "not_collected",
        "公共就业服务事项网办清单未明确，未完成采集",
        "",
    ),
    (
        "O10",
        "接受职业培训后取得职业资格证书人员比例",
        "output",
        "产出质量",
        "%",
        "80",
        "73",
        "91.25",
        "3",
        "2.74",
        "unmet",
        "培训时间不够灵活，低端常规培训过多",
        "",
    ),
    (
        "O11",
        "乳业高技能人才培训基地建设完成率",
        "output",
        "产出时效",
        "%",
        "100",
        "100",
        "100.00",
        "3",
        "3.00",
        "met",
        "",
        "",
    ),
    ("O12", "单位培训成本", "output", "产出成本", "元/人", "1800", "1750", "102.86", "3", "3.00", "met", "", ""),
    ("E1", "城镇调查失业率", "outcome", "项目效益", "%", "5.5", "5.2", "105.77", "4", "4.00", "met", "", ""),
    ("E2", "高校毕业生总体就业率", "outcome", "项目效益", "%", "90", "91.3", "101.44", "4", "4.00", "met", "", ""),
    ("E3", "培训学员就业创业率", "outcome", "项目效益", "%", "60", "62", "103.33", "5", "5.00", "met", "", ""),
    ("E4", "新增就业岗位数", "outcome", "项目效益", "个", "3000", "3200", "106.67", "3", "3.00", "met", "", ""),
    ("E5", "项目可持续影响", "outcome", "项目效益", "", "好", "好", None, "5", "5.00", "met", "", ""),
    ("S1", "公共就业服务满意度", "outcome", "满意度", "%", "90", "92.4", "102.67", "3", "3.00", "met", "", TOO_HIGH),
    (
        "S2",
        "职业技能培训对象满意度",
        "outcome",
        "满意度",
        "%",
        "90",
        "93.1",
        "103.44",
        "3",
        "3.00",
        "met",
        "",
        TOO_HIGH,
    ),
    (
        "S3",
        "就业扶持政策经办服务满意度",
        "outcome",
        "满意度",
        "%",
        "90",
        "91.7",
        "101.89",
        "3",
        "3.00",
        "met",
        "",
        TOO_HIGH,
    ),
]
REALISM_REASONS = {
    "O3": "目标值 60000人次 高于往年最好水平 41000人次（2022年）",
    "O7": "目标值 20000人 高于往年最好水平 16400人（2022年）",
    "S1": "目标值 90% 高于往年最好水平 88.5%（2022年）",
    "S2": "目标值 90% 高于往年最好水平 89.1%（2022年）",
    "S3": "目标值 90% 高于往年最好水平 87.9%（2022年）",
}

NARRATIVE = """## 主要经验及做法

1. 项目实施在促进全市高质量充分就业方面起到了积
极助力作用。

项目以信息化赋能为引领，以人力资源市场体系、技能实训基地、创业孵化基地、劳务品牌建设为载体，进一步优化了全市公共就业服务效能。

通过打造应用支撑平台、多渠道就业服务系统等 7 大系统 67 个子系统和数据治理及数据迁移服务，将实现全流程进系统、全业务实名制、全服务用数据。

2. 乳业技能人才培养服务绩效显著，具有先进性创新性。

由市人社局主管、伊利与蒙牛公司具体实施的乳业高技能人才培养基地建设项目，已经全部竣工并投入运营。

- 输出了具有服务全国乳业产业界的高质量培训服务功能；
- 构建成了整合全球乳产业链头部企业的培训模式。
"""


WAN = 1_000_000  # 分 per 万元
PLANNED_FEN = 30790 * WAN


def _fen(wan: str) -> int:
    return int(round(float(wan) * 100)) * 10_000


def example_findings() -> pd.DataFrame:
    """The findings the stages emit for the example, assessed under the default severity rules."""
    ind = {r[0]: r for r in INDICATORS}
    lost = {c: f"{float(r[8]) - float(r[9]):.2f}" for c, r in ind.items()}
    rows = []
    for c, r in ind.items():
        if r[10] == "unmet":
            rows.append(
                {
                    "code": "indicator_unmet",
                    "severity": "medium",
                    "subject_type": "indicator",
                    "subject": c,
                    "figure": r[6],
                    "points_lost": lost[c],
                    "message": f"指标“{r[1]}”未完成目标值：目标 {r[5]}{r[4]}，实际 {r[6]}{r[4]}。",
                }
            )
        if r[10] == "not_collected":
            rows.append(
                {
                    "code": "indicator_not_collected",
                    "severity": "medium",
                    "subject_type": "indicator",
                    "subject": c,
                    "figure": "",
                    "points_lost": lost[c],
                    "message": f"指标“{r[1]}”未完成数据采集统计，不得分。",
                }
            )
        if r[12] == TOO_HIGH:
            rows.append(
                {
                    "code": "target_unrealistic",
                    "severity": "medium",
                    "subject_type": "indicator",
                    "subject": c,
                    "figure": r[5],
                    "points_lost": lost[c] if r[10] != "met" else "0.00",
                    "message": f"指标“{r[1]}”年度指标值超出往年实际水平：{REALISM_REASONS[c]}。",
                }
            )
    for c in DELAYED:
        rows.append(
            {
                "code": "subproject_delayed",
                "severity": "medium",
                "subject_type": "subproject",
                "subject": c,
                "figure": "2023-12-31",
                "stake_fen": _fen(SUBPROJECTS[c][2]),
                "message": f"子项目“{c}--{SUBPROJECTS[c][0]}”未按计划时间完成，延后实施或暂停实施。",
            }
        )
    rows.append(
        {
            "code": "subproject_extended",
            "severity": "medium",
            "subject_type": "subproject",
            "subject": "19",
            "figure": "2024-06-30",
            "stake_fen": _fen("4000"),
            "message": "子项目“19--呼和浩特市智慧就业服务云平台建设项目”计划完成时间调整至 2024-06-30，仍在持续推进中。",
        }
    )
    rows.append(
        {
            "code": "funds_recovered",
            "severity": "medium",
            "subject_type": "source",
            "subject": "central",
            "figure": "2114.00",
            "stake_fen": _fen("2114"),
            "message": "中央资金未使用部分被收回 2114.00 万元。",
        }
    )
    rows.append(
        {
            "code": "low_arrival",
            "severity": "medium",
            "subject_type": "source",
            "subject": "county",
            "figure": "13.11",
            "stake_fen": _fen("3315"),
            "message": "旗县区资金计划 3815.00 万元，实际到位 500.00 万元，到位率 13.11%，低于 60% 的阈值。",
        }
    )
    for c in ("provincial", "municipal", "county"):
        received, spent = FUNDS[c][1], FUNDS[c][2]
        rows.append(
            {
                "code": "low_execution_source",
                "severity": "medium",
                "subject_type": "source",
                "subject": c,
                "figure": FUNDS[c][6],
                "stake_fen": _fen(received) - _fen(spent),
                "message": f"{SOURCES[c]}预算执行率 {FUNDS[c][6]}%，低于 60% 的阈值。",
            }
        )
    rows.append(
        {
            "code": "low_execution_subproject",
            "severity": "medium",
            "subject_type": "subproject",
            "subject": "8",
            "figure": "44.79",
            "stake_fen": _fen("276.07"),
            "message": "子项目 8 预算执行率 44.79%，低于 60% 的阈值。",
        }
    )
    rows.append(
        {
            "code": "low_execution_subproject",
            "severity": "medium",
            "subject_type": "subproject",
            "subject": "9",
            "figure": "28.66",
            "stake_fen": _fen("713.43"),
            "message": "子项目 9 预算执行率 28.66%，低于 60% 的阈值。",
        }
    )
    rows.append(
        {
            "code": "archive_not_synced",
            "severity": "medium",
            "subject_type": "county",
            "subject": "150121",
            "figure": "2/4",
            "message": "土默特左旗（150121）子项目 8 的组织管理机制、工作目标等 2 项档案资料未同步至总项目管理组。",
        }
    )
    return assess(findings_frame(rows), Settings(), PLANNED_FEN, {c: r[8] for c, r in ind.items()})


def example_cells() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two lineage cells of county money in sub-project 8, shared by the county source's and sub-project 8's findings."""
    cells = pd.DataFrame(
        [
            ("8|county|150105", "8", "county", "150105", _fen("300"), _fen("300"), _fen("150"), 0, 0, 0, 0),
            ("8|county|150121", "8", "county", "150121", _fen("200"), _fen("200"), _fen("73.93"), 0, 0, 0, 0),
        ],
        columns=[
            "key",
            "subproject_code",
            "source_code",
            "county_code",
            "planned",
            "received",
            "spent",
            "carried_forward",
            "recovered",
            "transfers_in",
            "transfers_out",
        ],
    )
    links = pd.DataFrame(
        [(f, c) for f in ("low_execution_source:county", "low_execution_subproject:8") for c in cells["key"]],
        columns=["finding_id", "cell"],
    )
    return cells, links


def example_inputs(narrative: str = NARRATIVE) -> ReportInputs:
    """ReportInputs for the seed's Hohhot evaluation."""
    meta = ReportMeta(
        title="2023年公共就业服务能力提升示范项目绩效评价",
        programme="公共就业服务能力提升示范项目",
        region="呼和浩特市",
        evaluator="内蒙古腾冠管理咨询有限公司",
        report_date=dt.date(2024, 3, 29),
        programme_start=dt.date(2022, 5, 1),
        programme_end=dt.date(2023, 12, 31),
        evaluation_start=dt.date(2023, 1, 1),
        evaluation_end=dt.date(2023, 12, 31),
        money_unit="万元",
        implementing_unit="呼和浩特市人力资源和社会保障局",
        commissioned_by="呼和浩特市财政局",
        report_type="简版",
        approved=(2022, 5),
        policy_basis=(
            PolicyDocument("关于组织申报2022年公共就业服务能力提升示范项目的通知", use="approval"),
            PolicyDocument("项目支出绩效评价管理办法", "财预〔2020〕10号"),
        ),
        evaluation_approach="现场评价",
        projects_visited=19,
        region_coverage_pct="100",
    )
    indicators = pd.DataFrame(INDICATORS, columns=list(TABLE_COLUMNS["indicators"]))
    # Verdicts other than "unrealistic" must not flag anything: targets with history pass, the rest have none.
    indicators["target_flag"] = indicators["target_flag"].where(
        indicators["target_flag"] != "",
        indicators["code"].map(lambda c: "realistic" if c.startswith(("O", "E")) else "no_history"),
    )
    indicators["realism_reason"] = indicators["code"].map(REALISM_REASONS)
    indicators["comparator"] = indicators["code"].map(lambda c: "<=" if c == "O2" else ">=")
    indicators["method"] = indicators["target"].map(lambda t: "qualitative" if t == "好" else "proportional")
    indicators["scoring_rule"] = indicators["method"].map(
        {
            "qualitative": "定性：好 100%、较好 80%、一般 60%、差 0%，各评价人员平均",
            "proportional": "按完成比例计分：实际完成值 ÷ 年度指标值 × 分值，满分为止",
        }
    )
    summary = {
        "evaluation_id": "2023-hohhot-pes",
        "funds": {
            **dict(zip(FUND_KEYS, TOTAL)),
            "by_source": {code: dict(zip(FUND_KEYS, values)) for code, values in FUNDS.items()},
            "by_group": {"1": {"planned": "7830.00"}, "2": {"planned": "18960.00"}, "3": {"planned": "4000.00"}},
        },
        "coverage": {"projects_evaluated": 19, "projects_total": 19, "budget_share": "100.00"},
        "score": {"total": "84.88", "grade": "良", "by_dimension": {c: s for c, _, _, s in DIMENSIONS}},
        "subprojects": {"completed": COMPLETED, "delayed_or_paused": DELAYED, "ongoing": ONGOING},
        "indicators": {
            "unmet": UNMET,
            "not_collected": NOT_COLLECTED,
            "met_count": 10,
            "total_count": 20,
            "by_code": {
                r[0]: {
                    "name": r[1],
                    "dimension": r[2],
                    "target": r[5],
                    "actual": r[6],
                    "status": r[10],
                    "points": r[8],
                    "score": r[9],
                }
                for r in INDICATORS
            },
        },
        "rows": {"read": 1864, "accepted": 1864, "quarantined": 0},
        "files": {"read": 17, "rejected": 0, "missing": 0},
    }
    status = {
        **dict.fromkeys(COMPLETED, "completed"),
        **dict.fromkeys(DELAYED, "delayed_or_paused"),
        **dict.fromkeys(ONGOING, "ongoing"),
    }
    subprojects = pd.DataFrame(
        [(c, name, g, GROUPS[g], alloc, status[c]) for c, (name, g, alloc) in SUBPROJECTS.items()],
        columns=["subproject_code", "name", "group_code", "group_name", "allocation", "status"],
    )
    files = [
        ("bureau/finance/receipts.csv", "receipts", "finance", 40, "csv"),
        ("bureau/project_office/subprojects.xlsx", "subprojects", "project_office", 19, "xlsx"),
        ("county/150102.xlsx", "county_match_plan,county_receipts", "150102", 12, "xlsx"),
    ]
    inputs = pd.DataFrame(
        [(f, k, s, n, hashlib.sha256(f.encode()).hexdigest(), fmt) for f, k, s, n, fmt in files],
        columns=["file", "kind", "submitter", "rows", "sha256", "format"],
    )
    quality = pd.DataFrame(
        [
            ("subprojects:contract", True, "rows_checked=19, failure_count=0, failure_cases=none"),
            ("subprojects:expectations", True, "6/6 项期望通过 / expectations met"),
            (
                "submission_inventory:rows_accounted",
                True,
                "files_checked=17, rows_read=1864, rows_accepted=1864, rows_quarantined=0",
            ),
            ("funds_by_source:levels_sum_to_same_totals", True, "planned 30790.00, received 27475.00, spent 10713.76"),
        ],
        columns=["check", "passed", "detail"],
    )
    cells, links = example_cells()
    return ReportInputs(
        meta=meta,
        summary=summary,
        sources=SOURCES,
        subprojects=subprojects,
        dimensions=pd.DataFrame(DIMENSIONS, columns=["code", "name", "weight", "score"]),
        indicators=indicators,
        findings=example_findings(),
        quarantine=pd.DataFrame(columns=["file", "sheet", "row", "column", "rule", "value", "message"]),
        inputs=inputs,
        quality=quality,
        narrative=narrative,
        recommendations=load_recommendations(),
        names={
            "150102": "新城区",
            "150105": "赛罕区",
            "150121": "土默特左旗",
            "finance": "市人社局规划财务科",
            "project_office": "市人社局项目办",
        },
        kind_labels={
            "receipts": "资金到位",
            "subprojects": "子项目登记表",
            "county_match_plan": "配套计划",
            "county_receipts": "资金到位",
        },
        funds_cells=cells,
        finding_cells=links,
    )


def seed_figures() -> list[str]:
    """Every figure of the seed's fund tables, allocation table and score."""
    figures = [v for values in FUNDS.values() for v in values[:3]] + list(TOTAL[:5])
    figures += [alloc for _, _, alloc in SUBPROJECTS.values()] + ["7830.00", "18960.00", "4000.00", "84.88"]
    return sorted(set(figures))


class _Text(HTMLParser):
    """Visible text of an HTML page, one string per text node (style and script content excluded)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("style", "script")

    def handle_endtag(self, tag):
        self._skip -= tag in ("style", "script")

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def html_text(page: bytes) -> list[str]:
    parser = _Text()
    parser.feed(page.decode("utf-8"))
    return parser.parts


def body_text(page: bytes) -> list[str]:
    """The text after the table of contents, which repeats every heading."""
    cells = html_text(page)
    return cells[cells.index("一、基本情况", cells.index("一、基本情况") + 1) :]


def section(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end, text.index(start))]
