"""A check's outcome as plain data, shared by the stages: what was checked, whether it passed, the evidence.

The stages decide (``ingest.checks``, ``reconcile.identity_checks``, ``scoring.checks``); the Dagster
layer only turns each :class:`Check` into a blocking asset check, and the report lists them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pandas as pd


@dataclasses.dataclass(frozen=True)
class Check:
    asset: str  # the table the check is about
    name: str
    passed: bool
    metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # evidence: counts, failing rows
    detail: str = ""  # one line for the report; by default the short evidence, "key=value, …"

    def __post_init__(self) -> None:
        if not self.detail:
            short = ", ".join(
                f"{k}={v}"
                for k, v in self.metadata.items()
                if isinstance(v, (int, str)) and not isinstance(v, bool) and len(str(v)) < 80
            )
            object.__setattr__(self, "detail", short)


def rows(checks: list[Check]) -> pd.DataFrame:
    """Checks as table rows (check, passed, detail) for the report's data-quality appendix."""
    return pd.DataFrame(
        {
            "check": [f"{c.asset}:{c.name}" for c in checks],
            "passed": [bool(c.passed) for c in checks],
            "detail": [c.detail for c in checks],
        }
    )
