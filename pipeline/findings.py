"""Findings: one row per condition an evaluator must report, with a Chinese sentence.

Every stage (ingest, reconciliation, scoring) emits findings in this one shape; the report's
problems and recommendations are written from the concatenated table.
"""

from __future__ import annotations

import pandas as pd

from pipeline.tables import columns


# Severity: 高 needs action before the report is signed, 中 belongs in the report, 低 is a note.
SEVERITIES = ("high", "medium", "low")
SEVERITY_LABELS = {"high": "高", "medium": "中", "low": "低"}

COLUMNS = columns("findings")


def frame(rows: list[dict] | pd.DataFrame) -> pd.DataFrame:
    """Findings as a DataFrame in a stable order (code, then subject: numeric codes numerically).

    Each row needs ``code``, ``severity``, ``subject_type``, ``subject``, ``figure`` and
    ``message``; ``finding_id`` is ``code:subject`` so lineage edges can point at it. Vectorised:
    a national run can produce hundreds of thousands of findings.
    """
    df = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows, columns=COLUMNS[1:])
    if df.empty:
        return pd.DataFrame(columns=COLUMNS).astype(str)
    bad = set(df["severity"]) - set(SEVERITIES)
    if bad:
        raise ValueError(f"unknown severity {sorted(bad)}")
    df["subject"] = df["subject"].astype(str)
    df["figure"] = df["figure"].fillna("").astype(str)
    df["finding_id"] = df["code"] + ":" + df["subject"]
    df["_num"] = pd.to_numeric(df["subject"].where(df["subject"].str.fullmatch(r"\d{1,15}")), errors="coerce")
    df = df.sort_values(["code", "_num", "subject"], na_position="last", kind="stable")
    return df[COLUMNS].reset_index(drop=True)


def concat(*frames: pd.DataFrame) -> pd.DataFrame:
    parts = [f for f in frames if not f.empty]
    if not parts:
        return frame([])
    return pd.concat(parts, ignore_index=True)[COLUMNS]
