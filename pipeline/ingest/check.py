"""``python -m pipeline check``: validate submission files on their own, before they are sent.

Files are checked against the evaluation's registry and codes (read from the evaluation folder),
exactly as the nightly run would check them, and every problem is printed for the clerk.
"""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.evaluation import Evaluation
from pipeline.ingest.read import SourceFile, inventory, sha256_file
from pipeline.ingest.run import Ingested, ingest


def source_file(path: Path) -> SourceFile:
    """A file outside the raw tree: its submitter comes from its folder name or a county-code file name."""
    parts = [p.lower() for p in path.parts[:-1]]
    county = re.match(r"\d{6}", path.stem)
    if "county" in parts or (county and "bureau" not in parts):
        typ, sub = "county", county.group(0) if county else path.stem
    elif "evaluator" in parts:
        typ, sub = "evaluator", "evaluator"
    else:
        i = parts.index("bureau") if "bureau" in parts else -1
        typ, sub = "bureau", path.parts[i + 1] if 0 <= i < len(path.parts) - 2 else "bureau"
    return SourceFile(path=path, rel=path.as_posix(), sha256=sha256_file(path), submitter_type=typ, submitter=sub)


def check_files(ev: Evaluation, raw_root: Path, paths: list[Path]) -> Ingested:
    files = [source_file(p) for p in paths]
    checked = {p.resolve() for p in paths}
    # The registry is the evaluation's own unless the clerk is checking a registry file.
    registry = [f for f in inventory(ev, raw_root) if f.submitter == "project_office" and f.path.resolve() not in checked]
    return ingest(ev, raw_root, files=files, registry_files=registry)


def print_problems(result: Ingested) -> int:
    """Print every problem, one line each; 1 when there are any, else 0."""
    q = result.quarantine
    q = q[q["file"].isin(result.inventory["file"])]
    for r in q.itertuples():
        where = r.file + (f" [{r.sheet}]" if r.sheet else "") + (f" 第 {r.row} 行" if r.row is not None and str(r.row) != "<NA>" else "")
        col = f" 列“{r.column}”" if r.column else ""
        print(f"{where}{col} [{r.rule}] {r.message}")
    for r in result.inventory.itertuples():
        if r.warnings:
            print(f"{r.file} [warning] {r.warnings}")
        print(f"{r.file}: 读取 {r.rows_read} 行，通过 {r.rows_accepted} 行，问题 {r.rows_quarantined} 行（{r.status}）")
    if len(q):
        print(f"共 {len(q)} 个问题，请修正后再报送。/ {len(q)} problem(s) found.")
        return 1
    print("未发现问题，可以报送。/ no problems found.")
    return 0
