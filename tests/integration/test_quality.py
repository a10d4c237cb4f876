"""Great Expectations suites on the tables of a real Hohhot run: all pass; known corruptions fail the right expectation."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pipeline.evaluation import find
from pipeline.quality.expectations import quality_rows, run_suites, suites
from pipeline.store import TABLES, read_table
from tests.support import HOHHOT, RAW, ROOT

# 到位 by source in the Hohhot seed: 10000 + 5000 + 9710 + 500 + 2265 万元, in 分.
HOHHOT_RECEIVED_FEN = 27_475_000_000
COUNTY_RECEIVED_FEN = 500_000_000


@pytest.fixture(scope="module")
def evaluation():
    return find(RAW, HOHHOT)


@pytest.fixture(scope="module")
def tables(hohhot_run) -> dict:
    return {path.stem: read_table(path) for path in sorted((hohhot_run.out_dir / TABLES).glob("*.parquet"))}


@pytest.fixture(scope="module")
def clean(tables, evaluation, tmp_path_factory):
    out = tmp_path_factory.mktemp("gx-clean")
    return out, run_suites(tables, out, evaluation)


@pytest.fixture(scope="module")
def corrupted(tables, evaluation, tmp_path_factory):
    """A negative received, a duplicated payment id, an unexplained negative payment, float money, a score above its points."""
    t = dict(tables)
    by_source = t["funds_by_source"].copy()
    by_source.loc[by_source["key"] == "county", "received"] = -100
    t["funds_by_source"] = by_source
    payments = t["payments"].copy()
    payments.loc[1, "payment_id"] = payments.loc[0, "payment_id"]
    payments.loc[2, "amount_fen"] = -5
    t["payments"] = payments
    county_payments = t["county_payments"].copy()
    county_payments["amount_fen"] = county_payments["amount_fen"].astype(float)
    t["county_payments"] = county_payments
    scores = t["indicator_scores"].copy()
    first = (scores["framework"] == "third_party") & (scores["code"] == "basis_sufficiency")
    scores.loc[first, "score"] = "2.50"  # points 2.00
    t["indicator_scores"] = scores
    out = tmp_path_factory.mktemp("gx-corrupt")
    return out, {r.table: r for r in run_suites(t, out, evaluation)}


def test_every_expected_table_has_a_suite_that_passes_on_hohhot(clean):
    out, results = clean
    by_table = {r.table: r for r in results}
    assert {
        "payments",
        "receipts",
        "fund_plan",
        "county_payments",
        "transfers",
        "funds_by_source",
        "funds_by_subproject",
        "funds_cells",
        "indicator_scores",
        "dimension_scores",
    } <= set(by_table)
    failed = {r.table: r.failures for r in results if not r.success}
    assert failed == {}
    for r in results:
        assert r.statistics["evaluated"] == r.statistics["successful"] and r.statistics["unsuccessful"] == 0
    assert by_table["payments"].statistics["evaluated"] == 11
    assert by_table["funds_cells"].statistics["evaluated"] == 23


def test_fund_sums_are_asserted_as_exact_integers_of_fen(tables, evaluation):
    cells = next(s for s in suites(tables, evaluation) if s.table == "funds_cells")
    received = next(
        e
        for e in cells.expectations
        if e.type == "expect_column_integer_sum_to_be_between" and e.kwargs["column"] == "received"
    )
    assert received.kwargs["min_value"] == received.kwargs["max_value"] == HOHHOT_RECEIVED_FEN
    assert type(received.kwargs["min_value"]) is int


def test_data_docs_are_written_for_every_validation(clean):
    out, results = clean
    assert all(r.docs_index == "data_docs/index.html" for r in results)
    index = out / "data_docs" / "index.html"
    assert index.is_file()
    for r in results:
        page = out / r.docs_page
        assert page.is_file() and page.suffix == ".html"
        assert r.docs_page.startswith(f"data_docs/validations/{r.name}/")
    assert "funds_cells_suite" in index.read_text(encoding="utf-8")


def test_results_are_json_and_the_appendix_rows_pass(clean):
    _, results = clean
    json.dumps([r.to_dict() for r in results], ensure_ascii=False)
    rows = quality_rows(results)
    assert list(rows.columns) == ["check", "passed", "detail"]
    assert len(rows) == len(results) and rows["passed"].all()
    assert rows.set_index("check").loc["funds_cells:expectations", "detail"].startswith("23/23")


def _failed(result) -> dict[tuple, dict]:
    return {(f["expectation"], json.dumps(f["kwargs"], sort_keys=True)): f for f in result.failures}


def test_negative_received_fails_the_non_negative_total_and_every_level_sum(corrupted):
    _, by_table = corrupted
    src = by_table["funds_by_source"]
    assert not src.success and src.statistics["unsuccessful"] == 1
    (f,) = src.failures
    assert f["expectation"] == "expect_column_integer_values_to_be_between"
    assert f["kwargs"] == {"column": "received", "min_value": 0, "max_value": None}
    assert f["observed"] == [-100] and f["rows"] == [{"received": -100, "key": "county"}]
    # Every level now disagrees with the by-source total, by exactly the 分 that changed.
    expected_total = HOHHOT_RECEIVED_FEN - COUNTY_RECEIVED_FEN - 100
    for level in ("funds_cells", "funds_by_subproject", "funds_by_group", "funds_by_county"):
        (f,) = by_table[level].failures
        assert f["expectation"] == "expect_column_integer_sum_to_be_between"
        assert f["kwargs"] == {"column": "received", "min_value": expected_total, "max_value": expected_total}
        assert f["observed"] == HOHHOT_RECEIVED_FEN and type(f["observed"]) is int


def test_duplicated_payment_id_and_unexplained_negative_fail_with_their_rows(corrupted):
    _, by_table = corrupted
    failures = _failed(by_table["payments"])
    assert len(failures) == 2
    dup = failures[("expect_column_values_to_be_unique", '{"column": "payment_id"}')]
    assert dup["observed"] == ["ZC2022-001", "ZC2022-001"] and dup["unexpected_count"] == 2
    assert [r["row"] for r in dup["rows"]] == [3, 4]
    assert {r["file"] for r in dup["rows"]} == {"2023-hohhot-pes/bureau/finance/payments.csv"}
    reversal = failures[("expect_column_values_to_not_be_null", '{"column": "reverses"}')]
    assert reversal["where"] == ["amount_fen", "<", 0]
    assert reversal["unexpected_count"] == 1 and reversal["rows"][0]["row"] == 5


def test_float_money_fails_the_integer_type(corrupted):
    _, by_table = corrupted
    (f,) = by_table["county_payments"].failures
    assert f["expectation"] == "expect_column_values_to_be_in_type_list"
    assert f["kwargs"]["column"] == "amount_fen" and f["observed"] == "float64"


def test_score_above_points_fails_compared_as_numbers(corrupted):
    _, by_table = corrupted
    (f,) = by_table["indicator_scores"].failures
    assert f["expectation"] == "expect_column_pair_values_a_to_be_greater_than_b"
    assert f["observed"] == [["2.00", "2.50"]]
    assert f["rows"] == [{"points": "2.00", "framework": "third_party", "code": "basis_sufficiency", "score": "2.50"}]


def test_untouched_tables_still_pass_and_the_appendix_names_the_observed_values(corrupted):
    out, by_table = corrupted
    failing = {t for t, r in by_table.items() if not r.success}
    assert failing == {
        "funds_by_source",
        "funds_cells",
        "funds_by_subproject",
        "funds_by_group",
        "funds_by_county",
        "payments",
        "county_payments",
        "indicator_scores",
    }
    rows = quality_rows(list(by_table.values())).set_index("check")
    assert not rows.loc["funds_by_source:expectations", "passed"]
    assert "-100" in rows.loc["funds_by_source:expectations", "detail"]
    assert "ZC2022-001" in rows.loc["payments:expectations", "detail"]
    assert "observed 27475000000" in rows.loc["funds_cells:expectations", "detail"]
    assert (out / "data_docs" / "index.html").is_file()
    assert (out / by_table["payments"].docs_page).is_file()


def test_importing_the_package_does_not_import_great_expectations():
    code = "import sys, pipeline.quality; assert 'great_expectations' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_the_sidecar_imports_great_expectations_in_its_own_process_and_a_dead_one_is_not_needed():
    code = (
        "import os, sys, time\n"
        "from pipeline import sidecar\n"
        "assert sidecar.submit(os.getpid).result() == os.getpid()  # not started: runs here\n"
        "sidecar.start(); sidecar.start()\n"
        "pid = sidecar.submit(os.getpid).result()\n"
        "assert pid != os.getpid() and sidecar.submit(os.getpid).result() == pid  # one process\n"
        "assert sidecar.submit(sidecar.loaded).result() == ['great_expectations']\n"
        "sidecar.warm('weasyprint')\n"
        "assert sidecar.submit(sidecar.loaded).result() == ['great_expectations', 'weasyprint']\n"
        "assert 'great_expectations' not in sys.modules and 'weasyprint' not in sys.modules\n"
        "try:\n"
        "    sidecar.submit(int, 'x').result()\n"
        "    raise AssertionError('the error of the work must reach the caller')\n"
        "except ValueError:\n"
        "    pass\n"
        "pending = sidecar.submit(time.sleep, 1)\n"
        "os.kill(pid, 9)\n"
        "pending.result()  # the sidecar died under it: done here instead\n"
        "assert not sidecar.running()\n"
        "assert sidecar.submit(os.getpid).result() == os.getpid()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True, timeout=120
    )
    assert "sidecar process died running sleep" in done.stderr


def test_a_long_value_set_cut_to_the_values_present_gives_the_same_outcomes(tables, evaluation, tmp_path, monkeypatch):
    """GX is handed only the part of a long register that the column holds; every outcome stays the same."""
    from pipeline.quality import expectations

    t = dict(tables)
    payments = t["payments"].copy()
    payments.loc[0, "county_code"] = "159999"  # in no register
    payments.loc[1, "subproject_code"] = "X-99"
    t["payments"] = payments
    receipts = t["receipts"].copy()
    receipts["source_code"] = "nowhere"  # no value of the column is in the set
    t["receipts"] = receipts
    whole = run_suites(t, tmp_path / "whole", evaluation)
    monkeypatch.setattr(expectations, "LONG_VALUE_SET", 0)  # every value set is cut
    cut = run_suites(t, tmp_path / "cut", evaluation)

    def outcome(results):
        return [{k: v for k, v in r.to_dict().items() if k not in ("docs_page", "docs_index")} for r in results]

    assert outcome(cut) == outcome(whole)
    failed = {(r.table, f["kwargs"]["column"]) for r in whole for f in r.failures if "column" in f["kwargs"]}
    assert {("payments", "county_code"), ("payments", "subproject_code"), ("receipts", "source_code")} <= failed
    assert quality_rows(cut).equals(quality_rows(whole))


def _outcome(results) -> list[dict]:
    return [
        {k: v for k, v in r.to_dict().items() if k not in ("docs_page", "docs_index", "ran_ahead")} for r in results
    ]


def _stored(tables: dict, folder, names) -> dict:
    """The tables written as Parquet files, as the steps store them; their paths by name."""
    from pipeline.store import write_table

    return {name: write_table(folder, name, tables[name]) for name in names}


SUBMISSIONS = ["subprojects", "fund_plan", "receipts", "payments", "carry_forwards", "recoveries", "transfers"]
FUNDS = ["funds_by_source", "funds_by_subproject", "funds_by_group", "funds_by_county", "funds_cells"]
SCORES = ["indicator_scores", "dimension_scores"]


@pytest.fixture
def counted(monkeypatch):
    """Count the suites GX runs."""
    from pipeline.quality import expectations

    ran: list[str] = []
    real = expectations._Session.run

    def run(self, suite, tables):
        ran.append(suite.table)
        return real(self, suite, tables)

    monkeypatch.setattr(expectations._Session, "run", run)
    monkeypatch.setattr(expectations, "_held", [])
    return ran


def _gx_tables(tables: dict, stored_dir) -> dict:
    """What data_quality hands GX: the submission kinds read back from their files, the result tables."""
    names = [n for n in SUBMISSIONS + FUNDS + SCORES if n in tables]
    paths = _stored(tables, stored_dir, names)
    return {name: read_table(path) for name, path in paths.items()}, paths


def test_suites_handed_over_early_are_not_run_again_and_the_outcome_is_that_of_one_pass(
    tables, evaluation, tmp_path, counted
):
    """Submission tables, then fund levels, then scores, as their steps store them: data_quality runs none again."""
    from pipeline.quality.expectations import advance_suites

    t, paths = _gx_tables(tables, tmp_path / "set")
    one_pass = run_suites(t, tmp_path / "one", evaluation)
    counted.clear()
    out = tmp_path / "early"
    assert advance_suites("run-1/ev", {n: paths[n] for n in SUBMISSIONS}, out, evaluation) == len(SUBMISSIONS)
    assert advance_suites("run-1/ev", {n: paths[n] for n in FUNDS}, out, evaluation) == len(SUBMISSIONS + FUNDS)
    assert advance_suites("run-1/ev", {n: paths[n] for n in SCORES}, out, evaluation) == len(t)
    assert len(counted) == len(t)
    early = run_suites(t, out, evaluation, "run-1/ev")
    assert len(counted) == len(t), "data_quality ran suites that had run already"
    assert all(r.ran_ahead for r in early) and not any(r.ran_ahead for r in one_pass)
    assert _outcome(early) == _outcome(one_pass)
    assert (out / "data_docs" / "index.html").is_file()
    assert all((out / r.docs_page).is_file() for r in early)


def test_suites_started_on_other_tables_or_for_another_run_are_run_again(tables, evaluation, tmp_path, counted):
    from pipeline.quality.expectations import advance_suites

    t, paths = _gx_tables(tables, tmp_path / "set")
    out = tmp_path / "out"
    advance_suites("run-1/ev", {n: paths[n] for n in SUBMISSIONS}, out, evaluation)
    changed = dict(t)
    payments = t["payments"].copy()
    payments.loc[2, "amount_fen"] = -5  # a different table than the one the early suites saw
    changed["payments"] = payments
    counted.clear()
    results = {r.table: r for r in run_suites(changed, out, evaluation, "run-1/ev")}
    assert len(counted) == len(t), "the early session was kept although a table differs"
    assert not results["payments"].success

    advance_suites("run-1/ev", {n: paths[n] for n in SUBMISSIONS}, out, evaluation)
    counted.clear()
    run_suites(t, out, evaluation, "run-2/ev")
    assert len(counted) == len(t), "another run's session was used"


def test_data_docs_written_later_name_the_same_pages(tables, evaluation, tmp_path, counted):
    """run_suites(docs=False) returns outcomes naming pages build_docs then writes; without the session, all again."""
    from pipeline.quality.expectations import build_docs

    t, _ = _gx_tables(tables, tmp_path / "set")
    out = tmp_path / "later"
    results = run_suites(t, out, evaluation, "run-1/ev", docs=False)
    assert not (out / "data_docs" / "index.html").exists()
    build_docs("run-1/ev", t, out, evaluation)
    assert len(counted) == len(t)
    assert (out / results[0].docs_index).is_file()
    assert all((out / r.docs_page).is_file() for r in results)
    other = tmp_path / "elsewhere"
    counted.clear()
    build_docs("run-2/ev", t, other, evaluation)  # no session of that run in this process: run again, with docs
    assert len(counted) == len(t)
    assert (other / "data_docs" / "index.html").is_file()


def test_sidecar_work_submitted_after_next_runs_behind_the_next_submission_or_when_wanted(tmp_path):
    log = tmp_path / "order.txt"
    code = (
        "import os, time\n"
        "from pathlib import Path\n"
        "from pipeline import sidecar\n"
        f"log = Path({str(log)!r})\n"
        "later = sidecar.submit(os.getpid, after_next=True)\n"
        "assert later.result() == os.getpid()  # no sidecar: runs here, when wanted\n"
        "sidecar.start()\n"
        "pid = sidecar.submit(os.getpid).result()\n"
        "docs = sidecar.submit(log.write_text, 'docs\\n', after_next=True)\n"
        "time.sleep(0.5)\n"
        "assert not log.exists(), 'deferred work ran before the next submission'\n"
        "pdf = sidecar.submit(os.getpid)\n"
        "assert pdf.result() == pid\n"
        "docs.result()\n"
        "assert log.read_text() == 'docs\\n'\n"
        "alone = sidecar.submit(os.getpid, after_next=True)\n"
        "assert alone.result() == pid  # wanted before any other work: handed over then\n"
        "log.unlink()\n"
        "sidecar.submit(log.write_text, 'at exit\\n', after_next=True)  # no submission after it, never awaited\n"
        "sidecar.shutdown()\n"
        "assert log.read_text() == 'at exit\\n', 'deferred work was dropped at exit'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


def test_by_default_gx_checks_no_submission_table_again_and_each_takes_its_contracts_outcome(hohhot_run):
    """pandera checked every submission row, blocking; GX runs on the result tables (settings default 0)."""
    from pipeline.defs.quality import RESULT_TABLES, SUBMISSION_TABLES

    rows = read_table(hohhot_run.out_dir / TABLES / "data_quality.parquet").set_index("check")
    for t in SUBMISSION_TABLES:
        row = rows.loc[f"{t}:expectations"]
        assert row["detail"].startswith("未另行运行 Great Expectations：报送表默认不另行复核"), row["detail"]
        assert bool(row["passed"]) == bool(rows.loc[f"{t}:contract", "passed"])
    for t in RESULT_TABLES:
        assert "项期望通过" in rows.loc[f"{t}:expectations", "detail"]
    validations = hohhot_run.out_dir / "data_docs" / "validations"
    pages = {p.relative_to(validations).parts[0] for p in validations.rglob("*.html")}
    assert pages == {f"{t}_suite" for t in RESULT_TABLES}


def test_an_evaluation_can_ask_gx_to_check_submission_tables_up_to_a_size(tmp_path, monkeypatch, evaluation):
    import dataclasses

    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.defs import quality
    from pipeline.defs.resources import PipelinePaths
    from pipeline.quality.expectations import not_run_row

    sizes = {t: 10 * i for i, t in enumerate(quality.SUBMISSION_TABLES)}
    for t, n in sizes.items():
        pq.write_table(pa.table({"x": list(range(n))}), tmp_path / f"{t}.parquet")
    monkeypatch.setattr(quality, "stored", lambda out_root, evaluation_id, run_id, t: tmp_path / f"{t}.parquet")
    paths = PipelinePaths(raw_root=str(RAW), out_root=str(tmp_path))

    def split(limit: int) -> tuple[set, dict]:
        settings = evaluation.settings.model_copy(update={"expectations_max_submission_rows": limit})
        ev = dataclasses.replace(evaluation, config=evaluation.config.model_copy(update={"settings": settings}))
        checked, not_checked = quality.submission_tables(paths, ev, "run-1")
        assert set(checked) | set(not_checked) == set(sizes) and not set(checked) & set(not_checked)
        return set(checked), not_checked

    assert split(0) == (set(), sizes)  # the default: none again, whatever its size (an empty table too)
    checked, not_checked = split(30)
    assert checked == {t for t, n in sizes.items() if n <= 30}
    assert not_checked == {t: n for t, n in sizes.items() if n > 30}
    assert "超过 expectations_max_submission_rows（30）" in not_run_row("payments", 40, 30, True)["detail"]
    assert "默认不另行复核" in not_run_row("payments", 40, 0, False)["detail"]
