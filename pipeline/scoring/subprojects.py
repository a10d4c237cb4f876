"""Sub-project status (子项目完成情况): the status the bureau reports, checked against its dates.

Statuses: ``completed`` 基本完成, ``delayed_or_paused`` 未按计划时间完成延后实施或暂停实施,
``ongoing`` 计划时间调整后仍在实施期内持续推进中. The reported status stands; a date that
contradicts it is a finding, never a silent correction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from pipeline import edges as edge_frames
from pipeline import findings as findings_mod
from pipeline.contract import SUBPROJECT_STATUS_LABELS
from pipeline.formats import natural_key
from pipeline.scoring.score import lineage_edges
from pipeline.tables import columns

STATUSES = tuple(SUBPROJECT_STATUS_LABELS)
TABLE_COLUMNS = columns("subproject_status")


def subproject_status(registry: pd.DataFrame, cutoff: dt.date) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The sub-project status table, its lineage edges and its findings.

    ``registry`` is the validated kind ``subprojects`` (``planned_end``/``adjusted_end`` as
    datetimes, ``adjusted_end`` NA when unchanged). ``end`` is the adjusted end where there is
    one, else the planned end. Checks: ``completed`` ending after the cut-off, and ``ongoing``
    whose end has already passed by the cut-off.
    """
    cut = pd.Timestamp(cutoff)
    t = registry.copy()
    t["status"] = t["status_reported"]
    t["status_label"] = t["status"].map(SUBPROJECT_STATUS_LABELS)
    t["end"] = t["adjusted_end"].fillna(t["planned_end"])
    t["check"] = None
    t.loc[(t["status"] == "completed") & (t["end"] > cut), "check"] = "completed_after_cutoff"
    t.loc[(t["status"] == "ongoing") & (t["end"] <= cut), "check"] = "ongoing_past_end"
    t["check_message"] = [_check_message(r, cutoff) for r in t.itertuples(index=False)]
    order = sorted(range(len(t)), key=lambda i: natural_key(str(t["subproject_code"].iat[i])))
    t = t.iloc[order].reset_index(drop=True)[TABLE_COLUMNS]

    rows = [_finding(r, cutoff) for r in t.itertuples(index=False)]
    found = findings_mod.frame([r for r in rows if r])
    edges = lineage_edges(t, "subprojects", t["subproject_code"], "status", "subprojects")
    linked = found[["finding_id", "subject"]].merge(t, left_on="subject", right_on="subproject_code")
    finding_edges = lineage_edges(linked, "subprojects", linked["finding_id"], "status", "findings")
    return t, edge_frames.concat([edges, finding_edges]), found


def subprojects_summary(table: pd.DataFrame) -> dict[str, Any]:
    """``{completed, delayed_or_paused, ongoing}`` as lists of codes in natural order."""
    return {s: sorted(table.loc[table["status"] == s, "subproject_code"], key=natural_key) for s in STATUSES}


def _day(ts: Any) -> str:
    return pd.Timestamp(ts).date().isoformat()


def _check_message(r: Any, cutoff: dt.date) -> str | None:
    if r.check == "completed_after_cutoff":
        return f"上报为基本完成，但完成日期 {_day(r.end)} 晚于截止日 {cutoff.isoformat()}"
    if r.check == "ongoing_past_end":
        return f"上报为持续推进中，但完成日期 {_day(r.end)} 不晚于截止日 {cutoff.isoformat()}，应已完成或延期"
    return None


def _finding(r: Any, cutoff: dt.date) -> dict[str, Any] | None:
    subject = {"subject_type": "subproject", "subject": r.subproject_code, "stake_fen": r.allocation_fen}
    label = f"{r.subproject_code}--{r.name}"
    if r.check:
        return {
            **subject,
            "code": "subproject_status_conflict",
            "severity": "high",
            "figure": _day(r.end),
            "message": f"子项目“{label}”{r.check_message}，请核实实施状态或完成日期。",
        }
    if r.status == "delayed_or_paused":
        return {
            **subject,
            "code": "subproject_delayed",
            "severity": "medium",
            "figure": _day(r.end),
            "message": f"子项目“{label}”未按计划时间完成，延后实施或暂停实施（计划完成日期 {_day(r.planned_end)}）。",
        }
    if r.status == "ongoing" and not pd.isna(r.adjusted_end):
        return {
            **subject,
            "code": "subproject_extended",
            "severity": "medium",
            "figure": _day(r.adjusted_end),
            "message": f"子项目“{label}”计划完成时间由 {_day(r.planned_end)} 调整至 {_day(r.adjusted_end)}，"
            f"截至 {cutoff.isoformat()} 仍在持续推进中，总项目时效相应延长。",
        }
    return None
