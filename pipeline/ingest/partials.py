"""Per-file validation results kept by content, so a nightly run re-validates only the files that changed.

What one file's rows of one kind become under the per-row rules
(:func:`pipeline.ingest.validate.check_rows`: typing, codes, period, plausibility, reversals) does
not depend on any other file. That part, a *partial*, is stored under ``OUT/.cache/<id>/validated/``
keyed by everything it depends on:

- the file's read key (reader version, its place, its SHA-256, the limits: :func:`isolation.cache_key`);
- the kind;
- the code version of validation (the hash of every ``pipeline`` module it can run, :mod:`pipeline.codeversion`);
- the evaluation's configuration (every configuration file's SHA-256: settings, frameworks, codes);
- the codes the rules check against, the sub-project registry's included (it is itself a submission).

Change any of them and every affected partial is missed and recomputed; a partial that is not used
by a run is removed. The rule across files, unique ids, runs over all partials every run
(:func:`pipeline.ingest.validate.unique_ids`), so a kept partial never hides a new duplicate.

A partial is a sealed record (:mod:`pipeline.ingest.sealed`): four Arrow tables (accepted rows,
quarantine records, per-sheet counts, the ids), never pickle. A damaged entry fails its hash and is
recomputed. Accepted rows go through Arrow with a schema fixed by their dtypes, so a frame put
together from partials equals the frame validated in one batch.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline import codeversion, fieldtypes
from pipeline.contract import Kind
from pipeline.evaluation import Evaluation
from pipeline.files import atomic_write, sha256_file
from pipeline.ingest.isolation import cache_key
from pipeline.ingest.read import RawTable, SourceFile
from pipeline.ingest.sealed import Damaged, seal, unseal
from pipeline.ingest.validate import ID_COLUMNS, QUARANTINE_COLUMNS, Checked, Codes

MAGIC = b"PESPART1"
SUFFIX = ".part"
BY_SHEET_COLUMNS = ["file", "sheet", "rows", "row_lines", "accepted", "accepted_lines"]
_ARROW_TYPES = {
    "object": pa.string(),
    "int64": pa.int64(),
    "bool": pa.bool_(),
    "datetime64[ns]": pa.timestamp("ns"),
}
# Text with a handful of values across a whole kind (sheet names, headers, rules): a dictionary, which a
# file's part carries whole (a few entries), instead of the text on every row.
_DICTIONARY = pa.dictionary(pa.int32(), pa.string())
_FEW = dict.fromkeys(("sheet", "title", "column", "rule"), _DICTIONARY)
_CONSTANT = ("file", "submitter", "kind")  # the same on every row of a part; "county_code" too for county kinds
_QUARANTINE_TYPES = dict.fromkeys(QUARANTINE_COLUMNS, "object") | {"row": "int64"}
_BY_SHEET_TYPES = dict.fromkeys(BY_SHEET_COLUMNS, "int64") | {"file": "object", "sheet": "object"}
_ID_TYPES = dict.fromkeys(ID_COLUMNS, "object") | {"row": "int64", "span": "int64", "passed": "bool"}


@cache
def code_version() -> str:
    """The version of everything a partial's content can depend on: this module's import closure."""
    return codeversion.of_module(__name__)


def context_key(ev: Evaluation, codes: Codes) -> str:
    """What every partial of this run depends on besides its file: code, configuration, codes."""
    h = hashlib.sha256(f"{MAGIC.decode()}|{code_version()}\n".encode())
    for path in ev.config_files():
        h.update(f"{path.relative_to(ev.folder).as_posix()}\0{sha256_file(path)}\n".encode())
    h.update(json.dumps(dataclasses.asdict(codes), ensure_ascii=False, sort_keys=True).encode())
    return h.hexdigest()


@dataclasses.dataclass
class Part:
    """One file's partial of one kind, as Arrow tables with fixed schemas."""

    accepted: pa.Table
    quarantine: pa.Table
    by_sheet: pa.Table
    ids: pa.Table


class Store:
    """The partials of one run: found, written, and the rest removed at the end (:meth:`sweep`).

    Each kind is validated in its own thread, and each (file, kind) entry is touched by one thread only.
    """

    def __init__(self, directory: Path, ev: Evaluation, codes: Codes) -> None:
        self.directory = directory
        self.context = context_key(ev, codes)
        self.limits = ev.limits
        self.used: set[str] = set()
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()

    def _name(self, kind: Kind, sf: SourceFile) -> str:
        key = hashlib.sha256(f"{self.context}|{kind.name}|{cache_key(sf, self.limits)}".encode()).hexdigest()
        return key + SUFFIX

    def find(self, kind: Kind, sf: SourceFile) -> Part | None:
        name = self._name(kind, sf)
        try:
            meta, tables = unseal(MAGIC, (self.directory / name).read_bytes())
            part = _part(meta, tables) if meta.get("kind") == kind.name and meta.get("file") == sf.rel else None
        except (OSError, Damaged, KeyError, TypeError, ValueError, pa.ArrowException):  # not a part of this layout
            part = None
        with self._lock:
            self.used.add(name)
            if part is None:
                self.misses += 1
            else:
                self.hits += 1
        return part

    def keep(self, kind: Kind, sf: SourceFile, part: Part) -> None:
        """Store one part. Its per-sheet counts go in the metadata, and tables without rows are left out:
        most files have no quarantined row, and each stream costs its own opening when read back."""
        self.directory.mkdir(parents=True, exist_ok=True)
        meta = {
            "kind": kind.name,
            "file": sf.rel,
            "by_sheet": part.by_sheet.to_pylist(),
            "quarantine": part.quarantine.num_rows > 0,
            "ids": part.ids.num_rows > 0,
        }
        tables = [part.accepted] + [t for t in (part.quarantine, part.ids) if t.num_rows]
        # No fsync: an entry carries its SHA-256, so a torn one is detected and recomputed.
        atomic_write(self.directory / self._name(kind, sf), seal(MAGIC, meta, tables), durable=False)

    def sweep(self) -> None:
        """Remove every entry this run did not use: the store holds exactly the current inputs' partials."""
        if self.directory.is_dir():
            for entry in self.directory.iterdir():
                if entry.name not in self.used:
                    entry.unlink(missing_ok=True)


def _part(meta: dict, tables: list[pa.Table]) -> Part:
    """A :class:`Part` from a stored entry (:meth:`Store.keep`); a table left out is empty."""
    rest = iter(tables[1:])
    quarantine = next(rest) if meta["quarantine"] else _schema(QUARANTINE_COLUMNS, _QUARANTINE_TYPES).empty_table()
    ids = next(rest) if meta["ids"] else _schema(ID_COLUMNS, _ID_TYPES).empty_table()
    if next(rest, None) is not None:
        raise ValueError("a part with more tables than its metadata says")
    by_sheet = pa.Table.from_pylist(meta["by_sheet"], schema=_schema(BY_SHEET_COLUMNS, _BY_SHEET_TYPES))
    return Part(tables[0], quarantine, by_sheet, ids)


def check_kind(
    kind: Kind,
    tables: list[RawTable],
    store: Store | None,
    check: Callable[[list[RawTable]], Checked],
) -> Checked:
    """The kind's per-row results: kept partials for unchanged files, ``check`` over the others (then kept).

    ``check`` is :func:`~pipeline.ingest.validate.check_rows` bound to the kind and the run.
    """
    if store is None or sum(t.frame.num_rows for t in tables) == 0:
        return check(tables)  # no rows at all: nothing worth keeping, and the empty frames keep their dtypes
    files = _files_in_order(tables)
    found = {sf.rel: part for sf in files if (part := store.find(kind, sf)) is not None}
    todo = [t for t in tables if t.file.rel not in found]
    fresh = check(todo) if todo else None
    made: dict[str, Part] = {}
    if fresh is not None:
        for sf, part in split(kind, fresh, [sf for sf in files if sf.rel not in found]):
            store.keep(kind, sf, part)
            if found:  # only needed to put the kind together below
                made[sf.rel] = part
    if fresh is not None and not found:
        return fresh  # nothing kept: the batch is the result as it stands
    return assemble([found[sf.rel] if sf.rel in found else made[sf.rel] for sf in files])


def _files_in_order(tables: Sequence[RawTable]) -> list[SourceFile]:
    return list({id(t.file): t.file for t in tables}.values())


def split(kind: Kind, checked: Checked, files: list[SourceFile]) -> Iterator[tuple[SourceFile, Part]]:
    """One :class:`Part` per file, each with that file's rows in the batch's order, one file at a time.

    The columns that are the same on every row of a file (its path, its submitter, the kind, and a
    county submission's county) are stored once, as a one-value dictionary.
    """
    frames = {
        "accepted": (checked.accepted, accepted_types(kind)),
        "quarantine": (checked.quarantine, _QUARANTINE_TYPES),
        "by_sheet": (checked.by_sheet, _BY_SHEET_TYPES),
        "ids": (checked.ids, _ID_TYPES),
    }
    constant = set(_CONSTANT) | ({"county_code"} if kind.county_scoped else set())
    tables = {name: _arrow(frame, types, constant) for name, (frame, types) in frames.items()}
    where = {name: _positions(frame["file"]) for name, (frame, _) in frames.items()}
    empty = np.zeros(0, dtype=np.int64)
    for sf in files:
        values = {"file": sf.rel, "submitter": sf.submitter, "kind": kind.name, "county_code": sf.submitter}
        parts = {}
        for name, (frame, _) in frames.items():
            rows = tables[name].take(where[name].get(sf.rel, empty))
            for i, column in enumerate(frame.columns):
                if column in constant:
                    rows = rows.add_column(i, column, _one_value(values[column], rows.num_rows))
            parts[name] = rows
        yield sf, Part(**parts)


def assemble(parts: list[Part]) -> Checked:
    """The per-row results of a whole kind from its files' parts, in the order of ``parts``."""

    def frame(tables: list[pa.Table]) -> pd.DataFrame:
        whole = pa.concat_tables(tables)
        for i, field in enumerate(whole.schema):
            if pa.types.is_dictionary(field.type):
                whole = whole.set_column(i, field.name, whole.column(i).cast(pa.string()))
        return whole.to_pandas()

    return Checked(
        accepted=frame([p.accepted for p in parts]),
        quarantine=frame([p.quarantine for p in parts]),
        by_sheet=frame([p.by_sheet for p in parts]),
        ids=frame([p.ids for p in parts]),
    )


def _schema(names: Sequence[str], types: dict[str, str]) -> pa.Schema:
    """The schema of a part's table (not the accepted rows, whose county column may also be constant)."""
    return pa.schema([(n, _DICTIONARY if n in _CONSTANT or n in _FEW else _ARROW_TYPES[types[n]]) for n in names])


def _one_value(value: str, n: int) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([value], pa.string()))


def _positions(files: pd.Series) -> dict[str, np.ndarray]:
    """Row positions per file, each in the frame's order."""
    if files.empty:
        return {}
    return {
        str(k): np.asarray(v, dtype=np.int64) for k, v in files.groupby(files.to_numpy(), sort=False).indices.items()
    }


def accepted_types(kind: Kind) -> dict[str, str]:
    """The dtype of every column of a kind's accepted rows, as :func:`check_rows` gives them for any rows."""
    types = {"file": "object", "sheet": "object", "row": "int64", "submitter": "object", "county_code": "object"}
    return types | {name: str(fieldtypes.of(col).dtype or "object") for name, col in kind.columns.items()}


def _arrow(frame: pd.DataFrame, types: dict[str, str], leave_out: set[str]) -> pa.Table:
    """``frame`` as Arrow with a schema fixed by pandas dtypes (object is text), so a round trip gives the same frame."""
    names = [name for name in frame.columns if name not in leave_out]
    try:
        schema = pa.schema([(name, _FEW.get(name) or _ARROW_TYPES[types[name]]) for name in names])
    except KeyError as exc:
        raise TypeError(f"no partial storage for column {exc} of dtype {types.get(str(exc.args[0]))}") from exc
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)  # only the schema's columns
    return table.replace_schema_metadata(None)
