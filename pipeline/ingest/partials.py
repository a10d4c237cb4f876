"""Per-file validation results kept by content, so a nightly run re-validates only the files that changed.

What one file's rows of one kind become under the per-row rules
(:func:`pipeline.ingest.validate.check_rows`: typing, codes, period, plausibility, reversals) does
not depend on any other file. That part, a *partial*, is kept under ``OUT/.cache/<id>/validated/``
keyed by everything it depends on:

- the file's read key (reader version, its place, its SHA-256, the limits: :func:`isolation.cache_key`);
- the kind;
- the code version of validation (the hash of every ``pipeline`` module it can run, :mod:`pipeline.codeversion`);
- the evaluation's configuration (every configuration file's SHA-256: settings, frameworks, codes);
- the codes the rules check against, the sub-project registry's included (it is itself a submission).

Change any of them and the affected partials are missed and recomputed. The rule across files, unique
ids, runs over all partials every run (:func:`pipeline.ingest.validate.unique_ids`), so a kept partial
never hides a new duplicate.

Partials are stored in *packs*, one sealed record (:mod:`pipeline.ingest.sealed`: Arrow IPC and JSON,
never pickle) per kind and batch: a cold run writes one pack per kind, a nightly run one small pack
per kind for the changed files. A pack's metadata says where each partial's rows are (accepted rows,
quarantine records, ids) and holds its per-sheet counts. Serialising a file's few rows on its own
cost more than validating them, which is why partials travel together. A pack none of whose partials
a run used is removed; when a kind's partials are spread over too many packs, or its packs hold more
stale rows than used ones, the kind is written again as one pack. A damaged pack fails its hash and
its partials are recomputed. Accepted rows go through Arrow with a schema fixed by their dtypes, so a
frame put together from partials equals the frame validated in one batch.

Each partial also records a content id (:func:`content_key`), which a partial of the same file
computed again keeps when its rows are exactly the same; a kind's content key, over its files' ids,
lets the I/O manager link the published set's table of the same rows instead of writing it again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline import codeversion, fieldtypes
from pipeline.contract import Kind
from pipeline.evaluation import Evaluation
from pipeline.files import sha256_file
from pipeline.ingest.isolation import cache_key
from pipeline.ingest.read import RawTable, SourceFile
from pipeline.ingest.sealed import Batches, Damaged, seal_to, unseal
from pipeline.ingest.validate import ID_COLUMNS, QUARANTINE_COLUMNS, Checked, Codes

MAGIC = b"PESPACK1"
SUFFIX = ".pack"
MAX_PACKS = 8  # a kind's partials in more packs than this are written again as one
BATCH_ROWS = 65_536  # rows converted and written at a time when a whole kind is packed
BY_SHEET_COLUMNS = ["file", "sheet", "rows", "row_lines", "accepted", "accepted_lines"]
_ARROW_TYPES = {
    "object": pa.string(),
    "int64": pa.int64(),
    "bool": pa.bool_(),
    "datetime64[ns]": pa.timestamp("ns"),
}
# Text with a handful of values across a whole kind (sheet names, headers, rules): a dictionary.
_FEW = dict.fromkeys(("sheet", "title", "column", "rule"), pa.dictionary(pa.int32(), pa.string()))
_CONSTANT = ("file", "submitter", "kind")  # the same on every row of a partial (and a county kind's county_code)
_QUARANTINE_TYPES = dict.fromkeys(QUARANTINE_COLUMNS, "object") | {"row": "int64"}
_BY_SHEET_TYPES = dict.fromkeys(BY_SHEET_COLUMNS, "int64") | {"file": "object", "sheet": "object"}
_ID_TYPES = dict.fromkeys(ID_COLUMNS, "object") | {"row": "int64", "span": "int64", "passed": "bool"}
_TABLES = ("accepted", "quarantine", "ids")


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
    """One file's partial of one kind: slices of a pack's tables (None where the file has no such row)."""

    file: str
    submitter: str
    columns: list[str]  # the accepted rows' columns in order, the constant ones included
    accepted: pa.Table  # the tables leave out the constant columns (:func:`constant_columns`)
    quarantine: pa.Table | None
    by_sheet: list[dict[str, Any]]  # a few rows (one per sheet), kept as plain values
    ids: pa.Table | None
    content: str = ""  # what the partial holds (:func:`content_key`); the partial key unless carried forward


@dataclasses.dataclass
class Pack:
    name: str
    parts: dict[str, Part]  # by partial key
    rows: int  # accepted rows in the pack, used or not


class Store:
    """The packs of one run: read per kind, written per kind, and those not used removed (:meth:`sweep`).

    Each kind is validated in its own thread and touches only its own packs.
    """

    def __init__(self, directory: Path, ev: Evaluation, codes: Codes) -> None:
        self.directory = directory
        self.context = context_key(ev, codes)
        self.limits = ev.limits
        self.used: set[str] = set()
        self.hits = 0
        self.misses = 0
        self.contents: dict[str, str] = {}  # kind → what its rows are made of (:func:`content_key`)
        self._lock = threading.Lock()

    def key(self, kind: Kind, sf: SourceFile) -> str:
        return hashlib.sha256(f"{self.context}|{kind.name}|{cache_key(sf, self.limits)}".encode()).hexdigest()

    def packs(self, kind: Kind) -> list[Pack]:
        """The kind's packs as stored; a damaged one is left out (and removed by the sweep)."""
        out = []
        for path in sorted(self.directory.glob(f"{kind.name}.*{SUFFIX}")):
            try:
                meta, tables = unseal(MAGIC, path.read_bytes())
                if meta["kind"] != kind.name or len(tables) != len(_TABLES):
                    continue
                out.append(Pack(path.name, _parts(meta, dict(zip(_TABLES, tables))), tables[0].num_rows))
            except (OSError, Damaged, KeyError, TypeError, ValueError, pa.ArrowException):  # not a pack of ours
                continue
        return out

    def write(
        self,
        kind: Kind,
        checked: Checked,
        files: list[SourceFile],
        parts: bool = True,
        earlier: Mapping[str, list[Part]] | None = None,
        contents: Mapping[str, str] | None = None,
    ) -> Pack:
        """One pack with these files' partials (from ``checked``, which holds their rows and no other).

        The pack is not yet kept: :meth:`mark` it, or the sweep removes it. Without ``parts`` the
        returned pack has none (nothing is left to put together), and its rows are converted and
        written a batch at a time: a whole kind's rows are never in memory twice.

        Each partial records its content id (:func:`content_key`): ``contents`` gives it by partial key;
        otherwise it is the partial key, or, with ``parts``, that of a partial in ``earlier`` (by file)
        holding exactly the same rows, records and sheet counts: a file resubmitted with this kind's
        sheet unchanged keeps the id its rows had.
        """
        keys = {sf.rel: self.key(kind, sf) for sf in files}
        frames, entries = _pack(kind, checked, files, keys)
        for key, entry in entries.items():
            entry["content"] = (contents or {}).get(key, key)
        name = f"{kind.name}.{hashlib.sha256(''.join(sorted(keys.values())).encode()).hexdigest()[:32]}{SUFFIX}"
        meta = {"kind": kind.name, "columns": [str(c) for c in checked.accepted.columns], "entries": entries}
        self.directory.mkdir(parents=True, exist_ok=True)
        constant = constant_columns(kind)
        made: dict[str, Part] = {}
        if parts:
            tables = {t: _arrow(frame, types, constant) for t, (frame, types) in frames.items()}
            sources: list[pa.Table | Batches] = [tables[t] for t in _TABLES]
            made = _parts(meta, tables)
            for key, part in made.items():
                same = next((old for old in (earlier or {}).get(part.file, []) if _same_rows(old, part)), None)
                if same is not None:
                    part.content = entries[key]["content"] = same.content
        else:
            sources = [_batches(*frames[t], constant) for t in _TABLES]
        # No fsync: a pack carries its SHA-256, so a torn one is detected and its partials recomputed.
        seal_to(self.directory / name, MAGIC, meta, sources, durable=False)
        return Pack(name, made, len(checked.accepted))

    def mark(self, name: str) -> None:
        """Keep this pack: a partial of it is in use."""
        with self._lock:
            self.used.add(name)

    def count(self, hits: int, misses: int) -> None:
        with self._lock:
            self.hits += hits
            self.misses += misses

    def content(self, kind: Kind, ids: Sequence[str]) -> None:
        with self._lock:
            self.contents[kind.name] = content_key(ids)

    def sweep(self) -> None:
        """Remove every pack (and anything else) this run did not use."""
        if self.directory.is_dir():
            for entry in self.directory.iterdir():
                if entry.name not in self.used:
                    entry.unlink(missing_ok=True)


def content_key(ids: Sequence[str]) -> str:
    """What a kind's checked rows are made of: its files' content ids, in the order the rows come.

    A partial's content id is the key it was first computed under (which holds the code, configuration
    and codes the rules ran under, and its file's bytes), carried forward to a partial computed again
    only when that one holds exactly the same rows, records and sheet counts (:meth:`Store.write`).
    The rule across files (unique ids) sees only the kind's own rows. So the same key, the same rows:
    the I/O manager stores the kind's table by linking the published set's file of the same key.
    """
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()


def _same_rows(a: Part, b: Part) -> bool:
    """Whether two partials of one file hold the same rows, records and sheet counts (text compared decoded)."""
    return (
        a.submitter == b.submitter
        and a.columns == b.columns
        and a.by_sheet == b.by_sheet
        and all(_same_table(getattr(a, t), getattr(b, t)) for t in _TABLES)
    )


def _same_table(a: pa.Table | None, b: pa.Table | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return bool(_decoded(a).equals(_decoded(b)))


def _decoded(table: pa.Table) -> pa.Table:
    """``table`` with its dictionary columns as plain text: two packs' dictionaries of the same values differ."""
    for i, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(field.type.value_type))
    return table


def check_kind(
    kind: Kind,
    tables: list[RawTable],
    store: Store | None,
    check: Callable[[list[RawTable]], Checked],
) -> Checked:
    """The kind's per-row results: kept partials for unchanged files, ``check`` over the others (then kept).

    ``check`` is :func:`~pipeline.ingest.validate.check_rows` bound to the kind and the run.
    """
    if store is None or sum(t.rows for t in tables) == 0:
        return check(tables)  # no rows at all: nothing worth keeping, and the empty frames keep their dtypes
    files = _files_in_order(tables)
    keys = {sf.rel: store.key(kind, sf) for sf in files}
    wanted = set(keys.values())
    found: dict[str, Part] = {}
    used: list[Pack] = []
    packs = store.packs(kind)
    for pack in packs:
        hit = {k: p for k, p in pack.parts.items() if k in wanted and k not in found}
        if hit:
            found.update(hit)
            used.append(pack)
    todo = [t for t in tables if keys[t.file.rel] not in found]
    store.count(hits=len(found), misses=len(files) - len(found))
    kept = sum(found[k].accepted.num_rows for pack in used for k in pack.parts if k in found)
    stale = sum(pack.rows for pack in used) - kept
    fresh, made = None, None
    if todo:
        fresh = check(todo)
        again = [sf for sf in files if keys[sf.rel] not in found]
        # The partials these files had before (another version of the file, or other code or settings).
        earlier: dict[str, list[Part]] = {}
        names = {sf.rel for sf in again}
        for pack in packs:
            for k, p in pack.parts.items():
                if p.file in names and k not in wanted:
                    earlier.setdefault(p.file, []).append(p)
        made = store.write(kind, fresh, again, parts=bool(found), earlier=earlier)
        if not found:
            store.mark(made.name)
            store.content(kind, [keys[sf.rel] for sf in files])
            return fresh  # nothing kept: the batch is the result as it stands
        found.update(made.parts)
    contents = {keys[sf.rel]: found[keys[sf.rel]].content for sf in files}
    store.content(kind, [contents[keys[sf.rel]] for sf in files])
    whole = assemble(kind, [found[keys[sf.rel]] for sf in files])
    if len(used) + (made is not None) > MAX_PACKS or stale > kept:
        # Too many packs, or more stale rows than kept ones: the kind as one pack; the sweep takes the others.
        store.mark(store.write(kind, whole, files, parts=False, contents=contents).name)
    else:
        for pack in [*used, *([made] if made is not None else [])]:
            store.mark(pack.name)
    return whole


def _files_in_order(tables: Sequence[RawTable]) -> list[SourceFile]:
    return list({id(t.file): t.file for t in tables}.values())


def _pack(
    kind: Kind, checked: Checked, files: list[SourceFile], keys: dict[str, str]
) -> tuple[dict[str, tuple[pd.DataFrame, dict[str, str]]], dict[str, dict[str, Any]]]:
    """The pack's frames with their dtypes (each file's rows together, in ``files``' order), and where
    each file's rows are."""
    order = {sf.rel: i for i, sf in enumerate(files)}
    frames = {
        "accepted": (checked.accepted, accepted_types(kind)),
        "quarantine": (_grouped(checked.quarantine, order), _QUARANTINE_TYPES),
        "ids": (checked.ids, _ID_TYPES),
    }
    ranges = {name: _ranges(frame["file"]) for name, (frame, _) in frames.items()}
    sheets: dict[str, list[dict[str, Any]]] = {}
    for row in checked.by_sheet.astype(_BY_SHEET_TYPES).to_dict("records"):  # one per sheet, not per row
        sheets.setdefault(str(row["file"]), []).append({str(k): v for k, v in row.items()})
    entries = {
        keys[sf.rel]: {
            "file": sf.rel,
            "submitter": sf.submitter,
            "by_sheet": sheets.get(sf.rel, []),
            **{name: ranges[name].get(sf.rel, [0, 0]) for name in _TABLES},
        }
        for sf in files
    }
    return frames, entries


def _grouped(frame: pd.DataFrame, order: dict[str, int]) -> pd.DataFrame:
    """``frame``'s rows grouped by file in ``order``, each file's rows in their order (records come by rule)."""
    if frame.empty:
        return frame
    at = frame["file"].map(order).to_numpy()
    return frame.iloc[np.argsort(at, kind="stable")].reset_index(drop=True)


def _ranges(files: pd.Series) -> dict[str, list[int]]:
    """[start, length] of each file's rows, which are together."""
    if files.empty:
        return {}
    values = files.to_numpy()
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    lengths = np.diff(np.r_[starts, len(values)])
    return {str(values[s]): [int(s), int(n)] for s, n in zip(starts, lengths)}


def _parts(meta: dict[str, Any], tables: dict[str, pa.Table]) -> dict[str, Part]:
    out = {}
    for key, entry in meta["entries"].items():
        sliced = {
            name: tables[name].slice(*entry[name]) if name == "accepted" or entry[name][1] else None for name in _TABLES
        }
        out[key] = Part(
            entry["file"],
            entry["submitter"],
            meta["columns"],
            sliced["accepted"],
            sliced["quarantine"],
            entry["by_sheet"],
            sliced["ids"],
            entry.get("content", key),
        )
    return out


def assemble(kind: Kind, parts: list[Part]) -> Checked:
    """The per-row results of a whole kind from its files' parts, in the order of ``parts``."""
    constant = constant_columns(kind)

    def frame(name: str, columns: Sequence[str], types: dict[str, str]) -> pd.DataFrame:
        present = [(p, t) for p in parts if (t := getattr(p, name)) is not None]
        stored = [c for c in columns if c not in constant]
        whole = pa.concat_tables([t for _, t in present]) if present else _schema(stored, types).empty_table()
        for i, field in enumerate(whole.schema):
            if pa.types.is_dictionary(field.type):
                whole = whole.set_column(i, field.name, whole.column(i).cast(pa.string()))
        out: pd.DataFrame = whole.to_pandas()
        lengths = np.array([t.num_rows for _, t in present], dtype=np.int64)
        values = {
            "file": [p.file for p, _ in present],
            "submitter": [p.submitter for p, _ in present],
            "county_code": [p.submitter for p, _ in present],
            "kind": [kind.name] * len(present),
        }
        for i, column in enumerate(columns):  # in order, so each lands where it was
            if column in constant:
                out.insert(i, column, np.repeat(np.array(values[column], dtype=object), lengths))
        return out

    sheets = [row for p in parts for row in p.by_sheet]
    return Checked(
        accepted=frame("accepted", parts[0].columns if parts else [], accepted_types(kind)),
        quarantine=frame("quarantine", QUARANTINE_COLUMNS, _QUARANTINE_TYPES),
        by_sheet=pd.DataFrame(sheets, columns=BY_SHEET_COLUMNS).astype(_BY_SHEET_TYPES),
        ids=frame("ids", ID_COLUMNS, _ID_TYPES),
    )


def constant_columns(kind: Kind) -> set[str]:
    """The columns with one value in a file's rows of ``kind``: not stored per row."""
    return set(_CONSTANT) | ({"county_code"} if kind.county_scoped else set())


def _schema(names: Sequence[str], types: dict[str, str]) -> pa.Schema:
    return pa.schema([(n, _FEW.get(n) or _ARROW_TYPES[types[n]]) for n in names])


def accepted_types(kind: Kind) -> dict[str, str]:
    """The dtype of every column of a kind's accepted rows, as :func:`check_rows` gives them for any rows."""
    types = {"file": "object", "sheet": "object", "row": "int64", "submitter": "object", "county_code": "object"}
    return types | {name: str(fieldtypes.of(col).dtype or "object") for name, col in kind.columns.items()}


def _batches(frame: pd.DataFrame, types: dict[str, str], leave_out: set[str]) -> Batches:
    """``frame`` as :func:`_arrow` gives it, a slice of rows at a time."""
    table = _arrow(frame.iloc[:0], types, leave_out)
    slices = (frame.iloc[i : i + BATCH_ROWS] for i in range(0, len(frame), BATCH_ROWS))
    return table.schema, (_arrow(rows, types, leave_out).combine_chunks().to_batches()[0] for rows in slices)


def _arrow(frame: pd.DataFrame, types: dict[str, str], leave_out: set[str]) -> pa.Table:
    """``frame`` as Arrow with a schema fixed by pandas dtypes (object is text), so a round trip gives the same frame."""
    names = [name for name in frame.columns if name not in leave_out]
    try:
        schema = _schema(names, types)
    except KeyError as exc:
        raise TypeError(f"no partial storage for column {exc} of dtype {types.get(str(exc.args[0]))}") from exc
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)  # only the schema's columns
    return table.replace_schema_metadata(None)
