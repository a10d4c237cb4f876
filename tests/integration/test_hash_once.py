"""Each input file is read for hashing once per run: the inventory, the data version and the manifest ask
for the same files, and an unchanged file (same stamp) is not read again; the reader checks the stamp."""

import collections
import os

from pipeline import files
from tests.support import HOHHOT, RAW


def test_a_run_hashes_every_input_file_exactly_once(tmp_path, monkeypatch):
    from pipeline.materialize import materialize_evaluation

    counts: collections.Counter[str] = collections.Counter()
    real = files._digest

    def counting(fh):
        counts[os.readlink(f"/proc/self/fd/{fh.fileno()}")] += 1
        return real(fh)

    monkeypatch.setattr(files, "_digest", counting)
    monkeypatch.setattr(files, "_HASHED", {})  # as in a fresh run process
    assert materialize_evaluation(HOHHOT, raw_root=str(RAW), out_root=str(tmp_path)).success
    inputs = {str(p.resolve()) for p in (RAW / HOHHOT).rglob("*") if p.is_file()}
    assert set(counts) >= inputs  # every input was hashed …
    assert {p: n for p, n in counts.items() if p in inputs and n != 1} == {}  # … once
