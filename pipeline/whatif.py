"""``python -m pipeline score --set CODE=VALUE``: how scores would move, computed in memory, nothing written."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pipeline.evaluation import Evaluation
from pipeline.ingest.stage import ingest
from pipeline.reconcile import reconcile
from pipeline.scoring.score import what_if
from pipeline.scoring.stage import scoring_inputs


def run_what_if(ev: Evaluation, raw_root: Path, framework: str | None, overrides: Mapping[str, str]) -> str:
    name = framework or ev.primary_framework
    frameworks = ev.frameworks
    if name not in frameworks:
        raise ValueError(f"评价 {ev.id} 没有指标体系 {name}；可选：{', '.join(frameworks)}")
    fw = frameworks[name]
    data = ingest(ev, raw_root)
    rec = reconcile(data.tables, ev)
    result = what_if(fw, scoring_inputs(ev, data.tables, rec.rates), overrides)
    return f"指标体系 / framework: {name}（假设分析，不写任何文件 / what-if, nothing written）\n" + result.text()
