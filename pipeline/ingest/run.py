"""Ingest one evaluation: inventory, read, validate every kind, account for every row.

Pure pandas, no Dagster: the assets in ``pipeline.defs.assets.ingest`` call :func:`ingest`, and so
does ``python -m pipeline check``.
"""

from __future__ import annotations

import dataclasses
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable, Optional

import pandas as pd

from pipeline import findings
from pipeline.contract import KINDS
from pipeline.evaluation import Evaluation
from pipeline.ingest.read import RawTable, SourceFile, inventory, kind_from_name, read_file, read_file_cached
from pipeline.ingest.validate import QUARANTINE_COLUMNS, Codes, Validated, validate_kind

READ_THREADS = os.cpu_count() or 2
INVENTORY_COLUMNS = ["file", "sha256", "submitter_type", "submitter", "format", "kinds", "rows_read",
                     "rows_accepted", "rows_quarantined", "status", "warnings"]


@dataclasses.dataclass
class Ingested:
    tables: dict[str, pd.DataFrame]  # kind → accepted rows
    quarantine: pd.DataFrame  # QUARANTINE_COLUMNS; row is NA for file-level records
    inventory: pd.DataFrame  # INVENTORY_COLUMNS, one row per submission file
    missing: pd.DataFrame  # expected submissions not received: submitter_type, submitter, kind
    findings: pd.DataFrame

    @property
    def rows(self) -> dict[str, int]:
        inv = self.inventory
        return {"read": int(inv["rows_read"].sum()), "accepted": int(inv["rows_accepted"].sum()),
                "quarantined": int(inv["rows_quarantined"].sum())}

    @property
    def files(self) -> dict[str, int]:
        return {"read": len(self.inventory), "rejected": int((self.inventory["status"] == "rejected").sum()),
                "missing": len(self.missing)}


def ingest(ev: Evaluation, raw_root: Path,
           files: Optional[list[SourceFile]] = None, registry_files: Optional[list[SourceFile]] = None,
           cache_dir: Optional[Path] = None) -> Ingested:
    """Read and validate the evaluation's submissions.

    ``files`` restricts the run to some files (``pipeline check``); ``registry_files`` then supply
    the sub-project registry the files are checked against, without being reported themselves.
    ``cache_dir`` keeps parsed files by content, so a nightly run re-reads only changed files;
    entries no longer used are removed.
    """
    files = inventory(ev, raw_root) if files is None else files
    raw = read_all(files, cache_dir)
    results = validate_all(ev, raw, registry_files)
    return account(ev, files, raw, results)


def read_all(files: list[SourceFile], cache_dir: Optional[Path] = None) -> dict[str, list[RawTable]]:
    """Stage "read": every file's raw tables by kind (through the cache when one is given)."""
    raw: dict[str, list[RawTable]] = {k: [] for k in KINDS}
    used = set()
    # Threads, not processes: fastexcel parses outside the GIL; map() keeps the files' order.
    with ThreadPoolExecutor(max_workers=min(READ_THREADS, max(len(files), 1))) as pool:
        for tables, entry in pool.map(lambda sf: read_file_cached(sf, cache_dir), files):
            used.add(entry)
            for table in tables:
                raw[table.kind.name].append(table)
    if cache_dir is not None and cache_dir.is_dir():
        for stale in set(cache_dir.glob("*.pkl")) - used:
            stale.unlink()
    return raw


def validate_all(ev: Evaluation, raw: dict[str, list[RawTable]],
                 registry_files: Optional[list[SourceFile]] = None) -> dict[str, Validated]:
    """Stage "validate": every kind, the registry first (other kinds' sub-project codes are checked against it)."""
    codes = Codes.for_evaluation(ev, [], ev.indicator_codes)
    registry = validate_kind(KINDS["subprojects"], raw["subprojects"], ev, codes)
    codes.subproject = registry.accepted["subproject_code"].tolist()
    if registry_files and not raw["subprojects"]:
        extra = [t for sf in registry_files for t in read_file(sf) if t.kind.name == "subprojects"]
        codes.subproject = validate_kind(KINDS["subprojects"], extra, ev, codes).accepted["subproject_code"].tolist()
    results = {"subprojects": registry}
    others = [k for name, k in KINDS.items() if name != "subprojects"]
    # Kinds are independent once the registry is known; pyarrow and much of pandas release the GIL.
    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        for kind, result in zip(others, pool.map(lambda k: validate_kind(k, raw[k.name], ev, codes), others)):
            results[kind.name] = result
    return results


def account(ev: Evaluation, files: list[SourceFile], raw: dict[str, list[RawTable]],
            results: dict[str, Validated]) -> Ingested:
    """Quarantine (file- and row-level), the inventory with rows read / accepted / quarantined, findings."""
    row_q = pd.concat([r.quarantine for r in results.values()], ignore_index=True)
    file_q = pd.DataFrame([
        dict(file=sf.rel, sheet=p.sheet, row=pd.NA, column=p.column, rule=p.rule, value=p.value,
             message=p.message, submitter=sf.submitter, kind="")
        for sf in files for p in sf.problems
    ], columns=QUARANTINE_COLUMNS)
    quarantine = pd.concat([file_q, row_q], ignore_index=True) if len(file_q) else row_q
    quarantine["row"] = quarantine["row"].astype("Int64")
    quarantine = quarantine.sort_values(["file", "sheet", "row", "column", "rule"], na_position="first",
                                        kind="stable").reset_index(drop=True)

    inv = _inventory_frame(files, raw, results, quarantine)
    missing = _missing(ev, files, raw)
    return Ingested(
        tables={k: r.accepted for k, r in results.items()}, quarantine=quarantine[QUARANTINE_COLUMNS],
        inventory=inv, missing=missing, findings=_findings(ev, inv, missing, files),
    )


def _inventory_frame(files: list[SourceFile], raw: dict[str, list[RawTable]], results: dict,
                     quarantine: pd.DataFrame) -> pd.DataFrame:
    read = pd.concat([r.rows_read for r in results.values()]).groupby(level=0).sum()
    kinds: dict[str, set] = {f.rel: set() for f in files}
    for tables in raw.values():
        for t in tables:
            kinds[t.file.rel].add(t.kind.name)
    accepted = pd.concat([r.accepted["file"] for r in results.values()]).value_counts()
    rows_q = quarantine.dropna(subset=["row"]).drop_duplicates(["file", "sheet", "row"])["file"].value_counts()
    inv = pd.DataFrame({
        "file": [f.rel for f in files], "sha256": [f.sha256 for f in files],
        "submitter_type": [f.submitter_type for f in files], "submitter": [f.submitter for f in files],
        "format": [f.format or "" for f in files], "kinds": [",".join(sorted(kinds[f.rel])) for f in files],
    })
    inv["rows_read"] = inv["file"].map(read).fillna(0).astype("int64")
    inv["rows_accepted"] = inv["file"].map(accepted).fillna(0).astype("int64")
    inv["rows_quarantined"] = inv["file"].map(rows_q).fillna(0).astype("int64")
    # A file whose every table failed is rejected; one that lost only a sheet or some rows is partial.
    problems = inv["file"].isin({f.rel for f in files if f.problems})
    inv["status"] = "accepted"
    inv.loc[(inv["rows_quarantined"] > 0) | problems, "status"] = "partial"
    inv.loc[problems & (inv["rows_read"] == 0), "status"] = "rejected"
    inv["warnings"] = ["；".join(f.warnings) for f in files]
    return inv[INVENTORY_COLUMNS]


def _missing(ev: Evaluation, files: list[SourceFile], raw: dict[str, list[RawTable]]) -> pd.DataFrame:
    """Expected submissions with no file: per county workbook, per bureau department × kind.

    A file that is present but unreadable is "rejected", not missing: its kind comes from its name.
    """
    got_counties = {f.submitter for f in files if f.submitter_type == "county"}
    got = {(t.file.submitter_type, t.file.submitter, t.kind.name) for ts in raw.values() for t in ts}
    got |= {(f.submitter_type, f.submitter, k.name) for f in files
            for k in [kind_from_name(f.path.stem, f.submitter_type)] if k}
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
    problem_sheets = {f.rel: "、".join(f"工作表“{p.sheet}”" if p.sheet else "部分内容" for p in f.problems)
                      for f in files if f.problems}
    rows = []
    for m in missing.itertuples():
        what = "项目报送工作簿" if m.kind == "county_workbook" else f"“{KINDS[m.kind].label}”"
        rows.append(dict(code="submission_missing", severity="high", subject_type="submitter", subject=m.submitter,
                         figure="", message=f"{ev.submitter_name(m.submitter)}（{m.submitter}）未提交{what}（未提交）。"))
    for r in inv[inv["status"] == "rejected"].itertuples():
        rows.append(dict(code="file_rejected", severity="high", subject_type="file", subject=r.file, figure="",
                         message=f"文件 {r.file} 无法读取或缺少必需的表/列，已整份隔离，需报送单位修正后重报。"))
    sheet_problems = inv[(inv["status"] == "partial") & inv["file"].isin(problem_sheets)]
    for r in sheet_problems.itertuples():
        rows.append(dict(code="sheet_rejected", severity="high", subject_type="file", subject=r.file, figure="",
                         message=f"文件 {r.file} 的{problem_sheets[r.file]}无法读取，已隔离；其余工作表已采用，需报送单位补正后重报。"))
    partial = inv[(inv["status"] == "partial") & (inv["rows_quarantined"] > 0)]
    for r in partial.itertuples():
        rows.append(dict(code="rows_quarantined", severity="medium", subject_type="file", subject=r.file,
                         figure=str(r.rows_quarantined),
                         message=f"文件 {r.file} 共 {r.rows_read} 行，其中 {r.rows_quarantined} 行未通过校验已隔离，其余 {r.rows_accepted} 行已采用。"))
    for r in inv[inv["warnings"] != ""].itertuples():
        rows.append(dict(code="file_warning", severity="low", subject_type="file", subject=r.file, figure="",
                         message=f"文件 {r.file}：{r.warnings}"))
    return findings.frame(rows)
