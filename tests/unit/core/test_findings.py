"""Findings: one shape for every stage, severities from declared rules (pipeline.findings.assess)."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.config import Settings
from pipeline.evaluation import EvaluationError, load
from pipeline.findings import COLUMNS, DEFAULT_SEVERITY_RULES, assess, concat, frame, severity_rules
from tests.support import HOHHOT, RAW

PLANNED = 30790 * 1_000_000  # 分


def _findings() -> pd.DataFrame:
    return frame(
        [
            {
                "code": "low_arrival",
                "severity": "medium",
                "subject_type": "source",
                "subject": "county",
                "figure": "13.11",
                "message": "…",
                "stake_fen": 3315 * 1_000_000,
            },  # 10.77 % of planned
            {
                "code": "county_matching_short",
                "severity": "medium",
                "subject_type": "county",
                "subject": "150102",
                "figure": "500.00",
                "message": "…",
                "stake_fen": 500 * 1_000_000,
            },  # 1.62 %
            {
                "code": "county_matching_short",
                "severity": "medium",
                "subject_type": "county",
                "subject": "150125",
                "figure": "250.00",
                "message": "…",
                "stake_fen": 250 * 1_000_000,
            },  # 0.81 %
            {
                "code": "indicator_not_collected",
                "severity": "medium",
                "subject_type": "indicator",
                "subject": "a",
                "figure": "",
                "message": "…",
                "points_lost": "2.00",
            },
            {
                "code": "indicator_unmet",
                "severity": "medium",
                "subject_type": "indicator",
                "subject": "b",
                "figure": "4.32",
                "message": "…",
                "points_lost": "0.12",
            },
            {
                "code": "archive_not_synced",
                "severity": "medium",
                "subject_type": "county",
                "subject": "150105",
                "figure": "4/12",
                "message": "…",
            },
            {
                "code": "submission_missing",
                "severity": "low",
                "subject_type": "submitter",
                "subject": "150124",
                "figure": "",
                "message": "…",
            },
        ]
    )


def test_frame_keeps_what_is_at_stake_exactly():
    df = _findings()
    assert list(df.columns) == COLUMNS
    assert (
        str(df["stake_fen"].dtype) == "Int64"
        and df.loc[df["code"] == "low_arrival", "stake_fen"].item() == 3315 * 10**6
    )
    assert concat(df.iloc[:0], df).equals(df)


def test_default_rules_give_severities_that_differ_by_what_is_at_stake():
    df = assess(_findings(), Settings(arrival_rate_threshold=60), PLANNED, {"a": "2", "b": "3"}).set_index("finding_id")
    assert df["severity"].to_dict() == {
        "archive_not_synced:150105": "medium",
        "county_matching_short:150102": "medium",
        "county_matching_short:150125": "low",
        "indicator_not_collected:a": "high",
        "indicator_unmet:b": "low",
        "low_arrival:county": "high",
        "submission_missing:150124": "high",
    }
    assert df.at["low_arrival:county", "severity_rule"] == "涉及资金占计划总额 10% 及以上"
    assert df.at["low_arrival:county", "rule"] == "资金来源到位率低于 60%"
    assert df.at["indicator_not_collected:a", "severity_rule"] == "失分达到指标分值的 50% 及以上"


def test_declared_rules_replace_the_defaults():
    rules = [
        {"name": "配套资金一律为高", "codes": ["county_matching_short"], "severity": "high"},
        {"name": "其余为中", "severity": "medium"},
    ]
    df = assess(_findings(), Settings.model_validate({"severity_rules": rules}), PLANNED).set_index("finding_id")
    assert set(df.loc[df["code"] == "county_matching_short", "severity"]) == {"high"}
    assert set(df.loc[df["code"] != "county_matching_short", "severity"]) == {"medium"}


def test_a_threshold_is_exact_at_its_boundary():
    exact = frame(
        [
            {
                "code": "low_arrival",
                "severity": "low",
                "subject_type": "source",
                "subject": "x",
                "figure": "",
                "message": "…",
                "stake_fen": PLANNED // 10,
            }
        ]
    )  # exactly 10 %
    assert assess(exact, Settings(), PLANNED)["severity"].item() == "high"
    just_under = exact.assign(stake_fen=pd.array([PLANNED // 10 - 1], dtype="Int64"))
    assert assess(just_under, Settings(), PLANNED)["severity"].item() == "medium"


@pytest.mark.parametrize(
    "rules, message",
    [
        ([{"name": "x", "severity": "urgent"}], "severity"),
        ([{"name": "x", "min_stake_share_pct": 5, "severity": "high"}], "最后一条须无条件"),
        ([{"name": "x", "min_share": 5, "severity": "high"}, {"name": "y", "severity": "low"}], "min_share"),
    ],
)
def test_bad_rules_are_refused(rules, message):
    with pytest.raises(ValueError, match=message):
        Settings.model_validate({"severity_rules": rules})


def test_an_evaluation_with_bad_rules_fails_at_load(tmp_path):
    import shutil

    folder = tmp_path / HOHHOT
    shutil.copytree(RAW / HOHHOT, folder)
    meta = folder / "evaluation.yaml"
    meta.write_text(meta.read_text(encoding="utf-8") + "  severity_rules: [{severity: urgent}]\n", encoding="utf-8")
    with pytest.raises(EvaluationError, match=r"evaluation.yaml: 键 settings\.severity_rules\[0\]\.severity"):
        load(folder)


def test_the_default_rule_table_ends_with_a_catch_all():
    assert severity_rules(Settings()) == list(DEFAULT_SEVERITY_RULES)
    assert set(DEFAULT_SEVERITY_RULES[-1]) == {"name", "severity"}


@pytest.mark.parametrize(
    "columns",
    [
        [pd.Series(["b", "a", "b"], dtype=object), pd.Series(["c", "a"], dtype="category")],
        [pd.Series(["x"], dtype="category"), pd.Series([], dtype=object)],
        [pd.Series(["a", None], dtype=object), pd.Series(["b"], dtype=object)],  # a missing value becomes "None"
        [pd.Series(["a", 5], dtype=object), pd.Series([5, "b"], dtype="category")],  # not yet text
        [pd.Series(["z", "y"], dtype="category").cat.set_categories(["z", "y", "w"]), pd.Series(["a"], dtype=object)],
        [pd.Series(["b"], dtype=object), pd.Series(["a", "b"], dtype="string")],  # a monitoring cut-off's lineage
        [pd.Series(["b"], dtype="string").astype("category"), pd.Series(["a"], dtype=object)],
        [pd.Series(["b"], dtype="category"), pd.Series([], dtype="string")],
    ],
)
def test_lineage_text_categories_are_those_of_concat_astype_str(columns):
    from pipeline.lineage import _text_category

    want = pd.concat(columns, ignore_index=True).astype(str).astype("category")
    got = pd.Series(_text_category(columns))
    pd.testing.assert_series_equal(got, want, check_names=False)
    assert list(got.cat.categories) == list(want.cat.categories)
