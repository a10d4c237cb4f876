"""The portfolio (组合视图): one row per scored evaluation, with the change since the programme's previous year.

Read from what every evaluation has published (``OUT/<evaluation_id>/summary.json`` and its findings table)
and from its ``evaluation.yaml`` (programme, ``programme_id``, evaluation year); written to ``OUT/portfolio/``
as an output set of its own, published atomically like an evaluation's (:mod:`pipeline.outputs`):
``portfolio.csv``, ``tables/portfolio.parquet``, ``portfolio.html``, ``portfolio.xlsx`` and ``manifest.json``
(the SHA-256 of every summary read and of every file written). No clock, path or random value enters a file,
so the same summaries always give the same bytes.

Only an evaluation whose summary carries a total score and a grade is listed: a monitoring folder's run
(in-year, 绩效运行监控) has neither, and is left out rather than shown with blanks. Rates and scores are the
summary's two-decimal text, read as ``Decimal``; a change is the difference of two such values, exact.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import html
import io
import json
import os
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import xlsxwriter

from pipeline import evaluation, outputs, store
from pipeline.escape import escape_text, write_csv
from pipeline.files import atomic_write
from pipeline.findings import SEVERITIES
from pipeline.summary import SUMMARY_FILE, dump

PORTFOLIO_ID = evaluation.PORTFOLIO_ID  # reserved: never an evaluation's folder name
TABLE = "portfolio"
TOP_FINDINGS = 3  # problems shown per evaluation: the most severe, then the largest stake
CENT = Decimal("0.01")

# Column → (Chinese header, kind): the table's one declaration, used by the CSV, the HTML and the XLSX.
COLUMNS: dict[str, tuple[str, str]] = {
    "programme_id": ("项目标识", "text"),
    "programme": ("项目名称", "text"),
    "year": ("评价年度", "int"),
    "evaluation_id": ("评价标识", "text"),
    "title": ("评价名称", "text"),
    "score": ("总分", "decimal"),
    "grade": ("等级", "text"),
    "arrival_rate": ("资金到位率（%）", "decimal"),
    "execution_rate": ("预算执行率（%）", "decimal"),
    "unmet_count": ("未达标指标数", "int"),
    "not_collected_count": ("未采集指标数", "int"),
    "high_findings": ("高严重度问题数", "int"),
    "top_findings": ("主要问题", "text"),
    "previous_evaluation_id": ("上一年度评价", "text"),
    "score_change": ("总分变化", "decimal"),
    "arrival_rate_change": ("资金到位率变化（百分点）", "decimal"),
    "execution_rate_change": ("预算执行率变化（百分点）", "decimal"),
    "newly_met_count": ("由未达标转为达标的指标数", "int"),
    "newly_met": ("由未达标转为达标的指标", "text"),
}


@dataclasses.dataclass(frozen=True)
class Evaluated:
    """One evaluation's published figures and the facts of its ``evaluation.yaml`` the portfolio shows."""

    evaluation_id: str
    programme_id: str
    programme: str
    title: str
    year: int
    report_date: dt.date
    summary: dict
    findings: pd.DataFrame  # the findings table (columns of pipeline.findings), possibly empty


def scored(summary: dict) -> bool:
    """Whether the summary carries a total score and a grade (a monitoring run's does not)."""
    score = summary.get("score")
    return isinstance(score, dict) and bool(score.get("total")) and bool(score.get("grade"))


def collect(raw_root: Path, out_root: Path) -> tuple[list[Evaluated], dict[str, str]]:
    """Every evaluation under ``raw_root`` with a published, scored summary, and the SHA-256 of each summary read.

    A folder that cannot be loaded, has not been published yet, or carries no score is left out.
    """
    found, _ = evaluation.scan(raw_root)
    listed, hashes = [], {}
    for ev in found:
        folder = outputs.published(out_root, ev.id)
        if folder is None or not (folder / SUMMARY_FILE).is_file():
            continue
        raw = (folder / SUMMARY_FILE).read_bytes()
        summary = json.loads(raw)
        if not scored(summary):
            continue
        findings_path = folder / store.TABLES / "findings.parquet"
        findings = store.read_table(findings_path) if findings_path.is_file() else pd.DataFrame()
        hashes[ev.id] = hashlib.sha256(raw).hexdigest()
        cfg = ev.config
        listed.append(
            Evaluated(
                evaluation_id=ev.id,
                programme_id=cfg.programme_id or ev.id,
                programme=cfg.programme,
                title=cfg.title,
                year=cfg.evaluation_period.end.year,
                report_date=cfg.report_date,
                summary=summary,
                findings=findings,
            )
        )
    return listed, hashes


def _decimal(value: object) -> Decimal | None:
    return Decimal(str(value)) if value not in (None, "") else None


def _change(now: Decimal | None, before: Decimal | None) -> Decimal | None:
    """``now − before`` to two decimals (half-up; exact for two-decimal inputs); None when either is missing."""
    return None if now is None or before is None else _cents(now - before)


def _cents(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT, rounding=ROUND_HALF_UP)


def _statuses(summary: dict) -> dict[str, str | None]:
    return {code: ind.get("status") for code, ind in (summary.get("indicators") or {}).get("by_code", {}).items()}


def top_findings(findings: pd.DataFrame, n: int = TOP_FINDINGS) -> list[str]:
    """The ``n`` most severe findings' messages: severity, then money at stake, then points lost, then id."""
    if findings.empty:
        return []
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    ordered = findings.assign(
        _rank=findings["severity"].map(rank),
        _stake=pd.to_numeric(findings["stake_fen"], errors="coerce").fillna(0),
        _points=findings["points_lost"].map(lambda v: _decimal(v) or Decimal(0)),
    ).sort_values(["_rank", "_stake", "_points", "finding_id"], ascending=[True, False, False, True], kind="stable")
    return [str(m) for m in ordered["message"].head(n)]


def build_table(evaluations: Sequence[Evaluated]) -> pd.DataFrame:
    """One row per evaluation, by programme then year; for a programme evaluated before, the change since the
    latest earlier year: score and rates (percentage points), and the indicators that went from unmet to met."""
    ordered = sorted(evaluations, key=lambda e: (e.programme_id, e.year, e.evaluation_id))
    rows = []
    for i, e in enumerate(ordered):
        s = e.summary
        funds = s.get("funds") or {}
        indicators = s.get("indicators") or {}
        earlier = [p for p in ordered[:i] if p.programme_id == e.programme_id and p.year < e.year]
        prev = earlier[-1] if earlier else None
        score, arrival, execution = (
            _decimal(s["score"]["total"]),
            _decimal(funds.get("arrival_rate")),
            _decimal(funds.get("execution_rate")),
        )
        row = {
            "programme_id": e.programme_id,
            "programme": e.programme,
            "year": e.year,
            "evaluation_id": e.evaluation_id,
            "title": e.title,
            "score": _cents(score),
            "grade": s["score"]["grade"],
            "arrival_rate": _cents(arrival),
            "execution_rate": _cents(execution),
            "unmet_count": len(indicators.get("unmet") or []),
            "not_collected_count": len(indicators.get("not_collected") or []),
            "high_findings": int((e.findings["severity"] == "high").sum()) if not e.findings.empty else 0,
            "top_findings": "\n".join(top_findings(e.findings)),
            "previous_evaluation_id": None,
            "score_change": None,
            "arrival_rate_change": None,
            "execution_rate_change": None,
            "newly_met_count": None,
            "newly_met": None,
        }
        if prev is not None:
            ps = prev.summary
            pfunds = ps.get("funds") or {}
            before, now = _statuses(ps), _statuses(s)
            names = (s.get("indicators") or {}).get("by_code", {})
            moved = sorted(c for c, status in now.items() if status == "met" and before.get(c) == "unmet")
            row.update(
                previous_evaluation_id=prev.evaluation_id,
                score_change=_change(score, _decimal(ps["score"]["total"])),
                arrival_rate_change=_change(arrival, _decimal(pfunds.get("arrival_rate"))),
                execution_rate_change=_change(execution, _decimal(pfunds.get("execution_rate"))),
                newly_met_count=len(moved),
                newly_met="、".join(names[c].get("name") or c for c in moved),
            )
        rows.append(row)
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    for column, (_, kind) in COLUMNS.items():  # decimals stay Decimal objects: Parquet decimal128, CSV as written
        if kind != "decimal":
            table[column] = table[column].astype("Int64" if kind == "int" else "string")
    return table


def render_html(table: pd.DataFrame) -> str:
    """One self-contained page (inline CSS, no URL): the table, then the year-over-year rows."""
    esc = html.escape

    def shown(column: str, value: object) -> str:
        if value is None or value is pd.NA:
            return ""
        if column.endswith("_change") and isinstance(value, Decimal) and value:
            return f"{value:+.2f}"  # a change shows its sign
        return esc(str(value)).replace("\n", "<br>")  # a finding per line

    def cells(row: pd.Series, columns: Sequence[str]) -> str:
        return "".join(f"<td>{shown(c, row[c])}</td>" for c in columns)

    main = [c for c in COLUMNS if c not in ("title",) and not c.endswith("_change") and "newly" not in c]
    main.remove("previous_evaluation_id")
    yoy = [
        "programme",
        "year",
        "previous_evaluation_id",
        "evaluation_id",
        "score",
        "score_change",
        "arrival_rate_change",
        "execution_rate_change",
        "newly_met_count",
        "newly_met",
    ]
    head = "".join(f"<th>{esc(COLUMNS[c][0])}</th>" for c in main)
    body = "\n".join(f"<tr>{cells(r, main)}</tr>" for _, r in table.iterrows())
    changed = table[table["previous_evaluation_id"].notna()]
    yoy_head = "".join(f"<th>{esc(COLUMNS[c][0])}</th>" for c in yoy)
    yoy_body = "\n".join(f"<tr>{cells(r, yoy)}</tr>" for _, r in changed.iterrows())
    no_yoy = (
        "" if len(changed) else "<p>尚无多年度评价的项目。/ No programme is evaluated in more than one year yet.</p>"
    )
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>项目支出绩效评价组合视图 / Portfolio of evaluations</title>
<style>
body {{ font-family: "Noto Serif CJK SC", "SimSun", serif; margin: 2em; }}
table {{ border-collapse: collapse; margin-bottom: 2em; font-size: 0.9em; }}
th, td {{ border: 1px solid #999; padding: 0.3em 0.5em; vertical-align: top; }}
th {{ background: #dce6f1; }}
</style>
</head>
<body>
<h1>项目支出绩效评价组合视图</h1>
<p>共 {len(table)} 项已评分的评价（监控期文件夹不含得分，不列入）。/ {len(table)} scored evaluations.</p>
<h2>一、各项评价</h2>
<table>
<thead><tr>{head}</tr></thead>
<tbody>
{body}
</tbody>
</table>
<h2>二、同一项目较上一年度的变化</h2>
{no_yoy}<table>
<thead><tr>{yoy_head}</tr></thead>
<tbody>
{yoy_body}
</tbody>
</table>
</body>
</html>
"""


def render_xlsx(table: pd.DataFrame, created: dt.date) -> bytes:
    """The table as one A4 sheet with Chinese headers; ``created`` (the newest report date) is the file's date."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    workbook.set_properties({"title": "项目支出绩效评价组合视图", "created": dt.datetime.combine(created, dt.time())})
    base = {"font_name": "宋体", "font_size": 10, "valign": "top"}
    header = workbook.add_format({**base, "bold": True, "bg_color": "#DCE6F1", "border": 1, "text_wrap": True})
    formats = {
        "decimal": workbook.add_format({**base, "num_format": "0.00"}),
        "int": workbook.add_format({**base, "num_format": "0"}),
        "text": workbook.add_format({**base, "text_wrap": True}),
    }
    ws = workbook.add_worksheet("组合视图")
    for j, (column, (label, kind)) in enumerate(COLUMNS.items()):
        ws.write_string(0, j, label, header)
        ws.set_column(j, j, 40 if column in ("top_findings", "newly_met", "title") else 14)
        for i, value in enumerate(table[column].tolist(), start=1):
            if pd.isna(value):
                continue
            if kind == "text":
                ws.write_string(i, j, escape_text(str(value)), formats["text"])
            else:  # an exact two-decimal or integer value; the cell shows it with its format
                ws.write_number(i, j, float(Decimal(str(value))), formats[kind])
    ws.freeze_panes(1, 0)
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    workbook.close()
    return buffer.getvalue()


def arrow_schema() -> pa.Schema:
    """The Parquet types, fixed whatever the rows: decimals as decimal128(9, 2), counts as int64, the rest text."""
    types = {"decimal": pa.decimal128(9, 2), "int": pa.int64(), "text": pa.string()}
    return pa.schema([pa.field(c, types[kind]) for c, (_, kind) in COLUMNS.items()])


def write_parquet(table: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(pa.Table.from_pandas(table, schema=arrow_schema(), preserve_index=False), tmp, compression="zstd")
    os.replace(tmp, path)


def write(folder: Path, evaluations: Sequence[Evaluated], inputs: dict[str, str]) -> pd.DataFrame:
    """Write the portfolio's files and their manifest into ``folder``; returns the table."""
    table = build_table(evaluations)
    write_parquet(table, folder / store.TABLES / f"{TABLE}.parquet")
    write_csv(table, folder / f"{TABLE}.csv")
    atomic_write(folder / f"{TABLE}.html", render_html(table).encode("utf-8"))
    created = max((e.report_date for e in evaluations), default=dt.date(2000, 1, 1))
    atomic_write(folder / f"{TABLE}.xlsx", render_xlsx(table, created))
    files = [f"{store.TABLES}/{TABLE}.parquet", f"{TABLE}.csv", f"{TABLE}.html", f"{TABLE}.xlsx"]
    hashes = {f: hashlib.sha256((folder / f).read_bytes()).hexdigest() for f in files}
    manifest = {"inputs": {f"{k}/{SUMMARY_FILE}": v for k, v in sorted(inputs.items())}, "outputs": hashes}
    atomic_write(folder / "manifest.json", dump(manifest).encode("utf-8"))
    return table


def refresh(raw_root: Path, out_root: Path, run_id: str) -> tuple[Path, pd.DataFrame]:
    """Build the portfolio from every published summary and publish it as ``OUT/portfolio``; returns the folder
    and the table. Raises :class:`pipeline.outputs.OutputLocked` when another refresh is publishing it."""
    folder = outputs.staging(out_root, PORTFOLIO_ID, run_id)
    try:
        listed, inputs = collect(raw_root, out_root)
        table = write(folder, listed, inputs)
        published = outputs.publish(out_root, PORTFOLIO_ID, run_id)
    finally:
        outputs.release(PORTFOLIO_ID, run_id)
    return published, table
