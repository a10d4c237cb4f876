"""The report and scored tables, on inputs built from the seed's published figures.

Figures the seed publishes (funds, allocations, score, grade, status lists, shortfall lists) are
exact; indicator targets, actuals and leaf scores are illustrative, chosen to add up to 84.88.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import re
import zipfile
from html.parser import HTMLParser

import docx
from docx.enum.section import WD_ORIENT
import openpyxl
import pandas as pd
import pytest

from pipeline.findings import frame as findings_frame
from pipeline.report import (
    ReportInputs,
    ReportMeta,
    load_recommendations,
    render_docx,
    render_html,
    render_xlsx,
    write_all,
)
from pipeline.report.inputs import FINDING_CODES
from pipeline.escape import csv_bytes, escape_text

SOURCES = {"central": "中央资金", "provincial": "自治区资金", "municipal": "市级资金", "county": "旗县区资金",
           "self_raised": "企业自筹"}

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

UNMET = ["新增城镇就业人员规模", "登记失业人员规模", "打造特色培训品牌数量", "“一网通办”政策经办系统服务率",
         "新增技能人才数", "技能劳动者总量占比", "接受职业培训后取得职业资格证书人员比例"]
NOT_COLLECTED = ["服务高校毕业生就业人次", "“一网通办”求职招聘系统服务人次", "公共就业服务事项网办率"]
SATISFACTION = ["公共就业服务满意度", "职业技能培训对象满意度", "就业扶持政策经办服务满意度"]
TOO_HIGH = "unrealistic"  # the history check's verdict; the reason is in REALISM_REASONS

DIMENSIONS = [("decision", "决策", "15", "14.00"), ("process", "过程", "15", "12.55"),
              ("output", "产出", "40", "28.33"), ("outcome", "效益", "30", "30.00")]

# code, name, dimension, level2, unit, target, actual, completion_rate, points, score, status, deviation_reason, target_flag
INDICATORS = [
    ("D1", "立项依据充分性", "decision", "项目立项", "", "好", "好", None, "3", "3.00", None, "", ""),
    ("D2", "立项程序规范性", "decision", "项目立项", "", "好", "好", None, "2", "2.00", None, "", ""),
    ("D3", "绩效目标合理性", "decision", "绩效目标", "", "好", "较好", None, "3", "2.70", None, "个别子项目绩效目标不明确", ""),
    ("D4", "绩效指标明确性", "decision", "绩效目标", "", "好", "较好", None, "2", "1.60", None, "部分指标口径不清", ""),
    ("D5", "预算编制科学性", "decision", "资金投入", "", "好", "较好", None, "3", "2.70", None, "预算编制科学论证不足", ""),
    ("D6", "资金分配合理性", "decision", "资金投入", "", "好", "好", None, "2", "2.00", None, "", ""),
    ("P1", "资金到位率", "process", "资金管理", "%", "100", "89.23", "89.23", "3", "2.68", None, "旗县区配套资金到位不足", ""),
    ("P2", "预算执行率", "process", "资金管理", "%", "100", "38.99", "38.99", "3", "1.17", None, "部分子项目延后实施", ""),
    ("P3", "资金使用合规性", "process", "资金管理", "", "好", "好", None, "3", "3.00", None, "", ""),
    ("P4", "管理制度健全性", "process", "组织实施", "", "好", "好", None, "3", "3.00", None, "", ""),
    ("P5", "制度执行有效性", "process", "组织实施", "", "好", "较好", None, "3", "2.70", None, "过程管理待完善", ""),
    ("O1", "新增城镇就业人员规模", "output", "产出数量", "人", "45000", "44500", "98.89", "4", "3.96", "unmet",
     "受企业用工需求收缩影响，新增就业规模低于预期", ""),
    ("O2", "登记失业人员规模", "output", "产出数量", "人", "20000", "20800", "96.15", "4", "3.85", "unmet",
     "登记失业人员规模高于控制目标", ""),
    ("O3", "服务高校毕业生就业人次", "output", "产出数量", "人次", "60000", None, None, "4", "0.00", "not_collected",
     "指标涉及多个业务科室，累计数未完成统计", TOO_HIGH),
    ("O4", "打造特色培训品牌数量", "output", "产出数量", "个", "5", "4", "80.00", "3", "2.40", "unmet",
     "培训工种与当地人才市场需求匹配性不足", ""),
    ("O5", "“一网通办”政策经办系统服务率", "output", "产出质量", "%", "100", "96", "96.00", "3", "2.88", "unmet",
     "部分政策经办事项尚未接入系统", ""),
    ("O6", "“一网通办”求职招聘系统服务人次", "output", "产出数量", "人次", "100000", None, None, "3", "0.00",
     "not_collected", "智慧就业服务云平台延期，服务人次未完成统计", ""),
    ("O7", "新增技能人才数", "output", "产出数量", "人", "20000", "18500", "92.50", "4", "3.70", "unmet",
     "技能价值激励导向机制未建立，企业及学员培训意愿不强", TOO_HIGH),
    ("O8", "技能劳动者总量占比", "output", "产出质量", "%", "30", "28", "93.33", "3", "2.80", "unmet",
     "技术工种和高技能人才培训偏少", ""),
    ("O9", "公共就业服务事项网办率", "output", "产出质量", "%", "90", None, None, "3", "0.00", "not_collected",
     "公共就业服务事项网办清单未明确，未完成采集", ""),
    ("O10", "接受职业培训后取得职业资格证书人员比例", "output", "产出质量", "%", "80", "73", "91.25", "3", "2.74",
     "unmet", "培训时间不够灵活，低端常规培训过多", ""),
    ("O11", "乳业高技能人才培训基地建设完成率", "output", "产出时效", "%", "100", "100", "100.00", "3", "3.00", "met",
     "", ""),
    ("O12", "单位培训成本", "output", "产出成本", "元/人", "1800", "1750", "102.86", "3", "3.00", "met", "", ""),
    ("E1", "城镇调查失业率", "outcome", "项目效益", "%", "5.5", "5.2", "105.77", "4", "4.00", "met", "", ""),
    ("E2", "高校毕业生总体就业率", "outcome", "项目效益", "%", "90", "91.3", "101.44", "4", "4.00", "met", "", ""),
    ("E3", "培训学员就业创业率", "outcome", "项目效益", "%", "60", "62", "103.33", "5", "5.00", "met", "", ""),
    ("E4", "新增就业岗位数", "outcome", "项目效益", "个", "3000", "3200", "106.67", "3", "3.00", "met", "", ""),
    ("E5", "项目可持续影响", "outcome", "项目效益", "", "好", "好", None, "5", "5.00", "met", "", ""),
    ("S1", "公共就业服务满意度", "outcome", "满意度", "%", "90", "92.4", "102.67", "3", "3.00", "met", "", TOO_HIGH),
    ("S2", "职业技能培训对象满意度", "outcome", "满意度", "%", "90", "93.1", "103.44", "3", "3.00", "met", "", TOO_HIGH),
    ("S3", "就业扶持政策经办服务满意度", "outcome", "满意度", "%", "90", "91.7", "101.89", "3", "3.00", "met", "",
     TOO_HIGH),
]
REALISM_REASONS = {
    "O3": "目标值 60000人次 高于往年最好水平 41000人次（2022年）",
    "O7": "目标值 20000人 高于往年最好水平 16400人（2022年）",
    "S1": "目标值 90% 高于往年最好水平 88.5%（2022年）",
    "S2": "目标值 90% 高于往年最好水平 89.1%（2022年）",
    "S3": "目标值 90% 高于往年最好水平 87.9%（2022年）",
}
INDICATOR_COLUMNS = ["code", "name", "dimension", "level2", "unit", "target", "actual", "completion_rate", "points",
                     "score", "status", "deviation_reason", "target_flag"]

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


def example_inputs() -> ReportInputs:
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
    )
    indicators = pd.DataFrame(INDICATORS, columns=INDICATOR_COLUMNS)
    # Verdicts other than "unrealistic" must not flag anything: targets with history pass, the rest have none.
    indicators["target_flag"] = indicators["target_flag"].where(indicators["target_flag"] != "", indicators["code"].map(
        lambda c: "realistic" if c.startswith(("O", "E")) else "no_history"))
    indicators["realism_reason"] = indicators["code"].map(REALISM_REASONS)
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
            "unmet": UNMET, "not_collected": NOT_COLLECTED, "met_count": 10, "total_count": 20,
            "by_code": {r[0]: {"name": r[1], "dimension": r[2], "target": r[5], "actual": r[6], "status": r[10],
                               "points": r[8], "score": r[9]} for r in INDICATORS},
        },
        "rows": {"read": 1864, "accepted": 1864, "quarantined": 0},
        "files": {"read": 17, "rejected": 0, "missing": 0},
    }
    status = {**{c: "completed" for c in COMPLETED}, **{c: "delayed_or_paused" for c in DELAYED},
              **{c: "ongoing" for c in ONGOING}}
    subprojects = pd.DataFrame(
        [(c, name, g, GROUPS[g], alloc, status[c]) for c, (name, g, alloc) in SUBPROJECTS.items()],
        columns=["subproject_code", "name", "group_code", "group_name", "allocation", "status"],
    )
    findings = findings_frame([
        {"code": "low_arrival", "severity": "high", "subject_type": "source", "subject": "county", "figure": "13.11",
         "message": "旗县区资金计划 3815.00 万元，到位 500.00 万元，到位率 13.11%，低于 60%。"},
        *({"code": "low_execution_source", "severity": "medium", "subject_type": "source", "subject": c, "figure": FUNDS[c][6],
           "message": f"{SOURCES[c]}到位 {FUNDS[c][1]} 万元，支出 {FUNDS[c][2]} 万元，执行率 {FUNDS[c][6]}%，低于 60%。"}
          for c in ("provincial", "municipal", "county")),
        {"code": "archive_not_synced", "severity": "medium", "subject_type": "county", "subject": "150121",
         "figure": "2", "message": "土默特左旗：子项目 8 的组织管理机制、工作目标 2 项档案未同步到总项目管理组。"},
    ])
    files = [("bureau/finance/资金到位.xlsx", "receipts", "finance", 40),
             ("bureau/project_office/子项目登记表.xlsx", "subprojects", "project_office", 19),
             ("county/150102.xlsx", "county_receipts", "150102", 12)]
    inputs = pd.DataFrame(
        [(f, k, s, n, hashlib.sha256(f.encode()).hexdigest()) for f, k, s, n in files],
        columns=["file", "kind", "submitter", "rows", "sha256"],
    )
    quality = pd.DataFrame(
        [("读取行数 = 通过行数 + 隔离行数", True, "1864 = 1864 + 0"),
         ("各层级资金合计一致", True, "来源、子项目、项目组、旗县区四个层级合计均为 30790.00 万元"),
         ("维度得分之和等于总分", True, "14.00 + 12.55 + 28.33 + 30.00 = 84.88")],
        columns=["check", "passed", "detail"],
    )
    return ReportInputs(
        meta=meta, summary=summary, sources=SOURCES, subprojects=subprojects,
        dimensions=pd.DataFrame(DIMENSIONS, columns=["code", "name", "weight", "score"]),
        indicators=indicators, findings=findings,
        quarantine=pd.DataFrame(columns=["file", "sheet", "row", "column", "rule", "value", "message"]),
        inputs=inputs, quality=quality, narrative=NARRATIVE, recommendations=load_recommendations(),
    )


def seed_figures() -> list[str]:
    """Every figure of the seed's fund tables, allocation table and score."""
    figures = [v for values in FUNDS.values() for v in values[:3]] + list(TOTAL[:5])
    figures += [alloc for _, _, alloc in SUBPROJECTS.values()] + ["7830.00", "18960.00", "4000.00", "84.88"]
    return sorted(set(figures))


class _Text(HTMLParser):
    """Visible text of an HTML page, one string per text node (style content excluded)."""

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
    return cells[cells.index("一、基本情况", cells.index("一、基本情况") + 1):]


@pytest.fixture(scope="module")
def inp() -> ReportInputs:
    return example_inputs()


@pytest.fixture(scope="module")
def page(inp) -> bytes:
    return render_html(inp)


def _status_lists(cells: list[str]) -> dict[str, list[str]]:
    """Sub-project codes under each status heading of the completion table, in order."""
    start = cells.index("19 项子项目完成情况表")
    lists: dict[str, list[str]] = {}
    current = None
    for cell in cells[start + 1:]:
        if cell.startswith(("一、基本完成", "二、未按计划时间完成", "三、计划时间调整后")):
            current = cell.split("（")[0]
            lists[current] = []
        elif current and re.match(r"^\d+--", cell):
            lists[current].append(cell.split("--")[0])
        elif current and lists[current] and not re.match(r"^\d+--", cell):
            break
    return lists


def test_html_holds_every_seed_figure(page):
    text = "\n".join(html_text(page))
    for figure in seed_figures() + ["89.23", "38.99", "1279.74", "2114.00", "13.11"]:
        assert figure in text, figure
    assert "本次绩效评价最终评价得分为 84.88 分，评级为“良”。" in text
    assert "计划投资总额 30790.00 万元，其中：中央资金 10000.00 万元，自治区资金 5000.00 万元，市级资金 9710.00 万元，" \
           "旗县区资金 3815.00 万元，企业自筹 2265.00 万元。" in text
    assert "中央资金支出 6606.26 万元，结转下年支出 1279.74 万元，回收金额 2114.00 万元" in text


def test_html_follows_the_seed_sections(page):
    cells = body_text(page)
    headings = ["一、基本情况", "二、绩效评价工作开展情况", "三、综合评价情况及评价结论",
                "四、主要经验及做法、存在的问题及原因分析", "（一）主要经验及做法", "（二）存在的问题及原因分析",
                "五、相关建议", "附件一：绩效指标评分表", "附件二：数据质量摘要", "附件三：输入文件清单"]
    positions = [cells.index(h) for h in headings]
    assert positions == sorted(positions)
    toc = html_text(page)[:html_text(page).index("一、基本情况", html_text(page).index("一、基本情况") + 1)]
    assert [c for c in toc if c in headings] == headings
    # Allocation table: group rows, subtotals and the total, as the seed lays them out.
    alloc = cells[cells.index("19 项子项目名称及资金分配情况统计表"):]
    for label, value in (("子项目 1-5 小计", "7830.00"), ("子项目 6-18 小计", "18960.00"),
                         ("子项目 19 小计", "4000.00"), ("总项目合计（1-19）", "30790.00")):
        assert alloc[alloc.index(label) + 1] == value
    assert "一、开展特色技能培训，提升就业创业能力" in alloc
    assert "5--紧缺急需技能人才特色培训项目" in alloc


def test_html_status_and_shortfall_lists(page):
    cells = body_text(page)
    assert _status_lists(cells) == {"一、基本完成": COMPLETED, "二、未按计划时间完成延后实施或暂停实施": DELAYED,
                                    "三、计划时间调整后仍在实施期内持续推进中": ONGOING}
    text = "\n".join(cells)
    output = next(c for c in cells if c.startswith("从项目产出方面来看"))
    assert "、".join(n for n in UNMET) + "未完成目标值" in output
    assert "、".join(NOT_COLLECTED) + "未完成数据采集统计" in output
    problems = text[text.index("（二）存在的问题及原因分析"):text.index("五、相关建议")]
    for name in UNMET + NOT_COLLECTED:
        assert name in problems, name
    assert "新增技能人才数：年度指标值 20000人，实际完成值 18500人，未达到目标值。偏差原因：技能价值激励导向机制未建立" in problems
    assert "公共就业服务事项网办率：年度指标值 90%，实际完成值未完成数据采集统计。偏差原因：" in problems
    assert "6--吸纳就业补贴项目未按计划时间完成" in problems
    assert "中央资金收回 2114.00 万元。" in problems
    assert "到位率 13.11%" in problems and "土默特左旗" in problems
    targets = problems[problems.index("1. 部分绩效目标值设定较高（5 项）。"):problems.index("2. ")]
    assert "新增技能人才数：年度指标值 20000人，目标值 20000人 高于往年最好水平 16400人（2022年）。" in targets
    for name in ("服务高校毕业生就业人次", *SATISFACTION):
        assert f"{name}：年度指标值" in targets
    # The evaluator's narrative, with the hard-wrapped heading joined again.
    assert "1. 项目实施在促进全市高质量充分就业方面起到了积极助力作用。" in cells
    assert "构建成了整合全球乳产业链头部企业的培训模式。" in cells


def test_one_recommendation_per_finding_type(inp, page):
    text = "\n".join(body_text(page))
    advice = text[text.index("五、相关建议"):text.index("附件一")]
    numbered = re.findall(r"^(\d+)\. ", advice, flags=re.M)
    codes = ["target_unrealistic", "indicator_unmet", "indicator_not_collected", "subproject_delayed",
             "subproject_extended", "low_arrival", "low_execution_source", "funds_recovered", "archive_not_synced"]
    assert numbered == [str(n) for n in range(1, len(codes) + 1)]
    for code in codes:
        assert inp.recommendations[code].split("\n")[0] in advice


def test_html_is_self_contained_and_prints_on_a4(page):
    html = page.decode("utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, flags=re.I)
    assert not re.search(r"@import|url\(", html, flags=re.I)
    assert "http://" not in html and "https://" not in html
    assert "@page { size: A4" in html and "page-break-before: always" in html
    assert '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "SimSun", sans-serif' in html
    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    assert len(svgs) == 3
    assert all("<text" in s for s in svgs)
    assert ">中央资金</text>" in svgs[0] and ">6606.26</text>" in svgs[0]
    assert ">28.33 / 40 分</text>" in svgs[1]
    assert ">未采集</text>" in svgs[2] and ">80.00%</text>" in svgs[2]


def test_docx_holds_the_same_numbers(inp):
    data = render_docx(inp)
    document = docx.Document(io.BytesIO(data))
    paragraphs = [p.text for p in document.paragraphs]
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    text = "\n".join(paragraphs + cells)
    for figure in seed_figures() + ["89.23", "38.99"] + UNMET + NOT_COLLECTED:
        assert figure in text, figure
    assert "本次绩效评价最终评价得分为 84.88 分，评级为“良”。" in paragraphs
    headings = {p.text: p.style.name for p in document.paragraphs if p.style.name.startswith("Heading")}
    assert headings["一、基本情况"] == "Heading 1"
    assert headings["五、相关建议"] == "Heading 1"
    assert headings["（二）存在的问题及原因分析"] == "Heading 2"
    funds = next(t for t in document.tables if t.rows[0].cells[0].text == "资金来源")
    assert [c.text for c in funds.rows[-1].cells] == ["合计", *TOTAL]
    assert [c.text for c in funds.rows[1].cells][:6] == ["中央资金", *FUNDS["central"][:5]]
    styles = zipfile.ZipFile(io.BytesIO(data)).read("word/styles.xml").decode()
    assert 'w:eastAsia="SimSun"' in styles and 'w:eastAsia="SimHei"' in styles
    assert 'TOC \\o "1-2"' in zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode()
    core = document.core_properties
    assert core.created == core.modified == dt.datetime(2024, 3, 29, tzinfo=dt.timezone.utc)
    assert core.author == core.last_modified_by == "内蒙古腾冠管理咨询有限公司"
    assert {i.date_time for i in zipfile.ZipFile(io.BytesIO(data)).infolist()} == {(2024, 3, 29, 0, 0, 0)}
    orientations = [s.orientation for s in document.sections]
    assert orientations == [WD_ORIENT.PORTRAIT, WD_ORIENT.LANDSCAPE, WD_ORIENT.PORTRAIT]  # the wide indicator table


def test_xlsx_holds_the_same_numbers(inp):
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(inp)))
    assert book.properties.created == dt.datetime(2024, 3, 29) and book.properties.creator == inp.meta.evaluator
    assert book.sheetnames == ["资金", "维度得分", "子项目", "指标", "问题发现", "隔离记录", "输入文件"]
    assert all(book[name].freeze_panes == "A2" for name in book.sheetnames)
    funds = book["资金"]
    assert [c.value for c in funds[1]] == ["资金来源编码", "资金来源", "计划资金", "到位资金", "实际支出", "结转下年",
                                           "收回", "到位率（%）", "执行率（%）"]
    rows = {r[0].value: r for r in funds.iter_rows(min_row=2)}
    for code, values in {**FUNDS, "total": TOTAL}.items():
        assert [f"{c.value:.2f}" for c in rows[code][2:]] == list(values), code
        assert all(c.data_type == "n" and c.number_format == "0.00" for c in rows[code][2:])
    sub = book["子项目"]
    assert sum(r[4].value for r in sub.iter_rows(min_row=2)) == pytest.approx(30790.00)
    assert [r[0].value for r in sub.iter_rows(min_row=2) if r[5].value == "未按计划时间完成延后实施或暂停实施"] == DELAYED
    ind = book["指标"]
    status = {r[1].value: r[10].value for r in ind.iter_rows(min_row=2)}
    assert [n for n, s in status.items() if s == "未达目标"] == UNMET
    assert [n for n, s in status.items() if s == "未完成采集"] == NOT_COLLECTED
    assert sum(r[9].value for r in ind.iter_rows(min_row=2)) == pytest.approx(84.88)
    flags = {r[0].value: (r[12].value, r[13].value) for r in ind.iter_rows(min_row=2)}
    assert flags["O7"] == ("目标值设定偏高或偏离历史水平", REALISM_REASONS["O7"])
    assert flags["E1"] == ("与历年水平相符", None) and flags["D1"] == ("无历年数据", None)
    dims = book["维度得分"]
    assert [(r[0].value, r[3].value) for r in dims.iter_rows(min_row=2)] == [(c, float(s)) for c, _, _, s in DIMENSIONS]


def test_xlsx_extra_tables_become_sheets(inp):
    extra = {"lineage": pd.DataFrame({"output": ["funds:county"], "input": ["@raw/county/150102.xlsx"], "n": [3]})}
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(inp, extra)))
    sheet = book["lineage"]
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[2]] == ["funds:county", "'@raw/county/150102.xlsx", 3]


def _injected(inp: ReportInputs) -> ReportInputs:
    findings = pd.concat([inp.findings, findings_frame([
        {"code": "submission_missing", "severity": "high", "subject_type": "submitter", "subject": "=SUM(1)",
         "figure": "-5", "message": "=SUM(1)"}])], ignore_index=True)
    quarantine = pd.DataFrame([{"file": "county/150103.xlsx", "sheet": "资金到位", "row": 7, "column": "金额",
                                "rule": "not_a_number", "value": "=SUM(1)", "message": "+cmd|' /C calc'!A0"}])
    return dataclasses.replace(inp, findings=findings, quarantine=quarantine)


def test_submitted_text_never_becomes_a_formula(inp):
    bad = _injected(inp)
    data = render_xlsx(bad)
    book = openpyxl.load_workbook(io.BytesIO(data))
    values = [c for ws in book for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c for c in values if c.data_type == "f"]
    assert not [c.value for c in values if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@"))]
    quarantine = book["隔离记录"]
    assert [c.value for c in quarantine[2]] == ["county/150103.xlsx", "资金到位", 7, "金额", "not_a_number",
                                                "'=SUM(1)", "'+cmd|' /C calc'!A0"]
    finding = next(r for r in book["问题发现"].iter_rows(min_row=2) if r[2].value == "submission_missing")
    assert [finding[5].value, finding[6].value, finding[7].value] == ["'=SUM(1)", -5, "'=SUM(1)"]
    assert "<f>" not in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet6.xml").decode()
    # The report still shows the text as submitted, escaped for HTML only.
    assert "=SUM(1)" in "\n".join(html_text(render_html(bad)))


def test_quarantined_files_are_reported_once(inp):
    quarantine = pd.DataFrame(
        [("county/150103.xlsx", "资金到位", 7, "金额", "not_a_number", "abc", "金额不是数字"),
         ("county/150103.xlsx", "资金到位", 9, "金额", "too_many_decimals", "1.234", "金额最多两位小数"),
         ("county/150104.xlsx", "", None, "", "unreadable", "", "文件无法读取")],
        columns=["file", "sheet", "row", "column", "rule", "value", "message"])
    rejected = findings_frame([{"code": "file_rejected", "severity": "high", "subject_type": "file",
                                "subject": "county/150104.xlsx", "figure": "", "message": "文件 county/150104.xlsx 无法读取。"}])
    bad = dataclasses.replace(inp, quarantine=quarantine, findings=pd.concat([inp.findings, rejected], ignore_index=True))
    text = "\n".join(body_text(render_html(bad)))
    problems = text[text.index("（二）存在的问题及原因分析"):text.index("五、相关建议")]
    assert "county/150103.xlsx：2 条记录未通过校验被隔离（not_a_number、too_many_decimals）。" in problems
    assert "county/150104.xlsx：" not in problems and "文件 county/150104.xlsx 无法读取。" in problems
    quality = body_text(render_html(bad))
    summary = quality[quality.index("隔离记录汇总（按文件及规则）"):]
    assert summary[summary.index("合计") + 1] == "3"
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(bad)))
    assert [c.value for c in book["隔离记录"]["C"]] == ["行号", 7, 9, None]


def test_csv_helper_escapes_text_not_numbers():
    df = pd.DataFrame({"value": ["=SUM(1)", "@A1", "-2+3", "正常"], "amount": [-5, 3, 0, 12],
                       "rate": [-1.5, 2.0, None, 0.5]})
    assert csv_bytes(df).decode("utf-8-sig").splitlines() == [
        "value,amount,rate", "'=SUM(1),-5,-1.5", "'@A1,3,2.0", "'-2+3,0,", "正常,12,0.5"]
    assert csv_bytes(df).startswith(b"\xef\xbb\xbf")
    no_text = pd.DataFrame({"n": pd.Series([-1, 2], dtype=object), "c": pd.Categorical(["-x", "y"])})
    assert csv_bytes(no_text).decode("utf-8-sig").splitlines() == ["n,c", "-1,'-x", "2,y"]
    assert escape_text("\t=1") == "'\t=1" and escape_text("1=1") == "1=1"


def test_renders_are_byte_identical(tmp_path):
    first, second = example_inputs(), example_inputs()
    assert render_html(first) == render_html(second)
    assert render_docx(first) == render_docx(second)
    assert render_xlsx(first) == render_xlsx(second)
    a = write_all(first, tmp_path / "a")
    b = write_all(second, tmp_path / "b")
    assert a == b
    assert a["report_docx"]["path"] == "report.docx"
    assert a["report_html"]["sha256"] == hashlib.sha256((tmp_path / "a" / "report.html").read_bytes()).hexdigest()
    assert set(a) == {"report_html", "report_docx", "scored_tables_xlsx"}


def test_national_scale_findings_show_the_worst_20(inp):
    many = findings_frame([
        {"code": "submission_missing", "severity": "high" if n % 10 == 0 else "low", "subject_type": "submitter",
         "subject": f"county-{n:04d}", "figure": "", "message": f"县 {n:04d} 未提交资金到位表。"}
        for n in range(2850)
    ])
    big = dataclasses.replace(inp, findings=pd.concat([inp.findings, many], ignore_index=True))
    text = "\n".join(html_text(render_html(big)))
    shown = re.findall(r"县 (\d{4}) 未提交", text)
    assert len(shown) == 20
    assert all(int(n) % 10 == 0 for n in shown)  # the high-severity ones come first
    assert "另有 2830 项未逐条列出" in text
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(big)), read_only=True)
    assert sum(1 for r in book["问题发现"].iter_rows(min_row=2) if r[2].value == "submission_missing") == 2850


def test_supplied_findings_are_not_stated_twice(inp):
    supplied = findings_frame([{"code": "indicator_unmet", "severity": "medium", "subject_type": "indicator",
                                "subject": "O7", "figure": "18500", "message": "新增技能人才数完成 18500 人。"}])
    text = "\n".join(html_text(render_html(dataclasses.replace(inp, findings=supplied))))
    assert text.count("新增技能人才数完成 18500 人。偏差原因：技能价值激励导向机制未建立") == 1
    assert "新增技能人才数：年度指标值 20000人，实际完成值" not in text


def test_recommendations_override_per_evaluation(tmp_path):
    (tmp_path / "recommendations.yaml").write_text("low_arrival: |\n  督促旗县区落实配套资金。\n", encoding="utf-8")
    texts = load_recommendations(tmp_path)
    assert texts["low_arrival"] == "督促旗县区落实配套资金。"
    assert texts["indicator_unmet"] == load_recommendations()["indicator_unmet"]
    inp = dataclasses.replace(example_inputs(), recommendations=texts)
    assert "6. 督促旗县区落实配套资金。" in html_text(render_html(inp))


def test_every_known_finding_code_has_a_default_recommendation():
    assert set(load_recommendations()) == set(FINDING_CODES)


def test_narrative_sections_go_where_the_seed_puts_them(inp):
    narrative = NARRATIVE + """
## 存在的问题及原因分析

多原因导致项目期内技能培训技能人才产出情况不理想。

## 相关建议

### (1) 建议强化全民终身技能学习意识。

建议积极加大政策宣传引导作用。
"""
    cells = body_text(render_html(dataclasses.replace(inp, narrative=narrative)))
    experience, problems, advice = (cells.index(h) for h in ("（一）主要经验及做法", "（二）存在的问题及原因分析", "五、相关建议"))
    assert experience < cells.index("2. 乳业技能人才培养服务绩效显著，具有先进性创新性。") < problems
    # The evaluator's analysis opens (二); the generated problems follow it.
    assert cells.index("多原因导致项目期内技能培训技能人才产出情况不理想。") == problems + 1
    assert advice < cells.index("(1) 建议强化全民终身技能学习意识。") < cells.index("附件一：绩效指标评分表")


def test_inputs_contract_names_missing_columns(inp):
    with pytest.raises(ValueError, match=r"ReportInputs.subprojects lacks columns \['status'\]"):
        dataclasses.replace(inp, subprojects=inp.subprojects.drop(columns="status"))
