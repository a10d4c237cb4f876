"""A sealed record: JSON metadata and Arrow IPC streams, closed by the SHA-256 of everything before it.

The one on-disk (and worker-to-parent) format of the ingest caches: no pickle, so a cache entry
is data and never code, and an entry that was truncated or altered fails its hash on load and is
recomputed. ``magic`` names the record type and its version: a new layout is a new magic.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

_U64 = struct.Struct("<Q")
_DIGEST = 32


class Damaged(ValueError):
    """The bytes are not a whole record of this type: wrong magic, wrong hash, or cut short."""


def seal(magic: bytes, meta: dict[str, Any], tables: Sequence[pa.Table]) -> bytes:
    out = io.BytesIO()
    out.write(magic)
    _chunk(out, json.dumps(meta, ensure_ascii=False, sort_keys=True).encode())
    for table in tables:
        _chunk(out, _ipc(table))
    body = out.getvalue()
    return body + hashlib.sha256(body).digest()


def unseal(magic: bytes, data: bytes) -> tuple[dict[str, Any], list[pa.Table]]:
    """The metadata and tables of :func:`seal`'s bytes; :class:`Damaged` when they are not whole."""
    body, trailer = data[:-_DIGEST], data[-_DIGEST:]
    if len(data) < len(magic) + _DIGEST or not data.startswith(magic) or hashlib.sha256(body).digest() != trailer:
        raise Damaged("damaged record")
    view = memoryview(body)
    meta_bytes, pos = _unchunk(view, len(magic))
    tables = []
    while pos < len(view):
        chunk, pos = _unchunk(view, pos)
        try:
            tables.append(pa.ipc.open_stream(pa.py_buffer(chunk)).read_all())
        except pa.ArrowException as exc:  # a sound hash over unsound bytes: written by something else
            raise Damaged(f"damaged table: {exc}") from exc
    return json.loads(bytes(meta_bytes)), tables


def _chunk(out: io.BytesIO, data: bytes) -> None:
    out.write(_U64.pack(len(data)))
    out.write(data)


def _unchunk(view: memoryview, pos: int) -> tuple[memoryview, int]:
    if pos + _U64.size > len(view):
        raise Damaged("truncated record")
    (n,) = _U64.unpack_from(view, pos)
    start = pos + _U64.size
    if start + n > len(view):
        raise Damaged("truncated record")
    return view[start : start + n], start + n


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    data: bytes = sink.getvalue().to_pybytes()
    return data
