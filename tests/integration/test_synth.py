"""The synthetic generator (pipeline/tools/synth.py): same seed, same bytes; its evaluations run through the
whole pipeline and come out with the totals its ledger holds; every defect it seeds is caught."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.tools import synth

MEASURES = ["planned", "received", "spent", "carried_forward", "recovered", "arrival_rate", "execution_rate"]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_gives_the_same_bytes_whatever_the_folder(tmp_path):
    args = [
        "--counties",
        "5",
        "--subprojects",
        "6",
        "--indicators",
        "10",
        "--seed",
        "7",
        "--defects",
        "0.05",
        "--evaluation-id",
        "syn-bytes",
    ]
    assert synth.main(["--out", str(tmp_path / "a" / "first"), "--workers", "1", *args]) == 0
    assert synth.main(["--out", str(tmp_path / "b" / "second"), "--workers", "2", *args]) == 0
    first, second = _files(tmp_path / "a" / "first"), _files(tmp_path / "b" / "second")
    assert len([f for f in first if f.startswith("county/")]) == 4  # one of five workbooks seeded missing
    assert first == second

    synth.generate(tmp_path / "c" / "syn-bytes", counties=5, subprojects=6, indicators=10, seed=8, defects=0.05)
    other = _files(tmp_path / "c" / "syn-bytes")
    assert other["evaluation.yaml"] != first["evaluation.yaml"]


def test_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "syn").mkdir()
    (tmp_path / "syn" / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError):
        synth.generate(tmp_path / "syn", counties=2)
    assert synth.main(["--out", str(tmp_path / "syn"), "--counties", "2"]) == 2


def test_county_codes_are_distinct_county_level_gb2260_codes(tmp_path):
    synth.generate(tmp_path / "syn", counties=120, seed=2)
    meta = yaml.safe_load((tmp_path / "syn" / "evaluation.yaml").read_text(encoding="utf-8"))
    codes = [c["code"] for c in meta["counties"]]
    assert len(set(codes)) == len({c["name"] for c in meta["counties"]}) == 120
    assert all(re.fullmatch(r"(1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5])\d{2}(0[2-9]|[1-9]\d)", c) for c in codes)
    assert sorted(p.stem for p in (tmp_path / "syn" / "county").iterdir()) == sorted(codes)


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    from pipeline.materialize import materialize_evaluation

    raw, out = tmp_path_factory.mktemp("raw"), tmp_path_factory.mktemp("out")
    ledger = synth.generate(raw / "syn-clean", counties=30, seed=11)
    return ledger, materialize_evaluation("syn-clean", raw_root=str(raw), out_root=str(out)), raw / "syn-clean"


@pytest.fixture(scope="module")
def defects_run(tmp_path_factory):
    from pipeline.materialize import materialize_evaluation

    raw, out = tmp_path_factory.mktemp("raw"), tmp_path_factory.mktemp("out")
    ledger = synth.generate(raw / "syn-defects", counties=30, seed=11, defects=0.01)
    return ledger, materialize_evaluation("syn-defects", raw_root=str(raw), out_root=str(out)), raw / "syn-defects"


def test_clean_evaluation_runs_with_every_row_accepted(clean_run):
    ledger, outcome, _ = clean_run
    assert outcome.success, (outcome.failed_checks, outcome.failed_steps)
    rows = ledger["rows"]
    assert 300 * 30 < rows["fund_transactions"] < 400 * 30
    assert 300 * 30 < rows["county_indicators"] < 400 * 30
    assert outcome.summary["rows"]["quarantined"] == 0
    written = sum(v for k, v in rows.items() if k not in ("fund_transactions", "indicator_rows"))
    assert outcome.summary["rows"]["read"] == written
    assert outcome.summary["files"] == {"read": 30 + 11, "rejected": 0, "unrecognised": 0, "missing": 0}
    assert ledger["defects"] == []


def test_clean_fund_totals_match_the_ledger(clean_run):
    ledger, outcome, _ = clean_run
    funds = outcome.summary["funds"]
    assert [funds[m] for m in MEASURES] == [ledger["funds"][m] for m in MEASURES]
    for source, truth in ledger["funds"]["by_source"].items():
        assert [funds["by_source"][source][m] for m in MEASURES] == [truth[m] for m in MEASURES], source
    assert ledger["funds"]["received_fen"] == Decimal(ledger["funds"]["received"]) * 1_000_000


def test_clean_indicator_actuals_match_the_ledger(clean_run):
    ledger, outcome, _ = clean_run
    by_code = outcome.summary["indicators"]["by_code"]
    truth = ledger["indicators"]
    assert {t["source"] for t in truth.values()} == {"bureau", "county_sum", "county_mean", "survey"}
    for code, t in truth.items():
        assert (by_code[code]["actual"], by_code[code]["target"]) == (t["actual"], t["target"]), code
    # One summed county indicator is left uncollected by a county, which voids it.
    assert [c for c, t in truth.items() if t["actual"] is None] == ["training_sessions"]
    assert by_code["training_sessions"]["status"] == "not_collected"


def test_defects_run_succeeds_with_totals_of_the_valid_rows(defects_run):
    ledger, outcome, _ = defects_run
    assert outcome.success, (outcome.failed_checks, outcome.failed_steps)
    funds = outcome.summary["funds"]
    assert [funds[m] for m in MEASURES] == [ledger["funds"][m] for m in MEASURES]
    for source, truth in ledger["funds"]["by_source"].items():
        assert [funds["by_source"][source][m] for m in MEASURES] == [truth[m] for m in MEASURES], source
    kinds = {d["kind"] for d in ledger["defects"]}
    assert kinds == set(synth.ROW_DEFECTS) | {"missing_workbook", "unbooked_transfer"}


def test_every_seeded_defect_is_quarantined_or_a_finding(defects_run):
    ledger, outcome, _ = defects_run
    quarantine = pd.read_csv(outcome.out_dir / "quarantine.csv", dtype=str, keep_default_na=False)
    caught = set(zip(quarantine["file"], quarantine["sheet"], quarantine["row"], quarantine["rule"]))
    findings = pd.concat(
        [
            pd.read_csv(outcome.out_dir / f"{stage}_findings.csv", dtype=str, keep_default_na=False)
            for stage in ("ingest", "reconciliation")
        ]
    )
    found = set(zip(findings["code"], findings["subject"]))
    row_defects = [d for d in ledger["defects"] if d["kind"] in synth.ROW_DEFECTS]
    assert len(row_defects) > 50
    for d in row_defects:
        for row in (d["row"], d.get("twin_row")):
            if row is not None:
                assert (d["file"], d["sheet"], str(row), d["rule"]) in caught, d
    others = [d for d in ledger["defects"] if d["kind"] not in synth.ROW_DEFECTS]
    assert others and all((d["rule"], d["subject"]) in found for d in others)
    quarantined_rows = quarantine[quarantine["row"] != ""].drop_duplicates(["file", "sheet", "row"])
    twins = sum(1 for d in row_defects if "twin_row" in d)
    assert len(quarantined_rows) == len(row_defects) + twins == outcome.summary["rows"]["quarantined"]


def test_ledger_is_configuration_not_a_submission(defects_run):
    ledger, outcome, folder = defects_run
    assert json.loads((folder / synth.LEDGER_FILE).read_text(encoding="utf-8")) == ledger
    inventory = pd.read_csv(outcome.out_dir / "submission_inventory.csv", dtype=str)
    assert inventory["file"].str.match(r"syn-defects/(bureau|county|evaluator)/").all()
    assert len(inventory) == ledger["files"]["county_workbooks"] + 11
