"""The portfolio (pipeline/portfolio.py): the table from three summaries, hand-checked, and its publication."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from pipeline import portfolio
from pipeline.findings import frame
from pipeline.summary import dump
from tests.support import RAW, SELF_EVALUATION


def summary(
    total: str | None,
    grade: str | None,
    arrival: str,
    execution: str,
    statuses: dict[str, str | None],
) -> dict:
    """A summary.json as the report stage writes it (the blocks the portfolio reads)."""
    by_code = {code: {"name": f"指标{code}", "status": status} for code, status in statuses.items()}
    block = {
        "funds": {"arrival_rate": arrival, "execution_rate": execution, "planned": "100.00"},
        "indicators": {
            "by_code": by_code,
            "unmet": [f"指标{c}" for c, s in statuses.items() if s == "unmet"],
            "not_collected": [f"指标{c}" for c, s in statuses.items() if s == "not_collected"],
        },
    }
    if total is not None:
        block["score"] = {"total": total, "grade": grade, "by_dimension": {}}
    return block


def findings(*rows: tuple[str, str, int, str]) -> pd.DataFrame:
    """Findings (code, severity, stake in 分, message), assessed as the findings asset would leave them."""
    df = frame(
        [
            {
                "code": code,
                "severity": severity,
                "subject_type": "source",
                "subject": code,
                "figure": "",
                "message": message,
                "stake_fen": stake,
            }
            for code, severity, stake, message in rows
        ]
    )
    return df.assign(finding_id=[f"{c}:{i}" for i, (c, *_) in enumerate(rows)])


def evaluated(evaluation_id: str, programme_id: str, year: int, summary_: dict, found: pd.DataFrame | None = None):
    return portfolio.Evaluated(
        evaluation_id=evaluation_id,
        programme_id=programme_id,
        programme=f"项目{programme_id}",
        title=f"{year}年项目{programme_id}绩效评价",
        year=year,
        report_date=dt.date(year + 1, 3, 31),
        summary=summary_,
        findings=found if found is not None else pd.DataFrame(),
    )


# Programme "p" evaluated in 2022 and 2023 (listed out of order), programme "q" once.
P2022 = evaluated(
    "2022-p",
    "p",
    2022,
    summary("78.40", "中", "85.00", "60.25", {"a": "unmet", "b": "unmet", "c": "not_collected", "d": "met"}),
    findings(
        ("low", "low", 900, "小问题"),
        ("big", "high", 500, "资金缺口大"),
        ("bigger", "high", 700, "资金缺口更大"),
        ("mid", "medium", 10_000, "中等问题"),
    ),
)
P2023 = evaluated(
    "2023-p",
    "p",
    2023,
    summary("84.05", "良", "92.50", "58.00", {"a": "met", "b": "unmet", "c": "met", "d": "unmet"}),
)
Q2023 = evaluated(
    "2023-q", "q", 2023, summary("91.00", "优", "100.00", "95.10", {"x": "met", "y": None, "z": "not_collected"})
)


def test_the_table_from_three_evaluations_with_the_year_over_year_change():
    table = portfolio.build_table([P2023, Q2023, P2022]).set_index("evaluation_id")
    assert list(table.index) == ["2022-p", "2023-p", "2023-q"]  # by programme, then year
    assert list(table["score"]) == [Decimal("78.40"), Decimal("84.05"), Decimal("91.00")]
    assert list(table["grade"]) == ["中", "良", "优"]
    assert list(table["arrival_rate"]) == [Decimal("85.00"), Decimal("92.50"), Decimal("100.00")]
    assert list(table["unmet_count"]) == [2, 2, 0]
    assert list(table["not_collected_count"]) == [1, 0, 1]
    assert list(table["high_findings"]) == [2, 0, 0]
    # The most severe first, the larger stake first among equals; three at most.
    assert table.loc["2022-p", "top_findings"] == "资金缺口更大\n资金缺口大\n中等问题"
    yoy = table.loc["2023-p"]
    assert yoy["previous_evaluation_id"] == "2022-p"
    assert str(yoy["score_change"]) == "5.65"  # 84.05 − 78.40
    assert str(yoy["arrival_rate_change"]) == "7.50"  # 92.50 − 85.00
    assert str(yoy["execution_rate_change"]) == "-2.25"  # 58.00 − 60.25
    # a went unmet → met; c was not collected (not unmet) and d went the other way: neither counts.
    assert yoy["newly_met_count"] == 1 and yoy["newly_met"] == "指标a"
    for first in ("2022-p", "2023-q"):  # no earlier year of the same programme
        assert table.loc[first, ["previous_evaluation_id", "score_change", "newly_met_count"]].isna().all()


def test_a_summary_without_score_or_funds_is_not_scored_and_never_crashes():
    monitoring = {"evaluation_id": "2024-p-m07", "rows": {"read": 3}}  # an in-year monitoring run: no score, grade
    assert not portfolio.scored(monitoring)
    assert not portfolio.scored({"score": {"total": "", "grade": ""}})
    assert portfolio.scored(P2022.summary)
    # A scored summary lacking the funds block still gives a row, with the rates left empty.
    bare = evaluated("2024-p", "p", 2024, {"score": {"total": "80.00", "grade": "良"}})
    row = portfolio.build_table([P2023, bare]).set_index("evaluation_id").loc["2024-p"]
    assert (
        row["score_change"] == Decimal("-4.05") and row["arrival_rate"] is None and row["arrival_rate_change"] is None
    )
    assert row["newly_met_count"] == 0


def publish(out: Path, evaluation_id: str, summary_: dict) -> None:
    """OUT/<id>/summary.json as a run publishes it: a link to its output set."""
    folder = out / ".sets" / evaluation_id / "run1"
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(dump(summary_), encoding="utf-8")
    (out / evaluation_id).symlink_to(folder.relative_to(out))


@pytest.fixture
def roots(tmp_path) -> tuple[Path, Path]:
    """A raw root with a scored evaluation (two years of one programme) and a monitoring folder, all published."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    for name in ("2022-skills", "2023-skills", "2023-skills-m07"):
        shutil.copytree(RAW / SELF_EVALUATION, raw / name)
        meta = raw / name / "evaluation.yaml"
        meta.write_text(meta.read_text(encoding="utf-8") + "programme_id: skills\n", encoding="utf-8")
    text = (raw / "2022-skills" / "evaluation.yaml").read_text(encoding="utf-8")
    (raw / "2022-skills" / "evaluation.yaml").write_text(
        text.replace("2023-01-01", "2022-01-01").replace("2023-12-31", "2022-12-31"), encoding="utf-8"
    )
    publish(out, "2022-skills", P2022.summary)
    publish(out, "2023-skills", P2023.summary)
    publish(out, "2023-skills-m07", {"evaluation_id": "2023-skills-m07", "funds": {"execution_rate": "40.00"}})
    return raw, out


def test_refresh_lists_scored_evaluations_only_and_publishes_the_same_bytes_again(roots):
    raw, out = roots
    folder, table = portfolio.refresh(raw, out, "first")
    assert (out / "portfolio").is_symlink() and (out / "portfolio").resolve() == folder
    assert list(table["evaluation_id"]) == ["2022-skills", "2023-skills"]  # the monitoring folder is left out
    assert list(table["programme_id"]) == ["skills", "skills"]
    assert list(table["year"]) == [2022, 2023]
    assert table["score_change"].tolist()[1] == Decimal("5.65")
    written = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert written == ["manifest.json", "portfolio.csv", "portfolio.html", "portfolio.xlsx", "tables/portfolio.parquet"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["inputs"]) == {"2022-skills/summary.json", "2023-skills/summary.json"}
    csv = (folder / "portfolio.csv").read_text(encoding="utf-8-sig")
    assert csv.splitlines()[0].startswith("programme_id,programme,year,evaluation_id")
    # numbers as numbers: a negative change is not escaped as a formula would be
    assert csv.splitlines()[2].endswith(",84.05,良,92.50,58.00,2,0,0,,2022-skills,5.65,7.50,-2.25,1,指标a")
    html = (folder / "portfolio.html").read_text(encoding="utf-8")
    assert "项目支出绩效评价组合视图" in html and "+5.65" in html and "http" not in html
    assert pd.read_parquet(folder / "tables" / "portfolio.parquet")["score"].tolist() == [
        Decimal("78.40"),
        Decimal("84.05"),
    ]

    again, _ = portfolio.refresh(raw, out, "second")
    assert again != folder and (out / "portfolio").resolve() == again
    for rel in written:
        assert (again / rel).read_bytes() == (folder / rel).read_bytes(), rel
