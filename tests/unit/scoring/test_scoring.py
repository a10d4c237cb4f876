"""Scoring: methods on hand-computed cases, framework checks, and the Hohhot scores under both frameworks."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from pipeline import store
from pipeline.config import Settings
from pipeline.contract import DATA_STATUS_VALUES
from pipeline.scoring import methods
from pipeline.scoring.framework import FrameworkError, load_frameworks, parse_framework, read_document
from pipeline.scoring.score import ScoringInputs, _rows_for, read_history, score_evaluation, summary, what_if
from pipeline.scoring.subprojects import subproject_status, subprojects_summary
from pipeline.tools import hohhot_indicators as hohhot
from tests.support import HOHHOT, RAW

EVALUATION = RAW / HOHHOT
RECONCILIATION = {"arrival_rate": Fraction(27475, 30790), "execution_rate": Fraction(1071376, 2747500)}
COUNTIES = {
    "150102": "新城区",
    "150103": "回民区",
    "150104": "玉泉区",
    "150105": "赛罕区",
    "150121": "土默特左旗",
    "150122": "托克托县",
    "150123": "和林格尔县",
    "150124": "清水河县",
    "150125": "武川县",
}


def table(rows_by_submitter: dict[str, list[dict]], folder: str) -> pd.DataFrame:
    """Rows shaped like a validated table: canonical enums, NA for empty actuals, source columns."""
    out = []
    for submitter, rows in rows_by_submitter.items():
        for n, row in enumerate(rows, start=2):
            out.append(
                {
                    **row,
                    "file": f"raw/2023-hohhot-pes/{folder}/{submitter}.csv",
                    "sheet": "",
                    "row": n,
                    "submitter": submitter,
                }
            )
    df = pd.DataFrame(out)
    if "data_status" in df:
        df["data_status"] = df["data_status"].map(DATA_STATUS_VALUES)
        df["actual"] = df["actual"].replace("", pd.NA)
    return df


def hohhot_inputs(**changes) -> ScoringInputs:
    base = dict(
        indicator_actuals=table(hohhot.BUREAU_INDICATORS, "bureau"),
        county_indicators=table(hohhot.COUNTY_INDICATORS, "county"),
        grades=table({"evaluator": hohhot.GRADES}, "evaluator/grades"),
        survey=table({"evaluator": hohhot.SURVEY}, "evaluator/survey"),
        reconciliation=RECONCILIATION,
        settings=Settings(satisfied_answers=["满意", "比较满意"]),
        history=read_history(EVALUATION / "history.csv", "raw/2023-hohhot-pes/history.csv"),
        year=2023,
        counties=COUNTIES,
    )
    return ScoringInputs(**{**base, **changes})


@pytest.fixture(scope="module")
def frameworks():
    return load_frameworks(EVALUATION, ["third_party", "self_evaluation"])


@pytest.fixture(scope="module")
def third_party(frameworks):
    return score_evaluation(frameworks["third_party"], hohhot_inputs())


# --------------------------------------------------------------------------------------------
# Methods, hand-computed


def test_proportional_is_capped_at_full_points_and_exact():
    assert methods.proportional(3, Decimal("4.32"), Decimal("4.50")) == Fraction(288, 100)
    assert methods.proportional(2, 60, 60) == 2  # exactly at target
    assert methods.proportional(2, 75, 60) == 2  # over target: capped
    assert methods.proportional(2, 0, 0) == 2  # zero target, met
    assert methods.proportional(2, 5, 0) == 2
    assert methods.proportional(2, -1, 0) == 0  # zero target missed: no completion to scale by


def test_reverse_full_at_or_under_cap_then_target_over_actual():
    assert methods.reverse(3, Decimal("2.50"), Decimal("2.50")) == 3
    assert methods.reverse(3, Decimal("2.10"), Decimal("2.50")) == 3
    # just over the cap: 3 × 2.50 / 2.51
    assert methods.reverse(3, Decimal("2.51"), Decimal("2.50")) == Fraction(750, 251)
    assert methods.leaf_score(methods.reverse(3, Decimal("2.51"), Decimal("2.50"))) == Decimal("2.99")
    assert methods.reverse(3, 1, 0) == 0  # zero cap exceeded


def test_banded_lower_bounds_are_inclusive():
    bands = [(100, 1), (80, Decimal("0.8")), (60, Decimal("0.6"))]
    assert methods.banded(2, 5, 5, bands) == 2
    assert methods.banded(2, 4, 5, bands) == Fraction(8, 5)  # exactly 80 %
    assert methods.banded(2, Decimal("3.9999"), 5, bands) == Fraction(6, 5)  # 79.998 %
    assert methods.banded(2, 3, 5, bands) == Fraction(6, 5)  # exactly 60 %
    assert methods.banded(2, Decimal("2.99"), 5, bands) == 0
    assert methods.banded(2, 0, 0, bands) == 2  # zero target, met


def test_deduction_per_whole_step_down_to_zero():
    # 92.15 / 95 = 97 %: exactly one step of 3 % short
    assert methods.deduction(2, Decimal("92.15"), 95, 3, Decimal("0.5")) == Fraction(3, 2)
    assert methods.deduction(2, Decimal("28.2"), 30, 3, Decimal("0.5")) == 1  # 94 %: two steps
    assert methods.deduction(2, Decimal("29.2"), 30, 3, Decimal("0.5")) == 2  # 97.33 %: under one step
    # pro rata: 8/3 % short = 8/9 of a step, 4/9 of a point off
    assert methods.deduction(2, Decimal("29.2"), 30, 3, Decimal("0.5"), partial=True) == Fraction(14, 9)
    assert methods.deduction(2, 10, 30, 3, 1) == 0  # floor at zero
    assert methods.deduction(2, 30, 30, 3, 1) == 2


def test_qualitative_averages_graders_shares():
    shares = {"好": 1, "较好": Decimal("0.8"), "一般": Decimal("0.6"), "差": 0}
    assert methods.qualitative(3, ["好", "较好", "一般"], shares) == Fraction(12, 5)
    assert methods.qualitative(4, ["较好", "一般", "较好"], shares) == Fraction(44, 15)
    assert methods.leaf_score(Fraction(44, 15)) == Decimal("2.93")
    assert methods.qualitative(2, ["差"], {**shares, "差": Decimal("0.2")}) == Fraction(2, 5)


def test_leaf_scores_round_half_up_on_a_five_in_the_third_decimal():
    assert methods.proportional(2, 16850, 20000) == Fraction(337, 200)  # 1.685
    assert methods.leaf_score(Fraction(337, 200)) == Decimal("1.69")  # banker's rounding would give 1.68
    assert methods.leaf_score(methods.proportional(1, 1, 8)) == Decimal("0.13")  # 0.125


def test_satisfaction_rate_and_completion():
    assert methods.satisfaction_rate(144, 148) == Fraction(36, 37)
    assert methods.satisfaction_rate(0, 0) is None
    assert methods.completion_rate(Decimal("2.62"), Decimal("2.50"), "<=") == Fraction(125, 131)
    assert methods.completion_rate(5, 0, ">=") is None
    assert methods.completion_rate(4, 5, "=") == methods.completion_rate(5, 4, "=") == Fraction(4, 5)


@pytest.mark.parametrize(
    "total, grade",
    [
        ("90.00", "优"),
        ("89.99", "良"),
        ("80.00", "良"),
        ("79.99", "中"),
        ("60.00", "中"),
        ("59.99", "差"),
        ("0.00", "差"),
    ],
)
def test_grade_bands_on_the_printed_total(total, grade, frameworks):
    assert methods.grade_for(Decimal(total), frameworks["third_party"].grade_bands) == grade


# --------------------------------------------------------------------------------------------
# Totals on band edges through a whole (small) framework


def small_framework(**leaf_changes) -> dict:
    leaf = {
        "code": "a1",
        "name": "指标一",
        "points": 60,
        "unit": "人",
        "target": 100,
        "method": "proportional",
        "source": "bureau",
    }
    return {
        "dimensions": [
            {
                "code": "output",
                "name": "产出",
                "weight": 60,
                "performance": True,
                "groups": [{"name": "产出数量", "indicators": [{**leaf, **leaf_changes}]}],
            },
            {
                "code": "outcome",
                "name": "效益",
                "weight": 40,
                "performance": True,
                "groups": [
                    {
                        "name": "社会效益",
                        "indicators": [
                            {
                                "code": "b1",
                                "name": "指标二",
                                "points": 20,
                                "unit": "人",
                                "target": 8,
                                "method": "proportional",
                                "source": "bureau",
                            },
                            {
                                "code": "b2",
                                "name": "指标三",
                                "points": 20,
                                "unit": "人",
                                "target": 8,
                                "method": "proportional",
                                "source": "bureau",
                            },
                        ],
                    }
                ],
            },
        ],
    }


def small_inputs(actuals: dict[str, str]) -> ScoringInputs:
    rows = [
        {"indicator_code": c, "actual": a, "data_status": "已采集", "deviation_reason": ""} for c, a in actuals.items()
    ]
    empty = pd.DataFrame(columns=["indicator_code", "file", "sheet", "row", "submitter"])
    return ScoringInputs(table({"employment": rows}, "bureau"), empty, empty, empty, {})


@pytest.mark.parametrize(
    "a1, b1, b2, total, grade",
    [
        # a1 scores 60 × a1 / 100; b1 and b2 score 20 × b / 8
        ("100", "6", "6", "90.00", "优"),
        ("100", "8", "3.992", "89.98", "良"),
        ("100", "2", "6", "80.00", "良"),
        ("100", "0", "7.992", "79.98", "中"),
        ("50", "6", "6", "60.00", "中"),
        ("50", "6", "5.992", "59.98", "差"),
    ],
)
def test_totals_on_band_edges(a1, b1, b2, total, grade):
    result = score_evaluation(parse_framework(small_framework(), "small"), small_inputs({"a1": a1, "b1": b1, "b2": b2}))
    assert (str(result.total), result.grade) == (total, grade)
    assert sum(Decimal(s) for s in result.dimensions["score"]) == result.total


def test_total_is_the_sum_of_rounded_leaves():
    result = score_evaluation(
        parse_framework(small_framework(), "small"), small_inputs({"a1": "0", "b1": "0.05", "b2": "0.05"})
    )
    leaves = dict(zip(result.indicators["code"], result.indicators["score"]))
    assert leaves == {"a1": "0.00", "b1": "0.13", "b2": "0.13"}  # 20 × 0.05 / 8 = 0.125 each
    assert str(result.total) == "0.26"  # the printed leaves add up; the exact 0.25 does not show


# --------------------------------------------------------------------------------------------
# Framework checks


def third_party_doc() -> dict:
    return read_document(EVALUATION / "frameworks" / "third_party.yaml")


def leaf_of(doc: dict, code: str) -> dict:
    return next(i for d in doc["dimensions"] for g in d["groups"] for i in g["indicators"] if i["code"] == code)


def weights_101(doc: dict) -> None:
    doc["dimensions"][0]["weight"] = 16
    leaf_of(doc, "basis_sufficiency")["points"] = 3  # the dimension itself still adds up


@pytest.mark.parametrize(
    "change, message",
    [
        pytest.param(weights_101, r"权重合计 101.*decision（决策）16", id="weights-not-100"),
        pytest.param(
            lambda d: leaf_of(d, "certificate_rate").update(points=3),
            r"output（产出）权重 40.*合计 41.*certificate_rate（接受职业培训后取得职业资格证书人员比例）3",
            id="points-not-dimension-weight",
        ),
        pytest.param(
            lambda d: leaf_of(d, "training_brands").pop("source"),
            r"training_brands（打造特色培训品牌数量）.*没有数据来源",
            id="no-source",
        ),
        pytest.param(
            lambda d: leaf_of(d, "new_urban_jobs").update(method="linear"),
            r"new_urban_jobs（新增城镇就业人员规模）.*未知的计分方法 'linear'",
            id="unknown-method",
        ),
        pytest.param(
            lambda d: leaf_of(d, "registered_unemployed").pop("target"),
            r"registered_unemployed（登记失业人员规模）.*reverse 需要目标值",
            id="missing-target",
        ),
        pytest.param(lambda d: leaf_of(d, "new_urban_jobs").update(code="new.urban"), "不得含点", id="dotted-code"),
        pytest.param(
            lambda d: leaf_of(d, "arrival_rate").update(source={"type": "reconciliation"}),
            "arrival_rate（资金到位率）.*需要 key",
            id="reconciliation-without-key",
        ),
        pytest.param(
            lambda d: leaf_of(d, "new_urban_jobs").update(source="ledger"),
            "未知的数据来源 'ledger'",
            id="unknown-source",
        ),
        pytest.param(
            lambda d: leaf_of(d, "registered_unemployed").update(comparator=">="), "逆向指标", id="reverse-with->="
        ),
        pytest.param(
            lambda d: leaf_of(d, "training_brands")["params"].pop("bands"),
            "training_brands.*需要 params.bands",
            id="banded-without-bands",
        ),
        pytest.param(
            lambda d: leaf_of(d, "basis_sufficiency").update(source="bureau"),
            "basis_sufficiency.*定性指标",
            id="qualitative-not-graded",
        ),
        pytest.param(
            lambda d: leaf_of(d, "master_studios").update(code="new_urban_jobs"),
            "编码重复：new_urban_jobs",
            id="duplicate-code",
        ),
    ],
)
def test_framework_errors_name_the_indicator(change, message):
    doc = third_party_doc()
    change(doc)
    with pytest.raises(FrameworkError, match=message):
        parse_framework(doc, "bad")


def test_numbers_are_read_exactly(frameworks):
    leaf = frameworks["third_party"].leaf("new_urban_jobs")
    assert leaf.target == Decimal("4.50") and isinstance(leaf.target, Decimal)
    assert frameworks["third_party"].leaf("policy_system_rate").params == {
        "step": 3,
        "deduct": Decimal("0.5"),
        "partial": False,
    }


# --------------------------------------------------------------------------------------------
# Hohhot under the third-party framework: the seed's figures

SEED_UNMET = [
    "新增城镇就业人员规模",
    "登记失业人员规模",
    "打造特色培训品牌数量",
    "“一网通办”政策经办系统服务率",
    "新增技能人才数",
    "技能劳动者总量占比",
    "接受职业培训后取得职业资格证书人员比例",
]
SEED_NOT_COLLECTED = ["服务高校毕业生就业人次", "“一网通办”求职招聘系统服务人次", "公共就业服务事项网办率"]


def test_hohhot_total_and_grade(third_party):
    assert (str(third_party.total), third_party.grade) == ("84.88", "良")
    block = third_party.score_block()
    assert block["by_dimension"] == {"decision": "12.80", "process": "16.06", "output": "31.02", "outcome": "25.00"}
    assert sum(Decimal(v) for v in block["by_dimension"].values()) == Decimal("84.88")
    assert sum(Decimal(v) for v in third_party.indicators["score"]) == Decimal("84.88")


def test_edges_are_categorical_text(third_party):
    """The edge table is built as categoricals (no Python string per cell): the same text, row by row."""
    e = third_party.edges
    text = [c for c in e.columns if c != "row"]
    assert all(isinstance(e[c].dtype, pd.CategoricalDtype) for c in text)
    assert e["row"].dtype == "int64"
    assert not e[text].isna().any().any()
    assert {"indicators", "findings"} <= set(e["output_table"])
    assert set(e.loc[e["input_kind"] == "reconciliation", "file"]) == {""}


def test_hohhot_status_lists(third_party, frameworks):
    alt = score_evaluation(frameworks["self_evaluation"], hohhot_inputs())
    s = summary(third_party, {"self_evaluation": alt})
    ind = s["indicators"]
    assert ind["unmet"] == SEED_UNMET
    assert ind["not_collected"] == SEED_NOT_COLLECTED
    assert (ind["met_count"], ind["total_count"]) == (18, 28)
    for code in ("satisfaction_service", "satisfaction_training", "satisfaction_policy"):
        assert ind["by_code"][code]["status"] == "met"
    assert ind["by_code"]["satisfaction_service"] == {
        "name": "公共就业服务满意度",
        "dimension": "outcome",
        "target": "95.00",
        "actual": "97.30",
        "status": "met",
        "points": "3.00",
        "score": "3.00",
    }
    assert ind["by_code"]["basis_sufficiency"]["status"] is None  # decision items carry no status
    assert ind["by_code"]["registered_unemployed"]["actual"] == "2.62"  # summed over nine counties
    assert s["score"]["total"] == "84.88"
    assert s["score"]["alternatives"]["self_evaluation"] == {
        "total": "84.80",
        "grade": "良",
        "by_dimension": {"budget_execution": "3.90", "output": "40.90", "outcome": "30.00", "satisfaction": "10.00"},
    }


def test_hohhot_computed_indicators_come_from_the_reconciliation(third_party):
    rows = third_party.indicators.set_index("code")
    assert rows.loc["arrival_rate", ["actual", "score"]].tolist() == ["89.23", "3.57"]
    assert rows.loc["execution_rate", ["actual", "score"]].tolist() == ["38.99", "1.56"]
    edges = third_party.edges
    assert edges[(edges["output_table"] == "indicators") & (edges["output_key"] == "arrival_rate")][
        ["input_kind", "measure", "row"]
    ].values.tolist() == [["reconciliation", "arrival_rate", 0]]


def test_hohhot_leaf_scores(third_party):
    scores = dict(zip(third_party.indicators["code"], third_party.indicators["score"]))
    assert {
        c: scores[c]
        for c in (
            "target_reasonableness",
            "rules_enforcement",
            "new_urban_jobs",
            "registered_unemployed",
            "training_brands",
            "policy_system_rate",
            "new_skilled_workers",
            "skilled_worker_share",
            "certificate_rate",
            "graduates_served",
        )
    } == {
        "target_reasonableness": "2.60",
        "rules_enforcement": "2.93",
        "new_urban_jobs": "2.88",
        "registered_unemployed": "2.86",
        "training_brands": "1.60",
        "policy_system_rate": "1.50",
        "new_skilled_workers": "2.53",
        "skilled_worker_share": "1.00",
        "certificate_rate": "1.65",
        "graduates_served": "0.00",
    }


def test_hohhot_target_realism(third_party):
    t = third_party.indicators.set_index("code")
    flagged = sorted(t.index[t["target_realism"] == "unrealistic"])
    assert flagged == [
        "graduates_served",
        "new_skilled_workers",
        "satisfaction_policy",
        "satisfaction_service",
        "satisfaction_training",
    ]
    assert sorted(t.index[t["target_realism"] == "realistic"]) == [
        "new_urban_jobs",
        "registered_unemployed",
        "training_sessions",
    ]
    assert t.at["new_skilled_workers", "realism_reason"] == "目标值 20000人 高于往年最好水平 16400人（2022年）"
    assert "趋势值 22967人次（2023年）超过 20%" in t.at["graduates_served", "realism_reason"]  # a count: whole people


def test_hohhot_findings_and_their_lineage(third_party):
    f = third_party.findings.set_index("finding_id")
    assert sorted(f.index[f["code"] == "indicator_unmet"]) == sorted(
        f"indicator_unmet:{c}"
        for c in (
            "new_urban_jobs",
            "registered_unemployed",
            "training_brands",
            "policy_system_rate",
            "new_skilled_workers",
            "skilled_worker_share",
            "certificate_rate",
        )
    )
    assert f.at["indicator_unmet:new_urban_jobs", "message"] == (
        "指标“新增城镇就业人员规模”未完成目标值：目标 ≥4.50万人，实际 4.32万人，完成率 96.00%，得 2.88 分（满分 3.00 分）。"
        "偏差原因：吸纳就业补贴项目延后实施，中小微企业吸纳就业规模不及预期。"
    )
    assert (
        "赛罕区：高校毕业生离校未就业人员集中办理失业登记" in f.at["indicator_unmet:registered_unemployed", "message"]
    )
    e = third_party.edges
    county_rows = e[(e["output_table"] == "findings") & (e["output_key"] == "indicator_unmet:registered_unemployed")]
    assert len(county_rows) == 9 and set(county_rows["input_kind"]) == {"county_indicators"}
    history_rows = e[e["output_key"] == "target_unrealistic:new_skilled_workers"]
    assert history_rows["row"].tolist() == [14, 15, 16]
    assert set(history_rows["measure"]) == {"target_realism"} and set(history_rows["input_kind"]) == {"history"}
    assert set(history_rows["file"]) == {"raw/2023-hohhot-pes/history.csv"}


def test_survey_counts_valid_answers_and_configurable_satisfied(frameworks):
    only_fully = score_evaluation(
        frameworks["third_party"], hohhot_inputs(settings=Settings(satisfied_answers=["满意"]))
    )
    t = only_fully.indicators.set_index("code")
    assert t.at["satisfaction_service", "actual"] == "70.27"  # 104 / 148; the 2 无效 count in neither
    assert t.at["satisfaction_service", "basis"] == "问卷：满意 104 份 / 有效 148 份（无效 2 份）"
    assert t.at["satisfaction_service", "status"] == "unmet"


def test_a_county_missing_makes_a_county_figure_not_collected(frameworks):
    counties = table({c: rows for c, rows in hohhot.COUNTY_INDICATORS.items() if c != "150124"}, "county")
    result = score_evaluation(frameworks["third_party"], hohhot_inputs(county_indicators=counties))
    t = result.indicators.set_index("code")
    assert t.at["new_skilled_workers", "status"] == "not_collected"
    assert t.at["new_skilled_workers", "deviation_reason"] == (
        "旗县区未采集或未报送：清水河县；赛罕区：企业及学员培训意愿不强，高技能人才培训偏少"
    )
    assert t.at["unemployed_assistance_rate", "status"] == "not_collected"
    assert t.at["registered_unemployed", "score"] == "0.00"


def test_county_rows_read_as_categoricals_score_the_same(tmp_path, frameworks):
    """The scoring step reads county_indicators with its text as categoricals (categories in the order the
    Parquet dictionary met them, here reversed): every table, total and edge is the same as from text."""
    counties = table(hohhot.COUNTY_INDICATORS, "county").iloc[::-1].reset_index(drop=True)  # not in file order
    path = store.write_table(tmp_path, "county_indicators", counties)
    as_category = store.read_table(path, text_as_category=True)
    assert isinstance(as_category["file"].dtype, pd.CategoricalDtype)
    assert not as_category["file"].cat.categories.is_monotonic_increasing
    plain = score_evaluation(frameworks["third_party"], hohhot_inputs(county_indicators=counties))
    got = score_evaluation(frameworks["third_party"], hohhot_inputs(county_indicators=as_category))
    assert (got.total, got.grade) == (plain.total, plain.grade)
    for name in ("indicators", "dimensions", "findings", "edges"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(plain, name), check_exact=True)
    for column in ("output_key", "file", "sheet"):
        assert list(got.edges[column].cat.categories) == list(plain.edges[column].cat.categories)


def test_county_mean(third_party):
    t = third_party.indicators.set_index("code")
    assert t.at["unemployed_assistance_rate", "actual"] == "96.61"  # 869.5 / 9
    assert t.at["unemployed_assistance_rate", "basis"] == "9 个旗县区报送平均"


def test_conflicting_bureau_actuals_are_a_finding(frameworks):
    bureau = copy.deepcopy(hohhot.BUREAU_INDICATORS)
    bureau["skills"].append(
        {"indicator_code": "new_urban_jobs", "actual": "4.60", "data_status": "已采集", "deviation_reason": ""}
    )
    result = score_evaluation(frameworks["third_party"], hohhot_inputs(indicator_actuals=table(bureau, "bureau")))
    f = result.findings.set_index("finding_id")
    assert f.at["indicator_conflicting_actuals:new_urban_jobs", "severity"] == "high"
    assert result.indicators.set_index("code").at["new_urban_jobs", "actual"] == "4.32"  # employment.csv comes first


# --------------------------------------------------------------------------------------------
# Self-evaluation framework and what-if


def test_hohhot_under_the_self_evaluation_framework(frameworks):
    result = score_evaluation(frameworks["self_evaluation"], hohhot_inputs())
    assert (str(result.total), result.grade) == ("84.80", "良")
    assert result.indicators.set_index("code").at["execution_rate", "score"] == "3.90"  # 10 × 38.99 %
    assert summary(result)["indicators"]["unmet"] == SEED_UNMET
    assert summary(result)["indicators"]["total_count"] == 28


def test_what_if_moves_leaves_dimensions_total_and_grade(frameworks):
    moved = what_if(frameworks["third_party"], hohhot_inputs(), {"certificate_rate": "60", "indicator_clarity": "好"})
    assert moved.leaves[["code", "score_before", "score_after", "delta"]].values.tolist() == [
        ["indicator_clarity", "2.00", "3.00", "+1.00"],
        ["certificate_rate", "1.65", "2.00", "+0.35"],
    ]
    assert moved.dimensions.set_index("code").loc["decision", ["score_before", "score_after"]].tolist() == [
        "12.80",
        "13.80",
    ]
    assert (moved.total, moved.grade) == (("84.88", "86.23"), ("良", "良"))

    worse = what_if(frameworks["third_party"], hohhot_inputs(), {"reemployed": "未采集", "startup_jobs": "未采集"})
    assert (worse.total, worse.grade) == (("84.88", "78.88"), ("良", "中"))
    assert "总分 / total: 84.88 → 78.88" in worse.text()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"no_such_code": "1"}, "没有指标 no_such_code"),
        ({"certificate_rate": "六十"}, "certificate_rate: '六十' 不是数值"),
        ({"indicator_clarity": "优秀"}, "indicator_clarity: 等级应为 好/较好/一般/差，收到 优秀"),
    ],
)
def test_what_if_rejects_bad_overrides(overrides, message, frameworks):
    with pytest.raises(ValueError, match=message):
        what_if(frameworks["third_party"], hohhot_inputs(), overrides)


# --------------------------------------------------------------------------------------------
# Sub-project status

SEED_STATUS = {
    **{str(i): "completed" for i in (*range(1, 6), *range(9, 19))},
    "6": "delayed_or_paused",
    "7": "delayed_or_paused",
    "8": "delayed_or_paused",
    "19": "ongoing",
}


def registry(changes: dict[str, dict] | None = None) -> pd.DataFrame:
    rows = []
    for n, code in enumerate(sorted(SEED_STATUS, key=int), start=2):
        row = {
            "subproject_code": code,
            "name": f"子项目{code}",
            "group_code": "1",
            "group_name": "组",
            "lead_unit": "市人社局",
            "allocation_fen": 100_000_000,
            "status_reported": SEED_STATUS[code],
            "planned_end": pd.Timestamp("2023-12-31"),
            "adjusted_end": pd.Timestamp("2024-06-30") if code == "19" else pd.NaT,
            "file": "raw/2023-hohhot-pes/bureau/project_office/subprojects.csv",
            "sheet": "",
            "row": n,
            "submitter": "project_office",
        }
        rows.append({**row, **(changes or {}).get(code, {})})
    return pd.DataFrame(rows)


def test_subproject_status_lists_in_natural_order():
    t, edges, found = subproject_status(registry(), dt.date(2023, 12, 31))
    assert subprojects_summary(t) == {
        "completed": ["1", "2", "3", "4", "5", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18"],
        "delayed_or_paused": ["6", "7", "8"],
        "ongoing": ["19"],
    }
    assert t["check"].isna().all()
    assert sorted(found["finding_id"]) == sorted(
        ["subproject_delayed:6", "subproject_delayed:7", "subproject_delayed:8", "subproject_extended:19"]
    )
    assert edges[edges["output_key"] == "subproject_extended:19"]["row"].tolist() == [20]


def test_subproject_status_contradicted_by_dates_is_flagged():
    t, _, found = subproject_status(
        registry(
            {
                "3": {"adjusted_end": pd.Timestamp("2024-03-31")},
                "19": {"adjusted_end": pd.NaT, "planned_end": pd.Timestamp("2023-10-31")},
            }
        ),
        dt.date(2023, 12, 31),
    )
    checks = dict(zip(t["subproject_code"], t["check"]))
    assert (checks["3"], checks["19"]) == ("completed_after_cutoff", "ongoing_past_end")
    f = found.set_index("finding_id")
    assert f.at["subproject_status_conflict:3", "message"] == (
        "子项目“3--子项目3”上报为基本完成，但完成日期 2024-03-31 晚于截止日 2023-12-31，请核实实施状态或完成日期。"
    )
    assert "subproject_status_conflict:19" in f.index
    assert subprojects_summary(t)["completed"][:3] == ["1", "2", "3"]  # the reported status stands


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("categories", ["none", "as they appear", "reversed"])
def test_an_input_tables_rows_come_in_file_sheet_row_order_whether_or_not_they_arrive_in_it(seed, categories):
    rng = np.random.default_rng(seed)
    n = 400
    df = pd.DataFrame(
        {
            "file": rng.choice(["c/150102.xlsx", "c/150103.xlsx", "b/局.xlsx"], n),
            "sheet": rng.choice(["指标", "资金"], n),
            "row": rng.integers(4, 30, n),  # ties: the stable sort keeps their order
            "indicator_code": rng.choice(["A1", "A2", "B1"], n),
            "n": np.arange(n),
        }
    )
    arrived = df.sort_values(["file", "sheet", "row"], kind="stable") if seed % 2 else df
    # By the text, whatever the dtype: the object table sorted as its values are.
    expected = arrived[arrived["indicator_code"].isin(["A1", "B1"])].sort_values(
        ["file", "sheet", "row"], kind="stable"
    )
    if categories != "none":  # the I/O manager reads text as categories in order of appearance, not of value
        order = list(pd.unique(arrived["file"]))
        order = order[::-1] if categories == "reversed" else order
        arrived = arrived.assign(file=pd.Categorical(arrived["file"], categories=order))
    got = _rows_for(arrived, ["A1", "B1"])
    if categories != "none":
        assert got["file"].cat.categories.is_monotonic_increasing  # sorting by their codes sorts by the text
        got = got.assign(file=got["file"].astype(object))
    pd.testing.assert_frame_equal(got, expected)
