"""Hostile files inside a real Hohhot evaluation, through the whole pipeline (`python -m pipeline run`).

One run carries four of them at once, since each touches a different submitter: a workbook bomb
in 150124's place, a link to /etc/passwd in 150125's, an uncalculated formula in 150102's
payments, and an undeclared department folder named like a spreadsheet formula. The run must
succeed, reject or quarantine each with its message, keep every other figure, and never let a
byte of the linked file or a formula-named path into an output.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.hostile.corpus import HOHHOT, openpyxl_formula, undeclared_department, xfd_cell
from tests.support import ROOT

ID = "2023-hohhot-pes"


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile-run")
    raw, out = tmp / "raw", tmp / "out"
    folder = raw / ID
    shutil.copytree(HOHHOT, folder)
    bomb = tmp / "bomb"
    xfd_cell(bomb)
    shutil.copyfile(bomb / "county" / "150102.xlsx", folder / "county" / "150124.xlsx")
    (folder / "county" / "150125.xlsx").unlink()
    os.symlink("/etc/passwd", folder / "county" / "150125.xlsx")
    (folder / "county" / "150102.xlsx").unlink()
    openpyxl_formula(folder)
    undeclared_department('=HYPERLINK("x")')(folder)
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "run", "--raw", str(raw), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return proc, out / ID


def test_the_run_succeeds_and_says_what_it_set_aside(hostile_run):
    proc, out = hostile_run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["files"] == {"read": 21, "rejected": 2, "unrecognised": 1, "missing": 0}
    q = pd.read_csv(out / "quarantine.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    rules = set(zip(q["file"], q["rule"]))
    assert {
        (f"{ID}/county/150124.xlsx", "resource_limit"),
        (f"{ID}/county/150125.xlsx", "not_regular_file"),
        (f"{ID}/county/150102.xlsx", "formula_uncalculated"),
        (f'{ID}/bureau/=HYPERLINK("x")/receipts.csv', "unknown_department"),
    } <= rules


def test_other_counties_and_the_city_keep_their_figures(hostile_run):
    _, out = hostile_run
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["funds"]["planned"] == "30790.00"  # the fund plan is the bureau's, untouched
    assert summary["funds"]["by_source"]["central"]["received"] == "10000.00"
    counties = pd.read_csv(out / "funds_by_county.csv", dtype=str, encoding="utf-8-sig").set_index("county_code")
    # 150102's other payments stand; its formula payment (96.40 万元) is quarantined, not read as 0.
    assert "150102" in counties.index


def test_nothing_from_the_linked_file_reaches_any_output(hostile_run):
    _, out = hostile_run
    passwd = Path("/etc/passwd").read_text().splitlines()[0].split(":")[0]  # "root"
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".csv", ".json", ".html"):
            assert f"{passwd}:x:" not in path.read_text(encoding="utf-8", errors="replace"), path
    with duckdb.connect(str(out / "pipeline.duckdb"), read_only=True) as con:
        files = {r[0] for r in con.execute("SELECT DISTINCT file FROM county_payments").fetchall()}
    assert f"{ID}/county/150125.xlsx" not in files


def test_no_output_file_is_named_from_the_file_system(hostile_run):
    _, out = hostile_run
    names = [p.name for p in out.rglob("*")]
    assert not any(n.startswith(("=", "+", "-", "@")) for n in names), names
    assert sorted(p.name for p in (out / "quarantine").iterdir()) == [
        "150102.csv",
        "150124.csv",
        "150125.csv",
        "未识别.csv",
    ]
