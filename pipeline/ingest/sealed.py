"""A sealed record: JSON metadata and Arrow IPC streams, closed by the SHA-256 of everything before it.

The one on-disk (and worker-to-parent) format of the ingest caches: no pickle, so a cache entry
is data and never code, and an entry that was truncated or altered fails its hash on load and is
recomputed. ``magic`` names the record type and its version: a new layout is a new magic.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

_U64 = struct.Struct("<Q")
_DIGEST = 32


class Damaged(ValueError):
    """The bytes are not a whole record of this type: wrong magic, wrong hash, or cut short."""


def seal(magic: bytes, meta: dict[str, Any], tables: Sequence[pa.Table]) -> bytes:
    body = b"".join(_pieces(magic, meta, tables))
    return body + hashlib.sha256(body).digest()


# A table to seal, as batches: its schema and the batches, made one at a time while they are written.
Batches = tuple[pa.Schema, Iterable[pa.RecordBatch]]


def seal_to(
    path: Path, magic: bytes, meta: dict[str, Any], tables: Sequence[pa.Table | Batches], durable: bool = True
) -> None:
    """The bytes of :func:`seal` written to ``path`` atomically (a new file renamed over it), streamed.

    A table given as :data:`Batches` is written batch by batch, so a large one is never whole in
    memory, neither as Arrow nor as IPC bytes. ``durable=False`` skips the fsync, for records whose
    damage is detected when they are read.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "w+b") as fh:
            fh.write(magic)
            meta_bytes = json.dumps(meta, ensure_ascii=False, sort_keys=True).encode()
            fh.write(_U64.pack(len(meta_bytes)))
            fh.write(meta_bytes)
            for table in tables:
                schema, batches = (table.schema, table.to_batches()) if isinstance(table, pa.Table) else table
                start = fh.tell()
                fh.write(_U64.pack(0))  # the stream's length, once it is known
                with pa.ipc.new_stream(fh, schema) as writer:
                    for batch in batches:
                        writer.write_batch(batch)
                end = fh.tell()
                fh.seek(start)
                fh.write(_U64.pack(end - start - _U64.size))
                fh.seek(end)
            fh.flush()
            fh.seek(0)
            digest = hashlib.file_digest(fh, "sha256").digest()
            fh.seek(0, os.SEEK_END)
            fh.write(digest)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _pieces(magic: bytes, meta: dict[str, Any], tables: Sequence[pa.Table]) -> Iterator[bytes | memoryview]:
    yield magic
    meta_bytes = json.dumps(meta, ensure_ascii=False, sort_keys=True).encode()
    yield _U64.pack(len(meta_bytes))
    yield meta_bytes
    for table in tables:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        buffer = sink.getvalue()
        yield _U64.pack(buffer.size)
        yield memoryview(buffer)


def unseal(magic: bytes, data: bytes) -> tuple[dict[str, Any], list[pa.Table]]:
    """The metadata and tables of :func:`seal`'s bytes; :class:`Damaged` when they are not whole."""
    meta, chunks = unseal_chunks(magic, data)
    return meta, [table(chunk) for chunk in chunks]


def unseal_chunks(magic: bytes, data: bytes) -> tuple[dict[str, Any], list[memoryview]]:
    """The metadata and each table's IPC stream, the whole record verified but no table parsed yet.

    :func:`table` parses one when it is needed: parsing the national read cache's 28,000 streams took
    0.5-0.8 s of a nightly run that uses the cells of one file. The views keep ``data`` alive.
    """
    view = memoryview(data)[:-_DIGEST]  # not a copy: entries are read whole, hundreds of MB per national run
    if (
        len(data) < len(magic) + _DIGEST
        or not data.startswith(magic)
        or hashlib.sha256(view).digest() != data[-_DIGEST:]
    ):
        raise Damaged("damaged record")
    meta_bytes, pos = _unchunk(view, len(magic))
    chunks = []
    while pos < len(view):
        chunk, pos = _unchunk(view, pos)
        chunks.append(chunk)
    return json.loads(bytes(meta_bytes)), chunks


def table(chunk: memoryview) -> pa.Table:
    """One table of :func:`unseal_chunks`; :class:`Damaged` when its stream is not Arrow IPC."""
    try:
        return pa.ipc.open_stream(pa.py_buffer(chunk)).read_all()
    except pa.ArrowException as exc:  # a sound hash over unsound bytes: written by something else
        raise Damaged(f"damaged table: {exc}") from exc


def _unchunk(view: memoryview, pos: int) -> tuple[memoryview, int]:
    if pos + _U64.size > len(view):
        raise Damaged("truncated record")
    (n,) = _U64.unpack_from(view, pos)
    start = pos + _U64.size
    if start + n > len(view):
        raise Damaged("truncated record")
    return view[start : start + n], start + n
