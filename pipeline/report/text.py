"""The report's content as a list of blocks, written from the inputs: every sentence and table.

HTML, PDF and DOCX render the same blocks, so all formats say the same thing. Prose that only a
person can write comes from the narrative (:mod:`pipeline.report.narrative`); problems are the
stages' findings grouped by :mod:`pipeline.report.problems`; everything else is composed here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, cast

import pandas as pd

from pipeline.contract import SUBPROJECT_STATUS_LABELS
from pipeline.formats import natural_key
from pipeline.report import charts
from pipeline.report.blocks import Block, Contents, Cover, Figure, Heading, Landscape, Paragraph, Row, Table
from pipeline.report.inputs import (
    FINDING_CODES,
    INDICATOR_STATUS_LABELS,
    SUBJECT_TYPES,
    ReportInputs,
)
from pipeline.report.narrative import EVALUATOR, Narrative, parse
from pipeline.report.problems import (
    MEASURE_LABELS,
    Grouping,
    Problem,
    group,
    severity_counts,
)
from pipeline.report.selfeval import form_blocks
from pipeline.report.values import (
    MISSING,
    actual_text,
    blank,
    cell_text,
    cn_date,
    cn_numeral,
    dec,
    direction,
    plain,
    rate_of,
    target_text,
    two,
    wan,
)
from pipeline.tables import MEASURE_NAMES

# National scale: an evidence table shows this many rows, the finding list this many, then a count.
MAX_ROWS = 20
MAX_LISTED = 300
SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}
SEVERITY_LABELS = {"high": "高", "medium": "中", "low": "低"}

# Findings that are not about one indicator belong to the dimension whose paragraph mentions them.
CODE_DIMENSION = {
    "target_unrealistic": "decision",
    "allocation_differs": "decision",
    "low_arrival": "process",
    "county_matching_short": "process",
    "low_execution_source": "process",
    "low_execution_subproject": "process",
    "funds_recovered": "process",
    "archive_not_synced": "process",
    "negative_balance": "process",
    "unmatched_transfer": "process",
    "amount_differs": "process",
    "duplicate_receipt": "process",
    "subproject_delayed": "output",
    "subproject_extended": "output",
}
INDICATOR_CODES = ("indicator_unmet", "indicator_not_collected", "target_unrealistic", "indicator_conflicting_actuals")
SUBPROJECT_CODES = (
    "subproject_delayed",
    "subproject_extended",
    "subproject_status_conflict",
    "low_execution_subproject",
    "allocation_differs",
    "arrival_over_100_subproject",
    "execution_over_100_subproject",
)
SOURCE_CODES = (
    "low_arrival",
    "low_execution_source",
    "funds_recovered",
    "arrival_over_100_source",
    "execution_over_100_source",
)
COUNTY_CODES = ("county_matching_short", "county_plan_differs")


# ---------------------------------------------------------------- helpers


def _join(names: Iterable[str], limit: int = 10, what: str = "项") -> str:
    names = list(names)
    shown = "、".join(names[:limit])
    return shown + (f"等 {len(names)} {what}" if len(names) > limit else "")


def code_title(code: str) -> str:
    return FINDING_CODES.get(code, code)


# ---------------------------------------------------------------- the document


def document(inp: ReportInputs) -> list[Block]:
    """The whole report: cover, contents, sections 一 to 五 as in the seed, then the appendices."""
    meta = inp.meta
    narrative = parse(inp.narrative)
    grouping = problems_of(inp, narrative)
    cover = [("委托方", meta.commissioned_by)] if meta.commissioned_by else []
    cover += [("评价机构", meta.evaluator), ("报告日期", cn_date(meta.report_date))]
    blocks: list[Block] = [Cover(meta.report_title, tuple(cover)), Contents(), Heading(0, meta.report_title)]
    blocks += _basic_information(inp)
    blocks += _evaluation_work(inp)
    blocks += _overall_evaluation(inp, grouping, narrative)
    blocks += _experience_and_problems(inp, grouping, narrative)
    blocks += _recommendations(inp, grouping, narrative)
    blocks += _appendix(inp, grouping)
    return blocks


def problems_of(inp: ReportInputs, narrative: Narrative) -> Grouping:
    """The stages' findings grouped into problems (see :mod:`pipeline.report.problems`)."""
    indicators = dict(zip(inp.indicators["code"].astype(str), inp.indicators["status"]))
    subprojects = dict(zip(inp.subprojects["subproject_code"].astype(str), inp.subprojects["status"]))
    return group(_ordered_findings(inp), narrative, indicators, subprojects, inp.funds_cells, inp.finding_cells)


def _ordered_findings(inp: ReportInputs) -> pd.DataFrame:
    """The findings in report order: severity, then money or points at stake, then framework order."""
    df = inp.findings.reset_index(drop=True)
    framework = {str(c): n for n, c in enumerate(inp.indicators["code"])}
    key = pd.DataFrame(
        {
            "severity": df["severity"].map(SEVERITY_RANK).fillna(len(SEVERITY_RANK)),
            "stake": -df["stake_fen"].astype("Float64").fillna(0),
            "lost": -df["points_lost"].map(lambda p: float(Decimal(p)) if p else 0.0),
            "framework": df["subject"].map(framework).where(df["subject_type"] == "indicator").fillna(-1),
            "given": range(len(df)),
        },
        index=df.index,
    )
    return df.loc[key.sort_values(list(key.columns)).index].reset_index(drop=True)


def source_rows(inp: ReportInputs) -> list[tuple[str, str, Mapping[str, Any]]]:
    """(code, label, figures) per funding source: the metadata's order, then any source it does not name."""
    by_source = inp.summary["funds"].get("by_source", {})
    codes = [c for c in inp.sources if c in by_source] + [c for c in by_source if c not in inp.sources]
    return [(c, inp.sources.get(c, c), by_source[c]) for c in codes]


def _basic_information(inp: ReportInputs) -> list[Block]:
    meta, funds, unit = inp.meta, inp.summary["funds"], inp.meta.money_unit
    sources = [(label, f) for _, label, f in source_rows(inp)]

    def by(key: str) -> str:
        return "，".join(f"{label} {two(f.get(key))} {unit}" for label, f in sources)

    approval = [d.cited() for d in meta.policy_basis if d.use == "approval"]
    opening = ""
    if meta.approved and approval:
        who = meta.implementing_unit or "项目实施单位"
        opening = (
            f"{meta.approved[0]} 年 {meta.approved[1]} 月，{who}根据{'、'.join(approval)}要求，"
            f"申报{meta.programme}并获批准。"
        )
    else:
        opening = meta.programme + (f"由{meta.implementing_unit}组织实施，" if meta.implementing_unit else "")
    opening += (
        f"项目计划实施期为 {meta.programme_start.year} 年 {meta.programme_start.month} 月"
        f"至 {meta.programme_end.year} 年 {meta.programme_end.month} 月，计划投资总额 {two(funds['planned'])} {unit}，"
        f"其中：{by('planned')}。"
    )
    spending = "；".join(_spent_clause(label, f, unit) for label, f in sources)
    received = (
        f"截至 {cn_date(meta.programme_end)}，项目资金实际到位 {two(funds['received'])} {unit}，"
        f"资金到位率 {two(funds.get('arrival_rate'))}%，其中：{by('received')}。"
        f"项目总支出 {two(funds['spent'])} {unit}，预算执行率 {two(funds.get('execution_rate'))}%，其中：{spending}。"
    )
    return [
        Heading(1, "一、基本情况"),
        Paragraph(opening),
        Paragraph(received),
        _funds_table(inp),
        Figure(
            "图 1  分资金来源计划、到位及支出情况",
            charts.funds_by_source(
                [(label, dec(f.get("planned")), dec(f.get("received")), dec(f.get("spent"))) for label, f in sources],
                unit,
            ),
            "chart-1-funds-by-source",
        ),
        _allocation_table(inp),
    ]


def _spent_clause(label: str, f: Mapping[str, Any], unit: str) -> str:
    clause = f"{label}支出 {two(f.get('spent'))} {unit}"
    if (dec(f.get("carried_forward")) or 0) != 0:
        clause += f"，结转下年支出 {two(f['carried_forward'])} {unit}"
    if (dec(f.get("recovered")) or 0) != 0:
        clause += f"，回收金额 {two(f['recovered'])} {unit}"
    return clause


FUND_KEYS = ("planned", "received", "spent", "carried_forward", "recovered", "arrival_rate", "execution_rate")
FUND_HEADERS = ("计划资金", "到位资金", "实际支出", "结转下年", "收回", "到位率（%）", "执行率（%）")


def _funds_table(inp: ReportInputs) -> Table:
    rows = [Row((label, *(two(f.get(k)) for k in FUND_KEYS))) for _, label, f in source_rows(inp)]
    total = inp.summary["funds"]
    rows.append(Row(("合计", *(two(total.get(k)) for k in FUND_KEYS)), "total"))
    return Table(
        "资金来源及使用情况表",
        ("资金来源", *FUND_HEADERS),
        tuple(rows),
        frozenset(range(1, 8)),
        f"单位：{inp.meta.money_unit}",
    )


def _ordered_subprojects(inp: ReportInputs) -> pd.DataFrame:
    sp = inp.subprojects
    keys = [(natural_key(g), natural_key(c)) for g, c in zip(sp["group_code"], sp["subproject_code"])]
    return sp.iloc[sorted(range(len(sp)), key=keys.__getitem__)]


def _code_range(codes: list[str]) -> str:
    """First and last code of a naturally sorted list, as the seed writes "1-5"."""
    return codes[0] if len(codes) == 1 else f"{codes[0]}-{codes[-1]}"


def _allocation_table(inp: ReportInputs) -> Table:
    sp = _ordered_subprojects(inp)
    rows: list[Row] = []
    for n, (_, group_) in enumerate(sp.groupby("group_code", sort=False), start=1):
        rows.append(Row((f"{cn_numeral(n)}、{group_['group_name'].iat[0]}", ""), "group"))
        rows += [
            Row((f"{c}--{name}", two(a)))
            for c, name, a in zip(group_["subproject_code"], group_["name"], group_["allocation"])
        ]
        subtotal = sum((dec(a) or Decimal(0) for a in group_["allocation"]), Decimal(0))
        rows.append(Row((f"子项目 {_code_range(list(group_['subproject_code']))} 小计", two(subtotal)), "subtotal"))
    total = sum((dec(a) or Decimal(0) for a in sp["allocation"]), Decimal(0))
    codes = sorted(sp["subproject_code"], key=natural_key)
    rows.append(Row((f"总项目合计（{_code_range(codes)}）", two(total)), "total"))
    return Table(
        f"{len(sp)} 项子项目名称及资金分配情况统计表",
        ("项目实施内容", "资金额"),
        tuple(rows),
        frozenset({1}),
        f"单位：{inp.meta.money_unit}",
    )


def _evaluation_work(inp: ReportInputs) -> list[Block]:
    meta, cov, rows, files = inp.meta, inp.summary["coverage"], inp.summary["rows"], inp.summary["files"]
    blocks: list[Block] = [Heading(1, "二、绩效评价工作开展情况")]
    who = []
    if meta.commissioned_by:
        who.append(f"本次评价受{meta.commissioned_by}委托，由{meta.evaluator}组织实施")
    basis = [d.cited() for d in meta.policy_basis if d.use == "evaluation"]
    if basis:
        who.append(f"评价依据{'、'.join(basis)}等文件开展")
    if who:
        blocks.append(Paragraph("，".join(who) + "。"))
    scope = (
        f"本项目评价地域范围为{meta.region}，评价时间范围自 {cn_date(meta.evaluation_start)}至 "
        f"{cn_date(meta.evaluation_end)}，"
    )
    if meta.evaluation_approach:
        visited = f"实地调研共计 {meta.projects_visited} 个项目，" if meta.projects_visited is not None else ""
        regions = (
            f"占具体项目地区总数的 {plain(meta.region_coverage_pct)}%、" if meta.region_coverage_pct is not None else ""
        )
        scope += (
            f"采用{meta.evaluation_approach}方式，{visited}覆盖项目范围{regions}项目预算总额的 "
            f"{two(cov.get('budget_share'))}%（评价覆盖 {cov['projects_evaluated']} 个子项目，"
            f"子项目总数 {cov['projects_total']} 个）。"
        )
    else:
        scope += (
            f"评价共覆盖 {cov['projects_evaluated']} 个子项目（子项目总数 {cov['projects_total']} 个），"
            f"覆盖项目预算总额的 {two(cov.get('budget_share'))}%。"
        )
    blocks.append(Paragraph(scope))
    blocks.append(
        Paragraph(
            f"评价数据来自各实施单位报送的 {files['read']} 份资料（无法读取 {files['rejected']} 份，"
            f"应报未报 {files['missing']} 份），共读取数据 {rows['read']} 行，其中通过校验 {rows['accepted']} 行，"
            f"未通过校验隔离 {rows['quarantined']} 行，数据质量情况详见附件。"
        )
    )
    return blocks


def _total_weight(inp: ReportInputs) -> Decimal:
    return sum((dec(w) or Decimal(0) for w in inp.dimensions["weight"]), Decimal(0))


def _share(score: object, weight: object) -> str:
    """Score as a percentage of its weight (得分率)."""
    s, w = dec(score), dec(weight)
    return two(s / w * 100) if w and s is not None else MISSING


def _overall_evaluation(inp: ReportInputs, grouping: Grouping, narrative: Narrative) -> list[Block]:
    score = inp.summary["score"]
    dims = inp.dimensions
    rows = [
        Row((str(r.name), plain(r.weight), two(r.score), _share(r.score, r.weight)))
        for r in dims.itertuples(index=False)
    ]
    rows.append(
        Row(
            ("合计", plain(_total_weight(inp)), two(score["total"]), _share(score["total"], _total_weight(inp))),
            "total",
        )
    )
    blocks: list[Block] = [
        Heading(1, "三、综合评价情况及评价结论"),
        Paragraph(f"本次绩效评价最终评价得分为 {two(score['total'])} 分，评级为“{score['grade']}”。"),
        *narrative.overall,
        Table(
            "评价维度得分表", ("评价维度", "权重（分）", "得分（分）", "得分率（%）"), tuple(rows), frozenset({1, 2, 3})
        ),
        Figure(
            "图 2  各评价维度得分与权重",
            charts.score_by_dimension(
                [(str(r.name), dec(r.weight), dec(r.score)) for r in dims.itertuples(index=False)]
            ),
            "chart-2-score-by-dimension",
        ),
    ]
    numbers = _problem_numbers_by_dimension(inp, grouping)
    blocks += [
        Paragraph(_dimension_paragraph(inp, r, numbers.get(str(r.code), []))) for r in dims.itertuples(index=False)
    ]
    perf = inp.indicators[inp.indicators["status"].isin(INDICATOR_STATUS_LABELS)]
    if not perf.empty:
        blocks.append(
            Figure(
                "图 3  绩效指标完成情况",
                charts.indicator_completion(
                    [(str(r.name), dec(r.completion_rate), str(r.status)) for r in perf.itertuples(index=False)]
                ),
                "chart-3-indicator-completion",
            )
        )
    blocks.append(_completion_table(inp))
    return blocks


def _problem_numbers_by_dimension(inp: ReportInputs, grouping: Grouping) -> dict[str, list[int]]:
    """Dimension code → the numbers of the problems in 四（二） whose findings concern it."""
    of_indicator = dict(zip(inp.indicators["code"].astype(str), inp.indicators["dimension"].astype(str)))
    out: dict[str, list[int]] = {}
    for n, p in enumerate(grouping.problems, start=1):
        dims = {
            of_indicator.get(s) if t == "indicator" and c != "target_unrealistic" else CODE_DIMENSION.get(c)
            for c, s, t in zip(p.findings["code"], p.findings["subject"], p.findings["subject_type"])
        }
        for d in dims:
            if d is not None:
                out.setdefault(d, []).append(n)
    return out


def _dimension_paragraph(inp: ReportInputs, dim: Any, problem_numbers: list[int]) -> str:
    """dim: a dimensions row (itertuples)."""
    name = str(dim.name)
    subject = name if name.startswith("项目") else f"项目{name}"
    text = (
        f"从{subject}方面来看，该部分权重 {plain(dim.weight)} 分，得分 {two(dim.score)} 分，"
        f"得分率 {_share(dim.score, dim.weight)}%。"
    )
    ind = inp.indicators[inp.indicators["dimension"].astype(str) == str(dim.code)]
    full = [n for n, p, sc in zip(ind["name"], ind["points"], ind["score"]) if dec(p) is not None and dec(sc) == dec(p)]
    unmet = list(ind.loc[ind["status"] == "unmet", "name"])
    uncollected = list(ind.loc[ind["status"] == "not_collected", "name"])
    short = [
        f"{n}（得分 {two(sc)}/{plain(p)} 分）"
        for n, p, sc, st in zip(ind["name"], ind["points"], ind["score"], ind["status"])
        if st not in ("unmet", "not_collected") and _below(sc, p)
    ]
    if full:
        text += f"{_join(full)}得满分。"
    if short:
        text += f"{_join(short)}未得满分。"
    if unmet or uncollected:
        parts = [f"{_join(unmet)}未完成目标值"] if unmet else []
        parts += [f"{_join(uncollected)}未完成数据采集统计"] if uncollected else []
        text += f"部分三级指标未 100%达到目标值或者未完成数据采集统计任务：{'；'.join(parts)}。"
    if problem_numbers:
        text += f"相关问题详见四（二）第 {'、'.join(str(n) for n in sorted(set(problem_numbers)))} 项。"
    return text


def _below(score: object, points: object) -> bool:
    """A score under its points, both numbers."""
    s, p = dec(score), dec(points)
    return p is not None and s is not None and s < p


def _completion_table(inp: ReportInputs) -> Table:
    sp = _ordered_subprojects(inp)
    rows: list[Row] = []
    for n, (status, label) in enumerate(SUBPROJECT_STATUS_LABELS.items(), start=1):
        group_ = sp[sp["status"] == status]
        rows.append(Row((f"{cn_numeral(n)}、{label}（{len(group_)} 项）",), "group"))
        rows += [Row((f"{c}--{name}",)) for c, name in zip(group_["subproject_code"], group_["name"])]
    return Table(f"{len(sp)} 项子项目完成情况表", ("项目实施内容",), tuple(rows))


# ---------------------------------------------------------------- 四、problems


def _experience_and_problems(inp: ReportInputs, grouping: Grouping, narrative: Narrative) -> list[Block]:
    blocks: list[Block] = [
        Heading(1, "四、主要经验及做法、存在的问题及原因分析"),
        Heading(2, "（一）主要经验及做法"),
        *(narrative.experience or [Paragraph("（评价机构尚未提供本节文字。）", "note")]),
        Heading(2, "（二）存在的问题及原因分析"),
        *narrative.problems_intro,
    ]
    for n, p in enumerate(grouping.problems, start=1):
        blocks.append(Heading(3, f"{n}. {p.heading}", EVALUATOR if p.by_evaluator else "generated"))
        if p.narrative is not None:
            blocks += p.narrative.description
        blocks += evidence(inp, p, n)
        if p.narrative is not None and p.narrative.analysis:
            blocks.append(Paragraph("原因分析", "subhead"))
            blocks += p.narrative.analysis
    if grouping.unmatched:
        blocks.append(
            Paragraph(f"（评价机构叙述中“发现：{'、'.join(grouping.unmatched)}”未对应任何问题发现，请核对。）", "note")
        )
    rest = grouping.appendix_only
    if not rest.empty:
        titles = _join(dict.fromkeys(code_title(c) for c in rest["code"]), 5, "类")
        blocks.append(Paragraph(f"另有 {len(rest)} 项发现（{titles}）严重程度为低，未单列为问题，见附件问题发现清单。"))
    if not grouping.problems and rest.empty:
        blocks.append(Paragraph("本次评价未发现需要报告的问题。"))
    return blocks


def evidence(inp: ReportInputs, p: Problem, n: int) -> list[Block]:
    """A problem's evidence: one sentence on what is at stake, then one compact table per kind of finding."""
    f = p.findings
    if f.empty:
        return []
    blocks: list[Block] = [Paragraph(_stake_sentence(inp, p))]
    parts = [
        (f[f["code"].isin(INDICATOR_CODES)], _indicator_evidence),
        (f[f["code"].isin(SUBPROJECT_CODES)], _subproject_evidence),
        (f[f["code"].isin(SOURCE_CODES)], _source_evidence),
        (f[f["code"].isin(COUNTY_CODES)], _county_evidence),
    ]
    known = set(INDICATOR_CODES) | set(SUBPROJECT_CODES) | set(SOURCE_CODES) | set(COUNTY_CODES)
    parts.append((f[~f["code"].isin(known)], _other_evidence))
    tables = [build(inp, part, n) for part, build in parts if not part.empty]
    for k, t in enumerate(tables, start=1):
        caption = f"表 4-{n}{'' if len(tables) == 1 else f'-{k}'}  {t.caption}"
        blocks.append(Table(caption, t.columns, t.rows, t.numeric, t.unit, t.mono))
    blocks += [Paragraph(s) for s in _same_money(inp, p)]
    return blocks


def _stake_sentence(inp: ReportInputs, p: Problem) -> str:
    f = p.findings
    subjects = []
    for t, label, unit in (
        ("indicator", "绩效指标", "项"),
        ("subproject", "子项目", "个"),
        ("source", "资金来源", "类"),
        ("county", "旗县区", "个"),
    ):
        count = f.loc[f["subject_type"] == t, "subject"].nunique()
        if count:
            subjects.append(f"{label} {count} {unit}")
    text = f"本问题涉及 {len(f)} 项发现（{severity_counts(f)}）"
    text += f"，涉及{'、'.join(subjects)}" if subjects else ""
    money = p.money.by_measure
    amounts = []
    if money.get("planned"):
        amounts.append(f"相关子项目计划资金 {wan(money['planned'])} 万元")
    if money.get("unarrived"):
        amounts.append(f"未到位资金 {wan(money['unarrived'])} 万元")
    outstanding = max(money.get("unspent", 0), money.get("recovered", 0))
    if outstanding:
        part = f"已到位未支出资金 {wan(outstanding)} 万元"
        if money.get("recovered") and money.get("unspent"):
            part += f"（其中被收回 {wan(money['recovered'])} 万元）"
        elif money.get("recovered"):
            part = f"被收回资金 {wan(money['recovered'])} 万元"
        amounts.append(part)
    if p.money.unlinked_fen:
        amounts.append(f"其他涉及金额 {wan(p.money.unlinked_fen)} 万元")
    if amounts:
        text += "；" + "，".join(amounts) + "，同一笔资金只计一次"
    if p.points_lost:
        text += f"；相关指标共失分 {p.points_lost:.2f} 分"
    return text + "。"


def _same_money(inp: ReportInputs, p: Problem) -> list[str]:
    """Sentences saying which findings are the same money, from their shared lineage cells."""
    by_id = {r.finding_id: r for r in p.findings.itertuples(index=False)}
    out = []
    for whole, parts, measure in p.money.same:
        a = by_id[whole]
        ordered = sorted(parts, key=lambda b: natural_key(str(by_id[b].subject)))
        names = [_subject_name(inp, by_id[b]) for b in ordered]
        label = MEASURE_LABELS[measure]
        if len(ordered) == 1 and by_id[ordered[0]].stake_fen == a.stake_fen:
            out.append(
                f"{_subject_name(inp, a)}与{names[0]}的{label}为同一笔资金（{wan(a.stake_fen)} 万元），只计一次。"
            )
        else:
            kind = str(by_id[ordered[0]].subject_type)
            shown = _join(
                names, 3, {"county": "个旗县区", "subproject": "个子项目", "source": "类资金来源"}.get(kind, "项")
            )
            out.append(
                f"{shown}的{label}均包含在{_subject_name(inp, a)}的{label}（{wan(a.stake_fen)} 万元）之中，不重复计算。"
            )
    return out


def subject_names(inp: ReportInputs, findings: pd.DataFrame) -> list[str]:
    """Each finding's subject in words, the name tables built once (the finding list can be long)."""
    names = _name_tables(inp)
    return [_subject_name(inp, f, names) for f in findings.itertuples(index=False)]


def _name_tables(inp: ReportInputs) -> dict[str, dict[str, str]]:
    return {
        "indicator": dict(zip(inp.indicators["code"].astype(str), inp.indicators["name"])),
        "subproject": dict(zip(inp.subprojects["subproject_code"].astype(str), inp.subprojects["name"])),
    }


def _subject_name(inp: ReportInputs, f: Any, names: dict[str, dict[str, str]] | None = None) -> str:
    """f: a findings row (itertuples)."""
    s = str(f.subject)
    names = names or _name_tables(inp)
    if f.subject_type == "indicator":
        return names["indicator"].get(s, s)
    if f.subject_type == "source":
        return inp.sources.get(s, s)
    if f.subject_type == "subproject":
        known = names["subproject"]
        return f"子项目 {s}（{known[s]}）" if s in known else f"子项目 {s}"
    if f.subject_type in ("county", "submitter"):
        return inp.names.get(s, s)
    return SUBJECT_TYPES.get(f.subject_type, "对象")


def _row(frame: pd.DataFrame | None, key: str) -> pd.Series | None:
    """The row of frame labelled key, None if there is none (the frame's index is unique)."""
    if frame is None or key not in frame.index:
        return None
    return cast(pd.Series, frame.loc[key])  # a unique label: one row, never a frame


def _shown(findings: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """At most MAX_ROWS findings: the most severe and those with the most at stake."""
    if len(findings) <= MAX_ROWS:
        return findings, 0
    return findings.head(MAX_ROWS), len(findings) - MAX_ROWS


def _more(rest: int) -> tuple[Row, ...]:
    return (
        (Row((f"另有 {rest} 项见附件问题发现清单及 scored_tables.xlsx「问题发现」工作表",), "group"),) if rest else ()
    )


def _indicator_evidence(inp: ReportInputs, f: pd.DataFrame, n: int) -> Table:
    ind = inp.indicators.assign(code=inp.indicators["code"].astype(str)).set_index("code", drop=False)
    notes: dict[str, list[str]] = {}
    for r in f.itertuples(index=False):
        subject = str(r.subject)
        notes.setdefault(subject, []).append(_indicator_note(r, _row(ind, subject)))
    codes = [c for c in ind.index if c in notes][:MAX_ROWS]
    rows = []
    for c in codes:
        r = ind.loc[c]
        rows.append(
            Row(
                (
                    str(r["name"]),
                    target_text(r),
                    actual_text(r),
                    two(r["completion_rate"]) if not blank(r["completion_rate"]) else MISSING,
                    f"{two(r['score'])}/{plain(r['points'])}",
                    "；".join(x for x in notes[c] if x),
                )
            )
        )
    unknown = [s for s in notes if s not in ind.index]
    rows += [Row((s, "", "", "", "", "；".join(notes[s]))) for s in unknown]
    return Table(
        "相关绩效指标完成情况",
        ("三级指标", "年度指标值", "实际完成值", "完成率（%）", "得分/分值", "说明"),
        tuple(rows) + _more(len(notes) - len(codes) - len(unknown)),
        frozenset({3, 4}),
    )


def _indicator_note(f: Any, r: pd.Series | None) -> str:
    """f: a findings row (itertuples); r: its indicator's row."""
    if r is None:
        return str(f.message)
    if f.code == "indicator_unmet":
        reason = cell_text(r.get("deviation_reason"))
        return f"未达到年度指标值{'，偏差原因：' + reason if reason else ''}"
    if f.code == "indicator_not_collected":
        reason = cell_text(r.get("deviation_reason"))
        return f"未完成数据采集统计{'：' + reason if reason else ''}"
    if f.code == "target_unrealistic":
        reason = cell_text(r.get("realism_reason")) or "年度指标值超出往年实际水平"
        met = "已达到年度指标值；" if r["status"] == "met" else ""
        return f"{met}{reason}"
    return str(f.message)


def _subproject_evidence(inp: ReportInputs, f: pd.DataFrame, n: int) -> Table:
    sp = inp.subprojects.assign(subproject_code=inp.subprojects["subproject_code"].astype(str)).set_index(
        "subproject_code", drop=False
    )
    funds = inp.funds_subprojects
    money = (
        funds.assign(subproject_code=funds["subproject_code"].astype(str)).set_index("subproject_code")
        if not funds.empty
        else None
    )
    notes: dict[str, list[str]] = {}
    for r in f.itertuples(index=False):
        subject = str(r.subject)
        notes.setdefault(subject, []).append(_subproject_note(r, _row(sp, subject), _row(money, subject)))
    codes = sorted(notes, key=natural_key)[:MAX_ROWS]
    rows = []
    for c in codes:
        s = _row(sp, c)
        name = f"{c}--{s['name']}" if s is not None else c
        status = SUBPROJECT_STATUS_LABELS.get(s["status"], "") if s is not None else ""
        status = {
            "未按计划时间完成延后实施或暂停实施": "延后或暂停实施",
            "计划时间调整后仍在实施期内持续推进中": "调整后持续推进",
        }.get(status, status)
        m = _row(money, c)
        if m is not None:
            figures = (wan(m["planned"]), wan(m["received"]), wan(m["spent"]), rate_of(m["spent"], m["received"]))
        else:
            figures = (two(s["allocation"]) if s is not None else MISSING, MISSING, MISSING, MISSING)
        rows.append(Row((name, status, *figures, "；".join(dict.fromkeys(x for x in notes[c] if x)))))
    return Table(
        "相关子项目实施及资金情况",
        ("子项目", "实施状态", "计划资金", "到位资金", "实际支出", "执行率（%）", "说明"),
        tuple(rows) + _more(len(notes) - len(codes)),
        frozenset({2, 3, 4, 5}),
        f"单位：{inp.meta.money_unit}",
    )


def _subproject_note(f: Any, s: pd.Series | None, m: pd.Series | None) -> str:
    """f: a findings row (itertuples); s, m: its sub-project's row and funds."""

    def day(v: Any) -> str:  # a date cell: a Timestamp, a date, date text or missing
        return "" if blank(v) else str(pd.Timestamp(v).date())

    if f.code == "subproject_delayed":
        end = day(s.get("planned_end")) if s is not None else ""
        return f"未按计划{'（' + end + '）' if end else ''}完成，延后实施或暂停实施"
    if f.code == "subproject_extended":
        end = day(s.get("adjusted_end")) if s is not None else ""
        return f"完成时间调整至 {end}，仍在实施" if end else "完成时间调整后仍在实施"
    if f.code == "low_execution_subproject":
        parts = []
        if s is not None and s["status"] == "completed":
            parts.append("已基本完成，资金支付结算滞后")
        if m is not None and int(m["recovered"]):
            parts.append(f"收回 {wan(m['recovered'])} 万元")
        if m is not None and int(m["carried_forward"]):
            parts.append(f"结转下年 {wan(m['carried_forward'])} 万元")
        return "；".join(parts) or cell_text(f.rule)
    return str(f.message)


def _source_evidence(inp: ReportInputs, f: pd.DataFrame, n: int) -> Table:
    by_source = inp.summary["funds"].get("by_source", {})
    wanted = set(f["subject"])
    rows = tuple(
        Row((label, *(two(v.get(k)) for k in FUND_KEYS))) for code, label, v in source_rows(inp) if code in wanted
    )
    rows += tuple(Row((s, *(MISSING,) * 7)) for s in sorted(wanted - set(by_source)))
    return Table(
        "相关资金来源到位及执行情况",
        ("资金来源", *FUND_HEADERS),
        rows,
        frozenset(range(1, 8)),
        f"单位：{inp.meta.money_unit}",
    )


def _county_evidence(inp: ReportInputs, f: pd.DataFrame, n: int) -> Table:
    m = inp.county_matching
    wanted = list(dict.fromkeys(f["subject"]))
    rows: list[Row] = []
    if not m.empty:
        t = m.assign(county_code=m["county_code"].astype(str)).set_index("county_code")
        shown = [c for c in t.index if c in wanted][:MAX_ROWS]
        for c in shown:
            r = t.loc[c]
            rows.append(
                Row(
                    (
                        str(r["county_name"]),
                        wan(r["planned"]),
                        wan(r["received"]),
                        wan(r["shortfall"]),
                        rate_of(r["received"], r["planned"]),
                    )
                )
            )
        total = t.loc[[c for c in t.index if c in wanted]]
        rows.append(
            Row(
                (
                    "合计",
                    wan(total["planned"].sum()),
                    wan(total["received"].sum()),
                    wan(total["shortfall"].sum()),
                    rate_of(total["received"].sum(), total["planned"].sum()),
                ),
                "total",
            )
        )
        rest = len([c for c in t.index if c in wanted]) - len(shown)
    else:
        rows = [
            Row((inp.names.get(str(r.subject), str(r.subject)), MISSING, MISSING, wan(r.stake_fen), MISSING))
            for r in f.head(MAX_ROWS).itertuples(index=False)
        ]
        rest = max(len(f) - MAX_ROWS, 0)
    return Table(
        "旗县区配套资金到位情况",
        ("旗县区", "配套计划", "实际到位", "缺口", "到位率（%）"),
        tuple(rows) + _more(rest),
        frozenset({1, 2, 3, 4}),
        f"单位：{inp.meta.money_unit}",
    )


def _other_evidence(inp: ReportInputs, f: pd.DataFrame, n: int) -> Table:
    shown, rest = _shown(f)
    rows = tuple(Row((_subject_name(inp, r), str(r.message))) for r in shown.itertuples(index=False))
    return Table("相关情况", ("对象", "情况"), rows + _more(rest))


# ---------------------------------------------------------------- 五、recommendations


def _recommendations(inp: ReportInputs, grouping: Grouping, narrative: Narrative) -> list[Block]:
    """The evaluator's recommendations first, then at most one generated one per remaining problem, none twice."""
    blocks: list[Block] = [Heading(1, "五、相关建议")]
    n = 0
    used: set[str] = set()
    for p in grouping.problems:
        if p.narrative is not None and p.narrative.recommendation:
            n += 1
            head, *body = p.narrative.recommendation
            blocks.append(Paragraph(f"{n}. {head.text}", "numbered", EVALUATOR))
            blocks += body
            used.add(p.cause)
    blocks += narrative.recommendations
    for p in grouping.problems:
        if (p.narrative is not None and p.narrative.recommendation) or p.cause in used:
            continue
        text = inp.recommendations.get(p.cause)
        if not text:
            continue
        used.add(p.cause)
        n += 1
        title, *paragraphs = [q.strip() for q in re.split(r"\n\s*\n", text.strip()) if q.strip()]
        blocks.append(Paragraph(f"{n}. {title}", "numbered"))
        blocks += [Paragraph(" ".join(q.split())) for q in paragraphs]
    if n == 0 and not narrative.recommendations:
        blocks.append(Paragraph("本次评价未提出建议。"))
    return blocks


# ---------------------------------------------------------------- appendices


def _appendix(inp: ReportInputs, grouping: Grouping) -> list[Block]:
    parts = []
    if inp.self_evaluation:
        parts.append(("项目支出绩效自评表", form_blocks(inp)))
    parts += [
        ("绩效指标评分表", _indicator_appendix(inp)),
        ("问题发现清单", _findings_appendix(inp, grouping)),
        ("数据质量摘要", _quality_appendix(inp)),
        ("输入文件清单", _inputs_appendix(inp)),
    ]
    out: list[Block] = []
    for n, (title, (landscape, blocks)) in enumerate(parts, start=1):
        heading = Heading(1, f"附件{cn_numeral(n)}：{title}")
        out.append(Landscape((heading, *blocks)) if landscape else heading)
        if not landscape:
            out += blocks
    return out


INDICATOR_HEADERS = (
    "三级指标",
    "方向",
    "年度指标值",
    "实际完成值",
    "完成率（%）",
    "分值",
    "得分",
    "评分规则",
    "完成状态",
    "偏差原因",
)


def _indicator_appendix(inp: ReportInputs) -> tuple[bool, list[Block]]:
    ind = inp.indicators
    rows: list[Row] = []
    empty_cells = ("",) * 4
    for n, d in enumerate(inp.dimensions.itertuples(index=False), start=1):
        rows.append(Row((f"{cn_numeral(n)}、{d.name}（权重 {plain(d.weight)} 分）",), "group"))
        level2 = None
        for r in ind[ind["dimension"].astype(str) == str(d.code)].itertuples(index=False):
            if cell_text(r.level2) and cell_text(r.level2) != level2:
                level2 = cell_text(r.level2)
                rows.append(Row((f"{level2}",), "group2"))
            rows.append(
                Row(
                    (
                        str(r.name),
                        direction(r),
                        target_text(r).lstrip("≥≤="),
                        actual_text(r),
                        two(r.completion_rate) if not blank(r.completion_rate) else "",
                        plain(r.points),
                        two(r.score),
                        cell_text(getattr(r, "scoring_rule", "")),
                        INDICATOR_STATUS_LABELS.get(str(r.status), ""),
                        cell_text(r.deviation_reason),
                    )
                )
            )
        rows.append(Row((f"{d.name}小计", *empty_cells, plain(d.weight), two(d.score), "", "", ""), "subtotal"))
    rows.append(
        Row(("合计", *empty_cells, plain(_total_weight(inp)), two(inp.summary["score"]["total"]), "", "", ""), "total")
    )
    note = Paragraph(
        "说明：完成率 = 实际完成值 ÷ 年度指标值（方向为“≤”的指标为 年度指标值 ÷ 实际完成值），达到年度指标值的按满分计；"
        "未完成数据采集的指标不得分；各指标得分按四舍五入保留两位小数，维度得分与总分为各指标得分之和。",
        "note",
    )
    return True, [Table("绩效指标评分表", INDICATOR_HEADERS, tuple(rows), frozenset({2, 3, 4, 5, 6})), note]


def _findings_appendix(inp: ReportInputs, grouping: Grouping) -> tuple[bool, list[Block]]:
    where = {fid: f"四（二）{n}" for n, p in enumerate(grouping.problems, start=1) for fid in p.findings["finding_id"]}
    df = _ordered_findings(inp)
    shown = df.head(MAX_LISTED)
    rows = []
    names = _name_tables(inp)
    for k, r in enumerate(shown.itertuples(index=False), start=1):
        at_stake = (
            f"{wan(r.stake_fen)} 万元"
            if not pd.isna(r.stake_fen)
            else (f"失分 {r.points_lost}" if r.points_lost else "")
        )
        rows.append(
            Row(
                (
                    str(k),
                    code_title(str(r.code)),
                    _subject_name(inp, r, names),
                    str(r.message),
                    SEVERITY_LABELS.get(str(r.severity), ""),
                    at_stake,
                    cell_text(r.rule),
                    where.get(str(r.finding_id), "仅列于本表"),
                )
            )
        )
    if len(df) > len(shown):
        rows.append(Row((f"另有 {len(df) - len(shown)} 项见 scored_tables.xlsx「问题发现」工作表",), "group"))
    intro = Paragraph(
        f"本次评价各环节共形成问题发现 {len(df)} 项（{severity_counts(df) if len(df) else '无'}），"
        "严重程度按评价设置中声明的规则判定，“所在问题”一栏为其在四（二）中的位置。"
    )
    table = Table(
        "问题发现清单",
        ("序号", "问题类型", "对象", "情况说明", "严重程度", "涉及金额/失分", "判定规则", "所在问题"),
        tuple(rows),
        frozenset({0}),
    )
    return True, [intro, table]


CHECK_TABLES = {
    "submission_inventory": "报送文件清单",
    "sheet_inventory": "工作表清单",
    "funds_by_source": "资金来源汇总表",
    "funds_cells": "资金明细表",
    "funds_by_subproject": "子项目资金表",
    "funds_by_group": "项目组资金表",
    "funds_by_county": "旗县区资金表",
    "indicator_scores": "指标得分表",
    "dimension_scores": "维度得分表",
}
IDENTITY_CHECKS = {
    "levels_sum_to_same_totals": "来源、子项目、项目组、旗县区各层级合计一致",
    "finest_grain_equals_inputs": "最细粒度合计等于报送数据合计",
    "transfers_net_to_zero": "市级下拨与旗县区转入相抵为零",
    "balance_formula": "逐行核对：结余 = 到位 + 下拨转入 − 下拨转出 − 支出 − 结转 − 收回",
    "transfer_crosscheck_complete": "市县下拨核对完整，每笔到位只配对一次",
    "lineage_complete": "每条资金记录均可追溯至报送文件行",
}
RULE_LABELS = {
    "required": "必填项为空",
    "not_a_number": "不是有效数字",
    "too_many_decimals": "金额超过两位小数",
    "too_large": "金额位数过多",
    "negative_amount": "金额为负数",
    "not_a_date": "日期无效",
    "not_allowed": "不在可选范围内",
    "unknown_code": "编码不在登记范围内",
    "duplicate_id": "编号重复",
    "date_out_of_period": "日期不在实施期内",
    "negative_not_reversal": "负数未注明冲红凭证",
    "implausible_amount": "金额超过单笔合理上限",
    "control_character": "含不可见控制字符",
    "text_too_long": "内容过长",
    "formula_uncalculated": "公式未计算",
    "excel_error": "Excel 错误值",
    "multiline_field": "内容跨越多行",
    "extra_fields": "表头之外有内容",
}


def _table_label(inp: ReportInputs, table: str) -> str:
    return inp.kind_labels.get(table) or CHECK_TABLES.get(table) or "其他数据表"


def _cn_detail(check: str, passed: bool, detail: str) -> str:
    """A check's detail in Chinese words ("结构校验 19 行，0 个问题")."""
    kv = dict(re.findall(r"(\w+)=([^,]+)", detail))
    if check == "contract" and "rows_checked" in kv:
        return f"结构校验 {kv['rows_checked']} 行，{kv.get('failure_count', '0')} 个问题"
    if check == "expectations":
        if detail.startswith("未另行运行"):  # a submission table GX did not check again (quality.not_run_row)
            return "质量期望未另行复核（结论同结构校验）"
        m = re.match(r"(\d+)/(\d+)", detail)
        return f"质量期望 {m[1]}/{m[2]} 项通过" if m else "质量期望"
    if check == "rows_accounted" and "files_checked" in kv:
        return (
            f"报送文件 {kv['files_checked']} 份：读取 {kv.get('rows_read')} 行 = 采用 {kv.get('rows_accepted')} 行"
            f" + 隔离 {kv.get('rows_quarantined')} 行"
        )
    if check == "lines_accounted" and "sheets_checked" in kv:
        return (
            f"工作表 {kv['sheets_checked']} 张，共 {kv.get('lines')} 行 = 标题、表头及空行 {kv.get('lines_structural')} 行"
            f" + 采用 {kv.get('lines_accepted')} 行 + 隔离 {kv.get('lines_quarantined')} 行"
        )
    if check in IDENTITY_CHECKS:
        words = detail
        for en, cn in MEASURE_NAMES.items():
            words = re.sub(rf"\b{en}\b", cn, words)
        figures = "，".join(f"{w} {v} 万元" for w, v in re.findall(r"([\u4e00-\u9fff]+) (-?\d+\.\d{2})", words))
        return IDENTITY_CHECKS[check] + (
            f"（{figures}）" if figures and passed else "" if passed else "：存在不一致，请核查"
        )
    return "通过" if passed else "未通过"


def _quality_appendix(inp: ReportInputs) -> tuple[bool, list[Block]]:
    rows_, files = inp.summary["rows"], inp.summary["files"]
    blocks: list[Block] = [
        Paragraph(
            f"报送文件：读取 {files['read']} 份，无法读取 {files['rejected']} 份，应报未报 {files['missing']} 份。"
            f"数据行：读取 {rows_['read']} 行，通过校验 {rows_['accepted']} 行，隔离 {rows_['quarantined']} 行。"
        )
    ]
    if not inp.quality.empty:
        by_table: dict[str, list[tuple[str, bool, str]]] = {}
        for c, ok, d in zip(inp.quality["check"], inp.quality["passed"], inp.quality["detail"]):
            table, _, check = str(c).partition(":")
            by_table.setdefault(table, []).append((check, bool(ok), cell_text(d)))
        rows = []
        for table, checks in by_table.items():
            ok = all(passed for _, passed, _ in checks)
            rows.append(
                Row(
                    (
                        _table_label(inp, table),
                        "通过" if ok else "未通过",
                        "；".join(_cn_detail(c, passed, d) for c, passed, d in checks),
                    )
                )
            )
        blocks.append(Table("数据校验结果", ("数据表", "结果", "校验情况"), tuple(rows)))
    if inp.quarantine.empty:
        blocks.append(Paragraph("本次评价无隔离记录。"))
        return False, blocks
    q = inp.quarantine.astype({"file": str, "rule": str})
    counts = (
        q.groupby(["file", "rule"])
        .size()
        .reset_index(name="n")
        .sort_values(["n", "file", "rule"], ascending=[False, True, True], kind="stable")
    )
    shown = counts.head(MAX_ROWS)
    rows = [
        Row((f, RULE_LABELS.get(r, "其他校验问题"), str(n)))
        for f, r, n in zip(shown["file"], shown["rule"], shown["n"])
    ]
    if len(counts) > len(shown):
        rest = counts.iloc[len(shown) :]
        rows.append(
            Row((f"其余 {len(rest)} 组（见 scored_tables.xlsx「隔离记录」）", "", str(rest["n"].sum())), "subtotal")
        )
    rows.append(Row(("合计", "", str(len(inp.quarantine))), "total"))
    blocks.append(Table("隔离记录汇总（按文件及问题）", ("文件", "问题", "记录数"), tuple(rows), frozenset({2})))
    return False, blocks


def _inputs_appendix(inp: ReportInputs) -> tuple[bool, list[Block]]:
    rows = []
    for k, r in enumerate(inp.inputs.head(MAX_LISTED).itertuples(index=False), start=1):
        kinds = (
            "、".join(dict.fromkeys(inp.kind_labels.get(x, x) for x in str(r.kind or "").split(",") if x)) or "未识别"
        )
        fmt = cell_text(getattr(r, "format", "")).upper()
        rows.append(
            Row(
                (
                    str(k),
                    inp.names.get(str(r.submitter), str(r.submitter)),
                    kinds,
                    fmt,
                    plain(r.rows),
                    str(r.sha256)[:12],
                )
            )
        )
    if len(inp.inputs) > MAX_LISTED:
        rows.append(Row((f"另有 {len(inp.inputs) - MAX_LISTED} 份见 scored_tables.xlsx「输入文件」工作表",), "group"))
    note = Paragraph(
        "说明：摘要为文件 SHA-256 的前 12 位，完整值及文件路径见输出目录中的 manifest.json 和 "
        "scored_tables.xlsx「输入文件」工作表，可用于核对报送文件未被改动。",
        "note",
    )
    return False, [
        Table(
            "输入文件清单",
            ("序号", "报送单位", "资料类型", "格式", "数据行数", "文件摘要"),
            tuple(rows),
            frozenset({0, 4}),
            mono=frozenset({5}),
        ),
        note,
    ]
