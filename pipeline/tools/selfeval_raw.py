"""Write the self-evaluation example's submission files under raw/2023-tumote-skills-self/.

Run from the repository root: ``python -m pipeline.tools.selfeval_raw``. A county-only programme
filed as a unit self-evaluation (项目支出绩效自评表): the county is declared as the evaluation's
``city`` with no counties, and one source is the carry-in from the previous year (上年结转资金).
Every figure is illustrative (see the folder's README); output bytes are deterministic.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.contract import KINDS
from pipeline.workbooks import write_csv

ROOT = Path("raw") / "2023-tumote-skills-self"
COUNTY = "150121"
UNIT = "土默特左旗人力资源和社会保障局"

# (sub-project, name, allocation 万元, lead unit)
SUBPROJECTS = [
    ("1", "职业技能培训补贴", "430.00", "职业能力建设股"),
    ("2", "创业培训补贴", "110.00", "就业促进股"),
    ("3", "培训监管信息系统运维", "80.00", "信息中心"),
]
# (plan id, sub-project, source, planned 万元) — planned = received (all funds arrived in the year)
PLAN = [
    ("JH01", "1", "banner_budget", "150.00"),
    ("JH02", "1", "regional_grant", "220.00"),
    ("JH03", "1", "carry_in", "60.00"),
    ("JH04", "2", "banner_budget", "30.00"),
    ("JH05", "2", "regional_grant", "50.00"),
    ("JH06", "2", "carry_in", "30.00"),
    ("JH07", "3", "banner_budget", "20.00"),
    ("JH08", "3", "regional_grant", "30.00"),
    ("JH09", "3", "carry_in", "30.00"),
]
RECEIPT_DATES = {
    "banner_budget": ("2023-03-15", "土财社〔2023〕12号"),
    "regional_grant": ("2023-04-20", "内财社〔2023〕156号"),
    "carry_in": ("2023-01-05", "土财社〔2022〕201号"),
}
# (payment id, date, sub-project, source, amount 万元, payee)
PAYMENTS = [
    ("ZF001", "2023-05-30", "1", "banner_budget", "140.00", "土默特左旗职业技能培训学校"),
    ("ZF002", "2023-08-31", "1", "regional_grant", "205.40", "土默特左旗职业技能培训学校"),
    ("ZF003", "2023-06-30", "1", "carry_in", "56.00", "呼和浩特某职业培训学校"),
    ("ZF004", "2023-09-15", "2", "banner_budget", "25.00", "土默特左旗创业服务中心"),
    ("ZF005", "2023-11-20", "2", "regional_grant", "46.00", "土默特左旗创业服务中心"),
    ("ZF006", "2023-07-10", "2", "carry_in", "22.00", "土默特左旗创业服务中心"),
    ("ZF007", "2023-10-10", "3", "banner_budget", "15.00", "内蒙古某软件有限公司"),
    ("ZF008", "2023-12-20", "3", "regional_grant", "25.00", "内蒙古某软件有限公司"),
    ("ZF009", "2023-06-15", "3", "carry_in", "18.00", "内蒙古某软件有限公司"),
]
# (indicator, actual, deviation reason)
ACTUALS = [
    ("trained_workers", "2860", "部分乡镇开班时间推迟至农闲，年内结业人数少于计划；下年度按农时提前排期。"),
    ("startup_trainees", "410", ""),
    ("training_pass_rate", "92.50", ""),
    ("subsidy_timeliness", "96.00", ""),
    ("subsidy_per_trainee", "1750", ""),
    ("employment_after_training", "66.20", "本地企业用工需求回落，结业学员就业率低于目标；下年度增加订单式培训比例。"),
    ("institution_compliance", "97.00", ""),
    ("trainee_satisfaction", "93.40", ""),
]


def main() -> None:
    write_csv(
        ROOT / "bureau/project_office/subprojects.csv",
        KINDS["subprojects"],
        [
            dict(
                subproject_code=c,
                name=n,
                group_code="1",
                group_name="职业技能提升培训",
                lead_unit=u,
                allocation_fen=a,
                status_reported="基本完成",
                planned_end="2023-12-31",
            )
            for c, n, a, u in SUBPROJECTS
        ],
        title=f"{UNIT}　子项目登记表　单位：万元",
        code="project_office",
    )
    write_csv(
        ROOT / "bureau/finance/fund_plan.csv",
        KINDS["fund_plan"],
        [
            dict(plan_id=i, subproject_code=s, source_code=src, county_code=COUNTY, amount_fen=a)
            for i, s, src, a in PLAN
        ],
        title=f"{UNIT}　资金计划表　单位：万元",
        code="finance",
    )
    write_csv(
        ROOT / "bureau/finance/receipts.csv",
        KINDS["receipts"],
        [
            dict(
                receipt_id=f"DW{n:02d}",
                date=RECEIPT_DATES[src][0],
                source_code=src,
                subproject_code=s,
                county_code=COUNTY,
                amount_fen=a,
                doc_no=RECEIPT_DATES[src][1],
            )
            for n, (_, s, src, a) in enumerate(PLAN, start=1)
        ],
        title=f"{UNIT}　资金到位明细　单位：万元",
        code="finance",
    )
    write_csv(
        ROOT / "bureau/finance/payments.csv",
        KINDS["payments"],
        [
            dict(payment_id=i, date=d, source_code=src, subproject_code=s, county_code=COUNTY, amount_fen=a, payee=p)
            for i, d, s, src, a, p in PAYMENTS
        ],
        title=f"{UNIT}　资金支出明细　单位：万元",
        code="finance",
    )
    write_csv(
        ROOT / "bureau/project_office/indicator_actuals.csv",
        KINDS["indicator_actuals"],
        [dict(indicator_code=c, data_status="已采集", actual=a, deviation_reason=r) for c, a, r in ACTUALS],
        title="指标完成值",
        code="project_office",
    )


if __name__ == "__main__":
    main()
