"""The report's content as a list of blocks, written from the inputs: every sentence and table.

HTML and DOCX render the same blocks, so both formats say the same thing. Prose that only a
person can write comes from the narrative; everything else is composed here from the tables.
"""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal, InvalidOperation
from typing import Iterable, Optional, Union

import pandas as pd

from pipeline.findings import COLUMNS as FINDING_COLUMNS
from pipeline.formats import natural_key, round_half_up
from pipeline.report import charts
from pipeline.report.inputs import (
    FINDING_CODES,
    INDICATOR_STATUS_LABELS,
    STATUS_LABELS,
    TARGET_FLAG_LABELS,
    ReportInputs,
)

# National scale: each finding code shows this many worst rows, then a count of the rest.
MAX_FINDINGS_PER_CODE = 20
SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}
MISSING = "—"

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
INDICATOR_CODES = ("indicator_unmet", "indicator_not_collected")


@dataclasses.dataclass(frozen=True)
class Heading:
    level: int  # 0 title, 1 一、…, 2 （一）…
    text: str


@dataclasses.dataclass(frozen=True)
class Paragraph:
    text: str
    style: str = "body"  # body, numbered (bold run-in heading), bullet, note, center


@dataclasses.dataclass(frozen=True)
class Row:
    cells: tuple[str, ...]
    kind: str = "data"  # data, group (spanning label), subtotal, total


@dataclasses.dataclass(frozen=True)
class Table:
    caption: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    numeric: frozenset[int] = frozenset()  # right-aligned column positions
    unit: str = ""


@dataclasses.dataclass(frozen=True)
class Figure:
    caption: str
    svg: str


@dataclasses.dataclass(frozen=True)
class Contents:
    """Where the table of contents goes."""


@dataclasses.dataclass(frozen=True)
class Landscape:
    """Blocks printed on landscape pages, for tables too wide for portrait; they start a new page."""

    blocks: tuple


Block = Union[Heading, Paragraph, Table, Figure, Contents, Landscape]


def walk(blocks: Iterable[Block]) -> Iterable[Block]:
    """Every block in reading order, the contents of landscape parts included."""
    for b in blocks:
        yield from walk(b.blocks) if isinstance(b, Landscape) else (b,)


# ---------------------------------------------------------------- value formatting


def dec(value: object) -> Optional[Decimal]:
    """Exact Decimal from a string or number; None for missing or non-numeric text."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    try:
        return Decimal(str(value).strip().rstrip("%").replace(",", ""))
    except InvalidOperation:
        return None


def two(value: object) -> str:
    """Money, rate or score with two decimals, half-up; "—" when missing."""
    d = dec(value)
    return MISSING if d is None else f"{round_half_up(d):.2f}"


def plain(value: object) -> str:
    """Weights, points, targets: as few decimals as needed ("20", "12.5"); text stays text."""
    d = dec(value)
    if d is None:
        return "" if _blank(value) else str(value)
    return format(d.normalize(), "f")


def cn_date(d) -> str:
    return f"{d.year} 年 {d.month} 月 {d.day} 日"


def cn_numeral(n: int) -> str:
    """1 → 一, 12 → 十二, 23 → 二十三 (group and status headings up to 99)."""
    digits = "零一二三四五六七八九"
    tens, ones = divmod(n, 10)
    if tens == 0:
        return digits[ones]
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def _blank(value: object) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value)) or str(value).strip() == ""


def _text(value: object) -> str:
    return "" if _blank(value) else str(value).strip()


def _join(names: Iterable[str], limit: int = 10) -> str:
    names = list(names)
    shown = "、".join(names[:limit])
    return shown + (f"等 {len(names)} 项" if len(names) > limit else "")


# ---------------------------------------------------------------- findings


def report_findings(inp: ReportInputs) -> pd.DataFrame:
    """The findings, plus the conditions the report sees in its own tables that no stage reported.

    Shortfalls in the indicator table, delayed sub-projects, recovered funds and quarantined
    files are always stated, whether or not a stage emitted a finding for them; a supplied
    finding with the same code and subject wins. Indicator shortfalls carry their deviation
    reason. Order: code (section 四(二)'s order), severity, framework order, then as given.
    """
    given = inp.findings[FINDING_COLUMNS].copy()
    stated = set(given["code"] + ":" + given["subject"].astype(str))
    derived = pd.DataFrame(_derived_findings(inp), columns=FINDING_COLUMNS[1:])
    if not derived.empty:
        derived.insert(0, "finding_id", derived["code"] + ":" + derived["subject"])
        # A file rejected whole is already its own finding; its one quarantine record adds nothing.
        rejected = derived["subject"].map(lambda f: f"file_rejected:{f}" in stated) & (derived["code"] == "rows_quarantined")
        derived = derived[~derived["finding_id"].isin(stated) & ~rejected]
    df = pd.concat([given, derived], ignore_index=True) if not derived.empty else given
    df = df.astype({"subject": str, "figure": str, "message": str})
    reasons = {str(c): _text(r) for c, r in zip(inp.indicators["code"], inp.indicators["deviation_reason"])}
    for i in df.index[df["code"].isin(INDICATOR_CODES)]:
        reason = reasons.get(df.at[i, "subject"], "")
        if reason and reason not in df.at[i, "message"]:
            df.at[i, "message"] = f"{df.at[i, 'message']}偏差原因：{reason}"
    order = {c: n for n, c in enumerate(FINDING_CODES)}
    framework = {str(c): n for n, c in enumerate(inp.indicators["code"])}
    key = pd.DataFrame({
        "code_rank": df["code"].map(order).fillna(len(order)),
        "code": df["code"],
        "severity": df["severity"].map(SEVERITY_RANK).fillna(len(SEVERITY_RANK)),
        # Indicator findings read in framework order, as the summary lists them.
        "framework": df["subject"].map(framework).where(df["subject_type"] == "indicator").fillna(-1),
        "given": range(len(df)),
    }, index=df.index)
    return df.loc[key.sort_values(list(key.columns)).index].reset_index(drop=True)


def _derived_findings(inp: ReportInputs) -> list[dict]:
    rows = []
    for r in inp.indicators.itertuples(index=False):
        target = f"{plain(r.target)}{_text(r.unit)}"
        if r.status == "unmet":
            actual = f"{plain(r.actual)}{_text(r.unit)}"
            rows.append(_finding("indicator_unmet", "medium", "indicator", r.code, r.actual,
                                 f"{r.name}：年度指标值 {target}，实际完成值 {actual}，未达到目标值。"))
        elif r.status == "not_collected":
            rows.append(_finding("indicator_not_collected", "medium", "indicator", r.code, "",
                                 f"{r.name}：年度指标值 {target}，实际完成值未完成数据采集统计。"))
        if r.target_flag == "unrealistic":
            why = _text(getattr(r, "realism_reason", "")) or TARGET_FLAG_LABELS["unrealistic"]
            rows.append(_finding("target_unrealistic", "low", "indicator", r.code, r.target,
                                 f"{r.name}：年度指标值 {target}，{why}。"))
    for r in inp.subprojects.itertuples(index=False):
        if r.status == "delayed_or_paused":
            rows.append(_finding("subproject_delayed", "medium", "subproject", r.subproject_code, r.allocation,
                                 f"{r.subproject_code}--{r.name}未按计划时间完成，延后实施或暂停实施。"))
        elif r.status == "ongoing":
            rows.append(_finding("subproject_extended", "low", "subproject", r.subproject_code, r.allocation,
                                 f"{r.subproject_code}--{r.name}计划时间调整后仍在实施期内持续推进中。"))
    unit = inp.meta.money_unit
    for code, f in inp.summary["funds"].get("by_source", {}).items():
        if (dec(f.get("recovered")) or 0) > 0:
            rows.append(_finding("funds_recovered", "medium", "source", code, f["recovered"],
                                 f"{inp.sources.get(code, code)}收回 {two(f['recovered'])} {unit}。"))
    if not inp.quarantine.empty:
        q = inp.quarantine.astype({"file": str, "rule": str})
        for file, group in q.groupby("file", sort=False):
            rules = "、".join(sorted(group["rule"].unique()))
            rows.append(_finding("rows_quarantined", "medium", "file", file, str(len(group)),
                                 f"{file}：{len(group)} 条记录未通过校验被隔离（{rules}）。"))
    return rows


def _finding(code, severity, subject_type, subject, figure, message) -> dict:
    return {"code": code, "severity": severity, "subject_type": subject_type, "subject": str(subject),
            "figure": _text(figure), "message": message}


def worst(findings: pd.DataFrame, limit: int = MAX_FINDINGS_PER_CODE) -> list[tuple[str, pd.DataFrame, int]]:
    """Per code, in report order: (code, the worst ``limit`` rows, how many more there are)."""
    out = []
    for code in dict.fromkeys(findings["code"]):
        rows = findings[findings["code"] == code]
        out.append((code, rows.head(limit), max(len(rows) - limit, 0)))
    return out


def code_title(code: str) -> str:
    return FINDING_CODES.get(code, code)


# ---------------------------------------------------------------- narrative


_NUMBERED = re.compile(r"^(\d+[.、．]|[（(]\d+[)）])\s*")
_BULLET = re.compile(r"^[-*•]\s+")


NARRATIVE_PARTS = {"经验": "experience", "问题": "problems", "建议": "recommendations"}


def narrative_parts(text: str) -> dict[str, list[Block]]:
    """The evaluator's text split at "## " headings and routed by keyword into the sections it belongs to.

    A heading naming 经验 goes to 四(一), 问题 to 四(二) before the generated problems, 建议 to the
    end of 五; text under any other heading (or none) goes to 四(一), the first match wins.
    """
    parts: dict[str, list[str]] = {part: [] for part in NARRATIVE_PARTS.values()}
    current = "experience"
    for line in text.splitlines():
        if line.startswith("## "):
            title = line[3:]
            current = next((part for key, part in NARRATIVE_PARTS.items() if key in title), "experience")
            parts[current].append("")  # a heading ends the paragraph before it
        else:
            parts[current].append(line)
    return {part: _narrative_blocks(lines) for part, lines in parts.items()}


def _narrative_blocks(lines: list[str]) -> list[Block]:
    blocks: list[Block] = []
    buffer: list[str] = []
    style = "body"

    def flush() -> None:
        if buffer:
            joined = ""
            for part in buffer:
                # Hard-wrapped Chinese joins without a space; wrapped Latin text keeps one.
                joined += part if not joined or not joined[-1].isascii() else " " + part
            blocks.append(Paragraph(joined.replace("**", ""), style))
            buffer.clear()

    for raw in lines:
        line = raw.strip()
        if not line:
            flush()
            style = "body"
        elif line.startswith("### "):
            flush()
            blocks.append(Paragraph(line[4:].strip(), "numbered"))
        elif _NUMBERED.match(line) or _BULLET.match(line):
            flush()
            style = "numbered" if _NUMBERED.match(line) else "bullet"
            buffer.append(_BULLET.sub("", line))
        else:
            buffer.append(line)
    flush()
    return blocks


# ---------------------------------------------------------------- the document


def document(inp: ReportInputs) -> list[Block]:
    """The whole report, sections 一 to 五 as in the seed, then the appendix."""
    meta = inp.meta
    findings = report_findings(inp)
    narrative = narrative_parts(inp.narrative)
    blocks: list[Block] = [
        Heading(0, f"{meta.title}报告"),
        Paragraph(f"评价机构：{meta.evaluator}", "center"),
        Paragraph(f"报告日期：{cn_date(meta.report_date)}", "center"),
        Contents(),
    ]
    blocks += _basic_information(inp)
    blocks += _evaluation_work(inp)
    blocks += _overall_evaluation(inp, findings)
    blocks += _experience_and_problems(inp, findings, narrative)
    blocks += _recommendations(inp, findings, narrative)
    blocks += _appendix(inp)
    return blocks


def source_rows(inp: ReportInputs) -> list[tuple[str, str, dict]]:
    """(code, label, figures) per funding source: the metadata's order, then any source it does not name."""
    by_source = inp.summary["funds"].get("by_source", {})
    codes = [c for c in inp.sources if c in by_source] + [c for c in by_source if c not in inp.sources]
    return [(c, inp.sources.get(c, c), by_source[c]) for c in codes]


def _basic_information(inp: ReportInputs) -> list[Block]:
    meta, funds, unit = inp.meta, inp.summary["funds"], inp.meta.money_unit
    sources = [(label, f) for _, label, f in source_rows(inp)]

    def by(key: str) -> str:
        return "，".join(f"{label} {two(f.get(key))} {unit}" for label, f in sources)

    who = f"由{meta.implementing_unit}组织实施，" if meta.implementing_unit else ""
    opening = (
        f"{meta.programme}{who}项目计划实施期为 {meta.programme_start.year} 年 {meta.programme_start.month} 月"
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
        Figure("图 1  分资金来源计划、到位及支出情况", charts.funds_by_source(
            [(label, dec(f.get("planned")), dec(f.get("received")), dec(f.get("spent"))) for label, f in sources], unit)),
        _allocation_table(inp),
    ]


def _spent_clause(label: str, f: dict, unit: str) -> str:
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
    return Table("资金来源及使用情况表", ("资金来源", *FUND_HEADERS), tuple(rows),
                 frozenset(range(1, 8)), f"单位：{inp.meta.money_unit}")


def _ordered_subprojects(inp: ReportInputs) -> pd.DataFrame:
    sp = inp.subprojects.copy()
    sp["_key"] = [(natural_key(g), natural_key(c)) for g, c in zip(sp["group_code"], sp["subproject_code"])]
    return sp.sort_values("_key", kind="stable").drop(columns="_key")


def _code_range(codes: list[str]) -> str:
    """First and last code of a naturally sorted list, as the seed writes "1-5"."""
    return codes[0] if len(codes) == 1 else f"{codes[0]}-{codes[-1]}"


def _allocation_table(inp: ReportInputs) -> Table:
    sp = _ordered_subprojects(inp)
    rows: list[Row] = []
    for n, (_, group) in enumerate(sp.groupby("group_code", sort=False), start=1):
        rows.append(Row((f"{cn_numeral(n)}、{group['group_name'].iat[0]}", ""), "group"))
        rows += [Row((f"{c}--{name}", two(a))) for c, name, a in zip(group["subproject_code"], group["name"], group["allocation"])]
        subtotal = sum((dec(a) or Decimal(0) for a in group["allocation"]), Decimal(0))
        rows.append(Row((f"子项目 {_code_range(list(group['subproject_code']))} 小计", two(subtotal)), "subtotal"))
    total = sum((dec(a) or Decimal(0) for a in sp["allocation"]), Decimal(0))
    codes = sorted(sp["subproject_code"], key=natural_key)
    rows.append(Row((f"总项目合计（{_code_range(codes)}）", two(total)), "total"))
    return Table(f"{len(sp)} 项子项目名称及资金分配情况统计表", ("项目实施内容", "资金额"), tuple(rows),
                 frozenset({1}), f"单位：{inp.meta.money_unit}")


def _evaluation_work(inp: ReportInputs) -> list[Block]:
    meta, cov, rows, files = inp.meta, inp.summary["coverage"], inp.summary["rows"], inp.summary["files"]
    return [
        Heading(1, "二、绩效评价工作开展情况"),
        Paragraph(
            f"本项目评价地域范围为{meta.region}，评价时间范围自 {cn_date(meta.evaluation_start)}至 {cn_date(meta.evaluation_end)}，"
            f"评价共覆盖 {cov['projects_evaluated']} 个子项目（子项目总数 {cov['projects_total']} 个），"
            f"覆盖项目预算总额的 {two(cov.get('budget_share'))}%。"
        ),
        Paragraph(
            f"评价数据来自各实施单位报送的 {files['read']} 份资料（无法读取 {files['rejected']} 份，"
            f"应报未报 {files['missing']} 份），共读取数据 {rows['read']} 行，其中通过校验 {rows['accepted']} 行，"
            f"未通过校验隔离 {rows['quarantined']} 行，详见附件二。"
        ),
    ]


def _total_weight(inp: ReportInputs) -> Decimal:
    return sum((dec(w) or Decimal(0) for w in inp.dimensions["weight"]), Decimal(0))


def _share(score: object, weight: object) -> str:
    """Score as a percentage of its weight (得分率)."""
    s, w = dec(score), dec(weight)
    return two(s / w * 100) if w and s is not None else MISSING


def _overall_evaluation(inp: ReportInputs, findings: pd.DataFrame) -> list[Block]:
    score = inp.summary["score"]
    dims = inp.dimensions
    rows = [Row((str(r.name), plain(r.weight), two(r.score), _share(r.score, r.weight))) for r in dims.itertuples(index=False)]
    rows.append(Row(("合计", plain(_total_weight(inp)), two(score["total"]), _share(score["total"], _total_weight(inp))), "total"))
    blocks: list[Block] = [
        Heading(1, "三、综合评价情况及评价结论"),
        Paragraph(f"本次绩效评价最终评价得分为 {two(score['total'])} 分，评级为“{score['grade']}”。"),
        Table("评价维度得分表", ("评价维度", "权重（分）", "得分（分）", "得分率（%）"), tuple(rows), frozenset({1, 2, 3})),
        Figure("图 2  各评价维度得分与权重", charts.score_by_dimension(
            [(str(r.name), dec(r.weight), dec(r.score)) for r in dims.itertuples(index=False)])),
    ]
    blocks += [Paragraph(_dimension_paragraph(inp, r, findings)) for r in dims.itertuples(index=False)]
    perf = inp.indicators[inp.indicators["status"].isin(INDICATOR_STATUS_LABELS)]
    if not perf.empty:
        blocks.append(Figure("图 3  绩效指标完成情况", charts.indicator_completion(
            [(str(r.name), dec(r.completion_rate), str(r.status)) for r in perf.itertuples(index=False)])))
    blocks.append(_completion_table(inp))
    return blocks


def _dimension_paragraph(inp: ReportInputs, dim, findings: pd.DataFrame) -> str:
    name = str(dim.name)
    subject = name if name.startswith("项目") else f"项目{name}"
    text = (f"从{subject}方面来看，该部分权重 {plain(dim.weight)} 分，得分 {two(dim.score)} 分，"
            f"得分率 {_share(dim.score, dim.weight)}%。")
    ind = inp.indicators[inp.indicators["dimension"].astype(str) == str(dim.code)]
    full = [n for n, p, sc in zip(ind["name"], ind["points"], ind["score"]) if dec(p) is not None and dec(sc) == dec(p)]
    unmet = list(ind.loc[ind["status"] == "unmet", "name"])
    uncollected = list(ind.loc[ind["status"] == "not_collected", "name"])
    short = [
        f"{n}（得分 {two(sc)}/{plain(p)} 分）"
        for n, p, sc, st in zip(ind["name"], ind["points"], ind["score"], ind["status"])
        if st not in ("unmet", "not_collected") and dec(p) is not None and dec(sc) is not None and dec(sc) < dec(p)
    ]
    if full:
        text += f"{_join(full)}得满分。"
    if short:
        text += f"{_join(short)}未得满分。"
    if unmet or uncollected:
        parts = [f"{_join(unmet)}未完成目标值"] if unmet else []
        parts += [f"{_join(uncollected)}未完成数据采集统计"] if uncollected else []
        text += f"部分三级指标未 100%达到目标值或者未完成数据采集统计任务：{'；'.join(parts)}。"
    codes = [c for c in dict.fromkeys(findings["code"]) if CODE_DIMENSION.get(c) == str(dim.code)]
    if codes:
        text += f"评价发现{'；'.join(code_title(c) for c in codes)}等问题（详见四（二））。"
    return text


def _completion_table(inp: ReportInputs) -> Table:
    sp = _ordered_subprojects(inp)
    rows: list[Row] = []
    for n, (status, label) in enumerate(STATUS_LABELS.items(), start=1):
        group = sp[sp["status"] == status]
        rows.append(Row((f"{cn_numeral(n)}、{label}（{len(group)} 项）",), "group"))
        rows += [Row((f"{c}--{name}",)) for c, name in zip(group["subproject_code"], group["name"])]
    return Table(f"{len(sp)} 项子项目完成情况表", ("项目实施内容",), tuple(rows))


def _experience_and_problems(inp: ReportInputs, findings: pd.DataFrame, narrative: dict[str, list[Block]]) -> list[Block]:
    blocks: list[Block] = [
        Heading(1, "四、主要经验及做法、存在的问题及原因分析"),
        Heading(2, "（一）主要经验及做法"),
        *(narrative["experience"] or [Paragraph("（评价机构尚未提供本节文字。）", "note")]),
        Heading(2, "（二）存在的问题及原因分析"),
        *narrative["problems"],
    ]
    for n, (code, rows, rest) in enumerate(worst(findings), start=1):
        total = len(rows) + rest
        blocks.append(Paragraph(f"{n}. {code_title(code)}（{total} 项）。", "numbered"))
        blocks += [Paragraph(m, "bullet") for m in rows["message"]]
        if rest:
            blocks.append(Paragraph(f"另有 {rest} 项未逐条列出，完整清单见 scored_tables.xlsx「问题发现」工作表。", "note"))
    if findings.empty:
        blocks.append(Paragraph("本次评价未发现需要报告的问题。"))
    return blocks


def _recommendations(inp: ReportInputs, findings: pd.DataFrame, narrative: dict[str, list[Block]]) -> list[Block]:
    blocks: list[Block] = [Heading(1, "五、相关建议")]
    for n, code in enumerate(dict.fromkeys(findings["code"]), start=1):
        text = inp.recommendations.get(code) or f"建议针对“{code_title(code)}”问题逐项核实整改。"
        head, *body = [p.strip() for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
        blocks.append(Paragraph(f"{n}. {head}", "numbered"))
        blocks += [Paragraph(" ".join(p.split())) for p in body]
    return blocks + narrative["recommendations"]


def _appendix(inp: ReportInputs) -> list[Block]:
    return [_indicator_appendix(inp), *_quality_appendix(inp), *_inputs_appendix(inp)]


INDICATOR_HEADERS = ("二级指标", "三级指标", "单位", "年度指标值", "实际完成值", "完成率（%）", "分值", "得分",
                     "完成状态", "偏差原因")


def _indicator_appendix(inp: ReportInputs) -> Landscape:
    ind = inp.indicators
    rows: list[Row] = []
    blank = ("",) * 5
    for n, d in enumerate(inp.dimensions.itertuples(index=False), start=1):
        rows.append(Row((f"{cn_numeral(n)}、{d.name}（权重 {plain(d.weight)} 分）",), "group"))
        for r in ind[ind["dimension"].astype(str) == str(d.code)].itertuples(index=False):
            actual = "未采集" if r.status == "not_collected" and _blank(r.actual) else plain(r.actual)
            rows.append(Row((_text(r.level2), str(r.name), _text(r.unit), plain(r.target), actual,
                             two(r.completion_rate) if not _blank(r.completion_rate) else "", plain(r.points),
                             two(r.score), INDICATOR_STATUS_LABELS.get(r.status, ""), _text(r.deviation_reason))))
        rows.append(Row((f"{d.name}小计", *blank, plain(d.weight), two(d.score), "", ""), "subtotal"))
    rows.append(Row(("合计", *blank, plain(_total_weight(inp)), two(inp.summary["score"]["total"]), "", ""), "total"))
    return Landscape((
        Heading(1, "附件一：绩效指标评分表"),
        Table("绩效指标评分表", INDICATOR_HEADERS, tuple(rows), frozenset({3, 4, 5, 6, 7})),
    ))


def _quality_appendix(inp: ReportInputs) -> list[Block]:
    rows_, files = inp.summary["rows"], inp.summary["files"]
    blocks: list[Block] = [
        Heading(1, "附件二：数据质量摘要"),
        Paragraph(
            f"报送文件：读取 {files['read']} 份，无法读取 {files['rejected']} 份，应报未报 {files['missing']} 份。"
            f"数据行：读取 {rows_['read']} 行，通过校验 {rows_['accepted']} 行，隔离 {rows_['quarantined']} 行。"
        ),
    ]
    if not inp.quality.empty:
        checks = tuple(Row((str(c), "通过" if bool(p) else "未通过", _text(d)))
                       for c, p, d in zip(inp.quality["check"], inp.quality["passed"], inp.quality["detail"]))
        blocks.append(Table("数据校验结果", ("校验项", "结果", "说明"), checks))
    if inp.quarantine.empty:
        blocks.append(Paragraph("本次评价无隔离记录。"))
        return blocks
    counts = (inp.quarantine.astype({"file": str, "rule": str}).groupby(["file", "rule"]).size()
              .reset_index(name="n").sort_values(["n", "file", "rule"], ascending=[False, True, True], kind="stable"))
    shown = counts.head(MAX_FINDINGS_PER_CODE)
    rows = [Row((f, r, str(n))) for f, r, n in zip(shown["file"], shown["rule"], shown["n"])]
    if len(counts) > len(shown):
        rest = counts.iloc[len(shown):]
        rows.append(Row((f"其余 {len(rest)} 组（见 scored_tables.xlsx「隔离记录」）", "", str(rest["n"].sum())), "subtotal"))
    rows.append(Row(("合计", "", str(len(inp.quarantine))), "total"))
    blocks.append(Table("隔离记录汇总（按文件及规则）", ("文件", "规则", "记录数"), tuple(rows), frozenset({2})))
    return blocks


def _inputs_appendix(inp: ReportInputs) -> list[Block]:
    rows = tuple(Row((str(f), _text(k), _text(s), plain(n), str(h)))
                 for f, k, s, n, h in zip(*(inp.inputs[c] for c in ("file", "kind", "submitter", "rows", "sha256"))))
    return [
        Heading(1, "附件三：输入文件清单"),
        Table("输入文件及其 SHA-256", ("文件", "类型", "报送单位", "行数", "SHA-256"), rows, frozenset({3})),
    ]
