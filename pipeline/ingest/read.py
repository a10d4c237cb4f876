"""Reading one submission file: format sniffing, the header, every line of every sheet accounted for.

Reading returns raw text cells; typing and checks are in ``validate``. It runs inside a worker
process (``ingest.isolation``), so a parser that crashes or runs away costs one file, not the
run. Every row keeps the number the submitter sees (Excel's row, the CSV's physical line).

Nothing is dropped silently. Per sheet, every line is a title or notes line (above the header),
the header, a blank line, or a data row; data rows go on to validation, and a sheet that cannot
be used counts all its non-blank lines as quarantined. What reading itself finds wrong in a cell
(an uncalculated formula, an Excel error value, a field spilling over lines, data beyond the
header) travels with the table as ``issues`` and quarantines that row.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline import fieldtypes
from pipeline.contract import KINDS, Kind, kinds_for
from pipeline.files import NotRegularFile, Stamp, open_regular, stamp_of
from pipeline.ingest import csvfile, xlsx
from pipeline.ingest.inventory import kind_from_name
from pipeline.ingest.xlsx import Rejected, column_letter
from pipeline.limits import Limits

HEADER_SCAN_ROWS = 12
CHANGED = "文件在读取过程中被修改，本次未读取；请在报送完成后再运行。"
PII_HEADER = re.compile(r"身份证|证件号|手机|电话|联系方式|phone|mobile|id_?card|idno", re.I)
# 18- and 15-digit 身份证号 and mobile numbers, once spaces and hyphens are taken out.
PII_VALUE = re.compile(r"^(\d{17}[\dXx]|\d{15}|(\+?86)?1[3-9]\d{9})$")
UNIT_IN_TEXT = re.compile(r"单位\s*[:：]\s*(万元|元)")
UNIT_IN_HEADER = re.compile(r"^(?P<base>.*?)\s*[\(（]\s*(?P<unit>万元|元|wan|yuan)\s*[\)）]\s*$", re.I)
CODE_CELL = re.compile(r"^填报单位代码\s*[:：]?\s*(?P<code>.*)$")
EXTENSIONS = {"xlsx": ("xlsx", "xlsm"), "csv": ("csv",)}
UNIT_ALIASES = {"wan": "万元", "yuan": "元", "万元": "万元", "元": "元"}
TEMPLATE_HELPER_SHEET = "_lists"  # the hidden sheet the templates keep long drop-down lists in
COUNTY_CODE_LABELS = ("旗县区编码", "county_code")
ISSUE_SCHEMA = pa.schema([("row", pa.int64()), ("column", pa.string()), ("rule", pa.string()), ("value", pa.string())])
MAX_LISTED_FORMULAS = 20
WHOLE_FILE_RULES = ("submitter_mismatch", "county_code_mismatch")
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_RE2_SPACE = "\t\n\f\r "  # RE2's \s: no vertical tab, nothing beyond ASCII
_NO_ISSUES = ISSUE_SCHEMA.empty_table()  # Arrow tables are immutable: one empty table serves every sheet
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")


@dataclasses.dataclass
class Problem:
    """A file- or sheet-level problem: the whole file (or sheet) could not be used."""

    rule: str
    message: str
    sheet: str = ""
    column: str = ""
    value: str = ""


@dataclasses.dataclass
class SheetAccount:
    """Every line of one sheet (or CSV): lines = title + header + blank + rows (the data records' lines)."""

    sheet: str
    kind: str  # "" for a sheet that is not a submission kind
    status: str  # read / rejected / unrecognised / empty / template
    lines: int
    lines_title: int = 0  # above the header: titles, notes, the 填报单位代码 line
    lines_header: int = 0
    lines_blank: int = 0
    rows: int = 0  # non-blank data records (all non-blank lines of a sheet that is not used)
    row_lines: int = 0  # physical lines of those records (more than rows when a CSV field spans lines)


@dataclasses.dataclass
class SourceFile:
    """One submission file of an evaluation, as identified by the inventory and then read."""

    path: Path
    rel: str  # path relative to the raw root, posix
    sha256: str
    submitter_type: str  # bureau / county / evaluator
    submitter: str
    format: str | None = None  # "xlsx" or "csv" after sniffing
    warnings: list[str] = dataclasses.field(default_factory=list)
    problems: list[Problem] = dataclasses.field(default_factory=list)
    sheets: list[SheetAccount] = dataclasses.field(default_factory=list)
    declared_code: str | None = None  # the 填报单位代码 written in the file
    listing: str = "recognised"  # what the inventory decided before reading: recognised / unrecognised / rejected
    stamp: Stamp | None = None  # the version the inventory hashed: reading checks it is still that one


@dataclasses.dataclass
class RawTable:
    """The text cells of one sheet (or CSV) of one kind, columns renamed to canonical names."""

    file: SourceFile
    sheet: str
    kind: Kind
    frame: pa.Table  # canonical columns (raw text, non-blank rows) + "row" (first line) + "span" (lines)
    units: dict[str, str]  # money column → 元 / 万元
    titles: dict[str, str] = dataclasses.field(default_factory=dict)  # canonical column → header as written
    issues: pa.Table = dataclasses.field(default_factory=lambda: _NO_ISSUES)

    @property
    def rows(self) -> int:
        """The rows of ``frame`` (0 once the cells are released)."""
        return int(self.frame.num_rows)

    def release(self, empty: Callable[[pa.Table], pa.Table]) -> None:
        """Let the cells go once they are validated: ``empty`` gives an empty table of a table's schema."""
        self.frame, self.issues = empty(self.frame), empty(self.issues)


class DeferredTable(RawTable):
    """A RawTable whose cells are read the first time they are asked for (a read-cache entry's tables).

    ``cells()`` gives ``(frame, issues)``. A nightly run validates again only the files that changed:
    the others' cells are never parsed, and released unread.
    """

    def __init__(
        self,
        file: SourceFile,
        sheet: str,
        kind: Kind,
        rows: int,
        units: dict[str, str],
        titles: dict[str, str],
        cells: Callable[[], tuple[pa.Table, pa.Table]],
    ) -> None:
        self._cells: Callable[[], tuple[pa.Table, pa.Table]] | None = cells
        self._frame: pa.Table | None = None
        self._issues: pa.Table | None = None
        self._rows = rows
        self.file, self.sheet, self.kind, self.units, self.titles = file, sheet, kind, units, titles

    def _load(self) -> None:
        if self._frame is None:
            if self._cells is None:
                raise RuntimeError(f"{self.file.rel} [{self.sheet}]: cells asked for after they were released")
            self._frame, self._issues = self._cells()
            self._cells = None

    @property  # a field of RawTable, read on demand here
    def frame(self) -> pa.Table:
        self._load()
        assert self._frame is not None
        return self._frame

    @frame.setter
    def frame(self, value: pa.Table) -> None:
        self._load()
        self._frame = value

    @property
    def issues(self) -> pa.Table:
        self._load()
        assert self._issues is not None
        return self._issues

    @issues.setter
    def issues(self, value: pa.Table) -> None:
        self._load()
        self._issues = value

    @property
    def rows(self) -> int:
        return self._rows if self._frame is None else self._frame.num_rows

    def release(self, empty: Callable[[pa.Table], pa.Table]) -> None:
        if self._frame is None:  # never parsed: nothing to parse now
            self._cells, self._rows = None, 0
        else:
            super().release(empty)


def sniff(data: bytes) -> str | None:
    """The real format of a file from its first bytes: xlsx (a zip), xls (OLE2) or csv (text)."""
    if data.startswith(b"PK"):
        return "xlsx"
    if data.startswith(_OLE2):
        return "xls"
    return "csv" if data else None


def _norm_header(text: str) -> str:
    return re.sub(r"\s+", "", str(text)).replace("（", "(").replace("）", ")").lower()


@functools.cache
def _header_map(kind_name: str) -> dict[str, str]:
    """Normalised header text → canonical column name (Chinese title, aliases, canonical name)."""
    out = {}
    for name, col in KINDS[kind_name].columns.items():
        for label in [col.title, name, *col.metadata.get("aliases", [])]:
            out[_norm_header(label)] = name
    return out


@functools.lru_cache(maxsize=1 << 16)
def _match_header(cell: object, kind_name: str) -> tuple[str | None, str | None]:
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


def _rows(grid: pa.Table, start: int, stop: int) -> list[list[Any]]:
    """Rows ``start``..``stop`` of a grid as Python lists (header detection looks at a dozen rows only)."""
    cols = grid.slice(start, max(stop - start, 0)).to_pydict().values()
    return [list(r) for r in zip(*cols)]


def _filled(grid: pa.Table) -> np.ndarray:
    """Per grid row: does any cell hold something other than whitespace (vectorised over all columns)."""
    if grid.num_columns == 0:
        return np.zeros(grid.num_rows, dtype=bool)
    # A row's cells joined hold a non-space character iff one of the cells does: one pass per sheet instead of
    # one per column (5× faster over a county workbook's sheets). Null cells join as "" (``null_handling=
    # "replace"``); "skip" would do the same per row, but pyarrow 26 drops from its result the rows whose cells
    # are all null (5 rows in, 4 out). Whitespace is RE2's ``\s`` (tab, line feed, form feed, carriage return,
    # space), as the regular expression ``\S`` this replaced took it: trimming those bytes and measuring what is
    # left gives the same answer in a third of the time. A vertical tab or a full-width space (U+3000) is text.
    # The kernels are called directly: ``pc.<name>``'s wrapper costs more than the work on a sheet of 150 rows.
    texts = [col if col.type == pa.string() else col.cast(pa.string()) for col in grid.columns]
    joined = _JOIN.call([*texts, _EMPTY], _JOIN_NULL_AS_EMPTY)
    left = _LENGTH.call([_LTRIM.call([joined], _TRIM_SPACE)])
    out: np.ndarray = left.to_numpy(zero_copy_only=False) > 0
    return out


_JOIN, _LTRIM, _LENGTH = (pc.get_function(n) for n in ("binary_join_element_wise", "ascii_ltrim", "binary_length"))
_JOIN_NULL_AS_EMPTY = pc.JoinOptions(null_handling="replace", null_replacement="")
_TRIM_SPACE = pc.TrimOptions(characters=_RE2_SPACE)
_EMPTY = pa.scalar("", pa.string())


@dataclasses.dataclass
class Grid:
    """A sheet's cells as text, with each grid row's physical line and span, and each column's sheet position."""

    cells: pa.Table
    line: np.ndarray
    span: np.ndarray
    position: list[int]  # 0-based sheet column of each grid column
    scan: xlsx.SheetScan | None = None
    full_calc: bool = False
    delimiter: str = ""

    @property
    def lines(self) -> int:
        return int(self.line[-1] + self.span[-1] - 1) if len(self.line) else 0


def _header_row(head: list[list[Any]], kind: Kind) -> tuple[int | None, int]:
    """(index of the header row in ``head``, header cells it matched)."""
    required = [n for n, c in kind.columns.items() if not c.metadata.get("optional")]
    best_row, best_hits = None, 0
    for i, values in enumerate(head):
        filled = [v for v in values if v is not None and str(v).strip()]
        hits = sum(1 for v in filled if _match_header(v, kind.name)[0])
        if hits > best_hits:
            best_row, best_hits = i, hits
        if hits >= len(required) and hits == len(filled):
            break  # a row of nothing but known headers: the header, no need to look further
    if best_row is None or best_hits < min(2, len(required)):
        return None, 0
    return best_row, best_hits


def _declared_code(rows: list[list[Any]]) -> str | None:
    """The 填报单位代码 written above the header: "填报单位代码" then the code in the next cell, or "填报单位代码：150102"."""
    for values in rows:
        cells = [str(v).strip() for v in values if v is not None and str(v).strip()]
        for i, text in enumerate(cells):
            m = CODE_CELL.match(text)
            if m:
                code = m.group("code").strip() or (cells[i + 1] if i + 1 < len(cells) else "")
                return code.removesuffix(".0") or None  # the template's blank code cell: not filled in
    return None


def _table(sf: SourceFile, sheet: str, kind: Kind, grid: Grid) -> tuple[RawTable | Problem, SheetAccount]:
    """Find the header in a grid and cut out the data rows; every line of the grid ends up in the account."""
    columns = kind.columns
    cells = grid.cells
    filled = _filled(cells)
    account = SheetAccount(
        sheet=sheet,
        kind=kind.name,
        status="rejected",
        lines=grid.lines,
        lines_blank=int((~filled).sum()) + grid.lines - int(grid.span.sum()),
        rows=int(filled.sum()),
        row_lines=int(grid.span[filled].sum()),
    )
    head = _rows(cells, 0, HEADER_SCAN_ROWS)
    best_row, _ = _header_row(head, kind)
    if best_row is None:
        expected = "、".join(columns[n].title for n, c in columns.items() if not c.metadata.get("optional"))
        return Problem(
            "missing_header", f"未找到表头行；表头应包含：{expected}。请使用模板表头。", sheet=sheet
        ), account

    first = best_row + 1
    body_mask = filled.copy()
    body_mask[:first] = False
    line, span = grid.line[body_mask], grid.span[body_mask]
    account.lines_title = int(grid.line[best_row] - 1)
    account.lines_header = int(grid.span[best_row])
    account.rows = int(body_mask.sum())
    account.row_lines = int(span.sum())
    account.lines_blank = account.lines - account.lines_title - account.lines_header - account.row_lines

    header = head[best_row]
    positions, names, units, pii, unknown, county_col = [], [], {}, [], [], None
    seen: dict[str, list[int]] = {}
    for pos, cell in enumerate(header):
        name, unit = _match_header(cell, kind.name)
        text = "" if cell is None else str(cell).strip()
        if name:
            seen.setdefault(name, []).append(pos)
            if len(seen[name]) == 1:
                positions.append(pos)
                names.append(name)
                if unit:
                    units[name] = unit
        elif text and PII_HEADER.search(text):
            pii.append(text)
        elif text and kind.county_scoped and _norm_header(text) in {_norm_header(x) for x in COUNTY_CODE_LABELS}:
            county_col = pos
        elif text:
            unknown.append((pos, text))
    if pii:
        return Problem(
            "pii_column",
            f"文件含有个人敏感信息列（{'、'.join(pii)}）；请删除身份证号、手机号等列，仅保留匿名编号后重新报送。",
            sheet=sheet,
            column="、".join(pii),
        ), account
    doubled = {n: p for n, p in seen.items() if len(p) > 1}
    if doubled:
        name, where = next(iter(doubled.items()))
        letters = "、".join(column_letter(grid.position[p]) for p in where)
        return Problem(
            "duplicate_header",
            f"表头“{header[where[0]]}”出现了 {len(where)} 次（第 {letters} 列），无法判断以哪一列为准；"
            "请删除重复的列后重新报送。",
            sheet=sheet,
            column=str(header[where[0]]),
        ), account
    titles = {n: str(header[p]).strip() for n, p in zip(names, positions)}
    required = [n for n, c in columns.items() if not c.metadata.get("optional")]
    missing = [columns[n].title for n in required if n not in names]
    if missing:
        return Problem(
            "missing_column",
            f"缺少必填列：{'、'.join(missing)}。请按模板补齐表头后重新报送。",
            sheet=sheet,
            column="、".join(missing),
        ), account

    above = head[:best_row]
    title_text = " ".join(str(v) for row in above for v in row if v is not None)
    title_unit = UNIT_IN_TEXT.search(title_text)
    for name, col in columns.items():
        if fieldtypes.of(col) is not fieldtypes.MONEY or name not in names:
            continue
        if name not in units:
            if not title_unit:
                return Problem(
                    "undeclared_unit",
                    f"金额列“{titles[name]}”未声明单位；请在表头写明“{col.title}（万元）”或“{col.title}（元）”。",
                    sheet=sheet,
                    column=titles[name],
                ), account
            units[name] = title_unit.group(1)
        elif title_unit and title_unit.group(1) != units[name]:
            return Problem(
                "unit_conflict",
                f"标题写明“单位：{title_unit.group(1)}”，但表头“{titles[name]}”写明{units[name]}，单位自相矛盾；"
                "请统一金额单位后重新报送。",
                sheet=sheet,
                column=titles[name],
            ), account
    code = _declared_code(above)
    if code is not None:
        sf.declared_code = sf.declared_code or code
        if code != sf.declared_code:
            return Problem(
                "submitter_mismatch",
                f"各工作表填写的填报单位代码不一致（{sf.declared_code}、{code}）；请确认本文件只含一个单位的数据。",
                sheet=sheet,
            ), account

    # Below the header every row holds something in a sheet without blank lines: a zero-copy slice then.
    body = cells.slice(first) if body_mask[first:].all() else cells.filter(pa.array(body_mask))
    frame = body.select(positions).rename_columns(names)
    frame = frame.append_column("row", pa.array(line, pa.int64())).append_column("span", pa.array(span, pa.int64()))

    if kind.submitter == "evaluator":
        bad = [
            titles[n]
            for n in names
            if pc.any(
                pc.match_substring_regex(
                    pc.replace_substring_regex(frame[n].cast(pa.string()), r"[\s\-]", ""), PII_VALUE.pattern
                )
            ).as_py()
        ]
        if bad:
            return Problem(
                "pii_column",
                f"列“{'、'.join(bad)}”中含有身份证号或手机号；请改为匿名编号后重新报送。",
                sheet=sheet,
                column="、".join(bad),
            ), account
    if county_col is not None:
        codes = body.column(county_col).cast(pa.string())
        other = pc.and_(pc.is_valid(codes), pc.not_equal(pc.utf8_trim_whitespace(codes), sf.submitter))
        if pc.any(other).as_py():
            at = int(np.flatnonzero(pc.fill_null(other, False).to_numpy(zero_copy_only=False))[0])
            return Problem(
                "county_code_mismatch",
                f"第 {int(line[at])} 行“{header[county_col]}”为 {codes[at].as_py()}，"
                f"与本文件的旗县区 {sf.submitter} 不符；请确认没有报错旗县区的数据。",
                sheet=sheet,
                column=str(header[county_col]),
            ), account

    issues = _issues(sf, sheet, kind, grid, body, line, positions, names, titles, unknown, county_col)
    account.status = "read"
    return RawTable(file=sf, sheet=sheet, kind=kind, frame=frame, units=units, titles=titles, issues=issues), account


def _issues(
    sf: SourceFile,
    sheet: str,
    kind: Kind,
    grid: Grid,
    body: pa.Table,
    line: np.ndarray,
    positions: list[int],
    names: list[str],
    titles: dict[str, str],
    unknown: list[tuple[int, str]],
    county_col: int | None,
) -> pa.Table:
    """Cell-level problems found while reading; each quarantines its row."""
    rows, cols, rules, values = [], [], [], []

    def add(mask: np.ndarray, column: str, rule: str, value: pa.Array | pa.ChunkedArray) -> None:
        idx = np.flatnonzero(mask)
        if len(idx):
            rows.append(line[idx])
            cols.append(np.full(len(idx), column, dtype=object))
            rules.append(np.full(len(idx), rule, dtype=object))
            values.append(np.array(pc.fill_null(value.take(pa.array(idx)), "").to_pylist(), dtype=object))

    def add_cell(i: int, column: str, rule: str, value: str) -> None:
        rows.append(line[i : i + 1])
        cols.append(np.array([column], dtype=object))
        rules.append(np.array([rule], dtype=object))
        values.append(np.array([value], dtype=object))

    known = set(positions) | ({county_col} if county_col is not None else set())
    where = f"工作表“{sheet}”" if sheet else "文件"
    for pos, text in unknown:
        col = body.column(pos).cast(pa.string())
        used = pc.sum(pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(col), ""), False)).as_py() or 0
        sf.warnings.append(
            f"{where}的列“{text}”（第 {column_letter(grid.position[pos])} 列）不在模板中，{used} 行有内容，未读取。"
        )
    named = known | {p for p, _ in unknown}
    for pos in range(body.num_columns):
        if pos in named:
            continue
        col = pc.utf8_trim_whitespace(body.column(pos).cast(pa.string()))
        has = pc.fill_null(pc.not_equal(col, ""), False).to_numpy(zero_copy_only=False)
        label = (
            f"第 {pos + 1} 个字段（表头之外）"
            if grid.delimiter
            else f"第 {column_letter(grid.position[pos])} 列（无表头）"
        )
        add(has, label, "extra_fields", col)

    if grid.delimiter:  # a quoted CSV field that holds line ends: fine in free text, never elsewhere
        for pos, name in zip(positions, names):
            col = body.column(pos).cast(pa.string())
            multi = pc.fill_null(pc.match_substring(col, "\n"), False).to_numpy(zero_copy_only=False)
            if not multi.any():
                continue
            if fieldtypes.of(kind.columns[name]) is fieldtypes.TEXT:
                spills = pc.fill_null(pc.match_substring(col, grid.delimiter), False).to_numpy(zero_copy_only=False)
                multi &= spills
            add(multi, titles[name], "multiline_field", pc.utf8_slice_codeunits(col, 0, 60))

    scan = grid.scan
    if scan is not None and (scan.formulas or scan.errors):
        by_position = dict(zip(positions, names))
        grid_col = {sheet_pos: j for j, sheet_pos in enumerate(grid.position)}
        row_of_line = {int(v): i for i, v in enumerate(line)}
        listed = []
        for cell in scan.errors:
            j = grid_col.get(cell.col)
            if j in by_position and cell.row in row_of_line:
                add_cell(row_of_line[cell.row], titles[by_position[j]], "excel_error", cell.text)
        for cell in scan.formulas:
            j = grid_col.get(cell.col)
            if j not in by_position or cell.row not in row_of_line:
                continue
            name = by_position[j]
            if (cell.row, cell.col) in scan.uncached or grid.full_calc:
                add_cell(row_of_line[cell.row], titles[name], "formula_uncalculated", "=" + cell.text)
            else:
                listed.append(f"{column_letter(cell.col)}{cell.row}（{titles[name]}）=“{cell.text}”")
        if listed:
            shown = "、".join(listed[:MAX_LISTED_FORMULAS]) + (
                f" 等共 {len(listed)} 个" if len(listed) > MAX_LISTED_FORMULAS else ""
            )
            sf.warnings.append(f"{where}含公式，已采用其计算结果，请核对：{shown}。")
    if not rows:
        return _NO_ISSUES
    return pa.table(
        {
            "row": pa.array(np.concatenate(rows), pa.int64()),
            "column": pa.array(np.concatenate(cols), pa.string()),
            "rule": pa.array(np.concatenate(rules), pa.string()),
            "value": pa.array(np.concatenate(values), pa.string()),
        },
        schema=ISSUE_SCHEMA,
    )


def read_file(sf: SourceFile, limits: Limits | None = None) -> list[RawTable]:
    """Read every table in a submission file; problems are recorded on ``sf.problems``, every line on ``sf.sheets``."""
    limits = limits or Limits()
    try:
        fd = open_regular(sf.path)
    except NotRegularFile as exc:
        sf.problems.append(Problem("not_regular_file", f"不是普通文件，未读取（{exc}）。"))
        return []
    with os.fdopen(fd, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > limits.file_bytes:
            sf.problems.append(Problem("resource_limit", limits.message("max_file_mb", f"{size / (1 << 20):.1f} MB")))
            return []
        head = fh.read(8)
        fmt = sniff(head)
        sf.format = fmt
        if fmt is None:
            sf.problems.append(Problem("empty_file", "文件为空（0 字节）；请重新导出后报送。"))
            return []
        data = head + fh.read() if fmt in ("xlsx", "xls") else b""
        if sf.stamp is not None and stamp_of(os.fstat(fh.fileno())) != sf.stamp:
            sf.problems.append(Problem("changed_while_reading", CHANGED))
            return []
    ext = sf.path.suffix.lower().lstrip(".")
    if fmt == "xls":
        if _ENCRYPTED_STREAM in data:
            sf.problems.append(Problem("encrypted", "文件已加密（设置了打开密码）；请取消密码后另存为 .xlsx 再报送。"))
        else:
            sf.problems.append(
                Problem("unreadable", "文件为旧版 Excel（.xls）格式，无法读取；请另存为 .xlsx 或 CSV（UTF-8）后报送。")
            )
        return []
    if ext not in EXTENSIONS[fmt]:
        sf.warnings.append(f"文件扩展名为 .{ext}，但内容是 {fmt.upper()}；已按 {fmt.upper()} 读取，请改正扩展名。")
    try:
        tables = _read_xlsx(sf, data, limits) if fmt == "xlsx" else _read_csv(sf, limits)
    except Rejected as exc:
        sf.problems.append(Problem(exc.rule, exc.message))
        return []
    # A CSV is streamed from its path more than once: the last look must still see the version hashed.
    if fmt == "csv" and sf.stamp is not None and stamp_of(os.stat(sf.path, follow_symlinks=False)) != sf.stamp:
        sf.problems.append(Problem("changed_while_reading", CHANGED))
        return _reject_all(sf)
    if tables and not any(t.frame.num_rows for t in tables):
        sf.warnings.append("文件只有表头，没有任何数据行；如本期确无数据可忽略本提示，否则请填写后重新报送。")
    return _check_identity(sf, tables)


def _check_identity(sf: SourceFile, tables: list[RawTable]) -> list[RawTable]:
    """The 填报单位代码 written in the file must be the submitter its name says; a file without one is warned.

    A file that speaks for another submitter anywhere (its code, or rows carrying another county's
    code) is rejected as a whole: none of its numbers can be trusted to be the submitter's own.
    """
    if any(p.rule in WHOLE_FILE_RULES for p in sf.problems):
        return _reject_all(sf)
    if sf.submitter_type == "evaluator":
        return tables
    if sf.declared_code is None:
        if tables:
            sf.warnings.append("文件未填写“填报单位代码”；请使用最新模板并在标题处填写本单位代码。")
        return tables
    if sf.declared_code != sf.submitter:
        sf.problems.append(
            Problem(
                "submitter_mismatch",
                f"文件中填写的填报单位代码为 {sf.declared_code}，与文件位置和名称所示的"
                f"报送单位 {sf.submitter} 不符，已整份拒收；请确认报送的是本单位的表，"
                "并按本单位代码命名文件。",
                value=sf.declared_code,
            )
        )
        return _reject_all(sf)
    return tables


def _reject_all(sf: SourceFile) -> list[RawTable]:
    for account in sf.sheets:
        if account.status == "read":
            account.status = "rejected"
    return []


def _read_csv(sf: SourceFile, limits: Limits) -> list[RawTable]:
    encoding = csvfile.detect_encoding(sf.path, limits)
    head_lines = csvfile.read_head(sf.path, encoding.name, HEADER_SCAN_ROWS)
    if not any(line.strip() for line in head_lines):
        sf.problems.append(Problem("empty_file", "文件没有任何内容；请重新导出后报送。"))
        return []
    kinds = [k for k in [kind_from_name(sf.path.stem, sf.submitter_type)] if k] or kinds_for(sf.submitter_type)
    delimiter, kind = _choose_delimiter(head_lines, kinds)
    if delimiter not in csvfile.ACCEPTED_DELIMITERS:
        raise Rejected(
            "delimiter",
            f"文件以{csvfile.DELIMITERS[delimiter]}（{delimiter}）分隔，不是逗号分隔的 CSV；"
            "请用 Excel 或 WPS 另存为“CSV UTF-8（逗号分隔）”后报送。",
        )
    if kind is None:
        names = "、".join(f"{k.name}（{k.label}）" for k in kinds)
        sf.problems.append(Problem("unknown_kind", f"无法判断报送表类型；文件名或表头应对应以下之一：{names}。"))
        return []
    parsed = csvfile.parse(sf.path, encoding, delimiter, limits)
    grid = Grid(parsed.grid, parsed.line, parsed.span, list(range(parsed.grid.num_columns)), delimiter=delimiter)
    table, account = _table(sf, "", kind, grid)
    sf.sheets.append(account)
    if sf.submitter_type == "county":
        _missing_sheets(sf, [k for k in KINDS.values() if k.county_scoped], {kind.name})
    if isinstance(table, Problem):
        sf.problems.append(table)
        return []
    return [table]


def _choose_delimiter(lines: list[str], kinds: list[Kind]) -> tuple[str, Kind | None]:
    """The delimiter (and, for a file named by its submitter only, the kind) under which the header is found."""
    best: tuple[int, str, Kind | None] = (0, ",", None)
    for delimiter in csvfile.DELIMITERS:
        rows = list(csv.reader(lines, delimiter=delimiter))
        for kind in kinds:
            row, hits = _header_row(rows, kind)
            if row is not None and hits > best[0]:
                best = (hits, delimiter, kind)
    return best[1], best[2] if best[0] else (kinds[0] if len(kinds) == 1 else None)


def _read_xlsx(sf: SourceFile, data: bytes, limits: Limits) -> list[RawTable]:
    import fastexcel

    scan = xlsx.scan(data, limits)
    try:
        reader = fastexcel.read_excel(data)
        names = reader.sheet_names
    except Exception as exc:  # calamine raises its own error types for corrupt parts
        raise Rejected(
            "unreadable", f"无法打开 Excel 文件（{type(exc).__name__}）；请用 Excel 重新另存为 .xlsx 后报送。"
        ) from exc
    stem_kind = kind_from_name(sf.path.stem, sf.submitter_type)
    plan: list[tuple[str, Kind | None]] = []
    for name in names:
        kind = kind_from_name(name, sf.submitter_type)
        if stem_kind is not None:  # a file named for one kind holds that kind only (its one sheet may have any name)
            kind = stem_kind if kind == stem_kind or len(names) == 1 else None
        plan.append((name, kind))
    expected = (
        [stem_kind]
        if stem_kind
        else ([k for k in KINDS.values() if k.county_scoped] if sf.submitter_type == "county" else [])
    )
    tables = []
    for name, kind in plan:
        sheet_scan = xlsx.find_sheet(scan, name)
        try:
            loaded = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string")
            cells = pa.Table.from_batches([loaded.to_arrow()])
            position = [c.absolute_index for c in loaded.available_columns()]
        except Exception as exc:
            raise Rejected(
                "unreadable", f"工作表“{name}”无法读取（{type(exc).__name__}）；请用 Excel 重新另存为 .xlsx 后报送。"
            ) from exc
        grid = Grid(
            cells,
            np.arange(1, cells.num_rows + 1),
            np.ones(cells.num_rows, dtype=np.int64),
            position,
            scan=sheet_scan,
            full_calc=scan.full_calc_on_load,
        )
        if kind is None:
            _other_sheet(sf, name, grid, sheet_scan, expected)
            continue
        if cells.num_rows == 0:
            sf.problems.append(Problem("empty_sheet", f"工作表“{name}”为空；请按模板填写表头。", sheet=name))
            sf.sheets.append(SheetAccount(name, kind.name, "rejected", 0))
            continue
        table, account = _table(sf, name, kind, grid)
        sf.sheets.append(account)
        if isinstance(table, Problem):
            sf.problems.append(table)
        else:
            tables.append(table)
    _missing_sheets(sf, expected, {k.name for _, k in plan if k})
    if not any(k for _, k in plan) and not expected:
        labels = "、".join(k.label for k in kinds_for(sf.submitter_type))
        sf.problems.append(Problem("unknown_kind", f"工作簿中没有可识别的工作表；工作表名应为以下之一：{labels}。"))
    return tables


def _other_sheet(sf: SourceFile, name: str, grid: Grid, scan: xlsx.SheetScan | None, expected: list[Kind]) -> None:
    """A sheet that is not a submission kind: counted line by line; with data in it, a problem naming its rows."""
    filled = _filled(grid.cells)
    rows = int(filled.sum())
    if name == TEMPLATE_HELPER_SHEET and scan is not None and scan.hidden:
        sf.sheets.append(SheetAccount(name, "", "template", grid.lines, lines_title=grid.lines))
        return
    status = "unrecognised" if rows else "empty"
    sf.sheets.append(
        SheetAccount(name, "", status, grid.lines, lines_blank=grid.lines - rows, rows=rows, row_lines=rows)
    )
    if rows:
        labels = "、".join(k.label for k in expected) or "、".join(k.label for k in kinds_for(sf.submitter_type))
        sf.problems.append(
            Problem(
                "unknown_sheet",
                f"工作表“{name}”不是可识别的报送表，其中 {rows} 行有内容，未读取；"
                f"工作表名应为：{labels}（改名的工作表请改回模板名称）。",
                sheet=name,
            )
        )


def _missing_sheets(sf: SourceFile, expected: list[Kind], found: set[str] | None = None) -> None:
    found = found if found is not None else {a.kind for a in sf.sheets}
    for k in expected:
        if k.name not in found:
            sf.problems.append(
                Problem(
                    "missing_sheet", f"缺少工作表“{k.label}”；请按模板补齐该工作表（无数据时保留表头）。", sheet=k.label
                )
            )
