"""A table's input files in its metadata: listed one by one while few, always counted and digested."""

from __future__ import annotations

import hashlib

from pipeline.defs.metadata import INPUTS_LISTED, input_metadata


def hashes(n: int) -> dict[str, str]:
    return {f"ev/county/{i:04d}.xlsx": hashlib.sha256(str(i).encode()).hexdigest() for i in range(n)}


def test_few_inputs_are_listed_with_their_count_and_digest():
    h = hashes(INPUTS_LISTED)
    meta = input_metadata(dict(reversed(h.items())))  # the order given does not matter
    assert meta["input_sha256"].value == dict(reversed(h.items()))
    assert meta["input_files"].value == INPUTS_LISTED
    lines = "".join(f"{f}\t{d}\n" for f, d in sorted(h.items()))
    assert meta["input_digest"].value == hashlib.sha256(lines.encode()).hexdigest()


def test_many_inputs_are_counted_and_digested_not_listed():
    h = hashes(INPUTS_LISTED + 1)
    meta = input_metadata(h)
    assert "input_sha256" not in meta
    assert meta["input_files"].value == INPUTS_LISTED + 1
    changed = {**h, "ev/county/0007.xlsx": "0" * 64}
    assert input_metadata(changed)["input_digest"].value != meta["input_digest"].value
