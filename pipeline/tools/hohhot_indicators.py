"""Hohhot 2023 indicator submissions as data: bureau and county actuals, evaluator grades, survey.

Pure data, no I/O: the raw-data builder writes these rows into the submission files. Which
indicators missed their target or were not collected, and that the satisfaction indicators were
met, is the seed's (section 三 and 四(二)); every target, actual, county split, grade and survey
count is illustrative, chosen so that the third-party framework scores the seed's 84.88 (良).
See raw/2023-hohhot-pes/frameworks/README.md.
"""

from __future__ import annotations

COLLECTED = "已采集"
NOT_COLLECTED = "未采集"


def _row(code: str, actual: str, reason: str = "") -> dict:
    return {
        "indicator_code": code,
        "actual": actual,
        "data_status": COLLECTED if actual != "" else NOT_COLLECTED,
        "deviation_reason": reason,
    }


# 市人社局 departments (codes as in evaluation.yaml): employment 就业促进科, skills 职业能力建设科, it_center 信息中心.
BUREAU_INDICATORS: dict[str, list[dict]] = {
    "employment": [
        _row("new_urban_jobs", "4.32", "吸纳就业补贴项目延后实施，中小微企业吸纳就业规模不及预期"),
        _row("graduates_served", "", "“服务”形式与口径未明确，各业务科室服务高校毕业生就业人次统计累计数未完成"),
        _row("hard_to_employ_placed", "3260"),
        _row("archives_digitised", "15.6"),
        _row("incubated_entities", "126"),
        _row("subsidy_timeliness", "97.5"),
        _row("reemployed", "8420"),
        _row("surveyed_unemployment_rate", "5.1"),
        _row("service_to_job_share", "63.4"),
        _row("startup_jobs", "5380"),
        _row("graduate_employment_rate", "91.2"),
    ],
    "skills": [
        _row("training_brands", "4", "培训工种与本地人才市场需求匹配性不足，未形成具有特色优势工种的知名培训机构"),
        _row("master_studios", "5"),
        _row("dairy_training_base", "1"),
        _row("skilled_worker_share", "28.2", "技能价值激励导向机制未建立，企业及学员培训意愿不强"),
        _row("certificate_rate", "49.5", "低端常规培训过多，技术工种和高技能人才培训偏少，培训学员技能人才产出不理想"),
        _row("startup_training_pass_rate", "93.0"),
        _row("training_unit_cost", "1860"),
    ],
    "it_center": [
        _row(
            "job_portal_visits",
            "",
            "求职招聘系统并入智慧就业服务云平台（项目19），建设期延至2024年6月，服务人次未完成值统计",
        ),
        _row("policy_system_rate", "92.15", "政策经办信息化部分并入智慧就业服务云平台整合实施，部分政策事项尚未上线"),
        _row("online_service_rate", "", "公共就业服务事项网办清单未明确，网办率未完成采集工作"),
    ],
}

# County shares of the indicators the framework sums (county_sum) or averages (county_mean):
# registered_unemployed 万人 (sum 2.62), training_sessions 人次 (sum 32480),
# new_skilled_workers 人 (sum 16850), unemployed_assistance_rate % (mean 96.61).
_COUNTY_VALUES = {
    #          registered_unemployed, training_sessions, new_skilled_workers, unemployed_assistance_rate
    "150102": ("0.52", "5200", "2900", "97.2"),
    "150103": ("0.38", "4100", "2100", "96.5"),
    "150104": ("0.31", "3600", "1850", "98.1"),
    "150105": ("0.61", "6800", "3400", "95.8"),
    "150121": ("0.24", "3900", "2050", "96.0"),
    "150122": ("0.15", "2300", "1200", "97.5"),
    "150123": ("0.17", "2600", "1500", "96.8"),
    "150124": ("0.10", "1480", "750", "95.2"),
    "150125": ("0.14", "2500", "1100", "96.4"),
}
_COUNTY_CODES = ("registered_unemployed", "training_sessions", "new_skilled_workers", "unemployed_assistance_rate")
_COUNTY_REASONS = {
    ("150102", "registered_unemployed"): "辖区重点企业减员，新增登记失业人员增加",
    ("150105", "registered_unemployed"): "高校毕业生离校未就业人员集中办理失业登记",
    ("150105", "new_skilled_workers"): "企业及学员培训意愿不强，高技能人才培训偏少",
    ("150124", "new_skilled_workers"): "培训时间不够灵活，培训机构招生困难",
}

COUNTY_INDICATORS: dict[str, list[dict]] = {
    county: [_row(code, actual, _COUNTY_REASONS.get((county, code), "")) for code, actual in zip(_COUNTY_CODES, values)]
    for county, values in _COUNTY_VALUES.items()
}

# Evaluator grades (评价机构评分), three graders per qualitative indicator; evidence paraphrases the seed's section 三.
_GRADES = {
    "basis_sufficiency": (("好", "好", "好"), "项目依据财政部申报通知申报并获批，立项依据充分"),
    "approval_procedure": (("好", "好", "好"), "2022年5月申报并最终获得审批，立项程序规范"),
    "target_reasonableness": (
        ("好", "较好", "较好"),
        "部分绩效目标值设定较高（高校毕业生就业服务人次、新增技能人才人数、满意度）",
    ),
    "indicator_clarity": (("较好", "一般", "一般"), "个别子项目绩效目标不明确，部分指标服务形式与统计口径未明确"),
    "budget_rigour": (("较好", "一般", "较好"), "预算编制存在科学论证不足的情况，吸纳就业与公益岗扩岗需求基数不清"),
    "allocation_reasonableness": (("好", "好", "好"), "资金分配合理"),
    "fund_compliance": (("好", "好", "好"), "资金使用规范"),
    "management_rules": (("好", "好", "好"), "项目相关制度健全"),
    "rules_enforcement": (("较好", "一般", "较好"), "过程管理待完善，旗县区过程管理资料未同步到总项目管理组"),
}
GRADERS = ("E1", "E2", "E3")

GRADES: list[dict] = [
    {"indicator_code": code, "grader": grader, "grade": grade, "evidence": evidence}
    for code, (grades, evidence) in _GRADES.items()
    for grader, grade in zip(GRADERS, grades)
]

# Survey answer counts per satisfaction indicator, in the order 满意, 比较满意, 一般, 不太满意, 不满意, 无效.
ANSWERS = ("满意", "比较满意", "一般", "不太满意", "不满意", "无效")
_SURVEY_COUNTS = {
    "satisfaction_service": (104, 40, 3, 1, 0, 2),  # 144 / 148 valid = 97.30 %
    "satisfaction_training": (80, 34, 3, 1, 0, 2),  # 114 / 118 valid = 96.61 %
    "satisfaction_policy": (60, 26, 2, 0, 1, 1),  # 86 / 89 valid = 96.63 %
}


def _survey() -> list[dict]:
    """One response per respondent; each indicator was asked of its own group of service users."""
    rows: list[dict] = []
    for code, counts in _SURVEY_COUNTS.items():
        for answer, count in zip(ANSWERS, counts):
            for _ in range(count):
                n = len(rows) + 1
                rows.append(
                    {"response_id": f"Q{n:04d}", "respondent": f"R{n:04d}", "indicator_code": code, "answer": answer}
                )
    return rows


SURVEY: list[dict] = _survey()
