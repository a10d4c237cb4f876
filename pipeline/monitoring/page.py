"""``monitoring.html``: one self-contained page (inline CSS and SVG, no URL) for a monitoring cut-off.

Red and yellow lines first, then execution against 序时进度 over the programme's cut-offs, then every
execution and indicator line, and the money rows dated after the cut-off that were not counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape
from typing import Any

import pandas as pd

from pipeline.evaluation import Evaluation
from pipeline.formats import fen_to_wan
from pipeline.monitoring.compute import LEVEL_LABELS, LEVEL_ORDER
from pipeline.monitoring.form import month_span
from pipeline.report.charts import progress_against_time
from pipeline.report.values import is_missing

PAGE_FILE = "monitoring.html"
CSS = """
body{font-family:'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei',SimSun,sans-serif;margin:24px;color:#222;font-size:14px}
h1{font-size:20px}h2{font-size:16px;border-bottom:1px solid #ccc;padding-bottom:2px;margin-top:24px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #bbb;padding:3px 6px;vertical-align:top}
th{background:#dce6f1}td.n{text-align:right;font-variant-numeric:tabular-nums}
td.红{background:#f4b6b6;text-align:center}td.黄{background:#ffe699;text-align:center}td.绿{background:#c6e0b4;text-align:center}
p.note{color:#555;font-size:12px}
"""


def _cell(value: object, cls: str = "") -> str:
    text = "" if is_missing(value) else str(value)
    return f'<td class="{cls}">{escape(text)}</td>' if cls else f"<td>{escape(text)}</td>"


def _table(header: Sequence[str], rows: Sequence[Sequence[tuple[object, str]]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(_cell(v, c) for v, c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _pct(text: object) -> str:
    return "" if is_missing(text) else f"{text}%"


def _wan(fen: object) -> str:
    return "" if is_missing(fen) else fen_to_wan(int(fen))  # type: ignore[call-overload]


def warnings(execution: pd.DataFrame, indicators: pd.DataFrame) -> list[dict[str, Any]]:
    """Every 红 and 黄 line, red first, then execution before indicators in their table order."""
    out = []
    for n, r in enumerate(execution.to_dict("records")):
        if r["deviation_level"] != "绿":
            out.append(
                {
                    "level": r["deviation_level"],
                    "what": f"预算执行·{LEVEL_LABELS[r['level']]}",
                    "subject": r["name"],
                    "progress": _pct(r["execution_rate"]),
                    "expected": _pct(r["time_progress"]),
                    "gap": r["gap"] or "",
                    "note": f"按序时进度应支未支 {_wan(r['lag_fen'])} 万元",
                    "order": f"0{n:06d}",
                }
            )
    for n, r in enumerate(indicators.to_dict("records")):
        if r["deviation_level"] != "绿":
            cause = "：".join(x for x in (r["deviation_cause"], r["deviation_note"]) if x)
            out.append(
                {
                    "level": r["deviation_level"],
                    "what": "绩效指标",
                    "subject": r["name"],
                    "progress": _pct(r["completion_to_date"]),
                    "expected": _pct(r["expected_progress"]),
                    "gap": r["gap"] or "",
                    "note": f"完成目标可能性：{r['likelihood']}" + (f"；{cause}" if cause else ""),
                    "order": f"1{n:06d}",
                }
            )
    return sorted(out, key=lambda w: (LEVEL_ORDER[w["level"]], w["order"]))


def render_page(
    ev: Evaluation,
    block: dict[str, Any],
    execution: pd.DataFrame,
    indicators: pd.DataFrame,
    excluded: pd.DataFrame,
    rows: dict[str, int],
    points: Sequence[dict[str, Any]],
) -> bytes:
    """The page as UTF-8 bytes, byte-identical for the same inputs."""
    cutoff = ev.monitoring_cutoff
    assert cutoff is not None
    span = month_span(cutoff)
    title = f"{ev.config.programme}绩效运行监控（截至{cutoff.year}年{cutoff.month}月{cutoff.day}日）"
    counts = block["lines"]
    parts = [
        f"<h1>{escape(title)}</h1>",
        "<p>"
        + escape(
            f"序时进度 {block['time_progress']}%；年度预算 {_wan(int(block['planned']))} 万元，"
            f"{span}执行 {_wan(int(block['spent']))} 万元，执行率 {_pct(block['execution_rate'])}"
            f"（{block['deviation_level']}）。预警：红 {counts.get('红', 0)} 项，黄 {counts.get('黄', 0)} 项，"
            f"绿 {counts.get('绿', 0)} 项。"
        )
        + "</p>",
        '<p class="note">'
        + escape(
            f"报送数据行：读入 {rows['read']} = 采用 {rows['accepted']} + 隔离 {rows['quarantined']}；"
            f"采用的资金行中 {block['rows_excluded_after_cutoff']} 行日期晚于截止日"
            f"（{_wan(int(block['amount_excluded_after_cutoff']))} 万元），未计入本期，见文末。"
        )
        + "</p>",
        "<h2>红色、黄色预警</h2>",
    ]
    found = warnings(execution, indicators)
    if found:
        parts.append(
            _table(
                ["等级", "类别", "对象", "进度", "应达进度", "落后（百分点）", "说明"],
                [
                    [
                        (w["level"], w["level"]),
                        (w["what"], ""),
                        (w["subject"], ""),
                        (w["progress"], "n"),
                        (w["expected"], "n"),
                        (w["gap"], "n"),
                        (w["note"], ""),
                    ]
                    for w in found
                ],
            )
        )
    else:
        parts.append("<p>无红色、黄色预警。</p>")
    parts.append("<h2>预算执行进度与序时进度（各监控截止日）</h2>")
    parts.append(
        progress_against_time(
            [
                (
                    p["cutoff"],
                    Decimal(p["time_progress"]) if p.get("time_progress") else None,
                    Decimal(p["execution_rate"]) if p.get("execution_rate") else None,
                    p.get("deviation_level", ""),
                )
                for p in points
            ]
        )
    )
    parts.append("<h2>预算执行</h2>")
    parts.append(
        _table(
            [
                "层级",
                "编码",
                "名称",
                "年度预算数（万元）",
                f"{span}执行数（万元）",
                "执行率",
                "序时进度",
                "落后（百分点）",
                "全年预计执行数（万元）",
                "等级",
            ],
            [
                [
                    (LEVEL_LABELS[r["level"]], ""),
                    (r["key"], ""),
                    (r["name"], ""),
                    (_wan(r["planned"]), "n"),
                    (_wan(r["spent"]), "n"),
                    (_pct(r["execution_rate"]), "n"),
                    (_pct(r["time_progress"]), "n"),
                    (r["gap"], "n"),
                    (_wan(r["projected_spent"]), "n"),
                    (r["deviation_level"], r["deviation_level"]),
                ]
                for r in execution.to_dict("records")
            ],
        )
    )
    parts.append("<h2>绩效指标</h2>")
    parts.append(
        _table(
            [
                "三级指标",
                "年度指标值",
                f"{span}实际完成值",
                "全年预计完成值",
                "完成比例",
                "应达进度",
                "完成目标可能性",
                "偏差原因",
                "等级",
            ],
            [
                [
                    (r["name"], ""),
                    (f"{r['target']}{r['unit']}" if r["target"] is not None else "", "n"),
                    (f"{r['actual_to_date']}{r['unit']}" if r["actual_to_date"] is not None else "", "n"),
                    (
                        f"{r['projected_annual']}{r['unit']}（{r['projection_basis']}）"
                        if r["projected_annual"] is not None
                        else "",
                        "n",
                    ),
                    (_pct(r["completion_to_date"]), "n"),
                    (_pct(r["expected_progress"]), "n"),
                    (r["likelihood"], ""),
                    ("：".join(x for x in (r["deviation_cause"], r["deviation_note"]) if x), ""),
                    (r["deviation_level"], r["deviation_level"]),
                ]
                for r in indicators.to_dict("records")
            ],
        )
    )
    parts.append("<h2>截止日后的资金行（未计入本期）</h2>")
    if len(excluded):
        parts.append(
            _table(
                ["文件", "工作表", "行号", "日期", "资金来源", "子项目编码", "金额（万元）"],
                [
                    [
                        (r["file"], ""),
                        (r["sheet"], ""),
                        (r["row"], "n"),
                        (pd.Timestamp(r["date"]).date().isoformat(), ""),
                        (ev.sources.get(r["source_code"], r["source_code"]), ""),
                        (r["subproject_code"], ""),
                        (_wan(r["amount_fen"]), "n"),
                    ]
                    for r in excluded.to_dict("records")
                ],
            )
        )
    else:
        parts.append("<p>无。</p>")
    history = "、".join(f"{p['cutoff']}（{p['status']}）" for p in points)
    parts.append(f'<p class="note">{escape(f"本项目（{ev.programme_id}）的监控截止日：{history}。")}</p>')
    html = (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>" + "\n".join(parts) + "</body></html>\n"
    )
    return html.encode("utf-8")
