"""A run killed at any moment (kill -9) leaves the previous complete output set; two runs never interleave.

Between runs one indicator actual changes, so a set mixing two runs would be caught: after every
kill, ``OUT/<id>`` must be exactly what its ``manifest.json`` lists (every hashed output present
with its SHA-256, nothing else beside the unhashed ones), and ``pipeline.duckdb`` must open and
give ``summary.json``'s fund totals. The kill points are seeded, spread over a whole run.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import duckdb

from pipeline.manifest import BOOKKEEPING, UNHASHED
from tests.support import ROOT

HOHHOT = "2023-hohhot-pes"
RUNS = 20
AFTER_PUBLISH_EVERY = 5  # every fifth kill waits for the publish, the others fall at seeded moments
UNHASHED_TOPS = {*UNHASHED, *BOOKKEEPING}  # listed without a hash, or bookkeeping: every other file is an output
ACTUALS = Path("bureau/employment/indicator_actuals.csv")


def start(raw: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "run", "--raw", str(raw), "--out", str(out), "--evaluation", HOHHOT],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def change_an_actual(raw: Path, i: int) -> None:
    path = raw / HOHHOT / ACTUALS
    lines = path.read_text(encoding="utf-8").splitlines()
    cells = lines[2].split(",")
    cells[2] = str(1000 + i)
    lines[2] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def assert_complete(out: Path) -> dict:
    """The published set is one run's, whole: its manifest, its hashes, its database."""
    link = out / HOHHOT
    assert link.is_symlink(), "OUT/<id> must be a link to a complete set"
    folder = link.resolve()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for rel, digest in manifest["outputs"].items():
        assert hashlib.sha256((folder / rel).read_bytes()).hexdigest() == digest, rel
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    extra = {p for p in present - set(manifest["outputs"]) if p.split("/", 1)[0] not in UNHASHED_TOPS}
    assert not extra, extra
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    with duckdb.connect(str(folder / "pipeline.duckdb"), read_only=True) as con:
        planned, received, spent = con.execute(
            "SELECT SUM(planned), SUM(received), SUM(spent) FROM funds_by_source"
        ).fetchone()
    funds = summary["funds"]
    assert [Decimal(planned) / 1_000_000, Decimal(received) / 1_000_000, Decimal(spent) / 1_000_000] == [
        Decimal(funds["planned"]),
        Decimal(funds["received"]),
        Decimal(funds["spent"]),
    ]
    return manifest


def test_killed_runs_leave_a_complete_set_and_the_next_run_recovers(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    shutil.copytree(ROOT / "raw" / HOHHOT, raw / HOHHOT)
    began = time.monotonic()
    first = start(raw, out)
    assert first.wait(timeout=600) == 0, first.stderr.read()
    full = time.monotonic() - began
    published = {assert_complete(out)["input_fingerprint"]}
    rng = random.Random(20261130)
    for i in range(RUNS):
        change_an_actual(raw, i)
        current = (out / HOHHOT).resolve()
        proc = start(raw, out)
        if i % AFTER_PUBLISH_EVERY == AFTER_PUBLISH_EVERY - 1:
            # Right after the publish (the link moved), while the run still cleans up: on a loaded machine
            # a run can outlast the first one's time, so a random moment alone may never land here.
            deadline = time.monotonic() + 600
            while (out / HOHHOT).resolve() == current and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
        else:
            time.sleep(rng.uniform(0.2, full * 1.05))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        published.add(assert_complete(out)["input_fingerprint"])
    # Some kills came after the publish, most before: both leave a complete set, and each publish was one
    # run's whole set (a new input fingerprint).
    assert len(published) >= 1 + RUNS // AFTER_PUBLISH_EVERY
    change_an_actual(raw, RUNS)
    before = (out / HOHHOT).resolve().name
    last = start(raw, out)
    assert last.wait(timeout=600) == 0, last.stderr.read()
    manifest = assert_complete(out)
    assert manifest["input_fingerprint"] not in published - {manifest["input_fingerprint"]}
    # The next run removed the sets the killed runs left behind; the set it replaced stays until the run after.
    assert {p.name for p in (out / ".sets" / HOHHOT).iterdir()} == {(out / HOHHOT).resolve().name, before}


def test_two_runs_of_one_evaluation_do_not_interleave(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    shutil.copytree(ROOT / "raw" / HOHHOT, raw / HOHHOT)
    a = start(raw, out)
    time.sleep(3)  # the first run holds the lock by now (it takes it before the first step)
    b = start(raw, out)
    assert b.wait(timeout=120) == 2
    assert "正在由另一个运行处理" in b.stderr.read()
    assert a.wait(timeout=600) == 0
    assert_complete(out)
