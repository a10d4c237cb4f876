"""A sealed record reads back whole, and any damage to its bytes is refused."""

import pyarrow as pa
import pytest

from pipeline.ingest.sealed import (
    Damaged,
    read_head,
    read_tables,
    seal,
    seal_split,
    seal_to,
    table,
    unseal,
    unseal_split,
)

MAGIC = b"PESTEST1"
TABLES = [pa.table({"a": [1, 2, 3], "b": ["x", "y", None]}), pa.table({"c": pa.array([], pa.int64())})]
META = {"k": "值", "n": [1, 2]}


def test_a_record_reads_back_as_written(tmp_path):
    data = seal(MAGIC, META, TABLES)
    seal_to(tmp_path / "r", MAGIC, META, TABLES)
    assert (tmp_path / "r").read_bytes() == data
    meta, tables = unseal(MAGIC, data)
    assert meta == META and [t.equals(e) for t, e in zip(tables, TABLES, strict=True)] == [True, True]


def _damaged(data: bytes) -> list[bytes]:
    """The record cut short at several places, one bit flipped every 7 bytes, another magic, a byte too many."""
    damaged = [data[:n] for n in (0, 7, 8, 40, len(data) - 33, len(data) - 1)]
    damaged += [data[:i] + bytes([data[i] ^ 1]) + data[i + 1 :] for i in range(0, len(data), 7)]
    return damaged + [b"PESTEST2" + data[8:], data + b"\0"]


def test_any_damage_is_refused():
    data = seal(MAGIC, META, TABLES)
    for bad in _damaged(data):
        with pytest.raises(Damaged):
            unseal(MAGIC, bad)


def test_a_split_record_reads_back_whole_or_by_its_head(tmp_path):
    data = seal_split(MAGIC, META, TABLES)
    meta, tables = unseal_split(MAGIC, data)
    assert meta == META and [t.equals(e) for t, e in zip(tables, TABLES, strict=True)] == [True, True]
    (tmp_path / "r").write_bytes(data)
    head = read_head(MAGIC, tmp_path / "r")
    assert head.meta == META
    assert [table(c).equals(e) for c, e in zip(read_tables(tmp_path / "r", head), TABLES, strict=True)] == [True, True]


def test_any_damage_to_a_split_record_is_refused(tmp_path):
    data = seal_split(MAGIC, META, TABLES)
    for bad in _damaged(data):
        with pytest.raises(Damaged):
            unseal_split(MAGIC, bad)
        # Read from a file, the damage is refused by the head or, at the latest, by the tables.
        (tmp_path / "r").write_bytes(bad)
        with pytest.raises(Damaged):
            read_tables(tmp_path / "r", read_head(MAGIC, tmp_path / "r"))
