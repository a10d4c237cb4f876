"""The read cache hands back a file's tables with their cells unparsed until they are asked for.

A nightly run validates again only the files whose partials it does not hold: the cells of every other
file stay in their verified cache entry, unparsed, and are let go unread. An entry whose hash is sound
but whose tables are not Arrow (written by something else) is found when the cells are asked for: the
file is read again and the entry rewritten.
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
    meta, chunks = sealed.unseal_chunks(isolation.MAGIC, intact)
    garbage = b"not arrow" * 8
    # Sealed again, hash and all, as something other than the reader would: the load cannot tell.
    forged = sealed._pieces(isolation.MAGIC, meta, [])
    body = b"".join(bytes(p) for p in forged) + b"".join(sealed._U64.pack(len(garbage)) + garbage for _ in chunks)
    entry.write_bytes(body + hashlib.sha256(body).digest())
    _, [table] = _read(tmp_path, cache)
    assert table._frame is None
    assert table.frame.equals(first[0].frame) and table.issues.equals(first[0].issues)
    assert entry.read_bytes() == intact, "the entry is rewritten from the fresh read"


def test_a_damaged_entry_is_read_again_at_once(tmp_path, cold):
    cache, _, first = cold
    [entry] = cache.iterdir()
    intact = entry.read_bytes()
    entry.write_bytes(intact[:-50])
    _, [table] = _read(tmp_path, cache)
    assert not isinstance(table, DeferredTable), "a hash that fails is a fresh read in the worker"
    assert table.frame.equals(first[0].frame)
    assert entry.read_bytes() == intact
