"""Write the Hohhot monitoring folders (绩效运行监控) raw/2023-hohhot-pes-m03, -m06, -m09.

Run from the repository root: ``python -m pipeline.tools.monitoring_raw``. Each folder is one in-year
cut-off (2023-03-31, 2023-06-30, 2023-09-30) of the programme ``hohhot-pes``: the Hohhot registry and
fund plan (``hohhot_raw``) taken as the 2023 budget, receipts and quarterly payments paced per
sub-project, the counties' own matching funds, and a 绩效监控表 built from the third-party framework's
targets. Every figure past the registry and plan is illustrative, and each folder's README says so.
Each ledger is exported a week after its cut-off, so rows dated in that week are in the files and
must be listed as excluded after the cut-off. Output bytes are deterministic.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from pipeline.contract import KINDS
from pipeline.formats import round_half_up
from pipeline.monitoring.compute import months_elapsed
from pipeline.scoring.framework import Leaf, load_framework
from pipeline.tools import hohhot_funds as F
from pipeline.tools import hohhot_raw as H
from pipeline.workbooks import Sheet, write_csv, write_xlsx

RAW = Path("raw")
SOURCE = RAW / "2023-hohhot-pes"
CUTOFFS = {"m03": dt.date(2023, 3, 31), "m06": dt.date(2023, 6, 30), "m09": dt.date(2023, 9, 30)}
EXPORT_LAG = dt.timedelta(days=7)  # the ledger is exported a week after the cut-off
# Spending pace per sub-project: the share of its plan spent by the year's end if it kept its pace.
SUBPROJECT_PACE = {"6": Fraction(3, 10), "7": Fraction(2, 5), "8": Fraction(1, 2), "19": Fraction(7, 10)}
COUNTY_PACE = Fraction(1, 2)  # county matching funds lag
RECEIPT_DATES = {
    "central": "2023-01-16",
    "provincial": "2023-02-20",
    "municipal": "2023-04-10",
    "self_raised": "2023-01-31",
}
# Indicator pace (share of the target by the year's end at the current pace) and the unit's explanation.
INDICATOR_PACE = {
    "new_urban_jobs": (Fraction(24, 25), "", ""),
    "graduates_served": (Fraction(7, 10), "制度保障", "“服务”口径未明确，各科室统计累计数未完成"),
    "training_brands": (Fraction(3, 5), "其他", "特色培训品牌评选推迟至四季度"),
    "new_skilled_workers": (Fraction(3, 4), "经费保障", "紧缺急需技能人才培训资金拨付滞后"),
    "job_portal_visits": (Fraction(1, 2), "硬件条件保障", "求职招聘系统升级，上半年停机两个月"),
}
LEVEL_SHARE = Fraction(97, 100)  # rates run slightly under their targets in the year
CUMULATIVE_SOURCES = ("bureau", "county_sum", "county_mean")


def _wan(value: Fraction) -> str:
    return f"{round_half_up(value):.2f}"


def _quarters(plan: Decimal, pace: Fraction) -> list[Fraction]:
    """Quarterly payments (万元): cumulative plan × min(1, pace × q/4), in 0.01 steps, differenced."""
    cumulative = [round_half_up(Fraction(plan) * min(Fraction(1), pace * q / 4)) for q in range(5)]
    return [Fraction(cumulative[q]) - Fraction(cumulative[q - 1]) for q in range(1, 5)]


def _payment_date(subproject: str, q: int, county: bool) -> dt.date:
    if subproject == "2":  # paid on the 5th after the quarter: in the next cut-off's export week
        return dt.date(2023, 3 * q + 1, 5) if q < 4 else dt.date(2023, 12, 28)
    return dt.date(2023, 3 * q, 25 if county else 20)


def payments() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for s, src, a in F.CITY_PLAN:
        for q, amount in enumerate(_quarters(Decimal(a), SUBPROJECT_PACE.get(s, Fraction(1))), 1):
            if amount:
                rows.append(
                    dict(
                        payment_id=f"JK{s.zfill(2)}{src[:3].upper()}{q}",
                        date=_payment_date(s, q, county=False),
                        source_code=src,
                        subproject_code=s,
                        county_code=F.CITY,
                        amount_fen=_wan(amount),
                        payee=f"子项目{s}实施单位",
                    )
                )
    return sorted(rows, key=lambda r: (r["date"], r["payment_id"]))


def county_payments(county: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for s, split in F.COUNTY_PLAN.items():
        if county not in split:
            continue
        for q, amount in enumerate(_quarters(Decimal(split[county]), COUNTY_PACE), 1):
            if amount:
                rows.append(
                    dict(
                        payment_id=f"X{s.zfill(2)}Q{q}",
                        date=_payment_date(s, q, county=True),
                        source_code="county",
                        subproject_code=s,
                        amount_fen=_wan(amount),
                        payee=f"子项目{s}旗县区实施单位",
                    )
                )
    return rows


def receipts() -> list[dict[str, Any]]:
    return [
        dict(
            receipt_id=f"DW{i:03d}",
            date=dt.date.fromisoformat(RECEIPT_DATES[src]),
            source_code=src,
            subproject_code=s,
            county_code=F.CITY,
            amount_fen=a,
        )
        for i, (s, src, a) in enumerate(sorted(F.CITY_PLAN, key=lambda r: (r[1], int(r[0]))), 1)
    ]


def _value(value: Fraction, leaf: Leaf) -> str:
    """As the framework shows the indicator: its decimals, else two for a rate and whole numbers for a count."""
    places = leaf.decimals if leaf.decimals is not None else (2 if leaf.unit == "%" else 0)
    return str(round_half_up(value, places))


def indicator_monitoring(leaves: list[Leaf], cutoff: dt.date) -> list[dict]:
    """One line per indicator the units report (a numeric target, from a bureau or county source)."""
    months = months_elapsed(cutoff)
    rows = []
    for n, leaf in enumerate(leaves):
        if leaf.target is None or leaf.source.type not in CUMULATIVE_SOURCES:
            continue
        pace, cause, note = INDICATOR_PACE.get(leaf.code, (Fraction(1), "", ""))
        target = Fraction(leaf.target)
        if leaf.comparator == ">=" and leaf.unit != "%":
            actual = target * pace * months / 12
            projected = target * pace
        else:  # a level: near its target all year; over it for lower-is-better
            actual = target * (LEVEL_SHARE if leaf.comparator == ">=" else 2 - LEVEL_SHARE)
            projected = actual
        likelihood = "确定能" if pace >= Fraction(9, 10) else ("有可能" if pace >= Fraction(3, 5) else "完全不可能")
        rows.append(
            dict(
                indicator_code=leaf.code,
                actual_to_date=_value(actual, leaf),
                # every other unit leaves 全年预计完成值 empty: the pipeline projects it in a straight line
                projected_annual=_value(projected, leaf) if n % 2 == 0 else "",
                deviation_cause=cause,
                deviation_note=note,
                likelihood=likelihood,
            )
        )
    return rows


def evaluation_yaml(tag: str, cutoff: dt.date) -> str:
    counties = "\n".join(f'  - {{code: "{c}", name: {H.COUNTY_NAMES[c]}}}' for c in F.COUNTIES)
    return f"""# 绩效运行监控 — in-year monitoring of Hohhot's Public Employment Service Capability Improvement
# Demonstration Project as of {cutoff}. Written by pipeline/tools/monitoring_raw.py; illustrative (README.md).
title: 2023年公共就业服务能力提升示范项目绩效运行监控（截至{cutoff.month}月末）
programme: 公共就业服务能力提升示范项目
programme_id: hohhot-pes
monitoring:
  cutoff: {cutoff.isoformat()}
region:
  code: "150100"
  name: 呼和浩特市
commissioned_by: 呼和浩特市财政局
implementing_unit: 呼和浩特市人力资源和社会保障局
competent_department: 呼和浩特市人力资源和社会保障局
evaluator: 内蒙古腾冠管理咨询有限公司
# The monitored year: money is cumulative from its start to the cut-off; the fund plan is its budget.
programme_period:
  start: 2023-01-01
  cutoff: 2023-12-31
evaluation_period:
  start: 2023-01-01
  end: 2023-12-31
report_date: {cutoff.isoformat()}
primary_framework: third_party
sources:
  - {{code: central, label: 中央资金}}
  - {{code: provincial, label: 自治区资金}}
  - {{code: municipal, label: 市级资金}}
  - {{code: county, label: 旗县区资金}}
  - {{code: self_raised, label: 企业自筹}}
county_source: county
city:
  code: "150100"
  name: 市本级
counties:
{counties}
departments:
  - {{code: czj, name: 市财政局, submits: [fund_plan]}}
  - {{code: finance, name: 市人社局规划财务科, submits: [receipts, payments]}}
  - {{code: project_office, name: 市人社局项目办, submits: [subprojects]}}
  - {{code: employment, name: 市人社局就业促进科, submits: [indicator_monitoring]}}
settings:
  monitoring:
    time_progress: months
    yellow_gap_pct: 10
    red_gap_pct: 20
"""


README = """# 2023-hohhot-pes-{tag} — 绩效运行监控，截至 {cutoff}（示例数据 / illustrative）

An in-year monitoring cut-off of the programme `hohhot-pes` (公共就业服务能力提升示范项目, Hohhot):
`evaluation.yaml` declares `monitoring: cutoff: {cutoff}`, so `python -m pipeline run` writes
`monitoring.xlsx` (项目绩效运行监控表) and `monitoring.html` instead of a score and a report.

**All figures here are illustrative.** The sub-project registry and the fund plan are the Hohhot
reconstruction's (`raw/2023-hohhot-pes/`), taken as the 2023 budget; the receipts, the quarterly
payments (paced per sub-project: 6, 7, 8 and 19 slow, county matching funds at half pace), and the
绩效监控表 (completion to date from the third-party framework's targets, projections, causes and
likelihoods) are invented to exercise the monitoring, not taken from any published source.

The ledger was exported a week after the cut-off: rows dated in that week are in
`bureau/finance/payments.csv` and are listed as excluded after the cut-off, not counted.

Written by `python -m pipeline.tools.monitoring_raw`; do not edit by hand.
"""


def write_folder(tag: str, cutoff: dt.date) -> None:
    root = RAW / f"2023-hohhot-pes-{tag}"
    exported = cutoff + EXPORT_LAG
    k = KINDS
    (root / "frameworks").mkdir(parents=True, exist_ok=True)
    framework = (SOURCE / "frameworks" / "third_party.yaml").read_bytes()
    (root / "frameworks" / "third_party.yaml").write_bytes(framework)
    (root / "evaluation.yaml").write_text(evaluation_yaml(tag, cutoff), encoding="utf-8")
    (root / "README.md").write_text(README.format(tag=tag, cutoff=cutoff.isoformat()), encoding="utf-8")
    b = root / "bureau"
    write_xlsx(
        b / "project_office" / "subprojects.xlsx",
        [
            Sheet(
                k["subprojects"],
                H.subprojects(),
                title=f"{H.BUREAU}项目办　子项目登记表　单位：万元",
                code="project_office",
            )
        ],
    )
    write_xlsx(
        b / "czj" / "fund_plan.xlsx",
        [Sheet(k["fund_plan"], H.fund_plan(), title="呼和浩特市财政局　2023年度资金计划表　单位：万元", code="czj")],
    )
    write_csv(
        b / "finance" / "receipts.csv",
        k["receipts"],
        [r for r in receipts() if r["date"] <= exported],
        title=f"{H.BUREAU}规划财务科　资金到位明细（导出日 {exported}）　单位：万元",
        code="finance",
    )
    write_csv(
        b / "finance" / "payments.csv",
        k["payments"],
        [r for r in payments() if r["date"] <= exported],
        title=f"{H.BUREAU}规划财务科　资金支出明细（导出日 {exported}）　单位：万元",
        code="finance",
    )
    leaves = list(load_framework(SOURCE / "frameworks" / "third_party.yaml").leaves)
    write_csv(
        b / "employment" / "indicator_monitoring.csv",
        k["indicator_monitoring"],
        indicator_monitoring(leaves, cutoff),
        title=f"{H.BUREAU}　绩效监控表（截至 {cutoff}）",
        code="employment",
    )
    for c in F.COUNTIES:
        plan = [dict(subproject_code=s, amount_fen=split[c]) for s, split in F.COUNTY_PLAN.items() if c in split]
        own: list[dict[str, Any]] = [
            dict(
                receipt_id=f"PT{s.zfill(2)}",
                date=dt.date(2023, 3, 15),
                channel="本级配套",
                source_code="county",
                subproject_code=s,
                amount_fen=split[c],
            )
            for s, split in F.COUNTY_PLAN.items()
            if c in split
        ]
        pays = [r for r in county_payments(c) if r["date"] <= exported]
        own = [r for r in own if r["date"] <= exported]
        who = f"填报单位：{H.COUNTY_NAMES[c]}（{c}）"
        write_xlsx(
            root / "county" / f"{c}.xlsx",
            [
                Sheet(k["county_match_plan"], plan, title=f"{who}　配套资金计划　单位：万元", code=c),
                Sheet(
                    k["county_receipts"],
                    [r for r in own if r["date"] <= exported],
                    title=f"{who}　资金到位明细　单位：万元",
                    code=c,
                ),
                Sheet(k["county_payments"], pays, title=f"{who}　资金支出明细　单位：万元", code=c),
                Sheet(k["county_indicators"], [], title=f"{who}　绩效指标完成值", code=c),
                Sheet(k["county_archive"], [], title=f"{who}　项目档案清单", code=c),
            ],
        )


def main() -> None:
    for tag, cutoff in CUTOFFS.items():
        write_folder(tag, cutoff)


if __name__ == "__main__":
    main()
