"""The hostile-input corpus: defective and malicious variants of the Hohhot submissions, built at test time.

Each :class:`Case` writes one evaluation folder (the Hohhot configuration and registry, plus the
case's files) and says what ingest must make of it: the status of each file named and the
quarantine records it must produce. The categories follow issue 10: resource exhaustion and
parser crashes, silent loss or wrong numbers, escapes from the evaluation folder, and wrong or
missing messages. Bombs are generated, not committed: a few kilobytes of code, not gigabytes.
"""

from __future__ import annotations

import dataclasses
import io
import os
import shutil
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl

from tests.support import ROOT

HOHHOT = ROOT / "raw" / "2023-hohhot-pes"
EVALUATION = "hostile"
RECEIPTS = "bureau/finance/receipts.csv"
COUNTY = "county/150102.xlsx"


@dataclasses.dataclass(frozen=True)
class Expect:
    """A quarantine record that must appear: fields given are matched, the others are free."""

    file: str
    rule: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    message: str | None = None  # a substring the message must contain


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    category: str  # exhaustion / silent / escape / message
    what: str
    build: Callable[[Path], None]  # writes the case's files into the evaluation folder
    status: dict[str, str]  # file → accepted / partial / rejected / unrecognised
    records: tuple[Expect, ...] = ()
    settings: dict | None = None  # settings merged into evaluation.yaml (limits for crash cases)
    accepted_rows: dict[str, int] = dataclasses.field(default_factory=dict)  # file → rows that must be accepted


def base(folder: Path, settings: dict | None = None) -> None:
    """The Hohhot configuration and sub-project registry: enough to validate any kind."""
    folder.mkdir(parents=True)
    text = (HOHHOT / "evaluation.yaml").read_text(encoding="utf-8")
    if settings:
        import yaml

        meta = yaml.safe_load(text)
        meta["settings"].update(settings)
        text = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    (folder / "evaluation.yaml").write_text(text, encoding="utf-8")
    shutil.copytree(HOHHOT / "frameworks", folder / "frameworks")
    copy(folder, "bureau/project_office/subprojects.xlsx")


def copy(folder: Path, rel: str, to: str | None = None) -> Path:
    dst = folder / (to or rel)
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(HOHHOT / rel, dst)
    return dst


def write(folder: Path, rel: str, data: bytes | str, encoding: str = "utf-8") -> Path:
    path = folder / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode(encoding) if isinstance(data, str) else data)
    return path


def receipts_text() -> str:
    return (HOHHOT / RECEIPTS).read_text(encoding="utf-8")


def zip_edit(src: Path, dst: Path, edits: dict[str, Callable[[bytes], bytes]], extra: dict | None = None) -> None:
    """Copy an xlsx, rewriting some parts' bytes (and adding ``extra`` parts)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info.filename, edits.get(info.filename, lambda b: b)(data))
        for name, data in (extra or {}).items():
            zout.writestr(name, data)


def county_sheet_part(name: str) -> str:
    """The part of a sheet of the Hohhot county workbooks (written by xlsxwriter in kind order)."""
    order = ["配套计划", "资金到位", "资金支出", "指标完成值", "档案清单"]
    return f"xl/worksheets/sheet{order.index(name) + 1}.xml"


def edit_county(
    folder: Path,
    edits: dict[str, Callable[[bytes], bytes]],
    rel: str = COUNTY,
    workbook: Callable[[bytes], bytes] | None = None,
) -> None:
    parts = {county_sheet_part(k): v for k, v in edits.items()}
    if workbook:
        parts["xl/workbook.xml"] = workbook
    dst = folder / rel
    dst.parent.mkdir(parents=True, exist_ok=True)
    zip_edit(HOHHOT / COUNTY, dst, parts)


def payments_sheet(folder: Path, edit: Callable[[openpyxl.worksheet.worksheet.Worksheet], None]) -> None:
    """150102's workbook saved by openpyxl after ``edit`` of its 资金支出 sheet (as a clerk's spreadsheet tool would)."""
    wb = openpyxl.load_workbook(HOHHOT / COUNTY)
    edit(wb["资金支出"])
    path = folder / COUNTY
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def header_and_cell(header: str, value: object, column: int = 10) -> Callable[[Path], None]:
    """A column ``header`` added to 150102's 资金支出, with ``value`` on the first data row."""

    def edit(ws) -> None:
        ws.cell(row=3, column=column, value=header)
        ws.cell(row=4, column=column, value=value)

    return lambda folder: payments_sheet(folder, edit)


PAYMENT_CELL = b'<c r="E4" s="3"><v>96.40000000000001</v></c>'


def add_row(xml: bytes, row: bytes) -> bytes:
    return xml.replace(b"</sheetData>", row + b"</sheetData>")


# --- exhaustion and crashes -----------------------------------------------------------------------------


def xfd_cell(folder: Path) -> None:
    edit_county(
        folder,
        {
            "资金支出": lambda x: add_row(
                x, b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
            )
        },
    )


def far_column(folder: Path) -> None:
    edit_county(
        folder, {"资金支出": lambda x: add_row(x, b'<row r="6"><c r="XFD6" t="inlineStr"><is><t>x</t></is></c></row>')}
    )


def dense_area(folder: Path) -> None:
    edit_county(folder, {"资金支出": lambda x: add_row(x, b'<row r="200000"><c r="AD200000"><v>1</v></c></row>')})


def inflated_part(folder: Path) -> None:
    """A sheet whose XML inflates to 300 MB of spaces (a few hundred KB compressed)."""
    dst = folder / COUNTY
    dst.parent.mkdir(parents=True, exist_ok=True)
    target = county_sheet_part("资金支出")
    with zipfile.ZipFile(HOHHOT / COUNTY) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename != target:
                zout.writestr(info.filename, zin.read(info.filename))
                continue
            xml = zin.read(info.filename)
            head, tail = xml.split(b"<sheetData>")
            big = zipfile.ZipInfo(info.filename)
            big.compress_type = zipfile.ZIP_DEFLATED
            with zout.open(big, "w", force_zip64=True) as out:
                out.write(head + b"<sheetData>")
                block = b" " * (1 << 20)
                for _ in range(300):
                    out.write(block)
                out.write(tail)


def million_rows(folder: Path) -> None:
    """A 3 MB workbook whose sheet inflates to a million junk rows."""

    def rows(xml: bytes) -> bytes:
        junk = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (r, r) for r in range(10, 1_000_010))
        return add_row(xml, junk)

    edit_county(folder, {"资金支出": rows})


def lying_size(folder: Path) -> None:
    """The central directory claims a sheet is 100 bytes; it inflates to much more (the CRC check fails)."""
    dst = folder / COUNTY
    edit_county(
        folder,
        {
            "资金支出": lambda x: add_row(
                x, b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (r, r) for r in range(10, 20_010))
            )
        },
    )
    data = bytearray(dst.read_bytes())
    name = county_sheet_part("资金支出").encode()
    for sig, size_at in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):  # central directory, local header
        pos = 0
        while (pos := data.find(sig, pos)) >= 0:
            name_len = struct.unpack_from("<H", data, pos + (28 if sig == b"PK\x01\x02" else 26))[0]
            start = pos + (46 if sig == b"PK\x01\x02" else 30)
            if bytes(data[start : start + name_len]) == name:
                struct.pack_into("<I", data, pos + size_at, 100)
            pos += 4
    dst.write_bytes(bytes(data))


def billion_laughs(part_name: str) -> Callable[[Path], None]:
    dtd = (
        b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
        b'<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>'
    )

    def with_dtd(xml: bytes) -> bytes:
        return xml.replace(b'standalone="yes"?>', b'standalone="yes"?>' + dtd, 1).replace(
            b"<v>96.40000000000001</v>", b"<v>&lol4;</v>"
        )

    def build(folder: Path) -> None:
        if part_name == "sheet":
            edit_county(folder, {"资金支出": with_dtd})
        else:
            dst = folder / COUNTY
            dst.parent.mkdir(parents=True, exist_ok=True)
            zip_edit(HOHHOT / COUNTY, dst, {"xl/sharedStrings.xml": with_dtd})

    return build


def sparse_csv(size: int) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        path = write(folder, RECEIPTS, receipts_text())
        with path.open("r+b") as fh:
            fh.truncate(size)  # a sparse file: costs no disk, would cost `size` bytes of memory if read whole

    return build


def big_csv(folder: Path) -> None:
    """A 70 MB CSV (over the 64 MB default), real bytes this time."""
    text = receipts_text()
    line = "DW999,2023-01-05,central,1,150100,1.00,,,\n"
    path = write(folder, RECEIPTS, text)
    with path.open("a", encoding="utf-8") as fh:
        for _ in range(70 * 1024 * 1024 // len(line) + 1):
            fh.write(line)


def long_line(folder: Path) -> None:
    write(folder, RECEIPTS, receipts_text() + "DW998,2023-01-05,central,1,150100,1.00,,," + "长" * 40_000 + "\n")


def many_fields(folder: Path) -> None:
    write(folder, RECEIPTS, receipts_text() + "DW998,2023-01-05,central,1,150100,1.00" + ",x" * 100 + "\n")


def fifo(folder: Path) -> None:
    (folder / "county").mkdir(parents=True, exist_ok=True)
    os.mkfifo(folder / COUNTY)


def slow_csv(folder: Path) -> None:
    """Two million short lines: legitimate, but slower to parse than the case's one-second limit."""
    path = write(folder, RECEIPTS, receipts_text())
    with path.open("a", encoding="utf-8") as fh:
        fh.write("DW900,2023-01-05,central,1,150100,1.00,,,\n" * 2_000_000)


# --- silent loss and wrong numbers ------------------------------------------------------------------------


def unbalanced_quote_in_note(folder: Path) -> None:
    lines = receipts_text().splitlines()
    lines[3] = lines[3] + '"财政局 3 月补拨'  # the note field opens a quote that never closes
    write(folder, RECEIPTS, "\n".join(lines) + "\n")


def unbalanced_quote_in_amount(folder: Path) -> None:
    lines = receipts_text().splitlines()
    cells = lines[5].split(",")
    cells[5] = '"' + cells[5]
    lines[5] = ",".join(cells)
    write(folder, RECEIPTS, "\n".join(lines) + "\n")


def multiline_note(folder: Path) -> None:
    lines = receipts_text().splitlines()
    lines[3] = lines[3] + '"第一行说明\n第二行说明"'
    write(folder, RECEIPTS, "\n".join(lines) + "\n")


def wrong_county_workbook(folder: Path) -> None:
    copy(folder, COUNTY, "county/150103.xlsx")  # 新城区's workbook sent under 回民区's code


def county_code_column(code: str) -> Callable[[Path], None]:
    return header_and_cell("旗县区编码", code)


def copies_of_a_county(name: str) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        copy(folder, COUNTY)
        copy(folder, COUNTY, f"county/{name}")

    return build


def identical_bureau_files(folder: Path) -> None:
    copy(folder, RECEIPTS)
    copy(folder, RECEIPTS, "bureau/finance/receipts_copy.csv")


def xlsx_and_csv(folder: Path) -> None:
    copy(folder, COUNTY)
    write(
        folder,
        "county/150102.csv",
        "资金到位\n到位单号,到账日期,资金来源,子项目编码,资金渠道,金额（万元）\n"
        "SX2023-001,2023-04-19,provincial,4,市级下拨,120\n",
    )


def formula(cell_xml: bytes, full_calc: bool) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        edit_county(
            folder,
            {"资金支出": lambda x: x.replace(PAYMENT_CELL, cell_xml)},
            workbook=None if full_calc else (lambda x: x.replace(b' fullCalcOnLoad="1"', b"")),
        )

    return build


def openpyxl_formula(folder: Path) -> None:
    """A formula written by a tool that does not calculate (openpyxl): no cached value at all."""
    payments_sheet(folder, lambda ws: ws.__setitem__("E4", "=90+6.4"))


def error_value(value: bytes) -> Callable[[Path], None]:
    return formula(b'<c r="E4" s="3" t="e"><f>E5/0</f><v>' + value + b"</v></c>", full_calc=False)


def encoded(encoding: str, text: str | None = None) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        write(folder, RECEIPTS, text if text is not None else receipts_text(), encoding=encoding)

    return build


BIG5_RECEIPTS = (
    "規劃財務科　資金到位明細　單位：萬元,填報單位代碼,finance\n"
    "到位單號,到賬日期,資金來源,子項目編碼,旗縣區編碼,金額（萬元）,文號,沖紅憑證號,備註\n"
    "DW001,2022-07-18,central,1,150100,800.00,財社〔2022〕88號,,\n"
    "DW002,2022-07-18,central,2,150100,15.00,財社〔2022〕88號,,\n"
)


def gb18030_rare(folder: Path) -> None:
    """GB18030 with four-byte characters (a rare name character in a note): valid, must pass."""
    lines = receipts_text().splitlines()
    lines[2] = lines[2] + "收款人𠀀𪚥"
    write(folder, RECEIPTS, "\n".join(lines) + "\n", encoding="gb18030")


two_amount_columns = header_and_cell("金额（万元）", 50)


def unit_conflict(folder: Path) -> None:
    text = receipts_text().replace("金额（万元）", "金额（元）")  # the title still says 单位：万元
    write(folder, RECEIPTS, text)


def nul_in_id(folder: Path) -> None:
    lines = receipts_text().splitlines()
    lines.append(lines[2].replace("DW001", "DW001\x00", 1))
    write(folder, RECEIPTS, "\n".join(lines) + "\n")


def trailing_fields(folder: Path) -> None:
    lines = receipts_text().splitlines()
    lines[4] = lines[4] + ",9.99,另计"
    write(folder, RECEIPTS, "\n".join(lines) + "\n")


def data_without_header(folder: Path) -> None:
    payments_sheet(folder, lambda ws: ws.cell(row=4, column=12, value="另付 3.2 万元"))


unknown_header = header_and_cell("经办人", "张三")


def renamed_sheet(folder: Path) -> None:
    payments_sheet(folder, lambda ws: setattr(ws, "title", "支出明细"))


def long_text(folder: Path) -> None:
    lines = receipts_text().splitlines()
    lines[2] = lines[2] + "x" * 33_000
    write(folder, RECEIPTS, "\n".join(lines) + "\n")


def blank_template(folder: Path) -> None:
    text = receipts_text().splitlines()
    write(folder, RECEIPTS, "\n".join(text[:2]) + "\n")


def blank_lines(folder: Path) -> None:
    lines = receipts_text().splitlines()
    lines.insert(4, "")
    lines.insert(6, ",,,,,,,,")
    write(folder, RECEIPTS, "\n".join(lines) + "\n\n\n")


# --- escapes -------------------------------------------------------------------------------------------


def symlinked_file(target: str) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        (folder / "county").mkdir(parents=True, exist_ok=True)
        os.symlink(target if target.startswith("/") else str(HOHHOT / target), folder / COUNTY)

    return build


def symlinked_folder(folder: Path) -> None:
    (folder / "bureau").mkdir(parents=True, exist_ok=True)
    os.symlink(HOHHOT / "bureau" / "finance", folder / "bureau" / "finance")


def undeclared_department(name: str) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        copy(folder, RECEIPTS, f"bureau/{name}/receipts.csv")

    return build


def file_in_bureau_root(folder: Path) -> None:
    copy(folder, RECEIPTS, "bureau/receipts.csv")


def undeclared_kind(folder: Path) -> None:
    copy(folder, "bureau/czj/fund_plan.xlsx", "bureau/finance/fund_plan.xlsx")


# --- wrong or missing messages --------------------------------------------------------------------------


def html_as_xlsx(folder: Path) -> None:
    write(
        folder,
        COUNTY,
        "<html><head><meta charset='utf-8'></head><body><table><tr><td>到位单号</td></tr></table></body></html>",
    )


def empty_zip(folder: Path) -> None:
    buf = io.BytesIO()
    zipfile.ZipFile(buf, "w").close()
    write(folder, COUNTY, buf.getvalue())


def encrypted_xlsx(folder: Path) -> None:
    """An OLE2 container holding EncryptionInfo and EncryptedPackage streams, as Excel saves a password-protected xlsx."""
    header = bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504)
    names = b"".join(n.encode("utf-16-le") + bytes(2) for n in ("EncryptionInfo", "EncryptedPackage"))
    write(folder, COUNTY, header + names + bytes(4096))


def word_as_xlsx(folder: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<document/>")
    write(folder, COUNTY, buf.getvalue())


def old_xls(folder: Path) -> None:
    write(folder, COUNTY, bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504) + "Workbook".encode("utf-16-le") + bytes(2048))


def delimited(sep: str) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        write(folder, RECEIPTS, receipts_text().replace(",", sep))

    return build


def bad_byte(folder: Path) -> None:
    data = receipts_text().encode("utf-8")
    lines = data.split(b"\n")
    lines[6] = lines[6] + b"\xff\xfe"
    write(folder, RECEIPTS, b"\n".join(lines))


def nul_in_amount(folder: Path) -> None:
    lines = receipts_text().splitlines()
    cells = lines[4].split(",")
    cells[5] = cells[5] + "\x00"
    lines[4] = ",".join(cells)
    write(folder, RECEIPTS, "\n".join(lines) + "\n")


def clean_copy(*rels: str) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        for rel in rels:
            copy(folder, rel)

    return build


R, C = RECEIPTS, COUNTY
CRASH_LIMITS = {
    "limits": {"max_rows": 1_048_576, "max_columns": 16_384, "max_cells": 1 << 40, "worker_memory_mb": 1024}
}

CASES: list[Case] = [
    # exhaustion and crashes
    Case(
        "xfd_cell",
        "exhaustion",
        "one cell at XFD1048576",
        xfd_cell,
        {C: "rejected"},
        (Expect(C, "resource_limit", message="单表行数上限"),),
    ),
    Case(
        "far_column",
        "exhaustion",
        "one cell in column XFD",
        far_column,
        {C: "rejected"},
        (Expect(C, "resource_limit", message="单表列数上限"),),
    ),
    Case(
        "dense_area",
        "exhaustion",
        "a used range of 200,000 × 30 cells",
        dense_area,
        {C: "rejected"},
        (Expect(C, "resource_limit", message="单元格数上限"),),
    ),
    Case(
        "inflated_part",
        "exhaustion",
        "a sheet's XML inflates to 300 MB",
        inflated_part,
        {C: "rejected"},
        (Expect(C, "resource_limit", message="解压后大小上限"),),
    ),
    Case(
        "million_rows",
        "exhaustion",
        "a million junk rows",
        million_rows,
        {C: "rejected"},
        (Expect(C, "resource_limit", message="单表行数上限"),),
    ),
    Case(
        "lying_size",
        "exhaustion",
        "a part larger than its declared size",
        lying_size,
        {C: "rejected"},
        (Expect(C, "unreadable"),),
    ),
    Case(
        "laughs_sheet",
        "exhaustion",
        "billion laughs in a sheet",
        billion_laughs("sheet"),
        {C: "rejected"},
        (Expect(C, "xml_dtd"),),
    ),
    Case(
        "laughs_strings",
        "exhaustion",
        "billion laughs in the shared strings",
        billion_laughs("strings"),
        {C: "rejected"},
        (Expect(C, "xml_dtd"),),
    ),
    Case(
        "sparse_2g",
        "exhaustion",
        "a 2 GiB sparse CSV",
        sparse_csv(2 << 30),
        {R: "rejected"},
        (Expect(R, "resource_limit", message="文件大小上限"),),
    ),
    Case(
        "sparse_4g",
        "exhaustion",
        "a 4 GiB sparse CSV",
        sparse_csv(4 << 30),
        {R: "rejected"},
        (Expect(R, "resource_limit", message="文件大小上限"),),
    ),
    Case(
        "big_csv",
        "exhaustion",
        "a 70 MB CSV",
        big_csv,
        {R: "rejected"},
        (Expect(R, "resource_limit", message="文件大小上限"),),
    ),
    Case(
        "long_line",
        "exhaustion",
        "a 120 KB line",
        long_line,
        {R: "rejected"},
        (Expect(R, "resource_limit", message="单行长度上限"),),
    ),
    Case(
        "many_fields",
        "exhaustion",
        "a record of 106 fields",
        many_fields,
        {R: "rejected"},
        (Expect(R, "resource_limit", message="单表列数上限"),),
    ),
    Case(
        "fifo",
        "exhaustion",
        "a FIFO named like a county workbook",
        fifo,
        {C: "rejected"},
        (Expect(C, "not_regular_file", message="命名管道"),),
    ),
    Case(
        "native_abort",
        "exhaustion",
        "a reader abort (allocation beyond the worker's memory) with lax limits",
        xfd_cell,
        {C: "rejected"},
        (Expect(C, "worker_failed", message="解析进程异常退出"),),
        settings=CRASH_LIMITS,
    ),
    Case(
        "timeout",
        "exhaustion",
        "a parse longer than the time limit",
        slow_csv,
        {R: "rejected"},
        (Expect(R, "worker_failed", message="超过解析时间上限"),),
        settings={"limits": {"parse_timeout_s": 1, "max_rows": 3_000_000, "max_file_mb": 200}},
    ),
    # silent loss or wrong numbers
    Case(
        "unbalanced_quote_note",
        "silent",
        "an unclosed quote in a note swallows the rows below",
        unbalanced_quote_in_note,
        {R: "partial"},
        (Expect(R, "multiline_field", row=4, column="备注"),),
        accepted_rows={R: 1},
    ),
    Case(
        "unbalanced_quote_amount",
        "silent",
        "an unclosed quote in an amount",
        unbalanced_quote_in_amount,
        {R: "partial"},
        (Expect(R, "multiline_field", row=6, column="金额（万元）"),),
        accepted_rows={R: 3},
    ),
    Case(
        "multiline_note_ok",
        "silent",
        "a real two-line note (control: accepted)",
        multiline_note,
        {R: "accepted"},
        accepted_rows={R: 21},
    ),
    Case(
        "wrong_county_workbook",
        "silent",
        "新城区's workbook filed as 150103",
        wrong_county_workbook,
        {"county/150103.xlsx": "rejected"},
        (Expect("county/150103.xlsx", "submitter_mismatch", message="150102"),),
    ),
    Case(
        "county_code_column",
        "silent",
        "rows carrying another county's code",
        county_code_column("150105"),
        {C: "rejected"},
        (Expect(C, "county_code_mismatch", sheet="资金支出", message="150105"),),
    ),
    Case(
        "county_code_column_ok",
        "silent",
        "a 旗县区编码 column with the file's own code (control)",
        county_code_column("150102"),
        {C: "accepted"},
    ),
    Case(
        "copy_numbered",
        "silent",
        "150102(1).xlsx beside the real file",
        copies_of_a_county("150102(1).xlsx"),
        {C: "accepted", "county/150102(1).xlsx": "unrecognised"},
        (Expect("county/150102(1).xlsx", "bad_file_name"),),
    ),
    Case(
        "copy_named",
        "silent",
        "150102 新城区.xlsx beside the real file",
        copies_of_a_county("150102 新城区.xlsx"),
        {C: "accepted", "county/150102 新城区.xlsx": "unrecognised"},
        (Expect("county/150102 新城区.xlsx", "bad_file_name"),),
    ),
    Case(
        "copy_subfolder",
        "silent",
        "county/旧版/150102.xlsx beside the real file",
        copies_of_a_county("旧版/150102.xlsx"),
        {C: "accepted", "county/旧版/150102.xlsx": "unrecognised"},
        (Expect("county/旧版/150102.xlsx", "unknown_file"),),
    ),
    Case(
        "identical_files",
        "silent",
        "the same receipts under two names",
        identical_bureau_files,
        {R: "accepted", "bureau/finance/receipts_copy.csv": "rejected"},
        (Expect("bureau/finance/receipts_copy.csv", "duplicate_file"),),
    ),
    Case(
        "xlsx_and_csv",
        "silent",
        "150102.xlsx and 150102.csv",
        xlsx_and_csv,
        {C: "rejected", "county/150102.csv": "rejected"},
        (Expect(C, "duplicate_submission"), Expect("county/150102.csv", "duplicate_submission")),
    ),
    Case(
        "formula_uncached",
        "silent",
        "a formula without a cached value (openpyxl)",
        openpyxl_formula,
        {C: "partial"},
        (Expect(C, "formula_uncalculated", sheet="资金支出", row=4, column="金额（万元）", message="公式未计算"),),
    ),
    Case(
        "formula_cached_zero",
        "silent",
        "a formula cached as 0 by a writer that asks for recalculation",
        formula(b'<c r="E4" s="3"><f>90+6.4</f><v>0</v></c>', full_calc=True),
        {C: "partial"},
        (Expect(C, "formula_uncalculated", sheet="资金支出", row=4, column="金额（万元）"),),
    ),
    Case(
        "formula_calculated",
        "silent",
        "a formula Excel calculated (accepted, listed as a warning)",
        formula(b'<c r="E4" s="3"><f>90+6.4</f><v>96.4</v></c>', full_calc=False),
        {C: "accepted"},
    ),
    Case(
        "error_div0",
        "silent",
        "#DIV/0! in an amount",
        error_value(b"#DIV/0!"),
        {C: "partial"},
        (Expect(C, "excel_error", sheet="资金支出", row=4, message="#DIV/0!"),),
    ),
    Case(
        "error_ref",
        "silent",
        "#REF! in an amount",
        error_value(b"#REF!"),
        {C: "partial"},
        (Expect(C, "excel_error", sheet="资金支出", row=4, message="#REF!"),),
    ),
    Case(
        "big5",
        "silent",
        "a Big5 (traditional Chinese) CSV",
        encoded("big5", BIG5_RECEIPTS),
        {R: "rejected"},
        (Expect(R, "encoding", message="Big5"),),
    ),
    Case(
        "gbk_ok", "silent", "GBK simplified (control: accepted)", encoded("gbk"), {R: "accepted"}, accepted_rows={R: 21}
    ),
    Case(
        "gb18030_rare_ok",
        "silent",
        "GB18030 four-byte characters (control: accepted)",
        gb18030_rare,
        {R: "accepted"},
        accepted_rows={R: 21},
    ),
    Case(
        "utf8_bom_ok",
        "silent",
        "UTF-8 with BOM (control: accepted)",
        encoded("utf-8-sig"),
        {R: "accepted"},
        accepted_rows={R: 21},
    ),
    Case(
        "two_amount_columns",
        "silent",
        "two 金额 columns",
        two_amount_columns,
        {C: "partial"},
        (Expect(C, "duplicate_header", sheet="资金支出"),),
    ),
    Case(
        "unit_conflict",
        "silent",
        "title 万元 over header 元",
        unit_conflict,
        {R: "rejected"},
        (Expect(R, "unit_conflict", column="金额（元）"),),
    ),
    Case(
        "nul_in_id",
        "silent",
        "an id with a NUL byte (would pass uniqueness)",
        nul_in_id,
        {R: "partial"},
        (Expect(R, "control_character", column="到位单号"),),
        accepted_rows={R: 21},
    ),
    Case(
        "trailing_fields",
        "silent",
        "extra trailing CSV fields",
        trailing_fields,
        {R: "partial"},
        (Expect(R, "extra_fields", row=5),),
        accepted_rows={R: 20},
    ),
    Case(
        "data_without_header",
        "silent",
        "data in a column with no header",
        data_without_header,
        {C: "partial"},
        (Expect(C, "extra_fields", sheet="资金支出", row=4),),
    ),
    Case("unknown_header", "silent", "an extra named column (warned, not read)", unknown_header, {C: "accepted"}),
    Case(
        "renamed_sheet",
        "silent",
        "a renamed sheet's rows are counted",
        renamed_sheet,
        {C: "partial"},
        (
            Expect(C, "unknown_sheet", sheet="支出明细", message="4 行有内容"),
            Expect(C, "missing_sheet", sheet="资金支出"),
        ),
    ),
    Case(
        "long_text",
        "silent",
        "a note over 32,767 characters",
        long_text,
        {R: "partial"},
        (Expect(R, "text_too_long", row=3, column="备注"),),
        accepted_rows={R: 20},
    ),
    Case("blank_template", "silent", "a blank template (accepted with a warning)", blank_template, {R: "accepted"}),
    Case(
        "blank_lines",
        "silent",
        "blank lines in and after the data",
        blank_lines,
        {R: "accepted"},
        accepted_rows={R: 21},
    ),
    # escapes
    Case(
        "symlink_outside",
        "escape",
        "a county workbook that is a link to /etc/passwd",
        symlinked_file("/etc/passwd"),
        {C: "rejected"},
        (Expect(C, "not_regular_file", message="符号链接"),),
    ),
    Case(
        "symlink_inside",
        "escape",
        "a link to a real Hohhot workbook",
        symlinked_file(COUNTY),
        {C: "rejected"},
        (Expect(C, "not_regular_file"),),
    ),
    Case(
        "symlink_folder",
        "escape",
        "a department folder that is a link",
        symlinked_folder,
        {"bureau/finance": "rejected"},
        (Expect("bureau/finance", "not_regular_file"),),
    ),
    Case(
        "undeclared_department",
        "escape",
        "a department folder not in evaluation.yaml",
        undeclared_department("other"),
        {"bureau/other/receipts.csv": "unrecognised"},
        (Expect("bureau/other/receipts.csv", "unknown_department"),),
    ),
    Case(
        "formula_department",
        "escape",
        "a department folder named like a formula",
        undeclared_department('=HYPERLINK("x")'),
        {'bureau/=HYPERLINK("x")/receipts.csv': "unrecognised"},
    ),
    Case(
        "bureau_root_file",
        "escape",
        "a file directly under bureau/",
        file_in_bureau_root,
        {"bureau/receipts.csv": "unrecognised"},
        (Expect("bureau/receipts.csv", "unknown_file"),),
    ),
    Case(
        "undeclared_kind",
        "escape",
        "a department sending a kind it is not declared for",
        undeclared_kind,
        {"bureau/finance/fund_plan.xlsx": "unrecognised"},
        (Expect("bureau/finance/fund_plan.xlsx", "undeclared_kind"),),
    ),
    # wrong or missing messages
    Case(
        "html_xlsx",
        "message",
        "an HTML export saved as .xlsx",
        html_as_xlsx,
        {C: "rejected"},
        (Expect(C, "html", message="网页"),),
    ),
    Case(
        "empty_zip",
        "message",
        "an empty zip",
        empty_zip,
        {C: "rejected"},
        (Expect(C, "not_a_workbook", message="空的压缩包"),),
    ),
    Case(
        "encrypted",
        "message",
        "a password-protected workbook",
        encrypted_xlsx,
        {C: "rejected"},
        (Expect(C, "encrypted", message="加密"),),
    ),
    Case(
        "word_docx",
        "message",
        "a Word document named .xlsx",
        word_as_xlsx,
        {C: "rejected"},
        (Expect(C, "not_a_workbook", message="Word"),),
    ),
    Case(
        "old_xls", "message", "an old binary .xls", old_xls, {C: "rejected"}, (Expect(C, "unreadable", message=".xls"),)
    ),
    Case(
        "semicolons",
        "message",
        "a ;-separated CSV",
        delimited(";"),
        {R: "rejected"},
        (Expect(R, "delimiter", message="分号"),),
    ),
    Case(
        "pipes",
        "message",
        "a |-separated CSV",
        delimited("|"),
        {R: "rejected"},
        (Expect(R, "delimiter", message="竖线"),),
    ),
    Case(
        "tabs_ok",
        "message",
        "a tab-separated CSV (control: accepted)",
        delimited("\t"),
        {R: "accepted"},
        accepted_rows={R: 21},
    ),
    Case(
        "utf16",
        "message",
        "a UTF-16 CSV",
        encoded("utf-16"),
        {R: "rejected"},
        (Expect(R, "encoding", message="UTF-16"),),
    ),
    Case(
        "bad_byte",
        "message",
        "one undecodable byte names its line",
        bad_byte,
        {R: "rejected"},
        (Expect(R, "encoding", message="第 7 行"),),
    ),
    Case(
        "nul_in_amount",
        "message",
        "a NUL byte after an amount",
        nul_in_amount,
        {R: "partial"},
        (Expect(R, "not_a_number", row=5, column="金额（万元）"),),
        accepted_rows={R: 20},
    ),
    Case(
        "clean",
        "control",
        "the Hohhot files, unchanged",
        clean_copy(R, C),
        {R: "accepted", C: "accepted"},
        accepted_rows={R: 21},
    ),
]
