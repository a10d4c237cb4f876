"""Parse untrusted files in worker processes with a memory and a time limit; hand results back as Arrow IPC.

fastexcel (calamine, Rust) aborts the whole process on some hostile files (an allocation it
cannot make is an abort, not an exception), so no ``try`` in the run's own process can contain
it. Files are parsed in a pebble process pool started by ``forkserver`` (never ``fork`` from a
process that already runs threads), each worker under ``RLIMIT_AS`` and each task under a
timeout. Small files travel in batches so the per-task overhead stays small; when a worker dies
or times out, pebble replaces it, the batch's files are retried one by one in fresh workers,
and only the file that fails alone is rejected with "文件无法读取（超出资源限制或文件损坏）".

A read result (the file's warnings, problems, sheet accounts and tables) is serialised once, as
a split sealed record (:func:`pipeline.ingest.sealed.seal_split`: JSON, then Arrow IPC streams,
each part under its own SHA-256), for both the trip back from the worker and the
content-addressed read cache: no pickle of data, and a truncated or altered cache entry fails its
hash and is read again. Of a cache entry only the head (the file's account and its tables'
shapes) is read at once; its tables are read, verified and parsed only when their cells are asked
for (:func:`load_deferred`): a nightly run validates again only the files that changed, and the
cells of the others are never read from disk.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import multiprocessing
import multiprocessing.util
import os
import resource
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from pipeline import progress
from pipeline.contract import KINDS
from pipeline.ingest.read import DeferredTable, Problem, RawTable, SheetAccount, SourceFile, read_file
from pipeline.ingest.sealed import Damaged, Head, read_head, read_tables, seal_split, table, unseal_split
from pipeline.limits import Limits
from pipeline.memory import no_collection
from pipeline.processes import forkserver, workers_skip_main

if TYPE_CHECKING:
    import pebble

READER_VERSION = "read-4"  # bump whenever reading changes what a file yields: it keys the cache
MAGIC = b"PESREAD5"  # a split record (head, then tables) since read-4's whole one
BATCH_FILES = 64
BATCH_BYTES = 8 * 1024 * 1024
WORKER_FAILED = (
    "文件无法读取（超出资源限制或文件损坏）；解析该文件的进程被终止。请用 Excel 或 WPS 打开检查后另存为 .xlsx 再报送。"
)


# --- one serialised read result ------------------------------------------------------------------


def dump(sf: SourceFile, tables: Sequence[RawTable]) -> bytes:
    meta = {
        "format": sf.format,
        "warnings": sf.warnings,
        "declared_code": sf.declared_code,
        # Flat records (text and numbers): their fields as they are, without ``asdict``'s deep copy of each value.
        "problems": [vars(p) for p in sf.problems],
        "sheets": [vars(a) for a in sf.sheets],
        "tables": [
            {"sheet": t.sheet, "kind": t.kind.name, "units": t.units, "titles": t.titles, "rows": t.frame.num_rows}
            for t in tables
        ],
    }
    return seal_split(MAGIC, meta, [part for t in tables for part in (t.frame, t.issues)])


def load(data: bytes, sf: SourceFile) -> list[RawTable]:
    """Fill ``sf`` and return its tables from :func:`dump`'s bytes; :class:`Damaged` when they are damaged."""
    meta, parts = unseal_split(MAGIC, data)
    if len(parts) != 2 * len(meta["tables"]):
        raise Damaged("read result with missing tables")
    _fill(sf, meta)
    return [
        RawTable(
            file=sf,
            sheet=t["sheet"],
            kind=KINDS[t["kind"]],
            frame=parts[2 * i],
            units=t["units"],
            titles=t["titles"],
            issues=parts[2 * i + 1],
        )
        for i, t in enumerate(meta["tables"])
    ]


def load_deferred(entry: Path, sf: SourceFile, limits: Limits) -> list[RawTable]:
    """:func:`load` for a cache entry: its head is read and verified now, its tables when first asked for.

    Tables that fail their hash then (the entry was cut short or altered since), or whose stream is not
    Arrow IPC under a sound hash (written by something else), make the file read again, and the entry
    rewritten.
    """
    head = read_head(MAGIC, entry)
    meta = head.meta
    _fill(sf, meta)
    cells = _Cells(head, sf, entry, limits, [(t["sheet"], t["kind"]) for t in meta["tables"]])
    return [
        DeferredTable(
            file=sf,
            sheet=t["sheet"],
            kind=KINDS[t["kind"]],
            rows=int(t["rows"]),
            units=t["units"],
            titles=t["titles"],
            cells=functools.partial(cells.table, i),
        )
        for i, t in enumerate(meta["tables"])
    ]


def _fill(sf: SourceFile, meta: dict[str, Any]) -> None:
    sf.format, sf.warnings, sf.declared_code = meta["format"], meta["warnings"], meta["declared_code"]
    sf.problems = [Problem(**p) for p in meta["problems"]]
    sf.sheets = [SheetAccount(**a) for a in meta["sheets"]]


class _Cells:
    """The tables of one cache entry, read and parsed together when the first is asked for (then let go with
    the tables)."""

    def __init__(self, head: Head, sf: SourceFile, entry: Path, limits: Limits, layout: list[tuple[str, str]]) -> None:
        self.head, self.sf, self.entry, self.limits, self.layout = head, sf, entry, limits, layout
        self.parsed: list[pa.Table] | None = None
        self.lock = threading.Lock()  # a file's kinds may be validated in two threads at once

    def table(self, i: int) -> tuple[pa.Table, pa.Table]:
        with self.lock:
            if self.parsed is None:
                try:
                    parsed = [table(chunk) for chunk in read_tables(self.entry, self.head)]
                    if len(parsed) != 2 * len(self.layout):
                        raise Damaged("read result with missing tables")
                    self.parsed = parsed
                except (Damaged, OSError):  # altered, cut short or removed since its head was read
                    self.parsed = self._read_again()
            return self.parsed[2 * i], self.parsed[2 * i + 1]

    def _read_again(self) -> list[pa.Table]:
        data = _read_isolated([self.sf], self.limits, None)[0]
        meta, parts = unseal_split(MAGIC, data)
        if [(t["sheet"], t["kind"]) for t in meta["tables"]] != self.layout:
            raise Damaged(
                f"读取缓存条目已损坏 / damaged read-cache entry {self.entry} for {self.sf.rel}: "
                "delete the folder .cache/<evaluation>/read and run again"
            )
        _fill(self.sf, meta)
        from pipeline.files import atomic_write

        atomic_write(self.entry, data, durable=False)
        return parts


# --- the worker side --------------------------------------------------------------------------------


def _init_worker(memory_bytes: int) -> None:
    """Runs in each worker before any file: cap its address space; no core file when a parser aborts."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # A parser that aborts prints its own backtrace; the file's problem record says what a user needs to know.
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)


def _work(batch: list[dict[str, Any]], limits: Limits) -> list[bytes]:
    """Read a batch of files in this worker; a Python error costs its file only."""
    out = []
    for fields in batch:
        sf = SourceFile(**fields)
        try:
            tables = read_file(sf, limits)
        except MemoryError:
            sf.problems, sf.sheets, tables = [Problem("resource_limit", WORKER_FAILED)], [], []
        except Exception as exc:  # a parser's own error on a corrupt file: that file is rejected, the batch goes on
            sf.problems, sf.sheets, tables = (
                [
                    Problem(
                        "unreadable",
                        f"文件无法读取（{type(exc).__name__}: {exc}）；"
                        "请用 Excel 或 WPS 打开检查后另存为 .xlsx 再报送。",
                    )
                ],
                [],
                [],
            )
        out.append(dump(sf, tables))
    return out


def _fields(sf: SourceFile) -> dict[str, Any]:
    return {
        "path": sf.path,
        "rel": sf.rel,
        "sha256": sf.sha256,
        "submitter_type": sf.submitter_type,
        "submitter": sf.submitter,
        "stamp": sf.stamp,
    }


# --- the parent side --------------------------------------------------------------------------------


def cache_key(sf: SourceFile, limits: Limits) -> str:
    """What a file's read result depends on: reader version, where it sits (its name gives its kind), its bytes, limits.

    Asked for once per file and kind in a run (17,000 times at national scale): kept per distinct answer.
    """
    return _cache_key(sf.rel, sf.submitter_type, sf.submitter, sf.sha256, _limits_text(limits))


@functools.lru_cache(maxsize=1 << 14)
def _cache_key(rel: str, submitter_type: str, submitter: str, sha256: str, limits: str) -> str:
    text = f"{READER_VERSION}|{rel}|{submitter_type}|{submitter}|{sha256}|{limits}"
    return hashlib.sha256(text.encode()).hexdigest()


@functools.lru_cache(maxsize=16)
def _limits_text(limits: Limits) -> str:  # a frozen model: hashable, and the same limits give the same text
    return str(sorted(limits.model_dump().items()))


def read_files(
    files: Sequence[SourceFile], limits: Limits, cache_dir: Path | None = None, workers: int | None = None
) -> list[list[RawTable]]:
    """Each file's tables (in ``files``' order), read in isolated workers or from the cache; fills each SourceFile.

    With a cache, entries not used by this call are removed, so the cache holds exactly the
    current inputs.
    """
    results: list[list[RawTable] | None] = [None] * len(files)
    todo = []
    used = set()
    report = progress.current()
    report.task("read", "读取文件 read files", len(files), "files")
    # The heads' objects all live on (a national run's 14,000 tables): the collector would only look at
    # them again and again, half the time of this loop (0.39 s -> 0.19 s over the national cache).
    with no_collection():
        for i, sf in enumerate(files):
            entry = cache_dir / f"{cache_key(sf, limits)}.read" if cache_dir is not None else None
            if entry is not None:
                used.add(entry.name)
                if entry.is_file():
                    try:
                        results[i] = load_deferred(entry, sf, limits)
                        report.advance("read")
                        continue
                    except (Damaged, OSError, KeyError, TypeError):  # KeyError, TypeError: metadata of another layout
                        sf.problems, sf.sheets, sf.warnings = [], [], []  # damaged entry: read the file again
            todo.append(i)
    if todo:
        for i, data in _read_isolated([files[i] for i in todo], limits, workers, report.advance).items():
            j = todo[i]
            results[j] = load(data, files[j])
            if cache_dir is not None:
                cache_dir.mkdir(parents=True, exist_ok=True)
                from pipeline.files import atomic_write

                # No fsync: an entry carries its SHA-256, so a torn one is detected and the file read again.
                atomic_write(cache_dir / f"{cache_key(files[j], limits)}.read", data, durable=False)
    if cache_dir is not None and cache_dir.is_dir():
        for stale in cache_dir.iterdir():
            if stale.name not in used:
                stale.unlink()
    return [r if r is not None else [] for r in results]


def _batches(files: Sequence[SourceFile], workers: int) -> list[list[int]]:
    """Consecutive files in batches: a few per worker at least (to spread the work), at most BATCH_FILES / BATCH_BYTES."""
    per_batch = min(BATCH_FILES, max(1, -(-len(files) // (workers * 4))))
    batches: list[list[int]] = []
    size = 0
    for i, sf in enumerate(files):
        nbytes = _size(sf.path)
        if not batches or len(batches[-1]) >= per_batch or size + nbytes > BATCH_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(i)
        size += nbytes
    return batches


def _size(path: Path) -> int:
    try:
        return os.lstat(path).st_size
    except OSError:
        return 0


_pools: dict[tuple[int, int], pebble.ProcessPool] = {}
_pools_lock = threading.Lock()


def _pool(workers: int, memory_mb: int) -> pebble.ProcessPool:
    """A worker pool kept for the life of the process (started once: later evaluations and checks reuse it)."""
    key = (workers, memory_mb)
    with _pools_lock:  # a cache entry is read again from a validation thread (``_Cells``)
        pool = _pools.get(key)
        if pool is None or not pool.active:
            pool = _pools[key] = _start_pool(workers, memory_mb)
        return pool


def _start_pool(workers: int, memory_mb: int) -> pebble.ProcessPool:
    import pebble

    pool = pebble.ProcessPool(
        max_workers=workers, initializer=_init_worker, initargs=(memory_mb << 20,), context=forkserver()
    )
    if not _pools:
        atexit.register(shutdown)
        # A process that multiprocessing started (Dagster's code server starts each run so) joins its
        # children in multiprocessing's exit function, before any atexit handler: the workers are stopped
        # there first, or the finished run's process waits for them for ever.
        multiprocessing.util.Finalize(None, shutdown, exitpriority=100)
    return pool


def shutdown() -> None:
    """Stop the worker pools (at exit, or before forking a process that must not inherit them)."""
    while _pools:
        _, pool = _pools.popitem()
        pool.stop()  # type: ignore[no-untyped-call]  # pebble leaves stop() unannotated
        pool.join()


def _read_isolated(
    files: Sequence[SourceFile], limits: Limits, workers: int | None, done: Callable[[str, int], None] | None = None
) -> dict[int, bytes]:
    """Serialised read results by index into ``files``; a file whose worker died or hung gets a problem.

    ``done("read", n)`` is called as each batch of ``n`` files comes back (for the progress display).
    """
    import pebble

    out: dict[int, bytes] = {}
    n = max(1, workers or os.cpu_count() or 2)
    batches = _batches(files, n)
    with workers_skip_main():
        pool = _pool(n, limits.worker_memory_mb)
        pending = [
            (b, pool.schedule(_work, args=([_fields(files[i]) for i in b], limits), timeout=limits.parse_timeout_s))
            for b in batches
        ]
        while pending:
            batch, future = pending.pop(0)
            try:
                for i, data in zip(batch, future.result()):
                    out[i] = data
                if done is not None:
                    done("read", len(batch))
                continue
            except BrokenProcessPool as exc:  # the pool itself is gone: start a new one for the retries
                failure: Exception = exc
                _pools.pop((n, limits.worker_memory_mb), None)
                pool = _pool(n, limits.worker_memory_mb)
            except (pebble.ProcessExpired, FutureTimeout, OSError) as exc:
                failure = exc
            if len(batch) > 1:  # retry the batch's files one by one: only the culprit fails alone
                pending.extend(
                    ([i], pool.schedule(_work, args=([_fields(files[i])], limits), timeout=limits.parse_timeout_s))
                    for i in batch
                )
                continue
            [i] = batch
            sf = files[i]
            reason = "超过解析时间上限" if isinstance(failure, FutureTimeout) else "解析进程异常退出"
            sf.problems, sf.sheets, sf.warnings = [Problem("worker_failed", f"{WORKER_FAILED}（{reason}）")], [], []
            out[i] = dump(sf, [])
            if done is not None:
                done("read", 1)
    return out
