"""Inline SVG charts with real <text>: readable offline, searchable, and printed sharp on A4.

Horizontal bars throughout, because Chinese labels are long and values need room beside them.
Geometry is rounded to 0.1 px so the same inputs always give the same markup.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from decimal import Decimal
from html import escape
from pathlib import Path
from types import ModuleType

FONT = "'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei',SimSun,sans-serif"
WIDTH = 680
BAR = 14
COLOURS = {
    "planned": "#a9c1de",
    "received": "#4f81bd",
    "spent": "#1f4e79",
    "weight": "#e3e9f0",
    "score": "#4f81bd",
    "met": "#4f9a6b",
    "unmet": "#d9822b",
    "axis": "#7f8c99",
}
MAX_INDICATOR_BARS = 40
PNG_SCALE = 2  # twice the SVG's pixel size: sharp at 300 dpi when the DOCX shows the chart 16 cm wide
# Where Debian's fonts-noto-cjk puts the fonts: registered explicitly, since resvg renders a glyph it
# cannot find as nothing at all, without an error (tests/integration/test_report_files.py proves the CJK font resolves).
CJK_FONT_DIRS = ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/truetype/noto", "/usr/share/fonts")
QUALITATIVE = {"met": "定性评价：达到目标", "unmet": "定性评价：未达目标"}


def _n(x: float) -> str:
    return f"{x:.1f}"


def _text(
    x: float, y: float, s: str, *, anchor: str = "start", size: int = 12, fill: str = "#222", bold: bool = False
) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" font-size="{size}" fill="{fill}"{weight}>'
        f"{escape(s)}</text>"
    )


def _rect(x: float, y: float, w: float, h: float, fill: str, stroke: str = "none") -> str:
    return f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(w, 0))}" height="{_n(h)}" fill="{fill}" stroke="{stroke}"/>'


def _svg(height: float, title: str, body: list[str]) -> str:
    # No xmlns: inline SVG in HTML needs none, and the page then holds no URL at all.
    return (
        f'<svg viewBox="0 0 {WIDTH} {_n(height)}" width="{WIDTH}" '
        f'height="{_n(height)}" role="img" aria-label="{escape(title)}" font-family="{FONT}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _legend(items: Sequence[tuple[str, str]], x: float, y: float) -> list[str]:
    out = []
    for label, colour in items:
        out += [_rect(x, y - 10, 12, 12, colour, "#9aa5b1"), _text(x + 16, y, label)]
        x += 24 + 13 * len(label)
    return out


def _nice_max(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^k at or above value, so gridlines fall on round numbers."""
    if value <= 0:
        return 1.0
    base: float = 10 ** math.floor(math.log10(value))
    return next(m * base for m in (1, 2, 2.5, 5, 10) if m * base >= value)


def _fmt(value: Decimal) -> str:
    return f"{value:.2f}"


def funds_by_source(rows: Sequence[tuple[str, Decimal | None, Decimal | None, Decimal | None]], unit: str) -> str:
    """Planned, received and spent per funding source."""
    left, right, top = 96, 78, 34
    area = WIDTH - left - right
    top_value = _nice_max(float(max((v for r in rows for v in r[1:] if v is not None), default=Decimal(0))))
    block = 3 * BAR + 4 + 16
    height = top + len(rows) * block + 24
    body = _legend([("计划", COLOURS["planned"]), ("到位", COLOURS["received"]), ("支出", COLOURS["spent"])], left, 16)
    for k in range(5):
        x = left + area * k / 4
        body.append(f'<line x1="{_n(x)}" y1="{top - 4}" x2="{_n(x)}" y2="{_n(height - 20)}" stroke="#e5e5e5"/>')
        body.append(_text(x, height - 6, f"{top_value * k / 4:g}", anchor="middle", size=10, fill=COLOURS["axis"]))
    body.append(_text(WIDTH - 4, height - 6, unit, anchor="end", size=10, fill=COLOURS["axis"]))
    for i, (label, *values) in enumerate(rows):
        y0 = top + i * block
        body.append(_text(left - 8, y0 + 1.5 * BAR + 6, label, anchor="end"))
        for j, (value, key) in enumerate(zip(values, ("planned", "received", "spent"))):
            y = y0 + j * (BAR + 2)
            length = 0.0 if value is None else area * float(value) / top_value
            body += [
                _rect(left, y, length, BAR, COLOURS[key]),
                _text(left + length + 4, y + BAR - 3, "—" if value is None else _fmt(value), size=10),
            ]
    return _svg(height, f"分资金来源计划、到位及支出（{unit}）", body)


def score_by_dimension(rows: Sequence[tuple[str, Decimal | None, Decimal | None]]) -> str:
    """Each dimension's score drawn inside a bar as long as its weight."""
    left, right, top, step = 110, 120, 34, 30
    area = WIDTH - left - right
    top_weight = float(max((w for _, w, _ in rows if w is not None), default=Decimal(1))) or 1.0
    height = top + len(rows) * step + 8
    body = _legend([("权重", COLOURS["weight"]), ("得分", COLOURS["score"])], left, 16)
    for i, (name, weight, score) in enumerate(rows):
        y = top + i * step
        full = area * float(weight or 0) / top_weight
        got = area * float(score or 0) / top_weight
        label = (
            f"{'—' if score is None else _fmt(score)} / {'—' if weight is None else format(weight.normalize(), 'f')} 分"
        )
        body += [
            _text(left - 8, y + 14, name, anchor="end"),
            _rect(left, y, full, 20, COLOURS["weight"], "#c5ced8"),
            _rect(left, y + 3, got, 14, COLOURS["score"]),
            _text(left + full + 6, y + 14, label, size=11),
        ]
    return _svg(height, "各评价维度得分与权重", body)


def indicator_completion(rows: Sequence[tuple[str, Decimal | None, str]]) -> str:
    """Completion rate per performance indicator against the 100% line; uncollected ones say so."""
    shown = list(rows)
    note = ""
    if len(shown) > MAX_INDICATOR_BARS:
        # National scale: keep the uncollected and the lowest completion rates, in framework order.
        def badness(i: int) -> tuple[bool, Decimal, int]:
            _, rate, status = shown[i]
            graded = Decimal(100) if status == "met" else Decimal(0)
            return (status != "not_collected", graded if rate is None else rate, i)

        rank = sorted(range(len(shown)), key=badness)
        keep = set(rank[:MAX_INDICATOR_BARS])
        note = f"仅显示完成率最低的 {MAX_INDICATOR_BARS} 项（共 {len(shown)} 项），完整数据见附件一。"
        shown = [r for i, r in enumerate(shown) if i in keep]
    left, right, top, step, cap = 250, 70, 34 + (18 if note else 0), 20, 120.0
    area = WIDTH - left - right
    height = top + len(shown) * step + 24
    body = _legend(
        [("达到目标", COLOURS["met"]), ("未达目标", COLOURS["unmet"]), ("未采集", COLOURS["axis"])], left, 16
    )
    if note:
        body.append(_text(left, 40, note, size=10, fill=COLOURS["axis"]))
    hundred = left + area * 100 / cap
    for k in (0, 50, 100):
        x = left + area * k / cap
        body.append(_text(x, height - 6, f"{k}%", anchor="middle", size=10, fill=COLOURS["axis"]))
    for i, (name, rate, status) in enumerate(shown):
        y = top + i * step
        short = name if len(name) <= 18 else name[:17] + "…"
        body.append(_text(left - 8, y + 12, short, anchor="end", size=11))
        if status == "not_collected":
            body.append(_text(left + 4, y + 12, "未采集", size=11, fill=COLOURS["axis"]))
            continue
        if rate is None:  # a graded (qualitative) indicator has a status but no rate
            body.append(_text(left + 4, y + 12, QUALITATIVE[status], size=11, fill=COLOURS[status]))
            continue
        length = area * min(float(rate), cap) / cap
        colour = COLOURS["met"] if status == "met" else COLOURS["unmet"]
        body += [_rect(left, y + 2, length, BAR, colour), _text(left + length + 4, y + 13, f"{_fmt(rate)}%", size=10)]
    body.append(
        f'<line x1="{_n(hundred)}" y1="{top - 4}" x2="{_n(hundred)}" y2="{_n(height - 20)}" '
        f'stroke="#555" stroke-dasharray="4 3"/>'
    )
    return _svg(height, "绩效指标完成率", body)


@functools.cache
def _rasteriser() -> ModuleType:
    import vl_convert

    for folder in CJK_FONT_DIRS:
        if Path(folder).is_dir():
            vl_convert.register_font_directory(folder)
            break
    return vl_convert


def png(svg: str, scale: int = PNG_SCALE) -> bytes:
    """The chart rasterised to PNG (resvg, no browser): the same SVG always gives the same bytes."""
    standalone = svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    return bytes(_rasteriser().svg_to_png(standalone, scale=scale))


def progress_against_time(points: Sequence[tuple[str, Decimal | None, Decimal | None, str]]) -> str:
    """Execution rate against 序时进度 (both in %) over a programme's monitoring cut-offs, one column per cut-off;
    a cut-off without figures (its folder not run yet) keeps its column, marked 未运行."""
    left, right, top, bottom = 56, 24, 34, 40
    height = 300
    area_w, area_h = WIDTH - left - right, height - top - bottom
    top_value = _nice_max(float(max((v for p in points for v in p[1:3] if v is not None), default=Decimal(100))))
    step = area_w / max(len(points), 1)
    level_colours = {"红": "#c0392b", "黄": "#d9a52b", "绿": COLOURS["met"]}

    def xy(i: int, value: Decimal) -> tuple[float, float]:
        return left + step * (i + 0.5), top + area_h * (1 - float(value) / top_value)

    body = _legend([("序时进度", COLOURS["axis"]), ("执行率", COLOURS["spent"])], left, 16)
    for k in range(5):
        y = top + area_h * k / 4
        body.append(f'<line x1="{left}" y1="{_n(y)}" x2="{WIDTH - right}" y2="{_n(y)}" stroke="#e5e5e5"/>')
        body.append(
            _text(left - 6, y + 4, f"{top_value * (4 - k) / 4:g}%", anchor="end", size=10, fill=COLOURS["axis"])
        )
    for series, dash, colour in ((1, ' stroke-dasharray="6 4"', COLOURS["axis"]), (2, "", COLOURS["spent"])):
        coords = [xy(i, p[series]) for i, p in enumerate(points) if p[series] is not None]  # type: ignore[arg-type]
        if len(coords) > 1:
            line = " ".join(f"{_n(x)},{_n(y)}" for x, y in coords)
            body.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
    for i, (label, progress, rate, level) in enumerate(points):
        x = left + step * (i + 0.5)
        body.append(_text(x, height - bottom + 18, label, anchor="middle", size=11))
        if progress is None or rate is None:
            body.append(_text(x, top + area_h / 2, "未运行", anchor="middle", size=11, fill=COLOURS["axis"]))
            continue
        px, py = xy(i, progress)
        rx, ry = xy(i, rate)
        body += [
            f'<circle cx="{_n(px)}" cy="{_n(py)}" r="3" fill="{COLOURS["axis"]}"/>',
            f'<circle cx="{_n(rx)}" cy="{_n(ry)}" r="5" fill="{level_colours.get(level, COLOURS["spent"])}"/>',
            _text(rx + 8, ry + 4, f"{_fmt(rate)}%", size=10),
            _text(px + 8, py - 4, f"{_fmt(progress)}%", size=10, fill=COLOURS["axis"]),
        ]
    return _svg(height, "预算执行率与序时进度（各监控截止日）", body)
