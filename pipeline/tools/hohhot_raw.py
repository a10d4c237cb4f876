"""Write the Hohhot reconstruction's submission files under raw/2023-hohhot-pes/.

Run from the repository root: ``python -m pipeline.tools.hohhot_raw``. The data lives in
``hohhot_funds.py`` (registry and money) and ``hohhot_indicators.py`` (indicator actuals, grades,
survey); this script only lays it out as the submitters would send it: XLSX and CSV, with
title rows, Chinese headers and units. Output bytes are deterministic.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipeline.contract import KINDS
from pipeline.tools import hohhot_funds as F
from pipeline.tools import hohhot_indicators as I
from pipeline.workbooks import Sheet, write_csv, write_xlsx

ROOT = Path("raw") / "2023-hohhot-pes"
BUREAU = "呼和浩特市人力资源和社会保障局"
COUNTY_NAMES = {
    "150102": "新城区",
    "150103": "回民区",
    "150104": "玉泉区",
    "150105": "赛罕区",
    "150121": "土默特左旗",
    "150122": "托克托县",
    "150123": "和林格尔县",
    "150124": "清水河县",
    "150125": "武川县",
}


def subprojects() -> list[dict]:
    return [
        dict(
            subproject_code=c,
            name=n,
            group_code=g,
            group_name=F.GROUPS[g],
            lead_unit=u,
            allocation_fen=a,
            status_reported=s,
            planned_end=pe,
            adjusted_end=ae,
            note="原计划子项目 1、11、13、14 的信息化部分合并至本项目整合实施" if c == "19" else "",
        )
        for c, n, g, u, a, s, pe, ae in F.SUBPROJECTS
    ]


def fund_plan() -> list[dict]:
    rows = [dict(subproject_code=s, source_code=src, county_code=F.CITY, amount_fen=a) for s, src, a in F.CITY_PLAN]
    for s, split in F.COUNTY_PLAN.items():
        rows += [
            dict(subproject_code=s, source_code="旗县区资金", county_code=c, amount_fen=a, note="旗县区配套")
            for c, a in split.items()
        ]
    rows.sort(key=lambda r: (int(r["subproject_code"]), r["county_code"]))
    for i, r in enumerate(rows, 1):
        r["plan_id"] = f"JH{i:03d}"
    return rows


def receipts() -> list[dict]:
    rows = []
    for i, (s, src, a) in enumerate(sorted(F.CITY_PLAN, key=lambda r: (r[1], int(r[0]))), 1):
        date, doc = F.RECEIPT_DATES[src]
        if src == "municipal" and s in ("13", "16"):
            date, doc = "2023-03-10", "呼财社〔2023〕87号"
        rows.append(
            dict(
                receipt_id=f"DW{i:03d}",
                date=date,
                source_code=src,
                subproject_code=s,
                county_code=F.CITY,
                amount_fen=a,
                doc_no=doc,
            )
        )
    return rows


def payments() -> list[dict]:
    return [
        dict(
            payment_id=i,
            date=d,
            source_code=src,
            subproject_code=s,
            county_code=F.CITY,
            amount_fen=a,
            payee=p,
            reverses=r,
            note="冲红：收款方录入错误" if r else "",
        )
        for i, d, src, s, a, p, r in F.BUREAU_PAYMENTS
    ]


def main(
    root: Path = ROOT,
    bureau_indicators: dict[str, list[dict]] = I.BUREAU_INDICATORS,
    county_own_receipts: dict[str, list[tuple[str, str, str, str, str]]] = F.COUNTY_OWN_RECEIPTS,
) -> None:
    """Write the submission files under ``root``; a later year of the programme passes its own actuals and
    counties' own receipts (``pipeline/tools/hohhot_2024.py``)."""
    k = KINDS
    b = root / "bureau"
    write_xlsx(
        b / "project_office" / "subprojects.xlsx",
        [
            Sheet(
                k["subprojects"],
                subprojects(),
                title=f"{BUREAU}项目办　19 项子项目登记表　单位：万元",
                code="project_office",
            )
        ],
    )
    write_xlsx(
        b / "czj" / "fund_plan.xlsx",
        [
            Sheet(
                k["fund_plan"],
                fund_plan(),
                title="呼和浩特市财政局　公共就业服务能力提升示范项目资金计划表　单位：万元",
                code="czj",
            )
        ],
    )
    write_xlsx(
        b / "czj" / "recoveries.xlsx",
        [
            Sheet(
                k["recoveries"],
                [
                    dict(
                        recovery_id=i,
                        date=d,
                        source_code=src,
                        subproject_code=s,
                        county_code=F.CITY,
                        amount_fen=a,
                        doc_no=doc,
                        note=n,
                    )
                    for i, d, src, s, a, doc, n in F.RECOVERIES
                ],
                title="呼和浩特市财政局　资金收回明细",
                code="czj",
            )
        ],
    )
    fin = b / "finance"
    write_csv(
        fin / "receipts.csv",
        k["receipts"],
        receipts(),
        title=f"{BUREAU}规划财务科　资金到位明细　单位：万元",
        code="finance",
    )
    write_csv(
        fin / "payments.csv",
        k["payments"],
        payments(),
        title=f"{BUREAU}规划财务科　资金支出明细　单位：万元",
        code="finance",
    )
    write_csv(
        fin / "carry_forwards.csv",
        k["carry_forwards"],
        [
            dict(carry_id=i, date=d, source_code=src, subproject_code=s, county_code=F.CITY, amount_fen=a, note=n)
            for i, d, src, s, a, n in F.CARRY_FORWARDS
        ],
        code="finance",
    )
    write_csv(
        fin / "transfers.csv",
        k["transfers"],
        [
            dict(
                transfer_id=i,
                date=d,
                source_code="provincial",
                subproject_code="4",
                county_code=c,
                amount_fen=a,
                doc_no=doc,
            )
            for i, d, c, a, doc in F.TRANSFERS
        ],
        title=f"{BUREAU}规划财务科　向旗县区下拨资金明细　单位：万元",
        code="finance",
    )
    for dept, rows in bureau_indicators.items():
        write_csv(b / dept / "indicator_actuals.csv", k["indicator_actuals"], rows, code=dept)

    transfers_by_county = {c: (i, d, a, doc) for i, d, c, a, doc in F.TRANSFERS}
    for c in F.COUNTIES:
        plan = [dict(subproject_code=s, amount_fen=split[c]) for s, split in F.COUNTY_PLAN.items() if c in split]
        recs = [
            dict(
                receipt_id=i, date=d, channel="本级配套", source_code="county", subproject_code=s, amount_fen=a, note=n
            )
            for i, d, s, a, n in county_own_receipts.get(c, [])
        ]
        if c in transfers_by_county:
            _, d, a, doc = transfers_by_county[c]
            recs.append(
                dict(
                    receipt_id="SX2023-001",
                    date=str(dt.date.fromisoformat(d) + dt.timedelta(days=7)),
                    channel="市级下拨",
                    source_code="provincial",
                    subproject_code="4",
                    amount_fen=a,
                    doc_no=doc,
                )
            )
        pays = [
            dict(payment_id=i, date=d, source_code=src, subproject_code=s, amount_fen=a, payee=p)
            for i, d, src, s, a, p in F.COUNTY_PAYMENTS.get(c, [])
        ]
        archive = [
            dict(
                subproject_code=s,
                item=item,
                synced="否" if s == "8" else "是",
                note="未同步至总项目管理组" if s == "8" else "",
            )
            for s in F.COUNTY_PLAN
            if c in F.COUNTY_PLAN[s]
            for item in F.ARCHIVE_ITEMS
        ]
        who = f"填报单位：{COUNTY_NAMES[c]}（{c}）"
        write_xlsx(
            root / "county" / f"{c}.xlsx",
            [
                Sheet(k["county_match_plan"], plan, title=f"{who}　配套资金计划　单位：万元", code=c),
                Sheet(k["county_receipts"], recs, title=f"{who}　资金到位明细　单位：万元", code=c),
                Sheet(k["county_payments"], pays, title=f"{who}　资金支出明细　单位：万元", code=c),
                Sheet(k["county_indicators"], I.COUNTY_INDICATORS.get(c, []), title=f"{who}　绩效指标完成值", code=c),
                Sheet(k["county_archive"], archive, title=f"{who}　项目档案清单", code=c),
            ],
        )
    ev = root / "evaluator"
    write_csv(ev / "grades.csv", k["grades"], I.GRADES, title="内蒙古腾冠管理咨询有限公司　定性指标评分")
    write_csv(ev / "survey.csv", k["survey"], I.SURVEY, title="满意度问卷（受访者已匿名化）")


if __name__ == "__main__":
    main()
