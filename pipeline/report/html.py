"""report.html: one self-contained page (inline CSS and SVG, no URL anywhere) that prints on A4.

The same page is the source of report.pdf (:mod:`pipeline.report.pdf`): the ``@page`` rules give
the PDF its running header (the report title), its footer (第 X 页 共 Y 页) and landscape pages
for wide tables; the table of contents gets page numbers from ``target-counter``. Browsers ignore
what they do not support, so the page reads the same on screen.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from html import escape

from pipeline.report.blocks import (
    Block,
    Contents,
    Cover,
    Figure,
    Heading,
    Landscape,
    Paragraph,
    Table,
    column_widths,
    toc_entries,
)
from pipeline.report.inputs import ReportInputs, ReportMeta
from pipeline.report.text import document

PORTRAIT_MM, LANDSCAPE_MM = 174, 267  # the text width of an A4 page, as the @page margins below leave it
FONTS = '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "SimSun", sans-serif'
CSS = """
@page { size: A4; margin: 22mm 18mm 22mm 18mm;
        @top-center { content: string(doctitle); font-size: 8.5pt; color: #555; }
        @bottom-center { content: "第 " counter(page) " 页 共 " counter(pages) " 页"; font-size: 9pt; } }
@page :first { @top-center { content: none; } @bottom-center { content: none; } }
@page landscape { size: A4 landscape; margin: 18mm 15mm 18mm 15mm; }
html { font-family: FONTS;
       font-size: 10.5pt; line-height: 1.7; color: #1a1a1a; background: #fff; }
body { max-width: 174mm; margin: 0 auto; padding: 12mm 0; }
section.cover { text-align: center; padding-top: 55mm; min-height: 200mm; break-after: page; page-break-after: always; }
section.cover h1 { font-size: 22pt; line-height: 1.5; margin: 0 0 40mm; }
section.cover p { font-size: 14pt; text-indent: 0; text-align: center; margin: 0 0 5mm; }
h1.title { font-size: 18pt; text-align: center; margin: 4mm 0 4mm; string-set: doctitle content(); }
h1 { font-size: 15pt; margin: 8mm 0 3mm; }
h2 { font-size: 13pt; margin: 6mm 0 2mm; }
h3 { font-size: 11pt; margin: 5mm 0 2mm; }
h1, h2, h3, .numbered, .subhead, caption { break-after: avoid; page-break-after: avoid; }
p { margin: 0 0 2.5mm; text-indent: 2em; text-align: justify; }
p.center { text-align: center; text-indent: 0; }
p.numbered { font-weight: bold; text-indent: 0; margin-top: 3mm; }
p.subhead { font-weight: bold; text-indent: 0; margin-top: 2mm; }
p.note { color: #555; text-indent: 0; font-size: 9pt; }
ul.findings { margin: 0 0 2.5mm 1.2em; padding-left: 1em; }
ul.findings li { margin-bottom: 1mm; }
nav.toc { margin: 6mm 0 8mm; padding: 2mm 0; break-after: page; page-break-after: always; }
nav.toc h2 { text-align: center; margin: 2mm 0 4mm; font-size: 16pt; }
nav.toc ol { list-style: none; padding: 0; margin: 0; }
nav.toc li { margin: 1mm 0; }
nav.toc li.l2 { padding-left: 2em; }
nav.toc a { color: inherit; text-decoration: none; }
nav.toc a::after { content: leader(".") target-counter(attr(href), page); }
table { border-collapse: collapse; width: 100%; table-layout: fixed; margin: 2mm 0 5mm; font-size: 9pt; page-break-inside: auto; }
caption { font-weight: bold; padding-bottom: 1mm; }
caption .unit { display: block; text-align: right; font-weight: normal; font-size: 8.5pt; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
th, td { border: 0.75pt solid #8c8c8c; padding: 0.8mm 1.2mm; vertical-align: top; overflow-wrap: anywhere; }
th { background: #dce6f1; font-weight: bold; text-align: center; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.mono { font-family: "Noto Sans Mono CJK SC", monospace; font-size: 8pt; white-space: nowrap; }
tr.group td { font-weight: bold; background: #f3f6fa; }
tr.group2 td { font-style: italic; background: #fafbfd; }
tr.subtotal td { font-weight: bold; }
tr.total td { font-weight: bold; background: #e8eef6; }
figure { margin: 3mm 0 6mm; text-align: center; break-inside: avoid; page-break-inside: avoid; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 9.5pt; color: #333; }
section.landscape { page: landscape; break-before: page; page-break-before: always; }
section.landscape table { font-size: 8.5pt; }
section.landscape + * { break-before: page; page-break-before: always; }
@media print { body { max-width: none; padding: 0; } a { color: inherit; } }
""".replace("FONTS", FONTS)


def render_html(inp: ReportInputs) -> bytes:
    """The report as UTF-8 HTML bytes; the same inputs give the same bytes."""
    return page(document(inp), inp.meta)


def page(blocks: list[Block], meta: ReportMeta) -> bytes:
    # Level 1-2 headings get ids s1, s2, … in reading order; the table of contents links to them.
    toc = toc_entries(blocks)
    ids = iter(f"s{n}" for n in range(1, len(toc) + 1))
    contents = "".join(
        f'<li class="l{h.level}"><a href="#s{n}">{escape(h.text)}</a></li>' for n, h in enumerate(toc, 1)
    )
    body = _blocks(blocks, ids, f'<nav class="toc"><h2>目 录</h2><ol>{contents}</ol></nav>')
    title = escape(next(b.text for b in blocks if isinstance(b, Heading) and b.level == 0))
    html = (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{title}</title>\n'
        # document properties of report.pdf: fixed, from the evaluation (never the clock)
        f'<meta name="author" content="{escape(meta.evaluator)}">\n'
        f'<meta name="dcterms.created" content="{meta.report_date.isoformat()}">\n'
        f'<meta name="dcterms.modified" content="{meta.report_date.isoformat()}">\n'
        f"<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
    return html.encode("utf-8")


def _blocks(blocks: Iterable[Block], ids: Iterator[str], contents: str, landscape: bool = False) -> str:
    parts: list[str] = []
    bullets: list[str] = []
    for b in blocks:
        if isinstance(b, Paragraph) and b.style == "bullet":
            bullets.append(f"<li>{escape(b.text)}</li>")
            continue
        if bullets:  # consecutive bullets form one list
            parts.append(f'<ul class="findings">{"".join(bullets)}</ul>')
            bullets = []
        parts.append(_block(b, ids, contents, landscape))
    if bullets:
        parts.append(f'<ul class="findings">{"".join(bullets)}</ul>')
    return "\n".join(parts)


def _block(b: Block, ids: Iterator[str], contents: str, landscape: bool) -> str:
    if isinstance(b, Cover):
        lines = "".join(f"<p>{escape(label)}：{escape(value)}</p>" for label, value in b.lines)
        return f'<section class="cover"><h1>{escape(b.title)}</h1>{lines}</section>'
    if isinstance(b, Heading):
        if b.level == 0:
            return f'<h1 class="title">{escape(b.text)}</h1>'
        anchor = f' id="{next(ids)}"' if b.level in (1, 2) else ""
        return f"<h{b.level}{anchor}>{escape(b.text)}</h{b.level}>"
    if isinstance(b, Paragraph):
        return f'<p class="{b.style}">{escape(b.text)}</p>'
    if isinstance(b, Table):
        return _table(b, landscape)
    if isinstance(b, Figure):
        return f"<figure>{b.svg}<figcaption>{escape(b.caption)}</figcaption></figure>"
    if isinstance(b, Contents):
        return contents
    if isinstance(b, Landscape):
        return f'<section class="landscape">\n{_blocks(b.blocks, ids, contents, True)}\n</section>'
    raise TypeError(f"unknown block {b!r}")


def _table(t: Table, landscape: bool) -> str:
    unit = f'<span class="unit">{escape(t.unit)}</span>' if t.unit else ""
    head = "".join(f"<th>{escape(c)}</th>" for c in t.columns)
    rows = []
    for r in t.rows:
        if r.kind in ("group", "group2") or len(r.cells) == 1 < len(t.columns):
            rows.append(f'<tr class="{r.kind}"><td colspan="{len(t.columns)}">{escape(r.cells[0])}</td></tr>')
            continue
        cells = "".join(f"<td{_cell_class(t, j)}>{escape(c)}</td>" for j, c in enumerate(r.cells))
        rows.append(f'<tr class="{r.kind}">{cells}</tr>' if r.kind != "data" else f"<tr>{cells}</tr>")
    widths = column_widths(t, LANDSCAPE_MM if landscape else PORTRAIT_MM)
    cols = "".join(f'<col style="width:{w * 100 / sum(widths):.1f}%">' for w in widths)
    return (
        f"<table><caption>{escape(t.caption)}{unit}</caption><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _cell_class(t: Table, j: int) -> str:
    if j in t.mono:
        return ' class="mono"'
    return ' class="num"' if j in t.numeric else ""
