"""A small monitoring folder (绩效运行监控) whose figures the monitoring tests compute by hand.

Two sources, two sub-projects, the city and one county; cut-off 2023-07-31 (序时进度 7/12 = 58.33 %).

Fund plan (万元): sub-project 1 中央 100.00 and 市级 50.00 at the city (150100); sub-project 2 中央
60.00 in 新城区 (150102). Payments: sub-project 1 中央 40.00 (03-10) + 20.00 (06-15), 市级 10.00
(05-20); sub-project 2 中央 12.00 on the cut-off day and 30.00 on 08-03, after it.

绩效监控表: jobs (≥1000 人) 600 to date, no projection; trained (≥500 人次) 200, projected 450, 有可能,
经费保障; pass_rate (≥90 %) 85.5; unit_cost (≤2000 元/人) 2500; brands (≥5 个) 3, projected 3,
完全不可能, 其他.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipeline.contract import KINDS
from pipeline.workbooks import write_csv

PROGRAMME = "demo-programme"

FRAMEWORK = """title: 监控示例指标体系
dimensions:
  - code: output
    name: 产出指标
    weight: 60
    performance: true
    groups:
      - name: 数量指标
        indicators:
          - {code: jobs, name: 新增就业人数, points: 20, unit: 人, target: 1000, method: proportional, source: bureau}
          - {code: trained, name: 培训人次, points: 20, unit: 人次, target: 500, method: proportional, source: bureau}
          - {code: brands, name: 培训品牌数量, points: 5, unit: 个, target: 5, method: proportional, source: bureau}
      - name: 质量指标
        indicators:
          - {code: pass_rate, name: 培训合格率, points: 10, unit: "%", target: 90, method: proportional, source: bureau}
      - name: 成本指标
        indicators:
          - {code: unit_cost, name: 人均培训成本, points: 5, unit: 元/人, target: 2000, comparator: "<=", method: reverse, source: bureau}
  - code: outcome
    name: 效益指标
    weight: 40
    performance: true
    groups:
      - name: 满意度
        indicators:
          - {code: satisfaction, name: 服务对象满意度, points: 40, unit: "%", target: 90, method: proportional, source: bureau}
"""


def evaluation_yaml(cutoff: dt.date, settings: str = "") -> str:
    return f"""title: 监控示例（截至{cutoff}）
programme: 监控示例项目
programme_id: {PROGRAMME}
monitoring:
  cutoff: {cutoff.isoformat()}
region: {{code: "150100", name: 呼和浩特市}}
implementing_unit: 示例实施单位
competent_department: 示例主管部门
evaluator: 示例评价机构
programme_period: {{start: 2023-01-01, cutoff: 2023-12-31}}
evaluation_period: {{start: 2023-01-01, end: 2023-12-31}}
report_date: {cutoff.isoformat()}
primary_framework: main
sources:
  - {{code: central, label: 中央资金}}
  - {{code: municipal, label: 市级资金}}
county_source: municipal
city: {{code: "150100", name: 市本级}}
counties:
  - {{code: "150102", name: 新城区}}
departments:
  - {{code: fin, name: 财务科, submits: [fund_plan, receipts, payments]}}
  - {{code: office, name: 项目办, submits: [subprojects]}}
  - {{code: ops, name: 业务科, submits: [indicator_monitoring]}}
{settings}"""


SUBPROJECTS = [
    dict(
        subproject_code=c,
        name=n,
        group_code="1",
        group_name="示例组",
        lead_unit="示例单位",
        allocation_fen=a,
        status_reported="持续推进中",
        planned_end="2023-12-31",
    )
    for c, n, a in (("1", "培训平台", "150"), ("2", "县级服务站", "60"))
]
FUND_PLAN = [
    dict(plan_id="P1", subproject_code="1", source_code="central", county_code="150100", amount_fen="100.00"),
    dict(plan_id="P2", subproject_code="1", source_code="municipal", county_code="150100", amount_fen="50.00"),
    dict(plan_id="P3", subproject_code="2", source_code="central", county_code="150102", amount_fen="60.00"),
]
RECEIPTS = [
    dict(
        receipt_id="R1",
        date="2023-01-20",
        source_code="central",
        subproject_code="1",
        county_code="150100",
        amount_fen="100.00",
    ),
    dict(
        receipt_id="R2",
        date="2023-01-20",
        source_code="central",
        subproject_code="2",
        county_code="150102",
        amount_fen="60.00",
    ),
    dict(
        receipt_id="R3",
        date="2023-02-01",
        source_code="municipal",
        subproject_code="1",
        county_code="150100",
        amount_fen="50.00",
    ),
]
PAYMENTS = [
    dict(
        payment_id="Z1",
        date="2023-03-10",
        source_code="central",
        subproject_code="1",
        county_code="150100",
        amount_fen="40.00",
    ),
    dict(
        payment_id="Z2",
        date="2023-06-15",
        source_code="central",
        subproject_code="1",
        county_code="150100",
        amount_fen="20.00",
    ),
    dict(
        payment_id="Z3",
        date="2023-05-20",
        source_code="municipal",
        subproject_code="1",
        county_code="150100",
        amount_fen="10.00",
    ),
    dict(
        payment_id="Z4",
        date="2023-07-31",
        source_code="central",
        subproject_code="2",
        county_code="150102",
        amount_fen="12.00",
    ),
    dict(
        payment_id="Z5",
        date="2023-08-03",
        source_code="central",
        subproject_code="2",
        county_code="150102",
        amount_fen="30.00",
    ),
]
INDICATORS = [
    dict(indicator_code="jobs", actual_to_date="600", likelihood="确定能"),
    dict(
        indicator_code="trained",
        actual_to_date="200",
        projected_annual="450",
        deviation_cause="经费保障",
        deviation_note="培训补贴资金下达较晚",
        likelihood="有可能",
    ),
    dict(indicator_code="pass_rate", actual_to_date="85.5", likelihood="确定能"),
    dict(indicator_code="unit_cost", actual_to_date="2500", likelihood="确定能"),
    dict(
        indicator_code="brands",
        actual_to_date="3",
        projected_annual="3",
        deviation_cause="其他",
        deviation_note="品牌评选取消",
        likelihood="完全不可能",
    ),
]


def write_folder(
    raw_root: Path, evaluation_id: str, cutoff: dt.date = dt.date(2023, 7, 31), settings: str = ""
) -> Path:
    """Write the example as a monitoring folder under ``raw_root``; money rows dated after ``cutoff`` are kept."""
    folder = raw_root / evaluation_id
    (folder / "frameworks").mkdir(parents=True)
    (folder / "frameworks" / "main.yaml").write_text(FRAMEWORK, encoding="utf-8")
    (folder / "evaluation.yaml").write_text(evaluation_yaml(cutoff, settings), encoding="utf-8")
    b = folder / "bureau"
    write_csv(b / "office" / "subprojects.csv", KINDS["subprojects"], SUBPROJECTS, code="office")
    write_csv(b / "fin" / "fund_plan.csv", KINDS["fund_plan"], FUND_PLAN, code="fin")
    write_csv(b / "fin" / "receipts.csv", KINDS["receipts"], RECEIPTS, code="fin")
    write_csv(b / "fin" / "payments.csv", KINDS["payments"], PAYMENTS, code="fin")
    write_csv(b / "ops" / "indicator_monitoring.csv", KINDS["indicator_monitoring"], INDICATORS, code="ops")
    return folder
