"""Reading a CSV submission as a stream: encoding by a declared rule, physical line numbers kept.

A file is never read whole. One streaming pass over the bytes finds the encoding (UTF-8, with
or without BOM, else GB18030), the number of lines, the longest line and the first byte that
decodes in neither; a second pass parses records with Python's C ``csv`` reader in chunks into
arrow columns. Python's reader is used rather than pyarrow's because each record's physical line
numbers must be known: a quoted field spanning lines must be reported by line, never silently
swallow the rows after it (pyarrow's invalid-row handler gives no line number).

Encoding rule (declared, tested in ``tests/hostile``): valid UTF-8 is UTF-8. Otherwise valid
GB18030 is GB18030, unless it looks like Big5, which GB18030 decodes without error into
mojibake: a file is rejected as Big5 when at least :data:`BIG5_SHARE` of its double-byte
characters (in a sample) fall outside the GB2312 block, where simplified-Chinese text lives,
*and* charset-normalizer, restricted to GB18030 and Big5, prefers Big5. Simplified GBK/GB18030
text has almost no characters outside GB2312, so it always passes; GBK text written in
traditional characters passes because the detector prefers GB18030 for it.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import itertools
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.files import open_regular
from pipeline.ingest.xlsx import Rejected
from pipeline.limits import Limits

BLOCK = 1 << 20
SAMPLE_BYTES = 64 * 1024
BIG5_SHARE = 0.2
NUL_SHARE = 20  # one byte in 20 being NUL: UTF-16 or binary, not a text CSV
RECORDS_PER_CHUNK = 65_536
DELIMITERS = {",": "逗号", "\t": "制表符", ";": "分号", "|": "竖线"}
ACCEPTED_DELIMITERS = (",", "\t")
_HTML_STARTS = (b"<!doctype html", b"<html", b"<table", b"<?xml", b"<head", b"<meta")


@dataclasses.dataclass
class Encoding:
    name: str  # codec name for Python: utf-8-sig or gb18030
    lines: int  # physical lines in the file


@dataclasses.dataclass
class CsvGrid:
    """Every record as text cells ``c0..cN`` (None where a record is shorter), with its physical lines."""

    grid: pa.Table
    line: np.ndarray  # first physical line of each record, 1-based (as a text editor numbers them)
    span: np.ndarray  # physical lines each record occupies (1 unless a quoted field holds a newline)
    fields: np.ndarray  # number of fields of each record as written
    lines: int  # physical lines in the file
    delimiter: str


def detect_encoding(path: Path, limits: Limits) -> Encoding:
    """Stream the file once: encoding by the rule above, line count, line-length limit; :class:`Rejected` if unusable."""
    utf8 = codecs.getincrementaldecoder("utf-8")("strict")
    gb = codecs.getincrementaldecoder("gb18030")("strict")
    utf8_bad = gb_bad = None  # (line, byte) of the first undecodable byte
    lines, offset_line, head, sample = 0, 1, b"", b""
    carry = 0  # length of the line still open at the end of the previous block
    with os.fdopen(open_regular(path), "rb") as fh:
        while block := fh.read(BLOCK):
            if not head:
                head, sample = block[:4096], block[:SAMPLE_BYTES]
                _reject_not_text(head)
            if block.count(b"\x00") * NUL_SHARE > len(block):  # a stray NUL is a cell's problem; many are not text
                raise Rejected(
                    "encoding",
                    "文件含有大量 NUL 字节：不是文本 CSV（可能是不带 BOM 的 UTF-16 编码或二进制文件）；"
                    "请用 Excel 或 WPS 另存为“CSV UTF-8（逗号分隔）”后报送。",
                )
            newlines = np.flatnonzero(np.frombuffer(block, np.uint8) == 10)
            longest = carry + (int(newlines[0]) if len(newlines) else len(block))
            if len(newlines) > 1:
                longest = max(longest, int(np.diff(newlines).max()) - 1)
            carry = len(block) - int(newlines[-1]) - 1 if len(newlines) else carry + len(block)
            if longest > limits.line_bytes:
                raise Rejected(
                    "resource_limit",
                    limits.message("max_line_kb", f"约 {longest // 1024} KB（第 {offset_line} 行附近）"),
                )
            if utf8_bad is None:
                utf8_bad = _feed(utf8, block, offset_line)
            if gb_bad is None:
                gb_bad = _feed(gb, block, offset_line)
            if utf8_bad is not None and gb_bad is not None:
                break
            lines += len(newlines)
            offset_line += len(newlines)
            if lines > limits.max_rows:
                raise Rejected("resource_limit", limits.message("max_rows", f"超过 {limits.max_rows} 行"))
    if carry:
        lines += 1  # a last line without a line end
    if utf8_bad is None and _final(utf8) is None:
        return Encoding("utf-8-sig", lines)
    if gb_bad is None and _final(gb) is None:
        if _looks_like_big5(sample):
            raise Rejected(
                "encoding",
                "文件疑似繁体中文 Big5 编码（按 GB18030 解读会变成乱码）；"
                "请用 Excel 或 WPS 另存为“CSV UTF-8（逗号分隔）”后报送。",
            )
        return Encoding("gb18030", lines)
    line, byte = max(x for x in (utf8_bad, gb_bad, (offset_line, -1)) if x is not None)
    what = f"（0x{byte:02X}）" if byte >= 0 else ""
    raise Rejected(
        "encoding",
        f"第 {line} 行含有无法识别的字节{what}：文件既不是 UTF-8 也不是 GB18030 编码；"
        "请用 Excel 或 WPS 另存为“CSV UTF-8（逗号分隔）”后报送。",
    )


def _reject_not_text(head: bytes) -> None:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise Rejected("encoding", "文件为 UTF-16 编码；请用 Excel 或 WPS 另存为“CSV UTF-8（逗号分隔）”后报送。")
    start = head.lstrip(codecs.BOM_UTF8).lstrip().lower()
    if start.startswith(_HTML_STARTS):
        raise Rejected(
            "html",
            "文件实为网页（HTML/XML）格式，并非 CSV 或 Excel 工作簿（常见于系统“导出 Excel”功能）；"
            "请用 Excel 打开后“另存为” .xlsx 工作簿再报送。",
        )


def _feed(decoder: codecs.IncrementalDecoder, block: bytes, first_line: int) -> tuple[int, int] | None:
    """Decode one block; on failure the (line, byte) of the first bad byte."""
    try:
        decoder.decode(block)
        return None
    except UnicodeDecodeError as exc:
        return first_line + block[: exc.start].count(b"\n"), block[exc.start]


def _final(decoder: codecs.IncrementalDecoder) -> tuple[int, int] | None:
    try:
        decoder.decode(b"", final=True)
        return None
    except UnicodeDecodeError:
        return (0, -1)


def _looks_like_big5(sample: bytes) -> bool:
    """The declared Big5 rule (module docstring), on a sample of the file."""
    text = sample.decode("gb18030", errors="ignore")
    wide = [ch.encode("gb18030") for ch in text if ord(ch) >= 0x80]
    if not wide:
        return False
    outside = sum(1 for b in wide if len(b) != 2 or not (0xA1 <= b[0] <= 0xF7 and 0xA1 <= b[1] <= 0xFE))
    if outside / len(wide) < BIG5_SHARE:
        return False
    import charset_normalizer

    best = charset_normalizer.from_bytes(sample, cp_isolation=["gb18030", "big5"]).best()
    return best is not None and best.encoding == "big5"


def read_head(path: Path, encoding: str, rows: int) -> list[str]:
    """The first ``rows`` physical lines, decoded (for choosing the delimiter and finding the header)."""
    with os.fdopen(open_regular(path), "rb") as fh:
        text = io.TextIOWrapper(fh, encoding=encoding, newline="")
        return [line.rstrip("\r\n") for line in itertools.islice(text, rows)]


def parse(path: Path, encoding: Encoding, delimiter: str, limits: Limits) -> CsvGrid:
    """Every record of the file, streamed in chunks, with its physical line numbers (vectorised after the C reader)."""
    csv.field_size_limit(limits.line_bytes)
    chunks, counts = [], []
    with os.fdopen(open_regular(path), "rb") as fh:
        text = io.TextIOWrapper(fh, encoding=encoding.name, newline="")
        reader = csv.reader(text, delimiter=delimiter)
        try:
            while batch := list(itertools.islice(reader, RECORDS_PER_CHUNK)):
                arr = pa.array(batch, type=pa.list_(pa.string()))
                chunks.append(arr)
                counts.append(len(batch))
        except csv.Error as exc:
            raise Rejected(
                "unreadable",
                f"第 {reader.line_num} 行附近 CSV 格式错误（{exc}）；请检查引号是否成对、单元格内容是否过长。",
            ) from exc
    records = (
        pa.chunked_array(chunks, type=pa.list_(pa.string())).combine_chunks()
        if chunks
        else pa.array([], pa.list_(pa.string()))
    )
    n = len(records)
    fields = (
        pc.list_value_length(records).to_numpy(zero_copy_only=False).astype(np.int64) if n else np.zeros(0, np.int64)
    )
    width = int(fields.max()) if n else 0
    if width > limits.max_columns:
        at = int(np.argmax(fields > limits.max_columns))
        raise Rejected("resource_limit", limits.message("max_columns", f"{width}（第 {at + 1} 条记录）"))
    # Lines a record spans: 1 + the newlines inside its quoted fields; blank lines are records with no field.
    flat = pc.list_flatten(records)
    inner = (
        pc.count_substring(flat, "\n").to_numpy(zero_copy_only=False).astype(np.int64)
        if len(flat)
        else np.zeros(0, np.int64)
    )
    offsets = records.offsets.to_numpy()
    per_record = np.add.reduceat(np.append(inner, 0), offsets[:-1]) if n else np.zeros(0, np.int64)
    per_record[fields == 0] = 0
    span = 1 + per_record
    line = 1 + np.concatenate([[0], np.cumsum(span)[:-1]]) if n else np.zeros(0, np.int64)
    if n and width:
        fixed = pc.list_slice(records, 0, width, return_fixed_size_list=True).flatten()
        columns = {f"c{j}": fixed.take(pa.array(np.arange(j, n * width, width))) for j in range(width)}
    else:
        columns = {"c0": pa.nulls(n, pa.string())}
    return CsvGrid(
        grid=pa.table(columns),
        line=line,
        span=span,
        fields=fields,
        lines=max(encoding.lines, int(line[-1] + span[-1] - 1) if n else 0),
        delimiter=delimiter,
    )
