"""One evaluation's stage outputs mapped onto :class:`ReportInputs`: the only place the report meets the
stages' column names, and where the evaluator's own files in the folder (``narrative.md``,
``recommendations.yaml``, ``reference.docx``) are read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from pipeline.contract import KINDS
from pipeline.evaluation import Evaluation
from pipeline.formats import fen_to_wan_series
from pipeline.report.inputs import ReportInputs, ReportMeta
from pipeline.report.problems import load_recommendations

NARRATIVE_FILE = "narrative.md"  # the evaluator's cause analysis and judgements (pipeline.report.narrative)
REFERENCE_DOCX = "reference.docx"  # a firm's reference Word file: styles, letterhead, logo


def gather(
    ev: Evaluation,
    figures: Mapping[str, Any],
    subproject_status: pd.DataFrame,
    dimension_scores: pd.DataFrame,
    indicator_scores: pd.DataFrame,
    all_findings: pd.DataFrame,
    quarantine: pd.DataFrame,
    inventory: pd.DataFrame,
    quality: pd.DataFrame,
    funds_by_subproject: pd.DataFrame | None = None,
    county_matching: pd.DataFrame | None = None,
    funds_cells: pd.DataFrame | None = None,
    cells: pd.DataFrame | None = None,
) -> ReportInputs:
    """The report's inputs for ``ev``: the primary framework's dimensions and indicators, every finding,
    the funds tables (in 分) and the cells each finding rests on (``cells``: :func:`pipeline.report.problems.finding_cells` of the stages' lineage)."""
    primary = ev.primary_framework
    subs = subproject_status.assign(allocation=fen_to_wan_series(subproject_status["allocation_fen"]))
    narrative = ev.folder / NARRATIVE_FILE
    reference = ev.folder / REFERENCE_DOCX
    return ReportInputs(
        meta=ReportMeta.from_config(ev.config),
        summary=figures,
        sources=ev.sources,
        subprojects=subs,
        dimensions=dimension_scores[dimension_scores["framework"] == primary].reset_index(drop=True),
        indicators=indicator_scores[indicator_scores["framework"] == primary]
        .rename(columns={"target_realism": "target_flag"})
        .reset_index(drop=True),
        findings=all_findings,
        quarantine=quarantine,
        inputs=inventory.rename(columns={"kinds": "kind", "rows_read": "rows"}),
        quality=quality,
        narrative=narrative.read_text(encoding="utf-8") if narrative.is_file() else "",
        recommendations=load_recommendations(ev.folder),
        names=ev.submitter_names,
        kind_labels={k: kind.label for k, kind in KINDS.items()},
        funds_subprojects=_or_empty(funds_by_subproject),
        county_matching=_or_empty(county_matching),
        funds_cells=_or_empty(funds_cells),
        finding_cells=_or_empty(cells),
        self_evaluation=ev.frameworks[primary].form == "self_evaluation",
        # never a symlink: the folder's files are read only when they are the folder's own
        reference_docx=reference.read_bytes() if reference.is_file() and not reference.is_symlink() else None,
    )


def _or_empty(df: pd.DataFrame | None) -> pd.DataFrame:
    return pd.DataFrame() if df is None else df
