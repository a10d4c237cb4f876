"""Indicator completion and scoring (指标完成情况与评分): frameworks, methods, scores, sub-project status.

Plain functions and dataclasses only, no Dagster: the assets call them. Nothing is imported here, so
loading one module (the framework, say) does not load the others.

- :mod:`.framework` loads and checks an indicator framework (指标体系) YAML;
- :mod:`.methods` holds the scoring methods, exact arithmetic;
- :mod:`.score` sets actuals against targets and scores an evaluation (plus what-if);
- :mod:`.run` gathers an evaluation's scoring inputs and scores every framework;
- :mod:`.subprojects` checks the sub-project status the bureau reports against its dates.
"""
