"""report.docx: the editable report, with real Word headings (a TOC works) and Chinese fonts.

Deterministic: core properties come from the report date and the evaluator, and the zip is
rewritten with fixed entry timestamps and order, so the same inputs give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from pipeline.report.inputs import ReportInputs
from pipeline.report.text import Contents, Figure, Heading, Landscape, Paragraph, Table, document

LATIN = "Times New Roman"
BODY_CJK = "SimSun"  # 宋体
HEADING_CJK = "SimHei"  # 黑体
TABLE_TEXT = "表格文字"
HEADER_FILL = "DCE6F1"
GROUP_FILL = "F3F6FA"


def render_docx(inp: ReportInputs) -> bytes:
    """The report as DOCX bytes; the same inputs give the same bytes."""
    doc = Document()
    _page_setup(doc)
    _styles(doc)
    _blocks(doc, document(inp))
    _core_properties(doc, inp)
    buffer = io.BytesIO()
    doc.save(buffer)
    return fixed_zip(buffer.getvalue(), inp.meta.report_date)


def _blocks(doc, blocks) -> None:
    for b in blocks:
        if isinstance(b, Heading):
            doc.add_heading(b.text, b.level)
        elif isinstance(b, Paragraph):
            _paragraph(doc, b)
        elif isinstance(b, Table):
            _table(doc, b)
        elif isinstance(b, Contents):
            _contents(doc)
        elif isinstance(b, Landscape):
            _orient(doc.add_section(WD_SECTION.NEW_PAGE), WD_ORIENT.LANDSCAPE)
            _blocks(doc, b.blocks)
            _orient(doc.add_section(WD_SECTION.NEW_PAGE), WD_ORIENT.PORTRAIT)
        elif not isinstance(b, Figure):  # charts stay in the HTML; their figures are in the tables
            raise TypeError(f"unknown block {b!r}")


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


def _page_setup(doc) -> None:
    section = doc.sections[0]
    _orient(section, WD_ORIENT.PORTRAIT)
    section.top_margin = section.bottom_margin = Mm(25)
    section.left_margin = section.right_margin = Mm(25)


def _orient(section, orientation) -> None:
    """A4 in the given orientation; margins carry over from the previous section."""
    section.orientation = orientation
    portrait = orientation == WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (Mm(210), Mm(297)) if portrait else (Mm(297), Mm(210))


def _fonts(style, east_asia: str, size: float, bold: bool = False) -> None:
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


def _styles(doc) -> None:
    styles = doc.styles
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
    styles["Title"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    styles["Title"].element.get_or_add_pPr().remove_all("w:pBdr")  # the template underlines titles in blue
    styles["List Bullet"].paragraph_format.first_line_indent = Pt(0)
    table_text = styles.add_style(TABLE_TEXT, 1)
    table_text.base_style = normal
    _fonts(table_text, BODY_CJK, 9)
    fmt = table_text.paragraph_format
    fmt.first_line_indent, fmt.line_spacing = Pt(0), 1.0


def _paragraph(doc, b: Paragraph) -> None:
    if b.style == "bullet":
        doc.add_paragraph(b.text, style="List Bullet")
        return
    p = doc.add_paragraph()
    run = p.add_run(b.text)
    if b.style == "numbered":
        run.bold = True
        p.paragraph_format.first_line_indent = Pt(0)
        p.paragraph_format.keep_with_next = True
    elif b.style == "center":
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.first_line_indent = Pt(0)
    elif b.style == "note":
        run.font.size = Pt(10)
        run.font.color.rgb = RGBColor(0x55, 0x55, 0x55)


def _contents(doc) -> None:
    """A TOC field over Heading 1-2: Word fills it on 更新域 (F9)."""
    doc.add_paragraph("目    录").alignment = WD_ALIGN_PARAGRAPH.CENTER
    p = doc.add_paragraph()
    for kind, text in (("begin", None), ("instr", 'TOC \\o "1-2" \\h \\z \\u'), ("separate", None),
                       ("text", "（在 Word 中右键此处选择“更新域”生成目录）"), ("end", None)):
        run = p.add_run()
        if kind == "instr":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        elif kind == "text":
            run.text = text
        else:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run._r.append(fld)
    doc.add_page_break()


def _shade(cell, fill: str) -> None:
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shd)


def _table(doc, t: Table) -> None:
    caption = doc.add_paragraph()
    caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
    caption.paragraph_format.first_line_indent = Pt(0)
    caption.paragraph_format.keep_with_next = True
    caption.add_run(t.caption).bold = True
    if t.unit:
        unit = doc.add_paragraph(t.unit, style=TABLE_TEXT)
        unit.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        unit.paragraph_format.keep_with_next = True
    table = doc.add_table(rows=1, cols=len(t.columns))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    header = table.rows[0]
    header_pr = header._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")  # the header row repeats on every page
    repeat.set(qn("w:val"), "true")
    header_pr.append(repeat)
    style_id = doc.styles[TABLE_TEXT].style_id
    for cell, text in zip(header.cells, t.columns):
        _cell(cell, text, style_id, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        _shade(cell, HEADER_FILL)
    for r in t.rows:
        cells = table.add_row().cells
        if r.kind == "group":
            merged = cells[0].merge(cells[-1]) if len(cells) > 1 else cells[0]
            _cell(merged, r.cells[0], style_id, bold=True)
            _shade(merged, GROUP_FILL)
            continue
        for j, (cell, text) in enumerate(zip(cells, r.cells)):
            align = WD_ALIGN_PARAGRAPH.RIGHT if j in t.numeric else None
            _cell(cell, text, style_id, bold=r.kind in ("subtotal", "total"), align=align)
    doc.add_paragraph()


def _cell(cell, text: str, style_id: str, *, bold: bool = False, align=None) -> None:
    p = cell.paragraphs[0]
    p._p.get_or_add_pPr().style = style_id  # by id: python-docx's lookup by name scans every style per cell
    run = p.add_run(text)
    run.bold = bold or None
    if align is not None:
        p.alignment = align


def _core_properties(doc, inp: ReportInputs) -> None:
    """Fixed document properties: nothing from the machine or the clock."""
    when = dt.datetime.combine(inp.meta.report_date, dt.time())
    cp = doc.core_properties
    cp.title = inp.meta.title
    cp.subject = inp.meta.programme
    cp.author = cp.last_modified_by = inp.meta.evaluator
    cp.comments = ""
    cp.keywords = "绩效评价"
    cp.created = cp.modified = when
    cp.revision = 1
