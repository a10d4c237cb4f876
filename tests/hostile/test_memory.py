"""Bombs stay small: the reader rejects them from the zip directory and a streaming pass, never by allocating.

Each bomb is read by ``read_file`` in a fresh process (no worker pool, so the limit checks alone are
measured), and that process's peak RSS (``VmHWM``: the high-water mark of its own memory since it
started, unlike ``ru_maxrss``, which counts the forking parent's pages too) must stay under a fixed
ceiling: far below what reading the bomb whole would take (the million-row sheet took 6 GB before
limits, the 4 GiB CSV 4 GiB).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.hostile.corpus import COUNTY, RECEIPTS, billion_laughs, inflated_part, million_rows, sparse_csv, xfd_cell
from tests.support import ROOT

CEILING_MB = 400
READ_ONE = """
import sys
from pathlib import Path
from pipeline.ingest.read import SourceFile, read_file
typ, sub = sys.argv[2], sys.argv[3]
sf = SourceFile(path=Path(sys.argv[1]), rel="bomb", sha256="", submitter_type=typ, submitter=sub)
read_file(sf)
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(sf.problems[0].rule if sf.problems else "accepted", int(hwm.split()[1]) // 1024)
"""


def peak_rss_mb(args: list[str]) -> tuple[float, str]:
    proc = subprocess.run(
        [sys.executable, "-c", READ_ONE, *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    outcome, mb = proc.stdout.split()
    return float(mb), outcome


BOMBS = {
    "million_rows": (million_rows, COUNTY, "county", "150102", "resource_limit"),
    "inflated_part": (inflated_part, COUNTY, "county", "150102", "resource_limit"),
    "xfd_cell": (xfd_cell, COUNTY, "county", "150102", "resource_limit"),
    "billion_laughs": (billion_laughs("sheet"), COUNTY, "county", "150102", "xml_dtd"),
    "sparse_4g_csv": (sparse_csv(4 << 30), RECEIPTS, "bureau", "finance", "resource_limit"),
}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_a_bomb_is_rejected_under_a_fixed_rss(tmp_path, name):
    build, rel, typ, sub, rule = BOMBS[name]
    build(tmp_path)
    rss, outcome = peak_rss_mb([str(tmp_path / rel), typ, sub])
    assert outcome == rule
    assert rss < CEILING_MB, f"{name}: peak RSS {rss:.0f} MB"
