"""Which files of an evaluation folder are submissions, from whom, and of what kind: checked, never assumed.

The contract names every submission file (``docs/contract.md``):

- ``county/<code>.xlsx`` (or ``.csv``): one workbook per declared county; exactly that name.
- ``bureau/<department>/<kind>.xlsx|.csv``, or ``<kind>_<anything>.xlsx|.csv`` when a department
  sends a kind in several files; the department must be declared in ``evaluation.yaml`` with that
  kind in its ``submits``; the kind is named by its English name or its Chinese label.
- ``evaluator/<kind>[_<anything>].xlsx|.csv`` for the evaluator's kinds.

Anything else under ``bureau/``, ``county/`` or ``evaluator/`` (another name, a sub-folder, an
undeclared department, a temporary file) is listed as 未识别 with a message and is not read.
A link, FIFO or device is never followed or opened. A county that sent both ``.xlsx`` and
``.csv`` has both rejected (重复报送: the county withdraws one); a file whose bytes equal an earlier
one's (same SHA-256) is the same submission, and the later one is rejected as a duplicate.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from pipeline import files as fs
from pipeline.contract import Kind, kinds_for
from pipeline.evaluation import SUBMISSION_DIRS, Evaluation
from pipeline.limits import Limits

SUBMISSION_EXTENSIONS = (".xlsx", ".xlsm", ".csv", ".xls")
_COUNTY_NAME = re.compile(r"^(?P<code>\d{6})(?P<ext>\.[A-Za-z]+)$")

# Inventory status of a file before it is read; reading may still reject it.
RECOGNISED, UNRECOGNISED, REJECTED = "recognised", "unrecognised", "rejected"


@dataclasses.dataclass
class Identity:
    """Who sent a file and what it is, from its place and name; ``problem`` says why it is not read."""

    submitter_type: str  # bureau / county / evaluator ("" when unknown)
    submitter: str  # county code, department code or "evaluator" ("" when unknown)
    kind: Kind | None = None  # the kind its name gives (None for a county workbook: kinds by sheet)
    status: str = RECOGNISED
    rule: str = ""
    message: str = ""


def kind_from_name(name: str, submitter_type: str) -> Kind | None:
    """Kind named by a sheet or file stem: its English name or Chinese label, optionally followed by _suffix."""
    stem = name.strip()
    for k in kinds_for(submitter_type):
        plain = k.name.removeprefix("county_")
        for base in dict.fromkeys((k.name, k.label, plain)):
            if stem == base or stem.startswith((base + "_", base + "-")):
                return k
    return None


def identify(ev: Evaluation, rel: tuple[str, ...]) -> Identity:
    """The identity of a file at ``rel`` (path parts inside the evaluation folder) under the naming rules."""
    top, name = rel[0], rel[-1]
    stem, ext = Path(name).stem, Path(name).suffix.lower()
    if name.startswith((".", "~$")):
        return _unrecognised(top, "", "hidden_file", f"“{name}”是隐藏文件或 Excel 临时文件，未读取；报送前请删除。")
    if ext not in SUBMISSION_EXTENSIONS:
        return _unrecognised(
            top, "", "unknown_file", f"“{name}”不是 .xlsx 或 .csv 文件，未读取；请按模板报送 Excel 或 CSV 文件。"
        )
    if top == "county":
        return _county(ev, rel, name)
    if top == "bureau":
        return _bureau(ev, rel, stem)
    if len(rel) != 2:
        return _unrecognised(
            top, "evaluator", "unknown_file", f"evaluator 目录下不允许子目录（{'/'.join(rel[1:-1])}），未读取。"
        )
    kind = kind_from_name(stem, "evaluator")
    if kind is None:
        names = "、".join(f"{k.name}（{k.label}）" for k in kinds_for("evaluator"))
        return _unrecognised(
            top, "evaluator", "unknown_kind", f"无法从文件名“{name}”判断报送表类型；文件名应为以下之一：{names}。"
        )
    return Identity("evaluator", "evaluator", kind)


def _county(ev: Evaluation, rel: tuple[str, ...], name: str) -> Identity:
    if len(rel) != 2:
        return _unrecognised(
            "county",
            "",
            "unknown_file",
            f"county 目录下不允许子目录（{'/'.join(rel[1:-1])}），其中的文件未读取；请把本旗县区的工作簿直接放在 county/ 下。",
        )
    m = _COUNTY_NAME.match(name)
    if m is None:
        lead = re.match(r"\d{6}", name)
        hint = f"{lead.group(0)}{Path(name).suffix.lower()}" if lead else "150102.xlsx"
        return _unrecognised(
            "county",
            "",
            "bad_file_name",
            f"文件名“{name}”不符合要求，未读取：旗县区报送文件须以旗县区编码命名，如 {hint}（不得带其他文字或编号）。",
        )
    code = m.group("code")
    if code not in ev.counties:
        return _unrecognised(
            "county",
            "",
            "unknown_county_file",
            f"文件名“{name}”不是本次评价的旗县区编码，未读取；county 目录下的文件应以旗县区编码命名（如 150102.xlsx）。",
        )
    return Identity("county", code)


def _bureau(ev: Evaluation, rel: tuple[str, ...], stem: str) -> Identity:
    departments = {d.code: d for d in ev.departments}
    if len(rel) != 3:
        where = "bureau 目录下" if len(rel) == 2 else f"bureau/{rel[1]} 下的子目录"
        return _unrecognised(
            "bureau",
            "",
            "unknown_file",
            f"{where}的文件未读取；市级单位的文件应放在 bureau/<科室编码>/ 下（如 bureau/finance/receipts.csv）。",
        )
    dept = rel[1]
    if dept not in departments:
        known = "、".join(departments) or "（无）"
        return _unrecognised(
            "bureau",
            "",
            "unknown_department",
            f"科室目录“{dept}”未在 evaluation.yaml 的 departments 中登记，其中的文件未读取；已登记的科室：{known}。",
        )
    kind = kind_from_name(stem, "bureau")
    declared = departments[dept].submits
    if kind is None:
        names = "、".join(f"{k}（{next(x.label for x in kinds_for('bureau') if x.name == k)}）" for k in declared)
        return _unrecognised(
            "bureau",
            dept,
            "unknown_kind",
            f"无法从文件名“{rel[-1]}”判断报送表类型；{departments[dept].name}报送的文件名应为：{names}"
            "（同类多个文件可加后缀，如 receipts_2.csv）。",
        )
    if kind.name not in declared:
        return _unrecognised(
            "bureau",
            dept,
            "undeclared_kind",
            f"{departments[dept].name}未登记报送“{kind.label}”（evaluation.yaml 的 submits），文件未读取；"
            "如确需报送，请先在评价配置中登记。",
        )
    return Identity("bureau", dept, kind)


def _unrecognised(top: str, submitter: str, rule: str, message: str) -> Identity:
    return Identity(top, submitter, None, UNRECOGNISED, rule, message)


@dataclasses.dataclass
class Listed:
    """One entry of an evaluation's submission folders, identified; ``sha256`` empty when not hashed."""

    entry: fs.Entry
    rel: str  # path relative to the raw root, posix
    identity: Identity
    sha256: str = ""
    stamp: fs.Stamp | None = None  # the version hashed; the reader checks it instead of hashing again


def list_submissions(ev: Evaluation, raw_root: Path, limits: Limits | None = None) -> list[Listed]:
    """Every entry under the submission folders, identified and hashed, sorted by path.

    Regular files of a recognised name are hashed (those over the size limit are left for the
    reader to reject by size); directories are descended into (their files are 未识别 by name);
    links, FIFOs and devices are listed as rejected and never opened.
    """
    limits = limits or ev.limits
    out: list[Listed] = []
    for top in SUBMISSION_DIRS:
        base = ev.folder / top
        if base.is_symlink():
            out.append(
                Listed(
                    fs.Entry(base, (top,), "symlink", 0),
                    f"{ev.id}/{top}",
                    Identity(
                        top, "", None, REJECTED, "not_regular_file", f"{top} 是符号链接，不会被跟随；请放入真实目录。"
                    ),
                )
            )
            continue
        for entry in fs.walk(base):
            if entry.kind == "directory":
                continue
            rel_parts = (top, *entry.rel)
            rel = "/".join((ev.id, *rel_parts))
            ident = identify(ev, rel_parts)
            if entry.kind != "file":  # who it claims to be stays (a county's link is its rejected file, not missing)
                ident = dataclasses.replace(
                    ident,
                    status=REJECTED,
                    rule="not_regular_file",
                    message=(f"“{'/'.join(rel_parts)}”是{entry.label}，不是普通文件，不会被读取；请报送文件本身。"),
                )
                out.append(Listed(entry, rel, ident))
                continue
            listed = Listed(entry, rel, ident)
            if ident.status == RECOGNISED and entry.size <= limits.file_bytes:
                try:
                    listed.sha256, listed.stamp = fs.hash_and_stamp(entry.path)
                except fs.Changed:
                    listed.identity = dataclasses.replace(
                        ident,
                        status=REJECTED,
                        rule="changed_while_reading",
                        message=("文件在读取过程中被修改，本次未读取；请在报送完成后再运行。"),
                    )
                except OSError as exc:  # replaced by a link or removed since the walk
                    listed.identity = Identity(
                        top, "", None, REJECTED, "not_regular_file", f"文件无法打开（{exc.strerror or exc}），未读取。"
                    )
            out.append(listed)
    out.sort(key=lambda x: x.rel)
    _reject_double_county_submissions(out)
    _reject_duplicate_content(out)
    return out


def _reject_double_county_submissions(listed: list[Listed]) -> None:
    by_county: dict[str, list[Listed]] = {}
    for x in listed:
        if x.identity.submitter_type == "county" and x.identity.status == RECOGNISED:
            by_county.setdefault(x.identity.submitter, []).append(x)
    for code, same in by_county.items():
        if len(same) > 1:
            names = "、".join(Path(x.rel).name for x in same)
            for x in same:
                x.identity = dataclasses.replace(
                    x.identity,
                    status=REJECTED,
                    rule="duplicate_submission",
                    message=(
                        f"旗县区 {code} 同时报送了 {names}（重复报送），均未读取；请撤回其中一份，只保留一个文件。"
                    ),
                )


def _reject_duplicate_content(listed: list[Listed]) -> None:
    first: dict[str, Listed] = {}
    for x in listed:
        if x.identity.status != RECOGNISED or not x.sha256:
            continue
        if x.sha256 in first:
            x.identity = dataclasses.replace(
                x.identity,
                status=REJECTED,
                rule="duplicate_file",
                message=(
                    f"与 {first[x.sha256].rel} 内容完全相同（SHA-256 相同），视为同一份报送，本文件未读取；请删除重复的文件。"
                ),
            )
        else:
            first[x.sha256] = x
