"""Bombs stay small: the reader rejects them from the zip directory and a streaming pass, never by allocating.

Each bomb is read by ``read_file`` in a fresh process (no worker pool, so the limit checks alone are
measured), and that process's peak RSS must stay under a fixed ceiling: far below what reading
the bomb whole would take (the million-row sheet took 6 GB before limits, the 4 GiB CSV 4 GiB).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile.corpus import COUNTY, RECEIPTS, billion_laughs, inflated_part, million_rows, sparse_csv, xfd_cell

ROOT = Path(__file__).resolve().parents[2]
CEILING_MB = 400
READ_ONE = """
import sys
from pathlib import Path
from pipeline.ingest.read import SourceFile, read_file
typ, sub = sys.argv[2], sys.argv[3]
sf = SourceFile(path=Path(sys.argv[1]), rel="bomb", sha256="", submitter_type=typ, submitter=sub)
read_file(sf)
print(sf.problems[0].rule if sf.problems else "accepted")
"""


def peak_rss_mb(args: list[str]) -> tuple[float, str]:
    proc = subprocess.Popen([sys.executable, "-c", READ_ONE, *args], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return usage.ru_maxrss / 1024, out.strip()


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
