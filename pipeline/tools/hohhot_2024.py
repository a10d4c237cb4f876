"""Write raw/2024-hohhot-pes/: an illustrative second year of the Hohhot programme, for the portfolio's year-over-year row.

Run from the repository root: ``python -m pipeline.tools.hohhot_2024`` (after ``hohhot_raw`` has written the
2023 folder, whose configuration it starts from). Nothing here is published: the 2024 figures are invented
so that the portfolio has a programme evaluated twice. The same programme (``programme_id: hohhot-pes``), the
same indicator codes and frameworks; the submissions are the 2023 reconstruction's with these changes:

- four indicators reach their target: 新增城镇就业人员规模 4.32 → 4.61 万人 (target 4.50), 打造特色培训品牌数量
  4 → 5 (target 5), “一网通办”政策经办系统服务率 92.15 → 96.30 % (target 95) — unmet in 2023 — and
  公共就业服务事项网办率, not collected in 2023, is collected at 83.50 % (target 80);
- 新城区 (150102) receives 300.00 万元 of its matching funds (配套) for sub-project 6 in 2024, so the county
  source's and the total arrival rate rise and the execution rate falls.

Output bytes are deterministic (the 2023 builder's writers).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.tools import hohhot_funds as F
from pipeline.tools import hohhot_indicators as I
from pipeline.tools import hohhot_raw

SOURCE = Path("raw") / "2023-hohhot-pes"
ROOT = Path("raw") / "2024-hohhot-pes"

# Indicator code → the 2024 actual (bureau submissions); every other row is the 2023 one.
ACTUALS_2024 = {
    "new_urban_jobs": "4.61",
    "training_brands": "5",
    "policy_system_rate": "96.30",
    "online_service_rate": "83.5",
}
# 新城区's matching funds for sub-project 6, received in 2024 (id, date, sub-project, 万元, note).
OWN_RECEIPTS_2024 = {"150102": [("PT2024-001", "2024-04-12", "6", "300.00", "150102 本级财政配套拨款（2024年）")]}
# Lines of the 2023 evaluation.yaml and what they read in 2024 (each must occur exactly once).
METADATA_2024 = [
    (
        "# Public Employment Service Capability Improvement Demonstration Project.\n",
        "# Public Employment Service Capability Improvement Demonstration Project — its illustrative second year,\n"
        "# written by pipeline/tools/hohhot_2024.py (figures invented, see README.md).\n",
    ),
    ("title: 2023年公共就业服务能力提升示范项目绩效评价", "title: 2024年公共就业服务能力提升示范项目绩效评价（示例）"),
    ("  cutoff: 2023-12-31", "  cutoff: 2024-12-31"),
    ("  start: 2023-01-01\n  end: 2023-12-31", "  start: 2024-01-01\n  end: 2024-12-31"),
    ("report_date: 2024-03-29", "report_date: 2025-03-28"),
]
# Configuration copied as it is: the frameworks (same indicator codes) and the earlier years' actuals.
COPIED = ("frameworks/README.md", "frameworks/third_party.yaml", "frameworks/self_evaluation.yaml", "history.csv")

README = """\
# 2024-hohhot-pes — illustrative second year of the Hohhot programme (示例数据，非真实数据)

**The figures in this folder are invented.** No 2024 evaluation of Hohhot's Public Employment Service
Capability Improvement Demonstration Project (公共就业服务能力提升示范项目) is published; this folder exists so
that the portfolio (`OUT/portfolio/`) has a programme evaluated in two years and shows its year-over-year
change. It declares the same `programme_id` (`hohhot-pes`) and uses the same frameworks and indicator codes
as `raw/2023-hohhot-pes/`.

It is written by `pipeline/tools/hohhot_2024.py` (`python -m pipeline.tools.hohhot_2024`, run from the
repository root after `python -m pipeline.tools.hohhot_raw`): the 2023 reconstruction's submissions with
these changes —

- 新增城镇就业人员规模 4.61 万人 (target 4.50), 打造特色培训品牌数量 5 (target 5) and “一网通办”政策经办系统服务率
  96.30 % (target 95): unmet in 2023, met in 2024;
- 公共就业服务事项网办率: not collected in 2023, collected in 2024 at 83.50 % (target 80);
- 新城区 (150102) receives 300.00 万元 of its matching funds for sub-project 6 in 2024 (arrival rate up,
  execution rate down);
- evaluation period 2024-01-01 to 2024-12-31, money cumulative to 2024-12-31, report date 2025-03-28.

Every other file is as in 2023. There is no `narrative.md`: every finding lands in a generated problem.
"""


def bureau_indicators() -> dict[str, list[dict]]:
    """The 2023 bureau rows with the 2024 actuals; a row that reaches its value is collected, with no deviation."""
    rows = {dept: [dict(r) for r in dept_rows] for dept, dept_rows in I.BUREAU_INDICATORS.items()}
    seen = set()
    for dept_rows in rows.values():
        for r in dept_rows:
            if r["indicator_code"] in ACTUALS_2024:
                r.update(actual=ACTUALS_2024[r["indicator_code"]], data_status=I.COLLECTED, deviation_reason="")
                seen.add(r["indicator_code"])
    assert seen == set(ACTUALS_2024), f"unknown indicator codes: {set(ACTUALS_2024) - seen}"
    return rows


def metadata(text: str) -> str:
    for old, new in METADATA_2024:
        assert text.count(old) == 1, f"evaluation.yaml of 2023 no longer has exactly one {old!r}"
        text = text.replace(old, new)
    return text


def main() -> None:
    if ROOT.exists():
        shutil.rmtree(ROOT)
    receipts = {c: list(F.COUNTY_OWN_RECEIPTS.get(c, [])) + OWN_RECEIPTS_2024.get(c, []) for c in F.COUNTIES}
    hohhot_raw.main(ROOT, bureau_indicators(), {c: r for c, r in receipts.items() if r})
    for rel in COPIED:
        (ROOT / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SOURCE / rel, ROOT / rel)
    (ROOT / "evaluation.yaml").write_text(
        metadata((SOURCE / "evaluation.yaml").read_text(encoding="utf-8")), encoding="utf-8"
    )
    (ROOT / "README.md").write_text(README, encoding="utf-8")


if __name__ == "__main__":
    main()
