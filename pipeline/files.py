"""Touching the file system safely: walk without following links, hash and read only regular files.

Submitters control what lies in an evaluation folder, so nothing here follows a symbolic link,
opens a FIFO or a device (an ``open`` of a FIFO blocks forever), or reads a file that changed
type between looking and opening. Writers replace files atomically (a new file renamed over
the old), so a reader never sees half a file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

BLOCK = 1 << 20
ENTRY_KINDS = {
    stat.S_IFLNK: "symlink",
    stat.S_IFIFO: "fifo",
    stat.S_IFCHR: "device",
    stat.S_IFBLK: "device",
    stat.S_IFSOCK: "socket",
    stat.S_IFDIR: "directory",
    stat.S_IFREG: "file",
}
ENTRY_LABELS = {
    "symlink": "符号链接",
    "fifo": "命名管道（FIFO）",
    "device": "设备文件",
    "socket": "套接字",
    "directory": "目录",
    "file": "普通文件",
    "other": "特殊文件",
}


class NotRegularFile(OSError):
    """The path is not a regular file (a link, FIFO, device…), or it changed while being opened."""


@dataclasses.dataclass(frozen=True)
class Entry:
    """One entry under a folder, seen with ``lstat`` (links are not followed)."""

    path: Path
    rel: tuple[str, ...]  # path parts relative to the walked folder
    kind: str  # file, directory, symlink, fifo, device, socket, other
    size: int

    @property
    def label(self) -> str:
        return ENTRY_LABELS[self.kind]


def entry_kind(mode: int) -> str:
    return ENTRY_KINDS.get(stat.S_IFMT(mode), "other")


def walk(folder: Path) -> Iterator[Entry]:
    """Every entry below ``folder``, sorted by path, directories descended into, links never followed."""
    try:
        children = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    base = Path(folder)
    for child in children:
        yield from _walk_entry(base, child, ())


def _walk_entry(base: Path, child: os.DirEntry, parents: tuple[str, ...]) -> Iterator[Entry]:
    st = child.stat(follow_symlinks=False)
    kind = entry_kind(st.st_mode)
    rel = (*parents, child.name)
    yield Entry(path=base.joinpath(*rel), rel=rel, kind=kind, size=st.st_size)
    if kind == "directory":
        try:
            grandchildren = sorted(os.scandir(child.path), key=lambda e: e.name)
        except OSError:
            return
        for grandchild in grandchildren:
            yield from _walk_entry(base, grandchild, rel)


def open_regular(path: Path) -> int:
    """A read-only descriptor of ``path`` if it is a regular file, else :class:`NotRegularFile`.

    ``O_NOFOLLOW`` refuses a link, ``O_NONBLOCK`` keeps a FIFO from blocking the open, and the
    type is checked on the opened descriptor, so a file swapped in after a check is caught too.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if os.path.islink(path):
            raise NotRegularFile(f"{path}: 是符号链接，不会被读取 / a symbolic link is never followed") from exc
        raise
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise NotRegularFile(
            f"{path}: 不是普通文件（{ENTRY_LABELS[entry_kind(st.st_mode)]}），不会被读取 / not a regular file"
        )
    return fd


def read_regular(path: Path, limit: int | None = None) -> bytes:
    """The bytes of a regular file (see :func:`open_regular`); more than ``limit`` bytes raise ``ValueError``."""
    fd = open_regular(path)
    with os.fdopen(fd, "rb") as fh:
        data = fh.read() if limit is None else fh.read(limit + 1)
    if limit is not None and len(data) > limit:
        raise ValueError(f"{path}: larger than {limit} bytes")
    return data


def sha256_file(path: Path) -> str:
    """SHA-256 of a regular file's content, read in blocks (never a link, FIFO or device)."""
    return hash_and_stamp(path)[0]


# What identifies a version of a file without reading it again: device, inode, size, and the content and
# status change times (ctime moves on every write and cannot be set back by a program).
Stamp = tuple[int, int, int, int, int]


def stamp_of(st: os.stat_result) -> Stamp:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


# Hashes already taken in this process, by stamp: asking again for an unchanged file costs one fstat.
_HASHED: dict[Stamp, str] = {}
_HASHED_MAX = 200_000


def hash_and_stamp(path: Path) -> tuple[str, Stamp]:
    """SHA-256 of a regular file and its :data:`Stamp`; raises :class:`Changed` if it was written meanwhile.

    Each input is read for hashing once per run: the inventory, the data version and the manifest ask
    for the same files, and a file whose stamp is unchanged is not read again; a reader compares the
    stamp instead of hashing. Any write moves the stamp (ctime), so a changed file is always re-read.
    """
    with os.fdopen(open_regular(path), "rb") as fh:
        before = stamp_of(os.fstat(fh.fileno()))
        known = _HASHED.get(before)
        if known is not None:
            return known, before
        digest = _digest(fh)
        if stamp_of(os.fstat(fh.fileno())) != before:
            raise Changed(str(path))
    if len(_HASHED) >= _HASHED_MAX:
        _HASHED.clear()
    _HASHED[before] = digest
    return digest, before


def _digest(fh: BinaryIO) -> str:
    h = hashlib.sha256()
    for block in iter(lambda: fh.read(BLOCK), b""):
        h.update(block)
    return h.hexdigest()


class Changed(OSError):
    """The file was written while it was being read."""


def atomic_write(path: Path, data: bytes, durable: bool = True) -> None:
    """Write ``data`` to a new file beside ``path`` and rename it over ``path``: readers see old or new, never half.

    ``durable=False`` skips the fsync, for files whose damage is detected when they are read (cache entries
    carry their own SHA-256): after a crash such a file is read again, never trusted.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        if durable:
            fh.flush()
            os.fsync(fh.fileno())
    os.replace(tmp, path)


def fsync_tree(folder: Path) -> None:
    """Flush every file and directory under ``folder`` to disk (before a set is published)."""
    for entry in walk(folder):
        if entry.kind in ("file", "directory"):
            fd = os.open(entry.path, os.O_RDONLY | (os.O_DIRECTORY if entry.kind == "directory" else 0))
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
