"""Output sets: ``OUT/<evaluation_id>`` is always one complete run's outputs, or the previous one's.

A run writes into a staging set of its own, ``OUT/.sets/<evaluation_id>/<run_id>/``; nothing a
reader sees changes while it runs. When the run has written everything (tables, report,
``summary.json``, ``pipeline.duckdb``, ``manifest.json``), the set is flushed to disk and
published: ``OUT/<evaluation_id>`` is a symbolic link to the set, replaced by ``rename(2)`` of a
new link over it, which is atomic (renaming a directory over a non-empty directory is not
possible, and deleting then renaming would leave a moment with no outputs). A run killed at any
moment therefore leaves the previous set readable; the next run deletes the dead staging sets.

Two runs of one evaluation never interleave: a run holds ``OUT/.locks/<evaluation_id>.lock``
(``flock``, released by the kernel when the process dies, so a killed run never leaves a stale
lock) from its first step until it ends; a second run is refused with a message naming the lock.

Caches that are content-addressed and safe to share between sets live beside them, in
``OUT/.cache/<evaluation_id>/``. ``OUT/alerts`` and ``OUT/portfolio`` are not evaluations.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.files import atomic_write, fsync_tree

if TYPE_CHECKING:
    from collections.abc import Callable

    from pipeline.evaluation import Evaluation

SETS, LOCKS, CACHE = ".sets", ".locks", ".cache"
HISTORY = "history"
WRITTEN = ".assets"  # per asset, the files it wrote into the set: what a partial run carries over
_held: dict[str, tuple[int, set[str]]] = {}  # evaluation id → (lock descriptor, run ids holding it in this process)
_guard = threading.Lock()


class OutputLocked(RuntimeError):
    """Another process is running this evaluation; the message says which lock and what to do."""


def sets_dir(out_root: Path, evaluation_id: str) -> Path:
    return Path(out_root) / SETS / evaluation_id


def cache_dir(out_root: Path, evaluation_id: str, name: str) -> Path:
    return Path(out_root) / CACHE / evaluation_id / name


def published(out_root: Path, evaluation_id: str) -> Path | None:
    """The folder of the evaluation's current complete set, or None before the first publish."""
    link = Path(out_root) / evaluation_id
    if link.is_symlink() or link.is_dir():
        return link.resolve()
    return None


def acquire(out_root: Path, evaluation_id: str, run_id: str) -> None:
    """Hold the evaluation's lock for ``run_id`` (re-entrant within this process); :class:`OutputLocked` if busy."""
    with _guard:
        if evaluation_id in _held:
            _held[evaluation_id][1].add(run_id)
            return
        folder = Path(out_root) / LOCKS
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{evaluation_id}.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise OutputLocked(
                    f"评价 {evaluation_id} 正在由另一个运行处理（锁文件 {path} 被占用）；请等它结束后再运行。"
                    f" / evaluation {evaluation_id} is being run by another process"
                ) from exc
            raise
        _held[evaluation_id] = (fd, {run_id})


def release(evaluation_id: str, run_id: str) -> None:
    with _guard:
        if evaluation_id not in _held:
            return
        fd, runs = _held[evaluation_id]
        runs.discard(run_id)
        if not runs:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            del _held[evaluation_id]


def staging(out_root: Path, evaluation_id: str, run_id: str) -> Path:
    """The run's own set, created on first use (under the lock): dead sets of killed runs are removed then."""
    acquire(out_root, evaluation_id, run_id)
    folder = sets_dir(out_root, evaluation_id) / run_id
    if folder.is_dir():
        return folder
    from pipeline import store

    current = published(out_root, evaluation_id)
    if sets_dir(out_root, evaluation_id).is_dir():
        for other in sets_dir(out_root, evaluation_id).iterdir():
            if other.resolve() != current and other.name != run_id:
                store.abandon_early(other)  # a failed run of this process may still be loading its database
                shutil.rmtree(other, ignore_errors=True)
    folder.mkdir(parents=True)
    if current is not None and (current / HISTORY).is_dir():
        # The manifests of past runs stay with every set: hard links, never modified in place.
        (folder / HISTORY).mkdir()
        for old in (current / HISTORY).iterdir():
            os.link(old, folder / HISTORY / old.name)
    return folder


def record(folder: Path, asset: str, files: list[str]) -> None:
    """Note that ``asset`` wrote ``files`` (paths relative to the set; a trailing "/" names a whole folder)."""
    (folder / WRITTEN).mkdir(exist_ok=True)
    path = folder / WRITTEN / f"{asset}.json"
    known = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
    atomic_write(path, (json.dumps(sorted(set(known) | set(files)), ensure_ascii=False, indent=1) + "\n").encode())


def carry_over(out_root: Path, evaluation_id: str, run_id: str) -> list[str]:
    """Hard-link into the run's set the files of every asset this run did not materialise; returns those assets.

    A run of some assets only (a materialisation from the UI) thus publishes a complete set: its
    own assets' new files and the previous set's files of all the others. Links are safe because
    nothing in a set is ever modified in place: every write makes a new file and renames it.
    """
    current = published(out_root, evaluation_id)
    folder = sets_dir(out_root, evaluation_id) / run_id
    if current is None or current == folder.resolve() or not (current / WRITTEN).is_dir():
        return []
    carried = []
    for listing in sorted((current / WRITTEN).glob("*.json")):
        if (folder / WRITTEN / listing.name).exists():
            continue
        for rel in json.loads(listing.read_text(encoding="utf-8")):
            src = current / rel
            sources = sorted(p for p in src.rglob("*") if p.is_file()) if rel.endswith("/") else [src]
            for one in sources:
                dst = folder / one.relative_to(current)
                if one.is_file() and not dst.exists():
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    os.link(one, dst)
        (folder / WRITTEN).mkdir(exist_ok=True)
        os.link(listing, folder / WRITTEN / listing.name)
        carried.append(listing.stem)
    return carried


def publish(out_root: Path, evaluation_id: str, run_id: str) -> Path:
    """Make the run's set the evaluation's outputs, atomically; returns the published folder."""
    root = Path(out_root)
    folder = sets_dir(root, evaluation_id) / run_id
    fsync_tree(folder)
    link = root / evaluation_id
    if link.exists() and not link.is_symlink():  # outputs of a version before output sets: set them aside once
        legacy = sets_dir(root, evaluation_id) / "legacy"
        shutil.rmtree(legacy, ignore_errors=True)
        os.replace(link, legacy)
    tmp = root / f".{evaluation_id}.{run_id}.link"
    if tmp.is_symlink():
        tmp.unlink()
    os.symlink(os.path.relpath(folder, root), tmp)
    os.replace(tmp, link)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return folder


def finalize(out_root: Path, ev: Evaluation, run_id: str, before_manifest: Callable[[], None] | None = None) -> Path:
    """Finish the run's set and publish it: carry over what the run did not write, DuckDB, CSVs, manifest.

    ``before_manifest`` waits for files that other processes are still writing into the set (the Data
    Docs): it is called once the exports are written, so that they overlap. Returns the published
    folder. The run's lock is released afterwards.
    """
    from pipeline import manifest, store

    folder = staging(out_root, ev.id, run_id)
    try:
        carry_over(out_root, ev.id, run_id)
        hashes = store.write_exports(folder, previous=published(out_root, ev.id))
        if before_manifest is not None:
            before_manifest()
        inventory = store.read_table(folder / store.TABLES / "submission_inventory.parquet")
        manifest.write(manifest.build(ev, inventory, folder, known=hashes), folder)
        return publish(out_root, ev.id, run_id)
    finally:
        release(ev.id, run_id)
