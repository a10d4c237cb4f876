"""A nightly run that re-reads only what changed gives the same bytes as a cold run on the same inputs.

The read cache (``OUT/.cache/<id>/read/``) keeps each file's parsed tables by content, limits and
reader version. These tests change one county workbook as a clerk's resubmission would, and damage a
cache entry, and compare every hashed output with a run that starts from nothing.
"""

import json
import shutil

import pytest

from pipeline.manifest import MANIFEST
from pipeline.materialize import materialize_evaluation
from pipeline.tools import bench, synth

EVALUATION = "2023-incremental-small"


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental") / "raw"
    synth.generate(root / EVALUATION, counties=12, subprojects=6, indicators=8, seed=11, evaluation_id=EVALUATION)
    return root


def _outputs(out_root):
    return json.loads((out_root / EVALUATION / MANIFEST).read_text(encoding="utf-8"))["outputs"]


def _entries(out_root):
    return {p.name: p.stat().st_mtime_ns for p in (out_root / ".cache" / EVALUATION / "read").glob("*.read")}


def _run(raw_root, out_root):
    outcome = materialize_evaluation(EVALUATION, raw_root=str(raw_root), out_root=str(out_root))
    assert outcome.success, (outcome.failed_steps, outcome.failed_checks)


@pytest.fixture(scope="module")
def nightly(raw, tmp_path_factory):
    """A warm out folder run before and after one county's change, and a cold run on the changed inputs."""
    base = tmp_path_factory.mktemp("nightly")
    warm, cold = base / "warm", base / "cold"
    _run(raw, warm)
    before = _entries(warm)
    changed = bench._touch_one_county(raw / EVALUATION)  # one payment +0.01 万元
    _run(raw, warm)
    after = _entries(warm)
    _run(raw, cold)
    return {"warm": warm, "cold": cold, "before": before, "after": after, "changed": changed}


def test_one_changed_county_rereads_that_file_alone_and_matches_a_cold_run(nightly):
    before, after, warm, cold = nightly["before"], nightly["after"], nightly["warm"], nightly["cold"]
    assert len(after) == len(before)
    new = set(after) - set(before)
    assert len(new) == 1, "only the changed workbook is read again"
    assert all(after[name] == before[name] for name in set(after) & set(before)), "unchanged entries are reused"
    assert _outputs(warm) == _outputs(cold)
    assert (warm / EVALUATION / "summary.json").read_bytes() == (cold / EVALUATION / "summary.json").read_bytes()
    assert nightly["changed"].name in (warm / EVALUATION / "submission_inventory.csv").read_text(encoding="utf-8-sig")


def test_a_damaged_cache_entry_is_detected_and_the_file_read_again(raw, nightly):
    warm, cold = nightly["warm"], nightly["cold"]
    cache = warm / ".cache" / EVALUATION / "read"
    victims = sorted(cache.glob("*.read"))[:2]
    victims[0].write_bytes(victims[0].read_bytes()[:-100])  # truncated
    data = bytearray(victims[1].read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte
    victims[1].write_bytes(bytes(data))
    _run(raw, warm)
    assert _outputs(warm) == _outputs(cold)
    for v in victims:  # rewritten from a fresh read: identical to the cold run's entry
        assert v.read_bytes() == (cold / ".cache" / EVALUATION / "read" / v.name).read_bytes()


def test_changed_limits_invalidate_every_entry(raw, nightly, tmp_path):
    out = nightly["cold"]
    before = set(_entries(out))
    folder = tmp_path / "raw"
    shutil.copytree(raw, folder)
    config = folder / EVALUATION / "evaluation.yaml"
    text = config.read_text(encoding="utf-8")
    assert "\nsettings:\n" in text and "limits:" not in text
    config.write_text(text.replace("\nsettings:\n", "\nsettings:\n  limits:\n    max_rows: 500000\n"), encoding="utf-8")
    _run(folder, out)
    after = set(_entries(out))
    assert len(after) == len(before) and before.isdisjoint(after), "an entry read under other limits is never reused"
