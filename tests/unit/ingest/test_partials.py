"""Validation partials: a kind put together from per-file parts equals the kind validated in one batch.

And the store keeps them by content: a damaged entry is recomputed, and the rule across files (unique
ids) still sees the ids of files whose results were kept.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as arrow
import pytest
from pandera.typing import Series

from pipeline import fieldtypes
from pipeline.contract import KINDS, Kind, Submission, _f
from pipeline.evaluation import find
from pipeline.ingest import partials
from pipeline.ingest.read import RawTable, SourceFile
from pipeline.ingest.stage import read_all, source_files
from pipeline.ingest.validate import Codes, check_rows, unique_ids, validate_kind
from tests.support import HOHHOT, RAW


@pytest.fixture(scope="module")
def hohhot():
    ev = find(RAW, HOHHOT)
    raw = read_all(ev, source_files(ev, RAW))
    codes = Codes.for_evaluation(ev, [], ev.indicator_codes)
    codes.subproject = (
        validate_kind(KINDS["subprojects"], raw["subprojects"], ev, codes).accepted["subproject_code"].tolist()
    )
    return ev, raw, codes


def _by_file(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows grouped by file in the order files first appear, each file's rows in their order."""
    order = pd.Index(pd.unique(frame["file"])).get_indexer(frame["file"])
    return frame.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)


@pytest.mark.parametrize("name", [n for n in KINDS if n != "subprojects"])
def test_a_kind_put_together_from_its_files_equals_the_batch(hohhot, name, tmp_path, monkeypatch):
    ev, raw, codes = hohhot
    kind, tables = KINDS[name], raw[name]
    if not tables:
        pytest.skip(f"Hohhot has no {name}")
    batch = check_rows(kind, tables, ev, codes)
    files = list({id(t.file): t.file for t in tables}.values())
    store = partials.Store(tmp_path / "whole", ev, codes)
    made = store.write(kind, batch, files).parts
    [pack] = partials.Store(tmp_path / "whole", ev, codes).packs(kind)
    monkeypatch.setattr(partials, "BATCH_ROWS", 7)  # written a few rows at a time, as a national kind is
    partials.Store(tmp_path / "batches", ev, codes).write(kind, batch, files, parts=False)
    [streamed] = partials.Store(tmp_path / "batches", ev, codes).packs(kind)
    for parts in (made, pack.parts, streamed.parts):  # as written, and as read back
        whole = partials.assemble(kind, [parts[store.key(kind, sf)] for sf in files])
        pd.testing.assert_frame_equal(whole.accepted, batch.accepted, check_exact=True)
        assert [type(v) for v in whole.accepted.to_numpy().ravel()] == [
            type(v) for v in batch.accepted.to_numpy().ravel()
        ], "the same Python values: str, None, int, Timestamp"
        pd.testing.assert_frame_equal(whole.quarantine, _by_file(batch.quarantine), check_dtype=False)
        pd.testing.assert_frame_equal(whole.by_sheet, batch.by_sheet, check_exact=True)
        if len(batch.ids):
            pd.testing.assert_frame_equal(whole.ids, batch.ids, check_dtype=False)
        a, b = unique_ids(kind, whole), unique_ids(kind, batch)
        pd.testing.assert_frame_equal(a.accepted, b.accepted)


def test_a_pack_keeps_every_table_and_a_damaged_pack_is_not_used(hohhot, tmp_path):
    ev, _, codes = hohhot
    finance = _letters("finance/letters.csv", "a1", ["L1", "L2", "L3"], subjects=["来信", None, "来访"])
    skills = _letters("skills/letters.csv", "b1", ["L4"])
    batch = check_rows(LETTERS, [finance, skills], ev, codes)
    store = partials.Store(tmp_path, ev, codes)
    made = store.write(LETTERS, batch, [finance.file, skills.file]).parts
    [pack] = partials.Store(tmp_path, ev, codes).packs(LETTERS)
    for sf in (finance.file, skills.file):
        key = store.key(LETTERS, sf)
        stored, whole = partials.assemble(LETTERS, [pack.parts[key]]), partials.assemble(LETTERS, [made[key]])
        for name in ("accepted", "quarantine", "by_sheet", "ids"):
            pd.testing.assert_frame_equal(getattr(stored, name), getattr(whole, name), check_exact=True)
    first = partials.assemble(LETTERS, [pack.parts[store.key(LETTERS, finance.file)]])
    assert first.quarantine["rule"].tolist() == ["required"] and len(first.ids) == 3, "every table, by file"
    assert partials.assemble(LETTERS, [pack.parts[store.key(LETTERS, skills.file)]]).quarantine.empty
    [entry] = tmp_path.iterdir()
    entry.write_bytes(entry.read_bytes()[:-1])
    assert partials.Store(tmp_path, ev, codes).packs(LETTERS) == []
    assert store.packs(KINDS["county_payments"]) == [], "another kind's packs are other files"


def test_other_codes_are_another_context(hohhot):
    ev, _, codes = hohhot
    other = Codes(**{**codes.__dict__, "subproject": codes.subproject[:-1]})
    assert partials.context_key(ev, codes) != partials.context_key(ev, other)
    assert partials.context_key(ev, codes) == partials.context_key(ev, Codes(**codes.__dict__))


class Letters(Submission):
    """收件登记 — a toy bureau kind with an id that must be unique across its files."""

    letter_id: Series[str] = _f("收件编号", "letter id", fieldtypes.ID)
    subject: Series[str] = _f("事由", "subject", fieldtypes.TEXT)


LETTERS = Kind("letters", "收件登记", Letters, "bureau", "letter_id")


def _letters(rel: str, sha: str, ids: list[str], subjects: list[str | None] | None = None) -> RawTable:
    n = len(ids)
    subject = subjects or ["来信"] * n
    frame = arrow.table({"letter_id": ids, "subject": subject, "row": list(range(2, n + 2)), "span": [1] * n})
    return RawTable(SourceFile(RAW, rel, sha, "bureau", rel.split("/")[0]), "", LETTERS, frame, {})


def _nightly(folder, ev, codes, tables):
    """One run's validation of the toy kind against the packs in ``folder``: the store and the kind's rows."""
    store = partials.Store(folder, ev, codes)
    checked = partials.check_kind(LETTERS, tables, store, lambda ts: check_rows(LETTERS, ts, ev, codes))
    store.sweep()
    return store, checked


def test_an_id_repeated_in_a_kept_file_is_still_a_duplicate(hohhot, tmp_path):
    ev, _, codes = hohhot

    def run(tables):
        store, checked = _nightly(tmp_path, ev, codes, tables)
        return store, unique_ids(LETTERS, checked)

    a = _letters("finance/letters.csv", "a1", ["L1", "L2"])
    store, first = run([a, _letters("skills/letters.csv", "b1", ["L3"])])
    assert (store.hits, store.misses) == (0, 2)
    assert first.accepted["letter_id"].tolist() == ["L1", "L2", "L3"]
    # The skills department resubmits with L1: the finance file's partial is kept, the duplicate found.
    store, second = run(
        [_letters("finance/letters.csv", "a1", ["L1", "L2"]), _letters("skills/letters.csv", "b2", ["L1"])]
    )
    assert (store.hits, store.misses) == (1, 1)
    assert len(list(tmp_path.iterdir())) == 2, "the first pack (still used) and one for the changed file"
    assert second.accepted["letter_id"].tolist() == ["L2"]
    q = second.quarantine
    assert q[["file", "row", "rule"]].values.tolist() == [
        ["finance/letters.csv", 2, "duplicate_id"],
        ["skills/letters.csv", 2, "duplicate_id"],
    ]
    assert q["message"].str.contains("重复出现").all()
    assert second.by_sheet.loc[("finance/letters.csv", ""), "accepted"] == 1


def test_packs_are_merged_when_most_of_their_rows_are_stale(hohhot, tmp_path):
    ev, _, codes = hohhot

    def run(tables):
        return _nightly(tmp_path, ev, codes, tables)

    big = [f"L{i}" for i in range(10)]
    run([_letters("finance/letters.csv", "a1", big), _letters("skills/letters.csv", "b1", ["S1"])])
    # finance resubmits: its old rows (10) are stale, more than the kept ones (1): one pack again.
    store, checked = run([_letters("finance/letters.csv", "a2", big), _letters("skills/letters.csv", "b1", ["S1"])])
    assert (store.hits, store.misses) == (1, 1)
    [pack] = partials.Store(tmp_path, ev, codes).packs(LETTERS)
    assert pack.rows == 11 and len(pack.parts) == 2
    assert checked.accepted["letter_id"].tolist() == [*big, "S1"]
