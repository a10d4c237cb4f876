"""Findings: one row per condition an evaluator must report, with a Chinese sentence.

Every stage (ingest, reconciliation, scoring) emits findings in this one shape; the report's
problems and recommendations are written from the concatenated table.
"""

from __future__ import annotations

import pandas as pd

from pipeline.formats import natural_key

# Severity: 高 needs action before the report is signed, 中 belongs in the report, 低 is a note.
SEVERITIES = ("high", "medium", "low")
SEVERITY_LABELS = {"high": "高", "medium": "中", "low": "低"}

COLUMNS = ["finding_id", "code", "severity", "subject_type", "subject", "figure", "message"]


def frame(rows: list[dict]) -> pd.DataFrame:
    """Findings as a DataFrame in a stable order (code, then subject in natural order).

    Each row needs ``code``, ``severity``, ``subject_type``, ``subject``, ``figure`` and
    ``message``; ``finding_id`` is ``code:subject`` so lineage edges can point at it.
    """
    df = pd.DataFrame(rows, columns=COLUMNS[1:])
    if df.empty:
        return pd.DataFrame(columns=COLUMNS).astype(str)
    bad = set(df["severity"]) - set(SEVERITIES)
    if bad:
        raise ValueError(f"unknown severity {sorted(bad)}")
    df["subject"] = df["subject"].astype(str)
    df["figure"] = df["figure"].fillna("").astype(str)
    df.insert(0, "finding_id", df["code"] + ":" + df["subject"])
    order = sorted(range(len(df)), key=lambda i: (df["code"].iat[i], natural_key(df["subject"].iat[i])))
    return df.iloc[order].reset_index(drop=True)


def concat(*frames: pd.DataFrame) -> pd.DataFrame:
    parts = [f for f in frames if not f.empty]
    if not parts:
        return frame([])
    return pd.concat(parts, ignore_index=True)[COLUMNS]
