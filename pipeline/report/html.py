"""report.html: one self-contained page (inline CSS and SVG, no URL anywhere) that prints on A4."""

from __future__ import annotations

from html import escape
from typing import Iterable, Iterator

from pipeline.report.inputs import ReportInputs
from pipeline.report.text import Block, Contents, Figure, Heading, Landscape, Paragraph, Table, document, walk

CSS = """
@page { size: A4; margin: 20mm 18mm 20mm 18mm; }
@page landscape { size: A4 landscape; margin: 18mm 15mm; }
html { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "SimSun", sans-serif;
       font-size: 10.5pt; line-height: 1.7; color: #1a1a1a; background: #fff; }
body { max-width: 174mm; margin: 0 auto; padding: 12mm 0; }
h1.title { font-size: 20pt; text-align: center; margin: 8mm 0 4mm; }
h1 { font-size: 15pt; margin: 8mm 0 3mm; }
h2 { font-size: 13pt; margin: 6mm 0 2mm; }
h1, h2, h3, .numbered, caption { break-after: avoid; page-break-after: avoid; }
p { margin: 0 0 2.5mm; text-indent: 2em; text-align: justify; }
p.center { text-align: center; text-indent: 0; }
p.numbered { font-weight: bold; text-indent: 0; margin-top: 3mm; }
p.note { color: #555; text-indent: 0; font-size: 9.5pt; }
ul.findings { margin: 0 0 2.5mm 1.2em; padding-left: 1em; }
ul.findings li { margin-bottom: 1mm; }
nav.toc { margin: 6mm 0 8mm; border-top: 1px solid #999; border-bottom: 1px solid #999; padding: 2mm 0; }
nav.toc h2 { text-align: center; margin: 2mm 0; }
nav.toc ol { list-style: none; padding: 0; margin: 0; }
nav.toc li.l2 { padding-left: 2em; }
nav.toc a { color: inherit; text-decoration: none; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0 5mm; font-size: 9.5pt; page-break-inside: auto; }
caption { font-weight: bold; padding-bottom: 1mm; }
caption .unit { display: block; text-align: right; font-weight: normal; font-size: 9pt; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
th, td { border: 1px solid #8c8c8c; padding: 1mm 1.5mm; vertical-align: top; }
th { background: #dce6f1; font-weight: bold; text-align: center; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.group td { font-weight: bold; background: #f3f6fa; }
tr.subtotal td { font-weight: bold; }
tr.total td { font-weight: bold; background: #e8eef6; }
td.hash { font-family: monospace; font-size: 8pt; word-break: break-all; }
figure { margin: 3mm 0 6mm; text-align: center; break-inside: avoid; page-break-inside: avoid; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 9.5pt; color: #333; }
section.landscape { page: landscape; break-before: page; page-break-before: always; }
section.landscape th, section.landscape td:not(:last-child) { white-space: nowrap; }
section.landscape + * { break-before: page; page-break-before: always; }
@media print { body { max-width: none; padding: 0; } a { color: inherit; } }
"""


def render_html(inp: ReportInputs) -> bytes:
    """The report as UTF-8 HTML bytes; the same inputs give the same bytes."""
    blocks = document(inp)
    # Level 1-2 headings get ids s1, s2, … in reading order; the table of contents links to them.
    toc = [b for b in walk(blocks) if isinstance(b, Heading) and b.level in (1, 2)]
    ids = iter(f"s{n}" for n in range(1, len(toc) + 1))
    contents = "".join(f'<li class="l{h.level}"><a href="#s{n}">{escape(h.text)}</a></li>' for n, h in enumerate(toc, 1))
    body = _blocks(blocks, ids, f'<nav class="toc"><h2>目 录</h2><ol>{contents}</ol></nav>')
    title = escape(next(b.text for b in blocks if isinstance(b, Heading) and b.level == 0))
    page = (
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
    return page.encode("utf-8")


def _blocks(blocks: Iterable[Block], ids: Iterator[str], contents: str) -> str:
    parts: list[str] = []
    bullets: list[str] = []
    for b in blocks:
        if isinstance(b, Paragraph) and b.style == "bullet":
            bullets.append(f"<li>{escape(b.text)}</li>")
            continue
        if bullets:  # consecutive bullets form one list
            parts.append(f'<ul class="findings">{"".join(bullets)}</ul>')
            bullets = []
        parts.append(_block(b, ids, contents))
    if bullets:
        parts.append(f'<ul class="findings">{"".join(bullets)}</ul>')
    return "\n".join(parts)


def _block(b: Block, ids: Iterator[str], contents: str) -> str:
    if isinstance(b, Heading):
        if b.level == 0:
            return f'<h1 class="title">{escape(b.text)}</h1>'
        anchor = f' id="{next(ids)}"' if b.level in (1, 2) else ""
        return f"<h{b.level}{anchor}>{escape(b.text)}</h{b.level}>"
    if isinstance(b, Paragraph):
        return f'<p class="{b.style}">{escape(b.text)}</p>'
    if isinstance(b, Table):
        return _table(b)
    if isinstance(b, Figure):
        return f"<figure>{b.svg}<figcaption>{escape(b.caption)}</figcaption></figure>"
    if isinstance(b, Contents):
        return contents
    if isinstance(b, Landscape):
        return f'<section class="landscape">\n{_blocks(b.blocks, ids, contents)}\n</section>'
    raise TypeError(f"unknown block {b!r}")


def _table(t: Table) -> str:
    unit = f'<span class="unit">{escape(t.unit)}</span>' if t.unit else ""
    head = "".join(f"<th>{escape(c)}</th>" for c in t.columns)
    rows = []
    for r in t.rows:
        if r.kind == "group":
            rows.append(f'<tr class="group"><td colspan="{len(t.columns)}">{escape(r.cells[0])}</td></tr>')
            continue
        cells = "".join(f"<td{_cell_class(t, j)}>{escape(c)}</td>" for j, c in enumerate(r.cells))
        rows.append(f'<tr class="{r.kind}">{cells}</tr>' if r.kind != "data" else f"<tr>{cells}</tr>")
    return (f"<table><caption>{escape(t.caption)}{unit}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _cell_class(t: Table, j: int) -> str:
    if t.columns[j] == "SHA-256":
        return ' class="hash"'
    return ' class="num"' if j in t.numeric else ""
