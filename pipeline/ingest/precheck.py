"""``python -m pipeline check``: validate submission files on their own, before they are sent.

Files are checked against the evaluation's registry and codes (read from the evaluation folder),
exactly as the nightly run would check them, and every problem is printed for the clerk. A file
can sit anywhere (a clerk checks the file on their desktop): who sent it comes from its folder
(``county/``, ``bureau/<department>/``, ``evaluator/``), its name, and the 填报单位代码 written in
it. When the name is what is wrong, the clerk is told the name it must have, and the file's
content is still checked so that no real error hides behind the name.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import pandas as pd

from pipeline import files as fs
from pipeline.contract import KINDS
from pipeline.evaluation import Evaluation
from pipeline.ingest.inventory import RECOGNISED, REJECTED, identify, kind_from_name
from pipeline.ingest.read import Problem, SourceFile
from pipeline.ingest.stage import STATUS_LABELS, Ingested, ingest_files, source_files

COUNTY_ONLY_SHEETS = {k.label for k in KINDS.values() if k.county_scoped} - {
    k.label for k in KINDS.values() if not k.county_scoped
}


@dataclasses.dataclass
class Checked:
    result: Ingested
    naming: dict[str, list[str]]  # file → what is wrong with its name or place, and the name it must have


def _guess(ev: Evaluation, path: Path, code: str | None = None) -> tuple[SourceFile, list[str]]:
    """A SourceFile for a file outside the raw tree, and the naming problems the nightly run would have with it."""
    parts = [p.lower() for p in path.parts[:-1]]
    departments = {d.code for d in ev.departments}
    name = path.name
    rel: tuple[str, ...]
    if code in ev.counties or (code is None and "county" in parts):
        typ, rel = "county", ("county", name)
    elif code in departments:
        typ, rel = "bureau", ("bureau", code, name)
    elif code is None and "evaluator" in parts:
        typ, rel = "evaluator", ("evaluator", name)
    else:
        i = parts.index("bureau") if "bureau" in parts else -1
        dept = path.parts[i + 1] if 0 <= i < len(path.parts) - 2 else _department_for(ev, path.stem)
        county = re.match(r"\d{6}", path.stem)
        typ, rel = (
            ("county", ("county", name)) if county and "bureau" not in parts else ("bureau", ("bureau", dept, name))
        )
    ident = identify(ev, rel)
    naming = []
    submitter = ident.submitter
    if typ == "county":
        submitter = code or ident.submitter or (re.match(r"\d{6}", path.stem) or [path.stem])[0]
        if code and path.stem != code:
            naming.append(
                f"文件名不符合要求：文件中的填报单位代码为 {code}（{ev.submitter_name(code)}），"
                f"报送时文件应命名为 county/{code}{path.suffix.lower() or '.xlsx'}。"
            )
    if ident.status != RECOGNISED and not naming:
        naming.append(f"按现在的位置和名称报送，夜间运行将不读取此文件：{ident.message}")
    sf = SourceFile(path=path, rel=path.as_posix(), sha256="", submitter_type=typ, submitter=submitter)
    return sf, naming


def _department_for(ev: Evaluation, stem: str) -> str:
    """For a bureau file outside a department folder: the one department declared to send its kind (else the first)."""
    kind = kind_from_name(stem, "bureau")
    senders = [d.code for d in ev.departments if kind is not None and kind.name in d.submits]
    return senders[0] if senders else next((d.code for d in ev.departments), "bureau")


def _path_problem(path: Path) -> str | None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return f"{path}: 文件不存在；请检查路径。"
    except OSError as exc:
        return f"{path}: 无法访问（{exc.strerror}）。"
    kind = fs.entry_kind(st.st_mode)
    if kind == "directory":
        return f"{path}: 是目录，不是文件；请指定要检查的 .xlsx 或 .csv 文件（可用通配符，如 {path}/*.xlsx）。"
    if kind != "file":
        target = f"，指向 {os.readlink(path)}" if kind == "symlink" else ""
        return f"{path}: 是{fs.ENTRY_LABELS[kind]}{target}，不会被读取；请指定文件本身。"
    return None


def check_files(ev: Evaluation, raw_root: Path, paths: list[Path]) -> Checked:
    naming: dict[str, list[str]] = {}
    files: list[SourceFile] = []
    for path in paths:
        problem = _path_problem(path)
        sf, notes = _guess(ev, path)
        if problem:
            sf.listing = REJECTED
            sf.problems.append(Problem("not_regular_file", problem))
        else:
            sf.sha256 = fs.sha256_file(path)
        naming[sf.rel] = notes
        files.append(sf)
    checked = {p.resolve() for p in paths}
    # The registry is the evaluation's own unless the clerk is checking a registry file.
    registry = [
        f
        for f in source_files(ev, raw_root)
        if f.submitter == "project_office" and f.listing == RECOGNISED and f.path.resolve() not in checked
    ]
    result = ingest_files(ev, files, registry_files=registry)
    # A file whose 填报单位代码 names another submitter than its place or name: check it as that submitter's.
    redo = False
    for i, sf in enumerate(files):
        code = sf.declared_code
        known = code is not None and (code in ev.counties or code in {d.code for d in ev.departments})
        if known and code != sf.submitter and sf.listing == RECOGNISED:
            again, notes = _guess(ev, sf.path, code)
            again.sha256 = sf.sha256
            files[i], naming[sf.rel] = again, notes
            redo = True
        elif sf.listing == RECOGNISED and code is None and sf.submitter_type == "bureau" and _looks_like_county(sf):
            naming[sf.rel] = [
                "这看起来是旗县区报送工作簿，但文件名不是旗县区编码：请在标题处填写“填报单位代码”，"
                "并把文件命名为本旗县区编码（如 county/150102.xlsx）后再检查。"
            ]
    if redo:
        result = ingest_files(ev, files, registry_files=registry)
    return Checked(result, naming)


def _looks_like_county(sf: SourceFile) -> bool:
    return any(p.rule == "unknown_sheet" and p.sheet in COUNTY_ONLY_SHEETS for p in sf.problems) or any(
        a.sheet in COUNTY_ONLY_SHEETS for a in sf.sheets
    )


def print_problems(checked: Checked) -> int:
    """Print every problem, one line each; 1 when there are any, else 0."""
    result = checked.result
    q = result.quarantine
    problems = 0
    for file, notes in checked.naming.items():
        for note in notes:
            print(f"{file} [文件名] {note}")
            problems += 1
    for r in q.itertuples():
        where = (
            str(r.file) + (f" [{r.sheet!s}]" if r.sheet else "") + (f" 第 {r.row!s} 行" if not pd.isna(r.row) else "")
        )
        col = f" 列“{r.column!s}”" if r.column else ""
        print(f"{where}{col} [{r.rule!s}] {r.message!s}")
        problems += 1
    warnings = 0
    sheets = result.sheets
    for r in result.inventory.itertuples():
        if r.warnings:
            print(f"{r.file!s} [提示] {r.warnings!s}")
            warnings += 1
        for s in sheets[sheets["file"] == r.file].itertuples():
            name = f"工作表“{s.sheet!s}”" if s.sheet else "全文"
            if s.status == "read":
                print(
                    f"{r.file} {name}: 共 {s.lines} 行 = 标题/说明 {s.lines_title} + 表头 {s.lines_header} + 空行 {s.lines_blank}"
                    f" + 数据 {s.rows_read} 行（通过 {s.rows_accepted}，有问题 {s.rows_quarantined}）"
                )
            elif s.rows_read:
                print(f"{r.file!s} {name}: 共 {s.lines!s} 行，其中 {s.rows_read!s} 行有内容，未读取")
        print(
            f"{r.file}: 读取 {r.rows_read} 行，通过 {r.rows_accepted} 行，问题 {r.rows_quarantined} 行"
            f"（{STATUS_LABELS[str(r.status)]}）"
        )
    if problems:
        print(f"共 {problems} 个问题，请修正后再报送。/ {problems} problem(s) found.")
        return 1
    if warnings:
        print(f"未发现错误，但有 {warnings} 条提示，请确认后再报送。/ no errors, {warnings} warning(s).")
        return 0
    print("未发现问题，可以报送。/ no problems found.")
    return 0
