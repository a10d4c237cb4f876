"""Tables inside an output set: Parquet between steps, then DuckDB and CSV exports written once at the end.

Each table asset is one Parquet file, ``tables/<name>.parquet``, written by the I/O manager and
read back by the next step. When the run has produced everything, :func:`build_database`
writes ``pipeline.duckdb`` (real tables, money as BIGINT 分, for auditors' SQL: no views over
Parquet, whose paths would resolve against the reader's working directory) and
:func:`export_csvs` writes ``<name>.csv`` for every table that has one, formula-escaped,
byte-identical across reruns. Both read the Parquet files only, so :func:`write_exports` runs them
side by side (DuckDB works without the GIL). Every file is written beside its target and renamed
over it.

A run that will finish its set can start the database early (:func:`build_early`): each table is
loaded into it, and exported as its CSV, on a background thread as soon as its Parquet file is
written, while the run's later steps work on the other core (or wait for the report's PDF).
:func:`write_exports` then loads and exports only what is missing or was written again, instead of
all of it at the end (the national set's 4.8 s, then 2.5 s of CSVs in a nightly run).

The early database starts from a copy of the previous set's, when that file is intact (its SHA-256 is
the one recorded in the previous set's ``.database.json``, so a database an auditor wrote to is
never carried forward): a table whose comment says it was loaded from the same Parquet bytes by the
same loader is kept, every other one loaded again (in a nightly run with one changed county, 36 of
the national set's 46 tables are kept, among them a million-row submission table and two lineage
tables). The comment on every table, ``tables/<name>.parquet sha256=<hex> loader=<version>``, also
tells an auditor which file it holds.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import queue
import shutil
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import codeversion
from pipeline.escape import FORMULA_TRIGGERS
from pipeline.files import atomic_write, sha256_file

log = logging.getLogger(__name__)

TABLES = "tables"
DB_FILE = "pipeline.duckdb"
EXPORTS = ".exports.json"  # per CSV: the SHA-256 of its Parquet file and its own, with the exporter's version
DB_RECORD = ".database.json"  # the SHA-256 of pipeline.duckdb as written, so the next run can start from it
TABLE_KEYS = ".table_keys"  # per table stored with a content key: the key and the SHA-256 of its Parquet file
CSV_EXPORT_KEY = b"pes.csv_export"
EXCEL_MAX_ROWS = 1_048_575  # the data rows of an Excel sheet (1,048,576 rows, one of them the header)
# The same triggers as pipeline.escape, as a regular expression DuckDB can apply to a whole column.
FORMULA_START = (
    "^[" + "".join("\\-" if c == "-" else c for c in FORMULA_TRIGGERS).replace("\t", "\\t").replace("\r", "\\r") + "]"
)


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    """Give all-missing object columns a text type, so no reader has to guess a type from nothing.

    ``df`` itself when there are none (no copy of a million-row table); a column whose first value is
    present is not scanned.
    """
    empty = [
        c
        for c in df.columns
        if df[c].dtype == object and (len(df) == 0 or _missing(df[c].iat[0])) and df[c].isna().all()
    ]
    if not empty:
        return df
    out = df.copy(deep=False)
    for c in empty:
        out[c] = out[c].astype("string")
    return out


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)


def write_table(
    folder: Path,
    name: str,
    df: pd.DataFrame,
    csv_export: bool = True,
    content_key: str | None = None,
    previous: Path | None = None,
) -> Path:
    """Store ``df`` as ``tables/<name>.parquet`` (marked for a CSV export or not); returns the path.

    ``content_key`` says what ``df`` is made of, so that the same key gives the same rows (the ingest's
    kinds: ``partials.content_key``, over their files' content ids). When the set ``previous`` holds the table under the same key,
    and its file is intact, that file is hard-linked instead: the same bytes, without converting and
    compressing the rows again (a nightly run's unchanged kinds, a million rows among them).
    """
    target = folder / TABLES / f"{name}.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    key = _table_key(content_key, csv_export) if content_key is not None else None
    if key is not None and previous is not None and _reuse_table(previous, target, key):
        return target
    _key_file(target).unlink(missing_ok=True)
    table = pa.Table.from_pandas(_typed(df), preserve_index=False)
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), CSV_EXPORT_KEY: b"1" if csv_export else b"0"}
    )
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, target)
    if key is not None:
        _record_key(target, key)
    return target


def _key_file(table: Path) -> Path:
    """Where a set records the content key of ``tables/<name>.parquet``: ``.table_keys/<name>.json`` (bookkeeping)."""
    return table.parent.parent / TABLE_KEYS / f"{table.stem}.json"


def _table_key(content_key: str, csv_export: bool) -> str:
    """Everything a stored table's bytes depend on: its content, this module's code, pandas and pyarrow."""
    return f"{content_key}|{codeversion.of_module(__name__)}|csv={int(csv_export)}|pandas-{pd.__version__}|pyarrow-{pa.__version__}"


def _record_key(table: Path, key: str) -> None:
    record = {"key": key, "sha256": sha256_file(table)}
    _key_file(table).parent.mkdir(exist_ok=True)
    atomic_write(_key_file(table), json.dumps(record, sort_keys=True).encode(), durable=False)


def _reuse_table(previous: Path, target: Path, key: str) -> bool:
    """Hard-link ``previous``'s table of the same name and ``key`` to ``target`` if its bytes are those recorded."""
    old = previous / TABLES / target.name
    try:
        record = json.loads(_key_file(old).read_text(encoding="utf-8"))
        if record.get("key") != key or sha256_file(old) != record.get("sha256"):
            return False  # other content, or changed since it was written: never carried forward
        tmp = target.with_name(f".{target.name}.{os.getpid()}.link")
        tmp.unlink(missing_ok=True)
        os.link(old, tmp)
        os.replace(tmp, target)
        _key_file(target).parent.mkdir(exist_ok=True)
        atomic_write(_key_file(target), _key_file(old).read_bytes(), durable=False)
    except (OSError, ValueError, AttributeError):  # no record, a damaged one, or a file system without links
        return False
    return True


def read_table(path: Path, text_as_category: bool = False, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The table at ``path``; with ``text_as_category`` its text columns as categoricals (values the same).

    ``columns`` reads those of them the table has, in that order, and no other (a step that needs a
    table's contract columns only: the frame comes in that shape, not copied into it afterwards).
    """
    if columns is None and not text_as_category:
        return pd.read_parquet(path)
    schema = pq.read_schema(path)
    if columns is not None:
        columns = [c for c in columns if c in schema.names]
    if not text_as_category:
        return pd.read_parquet(path, columns=columns)
    text = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    table = pq.read_table(path, columns=columns, read_dictionary=text)
    for i, field in enumerate(table.schema):  # a column with a missing value stays text, None where missing
        if field.name in text and table.column(i).null_count:
            table = table.set_column(i, field.name, table.column(i).cast(field.type.value_type))
    return table.to_pandas()


def table_paths(folder: Path) -> list[Path]:
    return sorted((folder / TABLES).glob("*.parquet"))


def build_database(folder: Path) -> Path:
    """``pipeline.duckdb`` with every table of the set, renamed into place.

    Finishes the database :func:`build_early` started for ``folder`` in this process, or writes it fresh.
    """
    return _database(folder, _take_early(folder))


def _take_early(folder: Path) -> _EarlyDatabase | None:
    """The early database of ``folder``, no longer shared, its background work done; None without one."""
    with _guard:
        early = _early.pop(_key(folder), None)
    if early is not None:
        early.drain()
    return early


def _database(folder: Path, early: _EarlyDatabase | None) -> Path:
    if early is not None:
        try:
            return early.finish()
        except Exception:  # the set is still whole: write the database the usual way
            log.warning("pipeline.duckdb could not be finished from the early load; written again", exc_info=True)
    target = folder / DB_FILE
    tmp = folder / f".{DB_FILE}.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    with duckdb.connect(str(tmp)) as con:
        con.execute("SET enable_progress_bar = false")
        for path in table_paths(folder):
            _load(con, path)
        con.execute("CHECKPOINT")
    return _publish_database(tmp, target)


def _load(con: duckdb.DuckDBPyConnection, path: Path, held: dict[str, str] | None = None) -> bool:
    """Load the Parquet file ``path`` as the table of its name, unless ``held`` (table → comment) says the
    database holds it already, loaded from the same bytes by this loader. Returns whether it was loaded."""
    comment = f"{TABLES}/{path.name} sha256={sha256_file(path)} loader={exporter_version()}"
    if held is not None and held.get(path.stem) == comment:
        return False
    table = _identifier(path.stem)
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_parquet(?)", [str(path)])
    con.execute(f"COMMENT ON TABLE {table} IS {_literal(comment)}")
    if held is not None:
        held[path.stem] = comment
    return True


def _publish_database(tmp: Path, target: Path) -> Path:
    """Rename the finished database into place, then record its SHA-256 (a torn record only costs a fresh build)."""
    digest = sha256_file(tmp)
    os.replace(tmp, target)
    atomic_write(target.with_name(DB_RECORD), (json.dumps({"sha256": digest}) + "\n").encode(), durable=False)
    return target


def _start_from(previous: Path | None, tmp: Path) -> bool:
    """Copy ``previous``'s database to ``tmp`` when it is the one recorded there; returns whether it was copied."""
    if previous is None:
        return False
    try:
        recorded = json.loads((previous / DB_RECORD).read_text(encoding="utf-8")).get("sha256")
        shutil.copyfile(previous / DB_FILE, tmp)
        if isinstance(recorded, str) and sha256_file(tmp) == recorded:  # the copy is what is checked
            return True
    except (OSError, ValueError, AttributeError):  # no database or record, or a damaged record
        pass
    tmp.unlink(missing_ok=True)
    return False


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def build_early(folder: Path, path: Path, previous: Path | None = None) -> None:
    """Load ``path`` (a table of the set ``folder``) into the set's database, and export its CSV, on a background thread.

    The first call for a set starts its database; ``previous`` is the set published before this run,
    whose CSVs of the same Parquet bytes are reused (see :func:`export_csvs`). :func:`write_exports`
    finishes both: a table written again after it was loaded is loaded and exported again there, so
    the result is the fresh build's database and files.
    """
    folder = _key(folder)
    with _guard:
        early = _early.get(folder)
        if early is None:
            early = _early[folder] = _EarlyDatabase(folder, previous)
    early.add(path)


def abandon_early(folder: Path | None = None) -> None:
    """Stop the early database of ``folder`` (every one without it) and remove its file: the set will not be finished."""
    with _guard:
        found = [_early.pop(f) for f in ([_key(folder)] if folder is not None else list(_early)) if f in _early]
    for early in found:
        early.abandon()


class _EarlyDatabase:
    """The set's ``pipeline.duckdb`` filled, and its CSVs exported, table by table on one background thread.

    The thread has the connection to itself until :meth:`drain` has joined it. DuckDB works on that
    one thread here, at a lower priority (the run's steps and its sidecar come first) and within a
    memory limit; its file is the fresh build's temporary file, so a run killed meanwhile leaves what a
    killed fresh build leaves. A CSV is exported as :func:`export_csvs` would (the same function, beside
    its target, renamed over it); ``exported`` records which file it came from.
    """

    def __init__(self, folder: Path, previous: Path | None = None) -> None:
        self.folder = folder
        self.previous = previous
        self.before = _exports(previous, exporter_version()) if previous is not None else {}
        # table → its file's signature when exported, and (Parquet SHA-256, CSV SHA-256), or None: no CSV
        self.exported: dict[str, tuple[tuple[int, int, int], tuple[str, str] | None]] = {}
        self.tmp = folder / f".{DB_FILE}.{os.getpid()}.tmp"
        self.tmp.unlink(missing_ok=True)
        # table → comment of each table the previous set's database held (empty: started empty)
        self.held: dict[str, str] = {}
        self.con = self._connect(_start_from(previous, self.tmp))
        for setting in ("enable_progress_bar = false", "threads = 1", f"memory_limit = '{EARLY_MEMORY}'"):
            self.con.execute(f"SET {setting}")
        self.loaded: dict[str, tuple[int, int, int]] = {}  # table → its file's (inode, size, mtime) when loaded
        self.todo: queue.SimpleQueue[Path | None] = queue.SimpleQueue()
        self.stopped = False
        self.thread = threading.Thread(target=self._work, name="pes-duckdb-early", daemon=True)
        self.thread.start()

    def _connect(self, copied: bool) -> duckdb.DuckDBPyConnection:
        """The connection to ``tmp``: the previous set's copy with its tables' comments in ``held``, or a new file."""
        if copied:
            try:
                con = duckdb.connect(str(self.tmp))
            except duckdb.Error:  # a file this DuckDB cannot open: start empty
                self.tmp.unlink(missing_ok=True)
                Path(f"{self.tmp}.wal").unlink(missing_ok=True)
            else:
                query = "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'main'"
                self.held = {str(n): str(c or "") for n, c in con.execute(query).fetchall()}
                return con
        return duckdb.connect(str(self.tmp))

    def add(self, path: Path) -> None:
        self.todo.put(Path(path))

    def _work(self) -> None:
        # Lower priority for this thread only (Linux nice is per thread): the run's own steps come first.
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), EARLY_NICE)
        while (path := self.todo.get()) is not None:
            if not self.stopped:
                try:
                    self._load(path)
                    self._export(path)
                except Exception:  # the file changed or went meanwhile: it is loaded and exported at the end
                    self.loaded.pop(path.stem, None)
                    self.exported.pop(path.stem, None)

    def _load(self, path: Path) -> None:
        signature = _signature(path)  # taken first: a file replaced while it is read differs at the end
        _load(self.con, path, self.held)
        self.loaded[path.stem] = signature

    def _export(self, path: Path) -> None:
        """On the background thread only: at the end, :func:`export_csvs` exports what this did not."""
        signature = _signature(path)
        self.exported[path.stem] = (signature, _export(self.con, path, self.folder, self.previous, self.before))

    def drain(self) -> None:
        """Wait for the work handed over so far (the thread ends; the connection is this caller's now)."""
        self.todo.put(None)
        self.thread.join()

    def finish(self) -> Path:
        """Load what is missing or changed, drop what is gone, checkpoint, rename into place."""
        self.drain()
        try:
            present = {p.stem: p for p in table_paths(self.folder)}
            held = {n for (n,) in self.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
            for name in sorted(held - set(present)):
                self.con.execute(f"DROP TABLE {_identifier(name)}")
            for name, path in present.items():
                if self.loaded.get(name) != _signature(path):
                    self._load(path)
            self.con.execute("CHECKPOINT")
            self.con.close()
        except BaseException:
            self.abandon()
            raise
        return _publish_database(self.tmp, self.folder / DB_FILE)

    def abandon(self) -> None:
        self.stopped = True
        with contextlib.suppress(duckdb.Error):  # closed already
            self.con.interrupt()
        self.todo.put(None)
        self.thread.join(timeout=60)
        self.con.close()
        self.tmp.unlink(missing_ok=True)
        Path(f"{self.tmp}.wal").unlink(missing_ok=True)


def _key(folder: Path) -> Path:
    """One key per set however its path was spelt (relative or absolute)."""
    return Path(os.path.abspath(folder))


def _signature(path: Path) -> tuple[int, int, int]:
    st = os.stat(path)
    return st.st_ino, st.st_size, st.st_mtime_ns


EARLY_MEMORY = "512MB"
EARLY_NICE = 10
_early: dict[Path, _EarlyDatabase] = {}
_guard = threading.Lock()
atexit.register(abandon_early)  # a run that ends without finishing its set (failed, or some assets only)


def write_exports(folder: Path, previous: Path | None = None) -> dict[str, str]:
    """``pipeline.duckdb`` and the CSV exports, written at the same time; returns :func:`export_csvs`' hashes.

    What :func:`build_early` did for the set is kept: the tables loaded and the CSVs exported from files
    that have not changed since. The rest of the database is built on a second thread while this one
    exports: neither reads what the other writes, and DuckDB releases the GIL while it works, so the two
    overlap on a second core.
    """
    early = _take_early(folder)
    with ThreadPoolExecutor(1, thread_name_prefix="pes-duckdb") as pool:
        database = pool.submit(_database, folder, early)
        hashes = export_csvs(folder, previous, early.exported if early is not None else None)
        database.result()
    return hashes


def export_csvs(
    folder: Path,
    previous: Path | None = None,
    exported: Mapping[str, tuple[tuple[int, int, int], tuple[str, str] | None]] | None = None,
) -> dict[str, str]:
    """``<name>.csv`` beside the set's root for every table marked for export; returns each file's SHA-256.

    The keys are paths relative to the set: every ``<name>.csv`` written and the ``tables/<name>.parquet``
    it came from, so the manifest need not read them again.

    A table with more rows than an Excel sheet holds gets no CSV: nobody could open it in the tool a CSV
    is for, and it is in ``pipeline.duckdb`` and ``tables/<name>.parquet`` (at national scale the lineage,
    3.3 million edges, would be a 600 MB CSV).

    A CSV is a function of its Parquet file's bytes, this module's code and DuckDB's version. So when
    ``previous`` (the set published before this run) exported the same Parquet bytes with the same
    exporter, its CSV is hard-linked instead of written again, after its bytes are checked against the
    SHA-256 recorded then (a nightly run where one county changed leaves most tables as they were). The
    record is ``.exports.json`` in each set.

    ``exported`` is what :func:`build_early` exported during the run, by table: its Parquet file's
    signature then, and the two hashes. A table whose file still has that signature is not exported again.
    """
    version = exporter_version()
    before = _exports(previous, version) if previous is not None else {}
    hashes: dict[str, str] = {}
    done: dict[str, list[str]] = {}
    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false")
        for path in table_paths(folder):
            early = (exported or {}).get(path.stem)
            if early is not None and early[0] == _signature(path):
                result = early[1]
            else:
                result = _export(con, path, folder, previous, before)
            if result is not None:
                hashes[f"{TABLES}/{path.name}"], hashes[f"{path.stem}.csv"] = result
                done[path.stem] = list(result)
    atomic_write(folder / EXPORTS, (json.dumps({"exporter": version, "csv": done}, indent=1) + "\n").encode())
    return hashes


def _export(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    folder: Path,
    previous: Path | None,
    before: Mapping[str, object],
) -> tuple[str, str] | None:
    """``<name>.csv`` of the table ``path`` in ``folder``, reused from ``previous`` or written; returns the
    (Parquet SHA-256, CSV SHA-256), or None for a table that gets no CSV (then none is left in ``folder``)."""
    target = folder / f"{path.stem}.csv"
    meta = pq.read_metadata(path)
    if meta.schema.to_arrow_schema().metadata.get(CSV_EXPORT_KEY) == b"0" or meta.num_rows > EXCEL_MAX_ROWS:
        target.unlink(missing_ok=True)  # exported early from a version of the table that had one
        return None
    source = sha256_file(path)
    csv = _reuse(previous, target, before.get(path.stem), source)
    if csv is None:
        export_csv(con, path, target)
        csv = sha256_file(target)
    return source, csv


def exporter_version() -> str:
    """What a CSV's bytes, or a table loaded into ``pipeline.duckdb``, depend on besides its Parquet file: the
    code of this module (and what it imports), DuckDB."""
    return f"{codeversion.of_module(__name__)}+duckdb-{duckdb.__version__}"


def _exports(previous: Path, version: str) -> dict[str, list[str]]:
    """{table: [Parquet SHA-256, CSV SHA-256]} that ``previous`` recorded with exporter ``version``, else {}."""
    try:
        record = json.loads((previous / EXPORTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(record, dict) or record.get("exporter") != version or not isinstance(record.get("csv"), dict):
        return {}
    return record["csv"]


def _reuse(previous: Path | None, target: Path, recorded: object, source: str) -> str | None:
    """Hard-link ``previous``'s CSV of the same name to ``target`` when it came from the same Parquet bytes and is intact.

    ``recorded`` is what ``previous`` recorded for it ([Parquet SHA-256, CSV SHA-256]). Returns the CSV's
    SHA-256, or None when it cannot be used (then the CSV is written afresh).
    """
    if previous is None or not (isinstance(recorded, list) and len(recorded) == 2 and recorded[0] == source):
        return None
    old = previous / target.name
    try:
        if sha256_file(old) != recorded[1]:  # changed since it was published: never carried forward
            return None
        tmp = target.with_name(f".{target.name}.{os.getpid()}.link")
        tmp.unlink(missing_ok=True)
        os.link(old, tmp)
        os.replace(tmp, target)
    except OSError:
        return None
    return str(recorded[1])


def export_csv(con: duckdb.DuckDBPyConnection, table: Path, path: Path) -> None:
    """The Parquet file ``table`` as a CSV with the guarantees of ``escape.csv_bytes``, written by DuckDB.

    UTF-8 with a BOM, newline line ends, text cells that would start a formula escaped with an
    apostrophe (numbers untouched), dates as YYYY-MM-DD. Rows keep their order, so the same table
    always gives the same bytes.
    """
    source = f"read_parquet({_literal(table)})"
    columns = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    select = []
    for column, dtype, *_ in columns:
        q = '"' + column.replace('"', '""') + '"'
        if dtype == "VARCHAR" or dtype.startswith("ENUM"):
            text = f"CAST({q} AS VARCHAR)"
            select.append(
                f"CASE WHEN regexp_matches({text}, '{FORMULA_START}') THEN chr(39) || {text} ELSE {text} END AS {q}"
            )
        elif dtype.startswith("TIMESTAMP"):
            select.append(f"CAST({q} AS DATE) AS {q}")
        else:
            select.append(q)
    body = path.with_name(f".{path.name}.{os.getpid()}.body")
    con.execute(f"COPY (SELECT {', '.join(select)} FROM {source}) TO {_literal(body)} (HEADER, DELIMITER ',')")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as out, body.open("rb") as rest:
        out.write(b"\xef\xbb\xbf")  # Excel reads UTF-8 Chinese only after a BOM
        shutil.copyfileobj(rest, out, 1 << 20)
    body.unlink()
    os.replace(tmp, path)


def _literal(path: Path | str) -> str:
    """``path`` (or any text) as an SQL string literal (COPY, COMMENT and table functions in FROM take no parameters)."""
    return "'" + str(path).replace("'", "''") + "'"
