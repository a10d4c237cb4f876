"""Synthetic evaluations at any scale, up to the whole country: ``python -m pipeline synth``.

:func:`generate` writes a complete evaluation folder in the submission contract's layout:
``evaluation.yaml`` with generated county codes (GB/T 2260 style: province, prefecture, county),
an indicator framework whose leaves draw on every source (bureau, county_sum, county_mean,
reconciliation, survey, grade), the bureau's files, one XLSX workbook per county, the evaluator's
files, earlier years' actuals, a narrative and a README saying the data are synthetic.

It also writes ``synth_ledger.json``: the true totals of the valid rows (money in 分 and as 万元
strings, by source), every indicator's true actual and every defect it seeded (file, sheet,
row, kind, the rule that must catch it). The ledger sits beside ``evaluation.yaml``, outside
``bureau/``, ``county/`` and ``evaluator/``, so the pipeline treats it as configuration.

Volume (defaults: 2,850 counties): each county workbook holds about 350 fund rows (资金到位 +
资金支出) and 350 indicator rows. A county reports each of its indicators once per reporting
unit (乡镇/街道), so an indicator has several rows per county: ``county_sum`` adds them all up and
``county_mean`` averages them row by row (``pipeline.scoring.score``), and the ledger does the same.

Deterministic: rows are built column-wise with numpy from ``Generator(PCG64(seed))`` streams (one
per purpose, so the defect rate never changes the clean data), nothing reads the clock, and
``pipeline.workbooks`` fixes the XLSX document properties. The bytes depend on the arguments and
the evaluation id only, not on the folder's name nor on how many processes write the workbooks.
Writing the 2,850 workbooks is the cost (xlsxwriter, ~25 ms each), so worker processes share it.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import math
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from pipeline.contract import KINDS
from pipeline.formats import FEN_PER_WAN, fen_to_wan, percent, rate, round_half_up
from pipeline.workbooks import Sheet, write_csv, write_xlsx

LEDGER_FILE = "synth_ledger.json"
FRAMEWORK = "synthetic"

# Amounts are generated in units of 0.01 万元 (100 元), the finest a 万元 file with two decimals shows.
FEN_PER_UNIT = FEN_PER_WAN // 100
OWN_RECEIPTS_PER_COUNTY = 84  # 本级配套 arrivals; plus ~16 receipts of city transfers: ~100 资金到位 rows
PAYMENTS_PER_COUNTY = 250  # 资金支出 rows
INDICATOR_ROWS_PER_COUNTY = 350  # 指标完成值 rows
SURVEY_RESPONSES_PER_COUNTY = 20
REVERSAL_SHARE = 0.003  # share of county payments booked to the wrong payee and reversed (冲红)
CITY_TRANCHE_UNITS = 1_500_000  # a bureau plan line or receipt carries at most 15,000 万元
MAX_COUNTIES = 40_000

PERIOD_START = dt.date(2022, 5, 1)
CUTOFF = dt.date(2023, 12, 31)
# Every date the generator writes, in period or seeded out of it, is an offset into this table.
DATE_ORIGIN = dt.date(2021, 12, 1)
DATES = np.array([DATE_ORIGIN + dt.timedelta(days=i) for i in range(1000)], dtype=object)

CITY_CODE = "100000"  # GB/T 2260: the country; the ministry's own level, like 150100 市本级 in Hohhot
CITY_NAME = "部本级"
SOURCES = {
    "central": "中央资金",
    "provincial": "省级资金",
    "municipal": "市级资金",
    "county": "县级资金",
    "self_raised": "企业自筹",
}
TRANSFER_SOURCES = ("central", "provincial")
PROVINCES = (
    11,
    12,
    13,
    14,
    15,
    21,
    22,
    23,
    31,
    32,
    33,
    34,
    35,
    36,
    37,
    41,
    42,
    43,
    44,
    45,
    46,
    50,
    51,
    52,
    53,
    54,
    61,
    62,
    63,
    64,
    65,
)
PLACE_CHARS = "".join(
    dict.fromkeys(
        "安平宁康泰和兴隆昌盛丰源清河山川林泉阳城新东西南北江湖海云龙凤华德武文永长乐庆福寿临石沙白青红金水田溪桥岭峰台原镇边嘉利通济宜定远"
    )
)
DEPARTMENTS = [
    {"code": "czj", "name": "财政部门", "submits": ["fund_plan", "recoveries"]},
    {"code": "finance", "name": "规划财务司", "submits": ["receipts", "payments", "carry_forwards", "transfers"]},
    {"code": "project_office", "name": "项目办", "submits": ["subprojects"]},
]
INDICATOR_DEPARTMENTS = [("employment", "就业促进司"), ("skills", "职业能力建设司")]
SUBPROJECT_NAMES = [
    "职业技能提升培训项目",
    "公共就业服务平台建设项目",
    "技能大师工作室建设项目",
    "就业技能培训基地奖补项目",
    "紧缺急需技能人才培训项目",
    "吸纳就业补贴项目",
    "公益性岗位扩岗项目",
    "职业介绍补贴项目",
    "大学生创业示范基地建设项目",
    "创业孵化基地奖补项目",
    "创业服务提档升级项目",
    "人力资源服务产业园建设项目",
    "高校就业云服务站建设项目",
    "高校毕业生就业服务专项行动项目",
    "公共就业服务专项行动项目",
    "流动人员人事档案数字化项目",
    "劳动力资源信息库完善项目",
    "智慧就业服务云平台建设项目",
    "零工市场建设项目",
    "基层就业服务站点建设项目",
]
GROUPS = [
    "开展技能培训，提升就业创业能力",
    "兜牢重点群体就业底线",
    "提升就业服务信息化水平",
    "完善基层公共就业服务体系",
    "优化创业环境",
]
LEAD_UNITS = ["职业能力建设司", "就业促进司", "创业服务指导中心", "人力资源市场服务中心", "信息中心"]
PAYEES = [
    "职业技能培训学校",
    "人力资源服务有限公司",
    "就业服务中心",
    "创业孵化基地",
    "劳务派遣有限公司",
    "信息技术有限公司",
]
ARCHIVE_ITEMS = ["组织管理机制", "工作目标", "任务内容", "过程管理资料"]
ANSWERS = ["满意", "比较满意", "一般", "不太满意", "不满意", "无效"]
GRADES = ["好", "较好", "一般"]

# Leaf templates per source: code, name, unit, decimals shown (and written), lower is better.
COUNT_LEAVES = [
    ("new_urban_jobs", "新增城镇就业人数", "人", 0, False),
    ("training_sessions", "开展职业技能培训人次", "人次", 0, False),
    ("reemployed", "失业人员再就业人数", "人", 0, False),
    ("registered_unemployed", "登记失业人员数", "人", 0, True),
    ("hard_to_employ_placed", "就业困难人员实现就业人数", "人", 0, False),
    ("new_skilled_workers", "新增技能人才数", "人", 0, False),
    ("startup_loans", "创业担保贷款扶持人数", "人", 0, False),
    ("public_welfare_posts", "公益性岗位安置人数", "人", 0, False),
    ("graduates_served", "服务高校毕业生就业人次", "人次", 0, False),
    ("gig_market_services", "零工市场服务人次", "人次", 0, False),
    ("career_guidance", "职业指导服务人次", "人次", 0, False),
    ("startup_training", "创业培训人次", "人次", 0, False),
]
RATE_LEAVES = [
    ("training_pass_rate", "培训合格率", "%", 2, False),
    ("certificate_rate", "职业资格证书取得率", "%", 2, False),
    ("online_service_rate", "公共就业服务事项网办率", "%", 2, False),
    ("station_compliance_rate", "基层服务站点达标率", "%", 2, False),
    ("post_training_employment_rate", "培训后就业率", "%", 2, False),
]
BUREAU_LEAVES = [
    ("platform_visits", "公共就业服务平台访问量", "万人次", 2, False),
    ("policy_system_rate", "政策经办系统服务率", "%", 2, False),
    ("training_unit_cost", "人均职业技能培训成本", "元", 0, True),
    ("archives_digitised", "档案数字化率", "%", 2, False),
    ("database_coverage", "劳动力资源信息库覆盖率", "%", 2, False),
]
SURVEY_LEAVES = [
    ("satisfaction_service", "公共就业服务满意度", "%", 2, False),
    ("satisfaction_training", "职业技能培训对象满意度", "%", 2, False),
    ("satisfaction_policy", "就业扶持政策经办服务满意度", "%", 2, False),
    ("satisfaction_startup", "创业服务满意度", "%", 2, False),
]
GRADE_LEAVES = [
    ("basis_sufficiency", "立项依据充分性"),
    ("approval_procedure", "立项程序规范性"),
    ("target_reasonableness", "绩效目标合理性"),
    ("indicator_clarity", "绩效指标明确性"),
    ("budget_rigour", "预算编制科学性"),
    ("allocation_reasonableness", "资金分配合理性"),
    ("fund_compliance", "资金使用合规性"),
    ("management_rules", "管理制度健全性"),
    ("rules_enforcement", "制度执行有效性"),
]
DIMENSIONS = [
    ("decision", "决策", 15, False),
    ("process", "过程", 20, False),
    ("output", "产出", 40, True),
    ("outcome", "效益", 25, True),
]
BANDS: list[dict[str, float]] = [
    {"min": 100, "share": 1},
    {"min": 90, "share": 0.8},
    {"min": 80, "share": 0.6},
    {"min": 0, "share": 0},
]

# Seeded row defects: the cell they spoil and the quarantine rule that must catch them.
ROW_DEFECTS = {
    "text_in_amount": ("amount_fen", "not_a_number"),
    "three_decimals": ("amount_fen", "too_many_decimals"),
    "unknown_subproject": ("subproject_code", "unknown_code"),
    "duplicate_id": (None, "duplicate_id"),  # the id column of the sheet
    "date_out_of_period": ("date", "date_out_of_period"),
    "yuan_in_wan_file": ("amount_fen", "implausible_amount"),
}
AMOUNT_TEXTS = np.array(["待核实", "见附件", "约5万", "壹万元整", "12.5万元", "另附"], dtype=object)


def _stream(seed: int, purpose: int) -> np.random.Generator:
    """An independent generator per purpose (places, funds, indicators, defects)."""
    return np.random.Generator(np.random.PCG64(seed).jumped(purpose))


def _wan(units: np.ndarray) -> np.ndarray:
    """Amounts in 0.01 万元 → "1234.56" (two decimals, sign kept), vectorised."""
    u = np.asarray(units, dtype=np.int64)
    whole = pd.Series(np.abs(u) // 100).astype(str)
    cents = pd.Series(np.abs(u) % 100).astype(str).str.zfill(2)
    return (pd.Series(np.where(u < 0, "-", ""), dtype=object) + whole + "." + cents).to_numpy(dtype=object)


def _decimal_text(hundredths: np.ndarray, decimals: int) -> np.ndarray:
    """Values held in hundredths → text with ``decimals`` places (0 or 2)."""
    h = np.asarray(hundredths, dtype=np.int64)
    if decimals == 0:
        return pd.Series(h // 100).astype(str).to_numpy(dtype=object)
    return _wan(h)


def _ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    return (prefix + pd.Series(numbers).astype(str).str.zfill(width)).to_numpy(dtype=object)


def _day(date: dt.date) -> int:
    return (date - DATE_ORIGIN).days


def _days(rng: np.random.Generator, n: int, first: dt.date, last: dt.date) -> np.ndarray:
    return rng.integers(_day(first), _day(last) + 1, size=n)


def _split(rng: np.random.Generator, totals: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Split each integer total into ``count`` positive integer parts that add up to it exactly.

    Parts follow random integer weights; needs total >= count. Returns the parts group by group.
    """
    totals = np.asarray(totals, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    group = np.repeat(np.arange(len(counts)), counts)
    weights = rng.integers(1, 1000, size=len(group))
    weight_sums = np.bincount(group, weights, minlength=len(counts)).astype(np.int64)
    base = totals - counts
    parts = base[group] * weights // np.maximum(weight_sums[group], 1)
    short = base - np.bincount(group, parts, minlength=len(counts)).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(len(group)) - starts[group]
    return parts + (rank < short[group]) + 1


def _rank_in_group(group: np.ndarray) -> np.ndarray:
    """Position of each element within its group, groups given as sorted labels."""
    group = np.asarray(group)
    if len(group) == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    lengths = np.diff(np.r_[starts, len(group)])
    return np.arange(len(group)) - np.repeat(starts, lengths)


def _nice_ceiling(x: float) -> int:
    """The smallest 1, 2 or 5 × 10^k at or above x."""
    power = 10 ** max(0, math.floor(math.log10(max(x, 1))))
    return next(int(m * power) for m in (1, 2, 5, 10) if m * power >= x)


def _number(hundredths: int) -> int | float:
    """A YAML number from hundredths: an int when whole, else a two-decimal float (read back exactly)."""
    return hundredths // 100 if hundredths % 100 == 0 else hundredths / 100


# --------------------------------------------------------------------------------------------- places


def _places(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """County codes (PPCCDD: province, prefecture, 02–20 districts, 21–80 counties, 81–99 cities) and names."""
    n_prov = min(len(PROVINCES), max(1, round(n / 92)))
    provinces = np.sort(rng.choice(PROVINCES, n_prov, replace=False))
    sizes = np.full(n_prov, n // n_prov) + (np.arange(n_prov) < n % n_prov)
    codes, suffixes = [], []
    for province, size in zip(provinces, sizes):  # a few hundred prefectures at most
        left, prefecture = int(size), 0
        while left:
            prefecture += 1
            take = min(left, int(rng.integers(6, 15)))
            left -= take
            districts, cities = round(take * 0.35), round(take * 0.15)
            counties = take - districts - cities
            dd = [*range(2, 2 + districts), *range(21, 21 + counties), *range(81, 81 + cities)]
            codes += [f"{province}{prefecture:02d}{d:02d}" for d in dd]
            suffixes += ["区"] * districts + ["旗" if province == 15 else "县"] * counties + ["市"] * cities
    pairs = np.array([a + b for a in PLACE_CHARS for b in PLACE_CHARS if a != b], dtype=object)
    if n > len(pairs):
        pairs = np.concatenate(
            [pairs, np.array([p + c for p in pairs for c in PLACE_CHARS if c not in p], dtype=object)]
        )
    names = pairs[rng.permutation(len(pairs))[:n]] + np.array(suffixes, dtype=object)
    size = np.exp(rng.normal(0, 0.3, n) - 0.045)  # county size: more rows for bigger counties, mean 1
    return pd.DataFrame({"code": codes, "name": names, "size": size})


# --------------------------------------------------------------------------------------------- registry


def _registry(rng: np.random.Generator, m: int) -> pd.DataFrame:
    n_groups = max(1, min(len(GROUPS), math.ceil(m / 10)))
    group = np.sort(np.concatenate([np.arange(n_groups), rng.integers(0, n_groups, m - n_groups)]))
    template = rng.integers(0, len(SUBPROJECT_NAMES), m)
    seen: dict[int, int] = {}
    names = []
    for t in template:  # one per sub-project
        seen[t] = seen.get(t, 0) + 1
        names.append(SUBPROJECT_NAMES[t] + (f"（{seen[t]}）" if seen[t] > 1 else ""))
    status = rng.choice(["基本完成", "延后实施或暂停实施", "持续推进中"], m, p=[0.75, 0.15, 0.10])
    city_only = (rng.random(m) < 0.2) if m >= 3 else np.zeros(m, dtype=bool)
    city_only[0] = False  # the counties always share at least one sub-project
    return pd.DataFrame(
        {
            "subproject_code": [str(i) for i in range(1, m + 1)],
            "name": names,
            "group_code": [str(g + 1) for g in group],
            "group_name": [GROUPS[g] for g in group],
            "lead_unit": [LEAD_UNITS[i] for i in rng.integers(0, len(LEAD_UNITS), m)],
            "status_reported": status,
            "planned_end": [CUTOFF] * m,
            "adjusted_end": [dt.date(2024, 6, 30) if s == "持续推进中" else None for s in status],
            "city_only": city_only,
            "transfer_source": rng.choice(TRANSFER_SOURCES, m),
        }
    )


# --------------------------------------------------------------------------------------------- funds


@dataclasses.dataclass
class Funds:
    """Every fund row, as frames in file order with contract column names; ``_u`` is the amount in 0.01 万元."""

    plan: pd.DataFrame
    receipts: pd.DataFrame
    payments: pd.DataFrame
    carry_forwards: pd.DataFrame
    recoveries: pd.DataFrame
    transfers: pd.DataFrame
    match_plan: pd.DataFrame  # 配套计划, ``_county`` the county's position
    county_receipts: pd.DataFrame  # 资金到位: own (本级配套) and city transfers (市级下拨)
    county_payments: pd.DataFrame  # 资金支出
    archive: pd.DataFrame  # 档案清单


def _funds(rng: np.random.Generator, places: pd.DataFrame, registry: pd.DataFrame) -> Funds:
    n, m = len(places), len(registry)
    size = places["size"].to_numpy()
    shared = np.flatnonzero(~registry["city_only"].to_numpy())
    # Each county carries 5–11 of the sub-projects the counties share (a cell is county × sub-project).
    k = np.minimum(len(shared), rng.integers(5, 12, n))
    ranks = np.argsort(np.argsort(rng.random((n, len(shared))), axis=1), axis=1)
    cell_county, which = np.nonzero(ranks < k[:, None])
    cell_sub = shared[which]
    cells = len(cell_county)
    cell_start = np.concatenate([[0], np.cumsum(k)[:-1]])
    transfer_source = registry["transfer_source"].to_numpy()[cell_sub]

    # Own matching funds (本级配套) arrive in tranches; the plan is what arrived over an arrival share.
    own_n = np.maximum(1, np.round(OWN_RECEIPTS_PER_COUNTY * size)).astype(np.int64)
    own_county = np.repeat(np.arange(n), own_n)
    own_cell = cell_start[own_county] + (rng.random(len(own_county)) * k[own_county]).astype(np.int64)
    own_u = np.maximum(1, np.round(np.exp(rng.normal(np.log(800), 0.8, len(own_cell))))).astype(np.int64)
    received_own = np.bincount(own_cell, own_u, minlength=cells).astype(np.int64)
    arrival = np.where(rng.random(cells) < 0.5, 1.0, rng.uniform(0.4, 1.0, cells))
    planned_own = np.where(
        received_own > 0, np.ceil(received_own / arrival), np.round(np.exp(rng.normal(np.log(2000), 0.5, cells)))
    ).astype(np.int64)

    # City transfers (市级下拨): 1–3 per cell, each booked by the county 1–20 days later.
    t_n = rng.choice([1, 2, 3], cells, p=[0.35, 0.45, 0.20])
    t_cell = np.repeat(np.arange(cells), t_n)
    t_u = np.maximum(100, np.round(np.exp(rng.normal(np.log(3000), 0.6, len(t_cell))))).astype(np.int64)
    t_day = _days(rng, len(t_cell), dt.date(2022, 7, 1), dt.date(2023, 11, 30))
    transferred = np.bincount(t_cell, t_u, minlength=cells).astype(np.int64)

    # Payments spend a share of what each cell × source has: side 0 own funds, side 1 the transfers.
    p_n = np.maximum(1, np.round(PAYMENTS_PER_COUNTY * size)).astype(np.int64)
    p_county = np.repeat(np.arange(n), p_n)
    p_pair = 2 * (cell_start[p_county] + (rng.random(len(p_county)) * k[p_county]).astype(np.int64)) + (
        rng.random(len(p_county)) < 0.5
    )
    execution = np.where(rng.random(2 * cells) < 0.25, 1.0, rng.uniform(0.35, 1.0, 2 * cells))
    budget = np.floor(np.stack([received_own, transferred], axis=1).ravel() * execution).astype(np.int64)
    p_pair = np.sort(p_pair)
    keep = _rank_in_group(p_pair) < budget[p_pair]
    p_pair = p_pair[keep]
    pairs_used = np.bincount(p_pair, minlength=2 * cells)
    p_u = _split(rng, budget[pairs_used > 0], pairs_used[pairs_used > 0])
    p_cell = p_pair // 2
    p_source = np.where(p_pair % 2 == 0, "county", transfer_source[p_cell])

    names = places["name"].to_numpy(dtype=object)
    codes = places["code"].to_numpy(dtype=object)
    sub_codes = registry["subproject_code"].to_numpy(dtype=object)
    transfers = (
        pd.DataFrame(
            {
                "_county": cell_county[t_cell],
                "_day": t_day,
                "_u": t_u,
                "source_code": transfer_source[t_cell],
                "subproject_code": sub_codes[cell_sub[t_cell]],
            }
        )
        .sort_values(["_day", "_county", "subproject_code"], kind="stable")
        .reset_index(drop=True)
    )
    transfers["transfer_id"] = _ids("XB", np.arange(1, len(transfers) + 1), 6)
    transfers["county_code"] = codes[transfers["_county"]]
    year = pd.Series(np.where(transfers["_day"] >= _day(dt.date(2023, 1, 1)), 2023, 2022))
    transfers["doc_no"] = (
        "财社〔" + year.astype(str) + "〕" + (transfers.groupby(year).cumcount() + 1).astype(str) + "号"
    ).to_numpy(dtype=object)
    transfers["_receipt_day"] = transfers["_day"] + rng.integers(1, 21, len(transfers))

    own = pd.DataFrame(
        {
            "_county": own_county,
            "_day": _days(rng, len(own_cell), dt.date(2022, 6, 1), dt.date(2023, 11, 30)),
            "_u": own_u,
            "source_code": "county",
            "subproject_code": sub_codes[cell_sub[own_cell]],
            "channel": "本级配套",
            "doc_no": None,
            "_transfer": -1,
        }
    )
    city = pd.DataFrame(
        {
            "_county": transfers["_county"],
            "_day": transfers["_receipt_day"],
            "_u": transfers["_u"],
            "source_code": transfers["source_code"],
            "subproject_code": transfers["subproject_code"],
            "channel": "市级下拨",
            "doc_no": transfers["doc_no"],
            "_transfer": np.arange(len(transfers)),
        }
    )
    county_receipts = (
        pd.concat([own, city], ignore_index=True)
        .sort_values(["_county", "_day", "_transfer"], kind="stable")
        .reset_index(drop=True)
    )

    payees = (
        pd.Series(names[cell_county[p_cell]])
        + pd.Series(PAYEES, dtype=object).to_numpy()[rng.integers(0, len(PAYEES), len(p_cell))]
    )
    payments = pd.DataFrame(
        {
            "_county": cell_county[p_cell],
            "_day": _days(rng, len(p_cell), dt.date(2022, 7, 1), CUTOFF),
            "_u": p_u,
            "source_code": p_source,
            "subproject_code": sub_codes[cell_sub[p_cell]],
            "payee": payees.to_numpy(dtype=object),
            "_order": 1,
            "_pair": -1,
            "_reversal": False,
        }
    )
    county_payments = _with_reversals(rng, payments)

    match_plan = pd.DataFrame({"_county": cell_county, "subproject_code": sub_codes[cell_sub], "_u": planned_own})
    unsynced = rng.random(cells) < 0.03
    archive = pd.DataFrame(
        {
            "_county": np.repeat(cell_county, len(ARCHIVE_ITEMS)),
            "subproject_code": np.repeat(sub_codes[cell_sub], len(ARCHIVE_ITEMS)),
            "item": np.tile(np.array(ARCHIVE_ITEMS, dtype=object), cells),
            "synced": np.where(np.repeat(unsynced, len(ARCHIVE_ITEMS)), "否", "是").astype(object),
        }
    )
    archive["note"] = np.where(
        archive["synced"] == "否",  # type: ignore[call-overload]  # numpy stubs take no None
        "未同步至项目办",
        None,
    )

    city_lines = _city_lines(rng, registry, np.bincount(cell_sub, transferred, minlength=m).astype(np.int64))
    county_plan = pd.DataFrame(
        {
            "subproject_code": sub_codes[cell_sub],
            "source_code": "county",
            "county_code": codes[cell_county],
            "_u": planned_own,
            "note": "县级配套",
        }
    )
    plan = pd.concat(
        [_tranches(rng, city_lines, "planned").assign(county_code=CITY_CODE, note=None), county_plan], ignore_index=True
    )
    plan["_sub"] = plan["subproject_code"].astype(int)
    plan["_city"] = plan["county_code"] != CITY_CODE
    plan = plan.sort_values(["_sub", "_city", "county_code", "source_code"], kind="stable").reset_index(drop=True)
    plan["plan_id"] = _ids("JH", np.arange(1, len(plan) + 1), 6)

    receipts = _tranches(rng, city_lines, "received")
    receipts["_day"] = _days(rng, len(receipts), dt.date(2022, 5, 15), dt.date(2023, 6, 30))
    receipts["doc_no"] = np.where(
        receipts["source_code"] == "central",
        "财社〔2022〕88号",
        np.where(
            receipts["source_code"] == "provincial",  # type: ignore[call-overload]
            "省财社〔2022〕156号",
            None,
        ),
    )  # numpy stubs take no None
    bureau_payments = _city_payments(rng, city_lines)
    carry = city_lines[city_lines["carried_forward"] > 0]
    recover = city_lines[city_lines["recovered"] > 0]
    return Funds(
        plan=plan,
        receipts=_numbered(receipts.assign(county_code=CITY_CODE), "receipt_id", "DW", 5),
        payments=_numbered(bureau_payments.assign(county_code=CITY_CODE), "payment_id", "ZC", 5),
        carry_forwards=_numbered(
            pd.DataFrame(
                {
                    "_day": _day(CUTOFF),
                    "_u": carry["carried_forward"].to_numpy(),
                    "source_code": carry["source_code"].to_numpy(),
                    "subproject_code": carry["subproject_code"].to_numpy(),
                    "county_code": CITY_CODE,
                    "note": "未完成部分结转下年",
                }
            ),
            "carry_id",
            "JZ",
            4,
        ),
        recoveries=_numbered(
            pd.DataFrame(
                {
                    "_day": _day(dt.date(2023, 12, 20)),
                    "_u": recover["recovered"].to_numpy(),
                    "source_code": recover["source_code"].to_numpy(),
                    "subproject_code": recover["subproject_code"].to_numpy(),
                    "county_code": CITY_CODE,
                    "doc_no": "财社〔2023〕612号",
                    "note": "项目延期，未使用部分收回",
                }
            ),
            "recovery_id",
            "SH",
            4,
        ),
        transfers=transfers,
        match_plan=match_plan,
        county_receipts=county_receipts,
        county_payments=county_payments,
        archive=archive,
    )


def _with_reversals(rng: np.random.Generator, payments: pd.DataFrame) -> pd.DataFrame:
    """Add, before a few payments, the same payment to a wrong payee and its reversal (冲红)."""
    chosen = payments[rng.random(len(payments)) < REVERSAL_SHARE]
    pair = np.arange(len(chosen))
    wrong = chosen.assign(_day=chosen["_day"] - 3, payee=chosen["payee"] + "（误）", _order=0, _pair=pair)
    reversal = chosen.assign(
        _day=chosen["_day"] - 1,
        _u=-chosen["_u"],
        payee=None,
        _order=0,
        _pair=pair,
        _reversal=True,
        note="冲红：收款方录入错误",
    )
    out = pd.concat([payments.assign(note=None), wrong.assign(note=None), reversal], ignore_index=True)
    return out.sort_values(["_county", "_day", "_order", "_reversal"], kind="stable").reset_index(drop=True)


def _city_lines(rng: np.random.Generator, registry: pd.DataFrame, transferred: np.ndarray) -> pd.DataFrame:
    """The bureau's money per sub-project × source: planned, received, spent, carried forward, recovered.

    ``transferred`` is what each sub-project passes on to the counties (市级下拨): the bureau plans
    and receives it on top of its own use, so the city level never goes below zero.
    """
    m = len(registry)
    sub_list: list[int] = []
    source_list: list[str] = []
    extra = rng.random(m)
    for i, (city_only, tsrc) in enumerate(
        zip(registry["city_only"], registry["transfer_source"])
    ):  # one per sub-project
        if city_only:
            own = list(
                rng.choice(
                    ["central", "provincial", "municipal", "self_raised"], 1 + int(extra[i] < 0.4), replace=False
                )
            )
        else:
            own = [tsrc] + (["municipal" if extra[i] < 0.25 else "self_raised"] if extra[i] < 0.4 else [])
        sub_list += [i] * len(own)
        source_list += sorted(own, key=list(SOURCES).index)
    subs = np.array(sub_list)
    sources = np.array(source_list, dtype=object)
    lines = len(subs)
    passed_on = np.where(
        (sources == registry["transfer_source"].to_numpy()[subs]) & ~registry["city_only"].to_numpy()[subs],
        transferred[subs],
        0,
    )
    own_use = np.round(np.exp(rng.normal(np.log(200_000), 0.6, lines))).astype(np.int64)
    arrived = np.floor(own_use * np.where(rng.random(lines) < 0.6, 1.0, rng.uniform(0.5, 1.0, lines))).astype(np.int64)
    spent = np.floor(arrived * rng.uniform(0.3, 1.0, lines)).astype(np.int64)
    left = arrived - spent
    carried = np.where(rng.random(lines) < 0.25, np.floor(left * rng.uniform(0.3, 1.0, lines)), 0).astype(np.int64)
    late = registry["status_reported"].to_numpy()[subs] != "基本完成"
    recovered = np.where(
        late & (rng.random(lines) < 0.5), np.floor((left - carried) * rng.uniform(0.5, 1.0, lines)), 0
    ).astype(np.int64)
    return pd.DataFrame(
        {
            "subproject_code": registry["subproject_code"].to_numpy()[subs],
            "source_code": sources,
            "planned": passed_on + own_use,
            "received": passed_on + arrived,
            "spent": spent,
            "carried_forward": carried,
            "recovered": recovered,
        }
    )


def _tranches(rng: np.random.Generator, lines: pd.DataFrame, measure: str) -> pd.DataFrame:
    """A bureau line split into tranches (批次) of at most ``CITY_TRANCHE_UNITS``."""
    lines = lines[lines[measure] > 0]
    total = lines[measure].to_numpy()
    count = np.maximum(np.ceil(total / CITY_TRANCHE_UNITS), np.minimum(total, rng.integers(1, 4, len(lines)))).astype(
        np.int64
    )
    return pd.DataFrame(
        {
            "subproject_code": np.repeat(lines["subproject_code"].to_numpy(), count),
            "source_code": np.repeat(lines["source_code"].to_numpy(), count),
            "_u": _split(rng, total, count),
        }
    )


def _city_payments(rng: np.random.Generator, lines: pd.DataFrame) -> pd.DataFrame:
    lines = lines[lines["spent"] > 0]
    total = lines["spent"].to_numpy()
    count = np.minimum(total, rng.integers(5, 31, len(lines)))
    n = int(count.sum())
    return pd.DataFrame(
        {
            "subproject_code": np.repeat(lines["subproject_code"].to_numpy(), count),
            "source_code": np.repeat(lines["source_code"].to_numpy(), count),
            "_u": _split(rng, total, count),
            "_day": _days(rng, n, dt.date(2022, 7, 1), CUTOFF),
            "payee": np.array(PAYEES, dtype=object)[rng.integers(0, len(PAYEES), n)],
        }
    )


def _numbered(df: pd.DataFrame, id_column: str, prefix: str, width: int) -> pd.DataFrame:
    """Bureau rows in date order with ids in that order."""
    df = df.sort_values(["_day", "subproject_code", "source_code"], kind="stable").reset_index(drop=True)
    df[id_column] = _ids(prefix, np.arange(1, len(df) + 1), width)
    return df


# --------------------------------------------------------------------------------------------- indicators


@dataclasses.dataclass
class Leaf:
    code: str
    name: str
    source: str  # a framework source type
    unit: str = ""
    decimals: int | None = None
    lower_is_better: bool = False
    dimension: str = ""
    method: str = ""
    target: int | None = None  # hundredths
    params: dict = dataclasses.field(default_factory=dict)


def _decimals(leaf: Leaf) -> int:
    """A measured leaf's decimals: only graded leaves have none."""
    assert leaf.decimals is not None, f"{leaf.code}: a measured leaf without decimals"
    return leaf.decimals


def _leaves(k: int) -> list[Leaf]:
    """K leaves over every source; decision and part of process are graded, output and outcome measured."""
    if k < 8:
        raise ValueError("--indicators 至少为 8（每种数据来源至少一个指标）/ at least 8 indicators, one per source")
    n_grade, n_survey = max(2, round(k * 0.2)), max(1, round(k * 0.1))
    n_bureau, n_mean = max(1, round(k * 0.13)), max(1, round(k * 0.17))
    n_sum = k - n_grade - n_survey - n_bureau - n_mean - 2

    def take(pool, count, source):
        out = []
        for i in range(count):
            code, name, *rest = pool[i % len(pool)]
            round_ = i // len(pool)
            unit, decimals, lower = rest if rest else ("", None, False)
            out.append(
                Leaf(
                    code if round_ == 0 else f"{code}_{round_ + 1}",
                    name if round_ == 0 else f"{name}（{round_ + 1}）",
                    source,
                    unit,
                    decimals,
                    lower,
                )
            )
        return out

    grades = take(GRADE_LEAVES, n_grade, "grade")
    n_decision = math.ceil(n_grade * 2 / 3)
    for i, leaf in enumerate(grades):
        leaf.dimension, leaf.method = ("decision" if i < n_decision else "process"), "qualitative"
    recon = [
        Leaf(
            "arrival_rate",
            "资金到位率",
            "reconciliation",
            "%",
            2,
            dimension="process",
            method="proportional",
            target=10000,
            params={"key": "arrival_rate"},
        ),
        Leaf(
            "execution_rate",
            "预算执行率",
            "reconciliation",
            "%",
            2,
            dimension="process",
            method="proportional",
            target=10000,
            params={"key": "execution_rate"},
        ),
    ]
    output = take(BUREAU_LEAVES, n_bureau, "bureau") + take(COUNT_LEAVES, n_sum, "county_sum")
    outcome = take(RATE_LEAVES, n_mean, "county_mean") + take(SURVEY_LEAVES, n_survey, "survey")
    for i, leaf in enumerate(output + outcome):
        leaf.dimension = "output" if i < len(output) else "outcome"
        leaf.method = (
            "reverse" if leaf.lower_is_better else ("proportional", "banded", "proportional", "deduction")[i % 4]
        )
        if leaf.method == "banded":
            leaf.params = {"bands": [dict(band) for band in BANDS]}  # copies: no YAML anchors
        elif leaf.method == "deduction":
            leaf.params = {"step": 5, "deduct": 0.5}
    return grades[:n_decision] + recon + grades[n_decision:] + output + outcome


@dataclasses.dataclass
class Indicators:
    county: (
        pd.DataFrame
    )  # 指标完成值 rows of every county: _county, indicator_code, data_status, actual, deviation_reason, _h
    bureau: pd.DataFrame  # indicator_actuals rows with _department
    survey: pd.DataFrame
    grades: pd.DataFrame


def _indicators(rng: np.random.Generator, leaves: list[Leaf], places: pd.DataFrame) -> Indicators:
    n = len(places)
    county_leaves = [leaf for leaf in leaves if leaf.source in ("county_sum", "county_mean")]
    units = np.maximum(1, np.round(INDICATOR_ROWS_PER_COUNTY * places["size"].to_numpy() / len(county_leaves))).astype(
        np.int64
    )
    parts = []
    for j, leaf in enumerate(county_leaves):  # one block of rows per county leaf
        row_county = np.repeat(np.arange(n), units)
        if leaf.source == "county_sum":
            level = rng.uniform(20, 200)
            h = rng.poisson(level * places["size"].to_numpy()[row_county]) * 100
        else:
            level = rng.uniform(7500, 9500)
            h = np.clip(np.round(rng.normal(level, 600, len(row_county))), 3000, 10000).astype(np.int64)
        parts.append(pd.DataFrame({"_county": row_county, "_leaf": j, "indicator_code": leaf.code, "_h": h}))
    county = pd.concat(parts, ignore_index=True).sort_values(["_county", "_leaf"], kind="stable").reset_index(drop=True)
    county["data_status"] = "已采集"
    county["deviation_reason"] = None
    county["actual"] = None
    for j, leaf in enumerate(county_leaves):
        mine = (county["_leaf"] == j).to_numpy()
        county.loc[mine, "actual"] = _decimal_text(county.loc[mine, "_h"].to_numpy(), _decimals(leaf))
    # One summed indicator is not collected everywhere: its figure is void, as the scoring rules say.
    sums = [j for j, leaf in enumerate(county_leaves) if leaf.source == "county_sum"]
    if len(sums) >= 3:
        gaps = rng.choice(n, max(1, round(n * 0.01)), replace=False)
        first = county[(county["_leaf"] == sums[1]) & county["_county"].isin(gaps)].groupby("_county").head(1).index
        county.loc[first, ["data_status", "actual", "deviation_reason"]] = [
            "未采集",
            None,
            "统计口径未明确，本期数据未完成采集",
        ]
    means = [j for j, leaf in enumerate(county_leaves) if leaf.source == "county_mean"]
    explained = rng.choice(n, max(1, round(n * 0.02)), replace=False)
    first = county[(county["_leaf"] == means[0]) & county["_county"].isin(explained)].groupby("_county").head(1).index
    county.loc[first, "deviation_reason"] = "部分乡镇培训机构师资不足，合格率偏低"

    bureau_leaves = [leaf for leaf in leaves if leaf.source == "bureau"]
    ranges = {"元": (800_00, 2000_00), "%": (80_00, 99_00), "万人次": (1000_00, 5000_00)}  # in hundredths
    bureau_h = [
        int(rng.integers(*ranges[leaf.unit])) // 10 ** (2 - _decimals(leaf)) * 10 ** (2 - _decimals(leaf))
        for leaf in bureau_leaves
    ]
    bureau = pd.DataFrame(
        {
            "_department": [
                INDICATOR_DEPARTMENTS[i % len(INDICATOR_DEPARTMENTS)][0] for i in range(len(bureau_leaves))
            ],
            "indicator_code": [leaf.code for leaf in bureau_leaves],
            "data_status": "已采集",
            "actual": [_decimal_text(np.array([h]), _decimals(leaf))[0] for leaf, h in zip(bureau_leaves, bureau_h)],
            "_h": bureau_h,
        }
    )

    survey_leaves = [leaf for leaf in leaves if leaf.source == "survey"]
    responses = max(len(survey_leaves), n * SURVEY_RESPONSES_PER_COUNTY)
    which = rng.integers(0, len(survey_leaves), responses)
    satisfied = rng.uniform(0.82, 0.95, len(survey_leaves))[which]
    draw = rng.random(responses)
    answer = np.select(
        [
            draw < satisfied * 0.65,
            draw < satisfied,
            draw < satisfied + (0.98 - satisfied) * 0.6,
            draw < satisfied + (0.98 - satisfied) * 0.85,
            draw < 0.98,
        ],
        [0, 1, 2, 3, 4],
        5,
    )
    survey = pd.DataFrame(
        {
            "response_id": _ids("Q", np.arange(1, responses + 1), 7),
            "respondent": _ids("R", rng.permutation(responses) + 1, 7),
            "indicator_code": np.array([leaf.code for leaf in survey_leaves], dtype=object)[which],
            "answer": np.array(ANSWERS, dtype=object)[answer],
        }
    )

    graded = [leaf for leaf in leaves if leaf.source == "grade"]
    grade_idx = rng.choice(len(GRADES), (len(graded), 3), p=[0.6, 0.3, 0.1])
    grades = pd.DataFrame(
        {
            "indicator_code": np.repeat([leaf.code for leaf in graded], 3),
            "grader": np.tile(["E1", "E2", "E3"], len(graded)),
            "grade": np.array(GRADES, dtype=object)[grade_idx.ravel()],
            "evidence": "依据评价组现场核查及资料审阅",
        }
    )
    return Indicators(county=county, bureau=bureau, survey=survey, grades=grades)


def _targets(rng: np.random.Generator, leaves: list[Leaf], ind: Indicators) -> pd.DataFrame:
    """Set each measured leaf's target near its clean actual (some met, some not); return earlier years' actuals."""
    county = ind.county
    rows = []
    for leaf in leaves:
        if leaf.source in ("grade", "reconciliation"):
            continue
        if leaf.source in ("county_sum", "county_mean"):
            h = county.loc[county["indicator_code"] == leaf.code, "_h"].to_numpy()
            actual = h.sum() if leaf.source == "county_sum" else h.mean()
        elif leaf.source == "bureau":
            actual = float(ind.bureau.loc[ind.bureau["indicator_code"] == leaf.code, "_h"].iloc[0])
        else:
            leaf.target = int(rng.choice([85, 90])) * 100  # satisfaction: the usual round targets
            continue
        raw = actual * rng.uniform(0.9, 1.12) / 100
        if leaf.unit == "%":
            leaf.target = min(100, round(raw)) * 100
        else:  # three significant figures, as targets are set
            step = 10 ** max(0, len(str(int(raw))) - 3)
            leaf.target = max(1, round(raw / step)) * step * 100
        if leaf.source in ("bureau", "county_sum"):
            for year, share in ((2020, 0.86), (2021, 0.91), (2022, 0.95)):
                value = round(actual * share * rng.uniform(0.97, 1.03))
                rows.append((leaf.code, year, _decimal_text(np.array([value]), leaf.decimals or 0)[0]))
    return pd.DataFrame(rows, columns=["indicator_code", "year", "actual"])


def _framework(leaves: list[Leaf]) -> dict:
    dims = []
    for code, name, weight, performance in DIMENSIONS:
        mine = [leaf for leaf in leaves if leaf.dimension == code]
        share, extra = divmod(weight * 100, len(mine))
        indicators = []
        for i, leaf in enumerate(mine):
            item: dict[str, object] = {"code": leaf.code, "name": leaf.name, "points": _number(share + (i < extra))}
            if leaf.unit:
                item["unit"] = leaf.unit
            if leaf.decimals is not None and not (leaf.unit == "%" and leaf.decimals == 2):
                item["decimals"] = leaf.decimals
            if leaf.target is not None:
                item["target"] = _number(leaf.target)
            if leaf.method == "reverse":
                item["comparator"] = "<="
            item["method"] = leaf.method
            if leaf.source == "reconciliation":
                item["source"] = {"type": "reconciliation", "key": leaf.params["key"]}
            else:
                if leaf.params:
                    item["params"] = leaf.params
                item["source"] = leaf.source
            indicators.append(item)
        dims.append(
            {
                "code": code,
                "name": name,
                "weight": weight,
                **({"performance": True} if performance else {}),
                "groups": [{"name": f"{name}指标", "indicators": indicators}],
            }
        )
    return {"title": "合成全国公共就业服务能力提升项目绩效评价指标体系", "dimensions": dims}


# --------------------------------------------------------------------------------------------- defects


@dataclasses.dataclass
class Defects:
    missing: np.ndarray  # county positions whose workbook is never sent
    unbooked: np.ndarray  # transfer positions the county never booked
    records: list[dict]


def _seed_defects(rng: np.random.Generator, share: float, funds: Funds, places: pd.DataFrame) -> Defects:
    """Leave out a share of the county workbooks and of the counties' receipts of city transfers.

    Marks every county fund row valid (``_valid``) for :func:`_spoil_rows`, which spoils rows once
    their ids and row numbers are final.
    """
    n = len(places)
    for df in (funds.county_receipts, funds.county_payments):
        df["_valid"] = True
    if share <= 0:
        return Defects(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), [])
    missing = (
        np.sort(rng.choice(n, min(n - 1, max(1, round(share * n))), replace=False)) if n > 1 else np.zeros(0, np.int64)
    )
    cr = funds.county_receipts
    booked = cr[(cr["_transfer"] >= 0) & ~cr["_county"].isin(missing)]
    unbooked_rows = rng.choice(
        booked.index.to_numpy(), min(len(booked), max(1, round(share * len(funds.transfers)))), replace=False
    )
    unbooked = np.sort(cr.loc[unbooked_rows, "_transfer"].to_numpy())
    funds.county_receipts = cr.drop(index=pd.Index(unbooked_rows)).reset_index(drop=True)
    return Defects(missing, unbooked, [])


def _spoil_rows(
    rng: np.random.Generator, share: float, funds: Funds, defects: Defects, m: int, max_amount_wan: int
) -> None:
    """Seed the row defects once ids and row numbers are final (a duplicate id copies a real one)."""
    if share <= 0:
        return
    frames = {"county_receipts": funds.county_receipts, "county_payments": funds.county_payments}
    pool = pd.concat(
        [
            pd.DataFrame(
                {
                    "_kind": kind,
                    "_pos": np.arange(len(df)),
                    "_county": df["_county"].to_numpy(),
                    "_u": df["_u"].to_numpy(),
                    "_plain": df["_plain"].to_numpy(),
                }
            )
            for kind, df in frames.items()
        ],
        ignore_index=True,
    )
    pool = pool[pool["_plain"] & ~pool["_county"].isin(defects.missing)]
    total = round(share * len(pool))
    kinds = [kind for kind in ROW_DEFECTS if kind != "yuan_in_wan_file"]
    each, extra = divmod(total, len(ROW_DEFECTS))
    counts = np.full(len(kinds), each) + (np.arange(len(kinds)) < extra)
    # 元 typed into a 万元 file is caught only where the amount then exceeds the plausibility ceiling.
    big = pool[pool["_u"] > max_amount_wan // 100]
    yuan = pool.loc[rng.choice(big.index.to_numpy(), min(len(big), each), replace=False)]
    rest = pool.drop(index=yuan.index)
    others = rest.loc[rng.choice(rest.index.to_numpy(), min(len(rest), int(counts.sum())), replace=False)]
    chosen = pd.concat(
        [others.assign(_defect=np.repeat(kinds, counts)[: len(others)]), yuan.assign(_defect="yuan_in_wan_file")]
    )
    spoiled = set(zip(chosen["_kind"], chosen["_pos"]))
    for kind, df in frames.items():
        id_column = KINDS[kind].id_column
        assert id_column is not None  # both county fund sheets have one
        for defect, group in chosen[chosen["_kind"] == kind].groupby("_defect", sort=True):
            assert isinstance(defect, str)  # a ROW_DEFECTS key
            pos = group["_pos"].to_numpy()
            column, rule = ROW_DEFECTS[defect]
            column = column or id_column
            twins = np.full(len(pos), -1)
            before = _cells(df, pos, column)
            if defect == "text_in_amount":
                df.loc[pos, "amount_fen"] = AMOUNT_TEXTS[rng.integers(0, len(AMOUNT_TEXTS), len(pos))]
            elif defect == "three_decimals":
                df.loc[pos, "amount_fen"] = _wan(df.loc[pos, "_u"].to_numpy()) + rng.integers(1, 10, len(pos)).astype(
                    str
                )
            elif defect == "yuan_in_wan_file":
                df.loc[pos, "amount_fen"] = _wan(df.loc[pos, "_u"].to_numpy() * 10_000)
            elif defect == "unknown_subproject":
                df.loc[pos, "subproject_code"] = (m + rng.integers(1, 10, len(pos))).astype(str)
            elif defect == "date_out_of_period":
                late = rng.random(len(pos)) < 0.5
                df.loc[pos, "_day"] = np.where(
                    late,
                    _days(rng, len(pos), dt.date(2024, 1, 2), dt.date(2024, 3, 31)),
                    _days(rng, len(pos), dt.date(2022, 1, 4), dt.date(2022, 4, 28)),
                )
            else:
                # The id of a neighbouring plain row of the same county: both rows are quarantined.
                twins = _twins(df, pos, spoiled, kind)
                found = twins >= 0
                pos, before, twins = pos[found], before[found], twins[found]
                df.loc[pos, id_column] = df.loc[twins, id_column].to_numpy()
                df.loc[twins, "_valid"] = False
            df.loc[pos, "_valid"] = False
            excel_row, county = df["_row"].to_numpy(), df["_county"].to_numpy()  # positions are labels (RangeIndex)
            for i, (p, old, new) in enumerate(zip(pos, before, _cells(df, pos, column))):
                record = {
                    "kind": defect,
                    "file": "",
                    "sheet": KINDS[kind].label,
                    "row": int(excel_row[p]),
                    "column": KINDS[kind].columns[column].title,
                    "rule": rule,
                    "value": str(new),
                    "original": str(old),
                    "_county": int(county[p]),
                }
                if twins[i] >= 0:
                    record["twin_row"] = int(excel_row[twins[i]])  # quarantined as well
                defects.records.append(record)


def _cells(df: pd.DataFrame, pos: np.ndarray, column: str) -> np.ndarray:
    """The values rows show in a column as written (dates as ISO text)."""
    if column == "date":
        return np.array([d.isoformat() for d in DATES[df.loc[pos, "_day"].to_numpy()]], dtype=object)
    return df.loc[pos, column].to_numpy(dtype=object)


def _twins(df: pd.DataFrame, pos: np.ndarray, spoiled: set, kind: str) -> np.ndarray:
    """For each row, the next (else previous) row of the same county that carries no defect; -1 if none."""
    out = np.full(len(pos), -1)
    counties = df["_county"].to_numpy()
    plain = df["_plain"].to_numpy()
    taken: set[int] = set()
    for i, p in enumerate(pos):  # a handful of rows per county
        for q in (p + 1, p - 1, p + 2, p - 2):
            if (
                0 <= q < len(df)
                and counties[q] == counties[p]
                and plain[q]
                and (kind, q) not in spoiled
                and q not in taken
            ):
                out[i] = q
                taken.add(q)
                break
    return out


# --------------------------------------------------------------------------------------------- writing


@dataclasses.dataclass
class _CountyBooks:
    """What each county workbook holds: per sheet, object columns over all counties and each county's slice."""

    folder: Path
    places: pd.DataFrame
    sheets: list[
        tuple[str, dict[str, np.ndarray], np.ndarray]
    ]  # kind, columns, county c's rows at [offsets[c], offsets[c + 1])


_BOOKS: _CountyBooks | None = None  # set before forking workers, which inherit it instead of unpickling it


def _columns(df: pd.DataFrame, kind: str) -> dict[str, np.ndarray]:
    """The contract columns a frame holds, as object arrays ready to write: dates as dates, missing as None."""
    arrays = {}
    for c in KINDS[kind].columns:
        if c in df or (c == "date" and "_day" in df):
            values = DATES[df["_day"].to_numpy()] if c == "date" else df[c].to_numpy(dtype=object, copy=True)
            values[pd.isna(values)] = None
            arrays[c] = values
    return arrays


def _sheet_arrays(df: pd.DataFrame, kind: str, n: int) -> tuple[str, dict[str, np.ndarray], np.ndarray]:
    """A county sheet's columns over all counties (rows sorted by county) and where each county's rows start."""
    return kind, _columns(df, kind), np.searchsorted(df["_county"].to_numpy(), np.arange(n + 1))


def _write_county(c: int) -> None:
    books = _BOOKS
    assert books is not None  # set by _write_counties before any county is written
    name, code = str(books.places.at[c, "name"]), str(books.places.at[c, "code"])
    who = f"填报单位：{name}（{code}）"
    sheets = []
    for kind, arrays, offsets in books.sheets:
        a, b = offsets[c], offsets[c + 1]
        rows = [dict(zip(arrays, values)) for values in zip(*(column[a:b] for column in arrays.values()))]
        unit = "　单位：万元" if "amount_fen" in arrays else ""
        sheets.append(Sheet(KINDS[kind], rows, title=f"{who}　{KINDS[kind].label}{unit}", code=code))
    write_xlsx(books.folder / "county" / f"{code}.xlsx", sheets)


def _write_counties(books: _CountyBooks, counties: Sequence[int], workers: int) -> None:
    global _BOOKS
    _BOOKS = books
    try:
        # Forked workers inherit the books instead of unpickling them, so they are forked, but only from a
        # process with no other thread: a fork copies a lock another thread holds, locked, and the child
        # that needs it waits for ever, and the pool's map with it (a test process that has run the pipeline
        # has such threads: the likely cause of a CI run that never finished). Such a process writes them itself.
        if (
            workers > 1
            and len(counties) > 1
            and threading.active_count() == 1
            and "fork" in multiprocessing.get_all_start_methods()
        ):
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                pool.map(_write_county, counties, chunksize=max(1, len(counties) // (workers * 8)))
        else:
            for c in counties:
                _write_county(c)
    finally:
        _BOOKS = None


def _rows(df: pd.DataFrame, kind: str) -> list[dict]:
    """Bureau and evaluator rows as dicts of contract columns."""
    arrays = _columns(df, kind)
    return [dict(zip(arrays, values)) for values in zip(*arrays.values())]


def _excel_rows(df: pd.DataFrame) -> np.ndarray:
    """The row number a submitter sees for each data row of a county sheet: rows 1–3 are title, notes and header."""
    return _rank_in_group(df["_county"].to_numpy()) + 4


# --------------------------------------------------------------------------------------------- ledger


def _money(fen: dict[str, int]) -> dict:
    out: dict = {}
    for measure, value in fen.items():
        out[measure] = fen_to_wan(value)
        out[f"{measure}_fen"] = int(value)
    out["arrival_rate"] = percent(rate(fen["received"], fen["planned"]))
    out["execution_rate"] = percent(rate(fen["spent"], fen["received"]))
    return out


def _fund_totals(funds: Funds, missing: np.ndarray) -> dict:
    """True totals of the rows the pipeline must accept, by source, as summary.json states them."""

    def valid(df: pd.DataFrame) -> pd.DataFrame:
        keep = df["_valid"] & ~df["_county"].isin(missing) if "_valid" in df else np.ones(len(df), dtype=bool)
        return df[keep]

    own = valid(funds.county_receipts)
    parts = {
        "planned": [funds.plan],
        "received": [funds.receipts, own[own["channel"] == "本级配套"]],
        "spent": [funds.payments, valid(funds.county_payments)],
        "carried_forward": [funds.carry_forwards],
        "recovered": [funds.recoveries],
    }
    by_source = {s: dict.fromkeys(parts, 0) for s in SOURCES}
    for measure, frames in parts.items():
        for df in frames:
            for source, units in df.groupby("source_code")["_u"].sum().items():
                assert isinstance(source, str)  # a source code
                by_source[source][measure] += int(units) * FEN_PER_UNIT
    total = {m: sum(by_source[s][m] for s in SOURCES) for m in parts}
    return {**_money(total), "by_source": {s: _money(v) for s, v in by_source.items()}}


def _indicator_truth(leaves: list[Leaf], ind: Indicators, missing: np.ndarray) -> dict:
    """Each measured leaf's actual as the scoring must find it, from the rows that reach it."""
    county = ind.county[~ind.county["_county"].isin(missing)]
    out = {}
    for leaf in leaves:
        entry: dict = {"source": leaf.source, "name": leaf.name}
        if leaf.source in ("county_sum", "county_mean"):
            rows = county[county["indicator_code"] == leaf.code]
            collected = rows["data_status"] == "已采集"
            h = int(rows.loc[collected, "_h"].sum())
            complete = bool(collected.all()) and len(missing) == 0
            value = Fraction(h, 100) if leaf.source == "county_sum" else Fraction(h, 100 * max(1, int(collected.sum())))
            entry.update(rows=len(rows), actual=_shown(value, _decimals(leaf)) if complete else None)
        elif leaf.source == "bureau":
            entry["actual"] = ind.bureau.loc[ind.bureau["indicator_code"] == leaf.code, "actual"].iloc[0]
        elif leaf.source == "survey":
            answers = ind.survey.loc[ind.survey["indicator_code"] == leaf.code, "answer"]
            valid = int((answers != "无效").sum())
            satisfied = int(answers.isin(["满意", "比较满意"]).sum())
            entry.update(
                satisfied=satisfied, valid=valid, actual=_shown(Fraction(100 * satisfied, valid), 2) if valid else None
            )
        else:
            continue
        if leaf.target is not None:
            entry["target"] = _shown(Fraction(leaf.target, 100), _decimals(leaf))
        out[leaf.code] = entry
    return out


def _shown(value: Fraction, decimals: int) -> str:
    """A measured leaf's value as summary.json shows it: half-up to the leaf's decimals."""
    return f"{round_half_up(value, decimals):.{decimals}f}"


# --------------------------------------------------------------------------------------------- generate


def generate(
    out: Path,
    counties: int = 2850,
    subprojects: int = 40,
    indicators: int = 30,
    seed: int = 0,
    defects: float = 0.0,
    evaluation_id: str | None = None,
    workers: int | None = None,
) -> dict:
    """Write a synthetic evaluation into ``out`` (a new or empty folder) and return its ledger.

    ``evaluation_id`` defaults to the folder's name; the files name it, so two folders hold the
    same bytes only under the same id. ``workers`` processes write the county workbooks (default:
    the CPUs available; one, this process, when it runs other threads); the bytes do not depend on it.
    """
    out = Path(out)
    evaluation_id = evaluation_id or out.name
    if not 1 <= counties <= MAX_COUNTIES:
        raise ValueError(f"--counties 应在 1 到 {MAX_COUNTIES} 之间 / counties out of range")
    if subprojects < 1:
        raise ValueError("--subprojects 至少为 1 / at least one sub-project")
    if not 0 <= defects < 1:
        raise ValueError("--defects 应在 0 与 1 之间 / defect rate must be in [0, 1)")
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out}: 目录非空，请指定新目录 / folder is not empty")
    workers = workers or len(os.sched_getaffinity(0))

    places = _places(_stream(seed, 0), counties)
    registry = _registry(_stream(seed, 5), subprojects)
    funds = _funds(_stream(seed, 1), places, registry)
    leaves = _leaves(indicators)
    ind = _indicators(_stream(seed, 2), leaves, places)
    history = _targets(_stream(seed, 4), leaves, ind)
    allocation = funds.plan.groupby("subproject_code")["_u"].sum()
    registry["allocation_fen"] = _wan(registry["subproject_code"].map(allocation).fillna(0).to_numpy())
    largest = max(int(allocation.max()), int(funds.plan["_u"].max())) / 100
    max_amount_wan = max(20000, _nice_ceiling(largest * 1.25))

    rng = _stream(seed, 3)
    seeded = _seed_defects(rng, defects, funds, places)
    _finish_county_rows(funds)
    _spoil_rows(rng, defects, funds, seeded, subprojects, max_amount_wan)

    rel = f"{evaluation_id}/county"
    for record in seeded.records:
        record["file"] = f"{rel}/{places.at[record.pop('_county'), 'code']}.xlsx"
    transfers_file = f"{evaluation_id}/bureau/finance/transfers.csv"
    seeded.records += [
        {
            "kind": "missing_workbook",
            "file": f"{rel}/{places.at[c, 'code']}.xlsx",
            "sheet": "",
            "row": None,
            "rule": "submission_missing",
            "subject": places.at[c, "code"],
        }
        for c in seeded.missing
    ]
    seeded.records += [
        {
            "kind": "unbooked_transfer",
            "file": transfers_file,
            "sheet": "",
            "row": int(t) + 3,  # title, header
            "rule": "unmatched_transfer",
            "subject": f"{funds.transfers.at[t, 'transfer_id']}|{funds.transfers.at[t, 'county_code']}|",
        }
        for t in seeded.unbooked
    ]

    out.mkdir(parents=True, exist_ok=True)
    meta = _metadata(places, leaves, max_amount_wan)
    (out / "evaluation.yaml").write_text(meta, encoding="utf-8")
    (out / "frameworks").mkdir()
    (out / "frameworks" / f"{FRAMEWORK}.yaml").write_text(
        "# 合成指标体系 — synthetic framework written by `python -m pipeline synth`; format: pipeline/scoring/framework.py\n"
        + yaml.safe_dump(_framework(leaves), allow_unicode=True, sort_keys=False, width=200),
        encoding="utf-8",
    )
    history.to_csv(out / "history.csv", index=False, lineterminator="\n")
    _write_bureau(out, funds, registry, ind)
    _write_evaluator(out, ind)
    (out / "narrative.md").write_text(NARRATIVE, encoding="utf-8")

    missing = set(seeded.missing.tolist())
    written = [c for c in range(counties) if c not in missing]
    books = _CountyBooks(
        out,
        places,
        [
            _sheet_arrays(funds.match_plan, "county_match_plan", counties),
            _sheet_arrays(funds.county_receipts, "county_receipts", counties),
            _sheet_arrays(funds.county_payments, "county_payments", counties),
            _sheet_arrays(ind.county, "county_indicators", counties),
            _sheet_arrays(funds.archive, "county_archive", counties),
        ],
    )
    _write_counties(books, written, workers)

    ledger = _ledger(
        evaluation_id,
        dict(counties=counties, subprojects=subprojects, indicators=indicators, seed=seed, defects=defects),
        max_amount_wan,
        funds,
        registry,
        leaves,
        ind,
        seeded,
        written,
    )
    (out / "README.md").write_text(_readme(ledger), encoding="utf-8")
    (out / LEDGER_FILE).write_text(json.dumps(ledger, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return ledger


def _ledger(
    evaluation_id: str,
    arguments: dict,
    max_amount_wan: int,
    funds: Funds,
    registry: pd.DataFrame,
    leaves: list[Leaf],
    ind: Indicators,
    seeded: Defects,
    written: list[int],
) -> dict:
    """What was written, the true totals of the valid rows, each measured leaf's true actual, every defect seeded."""

    def county_rows(df: pd.DataFrame) -> int:
        return int(df["_county"].isin(written).sum())

    rows = {
        "county_receipts": county_rows(funds.county_receipts),
        "county_payments": county_rows(funds.county_payments),
        "county_indicators": county_rows(ind.county),
        "county_match_plan": county_rows(funds.match_plan),
        "county_archive": county_rows(funds.archive),
        "subprojects": len(registry),
        "fund_plan": len(funds.plan),
        "receipts": len(funds.receipts),
        "payments": len(funds.payments),
        "carry_forwards": len(funds.carry_forwards),
        "recoveries": len(funds.recoveries),
        "transfers": len(funds.transfers),
        "indicator_actuals": len(ind.bureau),
        "survey": len(ind.survey),
        "grades": len(ind.grades),
    }
    rows["fund_transactions"] = rows["county_receipts"] + rows["county_payments"]
    rows["indicator_rows"] = sum(rows[k] for k in ("county_indicators", "indicator_actuals", "survey", "grades"))
    return {
        "evaluation_id": evaluation_id,
        "arguments": arguments,
        "settings": {"max_amount_wan": max_amount_wan},
        "files": {"county_workbooks": len(written), "county_workbooks_missing": len(seeded.missing)},
        "rows": rows,
        "funds": _fund_totals(funds, seeded.missing),
        "indicators": _indicator_truth(leaves, ind, seeded.missing),
        "defects": sorted(seeded.records, key=lambda r: (r["file"], r["sheet"], r["row"] or 0, r["kind"])),
    }


def _finish_county_rows(funds: Funds) -> None:
    """Ids and amounts as text, in final row order, and the row numbers a submitter sees (title, notes, header above)."""
    funds.match_plan["amount_fen"] = _wan(funds.match_plan["_u"].to_numpy())
    cr = funds.county_receipts
    city = (cr["channel"] == "市级下拨").to_numpy()
    seq = cr.groupby(["_county", "channel"], sort=False).cumcount().to_numpy() + 1
    cr["receipt_id"] = np.where(city, _ids("SX", seq, 5), _ids("PT", seq, 5))
    cr["amount_fen"] = _wan(cr["_u"].to_numpy())
    cr["_row"] = _excel_rows(cr)
    cr["_plain"] = True
    cp = funds.county_payments
    cp["payment_id"] = _ids("ZF", _rank_in_group(cp["_county"].to_numpy()) + 1, 5)
    wrong = cp[(cp["_pair"] >= 0) & ~cp["_reversal"]].set_index("_pair")["payment_id"]
    cp["reverses"] = np.where(
        cp["_reversal"],  # type: ignore[call-overload]  # numpy stubs take no None
        cp["_pair"].map(wrong),
        None,
    )
    cp["amount_fen"] = _wan(cp["_u"].to_numpy())
    cp["_row"] = _excel_rows(cp)
    cp["_plain"] = cp["_pair"] < 0  # a wrong payment and its reversal stay as booked


def _write_bureau(out: Path, funds: Funds, registry: pd.DataFrame, ind: Indicators) -> None:
    k, b = KINDS, out / "bureau"
    write_xlsx(
        b / "project_office" / "subprojects.xlsx",
        [
            Sheet(
                k["subprojects"],
                _rows(registry, "subprojects"),
                title=f"项目办　{len(registry)} 项子项目登记表　单位：万元",
                code="project_office",
            )
        ],
    )
    money = {
        name: df.assign(amount_fen=_wan(df["_u"].to_numpy()))
        for name, df in (
            ("fund_plan", funds.plan),
            ("recoveries", funds.recoveries),
            ("receipts", funds.receipts),
            ("payments", funds.payments),
            ("carry_forwards", funds.carry_forwards),
            ("transfers", funds.transfers),
        )
    }
    write_xlsx(
        b / "czj" / "fund_plan.xlsx",
        [
            Sheet(
                k["fund_plan"],
                _rows(money["fund_plan"], "fund_plan"),
                title="财政部门　项目资金计划表　单位：万元",
                code="czj",
            )
        ],
    )
    write_xlsx(
        b / "czj" / "recoveries.xlsx",
        [
            Sheet(
                k["recoveries"],
                _rows(money["recoveries"], "recoveries"),
                title="财政部门　资金收回明细　单位：万元",
                code="czj",
            )
        ],
    )
    for name, what in (
        ("receipts", "资金到位明细"),
        ("payments", "资金支出明细"),
        ("carry_forwards", "资金结转明细"),
        ("transfers", "向县级下拨资金明细"),
    ):
        write_csv(
            b / "finance" / f"{name}.csv",
            k[name],
            _rows(money[name], name),
            title=f"规划财务司　{what}　单位：万元",
            code="finance",
        )
    for code, _ in INDICATOR_DEPARTMENTS:
        rows = ind.bureau[ind.bureau["_department"] == code]
        if len(rows):
            write_csv(
                b / code / "indicator_actuals.csv", k["indicator_actuals"], _rows(rows, "indicator_actuals"), code=code
            )


def _write_evaluator(out: Path, ind: Indicators) -> None:
    e = out / "evaluator"
    write_csv(e / "grades.csv", KINDS["grades"], _rows(ind.grades, "grades"), title="评价机构　定性指标评分")
    write_csv(e / "survey.csv", KINDS["survey"], _rows(ind.survey, "survey"), title="满意度问卷（受访者已匿名化）")


def _metadata(places: pd.DataFrame, leaves: list[Leaf], max_amount_wan: int) -> str:
    n_bureau = sum(1 for leaf in leaves if leaf.source == "bureau")
    meta = {
        "title": "2023年全国公共就业服务能力提升项目绩效评价（合成数据）",
        "programme": "公共就业服务能力提升项目（合成）",
        "region": {"code": CITY_CODE, "name": "全国"},
        "commissioned_by": "财政部门（合成）",
        "implementing_unit": "人力资源和社会保障部门（合成）",
        "evaluator": "合成评价机构",
        "approved": "2022-04",
        "programme_period": {"start": PERIOD_START, "cutoff": CUTOFF},
        "evaluation_period": {"start": dt.date(2023, 1, 1), "end": dt.date(2023, 12, 31)},
        "report_date": dt.date(2024, 3, 29),
        "money_unit": "万元",
        "primary_framework": FRAMEWORK,
        "frameworks": [FRAMEWORK],
        "sources": [{"code": c, "label": label} for c, label in SOURCES.items()],
        "county_source": "county",
        "city": {"code": CITY_CODE, "name": CITY_NAME},
        "counties": [{"code": c, "name": n} for c, n in zip(places["code"], places["name"])],
        "departments": DEPARTMENTS
        + [{"code": c, "name": n, "submits": ["indicator_actuals"]} for c, n in INDICATOR_DEPARTMENTS[:n_bureau]],
        "evaluator_submits": ["grades", "survey"],
        "settings": {
            "execution_denominator": "received",
            "transfer_match_window_days": 30,
            "arrival_rate_threshold": 60,
            "execution_rate_threshold": 60,
            "max_amount_wan": max_amount_wan,
            "satisfied_answers": ["满意", "比较满意"],
        },
    }
    header = (
        "# 合成评价元数据 — synthetic evaluation metadata written by `python -m pipeline synth`.\n"
        "# Every name, code, amount and answer is generated; see README.md. max_amount_wan is set above the\n"
        "# largest sub-project allocation so that only an amount typed in 元 into a 万元 file exceeds it.\n"
    )
    return header + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, default_flow_style=None, width=200)


NARRATIVE = """## 主要经验及做法

1. 合成数据：本段文字由生成器写出，仅用于演示报告版式，不反映任何真实评价。

## 存在的问题

- 合成数据：问题由流水线根据数据自动生成。

## 建议

- 合成数据：建议由流水线根据发现自动生成。
"""


def _readme(ledger: dict) -> str:
    a, r = ledger["arguments"], ledger["rows"]
    return f"""# 合成评价 / synthetic evaluation `{ledger["evaluation_id"]}`

**Synthetic data.** Every county, name, code, amount, indicator value and survey answer in this
folder was generated by `python -m pipeline synth` (`pipeline/tools/synth.py`); none describes a real
place or programme. County codes follow the GB/T 2260 layout (province, prefecture, county) but
the names are invented.

Generated with: `python -m pipeline synth --counties {a["counties"]} --subprojects {a["subprojects"]} \
--indicators {a["indicators"]} --seed {a["seed"]} --defects {a["defects"]} --evaluation-id {ledger["evaluation_id"]}`

| what | count |
|---|---|
| county workbooks | {ledger["files"]["county_workbooks"]} (missing: {ledger["files"]["county_workbooks_missing"]}) |
| fund transaction rows (county 资金到位 + 资金支出) | {r["fund_transactions"]} |
| indicator rows (county 指标完成值 + bureau + survey + grades) | {r["indicator_rows"]} |
| city transfers (资金下拨) | {r["transfers"]} |
| defects seeded | {len(ledger["defects"])} |

`{LEDGER_FILE}` is the generator's ledger: the true totals of the valid rows (planned, received,
spent, carried forward, recovered; 分 and 万元, by source), each indicator's true actual, and every
defect seeded (file, sheet, row, kind, the rule that must catch it). The pipeline reads it as
configuration, never as a submission.
"""


# --------------------------------------------------------------------------------------------- CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", required=True, help="evaluation folder to write, e.g. raw/2023-national-synth (new or empty)"
    )
    parser.add_argument("--counties", type=int, default=2850, help="county workbooks (default: 2850, national scale)")
    parser.add_argument("--subprojects", type=int, default=40, help="sub-projects in the registry (default: 40)")
    parser.add_argument(
        "--indicators", type=int, default=30, help="scored leaves in the framework, at least 8 (default: 30)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument(
        "--defects",
        type=float,
        default=0.0,
        help="share of county fund rows, workbooks and transfers spoiled (default: 0)",
    )
    parser.add_argument("--evaluation-id", help="evaluation id written into the files (default: the folder's name)")
    parser.add_argument("--workers", type=int, help="processes writing county workbooks (default: CPUs available)")


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    try:
        ledger = generate(
            Path(args.out),
            counties=args.counties,
            subprojects=args.subprojects,
            indicators=args.indicators,
            seed=args.seed,
            defects=args.defects,
            evaluation_id=args.evaluation_id,
            workers=args.workers,
        )
    except (ValueError, FileExistsError) as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2
    r = ledger["rows"]
    print(
        f"{args.out}: {ledger['files']['county_workbooks']} county workbooks, {r['fund_transactions']} fund rows, "
        f"{r['indicator_rows']} indicator rows, {len(ledger['defects'])} defects seeded "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline synth", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
