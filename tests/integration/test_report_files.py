"""The files the Hohhot run publishes, opened as a reader would: report.docx, report.pdf, the chart PNGs,
scored_tables.xlsx — and the report's 四（二） as the seed's four problems.

The PDF is read with pypdf (pinned in the lock); the DOCX with python-docx; the charts with Pillow.
"""

from __future__ import annotations

import io
import json
import re
import zipfile

import docx
import openpyxl
import pytest
from PIL import Image
from pypdf import PdfReader

from pipeline.materialize import materialize_evaluation
from pipeline.report import charts
from tests.support import HOHHOT, RAW
from tests.support.report_example import body_text, html_text, section

# The seed's four problems (四（二）), as the evaluator's narrative words them, in the seed's order.
SEED_PROBLEMS = [
    "部分绩效目标值设定偏高，个别指标口径不清",
    "个别子项目组织管理不到位，智慧就业服务云平台建设延期",
    "培训学员技能人才产出不理想",
    "涉旗县区子项目档案管理尚需加强",
]
# Codes and identifiers the report must never print as body text.
IDENTIFIER = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b|\b\w+:\w+\b|\b(?:czj|finance|county|central|provincial)\b")


@pytest.fixture(scope="module")
def out(hohhot_run):
    assert hohhot_run.success
    return hohhot_run.out_dir


@pytest.fixture(scope="module")
def document(out):
    return docx.Document(str(out / "report.docx"))


def _docx_text(d) -> list[str]:
    return [p.text for p in d.paragraphs] + [c.text for t in d.tables for r in t.rows for c in r.cells]


def test_the_four_seed_problems_each_with_evidence_and_cause_analysis(out):
    cells = body_text((out / "report.html").read_bytes())
    problems = cells[cells.index("（二）存在的问题及原因分析") : cells.index("五、相关建议")]
    headings = [c for c in problems if re.match(r"^\d+\. ", c) and c[3:] in SEED_PROBLEMS]
    assert headings == [f"{n}. {h}" for n, h in enumerate(SEED_PROBLEMS, start=1)]
    assert not [c for c in problems if re.match(r"^\d+\. ", c) and c not in headings]  # nothing else is a problem
    for n, heading in enumerate(headings):
        part = problems[problems.index(heading) : problems.index(headings[n + 1]) if n + 1 < len(headings) else None]
        assert any(c.startswith("本问题涉及") for c in part), heading
        assert any(c.startswith("表 4-") for c in part), heading  # its evidence table
        assert "原因分析" in part and part.index("原因分析") > next(
            i for i, c in enumerate(part) if c.startswith("表 4-")
        )
    text = "\n".join(problems)
    # the seed's evidence: the platform's delay and the recovery, the nine counties' matching funds in one table,
    # sub-project 8's county money counted once, project 8's six counties' archives
    assert "完成时间调整至 2024-06-30" in text and "收回 2114.00 万元" in text
    assert (
        "旗县区资金与子项目 8（调整落实职业介绍补贴项目）的已到位未支出资金为同一笔资金（276.07 万元），只计一次。"
        in text
    )
    assert "新城区、回民区、玉泉区等 9 个旗县区的未到位资金均包含在旗县区资金的未到位资金（3315.00 万元）之中" in text
    assert text.count("未同步至总项目管理组") == 6
    advice = "\n".join(cells[cells.index("五、相关建议") : cells.index("附件一：绩效指标评分表")])
    for seed in ("市场需求调研", "信息化领域专家", "薪酬分配指引", "档案纳入总项目管理体系"):
        assert seed in advice, seed


def test_without_the_narrative_every_finding_still_has_a_place(tmp_path):
    import shutil

    raw = tmp_path / "raw"
    shutil.copytree(RAW / HOHHOT, raw / HOHHOT)
    (raw / HOHHOT / "narrative.md").unlink()
    outcome = materialize_evaluation(HOHHOT, raw_root=str(raw), out_root=str(tmp_path / "out"))
    assert outcome.success
    book = openpyxl.load_workbook(outcome.out_dir / "scored_tables.xlsx", read_only=True)
    rows = list(book["问题发现"].iter_rows(values_only=True))
    place = rows[0].index("所在问题（四（二））")
    assert all(r[place] for r in rows[1:])
    ids = {r[0] for r in rows[1:]}
    stages = set()
    for table in ("ingest_findings", "reconciliation_findings", "scoring_findings"):
        stages |= {
            line.split(",")[0]
            for line in (outcome.out_dir / f"{table}.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
        }
    assert ids == stages  # the report's findings are the union of the stages' findings, by id
    cells = body_text((outcome.out_dir / "report.html").read_bytes())
    problems = cells[cells.index("（二）存在的问题及原因分析") : cells.index("五、相关建议")]
    assert "1. 部分子项目未按计划实施，资金使用进度滞后" in problems  # the most at stake first
    assert "部分资金未足额到位" in "\n".join(problems) and "表 4-" in "\n".join(problems)


def test_docx_has_cover_header_page_numbers_contents_and_charts(out, document):
    first = [p.text for p in document.paragraphs if p.text.strip()][:4]
    assert first == [
        "2023年公共就业服务能力提升示范项目绩效评价简版报告",
        "委托方：呼和浩特市财政局",
        "评价机构：内蒙古腾冠管理咨询有限公司",
        "报告日期：2024 年 3 月 29 日",
    ]
    section = document.sections[0]
    assert section.different_first_page_header_footer  # the cover goes without header and footer
    assert section.header.paragraphs[0].text == "2023年公共就业服务能力提升示范项目绩效评价简版报告"
    footer = section.footer._element.xml
    assert re.search(r"<w:instrText[^>]*> PAGE </w:instrText>", footer)
    assert re.search(r"<w:instrText[^>]*> NUMPAGES </w:instrText>", footer)
    assert "第 " in section.footer.paragraphs[0].text and " 页 共 " in section.footer.paragraphs[0].text
    toc = [p for p in document.paragraphs if p.style.name in ("目录 1", "目录 2")]
    entries = [p.text.split("\t") for p in toc]
    assert [e[0] for e in entries[:3]] == ["一、基本情况", "二、绩效评价工作开展情况", "三、综合评价情况及评价结论"]
    assert all(e[1].isdigit() for e in entries)  # page numbers as text: report.pdf's pages, refreshed by Word
    xml = zipfile.ZipFile(out / "report.docx").read("word/document.xml").decode()
    assert xml.count("PAGEREF _Toc_s") == len(toc) and 'w:name="_Toc_s1"' in xml
    assert b"<w:updateFields" in zipfile.ZipFile(out / "report.docx").read("word/settings.xml")
    assert len(document.inline_shapes) >= 3
    styles = zipfile.ZipFile(out / "report.docx").read("word/styles.xml").decode()
    assert 'w:eastAsia="仿宋"' in styles and 'w:eastAsia="黑体"' in styles and 'w:eastAsia="宋体"' in styles


def test_docx_body_has_no_machine_identifiers(document):
    text = _docx_text(document)
    bad = [t for t in text if IDENTIFIER.search(t) and "scored_tables.xlsx" not in t and "manifest.json" not in t]
    assert not bad, bad[:5]


def test_docx_tables_fit_the_page_and_the_indicator_appendix_is_landscape(document):
    from docx.enum.section import WD_ORIENT

    assert [s.orientation for s in document.sections] == [WD_ORIENT.PORTRAIT, WD_ORIENT.LANDSCAPE, WD_ORIENT.PORTRAIT]
    portrait, landscape = 210 - 50, 297 - 50
    for table in document.tables:
        width = sum(c.width.mm for c in table.rows[0].cells)
        assert width <= landscape + 0.5
        if len(table.columns) <= 3:
            assert width <= portrait + 0.5
    indicators = next(t for t in document.tables if t.rows[0].cells[0].text == "三级指标" and len(t.columns) == 10)
    widths = [c.width.mm for c in indicators.rows[0].cells]
    assert widths[1] < widths[0] and widths[7] > widths[1]  # 方向 narrow, 评分规则 wide: fitted to content


def _pdf(out) -> PdfReader:
    return PdfReader(str(out / "report.pdf"))


def test_pdf_has_page_numbers_and_no_table_wider_than_the_page(out):
    reader = _pdf(out)
    pages = len(reader.pages)
    assert 15 <= pages <= 60
    assert reader.metadata["/Title"] == "2023年公共就业服务能力提升示范项目绩效评价简版报告"
    assert reader.metadata["/CreationDate"].startswith("D:20240329")  # the report date, never the clock
    for n, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        if n > 1:
            assert f"第 {n} 页 共 {pages} 页" in text, n
        width = float(page.mediabox.width)
        xs: list[float] = []

        def visit(op, args, cm, tm, xs=xs):
            if op == b"re":  # table borders and cell fills are rectangles
                x, y, w, h = (float(a) for a in args)
                xs.extend((cm[0] * x + cm[4], cm[0] * (x + w) + cm[4]))

        page.extract_text(visitor_operand_before=visit)
        assert xs, n
        assert min(xs) >= -0.5 and max(xs) <= width + 0.5, (n, min(xs), max(xs), width)
        margin = 15 * 72 / 25.4  # no drawing runs into the page margin either
        assert max(xs) <= width - margin + 1, (n, max(xs))


def test_pdf_contents_list_the_sections_with_their_pages(out):
    first = _pdf(out).pages[1].extract_text()
    assert "目 录" in first
    assert re.search(r"一、基本情况\s*\.*\s*3", first)
    assert re.search(r"附件四：输入文件清单\s*\.*\s*\d+", first)


def test_chart_images_have_chinese_text_rendered_with_a_cjk_font(out):
    for name in ("chart-1-funds-by-source", "chart-2-score-by-dimension", "chart-3-indicator-completion"):
        image = Image.open(out / "charts" / f"{name}.png")
        assert image.width >= 1200  # twice the SVG's 680 px
    # resvg draws nothing for a glyph it cannot find: two different Chinese words must give different ink
    svg = (
        '<svg viewBox="0 0 200 40" width="200" height="40" font-family="' + charts.FONT + '">'
        '<rect width="200" height="40" fill="#fff"/><text x="4" y="28" font-size="24">{}</text></svg>'
    )
    one, two, blank = (
        Image.open(io.BytesIO(charts.png(svg.format(w)))).convert("L") for w in ("资金到位", "绩效评价", "")
    )

    def ink(im):
        return sum(1 for v in im.tobytes() if v < 128)  # mode L: one byte a pixel

    assert ink(blank) == 0 and ink(one) > 200 and ink(two) > 200
    assert one.tobytes() != two.tobytes()
    # the same glyphs as the font: a Latin string through the same path also draws, so the CJK ink is glyphs, not boxes
    boxes = Image.open(io.BytesIO(charts.png(svg.format("资资资资")))).convert("L")
    assert boxes.tobytes() != one.tobytes()


def test_every_xlsx_sheet_is_chinese_with_units_and_numeric_rates(out):
    book = openpyxl.load_workbook(out / "scored_tables.xlsx")
    for ws in book:
        headers = [c.value for c in ws[1]]
        assert all(re.search(r"[\u4e00-\u9fff]", h) for h in headers), (ws.title, headers)
        money = [
            h
            for h in headers
            if re.search(r"资金|金额|支出|结转|收回|结余|缺口|下拨转|差额", h)
            and "率" not in h
            and "编码" not in h
            and h != "来源"
            and not h.endswith(("文件", "工作表", "行号", "编号", "文号", "日期", "方式", "类型", "资金来源"))
        ]
        assert all(h.endswith("（万元）") for h in money), (ws.title, money)
        for j, h in enumerate(headers):
            if h in ("到位率", "执行率", "完成率"):
                values = [r[j] for r in ws.iter_rows(min_row=2) if r[j].value is not None]
                assert values and all(c.data_type == "n" and c.number_format == "0.00%" for c in values), (ws.title, h)
    central = next(r for r in book["资金核对_来源"].iter_rows(min_row=2, values_only=True) if r[1] == "central")
    assert central[2] == "中央资金" and 10000 in central


def test_manifest_hashes_every_new_output(out):
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for rel in (
        "report.pdf",
        "report.docx",
        "report.html",
        "scored_tables.xlsx",
        "charts/chart-1-funds-by-source.png",
        "charts/chart-2-score-by-dimension.png",
        "charts/chart-3-indicator-completion.png",
    ):
        assert rel in manifest["outputs"], rel
        assert any(a["path"] == rel and a["sha256"] == manifest["outputs"][rel] for a in summary["artifacts"].values())


def test_two_runs_give_byte_identical_outputs(out, tmp_path):
    again = materialize_evaluation(HOHHOT, raw_root=str(RAW), out_root=str(tmp_path / "out"))
    assert again.success
    first = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["outputs"]
    second = json.loads((again.out_dir / "manifest.json").read_text(encoding="utf-8"))["outputs"]
    assert first == second
    assert "report.pdf" in first and "charts/chart-3-indicator-completion.png" in first


def test_report_html_text_has_no_identifiers_outside_file_names(out):
    cells = html_text((out / "report.html").read_bytes())
    bad = [c for c in cells if IDENTIFIER.search(c) and "scored_tables.xlsx" not in c and "manifest.json" not in c]
    assert not bad, bad[:5]
    quality = section("\n".join(body_text((out / "report.html").read_bytes())), "附件三：数据质量摘要", "附件四")
    assert quality.count("结构校验") >= 15
