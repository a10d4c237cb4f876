"""A streaming look inside an XLSX before any parser allocates for it, and what the parser cannot see.

An XLSX is a zip of XML parts. A hostile or broken one can claim a cell at XFD1048576 (a dense
reader allocates rows × columns), inflate a 3 MB file into gigabytes, carry a DTD with entity
expansion, be an encrypted OLE container or an empty zip. :func:`scan` reads the zip's central
directory and streams each sheet's XML once, bounded by the limits, and returns per sheet the
used range, the formula cells (fastexcel exposes only cached values, not whether a value is a
formula's) and the Excel error cells. Only a workbook that passes is handed to fastexcel.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import re
import zipfile
from collections.abc import Callable
from xml.sax.saxutils import unescape

from pipeline.limits import Limits

MAX_ENTRIES = 10_000
CHUNK = 4 * 1024 * 1024
_ROW_REF = re.compile(rb"<row\b[^>]*?\sr=\"(\d+)\"")
_COL_REF = re.compile(rb"<c\b[^>]*?\sr=\"([A-Z]{1,4})\d")
_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_ATTR_R = re.compile(rb"\sr=\"([A-Z]{1,4})(\d+)\"")
_FORMULA = re.compile(rb"<f\b[^>]*?(?:/>|>(.*?)</f>)", re.S)
_VALUE = re.compile(rb"<v>(.*?)</v>", re.S)
_SHEET = re.compile(rb"<sheet\b([^>]*?)/?>")
_REL = re.compile(rb"<Relationship\b([^>]*?)/?>")
_ATTR = re.compile(rb"([\w:]+)=\"([^\"]*)\"")
_FULL_CALC = re.compile(rb"<calcPr\b[^>]*\bfullCalcOnLoad=\"(1|true)\"")
_DTD = (b"<!DOCTYPE", b"<!ENTITY")


class Rejected(Exception):
    """The workbook is rejected as a whole; ``rule`` and ``message`` say why and what to do."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule, self.message = rule, message


@dataclasses.dataclass
class Cell:
    row: int  # Excel row number
    col: int  # 0-based column index
    text: str  # the formula (without "=") or the error value


@dataclasses.dataclass
class SheetScan:
    name: str
    part: str
    hidden: bool
    max_row: int = 0
    max_col: int = 0  # 1-based, 0 when empty
    formulas: list[Cell] = dataclasses.field(default_factory=list)
    uncached: set[tuple[int, int]] = dataclasses.field(default_factory=set)  # formula cells without a cached value
    errors: list[Cell] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class WorkbookScan:
    sheets: list[SheetScan]
    full_calc_on_load: bool  # the writer asks Excel to recalculate: cached values are not to be trusted


def column_index(letters: bytes | str) -> int:
    """ "A" → 0, "Z" → 25, "AA" → 26."""
    n = 0
    for ch in letters.decode() if isinstance(letters, bytes) else letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def column_letter(index: int) -> str:
    """0 → "A", 26 → "AA"."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def _attrs(raw: bytes) -> dict[bytes, bytes]:
    return {k.split(b":")[-1]: v for k, v in _ATTR.findall(raw)}


def scan(data: bytes, limits: Limits) -> WorkbookScan:
    """Check the workbook's structure and every sheet; raises :class:`Rejected` with the reason."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise Rejected(
            "unreadable",
            f"文件不是有效的 Excel 工作簿（压缩结构损坏：{exc}）；请用 Excel 或 WPS 打开后另存为 .xlsx 再报送。",
        ) from exc
    if not infos:
        raise Rejected("not_a_workbook", "文件是一个空的压缩包，不是 Excel 工作簿；请重新导出为 .xlsx 后报送。")
    if len(infos) > MAX_ENTRIES:
        raise Rejected(
            "resource_limit", f"文件内含 {len(infos)} 个部件，超过 {MAX_ENTRIES}；不是正常的 Excel 工作簿，已拒收。"
        )
    names = {i.filename: i for i in infos}
    if any(i.flag_bits & 0x1 for i in infos):
        raise Rejected("encrypted", "文件已加密（设置了打开密码）；请取消密码后另存为 .xlsx 再报送。")
    if "xl/workbook.xml" not in names:
        what = (
            "Word 文档"
            if "word/document.xml" in names
            else ("PowerPoint 文档" if "ppt/presentation.xml" in names else "其他压缩文件")
        )
        raise Rejected("not_a_workbook", f"文件是{what}，不是 Excel 工作簿；请报送 .xlsx 格式的工作簿。")
    for info in infos:
        if info.file_size > limits.inflated_bytes:
            raise Rejected(
                "resource_limit",
                limits.message("max_inflated_mb", f"{info.file_size / (1 << 20):.0f} MB（{info.filename} 解压后）"),
            )

    workbook = _read_part(zf, names["xl/workbook.xml"], limits)
    rels = _relationships(
        _read_part(zf, names["xl/_rels/workbook.xml.rels"], limits) if "xl/_rels/workbook.xml.rels" in names else b""
    )
    sheets = []
    for raw in _SHEET.findall(workbook):
        a = _attrs(raw)
        target = rels.get(a.get(b"id", b""), b"").decode()
        part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        name = unescape(a.get(b"name", b"").decode("utf-8", "replace"), {"&quot;": '"', "&apos;": "'"})
        sheets.append(SheetScan(name=name, part=part, hidden=a.get(b"state", b"visible") != b"visible"))
    for part in ("xl/sharedStrings.xml",):
        if part in names:
            _stream(zf, names[part], limits, lambda chunk: None)
    for sheet in sheets:
        if sheet.part in names:
            _scan_sheet(zf, names[sheet.part], sheet, limits)
    return WorkbookScan(sheets=sheets, full_calc_on_load=bool(_FULL_CALC.search(workbook)))


def _relationships(xml: bytes) -> dict[bytes, bytes]:
    out = {}
    for raw in _REL.findall(xml):
        a = _attrs(raw)
        out[a.get(b"Id", b"")] = a.get(b"Target", b"")
    return out


def _read_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> bytes:
    parts: list[bytes] = []
    _stream(zf, info, limits, parts.append)
    return b"".join(parts)


def _stream(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits, consume: Callable[[bytes], None]) -> None:
    """Decompress one part in chunks (never more than its declared size: zipfile stops there and checks the
    CRC, so a part that lies about its size fails), refusing DTDs, passing each chunk on."""
    tail = b""
    try:
        with zf.open(info) as fh:
            while True:
                chunk = fh.read(CHUNK)
                if not chunk:
                    break
                seam = tail + chunk[:16]  # a marker split across two chunks
                if any(marker in chunk or marker in seam for marker in _DTD):
                    raise Rejected(
                        "xml_dtd",
                        f"文件内部（{info.filename}）含有 XML 文档类型声明（DTD/实体），"
                        "可能是恶意构造的文件，已拒收；请用 Excel 或 WPS 重新另存为 .xlsx 后报送。",
                    )
                tail = chunk[-16:]
                consume(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, RuntimeError, OSError) as exc:
        raise Rejected(
            "unreadable", f"文件内部（{info.filename}）已损坏，无法解压（{exc}）；请用 Excel 重新另存为 .xlsx 后报送。"
        ) from exc


def _scan_sheet(zf: zipfile.ZipFile, info: zipfile.ZipInfo, sheet: SheetScan, limits: Limits) -> None:
    carry = b""
    rows_seen = 0
    too_wide = _columns_beyond(limits.max_columns)
    # Columns are counted exactly only where rows × the column limit could pass the cell limit; below that,
    # "no column beyond the limit" (one regular-expression search, no per-cell work) is all that matters.
    cells_matter = limits.max_rows * limits.max_columns > limits.max_cells

    def consume(chunk: bytes) -> None:
        nonlocal carry, rows_seen
        data = carry + chunk if carry else chunk
        cut = data.rfind(b"</row>")
        if cut < 0:
            carry = data
            return
        cut += len(b"</row>")
        body, carry = data[:cut], data[cut:]
        rows_seen += body.count(b"</row>")
        row_refs = _ROW_REF.findall(body)
        if row_refs:
            sheet.max_row = max(sheet.max_row, max(map(int, row_refs)))
        sheet.max_row = max(sheet.max_row, rows_seen)
        wide = too_wide is None or too_wide.search(body) is not None
        if wide or (cells_matter and sheet.max_row * limits.max_columns > limits.max_cells):
            cols = set(_COL_REF.findall(body))
            if cols:
                sheet.max_col = max(sheet.max_col, max(column_index(c) + 1 for c in cols))
        _check_size(sheet, limits)
        if b"<f" in body or b't="e"' in body:
            _special_cells(body, sheet)

    _stream(zf, info, limits, consume)
    consume(b"</row>")  # flush what followed the last complete row (a sheet may end without one)


@functools.lru_cache(maxsize=8)
def _columns_beyond(limit: int) -> re.Pattern[bytes] | None:
    """A pattern finding a cell reference whose column is past ``limit`` (1-based), or None if limit > ZZ.

    Column letters order like numbers in base 26 among references of one length: a longer reference is
    a later column, and among two-letter ones "BM" follows "BL".
    """
    if limit >= 702:
        return None
    last = column_letter(limit - 1)
    later = [r"[A-Z]{3,}"]
    if len(last) == 1:
        later.append(r"[A-Z]{2}")
        if last != "Z":
            later.append(f"[{chr(ord(last) + 1)}-Z]")
    else:
        first, second = last[0], last[1]
        if first != "Z":
            later.append(f"[{chr(ord(first) + 1)}-Z][A-Z]")
        if second != "Z":
            later.append(f"{first}[{chr(ord(second) + 1)}-Z]")
    # Starts with a literal, which the regular-expression engine skips to quickly; a false hit (another attribute
    # ending in r) only costs the exact count that follows. Row references are digits only.
    return re.compile(rb'r="(?:' + "|".join(later).encode() + rb")\d")


def _check_size(sheet: SheetScan, limits: Limits) -> None:
    if sheet.max_row > limits.max_rows:
        raise Rejected("resource_limit", limits.message("max_rows", f"{sheet.max_row}（工作表“{sheet.name}”）"))
    if sheet.max_col > limits.max_columns:
        raise Rejected(
            "resource_limit",
            limits.message(
                "max_columns", f"{sheet.max_col}（工作表“{sheet.name}”用到第 {column_letter(sheet.max_col - 1)} 列）"
            ),
        )
    if sheet.max_row * sheet.max_col > limits.max_cells:
        raise Rejected(
            "resource_limit", limits.message("max_cells", f"{sheet.max_row} × {sheet.max_col}（工作表“{sheet.name}”）")
        )


def _special_cells(body: bytes, sheet: SheetScan) -> None:
    """Formula and error cells of a chunk of complete rows (only chunks that hold any are searched cell by cell)."""
    for m in _CELL.finditer(body):
        attrs, inner = m.group(1), m.group(2) or b""
        ref = _ATTR_R.search(attrs)
        if ref is None:
            continue
        row, col = int(ref.group(2)), column_index(ref.group(1))
        value = _VALUE.search(inner)
        if b't="e"' in attrs:
            sheet.errors.append(Cell(row, col, _text(value.group(1)) if value else "#ERROR"))
        f = _FORMULA.search(inner)
        if f is not None:
            sheet.formulas.append(Cell(row, col, _text(f.group(1) or b"")))
            if value is None:
                sheet.uncached.add((row, col))


def _text(raw: bytes) -> str:
    return unescape(raw.decode("utf-8", "replace"), {"&quot;": '"', "&apos;": "'"})


def find_sheet(scan_: WorkbookScan | None, name: str) -> SheetScan | None:
    if scan_ is None:
        return None
    return next((s for s in scan_.sheets if s.name == name), None)
