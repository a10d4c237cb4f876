"""The read cache hands back a file's tables with their cells unread and unparsed until they are asked for.

A nightly run validates again only the files whose partials it does not hold: of every other file only
the entry's head (the file's account) is read and verified; its cells stay on disk and are let go
unread. A damaged head makes the file read again at once. Tables that fail their hash, or whose hash is
sound but whose streams are not Arrow (written by something else), are found when the cells are asked
for: the file is read again then and the entry rewritten.
"""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from pipeline.files import sha256_file
from pipeline.ingest import isolation, sealed
from pipeline.ingest.read import DeferredTable, SourceFile
from pipeline.limits import Limits

RECEIPTS = (
    "到位单号,到账日期,资金来源,子项目编码,旗县区编码,金额（万元）,文号,冲红凭证号,备注\n"
    "DW001,2022-07-18,central,1,150100,800,,,\n"
    "DW002,2022-07-19,central,2,150100,15,,,\n"
    "DW003,2022-07-20,local,2,150100,待核实,,,\n"
)


def _source(tmp_path) -> SourceFile:
    path = tmp_path / "receipts.csv"
    path.write_text(RECEIPTS, encoding="utf-8")
    return SourceFile(
        path=path, rel="receipts.csv", sha256=sha256_file(path), submitter_type="bureau", submitter="finance"
    )


def _read(tmp_path, cache):
    sf = _source(tmp_path)
    [tables] = isolation.read_files([sf], Limits(), cache)
    return sf, tables


@pytest.fixture
def cold(tmp_path):
    """A file read in a worker, its entry written to the cache."""
    cache = tmp_path / "cache"
    sf, tables = _read(tmp_path, cache)
    assert tables and not any(isinstance(t, DeferredTable) for t in tables)
    return cache, sf, tables


def test_cached_tables_are_parsed_only_when_asked_for(tmp_path, cold):
    cache, sf, first = cold
    again, tables = _read(tmp_path, cache)
    assert all(isinstance(t, DeferredTable) and t._frame is None for t in tables), "nothing parsed on load"
    assert [t.rows for t in tables] == [t.frame.num_rows for t in first] == [3]
    assert [t._frame is None for t in tables] == [True], "counting rows parses nothing"
    # The file's account comes from the entry at once, as the worker gave it.
    assert dataclasses.asdict(again) | {"path": None} == dataclasses.asdict(sf) | {"path": None}
    assert [(t.sheet, t.kind.name, t.units, t.titles) for t in tables] == [
        (t.sheet, t.kind.name, t.units, t.titles) for t in first
    ]
    assert all(t.frame.equals(f.frame) and t.issues.equals(f.issues) for t, f in zip(tables, first, strict=True))


def test_a_released_table_is_never_parsed(tmp_path, cold):
    cache, _, _ = cold
    _, [table] = _read(tmp_path, cache)
    table.release(lambda t: t.schema.empty_table())
    assert table._frame is None and table.rows == 0
    with pytest.raises(RuntimeError, match="released"):
        table.frame  # noqa: B018  # the access is the test


def test_a_parsed_table_is_released_like_any_other(tmp_path, cold):
    cache, _, _ = cold
    _, [table] = _read(tmp_path, cache)
    assert table.frame.num_rows == 3
    table.release(lambda t: t.schema.empty_table())
    assert table.rows == 0 and table.frame.num_rows == 0 and table.issues.num_rows == 0


def test_an_entry_with_a_sound_hash_over_unsound_tables_is_read_again(tmp_path, cold):
    cache, _, first = cold
    [entry] = cache.iterdir()
    intact = entry.read_bytes()
    meta, tables = sealed.unseal_split(isolation.MAGIC, intact)
    garbage = b"not arrow" * 8
    # Sealed again, hashes and all, as something other than the reader would: the load cannot tell.
    body = b"".join(sealed._U64.pack(len(garbage)) + garbage for _ in tables)
    head = b"".join(bytes(p) for p in sealed._pieces(isolation.MAGIC, meta, [])) + hashlib.sha256(body).digest()
    entry.write_bytes(head + hashlib.sha256(head).digest() + body)
    _, [table] = _read(tmp_path, cache)
    assert table._frame is None
    assert table.frame.equals(first[0].frame) and table.issues.equals(first[0].issues)
    assert entry.read_bytes() == intact, "the entry is rewritten from the fresh read"


@pytest.mark.parametrize("damage", ["head_altered", "head_cut"])
def test_an_entry_with_a_damaged_head_is_read_again_at_once(tmp_path, cold, damage):
    cache, _, first = cold
    [entry] = cache.iterdir()
    intact = entry.read_bytes()
    offset = sealed.read_head(isolation.MAGIC, entry).offset
    at = offset // 2  # inside the metadata
    entry.write_bytes(
        intact[:at] + bytes([intact[at] ^ 1]) + intact[at + 1 :] if damage == "head_altered" else intact[:at]
    )
    _, [table] = _read(tmp_path, cache)
    assert not isinstance(table, DeferredTable), "a head that fails its hash is a fresh read in the worker"
    assert table.frame.equals(first[0].frame)
    assert entry.read_bytes() == intact


@pytest.mark.parametrize("cut", ["tables_altered", "tables_cut", "removed"])
def test_tables_damaged_after_the_head_was_read_are_read_again(tmp_path, cold, cut):
    """The head is verified when the entry is loaded; the tables only when their cells are asked for."""
    cache, _, first = cold
    [entry] = cache.iterdir()
    intact = entry.read_bytes()
    _, [table] = _read(tmp_path, cache)
    assert isinstance(table, DeferredTable) and table._frame is None
    if cut == "tables_altered":
        entry.write_bytes(intact[:-5] + bytes([intact[-5] ^ 1]) + intact[-4:])
    elif cut == "tables_cut":
        entry.write_bytes(intact[:-40])
    else:
        entry.unlink()
    assert table.frame.equals(first[0].frame) and table.issues.equals(first[0].issues)
    assert entry.read_bytes() == intact, "the entry is rewritten from the fresh read"


def test_a_head_is_read_without_the_tables(tmp_path, cold):
    """Loading an entry reads its head only: the cells of a file that is not validated again stay on disk."""
    cache, _, _ = cold
    [entry] = cache.iterdir()
    intact = entry.read_bytes()
    head = sealed.read_head(isolation.MAGIC, entry)
    assert head.offset < len(intact)
    entry.write_bytes(intact[: head.offset])  # the tables gone: the head alone still loads
    assert sealed.read_head(isolation.MAGIC, entry).meta == head.meta
    with pytest.raises(sealed.Damaged):
        sealed.read_tables(entry, head)
