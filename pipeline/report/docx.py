"""report.docx: the report as a Word document that goes out as it is.

- a cover page (title, 委托方, 评价机构, date) without header or footer;
- a running header with the report title and a footer “第 X 页 共 Y 页” (PAGE and NUMPAGES fields);
- a table of contents written into the document as text: one line per heading with a PAGEREF field
  to a bookmark on the heading, all inside a TOC field, as Word itself writes one. python-docx has
  no layout engine, so the cached page numbers are those of report.pdf (WeasyPrint's pagination of
  the same content), and ``w:updateFields`` asks Word to recompute every field when the document is
  opened; “更新域” rebuilds the contents from the headings;
- the charts as PNG images (rasterised from the report's SVG with a CJK font);
- East Asian fonts declared as 仿宋 (body), 宋体 (tables) and 黑体 (headings); Latin Times New Roman;
- table columns sized to their content; wide appendix tables on landscape pages;
- with a firm's reference Word file (``reference.docx`` in the evaluation folder) the document is
  built on it: its styles, page setup, letterhead header and logo stay, only its body is replaced.

Deterministic: core properties come from the report date and the evaluator, and the zip is
rewritten with fixed entry timestamps and order, so the same inputs give the same bytes.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Mapping

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_TAB_ALIGNMENT, WD_TAB_LEADER
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.table import CT_Row, CT_Tbl
from docx.section import Section, _Footer
from docx.shared import Mm, Pt, RGBColor
from docx.styles.style import ParagraphStyle
from docx.table import Table as DocxTable
from docx.table import _Cell
from docx.text.paragraph import Paragraph as DocxParagraph
from docx.text.run import Run

from pipeline.report.blocks import (
    Block,
    Contents,
    Cover,
    Figure,
    Heading,
    Landscape,
    Paragraph,
    Row,
    Table,
    column_widths,
    toc_entries,
)
from pipeline.report.inputs import ReportMeta

LATIN = "Times New Roman"
BODY_CJK = "仿宋"
TABLE_CJK = "宋体"
HEADING_CJK = "黑体"
TABLE_TEXT = "表格文字"
TOC_STYLES = ("目录 1", "目录 2")
HEADER_FILL = "DCE6F1"
GROUP_FILL = "F3F6FA"
MARGIN_MM = 25
CHART_WIDTH_MM = 150
SETTINGS_AFTER_UPDATE_FIELDS = (
    "hdrShapeDefaults",
    "footnotePr",
    "endnotePr",
    "compat",
    "docVars",
    "rsids",
    "attachedSchema",
    "themeFontLang",
    "clrSchemeMapping",
    "doNotIncludeSubdocsInStats",
    "doNotAutoCompressPictures",
    "forceUpgrade",
    "captions",
    "readModeInkLockDown",
    "smartTagType",
    "shapeDefaults",
    "doNotEmbedSmartTags",
    "decimalSymbol",
    "listSeparator",
)


class DraftDocx:
    """The whole document but the page numbers of its table of contents, which come from the PDF's layout.

    :func:`draft_docx` writes it while the PDF is laid out elsewhere; :meth:`finish` puts the pages in.
    """

    def __init__(self, doc: DocumentObject, meta: ReportMeta, page_runs: list[tuple[str, Run]]) -> None:
        self._doc, self._meta, self._page_runs = doc, meta, page_runs

    def finish(self, toc_pages: Mapping[str, int]) -> bytes:
        """The DOCX bytes, each contents line showing ``toc_pages`` of its heading (blank when not there)."""
        for heading, run in self._page_runs:
            page = toc_pages.get(heading)
            if page is not None:
                run.text = str(page)
        buffer = io.BytesIO()
        self._doc.save(buffer)
        return fixed_zip(buffer.getvalue(), self._meta.report_date)


def draft_docx(
    blocks: list[Block], meta: ReportMeta, charts: Mapping[str, bytes], template: bytes | None = None
) -> DraftDocx:
    """The report as DOCX, all but the page numbers its contents take from the PDF's layout.

    ``charts`` maps each figure's name to its PNG. ``draft_docx(...).finish(toc_pages)`` gives the
    bytes; the same inputs give the same bytes.
    """
    doc = Document(io.BytesIO(template)) if template else Document()
    if template:
        _clear_body(doc)
    else:
        _page_setup(doc.sections[0])
    _styles(doc, restyle=not template)
    writer = _Writer(doc, charts, toc_entries(blocks))
    writer.blocks(blocks)
    _header_footer(doc, meta.report_title)
    _update_fields_on_open(doc)
    _core_properties(doc, meta)
    return DraftDocx(doc, meta, writer.page_runs)


def fixed_zip(data: bytes, when: dt.date) -> bytes:
    """Rewrite an OOXML zip with fixed entry times, attributes and order ([Content_Types].xml first)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    names = sorted(source.namelist(), key=lambda n: (n != "[Content_Types].xml", n))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=(when.year, when.month, when.day, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0  # the default depends on the platform that writes the file
            info.external_attr = 0
            target.writestr(info, source.read(name))
    return out.getvalue()


def _clear_body(doc: DocumentObject) -> None:
    """Keep a reference document's styles, sections, headers and footers; drop its body text."""
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)


def _page_setup(section: Section) -> None:
    _orient(section, WD_ORIENT.PORTRAIT)
    section.top_margin = section.bottom_margin = Mm(MARGIN_MM)
    section.left_margin = section.right_margin = Mm(MARGIN_MM)
    section.header_distance = section.footer_distance = Mm(12)


def _orient(section: Section, orientation: WD_ORIENT) -> None:
    """A4 in the given orientation; margins carry over from the previous section."""
    section.orientation = orientation
    portrait = orientation == WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (Mm(210), Mm(297)) if portrait else (Mm(297), Mm(210))


def _fonts(style: ParagraphStyle, east_asia: str, size: float, bold: bool = False) -> None:
    """Set Latin and East Asian fonts explicitly; theme fonts would override w:eastAsia otherwise."""
    style.font.name = LATIN
    style.font.size = Pt(size)
    style.font.bold = bold
    style.font.color.rgb = RGBColor(0, 0, 0)
    rfonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    rfonts.set(qn("w:eastAsia"), east_asia)
    rfonts.set(qn("w:cs"), LATIN)


def _style(doc: DocumentObject, name: str, base: str = "Normal") -> ParagraphStyle:
    """A paragraph style, created (based on ``base``) when the document lacks it."""
    style: ParagraphStyle  # python-docx leaves Styles.__getitem__ and add_style unannotated
    try:
        style = doc.styles[name]
    except KeyError:
        style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = doc.styles[base]
    return style


def _styles(doc: DocumentObject, restyle: bool) -> None:
    """Fonts and spacing as Chinese evaluation reports set them; a reference document keeps its own."""
    styles = doc.styles
    for name in ("Title", "Heading 1", "Heading 2", "Heading 3", "List Bullet"):
        _style(doc, name)
    if restyle:
        normal = styles["Normal"]
        _fonts(normal, BODY_CJK, 12)
        lang = OxmlElement("w:lang")
        lang.set(qn("w:val"), "en-US")
        lang.set(qn("w:eastAsia"), "zh-CN")
        normal.element.get_or_add_rPr().append(lang)
        normal.paragraph_format.line_spacing = 1.5
        normal.paragraph_format.space_after = Pt(0)
        normal.paragraph_format.first_line_indent = Pt(24)  # two characters, as Chinese reports indent
        for name, size in (("Title", 20), ("Heading 1", 16), ("Heading 2", 14), ("Heading 3", 12)):
            _fonts(styles[name], HEADING_CJK, size, bold=True)
            fmt = styles[name].paragraph_format
            fmt.first_line_indent = Pt(0)
            fmt.space_before, fmt.space_after = Pt(12), Pt(6)
            fmt.keep_with_next = True
        styles["Title"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        styles["Title"].element.get_or_add_pPr().remove_all("w:pBdr")  # the template underlines titles in blue
        styles["List Bullet"].paragraph_format.first_line_indent = Pt(0)
    table_text = _style(doc, TABLE_TEXT)
    toc = [_style(doc, name) for name in TOC_STYLES]
    if restyle:
        _fonts(table_text, TABLE_CJK, 9)
        for n, style in enumerate(toc):
            _fonts(style, BODY_CJK if n else HEADING_CJK, 12)
            style.paragraph_format.first_line_indent = Pt(0)
            style.paragraph_format.left_indent = Pt(24 * n)
    fmt = table_text.paragraph_format
    fmt.first_line_indent, fmt.line_spacing = Pt(0), 1.0
    fmt.space_before = fmt.space_after = Pt(0)


class _Writer:
    def __init__(self, doc: DocumentObject, charts: Mapping[str, bytes], toc: list[Heading]) -> None:
        self.doc = doc
        self.charts = charts
        self.toc = toc
        self.page_runs: list[tuple[str, Run]] = []  # each contents line's page number, filled in by DraftDocx
        self.bookmarks = {id(h): f"_Toc_s{n}" for n, h in enumerate(toc, start=1)}
        self.next_bookmark = 1
        self.landscape = False
        self.table_style = doc.styles[TABLE_TEXT].style_id

    def blocks(self, blocks: Iterable[Block]) -> None:
        for b in blocks:
            if self.landscape and not isinstance(b, Landscape):
                self.section(WD_ORIENT.PORTRAIT)
            self.one(b)

    def one(self, b: Block) -> None:
        if isinstance(b, Cover):
            self.cover(b)
        elif isinstance(b, Heading):
            self.heading(b)
        elif isinstance(b, Paragraph):
            self.paragraph(b)
        elif isinstance(b, Table):
            self.table(b, landscape=False)
        elif isinstance(b, Figure):
            self.figure(b)
        elif isinstance(b, Contents):
            self.contents()
        elif isinstance(b, Landscape):
            # consecutive landscape parts share one landscape section, each on a new page
            self.section(WD_ORIENT.LANDSCAPE) if not self.landscape else self.page_break()
            self.landscape = True
            for inner in b.blocks:
                self.table(inner, landscape=True) if isinstance(inner, Table) else self.one(inner)
        else:
            raise TypeError(f"unknown block {b!r}")

    def section(self, orientation: WD_ORIENT) -> None:
        self.landscape = orientation == WD_ORIENT.LANDSCAPE
        section = self.doc.add_section(WD_SECTION.NEW_PAGE)
        section.different_first_page_header_footer = False  # only the cover page goes without
        _orient(section, orientation)

    def cover(self, b: Cover) -> None:
        for _ in range(6):
            self.doc.add_paragraph()
        title = self.doc.add_paragraph(b.title, style="Title")
        title.runs[0].font.size = Pt(24)
        for _ in range(8):
            self.doc.add_paragraph()
        for label, value in b.lines:
            p = self.doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            p.paragraph_format.first_line_indent = Pt(0)
            run = p.add_run(f"{label}：{value}")
            run.font.size = Pt(15)
        self.doc.sections[0].different_first_page_header_footer = True
        self.page_break()

    def page_break(self) -> None:
        self.doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    def heading(self, b: Heading) -> None:
        if b.level == 0:
            p = self.doc.add_paragraph(b.text, style="Title")
            return
        p = self.doc.add_heading(level=min(b.level, 3))
        if id(b) in self.bookmarks:
            self._bookmarked(p, b.text, self.bookmarks[id(b)])
        else:
            p.add_run(b.text)

    def _bookmarked(self, p: DocxParagraph, text: str, name: str) -> None:
        start = OxmlElement("w:bookmarkStart")
        start.set(qn("w:id"), str(self.next_bookmark))
        start.set(qn("w:name"), name)
        end = OxmlElement("w:bookmarkEnd")
        end.set(qn("w:id"), str(self.next_bookmark))
        self.next_bookmark += 1
        p._p.append(start)
        p.add_run(text)
        p._p.append(end)

    def contents(self) -> None:
        """The table of contents as text: a TOC field whose cached result lists every heading with a PAGEREF."""
        title = self.doc.add_paragraph()
        title.alignment = WD_ALIGN_PARAGRAPH.CENTER
        title.paragraph_format.first_line_indent = Pt(0)
        run = title.add_run("目    录")
        run.bold, run.font.size = True, Pt(16)
        width = Mm(210 - 2 * MARGIN_MM)
        for n, h in enumerate(self.toc):
            p = self.doc.add_paragraph(style=TOC_STYLES[0] if h.level == 1 else TOC_STYLES[1])
            p.paragraph_format.tab_stops.add_tab_stop(width, WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS)
            if n == 0:
                _field_char(p, "begin")
                _instr(p, 'TOC \\o "1-2" \\h \\z \\u')
                _field_char(p, "separate")
            p.add_run(h.text)
            p.add_run("\t")
            _field_char(p, "begin")
            _instr(p, f"PAGEREF {self.bookmarks[id(h)]} \\h")
            _field_char(p, "separate")
            self.page_runs.append((h.text, p.add_run()))
            _field_char(p, "end")
            if n == len(self.toc) - 1:
                _field_char(p, "end")
        self.page_break()

    def paragraph(self, b: Paragraph) -> None:
        if b.style == "bullet":
            self.doc.add_paragraph(b.text, style="List Bullet")
            return
        p = self.doc.add_paragraph()
        run = p.add_run(b.text)
        if b.style in ("numbered", "subhead"):
            run.bold = True
            p.paragraph_format.first_line_indent = Pt(0 if b.style == "numbered" else 24)
            p.paragraph_format.keep_with_next = True
        elif b.style == "center":
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            p.paragraph_format.first_line_indent = Pt(0)
        elif b.style == "note":
            run.font.size = Pt(10)
            run.font.color.rgb = RGBColor(0x55, 0x55, 0x55)

    def figure(self, b: Figure) -> None:
        p = self.doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.first_line_indent = Pt(0)
        p.paragraph_format.keep_with_next = True
        p.add_run().add_picture(io.BytesIO(self.charts[b.name]), width=Mm(CHART_WIDTH_MM))
        caption = self.doc.add_paragraph(b.caption)
        caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
        caption.paragraph_format.first_line_indent = Pt(0)
        caption.runs[0].font.size = Pt(10)

    def table(self, t: Table, landscape: bool) -> None:
        caption = self.doc.add_paragraph()
        caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
        caption.paragraph_format.first_line_indent = Pt(0)
        caption.paragraph_format.keep_with_next = True
        caption.add_run(t.caption).bold = True
        if t.unit:
            unit = self.doc.add_paragraph(t.unit, style=TABLE_TEXT)
            unit.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            unit.paragraph_format.keep_with_next = True
        table = self.doc.add_table(rows=1, cols=len(t.columns))
        try:
            table.style = self.doc.styles["Table Grid"]
        except KeyError:
            _borders(table)
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        widths = column_widths(t, (297 if landscape else 210) - 2 * MARGIN_MM)
        header = table.rows[0]
        repeat = OxmlElement("w:tblHeader")  # the header row repeats on every page
        repeat.set(qn("w:val"), "true")
        header._tr.get_or_add_trPr().append(repeat)
        # Each cell's width is set as its row is written: python-docx's column.cells rebuilds the whole
        # grid for every column. A cell merged across the row gets the last column's width.
        mm = [Mm(w) for w in widths]
        for cell, text, width in zip(header.cells, t.columns, mm):
            self._cell(cell, text, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
            _shade(cell, HEADER_FILL)
            cell.width = width
        # A plain row is its shape's first row copied with other texts (``_RowShapes``): python-docx
        # builds each run character by character: 5.0 s of a profiled national run, for 833 appendix rows.
        shapes = _RowShapes(table._tbl, len(t.columns))
        for r in t.rows:
            if shapes.copy(r):
                continue
            row = table.add_row()
            cells = row.cells
            if _spans_row(r, len(cells)):
                merged = cells[0].merge(cells[-1]) if len(cells) > 1 else cells[0]
                self._cell(merged, r.cells[0], bold=r.kind == "group")
                _shade(merged, GROUP_FILL)
                merged.width = mm[len(cells) - 1]
                continue
            for j, (cell, text) in enumerate(zip(cells, r.cells)):
                align = WD_ALIGN_PARAGRAPH.RIGHT if j in t.numeric else None
                self._cell(cell, text, bold=r.kind in ("subtotal", "total"), align=align)
            for cell, width in zip(cells, mm):
                cell.width = width
            shapes.learn(r, row._tr)
        self.doc.add_paragraph()

    def _cell(self, cell: _Cell, text: str, *, bold: bool = False, align: WD_ALIGN_PARAGRAPH | None = None) -> None:
        p = cell.paragraphs[0]
        p._p.get_or_add_pPr().style = self.table_style  # by id: python-docx's lookup by name scans every style per cell
        run = p.add_run(text)
        run.bold = bold or None
        if align is not None:
            p.alignment = align


def _spans_row(r: Row, columns: int) -> bool:
    """A group label, or a lone cell in a wider table: one cell merged across the row."""
    return r.kind in ("group", "group2") or len(r.cells) == 1 < columns


class _RowShapes:
    """Rows of one table that differ only in their texts, written as a copy of the first such row.

    A row's shape is its kind, how many cells it fills, and for each cell whether its text is empty
    and whether it needs ``xml:space="preserve"`` (leading or trailing space): two rows of one shape
    get the same XML from python-docx but for the text of their ``w:t`` elements, one per non-empty
    cell. Rows with a tab or a line break in a cell (python-docx turns them into elements of their
    own) and merged group rows are never copied: they are written the usual way every time.
    """

    def __init__(self, tbl: CT_Tbl, columns: int) -> None:
        self.tbl = tbl
        self.columns = columns
        self.seen: dict[tuple[object, ...], CT_Row] = {}

    def _shape(self, r: Row) -> tuple[object, ...] | None:
        if _spans_row(r, self.columns):
            return None
        texts = r.cells[: self.columns]
        if any(text and ("\t" in text or "\n" in text or "\r" in text) for text in texts):
            return None
        return (r.kind, len(texts), *((bool(text), bool(text) and len(text.strip()) < len(text)) for text in texts))

    def copy(self, r: Row) -> bool:
        """Append ``r`` as a copy of its shape's first row; False when its shape has not been written yet."""
        shape = self._shape(r)
        first = self.seen.get(shape) if shape is not None else None
        if first is None:
            return False
        tr = copy.deepcopy(first)
        for t, text in zip(tr.iter(qn("w:t")), [text for text in r.cells[: self.columns] if text], strict=True):
            t.text = text
        self.tbl.append(tr)
        return True

    def learn(self, r: Row, tr: CT_Row) -> None:
        """``tr`` is ``r`` as python-docx wrote it: the first row of its shape."""
        shape = self._shape(r)
        if shape is not None:
            self.seen.setdefault(shape, tr)


def _field_char(p: DocxParagraph, kind: str) -> None:
    fld = OxmlElement("w:fldChar")
    fld.set(qn("w:fldCharType"), kind)
    p.add_run()._r.append(fld)


def _instr(p: DocxParagraph, text: str) -> None:
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {text} "
    p.add_run()._r.append(instr)


def _has_field(part: _Footer, name: str) -> bool:
    return any(name in (t.text or "") for t in part._element.iter(qn("w:instrText"))) or any(
        name in (f.get(qn("w:instr")) or "") for f in part._element.iter(qn("w:fldSimple"))
    )


def _header_footer(doc: DocumentObject, title: str) -> None:
    """The report title in the header and 第 X 页 共 Y 页 in the footer, unless a reference document brought its own."""
    section = doc.sections[0]
    header = section.header
    if not any(p.text.strip() for p in header.paragraphs) and not header._element.findall(".//" + qn("w:drawing")):
        p = header.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.first_line_indent = Pt(0)
        run = p.add_run(title)
        run.font.size = Pt(9)
    footer = section.footer
    if not _has_field(footer, "PAGE"):
        p = footer.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.first_line_indent = Pt(0)
        p.add_run("第 ")
        _simple_field(p, "PAGE", "1")
        p.add_run(" 页 共 ")
        _simple_field(p, "NUMPAGES", "1")
        p.add_run(" 页")
        for run in p.runs:
            run.font.size = Pt(9)


def _simple_field(p: DocxParagraph, name: str, shown: str) -> None:
    _field_char(p, "begin")
    _instr(p, name)
    _field_char(p, "separate")
    p.add_run(shown)
    _field_char(p, "end")


def _update_fields_on_open(doc: DocumentObject) -> None:
    """Ask Word to recompute fields (PAGEREF, NUMPAGES) when the document is opened."""
    settings = doc.settings.element
    if settings.find(qn("w:updateFields")) is None:
        update = OxmlElement("w:updateFields")
        update.set(qn("w:val"), "true")
        # the schema orders settings' children: updateFields comes before these
        later = [settings.find(qn(f"w:{name}")) for name in SETTINGS_AFTER_UPDATE_FIELDS]
        later = [e for e in later if e is not None]
        if later:
            min(later, key=lambda e: list(settings).index(e)).addprevious(update)
        else:
            settings.append(update)


def _shade(cell: _Cell, fill: str) -> None:
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shd)


def _borders(table: DocxTable) -> None:
    """Single borders on every cell, for a reference document without the Table Grid style."""
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        e = OxmlElement(f"w:{edge}")
        e.set(qn("w:val"), "single")
        e.set(qn("w:sz"), "4")
        e.set(qn("w:color"), "808080")
        borders.append(e)
    table._tbl.tblPr.append(borders)


def _core_properties(doc: DocumentObject, meta: ReportMeta) -> None:
    """Fixed document properties: nothing from the machine or the clock."""
    when = dt.datetime.combine(meta.report_date, dt.time())
    cp = doc.core_properties
    cp.title = meta.report_title
    cp.subject = meta.programme
    cp.author = cp.last_modified_by = meta.evaluator
    cp.comments = ""
    cp.keywords = "绩效评价"
    cp.created = cp.modified = when
    cp.revision = 1
    cp.last_printed = when
