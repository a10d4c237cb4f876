"""The report's building blocks: HTML, PDF and DOCX render the same list, so every format says the same thing.

``origin`` tells generated text from the evaluator's own words (``narrative.md``): checks that
generated sentences agree with the tables (statuses, met targets, whole counts) read only the
generated ones, since an evaluator may judge, as the seed's does, that a met target was too high.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

GENERATED = "generated"


@dataclasses.dataclass(frozen=True)
class Heading:
    level: int  # 0 title, 1 一、…, 2 （一）…, 3 a problem or an appendix part
    text: str
    origin: str = GENERATED


@dataclasses.dataclass(frozen=True)
class Paragraph:
    text: str
    style: str = "body"  # body, numbered (bold run-in heading), subhead, bullet, note, center
    origin: str = GENERATED


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
    mono: frozenset[int] = frozenset()  # columns of codes or hashes, in a fixed-width font


@dataclasses.dataclass(frozen=True)
class Figure:
    caption: str
    svg: str
    name: str  # file stem of the chart's PNG (chart-1 …), shared by the DOCX and the output set


@dataclasses.dataclass(frozen=True)
class Cover:
    """The cover page: title, 委托方, 评价机构, date."""

    title: str
    lines: tuple[tuple[str, str], ...]  # (label, value), e.g. ("委托方", "呼和浩特市财政局")


@dataclasses.dataclass(frozen=True)
class Contents:
    """Where the table of contents goes."""


@dataclasses.dataclass(frozen=True)
class Landscape:
    """Blocks printed on landscape pages, for tables too wide for portrait; they start a new page."""

    blocks: tuple[Block, ...]


Block = Heading | Paragraph | Table | Figure | Cover | Contents | Landscape


def walk(blocks: Iterable[Block]) -> Iterable[Block]:
    """Every block in reading order, the contents of landscape parts included."""
    for b in blocks:
        yield from walk(b.blocks) if isinstance(b, Landscape) else (b,)


def toc_entries(blocks: Iterable[Block]) -> list[Heading]:
    """The headings the table of contents lists (levels 1 and 2), in reading order."""
    return [b for b in walk(blocks) if isinstance(b, Heading) and b.level in (1, 2)]


SHORT_COLUMN_MM = 32  # a column whose longest cell fits in this keeps its width when a table is too wide


def column_widths(t: Table, available_mm: float) -> list[float]:
    """Column widths (mm) fitted to content: each column's longest line, in display width, shares the page.

    A column gets at least its header's width (wrapped to two lines) and at most what its longest
    cell needs; text columns give way first when the table is wider than the page.
    """
    mm_per_unit = 1.75  # 9 pt text: one CJK character ≈ 3.2 mm, one Latin character ≈ 1.75 mm
    rows = [r.cells for r in t.rows if len(r.cells) == len(t.columns) and r.kind not in ("group", "group2")]
    need, least = [], []
    for j, header in enumerate(t.columns):
        longest = max([_display(header)] + [_display(r[j]) for r in rows[:500]])
        need.append(longest * mm_per_unit + 3)
        least.append(max(_display(header) / 2, 4 if j in t.numeric else 6) * mm_per_unit + 3)
    if sum(need) <= available_mm:
        spare = available_mm - sum(need)
        text_cols = [j for j in range(len(need)) if j not in t.numeric] or list(range(len(need)))
        return [w + (spare / len(text_cols) if j in text_cols else 0) for j, w in enumerate(need)]
    # too wide: numbers and short columns keep what they need, long text shares the rest
    keep = {j for j in range(len(need)) if j in t.numeric or need[j] <= SHORT_COLUMN_MM}
    if sum(need[j] for j in keep) > 0.7 * available_mm:
        keep = set(t.numeric)
    fixed = sum(need[j] for j in keep)
    room = max(available_mm - fixed, sum(least[j] for j in range(len(need)) if j not in keep))
    # by the square root of what each needs: a very long column does not starve a moderately long one
    weight = {j: need[j] ** 0.5 for j in range(len(need)) if j not in keep}
    total = sum(weight.values()) or 1
    widths = [need[j] if j in keep else min(need[j], max(least[j], weight[j] * room / total)) for j in range(len(need))]
    spare = available_mm - sum(widths)
    if spare > 0:  # what a capped column did not take goes to the columns still short of what they need
        short = [j for j in weight if widths[j] < need[j]]
        for j in short:
            widths[j] += spare / len(short)
    scale = min(1.0, available_mm / sum(widths))
    return [w * scale for w in widths]


def _display(text: str) -> int:
    """Display width of the longest line: CJK characters count two."""
    return max((sum(2 if ord(ch) > 0x2E80 else 1 for ch in line) for line in str(text).split("\n")), default=0)
