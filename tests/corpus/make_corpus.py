"""Write the binary files of the defect corpus under tests/corpus/raw/defects/ (run once, commit).

Run from the repository root: ``.venv/bin/python tests/corpus/make_corpus.py``. It copies the
Hohhot evaluation's metadata and frameworks (same counties, sources and period), then writes
the XLSX workbooks, the GB18030 CSV and the empty file; the other CSVs are hand-written.
Each county workbook carries at most one mistake, so its quarantine records are its own.
Bytes are deterministic (fixed document properties), so re-running changes nothing.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pipeline.contract import KINDS  # noqa: E402
from pipeline.workbooks import Sheet, csv_text, write_xlsx  # noqa: E402

HOHHOT = ROOT / "raw" / "2023-hohhot-pes"
OUT = Path(__file__).resolve().parent / "raw" / "defects"
D = dt.date

SUBPROJECTS = [
    (
        "1",
        "呼和浩特市职业培训线上培训平台建设项目",
        "1",
        "开展特色技能培训，提升就业创业能力",
        "市人社局职业能力建设科",
        800,
        "基本完成",
    ),
    (
        "2",
        "乳业高技能人才培训基地建设项目",
        "1",
        "开展特色技能培训，提升就业创业能力",
        "市人社局职业能力建设科",
        3805,
        "基本完成",
    ),
    (
        "3",
        "技能大师工作室建设项目",
        "1",
        "开展特色技能培训，提升就业创业能力",
        "市人社局职业能力建设科",
        125,
        "基本完成",
    ),
    (
        "4",
        "就业技能培训基地奖补项目",
        "1",
        "开展特色技能培训，提升就业创业能力",
        "市人社局职业能力建设科",
        600,
        "基本完成",
    ),
    (
        "5",
        "紧缺急需技能人才特色培训项目",
        "1",
        "开展特色技能培训，提升就业创业能力",
        "市人社局职业能力建设科",
        2500,
        "基本完成",
    ),
    (
        "6",
        "吸纳就业补贴项目",
        "2",
        "发挥政府和市场作用，兜牢重点群体就业底线",
        "市人社局就业促进科",
        6100,
        "延后实施或暂停实施",
    ),
    (
        "7",
        "公益性岗位扩岗项目",
        "2",
        "发挥政府和市场作用，兜牢重点群体就业底线",
        "市人社局就业促进科",
        6120,
        "延后实施或暂停实施",
    ),
    (
        "8",
        "调整落实职业介绍补贴项目",
        "2",
        "发挥政府和市场作用，兜牢重点群体就业底线",
        "市人社局就业促进科",
        600,
        "延后实施或暂停实施",
    ),
]
COUNTY_NAMES = {
    "150102": "新城区",
    "150103": "回民区",
    "150104": "玉泉区",
    "150105": "赛罕区",
    "150121": "土默特左旗",
    "150122": "托克托县",
    "150123": "和林格尔县",
    "150124": "清水河县",
    "150199": "",
}
ARCHIVE_ITEMS = ["组织管理机制", "工作目标", "任务内容", "过程管理资料"]


def registry() -> list[dict]:
    return [
        dict(
            subproject_code=c,
            name=n,
            group_code=g,
            group_name=gn,
            lead_unit=u,
            allocation_fen=a,
            status_reported=s,
            planned_end=D(2023, 12, 31),
            adjusted_end=D(2024, 6, 30) if c == "8" else None,
        )
        for c, n, g, gn, u, a, s in SUBPROJECTS
    ]


def county_sheets() -> dict[str, list[dict]]:
    """A county's correct submission: sub-projects 6 and 7, own matching funds and the city's transfer."""
    return {
        "county_match_plan": [dict(subproject_code="6", amount_fen=200), dict(subproject_code="7", amount_fen=300)],
        "county_receipts": [
            dict(
                receipt_id="SX2023-001",
                date=D(2023, 4, 19),
                channel="市级下拨",
                source_code="provincial",
                subproject_code="4",
                amount_fen=120,
                doc_no="呼人社财〔2023〕31号",
            ),
            dict(
                receipt_id="PT2023-001",
                date=D(2023, 6, 1),
                channel="本级配套",
                source_code="旗县区资金",
                subproject_code="6",
                amount_fen=80,
            ),
        ],
        "county_payments": [
            dict(
                payment_id="ZF2023-001",
                date=D(2023, 6, 15),
                source_code="provincial",
                subproject_code="4",
                amount_fen=96.4,
                payee="就业技能培训基地",
            ),
            dict(
                payment_id="ZF2023-002",
                date=D(2023, 9, 20),
                source_code="county",
                subproject_code="6",
                amount_fen=45.5,
                payee="吸纳就业企业",
            ),
        ],
        "county_indicators": [dict(data_status="已采集", indicator_code="new_urban_jobs", actual="0.52")],
        "county_archive": [dict(synced="是", subproject_code="6", item=item) for item in ARCHIVE_ITEMS],
    }


def write_county(code: str, sheets: dict[str, list[dict]]) -> None:
    who = f"填报单位：{COUNTY_NAMES[code]}（{code}）"
    write_xlsx(
        OUT / "county" / f"{code}.xlsx",
        [Sheet(KINDS[k], rows, title=f"{who}　{KINDS[k].label}　单位：万元", code=code) for k, rows in sheets.items()],
    )


def county_workbooks() -> None:
    """One workbook per 旗县区; 150125 (武川县) sends nothing: a missing submission."""
    write_county("150102", county_sheets())

    s = county_sheets()  # text typed into an amount cell
    s["county_payments"][1]["amount_fen"] = "见附件"
    write_county("150103", s)

    s = county_sheets()  # a three-decimal amount that the cell's 0.00 format hides as 120.13
    s["county_receipts"][0]["amount_fen"] = "120.125"
    write_county("150104", s)

    s = county_sheets()  # a receipt id copied down and not changed: both rows are set aside
    s["county_receipts"].append(
        dict(
            receipt_id="PT2023-001",
            date=D(2023, 8, 3),
            channel="本级配套",
            source_code="county",
            subproject_code="7",
            amount_fen=60,
        )
    )
    write_county("150105", s)

    s = county_sheets()  # a correct reversal (冲红) of a mistaken payment: passes
    s["county_payments"] += [
        dict(
            payment_id="ZF2023-003",
            date=D(2023, 10, 8),
            source_code="county",
            subproject_code="6",
            amount_fen=12,
            payee="错付单位",
        ),
        dict(
            payment_id="ZF2023-004",
            date=D(2023, 10, 20),
            source_code="county",
            subproject_code="6",
            amount_fen=-12,
            reverses="ZF2023-003",
            payee="错付单位",
            note="冲红：收款方错误",
        ),
    ]
    write_county("150121", s)

    s = county_sheets()  # archive rows for a sub-project code that is not in the registry
    s["county_archive"].append(dict(synced="否", subproject_code="20", item="组织管理机制"))
    write_county("150122", s)

    write_county("150123", county_sheets())

    s = county_sheets()  # the archive checklist sheet was deleted
    del s["county_archive"]
    write_county("150124", s)

    s = {k: [] for k in county_sheets()}  # file named with a mistyped county code
    s["county_match_plan"] = [dict(subproject_code="6", amount_fen=150)]
    write_county("150199", s)


def bureau_workbooks() -> None:
    k = KINDS
    b = OUT / "bureau"
    write_xlsx(
        b / "project_office" / "subprojects.xlsx",
        [
            Sheet(
                k["subprojects"],
                registry(),
                title="呼和浩特市人力资源和社会保障局项目办　子项目登记表　单位：万元",
                code="project_office",
            )
        ],
    )
    write_xlsx(
        b / "czj" / "fund_plan.xlsx",
        [
            Sheet(
                k["fund_plan"],
                [
                    dict(
                        plan_id="JH001",
                        subproject_code="1",
                        source_code="central",
                        county_code="150100",
                        amount_fen=800,
                    ),
                    dict(
                        plan_id="JH002",
                        subproject_code="2",
                        source_code="central",
                        county_code="150100",
                        amount_fen=1540,
                    ),
                    dict(
                        plan_id="JH003",
                        subproject_code="6",
                        source_code="county",
                        county_code="150102",
                        amount_fen=200,
                        note="旗县区配套",
                    ),
                ],
                title="呼和浩特市财政局　资金计划表　单位：万元",
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
                        recovery_id="SH001",
                        date=D(2023, 12, 20),
                        source_code="central",
                        subproject_code="8",
                        county_code="150100",
                        amount_fen=300,
                        doc_no="呼财社〔2023〕512号",
                        note="项目延期，收回中央资金",
                    ),
                ],
                title="呼和浩特市财政局　资金收回明细　单位：万元",
                code="czj",
            )
        ],
    )


def odd_files() -> None:
    fin = OUT / "bureau" / "finance"
    # Exported by a finance system on a Chinese-locale Windows: GB18030, labels instead of codes.
    rows = [
        dict(
            receipt_id="GB-001",
            date="2022/7/18",
            source_code="中央资金",
            subproject_code="1",
            county_code="市本级",
            amount_fen="800.00",
            doc_no="财社〔2022〕88号",
            note="中央财政就业补助资金",
        ),
        dict(
            receipt_id="GB-002",
            date="2022年9月6日",
            source_code="自治区资金",
            subproject_code="4",
            county_code="市本级",
            amount_fen="600.00",
            doc_no="内财社〔2022〕1123号",
            note="自治区就业补助资金",
        ),
    ]
    text = csv_text(KINDS["receipts"], rows, title="规划财务科　资金到位明细（财务系统导出）", code="finance")
    (fin / "receipts_gb18030.csv").write_bytes(text.encode("gb18030"))
    (fin / "payments_empty.csv").write_bytes(b"")  # an export that failed halfway


def copy_configuration() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    head = "# Copy of raw/2023-hohhot-pes/evaluation.yaml for the defect corpus: same counties, sources, period.\n"
    (OUT / "evaluation.yaml").write_text(
        head + (HOHHOT / "evaluation.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    for name in ("third_party.yaml", "self_evaluation.yaml"):
        (OUT / "frameworks").mkdir(exist_ok=True)
        shutil.copyfile(HOHHOT / "frameworks" / name, OUT / "frameworks" / name)


def main() -> None:
    copy_configuration()
    bureau_workbooks()
    county_workbooks()
    odd_files()


if __name__ == "__main__":
    main()
