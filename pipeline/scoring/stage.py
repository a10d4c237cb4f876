"""Score one evaluation under every framework it names, from its validated tables (no Dagster)."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

import pandas as pd

from pipeline.evaluation import Evaluation
from pipeline.scoring import score as scoring


def scoring_inputs(
    ev: Evaluation, tables: Mapping[str, pd.DataFrame], rates: Mapping[str, str | Fraction | None]
) -> scoring.ScoringInputs:
    """``rates`` are the reconciliation's exact rates, as Fractions or their "p/q" text."""
    history_path = ev.folder / "history.csv"
    return scoring.ScoringInputs(
        indicator_actuals=tables["indicator_actuals"],
        county_indicators=tables["county_indicators"],
        grades=tables["grades"],
        survey=tables["survey"],
        reconciliation={k: (Fraction(v) if v is not None else None) for k, v in rates.items()},
        settings=ev.settings,
        history=scoring.read_history(history_path, f"{ev.id}/{history_path.name}"),
        year=ev.config.evaluation_period.start.year,
        counties=ev.counties,
    )


def score_all(ev: Evaluation, inputs: scoring.ScoringInputs) -> dict[str, scoring.ScoreResult]:
    return {name: scoring.score_evaluation(fw, inputs) for name, fw in ev.frameworks.items()}
