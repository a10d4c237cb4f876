"""Indicator completion and scoring (指标完成情况与评分): frameworks, methods, scores, sub-project status.

Plain functions and dataclasses only, no Dagster: the assets call them.

- :mod:`.framework` loads and checks an indicator framework (指标体系) YAML;
- :mod:`.methods` holds the scoring methods, exact arithmetic;
- :mod:`.score` sets actuals against targets and scores an evaluation (plus what-if);
- :mod:`.subprojects` checks the sub-project status the bureau reports against its dates.
"""

from pipeline.scoring.framework import Framework, FrameworkError, load_framework, load_frameworks
from pipeline.scoring.score import ScoreResult, ScoringInputs, score_evaluation, summary, what_if
from pipeline.scoring.subprojects import subproject_status, subprojects_summary

__all__ = [
    "Framework",
    "FrameworkError",
    "ScoreResult",
    "ScoringInputs",
    "load_framework",
    "load_frameworks",
    "score_evaluation",
    "subproject_status",
    "subprojects_summary",
    "summary",
    "what_if",
]
