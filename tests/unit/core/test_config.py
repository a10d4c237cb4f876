"""Typed configuration: `evaluation.yaml` is validated when loaded, and its reference is generated from the models."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline import evaluation
from pipeline.config_docs import render
from tests.support import HOHHOT, RAW, ROOT


def test_evaluation_reference_is_generated_from_the_models():
    assert (ROOT / "docs" / "evaluation.md").read_text(encoding="utf-8") == render(), (
        "docs/evaluation.md is stale: run `python -m pipeline.config_docs > docs/evaluation.md`"
    )


@pytest.fixture
def folder(tmp_path) -> Path:
    target = tmp_path / "raw" / HOHHOT
    shutil.copytree(RAW / HOHHOT, target, ignore=shutil.ignore_patterns("county", "bureau", "evaluator"))
    return target


def broken(folder: Path, old: str, new: str) -> str:
    path = folder / "evaluation.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(evaluation.EvaluationError) as info:
        evaluation.load(folder)
    return str(info.value)


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("report_date: 2024-03-29\n", "", "键 report_date：缺少必填键"),
        ("county_source: county", "county_source: township", "county_source 'township' 不是 sources 中的编码"),
        ("money_unit: 万元", "money_unit: 万元\nreport_title: 简版", "键 report_title：未知的键"),
        (
            "  execution_denominator: received",
            "  execution_denominator: budget",
            "键 settings.execution_denominator：取值不在允许范围内：'received' or 'planned'（实际为 'budget'）",
        ),
        ("  max_amount_wan: 20000", "  max_amount_wan: 二万", "键 settings.max_amount_wan：应为整数"),
        (
            '  - {code: "150103", name: 回民区}',
            "  - {code: 150103, name: 回民区}",
            '键 counties[1=150103].code：应为文本；编码请加引号，如 "150102"',
        ),
        ("report_date: 2024-03-29", "report_date: 2024年3月", "键 report_date：应为日期"),
        (
            "  - {code: czj, name: 市财政局, submits: [fund_plan, recoveries]}",
            "  - {code: czj, name: 市财政局, submits: [fund_plan, recoverys]}",
            "departments.czj.submits 含未知表类型 recoverys",
        ),
        ("settings:\n", "settings:\n  limits: {max_rows: 0}\n", "键 settings.limits.max_rows：应大于下限"),
        (
            '  - {code: "150104", name: 玉泉区}',
            '  - {code: "150103", name: 玉泉区}',
            "counties 中编码重复：150103",
        ),
    ],
)
def test_a_malformed_evaluation_yaml_fails_at_load_naming_the_key(folder, old, new, message):
    text = broken(folder, old, new)
    assert str(folder / "evaluation.yaml") in text
    assert message in text, text


def test_defaults_fill_what_the_file_leaves_out(folder):
    ev = evaluation.load(folder)
    assert ev.settings.limits.max_rows == 250_000 and ev.settings.realism_trend_tolerance_pct == 20
    assert ev.framework_names == ["third_party", "self_evaluation"]
