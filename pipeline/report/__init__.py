"""The evaluation report (HTML, PDF, DOCX), its chart images, the scored tables (XLSX) and, for a unit
self-evaluation, the 项目支出绩效自评表 (XLSX), all rendered from :class:`ReportInputs`.

Every file is a pure function of the inputs: two runs give the same bytes.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from pipeline import sidecar
from pipeline.files import atomic_write
from pipeline.report import charts
from pipeline.report.blocks import Block, Figure, walk
from pipeline.report.docx import DraftDocx, draft_docx
from pipeline.report.html import page, render_html
from pipeline.report.inputs import ReportInputs, ReportMeta
from pipeline.report.pdf import render_pdf
from pipeline.report.problems import load_recommendations
from pipeline.report.selfeval import render_form_xlsx
from pipeline.report.text import document
from pipeline.report.xlsx import render_xlsx

ARTIFACTS = {
    "report_html": "report.html",
    "report_pdf": "report.pdf",
    "report_docx": "report.docx",
    "scored_tables_xlsx": "scored_tables.xlsx",
}
SELF_EVALUATION_FORM = "self_evaluation_form.xlsx"
CHARTS_DIR = "charts"

__all__ = [
    "ARTIFACTS",
    "Layout",
    "ReportInputs",
    "ReportMeta",
    "finish",
    "load_recommendations",
    "render",
    "render_docx",
    "render_html",
    "render_pdf",
    "render_xlsx",
    "start",
    "write_all",
]


def chart_images(blocks: list[Block]) -> dict[str, bytes]:
    """Each figure's PNG, by the figure's name."""
    return {b.name: charts.png(b.svg) for b in walk(blocks) if isinstance(b, Figure)}


@dataclasses.dataclass
class Layout:
    """A report under way: its page handed over to the PDF's layout (in the sidecar, while the run goes on),
    its chart images drawn and its DOCX drafted. :func:`finish` waits for the layout and builds the rest."""

    inp: ReportInputs
    html: bytes
    pdf: sidecar.Pending[tuple[bytes, dict[str, int]]]
    images: dict[str, bytes]
    docx: DraftDocx


def start(inp: ReportInputs) -> Layout:
    """Hand the page over to the PDF's layout, then draw the charts and draft the DOCX meanwhile."""
    blocks = document(inp)
    html = page(blocks, inp.meta)
    laid_out = sidecar.submit(render_pdf, html)  # in the sidecar process, while this one builds the rest
    images = chart_images(blocks)
    return Layout(inp, html, laid_out, images, draft_docx(blocks, inp.meta, images, inp.reference_docx))


def finish(layout: Layout, extra_tables: Mapping[str, pd.DataFrame] | None = None) -> dict[str, bytes]:
    """Every file of the report, by its path relative to the output folder (waits for the PDF's layout last)."""
    inp = layout.inp
    xlsx = render_xlsx(inp, extra_tables)
    form = render_form_xlsx(inp) if inp.self_evaluation else None
    pdf, pages = layout.pdf.result()
    files = {
        ARTIFACTS["report_html"]: layout.html,
        ARTIFACTS["report_pdf"]: pdf,
        ARTIFACTS["report_docx"]: layout.docx.finish(pages),
        ARTIFACTS["scored_tables_xlsx"]: xlsx,
        **{f"{CHARTS_DIR}/{name}.png": data for name, data in layout.images.items()},
    }
    if form is not None:
        files[SELF_EVALUATION_FORM] = form
    return files


def render(inp: ReportInputs, extra_tables: Mapping[str, pd.DataFrame] | None = None) -> dict[str, bytes]:
    """Every file of the report, by its path relative to the output folder."""
    return finish(start(inp), extra_tables)


def render_docx(inp: ReportInputs) -> bytes:
    """report.docx alone (its contents take their page numbers from the PDF's layout)."""
    layout = start(inp)
    return layout.docx.finish(layout.pdf.result()[1])


def write_all(
    report: ReportInputs | Layout, out_dir: Path, extra_tables: Mapping[str, pd.DataFrame] | None = None
) -> dict[str, dict[str, str]]:
    """Write every file; returns summary.json's ``artifacts`` block (paths relative to out_dir, SHA-256).

    ``report`` is the inputs, or a :class:`Layout` :func:`start` began from them earlier in the run."""
    out_dir = Path(out_dir)
    artifacts = {}
    for rel, data in finish(report if isinstance(report, Layout) else start(report), extra_tables).items():
        (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        atomic_write(out_dir / rel, data)
        key = next((k for k, v in ARTIFACTS.items() if v == rel), None) or _key(rel)
        artifacts[key] = {"path": rel, "sha256": hashlib.sha256(data).hexdigest()}
    return artifacts


def _key(rel: str) -> str:
    """An artifact key from its path: charts/chart-1-funds-by-source.png → chart_1_funds_by_source_png."""
    return rel.replace(f"{CHARTS_DIR}/", "").replace("-", "_").replace(".", "_").replace("/", "_")
