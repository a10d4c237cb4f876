"""The evaluation report (HTML, DOCX) and the scored tables (XLSX), rendered from :class:`ReportInputs`."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Mapping, Optional

import pandas as pd

from pipeline.report.docx import render_docx
from pipeline.report.html import render_html
from pipeline.report.inputs import ReportInputs, ReportMeta, load_recommendations
from pipeline.report.xlsx import render_xlsx

ARTIFACTS = {"report_html": "report.html", "report_docx": "report.docx", "scored_tables_xlsx": "scored_tables.xlsx"}

__all__ = ["ARTIFACTS", "ReportInputs", "ReportMeta", "load_recommendations", "render_docx", "render_html",
           "render_xlsx", "write_all"]


def write_all(inp: ReportInputs, out_dir: Path,
              extra_tables: Optional[Mapping[str, pd.DataFrame]] = None) -> dict[str, dict[str, str]]:
    """Write the three artifacts; returns summary.json's ``artifacts`` block (paths relative to out_dir)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rendered = {
        "report_html": render_html(inp),
        "report_docx": render_docx(inp),
        "scored_tables_xlsx": render_xlsx(inp, extra_tables),
    }
    artifacts = {}
    for key, data in rendered.items():
        (out_dir / ARTIFACTS[key]).write_bytes(data)
        artifacts[key] = {"path": ARTIFACTS[key], "sha256": hashlib.sha256(data).hexdigest()}
    return artifacts
