"""Typing and validating submissions: strict parsing, then the pandera contract, lazily.

Every failing cell becomes one quarantine record per rule (file, sheet, row, column, rule, value
and a Chinese message saying what to fix); a row with any record is quarantined whole and the
other rows go on. Rows read = rows accepted + rows quarantined, always.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as arrow
import pyarrow.compute as pc
from pandera.errors import SchemaErrors

from pipeline import fieldtypes
from pipeline.contract import SOURCE_COLUMNS, Kind
from pipeline.evaluation import Evaluation
from pipeline.fieldtypes import Bad, Context
from pipeline.ingest.read import RawTable
from pipeline.tables import columns

QUARANTINE_COLUMNS = columns("quarantine")


RULE_HINTS = {
    "required": "“{col}”为必填项，不能为空；请补填。",
    "not_a_number": "“{col}”的值“{value}”不是有效数字；请填写数字（如 1234.56），不要带文字或单位。",
    "too_many_decimals": "“{col}”的值“{value}”超过两位小数；金额最多保留两位小数（单位：{unit}），请核对后重填。",
    "too_large": "“{col}”的值“{value}”位数过多，不是合理的金额（单位：{unit}）；请核对是否误填了账号等其他号码。",
    "negative_amount": "“{col}”不得为负数（“{value}”）；请填写正数。",
    "not_a_date": "“{col}”的值“{value}”不是有效日期；请按 2023-05-01 的格式填写。",
    "not_allowed": "“{col}”的值“{value}”不在可选范围内；可选值：{allowed}。",
    "unknown_code": "“{col}”的值“{value}”不在{register}中；请使用{register}中的编码。",
    "duplicate_id": "“{col}”的值“{value}”重复出现；每笔记录须有唯一编号，请核对是否重复录入（重复的各行均已隔离）。",
    "date_out_of_period": "“{col}”的值“{value}”不在项目实施期内（{start} 至 {cutoff}）；请核对日期。",
    "negative_not_reversal": "“{col}”为负数“{value}”，但未填写“冲红凭证号”；负数仅用于冲红，请填写被冲红的凭证号，或改为正数。",
    "implausible_amount": "“{col}”的值“{value}”（{unit}）超过单笔合理上限 {limit} 万元，疑似按“元”填入了“万元”文件；请核对金额单位。",
    "control_character": "“{col}”的值含有不可见的控制字符（如 NUL、换行）；请删除后重新填写编码或编号。",
    "text_too_long": "“{col}”的内容超过 {limit} 个字符（Excel 单元格上限）；请精简内容，详细说明另附材料。",
    "formula_uncalculated": "“{col}”是未计算的公式（{value}）：公式未计算：请在 Excel/WPS 中打开并保存后重新报送。",
    "excel_error": "“{col}”是 Excel 错误值 {value}，不是有效数据；请修正该单元格的公式或直接填写数值后重新报送。",
    "multiline_field": "“{col}”的内容跨越了多行（“{value}…”），多半是引号未闭合，把后面的行并进了这一格；请检查该行的引号后重新导出。",
    "extra_fields": "{col}有内容“{value}”，但该列没有表头；请检查本行是否错列或多了分隔符，删除表头之外的内容后重新报送。",
}

REGISTER_NAMES = {
    "subproject": "子项目登记表",
    "source": "资金来源清单",
    "county": "旗县区清单",
    "county_or_city": "旗县区（含市本级 {city}）清单",
    "indicator": "指标体系",
}


@dataclasses.dataclass
class Codes:
    """Allowed codes for referential integrity, and labels that map to codes."""

    subproject: list[str]
    source: list[str]
    county: list[str]
    county_or_city: list[str]
    indicator: list[str]
    source_labels: dict[str, str]
    county_labels: dict[str, str]

    @classmethod
    def for_evaluation(cls, ev: Evaluation, subprojects: list[str], indicators: list[str]) -> Codes:
        source_labels = {}
        for code, label in ev.sources.items():
            source_labels[label] = code
            source_labels[label.removesuffix("资金")] = code
        counties = list(ev.counties)
        return cls(
            subproject=list(subprojects),
            source=list(ev.sources),
            county=counties,
            county_or_city=[ev.city_code, *counties],
            indicator=list(indicators),
            source_labels=source_labels,
            county_labels={**{n: c for c, n in ev.counties.items()}, ev.city_name: ev.city_code},
        )


# Every row of a kind with an id: what the rule across files (unique ids) needs, and no more.
ID_COLUMNS = ["file", "sheet", "row", "span", "submitter", "id", "text", "title", "passed"]


@dataclasses.dataclass
class Checked:
    """One kind's rows after the per-row rules (:func:`check_rows`): a file's part of it is the same in any batch."""

    accepted: pd.DataFrame  # rows that passed every per-row rule, typed
    quarantine: pd.DataFrame  # QUARANTINE_COLUMNS
    by_sheet: pd.DataFrame  # file, sheet, rows, row_lines, accepted, accepted_lines (per-row rules only)
    ids: pd.DataFrame  # ID_COLUMNS: every row read, when the kind has an id column; else empty


@dataclasses.dataclass
class Validated:
    accepted: pd.DataFrame
    quarantine: pd.DataFrame
    by_sheet: pd.DataFrame  # per (file, sheet): rows and their lines, and how many of each were accepted


def _records(
    frame: pd.DataFrame,
    mask: pd.Series,
    column: pd.Series | str,
    rule: str,
    message: pd.Series | str,
    raw: pd.Series,
    kind: Kind,
) -> pd.DataFrame:
    idx = mask[mask].index
    if len(idx) == 0:
        return pd.DataFrame(columns=QUARANTINE_COLUMNS)
    msg = message[idx] if isinstance(message, pd.Series) else message
    col = column[idx] if isinstance(column, pd.Series) else column
    return pd.DataFrame(
        {
            "file": frame.loc[idx, "file"],
            "sheet": frame.loc[idx, "sheet"],
            "row": frame.loc[idx, "row"],
            "column": col,
            "rule": rule,
            "value": raw[idx].astype(object).where(raw[idx].notna(), ""),
            "message": msg,
            "submitter": frame.loc[idx, "submitter"],
            "kind": kind.name,
        }
    )


def _fmt(rule: str, **kw: object) -> str:
    return (RULE_HINTS.get(rule) or fieldtypes.message(rule) or RULE_HINTS[rule]).format(**kw)


def _per_value(rule: str, raw: pd.Series, idx: pd.Index, col: pd.Series, **kw: object) -> pd.Series:
    """One message per cell: the template with the cell's value and column header filled in (distinct pairs only)."""
    pairs = pd.DataFrame({"value": raw[idx].fillna("").astype(str), "col": col[idx]})
    uniq = {(v, c): _fmt(rule, value=v, col=c, **kw) for v, c in pairs.drop_duplicates().itertuples(index=False)}
    return pd.Series([uniq[p] for p in zip(pairs["value"], pairs["col"])], index=idx, dtype=object)


def _messages(bad: Bad, text: pd.Series, title: pd.Series) -> pd.Series:
    """The bad cells' messages; a keyword given per row (a money unit) is filled in row by row."""
    idx = bad.mask[bad.mask].index
    per_row = {k: v for k, v in bad.kwargs.items() if isinstance(v, pd.Series)}
    if not per_row:
        return _per_value(bad.rule, text, idx, title, **bad.kwargs)
    fixed = {k: v for k, v in bad.kwargs.items() if k not in per_row}
    columns = {"value": text[idx].fillna(""), "col": title[idx], **{k: v[idx] for k, v in per_row.items()}}
    return pd.Series(
        [_fmt(bad.rule, **dict(zip(columns, row)), **fixed) for row in zip(*columns.values())], index=idx, dtype=object
    )


def table_frame(kind: Kind, tables: list[RawTable]) -> tuple[pd.DataFrame, pd.Series, np.ndarray]:
    """All raw tables of one kind as one frame with source columns, each row's money unit, and its table index.

    Cleaning happens here, once per kind and in arrow: cells are trimmed and empty text is missing.
    Blank rows were already taken out by the reader (and counted as blank lines). A kind has at
    most one money column, so one unit per file is enough.
    """
    names = list(kind.columns)
    if not tables:
        empty = pd.DataFrame({c: pd.Series(dtype="string") for c in names})
        empty = empty.assign(
            row=pd.Series(dtype="int64"), span=pd.Series(dtype="int64"), file="", sheet="", submitter=""
        )
        return empty.iloc[:0], pd.Series(dtype=object), np.zeros(0, dtype=np.int64)
    frames = [t.frame for t in tables]
    grid = arrow.concat_tables(frames, promote_options="default")
    # Each row's table number, from the tables' lengths (not a column appended to each of 2,850 tables first).
    index = np.repeat(np.arange(len(tables), dtype=np.int32), [f.num_rows for f in frames])
    cleaned = {}
    for name in names:
        if name not in grid.column_names:
            cleaned[name] = arrow.nulls(grid.num_rows, arrow.string())
            continue
        col = pc.utf8_trim_whitespace(grid[name].cast(arrow.string()))
        cleaned[name] = pc.if_else(pc.equal(col, ""), arrow.scalar(None, arrow.string()), col)
    table = arrow.table({**cleaned, "row": grid["row"], "span": grid["span"]})
    frame = table.to_pandas(types_mapper=lambda t: pd.StringDtype("pyarrow") if t == arrow.string() else None)
    frame["file"] = np.array([t.file.rel for t in tables], dtype=object)[index]
    frame["sheet"] = np.array([t.sheet for t in tables], dtype=object)[index]
    frame["submitter"] = np.array([t.file.submitter for t in tables], dtype=object)[index]
    unit = pd.Series(np.array([next(iter(t.units.values()), None) for t in tables], dtype=object)[index])
    return frame, unit, index


class _HeaderTitles(Mapping[str, pd.Series]):
    """Per column, the header text each row's file shows (``金额（万元）``), for messages a clerk recognises.

    A column's series (an object per row) is made the first time a message or the id table asks for it:
    making all of them took a twentieth of the validation's time over a national evaluation, whose rows
    mostly need none.
    """

    def __init__(self, kind: Kind, tables: list[RawTable], index: np.ndarray) -> None:
        self.kind, self.tables, self.index = kind, tables, index
        self.made: dict[str, pd.Series] = {}

    def __getitem__(self, name: str) -> pd.Series:
        if name not in self.made:
            title = self.kind.columns[name].title
            per_table = np.array([t.titles.get(name, title) for t in self.tables] or [title], dtype=object)
            index = self.index
            self.made[name] = pd.Series(per_table[index] if len(index) else np.zeros(0, dtype=object), dtype=object)
        return self.made[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.kind.columns)

    def __len__(self) -> int:
        return len(self.kind.columns)


def validate_kind(kind: Kind, tables: list[RawTable], ev: Evaluation, codes: Codes) -> Validated:
    """Type and validate every row of one kind, from all its files at once (vectorised)."""
    return unique_ids(kind, check_rows(kind, tables, ev, codes))


def check_rows(kind: Kind, tables: list[RawTable], ev: Evaluation, codes: Codes) -> Checked:
    """Every rule that looks at one row at a time; what a row decides here does not depend on other files."""
    raw, unit, index = table_frame(kind, tables)
    columns = kind.columns
    titles = _HeaderTitles(kind, tables, index)
    max_chars = ev.limits.max_cell_chars
    # Columns are collected in a dict and framed once: adding them one by one makes pandas copy blocks. The frames
    # are built with copy=False, which keeps each column its own block: pandas' default stacks the columns of one
    # dtype into a new 2-D block, a copy of every typed value (0.9 s of CPU over a national evaluation's rows).
    out: dict[str, pd.Series] = {c: raw[c] for c in SOURCE_COLUMNS}
    out["row"] = out["row"].astype("int64")
    typed = pd.DataFrame(out, copy=False)  # the source columns, for the records; the typed values follow below
    records: list[pd.DataFrame] = [_read_records(kind, tables)]

    ctx = Context(evaluation=ev, codes=codes, unit=unit)
    for name, col in columns.items():
        field_type = fieldtypes.of(col)
        text = raw[name] if name in raw else pd.Series(pd.NA, index=raw.index, dtype="string")
        values, bad = field_type.parse(text, col, ctx)
        if field_type.free_text:
            bad.append(Bad("text_too_long", fieldtypes.text_too_long(text, max_chars), {"limit": max_chars}))
        if not col.nullable:
            bad.append(Bad("required", text.isna()))
        for b in bad:
            if b.mask.any():
                title = titles[name]
                records.append(_records(typed, b.mask, title, b.rule, _messages(b, text, title), text, kind))
        out[name] = values

    typed = pd.DataFrame(out, index=raw.index, copy=False)
    records.append(_pandera_records(kind, typed, raw, unit, ev, codes, titles))
    quarantine = (
        pd.concat([r for r in records if not r.empty], ignore_index=True)
        if any(not r.empty for r in records)
        else pd.DataFrame(columns=QUARANTINE_COLUMNS)
    )
    quarantine = _explained_blanks_dropped(quarantine)
    keep = ~_quarantined(typed, quarantine)
    # With nothing quarantined (most kinds, most nights) every row is accepted as it is, the frame not copied; else
    # the accepted rows are taken once (``reset_index`` without ``inplace`` would copy them a second time).
    accepted = typed.copy(deep=False) if keep.all() else typed.take(np.flatnonzero(keep))
    accepted.reset_index(drop=True, inplace=True)
    accepted = fieldtypes.accepted_dtypes(kind.columns, accepted)
    if kind.county_scoped:
        accepted["county_code"] = accepted["submitter"]
    span = raw["span"].to_numpy(dtype="int64")
    by_sheet = _by_sheet(tables, index, span, keep)
    ids = pd.DataFrame(columns=ID_COLUMNS)
    if kind.id_column is not None:
        ids = pd.DataFrame(
            {
                "file": typed["file"],
                "sheet": typed["sheet"],
                "row": typed["row"],
                "span": span,
                "submitter": typed["submitter"],
                "id": typed[kind.id_column],
                "text": raw.get(kind.id_column),  # the raw text, Arrow-backed: not copied
                "title": titles[kind.id_column],
                "passed": keep,
            }
        )
    return Checked(
        accepted=accepted, quarantine=quarantine[QUARANTINE_COLUMNS].reset_index(drop=True), by_sheet=by_sheet, ids=ids
    )


def _by_sheet(tables: list[RawTable], index: np.ndarray, span: np.ndarray, keep: np.ndarray) -> pd.DataFrame:
    """Rows and lines read and accepted per (file, sheet), in the order the rows come, from each row's table number.

    Summed per table in integers (``np.add.at`` on one dimension), then per (file, sheet) over the few tables:
    grouping the rows by their file and sheet names hashed a million Python strings per county kind.
    """

    def per_table(values: np.ndarray) -> np.ndarray:
        out = np.zeros(len(tables), dtype=np.int64)
        np.add.at(out, index, values)
        return out

    accepted = keep.astype(np.int64)
    sums = pd.DataFrame(
        {
            "file": np.array([t.file.rel for t in tables], dtype=object),
            "sheet": np.array([t.sheet for t in tables], dtype=object),
            "rows": np.bincount(index, minlength=len(tables)).astype(np.int64),
            "row_lines": per_table(span),
            "accepted": per_table(accepted),
            "accepted_lines": per_table(span * accepted),
        }
    )
    # A table without rows has no group, as in a groupby of the rows; the groups come in the order of their first row.
    first = np.full(len(tables), len(index), dtype=np.int64)
    np.minimum.at(first, index, np.arange(len(index), dtype=np.int64))
    sums = sums.iloc[np.argsort(first, kind="stable")]
    sums = sums[sums["rows"] > 0]
    return sums.groupby(["file", "sheet"], sort=False).sum().reset_index()


def unique_ids(kind: Kind, checked: Checked) -> Validated:
    """The rule across rows and files: an id appears once (per county for county submissions).

    pandera's ``unique`` semantics (``duplicated(keep=False)`` over the typed ids of every row read,
    accepted or not, a missing id equal to another missing one): every row of a repeated id is
    quarantined with "duplicate_id". It runs over all of a kind's rows every run, whether their
    per-row results were computed now or kept from an earlier run (:mod:`pipeline.ingest.partials`).
    """
    accepted, quarantine, by_sheet = checked.accepted, checked.quarantine, checked.by_sheet
    ids = checked.ids
    if kind.unique_key is not None and len(ids):
        dup = ids.duplicated(subset=["submitter", "id"] if kind.county_scoped else ["id"], keep=False)
        if dup.any():
            text = ids["text"]
            found = _records(
                ids,
                dup,
                ids["title"],
                "duplicate_id",
                _per_value("duplicate_id", text, dup[dup].index, ids["title"]),
                text,
                kind,
            )
            quarantine = pd.concat([quarantine, found[QUARANTINE_COLUMNS]], ignore_index=True)
            gone = ids[dup & ids["passed"]]
            if len(gone):
                where = ["file", "sheet", "row"]
                drop = pd.MultiIndex.from_frame(accepted[where]).isin(pd.MultiIndex.from_frame(gone[where]))
                accepted = accepted[~drop].reset_index(drop=True)
                lost = gone.groupby(["file", "sheet"], sort=False).agg(n=("row", "size"), lines=("span", "sum"))
                at = pd.MultiIndex.from_frame(by_sheet[["file", "sheet"]])
                by_sheet = by_sheet.copy()
                by_sheet["accepted"] -= lost["n"].reindex(at, fill_value=0).to_numpy()
                by_sheet["accepted_lines"] -= lost["lines"].reindex(at, fill_value=0).to_numpy()
    return Validated(accepted=accepted, quarantine=quarantine, by_sheet=by_sheet.set_index(["file", "sheet"]))


def _quarantined(typed: pd.DataFrame, quarantine: pd.DataFrame) -> np.ndarray:
    """Per row of ``typed``: does the quarantine hold a record of its (file, sheet, row)?

    Only the rows whose line number has a record are keyed by (file, sheet, row): keying all of them
    factorised a million file and sheet names per county kind (a tenth of the validation's time over
    a national run, which quarantines nothing).
    """
    out = np.zeros(len(typed), dtype=bool)
    if quarantine.empty:
        return out
    key = ["file", "sheet", "row"]
    candidates = np.flatnonzero(typed["row"].isin(quarantine["row"]).to_numpy())
    if len(candidates):
        keys = pd.MultiIndex.from_frame(typed[key].iloc[candidates])
        out[candidates[keys.isin(pd.MultiIndex.from_frame(quarantine[key]))]] = True
    return out


def _explained_blanks_dropped(quarantine: pd.DataFrame) -> pd.DataFrame:
    """A cell left empty by an uncalculated formula or an error value is said once, by that rule, not also as "required"."""
    if quarantine.empty:
        return quarantine
    key = ["file", "sheet", "row", "column"]
    explained = quarantine[quarantine["rule"].isin(("formula_uncalculated", "excel_error"))][key]
    if explained.empty:
        return quarantine
    dup = pd.MultiIndex.from_frame(quarantine[key]).isin(pd.MultiIndex.from_frame(explained))
    return quarantine[~(dup & (quarantine["rule"] == "required"))].reset_index(drop=True)


def _read_records(kind: Kind, tables: list[RawTable]) -> pd.DataFrame:
    """The problems the reader found in cells (``RawTable.issues``) as quarantine records."""
    parts = []
    for t in tables:
        if t.issues.num_rows == 0:
            continue
        issues = t.issues.to_pandas()
        messages = [
            _fmt(rule, col=col, value=value.replace("\n", " ⏎ "))
            for rule, col, value in zip(issues["rule"], issues["column"], issues["value"])
        ]
        parts.append(
            pd.DataFrame(
                {
                    "file": t.file.rel,
                    "sheet": t.sheet,
                    "row": issues["row"].astype("int64"),
                    "column": issues["column"],
                    "rule": issues["rule"],
                    "value": issues["value"],
                    "message": messages,
                    "submitter": t.file.submitter,
                    "kind": kind.name,
                }
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=QUARANTINE_COLUMNS)


def contract_schema(kind: Kind, ctx: Context, unique: bool = True) -> pa.DataFrameSchema:
    """The checks a kind's typed rows must pass before they are accepted, from its fields' types (and unique ids).

    ``unique=False`` leaves out the one check across rows, which :func:`unique_ids` runs over all files.
    """
    cols = {
        name: pa.Column(None, checks=fieldtypes.of(col).checks(name, col, ctx), nullable=True, required=False)
        for name, col in kind.columns.items()
    }
    df_checks = [c for name, col in kind.columns.items() for c in fieldtypes.of(col).frame_checks(name, col, ctx)]
    return pa.DataFrameSchema(
        cols, checks=df_checks, unique=kind.unique_key if unique else None, report_duplicates="all"
    )


def _pandera_records(
    kind: Kind,
    typed: pd.DataFrame,
    raw: pd.DataFrame,
    unit: pd.Series,
    ev: Evaluation,
    codes: Codes,
    titles: Mapping[str, pd.Series],
) -> pd.DataFrame:
    """Run the contract's per-row checks (codes, period, plausibility, reversals) lazily with pandera."""
    if typed.empty:
        return pd.DataFrame(columns=QUARANTINE_COLUMNS)
    schema = contract_schema(kind, Context(evaluation=ev, codes=codes, unit=unit), unique=False)
    try:
        # inplace: the schema only checks (no coercion, defaults or parsers), so pandera's copy of every row is not needed
        schema.validate(typed, lazy=True, inplace=True)
        return pd.DataFrame(columns=QUARANTINE_COLUMNS)
    except SchemaErrors as exc:
        return _failures_to_records(kind, exc.failure_cases, typed, raw, unit, ev, titles)


def _failures_to_records(
    kind: Kind,
    fc: pd.DataFrame,
    typed: pd.DataFrame,
    raw: pd.DataFrame,
    unit: pd.Series,
    ev: Evaluation,
    titles: Mapping[str, pd.Series],
) -> pd.DataFrame:
    """Map pandera's failure cases (check, column, index) to quarantine records with messages."""
    out = []
    fc = fc[fc["index"].notna()].copy()
    fc["index"] = fc["index"].astype("int64")
    columns = kind.columns
    # DataFrame-level checks report one failure case per column of a failing row: key them by check alone.
    wide = fc["check"].astype(str).str.startswith("negative_not_reversal:")
    fc.loc[wide, "column"] = ""
    for (check, column), grp in fc.groupby(["check", "column"], dropna=False, sort=True):
        check, column = str(check), str(column)
        idx = pd.Index(grp["index"].unique())
        if check.startswith("negative_not_reversal:"):
            check, column = check.split(":", 1)
        col = columns[column]
        mask = pd.Series(False, index=typed.index)
        mask[idx] = True
        text = raw[column] if column in raw else pd.Series(pd.NA, index=raw.index, dtype="string")
        title = titles[column]
        kw: dict[str, object] = {}
        if check == "unknown_code":
            register = REGISTER_NAMES[col.metadata["codes"]].format(city=ev.city_code)
            kw["register"] = register
        elif check == "date_out_of_period":
            kw.update(start=ev.period_start.isoformat(), cutoff=ev.cutoff.isoformat())
        if check == "implausible_amount":
            msgs = pd.Series(
                [
                    _fmt(check, value=v, unit=u, col=c, limit=ev.settings.max_amount_wan)
                    for v, u, c in zip(text[idx].fillna(""), unit[idx], title[idx])
                ],
                index=idx,
            )
        elif check in RULE_HINTS or fieldtypes.message(check):
            msgs = _per_value(check, text, idx, title, **kw)
        else:
            raise ValueError(f"no message for pandera check {check!r} on {kind.name}.{column}")
        out.append(_records(typed, mask, title, check, msgs, text, kind))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=QUARANTINE_COLUMNS)
