"""Reading submission files: inventory, format sniffing, decoding, header detection.

Every file is read with its SHA-256; every row keeps the row number the submitter sees in
Excel (header included). A file that cannot be read becomes one file-level problem and the run
goes on with the others. Reading returns raw text cells; typing and checks are in ``validate``.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import hashlib
import io
import pickle
import re
from pathlib import Path
from typing import Optional

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.contract import KINDS, Kind, kinds_for
from pipeline.evaluation import SUBMISSION_DIRS, Evaluation

HEADER_SCAN_ROWS = 12
PII_HEADER = re.compile(r"身份证|证件号|手机|电话|联系方式|phone|mobile|id_?card|idno", re.I)
# 18- and 15-digit 身份证号 and mobile numbers, once spaces and hyphens are taken out.
PII_VALUE = re.compile(r"^(\d{17}[\dXx]|\d{15}|(\+?86)?1[3-9]\d{9})$")
UNIT_IN_TEXT = re.compile(r"单位\s*[:：]\s*(万元|元)")
UNIT_IN_HEADER = re.compile(r"^(?P<base>.*?)\s*[\(（]\s*(?P<unit>万元|元|wan|yuan)\s*[\)）]\s*$", re.I)
EXTENSIONS = {"xlsx": ("xlsx", "xlsm"), "csv": ("csv",)}
UNIT_ALIASES = {"wan": "万元", "yuan": "元", "万元": "万元", "元": "元"}


@dataclasses.dataclass
class Problem:
    """A file-level problem: the whole file (or sheet) could not be read."""

    rule: str
    message: str
    sheet: str = ""
    column: str = ""
    value: str = ""


@dataclasses.dataclass
class SourceFile:
    """One submission file of an evaluation."""

    path: Path
    rel: str  # path relative to the raw root, posix
    sha256: str
    submitter_type: str  # bureau / county / evaluator
    submitter: str
    format: Optional[str] = None  # "xlsx" or "csv" after sniffing
    warnings: list[str] = dataclasses.field(default_factory=list)
    problems: list[Problem] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class RawTable:
    """The text cells of one sheet (or CSV) of one kind, columns renamed to canonical names."""

    file: SourceFile
    sheet: str
    kind: Kind
    frame: pa.Table  # canonical columns (raw text, blank rows included) + "row" (Excel row number)
    units: dict[str, str]  # money column → 元 / 万元


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def inventory(ev: Evaluation, raw_root: Path) -> list[SourceFile]:
    """Every submission file of the evaluation, sorted by path, hashed, with its submitter."""
    files = []
    for top in SUBMISSION_DIRS:
        base = ev.folder / top
        if not base.is_dir():
            continue
        for p in sorted(base.rglob("*")):
            if not p.is_file() or p.name.startswith((".", "~$")):
                continue
            rel_in_top = p.relative_to(base).parts
            if top == "bureau":
                submitter = rel_in_top[0] if len(rel_in_top) > 1 else "bureau"
            elif top == "county":
                m = re.match(r"\d{6}", p.stem)
                submitter = m.group(0) if m else p.stem
            else:
                submitter = "evaluator"
            files.append(SourceFile(
                path=p, rel=p.relative_to(raw_root).as_posix(), sha256=sha256_file(p),
                submitter_type=top, submitter=submitter,
            ))
    return sorted(files, key=lambda f: f.rel)


def sniff(data: bytes) -> Optional[str]:
    """The real format of a file from its first bytes: xlsx (a zip), xls (OLE2) or csv (text)."""
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    return "csv" if data else None


def decode(data: bytes) -> tuple[Optional[str], str]:
    """Decode CSV bytes: UTF-8 (with or without BOM), then GB18030. Returns (text, encoding)."""
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    return None, ""


def kind_from_name(name: str, submitter_type: str) -> Optional[Kind]:
    """Kind named by a sheet or file stem: its English name or Chinese label, after a submitter prefix."""
    candidates = kinds_for(submitter_type)
    stem = re.sub(r"^\d{6}[_\-\s]*", "", name.strip())
    for k in candidates:
        plain = k.name.removeprefix("county_")
        if stem in (k.name, k.label, plain) or stem.startswith((k.name + "_", k.name + "-", k.label + "_")):
            return k
    return None


def _norm_header(text: str) -> str:
    return re.sub(r"\s+", "", str(text)).replace("（", "(").replace("）", ")").lower()


@functools.lru_cache(maxsize=None)
def _header_map(kind_name: str) -> dict[str, str]:
    """Normalised header text → canonical column name (Chinese title, aliases, canonical name)."""
    out = {}
    for name, col in KINDS[kind_name].columns.items():
        for label in [col.title, name, *col.metadata.get("aliases", [])]:
            out[_norm_header(label)] = name
    return out


@functools.lru_cache(maxsize=1 << 16)
def _match_header(cell: object, kind_name: str) -> tuple[Optional[str], Optional[str]]:
    """(canonical name, unit declared in the header) for one header cell; cached, as headers repeat across files."""
    if cell is None:
        return None, None
    hmap = _header_map(kind_name)
    text = str(cell).strip()
    m = UNIT_IN_HEADER.match(text.replace("（", "(").replace("）", ")"))
    if m:
        name = hmap.get(_norm_header(m.group("base")))
        if name:
            return name, UNIT_ALIASES[m.group("unit").lower()]
    return hmap.get(_norm_header(text)), None


def _head(grid: pa.Table, n: int) -> list[list]:
    """The first ``n`` rows of a grid as Python lists (for header detection)."""
    cols = grid.slice(0, n).to_pydict().values()
    return [list(r) for r in zip(*cols)]


def _table_from_grid(sf: SourceFile, sheet: str, kind: Kind, grid: pa.Table) -> RawTable | Problem:
    """Find the header row in a grid of text cells and cut out the data rows (arrow, no per-cell work)."""
    columns = kind.columns
    required = [n for n, c in columns.items() if not c.metadata.get("optional")]
    head = _head(grid, HEADER_SCAN_ROWS)
    best_row, best_hits = None, 0
    for i, values in enumerate(head):
        filled = [v for v in values if v is not None]
        hits = sum(1 for v in filled if _match_header(v, kind.name)[0])
        if hits > best_hits:
            best_row, best_hits = i, hits
        if hits >= len(required) and hits == len(filled):
            break  # a row of nothing but known headers: the header, no need to look further
    if best_row is None or best_hits < min(2, len(required)):
        expected = "、".join(columns[n].title for n in required)
        return Problem("missing_header", f"未找到表头行；表头应包含：{expected}。请使用模板表头。", sheet=sheet)

    positions, names, units, pii = [], [], {}, []
    for pos, cell in enumerate(head[best_row]):
        name, unit = _match_header(cell, kind.name)
        if name and name not in names:
            positions.append(pos)
            names.append(name)
            if unit:
                units[name] = unit
        elif cell is not None and PII_HEADER.search(str(cell)):
            pii.append(str(cell).strip())
    if pii:
        return Problem("pii_column", f"文件含有个人敏感信息列（{'、'.join(pii)}）；请删除身份证号、手机号等列，仅保留匿名编号后重新报送。",
                       sheet=sheet, column="、".join(pii))
    missing = [columns[n].title for n in required if n not in names]
    if missing:
        return Problem("missing_column", f"缺少必填列：{'、'.join(missing)}。请按模板补齐表头后重新报送。",
                       sheet=sheet, column="、".join(missing))

    title_text = " ".join(str(v) for row in head[:best_row] for v in row if v is not None)
    title_unit = UNIT_IN_TEXT.search(title_text)
    for name, col in columns.items():
        if col.metadata.get("type") == "money" and name in names and name not in units:
            if not title_unit:
                return Problem("undeclared_unit", f"金额列“{col.title}”未声明单位；请在表头写明“{col.title}（万元）”或“{col.title}（元）”。",
                               sheet=sheet, column=col.title)
            units[name] = title_unit.group(1)

    first = best_row + 1
    body = grid.slice(first).select(positions).rename_columns(names)
    # Grid index 0 is Excel row 1, so body row i is Excel row first + 1 + i.
    body = body.append_column("row", pa.array(np.arange(first + 1, first + 1 + body.num_rows), pa.int64()))
    if kind.submitter == "evaluator":
        bad = [columns[n].title for n in names if pc.any(pc.match_substring_regex(
            pc.replace_substring_regex(body[n].cast(pa.string()), r"[\s\-]", ""), PII_VALUE.pattern)).as_py()]
        if bad:
            return Problem("pii_column", f"列“{'、'.join(bad)}”中含有身份证号或手机号；请改为匿名编号后重新报送。",
                           sheet=sheet, column="、".join(bad))
    return RawTable(file=sf, sheet=sheet, kind=kind, frame=body, units=units)


READER_VERSION = "read-2"  # bump whenever reading changes what a file yields: it keys the cache


def read_file_cached(sf: SourceFile, cache_dir: Optional[Path]) -> tuple[list[RawTable], Path | None]:
    """:func:`read_file` through a content-addressed cache: an unchanged file is never parsed twice.

    The key is the reader version, the file's path (its name decides its kind and extension
    warnings) and its SHA-256; the entry holds the raw tables, problems and warnings. Returns the
    tables and the cache entry used (None without a cache).
    """
    if cache_dir is None:
        return read_file(sf), None
    key = hashlib.sha256(f"{READER_VERSION}|{sf.rel}|{sf.submitter_type}|{sf.sha256}".encode()).hexdigest()
    entry = cache_dir / f"{key}.pkl"
    if entry.is_file():
        cached = pickle.loads(entry.read_bytes())
        sf.format, sf.warnings, sf.problems = cached["format"], cached["warnings"], cached["problems"]
        return [RawTable(file=sf, sheet=sheet, kind=KINDS[kind], frame=frame, units=units)
                for sheet, kind, units, frame in cached["tables"]], entry
    tables = read_file(sf)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = entry.with_suffix(".tmp")
    tmp.write_bytes(pickle.dumps({
        "format": sf.format, "warnings": sf.warnings, "problems": sf.problems,
        "tables": [(t.sheet, t.kind.name, t.units, t.frame) for t in tables],
    }, protocol=pickle.HIGHEST_PROTOCOL))
    tmp.replace(entry)  # atomic: a crash never leaves half an entry
    return tables, entry


def read_file(sf: SourceFile) -> list[RawTable]:
    """Read every table in a submission file; problems are recorded on ``sf.problems``."""
    data = sf.path.read_bytes()
    fmt = sniff(data)
    sf.format = fmt
    ext = sf.path.suffix.lower().lstrip(".")
    if fmt is None:
        sf.problems.append(Problem("empty_file", "文件为空（0 字节）；请重新导出后报送。"))
        return []
    if fmt == "xls":
        sf.problems.append(Problem("unreadable", "文件为旧版 Excel（.xls）格式，无法读取；请另存为 .xlsx 或 CSV（UTF-8）后报送。"))
        return []
    if ext not in EXTENSIONS[fmt]:
        sf.warnings.append(f"文件扩展名为 .{ext}，但内容是 {fmt.upper()}；已按 {fmt.upper()} 读取，请改正扩展名。")
    if fmt == "xlsx":
        return _read_xlsx(sf, data)
    return _read_csv(sf, data)


def _read_csv(sf: SourceFile, data: bytes) -> list[RawTable]:
    text, _ = decode(data)
    if text is None:
        sf.problems.append(Problem("encoding", "无法识别文件编码；请另存为 UTF-8 或 GB18030 编码的 CSV。"))
        return []
    kind = kind_from_name(sf.path.stem, sf.submitter_type)
    if kind is None:
        names = "、".join(f"{k.name}（{k.label}）" for k in kinds_for(sf.submitter_type))
        sf.problems.append(Problem("unknown_kind", f"无法从文件名判断报送表类型；CSV 文件名应为以下之一：{names}。"))
        return []
    if not text.strip():
        sf.problems.append(Problem("empty_file", "文件没有任何内容；请重新导出后报送。"))
        return []
    first = text.split("\n", 1)[0]
    sep = "\t" if "\t" in first and "," not in first else ","
    try:
        # csv (not pandas) because title rows above the header have fewer fields than the data.
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    except csv.Error as exc:
        sf.problems.append(Problem("unreadable", f"CSV 格式错误，无法解析：{exc}。请检查分隔符与引号。"))
        return []
    width = max((len(r) for r in records), default=0)
    grid = pa.table({f"c{j}": pa.array([r[j] if j < len(r) else None for r in records], pa.string())
                     for j in range(width)})
    table = _table_from_grid(sf, "", kind, grid)
    if isinstance(table, Problem):
        sf.problems.append(table)
        return []
    return [table]


def _read_xlsx(sf: SourceFile, data: bytes) -> list[RawTable]:
    import fastexcel

    try:
        reader = fastexcel.read_excel(data)
        sheets = reader.sheet_names
    except Exception as exc:  # calamine raises its own error types for corrupt zips
        sf.problems.append(Problem("unreadable", f"无法打开 Excel 文件（{type(exc).__name__}）；请用 Excel 重新另存为 .xlsx 后报送。"))
        return []
    stem_kind = kind_from_name(sf.path.stem, sf.submitter_type)
    plan: list[tuple[str, Kind]] = []
    for name in sheets:
        kind = kind_from_name(name, sf.submitter_type)
        if kind is None and stem_kind is not None and len(sheets) == 1:
            kind = stem_kind
        if kind is not None:
            plan.append((name, kind))
    expected = [stem_kind] if stem_kind else (list(k for k in KINDS.values() if k.county_scoped)
                                              if sf.submitter_type == "county" else [])
    found = {k.name for _, k in plan}
    for k in expected:
        if k.name not in found:
            sf.problems.append(Problem("missing_sheet", f"缺少工作表“{k.label}”；请按模板补齐该工作表（无数据时保留表头）。", sheet=k.label))
    if not plan and not expected:
        names = "、".join(k.label for k in kinds_for(sf.submitter_type))
        sf.problems.append(Problem("unknown_kind", f"工作簿中没有可识别的工作表；工作表名应为以下之一：{names}。"))
    tables = []
    for name, kind in plan:
        grid = pa.Table.from_batches([reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string").to_arrow()])
        if grid.num_rows == 0:
            sf.problems.append(Problem("empty_sheet", f"工作表“{name}”为空；请按模板填写表头。", sheet=name))
            continue
        table = _table_from_grid(sf, name, kind, grid)
        if isinstance(table, Problem):
            sf.problems.append(table)
        else:
            tables.append(table)
    return tables

