"""A sealed record: JSON metadata and Arrow IPC streams, closed by the SHA-256 of everything before it.

The one on-disk (and worker-to-parent) format of the ingest caches: no pickle, so a cache entry
is data and never code, and an entry that was truncated or altered fails its hash on load and is
recomputed. ``magic`` names the record type and its version: a new layout is a new magic.

A *split* record (:func:`seal_split`) seals its head (magic, metadata, the tables' digest) apart
from its tables, so that the metadata can be read and verified without reading the tables
(:func:`read_head`); the tables are verified against the head when they are read
(:func:`read_tables`). The read cache is one: a nightly run needs every file's account but the
cells of the changed files only.
"""

from __future__ import annotations

import dataclasses
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
# Arrow IPC as of format version 5, stated once: ``new_stream`` without options reads two environment variables
# per stream (``ARROW_PRE_0_15_IPC_FORMAT``, ``ARROW_PRE_1_0_METADATA_VERSION``) that could change the bytes.
_WRITE_OPTIONS = pa.ipc.IpcWriteOptions(metadata_version=pa.ipc.MetadataVersion.V5, use_legacy_format=False)


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
                with pa.ipc.new_stream(fh, schema, options=_WRITE_OPTIONS) as writer:
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
        with pa.ipc.new_stream(sink, table.schema, options=_WRITE_OPTIONS) as writer:
            writer.write_table(table)
        buffer = sink.getvalue()
        yield _U64.pack(buffer.size)
        yield memoryview(buffer)


def unseal(magic: bytes, data: bytes) -> tuple[dict[str, Any], list[pa.Table]]:
    """The metadata and tables of :func:`seal`'s bytes; :class:`Damaged` when they are not whole."""
    view = memoryview(data)[:-_DIGEST]  # not a copy: a pack holds a kind's rows, a hundred MB in a national run
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
    return json.loads(bytes(meta_bytes)), [table(chunk) for chunk in chunks]


# --- split records: a head sealed on its own, then the tables -------------------------------------
#
# magic | u64 n | metadata JSON (n bytes) | SHA-256 of the tables part | SHA-256 of all the head before it
# | the tables part: each table's IPC stream, u64-length-prefixed (as in a whole record)


def seal_split(magic: bytes, meta: dict[str, Any], tables: Sequence[pa.Table]) -> bytes:
    """The bytes of a split record (layout above)."""
    pieces = list(_pieces(magic, meta, tables))
    head = b"".join(pieces[:3])  # magic, length, metadata
    body = b"".join(pieces[3:])
    head += hashlib.sha256(body).digest()
    return head + hashlib.sha256(head).digest() + body


@dataclasses.dataclass(frozen=True)
class Head:
    """A split record's verified head: its metadata, where its tables start and what they hash to."""

    meta: dict[str, Any]
    offset: int
    digest: bytes


def _head(magic: bytes, view: memoryview) -> Head:
    """The head at the start of ``view`` (which may hold only the head); :class:`Damaged` unless it is sound."""
    start = len(magic) + _U64.size
    if len(view) < start or bytes(view[: len(magic)]) != magic:
        raise Damaged("damaged record")
    (n,) = _U64.unpack_from(view, len(magic))
    end = start + n + 2 * _DIGEST
    if len(view) < end:
        raise Damaged("truncated record")
    if hashlib.sha256(view[: end - _DIGEST]).digest() != view[end - _DIGEST : end]:
        raise Damaged("damaged record")
    return Head(json.loads(bytes(view[start : start + n])), end, bytes(view[end - 2 * _DIGEST : end - _DIGEST]))


def _tables_part(view: memoryview, digest: bytes) -> list[memoryview]:
    if hashlib.sha256(view).digest() != digest:
        raise Damaged("damaged record")
    chunks, pos = [], 0
    while pos < len(view):
        chunk, pos = _unchunk(view, pos)
        chunks.append(chunk)
    return chunks


def unseal_split(magic: bytes, data: bytes) -> tuple[dict[str, Any], list[pa.Table]]:
    """The metadata and tables of :func:`seal_split`'s bytes, all verified; :class:`Damaged` when they are not whole."""
    view = memoryview(data)
    head = _head(magic, view)
    return head.meta, [table(chunk) for chunk in _tables_part(view[head.offset :], head.digest)]


def read_head(magic: bytes, path: Path) -> Head:
    """The verified head of the split record in ``path``, its tables left unread."""
    with open(path, "rb") as fh:
        first = fh.read(len(magic) + _U64.size)
        if len(first) < len(magic) + _U64.size or not first.startswith(magic):
            raise Damaged("damaged record")
        (n,) = _U64.unpack_from(first, len(magic))
        if n > os.fstat(fh.fileno()).st_size:
            raise Damaged("truncated record")
        return _head(magic, memoryview(first + fh.read(n + 2 * _DIGEST)))


def read_tables(path: Path, head: Head) -> list[memoryview]:
    """Each table's IPC stream of the split record in ``path`` whose head is ``head``, verified against it.

    :class:`Damaged` when the tables are not the ones the head was sealed with (the file was cut short,
    altered, or replaced since the head was read).
    """
    with open(path, "rb") as fh:
        fh.seek(head.offset)
        return _tables_part(memoryview(fh.read()), head.digest)


def table(chunk: memoryview) -> pa.Table:
    """One table's IPC stream parsed; :class:`Damaged` when it is not Arrow IPC."""
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
