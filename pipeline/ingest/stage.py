"""Ingest one evaluation: inventory, read (isolated), validate every kind, account for every line.

Pure pandas, no Dagster: the assets in ``pipeline.defs.assets.ingest`` call :func:`ingest`, and so
does ``python -m pipeline check`` (through :func:`ingest_files`).
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline import findings, progress
from pipeline.contract import KINDS, Kind
from pipeline.evaluation import Evaluation
from pipeline.ingest.inventory import RECOGNISED, UNRECOGNISED, kind_from_name, list_submissions
from pipeline.ingest.isolation import read_files
from pipeline.ingest.partials import Store, check_kind
from pipeline.ingest.read import Problem, RawTable, SourceFile
from pipeline.ingest.validate import QUARANTINE_COLUMNS, Codes, Validated, check_rows, unique_ids, validate_kind
from pipeline.memory import return_freed
from pipeline.tables import columns

VALIDATE_THREADS = os.cpu_count() or 2
# Rows whose validation may be under way at once. Validating a kind holds its raw cells, the typed frame
# and pandera's intermediates (about 1 KiB a row at its height): two million-row kinds side by side were the
# national run's peak. A kind larger than this runs with only small kinds beside it.
VALIDATE_ROWS_AT_ONCE = 1_200_000
# A kind of fewer rows is not followed by handing freed memory back: trimming glibc's heap walks all of it
# whatever was freed (0.54 s of the validation threads over a national nightly run's 15 kinds, py-spy),
# and the little a small kind held is reused by the next one.
RETURN_FREED_ROWS = 100_000
INVENTORY_COLUMNS = columns("submission_inventory")
SHEET_COLUMNS = columns("sheet_inventory")
STATUS_LABELS = {"accepted": "已采用", "partial": "部分采用", "rejected": "整份拒收", "unrecognised": "未识别"}


@dataclasses.dataclass
class Ingested:
    tables: dict[str, pd.DataFrame]  # kind → accepted rows
    quarantine: pd.DataFrame  # QUARANTINE_COLUMNS; row is NA for file- and sheet-level records
    inventory: pd.DataFrame  # INVENTORY_COLUMNS, one row per file or entry found in the submission folders
    sheets: pd.DataFrame  # SHEET_COLUMNS, one row per sheet (or CSV) read: every line accounted for
    missing: pd.DataFrame  # expected submissions not received: submitter_type, submitter, kind
    findings: pd.DataFrame
    # Per-file validation results (file × kind) taken from the store, and computed in this run.
    partials: dict[str, int] = dataclasses.field(default_factory=lambda: {"reused": 0, "computed": 0})
    # kind → what its accepted rows are made of (``partials.content_key``), for kinds validated through the store.
    contents: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def rows(self) -> dict[str, int]:
        inv = self.inventory
        return {
            "read": int(inv["rows_read"].sum()),
            "accepted": int(inv["rows_accepted"].sum()),
            "quarantined": int(inv["rows_quarantined"].sum()),
        }

    @property
    def files(self) -> dict[str, int]:
        status = self.inventory["status"]
        return {
            "read": int((status != "unrecognised").sum()),
            "rejected": int((status == "rejected").sum()),
            "unrecognised": int((status == "unrecognised").sum()),
            "missing": len(self.missing),
        }


def source_files(ev: Evaluation, raw_root: Path) -> list[SourceFile]:
    """The evaluation's entries as SourceFiles; those not to be read already carry their problem."""
    out = []
    for x in list_submissions(ev, raw_root):
        ident = x.identity
        sf = SourceFile(
            path=x.entry.path,
            rel=x.rel,
            sha256=x.sha256,
            submitter_type=ident.submitter_type,
            submitter=ident.submitter,
            listing=ident.status,
            stamp=x.stamp,
        )
        if ident.status != RECOGNISED:
            sf.problems.append(Problem(ident.rule, ident.message))
        out.append(sf)
    return out


def ingest(ev: Evaluation, raw_root: Path, cache_dir: Path | None = None, partials_dir: Path | None = None) -> Ingested:
    """Read and validate the evaluation's submissions.

    ``cache_dir`` keeps read files by content; ``partials_dir`` keeps each file's validation results
    (:mod:`pipeline.ingest.partials`), so an unchanged file is neither read nor validated again.
    """
    return ingest_files(ev, source_files(ev, raw_root), cache_dir=cache_dir, partials_dir=partials_dir)


def ingest_files(
    ev: Evaluation,
    files: list[SourceFile],
    registry_files: list[SourceFile] | None = None,
    cache_dir: Path | None = None,
    partials_dir: Path | None = None,
) -> Ingested:
    """Ingest these files. ``registry_files`` supply the sub-project registry without being reported (``check``)."""
    raw = read_all(ev, files, cache_dir)
    counts: dict[str, int] = {}
    contents: dict[str, str] = {}
    results = validate_all(ev, raw, registry_files, partials_dir, counts, contents)
    ingested = account(ev, files, raw, results)
    ingested.partials.update(counts)
    ingested.contents.update(contents)
    return ingested


def read_all(ev: Evaluation, files: list[SourceFile], cache_dir: Path | None = None) -> dict[str, list[RawTable]]:
    """Stage "read": every readable file's raw tables by kind, parsed in isolated workers (or from the cache)."""
    raw: dict[str, list[RawTable]] = {k: [] for k in KINDS}
    readable = [sf for sf in files if sf.listing == RECOGNISED]
    for tables in read_files(readable, ev.limits, cache_dir):
        for table in tables:
            raw[table.kind.name].append(table)
    return raw


def validate_all(
    ev: Evaluation,
    raw: dict[str, list[RawTable]],
    registry_files: list[SourceFile] | None = None,
    partials_dir: Path | None = None,
    counts: dict[str, int] | None = None,
    contents: dict[str, str] | None = None,
) -> dict[str, Validated]:
    """Stage "validate": every kind, the registry first (other kinds' sub-project codes are checked against it).

    The per-row rules run per kind over the files whose results are not in ``partials_dir`` (all of
    them without one); the rule across files (unique ids) then runs over every row. ``counts`` gets
    how many file × kind results were reused and computed, ``contents`` each kind's content key
    (``partials.content_key``; kinds with rows, validated through the store). Each kind's raw cells are released once it
    is validated (``raw`` keeps its tables' files and kinds).
    """
    report = progress.current()
    report.task("validate", "校验行 validate rows", sum(t.rows for ts in raw.values() for t in ts), "rows")

    def one(kind: Kind, store: Store | None = None) -> Validated:
        checked = check_kind(kind, raw[kind.name], store, lambda tables: check_rows(kind, tables, ev, codes))
        result = unique_ids(kind, checked)
        rows = sum(t.rows for t in raw[kind.name])
        report.advance("validate", rows)
        # The cells are typed now: let them go (accounting needs only the files and kinds). The empty
        # tables are shared by schema: ``Schema.empty_table`` costs 0.13 ms, 3.7 s over a national run's tables.
        # Cells still in the read cache (files whose partials were kept) are let go unparsed.
        empty: list[pa.Table] = []
        for t in raw[kind.name]:
            t.release(lambda table: _empty_like(table, empty))
        if rows >= RETURN_FREED_ROWS:
            return_freed()  # before the next kind allocates
        return result

    codes = Codes.for_evaluation(ev, [], ev.indicator_codes)
    registry = one(KINDS["subprojects"])
    codes.subproject = registry.accepted["subproject_code"].tolist()
    if registry_files and not raw["subprojects"]:
        extra = read_all(ev, registry_files)["subprojects"]
        codes.subproject = validate_kind(KINDS["subprojects"], extra, ev, codes).accepted["subproject_code"].tolist()
    # Kinds are independent once the registry is known; pyarrow and much of pandas release the GIL.
    # The registry is validated every run (a few rows): its codes are part of every other partial's key.
    store = Store(partials_dir, ev, codes) if partials_dir is not None else None
    sizes = {name: sum(t.rows for t in raw[name]) for name in KINDS if name != "subprojects"}
    done = in_parallel(sizes, lambda name: one(KINDS[name], store), VALIDATE_THREADS, VALIDATE_ROWS_AT_ONCE)
    if store is not None:
        store.sweep()
        if counts is not None:
            counts.update(reused=store.hits, computed=store.misses)
        if contents is not None:
            contents.update(store.contents)
    return {"subprojects": registry} | {name: done[name] for name in sizes}


def _empty_like(table: pa.Table, empty: list[pa.Table]) -> pa.Table:
    """An empty table of ``table``'s schema, one per schema in ``empty``.

    A list searched with ``Schema.equals`` (0.3 µs) rather than a dict keyed by schema: hashing a
    ``pa.Schema`` costs 20 µs, 0.9 s over a national run's tables. A kind has one or two schemas.
    """
    schema = table.schema
    for found in empty:
        if found.schema.equals(schema, check_metadata=True):
            return found
    empty.append(schema.empty_table())
    return empty[-1]


T = TypeVar("T")


def in_parallel(sizes: Mapping[str, int], work: Callable[[str], T], threads: int, budget: int) -> dict[str, T]:
    """``work(key)`` for every key, in ``threads`` threads, largest first, with at most ``budget`` (rows) at once.

    A thread takes the largest pending key that fits beside what is running; a key larger than the budget
    runs only when nothing else is. The first error is raised once running work has finished.
    """
    pending = sorted(sizes, key=lambda k: (-sizes[k], k))
    results: dict[str, T] = {}
    errors: list[BaseException] = []
    cond = threading.Condition()
    used = 0

    def next_key() -> tuple[str, int] | None:
        nonlocal used
        with cond:
            while pending and not errors:
                key = next((k for k in pending if used + min(sizes[k], budget) <= budget), None)
                if key is not None:
                    pending.remove(key)
                    held = min(sizes[key], budget)
                    used += held
                    return key, held
                cond.wait()
            return None

    def worker() -> None:
        nonlocal used
        while (taken := next_key()) is not None:
            key, held = taken
            try:
                results[key] = work(key)
            except BaseException as exc:  # handed to the caller below
                with cond:
                    errors.append(exc)
            finally:
                with cond:
                    used -= held
                    cond.notify_all()

    pool = [threading.Thread(target=worker, name=f"validate-{i}") for i in range(max(1, threads))]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if errors:
        raise errors[0]
    return results


def account(
    ev: Evaluation, files: list[SourceFile], raw: dict[str, list[RawTable]], results: dict[str, Validated]
) -> Ingested:
    """Quarantine (file-, sheet- and row-level), the sheet and file inventories, missing submissions, findings."""
    row_q = pd.concat([r.quarantine for r in results.values()], ignore_index=True)
    file_q = pd.DataFrame(
        [
            dict(
                file=sf.rel,
                sheet=p.sheet,
                row=pd.NA,
                column=p.column,
                rule=p.rule,
                value=p.value,
                message=p.message,
                submitter=sf.submitter,
                kind="",
            )
            for sf in files
            for p in sf.problems
        ],
        columns=QUARANTINE_COLUMNS,
    )
    quarantine = pd.concat([file_q, row_q], ignore_index=True) if len(file_q) else row_q
    quarantine["row"] = quarantine["row"].astype("Int64")
    quarantine = quarantine.sort_values(
        ["file", "sheet", "row", "column", "rule"], na_position="first", kind="stable"
    ).reset_index(drop=True)

    sheets = _sheet_frame(files, results)
    inv = _inventory_frame(files, raw, sheets)
    missing = _missing(ev, files, raw)
    return Ingested(
        tables={k: r.accepted for k, r in results.items()},
        quarantine=quarantine[QUARANTINE_COLUMNS],
        inventory=inv,
        sheets=sheets,
        missing=missing,
        findings=_findings(ev, inv, missing, files),
    )


def _sheet_frame(files: list[SourceFile], results: dict[str, Validated]) -> pd.DataFrame:
    """One row per sheet: lines = title + header + blank + accepted + quarantined lines; rows read = accepted + quarantined."""
    base = pd.DataFrame(
        [
            (
                sf.rel,
                a.sheet,
                a.kind,
                a.status,
                a.lines,
                a.lines_title,
                a.lines_header,
                a.lines_blank,
                a.rows,
                a.row_lines,
            )
            for sf in files
            for a in sf.sheets
        ],
        columns=[*SHEET_COLUMNS[:9], "row_lines"],
    )
    accepted = np.zeros(len(base), dtype="int64")
    accepted_lines = np.zeros(len(base), dtype="int64")
    validated = pd.concat([r.by_sheet for r in results.values()]) if results else pd.DataFrame()
    if len(validated) and len(base):
        # The validated counts of each read sheet, found by (file, sheet) in one join, not one lookup per sheet.
        per_sheet = validated[["accepted", "accepted_lines"]].groupby(level=[0, 1]).sum()
        found = per_sheet.reindex(pd.MultiIndex.from_frame(base[["file", "sheet"]]))
        read = (base["status"] == "read").to_numpy() & found["accepted"].notna().to_numpy()
        accepted[read] = found["accepted"].to_numpy()[read]
        accepted_lines[read] = found["accepted_lines"].to_numpy()[read]
    out = base.drop(columns="row_lines").assign(
        rows_accepted=accepted,
        rows_quarantined=base["rows_read"].to_numpy() - accepted,
        lines_accepted=accepted_lines,
        lines_quarantined=base["row_lines"].to_numpy() - accepted_lines,
    )
    return out[SHEET_COLUMNS].astype(dict.fromkeys(SHEET_COLUMNS[4:], "int64"))


def _inventory_frame(files: list[SourceFile], raw: dict[str, list[RawTable]], sheets: pd.DataFrame) -> pd.DataFrame:
    kinds: dict[str, set[str]] = {f.rel: set() for f in files}
    for tables in raw.values():
        for t in tables:
            kinds[t.file.rel].add(t.kind.name)
    per_file = (
        sheets.assign(structural=sheets["lines_title"] + sheets["lines_header"] + sheets["lines_blank"])
        .groupby("file")[["lines", "structural", "rows_read", "rows_accepted", "rows_quarantined"]]
        .sum()
    )
    inv = pd.DataFrame(
        {
            "file": [f.rel for f in files],
            "sha256": [f.sha256 for f in files],
            "submitter_type": [f.submitter_type for f in files],
            "submitter": [f.submitter for f in files],
            "format": [f.format or "" for f in files],
            "kinds": [",".join(sorted(kinds[f.rel])) for f in files],
        }
    )
    for out, col in (
        ("lines", "lines"),
        ("lines_structural", "structural"),
        ("rows_read", "rows_read"),
        ("rows_accepted", "rows_accepted"),
        ("rows_quarantined", "rows_quarantined"),
    ):
        inv[out] = inv["file"].map(per_file[col]).fillna(0).astype("int64")
    read_any = inv["file"].isin(sheets.loc[sheets["status"] == "read", "file"])
    problems = inv["file"].isin({f.rel for f in files if f.problems})
    inv["status"] = "accepted"
    inv.loc[(inv["rows_quarantined"] > 0) | problems, "status"] = "partial"
    inv.loc[problems & ~read_any, "status"] = "rejected"
    inv.loc[[f.listing == UNRECOGNISED for f in files], "status"] = "unrecognised"
    inv["warnings"] = ["；".join(f.warnings) for f in files]
    return inv[INVENTORY_COLUMNS]


def _missing(ev: Evaluation, files: list[SourceFile], raw: dict[str, list[RawTable]]) -> pd.DataFrame:
    """Expected submissions with no file: per county workbook, per bureau department × kind.

    A file that is present but unreadable is "rejected", not missing: its kind comes from its name.
    """
    present = [f for f in files if f.listing != UNRECOGNISED]
    got_counties = {f.submitter for f in present if f.submitter_type == "county"}
    got = {(t.file.submitter_type, t.file.submitter, t.kind.name) for ts in raw.values() for t in ts}
    got |= {
        (f.submitter_type, f.submitter, k.name)
        for f in present
        for k in [kind_from_name(f.path.stem, f.submitter_type)]
        if k
    }
    rows = []
    seen_county = set()
    for typ, sub, kind in ev.expected_submissions():
        if typ == "county":
            if sub not in got_counties and sub not in seen_county:
                rows.append((typ, sub, "county_workbook"))
                seen_county.add(sub)
        elif (typ, sub, kind) not in got:
            rows.append((typ, sub, kind))
    return pd.DataFrame(rows, columns=["submitter_type", "submitter", "kind"])


def _findings(ev: Evaluation, inv: pd.DataFrame, missing: pd.DataFrame, files: list[SourceFile]) -> pd.DataFrame:
    problem_sheets = {
        f.rel: "、".join(dict.fromkeys(f"工作表“{p.sheet}”" if p.sheet else "部分内容" for p in f.problems))
        for f in files
        if f.problems
    }
    first_problem = {f.rel: f.problems[0].message for f in files if f.problems}
    rows = []
    for m in missing.itertuples():
        what = "项目报送工作簿" if m.kind == "county_workbook" else f"“{KINDS[str(m.kind)].label}”"
        rows.append(
            dict(
                code="submission_missing",
                severity="high",
                subject_type="submitter",
                subject=m.submitter,
                figure="",
                message=f"{ev.submitter_name(str(m.submitter))}（{m.submitter}）未提交{what}（未提交）。",
            )
        )
    for r in inv[inv["status"] == "rejected"].itertuples():
        rows.append(
            dict(
                code="file_rejected",
                severity="high",
                subject_type="file",
                subject=r.file,
                figure="",
                message=f"文件 {r.file} 已整份拒收，需报送单位修正后重报：{first_problem.get(str(r.file), '')}",
            )
        )
    for r in inv[inv["status"] == "unrecognised"].itertuples():
        rows.append(
            dict(
                code="file_unrecognised",
                severity="medium",
                subject_type="file",
                subject=r.file,
                figure="",
                message=f"文件 {r.file} 未识别，未读取：{first_problem.get(str(r.file), '')}",
            )
        )
    sheet_problems = inv[(inv["status"] == "partial") & inv["file"].isin(problem_sheets)]
    for r in sheet_problems.itertuples():
        rows.append(
            dict(
                code="sheet_rejected",
                severity="high",
                subject_type="file",
                subject=r.file,
                figure="",
                message=f"文件 {r.file} 的{problem_sheets[str(r.file)]}无法使用，已隔离；其余工作表已采用，需报送单位补正后重报。",
            )
        )
    partial = inv[(inv["status"] == "partial") & (inv["rows_quarantined"] > 0)]
    for r in partial.itertuples():
        rows.append(
            dict(
                code="rows_quarantined",
                severity="medium",
                subject_type="file",
                subject=r.file,
                figure=str(r.rows_quarantined),
                message=f"文件 {r.file} 共 {r.rows_read} 行，其中 {r.rows_quarantined} 行未通过校验已隔离，其余 {r.rows_accepted} 行已采用。",
            )
        )
    for r in inv[inv["warnings"] != ""].itertuples():
        rows.append(
            dict(
                code="file_warning",
                severity="low",
                subject_type="file",
                subject=r.file,
                figure="",
                message=f"文件 {r.file}：{r.warnings}",
            )
        )
    return findings.frame(rows)
