"""The benchmark's DuckDB reference agrees with the pipeline on a small synthetic evaluation.

The benchmark itself (national scale, timings) is run from the README, never as a timed test.
"""

import json

import pytest

from pipeline.tools import bench, synth

EVALUATION = "2023-bench-small"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    raw = tmp_path_factory.mktemp("bench") / "raw"
    synth.generate(raw / EVALUATION, counties=30, subprojects=12, indicators=12, seed=7, evaluation_id=EVALUATION)
    return raw


def test_reference_gives_the_pipelines_totals_and_county_indicators(small, tmp_path):
    stages = bench.stages(small, EVALUATION, tmp_path)
    ref = bench.reference(small, EVALUATION)
    assert bench._agree(stages, ref) == []
    assert ref["indicators"], "the reference compared no county indicator"
    ledger = json.loads((small / EVALUATION / synth.LEDGER_FILE).read_text(encoding="utf-8"))
    for source, measures in ref["by_source"].items():
        for measure, fen in measures.items():
            assert ledger["funds"]["by_source"][source][f"{measure}_fen"] == fen, (source, measure)


def test_reference_notices_a_difference(small, tmp_path):
    stages = bench.stages(small, EVALUATION, tmp_path)
    ref = bench.reference(small, EVALUATION)
    source = next(iter(ref["by_source"]))
    ref["by_source"][source]["spent"] += 1  # one 分 off
    assert [p for p in bench._agree(stages, ref) if p.startswith(f"{source}.spent")]


def test_pdf_alone_lays_a_page_out_in_a_process_of_its_own(tmp_path):
    html = tmp_path / "report.html"
    html.write_text("<!doctype html><html><body><h1>绩效评价报告</h1><p>测试</p></body></html>", encoding="utf-8")
    assert bench.pdf_alone(html) > 0
