"""Typing and validating submissions: strict parsing, then the pandera contract, lazily.

Every failing cell becomes one quarantine record per rule (file, sheet, row, column, rule, value
and a Chinese message saying what to fix); a row with any record is quarantined whole and the
other rows go on. Rows read = rows accepted + rows quarantined, always.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Mapping

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as arrow
import pyarrow.compute as pc
from pandera.errors import SchemaErrors

from pipeline.contract import SOURCE_COLUMNS, Kind
from pipeline.evaluation import Evaluation
from pipeline.formats import FEN_PER_WAN, arrow_text, parse_money
from pipeline.ingest.read import RawTable

QUARANTINE_COLUMNS = ["file", "sheet", "row", "column", "rule", "value", "message", "submitter", "kind"]

_DATE = re.compile(
    r"^(?P<y>\d{4})\s*(?:[-/.年])\s*(?P<m>\d{1,2})\s*(?:[-/.月])\s*(?P<d>\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?)?$"
)
_DECIMAL = re.compile(r"^[-+]?\d+(\.\d+)?%?$")

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
    "unknown_county_file": "文件名“{value}”不是本次评价的旗县区编码；county 目录下的文件应以旗县区编码命名（如 150102.xlsx）。",
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
    def for_evaluation(cls, ev: Evaluation, subprojects: list[str], indicators: list[str]) -> "Codes":
        source_labels = {}
        for code, label in ev.sources.items():
            source_labels[label] = code
            source_labels[label.removesuffix("资金")] = code
        counties = list(ev.counties)
        return cls(
            subproject=list(subprojects), source=list(ev.sources), county=counties,
            county_or_city=[ev.city_code, *counties], indicator=list(indicators),
            source_labels=source_labels,
            county_labels={**{n: c for c, n in ev.counties.items()}, ev.city_name: ev.city_code},
        )


@dataclasses.dataclass
class Validated:
    accepted: pd.DataFrame
    quarantine: pd.DataFrame
    rows_read: pd.Series  # rows read per file (non-blank rows)


def _records(frame: pd.DataFrame, mask: pd.Series, column: str, rule: str, message: pd.Series | str,
             raw: pd.Series, kind: Kind) -> pd.DataFrame:
    idx = mask[mask].index
    if len(idx) == 0:
        return pd.DataFrame(columns=QUARANTINE_COLUMNS)
    msg = message[idx] if isinstance(message, pd.Series) else message
    return pd.DataFrame({
        "file": frame.loc[idx, "file"], "sheet": frame.loc[idx, "sheet"], "row": frame.loc[idx, "row"],
        "column": column, "rule": rule, "value": raw[idx].astype(object).where(raw[idx].notna(), ""),
        "message": msg, "submitter": frame.loc[idx, "submitter"], "kind": kind.name,
    })


def _fmt(rule: str, **kw) -> str:
    return RULE_HINTS[rule].format(**kw)


def _per_value(rule: str, raw: pd.Series, idx: pd.Index, **kw) -> pd.Series:
    """One message per cell: the template with the cell's value filled in (distinct values only)."""
    values = raw[idx].fillna("")
    uniq = {v: _fmt(rule, value=v, **kw) for v in values.unique()}
    return values.map(uniq)


def _parse_dates(text: pd.Series) -> pd.Series:
    """Dates as a clerk writes them (2023-05-01, 2023/5/1, 2023年5月1日, an Excel cell with a time), to the day.

    Parsed in arrow (RE2) and assembled by pandas: no Python per cell. Impossible dates are NaT.
    """
    parts = pc.extract_regex(arrow_text(text), _DATE.pattern)
    ymd = {k: pc.cast(pc.struct_field(parts, k), arrow.int64()).to_numpy(zero_copy_only=False) for k in "ymd"}
    frame = pd.DataFrame({"year": ymd["y"], "month": ymd["m"], "day": ymd["d"]}, index=text.index)
    return pd.to_datetime(frame, errors="coerce")


def table_frame(kind: Kind, tables: list[RawTable]) -> tuple[pd.DataFrame, pd.Series]:
    """All raw tables of one kind as one frame with source columns, and each row's money unit.

    Cleaning happens here, once per kind and in arrow: cells are trimmed, empty text is missing,
    and rows with no value at all are not rows (a clerk's blank lines are not counted as read).
    A kind has at most one money column, so one unit per file is enough.
    """
    names = list(kind.columns)
    if not tables:
        empty = pd.DataFrame({c: pd.Series(dtype="string") for c in names})
        return empty.assign(row=pd.Series(dtype="int64"), file="", sheet="", submitter="").iloc[:0], pd.Series(dtype=object)
    parts = [t.frame.append_column("_t", arrow.array(np.full(t.frame.num_rows, i, np.int32)))
             for i, t in enumerate(tables)]
    grid = arrow.concat_tables(parts, promote_options="default")
    filled = None
    cleaned = {}
    for name in names:
        if name not in grid.column_names:
            cleaned[name] = arrow.nulls(grid.num_rows, arrow.string())
            continue
        col = pc.utf8_trim_whitespace(grid[name].cast(arrow.string()))
        col = pc.if_else(pc.equal(col, ""), arrow.scalar(None, arrow.string()), col)
        cleaned[name] = col
        filled = pc.is_valid(col) if filled is None else pc.or_(filled, pc.is_valid(col))
    table = arrow.table({**cleaned, "row": grid["row"], "_t": grid["_t"]}).filter(filled)
    frame = table.to_pandas(types_mapper=lambda t: pd.StringDtype("pyarrow") if t == arrow.string() else None)
    index = frame.pop("_t").to_numpy()
    frame["file"] = np.array([t.file.rel for t in tables], dtype=object)[index]
    frame["sheet"] = np.array([t.sheet for t in tables], dtype=object)[index]
    frame["submitter"] = np.array([t.file.submitter for t in tables], dtype=object)[index]
    unit = pd.Series(np.array([next(iter(t.units.values()), None) for t in tables], dtype=object)[index])
    return frame, unit


def validate_kind(kind: Kind, tables: list[RawTable], ev: Evaluation, codes: Codes) -> Validated:
    """Type and validate every row of one kind, from all its files at once (vectorised)."""
    raw, unit = table_frame(kind, tables)
    n = len(raw)
    columns = kind.columns
    # Columns are collected in a dict and framed once: adding them one by one makes pandas copy blocks.
    out: dict[str, pd.Series] = {c: raw[c] for c in SOURCE_COLUMNS}
    out["row"] = out["row"].astype("int64")
    typed = pd.DataFrame(out)  # the source columns, for the records; the typed values follow below
    records: list[pd.DataFrame] = []

    for name, col in columns.items():
        meta = col.metadata
        kind_of = meta["type"]
        text = raw[name] if name in raw else pd.Series(pd.NA, index=raw.index, dtype="string")
        title = col.title
        if kind_of == "money":
            fen = pd.Series(pd.NA, index=raw.index, dtype="Int64")
            err = pd.Series("", index=raw.index, dtype=object)
            for u in [x for x in unit.dropna().unique()]:
                sel = unit == u
                f, e = parse_money(text[sel], u)
                fen[sel], err[sel] = f, e
            for rule in ("not_a_number", "too_many_decimals", "too_large"):
                bad = err == rule
                if bad.any():
                    msgs = pd.Series([_fmt(rule, col=title, value=v, unit=u) for v, u in zip(text[bad].fillna(""), unit[bad])], index=bad[bad].index)
                    records.append(_records(typed, bad, title, rule, msgs, text, kind))
            out[name] = fen
        elif kind_of == "date":
            d = _parse_dates(text)
            bad = text.notna() & d.isna()
            if bad.any():
                records.append(_records(typed, bad, title, "not_a_date", _per_value("not_a_date", text, bad[bad].index, col=title), text, kind))
            out[name] = d
        elif kind_of == "decimal":
            matches = pc.fill_null(pc.match_substring_regex(arrow_text(text), _DECIMAL.pattern), False)
            bad = text.notna() & ~matches.to_numpy(zero_copy_only=False)
            if bad.any():
                records.append(_records(typed, bad, title, "not_a_number", _per_value("not_a_number", text, bad[bad].index, col=title), text, kind))
            out[name] = text.astype(object).where(text.notna(), None)
        elif kind_of == "enum":
            values: Mapping = meta["values"]
            mapped = text.map(values, na_action="ignore")
            bad = text.notna() & mapped.isna()
            if bad.any():
                allowed = "、".join(dict.fromkeys(k for k in values if not k.isascii()))
                records.append(_records(typed, bad, title, "not_allowed", _per_value("not_allowed", text, bad[bad].index, col=title, allowed=allowed), text, kind))
            out[name] = mapped.astype(object)
        else:
            s = text
            if kind_of == "code" and meta["codes"] == "source":
                s = s.map(codes.source_labels).fillna(s)  # a label (中央资金) becomes its code
            elif kind_of == "code" and meta["codes"] in ("county", "county_or_city"):
                s = s.map(codes.county_labels).fillna(s)
            out[name] = s.astype(object).where(s.notna(), None)

        if not col.nullable:
            empty = text.isna()
            if empty.any():
                records.append(_records(typed, empty, title, "required", _fmt("required", col=title), text, kind))

    typed = pd.DataFrame(out, index=raw.index)
    if kind.county_scoped:
        unknown = ~typed["submitter"].isin(codes.county)
        if unknown.any():
            records.append(_records(typed, unknown, "文件名", "unknown_county_file",
                                    _per_value("unknown_county_file", typed["file"].str.rsplit("/", n=1).str[-1],
                                               unknown[unknown].index), typed["file"], kind))

    records.append(_pandera_records(kind, typed, raw, unit, ev, codes))
    quarantine = pd.concat([r for r in records if not r.empty], ignore_index=True) if any(
        not r.empty for r in records) else pd.DataFrame(columns=QUARANTINE_COLUMNS)
    bad_rows = pd.MultiIndex.from_frame(quarantine[["file", "sheet", "row"]]) if len(quarantine) else None
    keys = pd.MultiIndex.from_frame(typed[["file", "sheet", "row"]])
    keep = ~keys.isin(bad_rows) if bad_rows is not None else np.ones(n, dtype=bool)
    accepted = _cast(kind, typed[keep].reset_index(drop=True))
    if kind.county_scoped:
        accepted["county_code"] = accepted["submitter"]
    return Validated(accepted=accepted, quarantine=quarantine[QUARANTINE_COLUMNS],
                     rows_read=raw["file"].value_counts() if n else pd.Series(dtype="int64"))


def _cast(kind: Kind, df: pd.DataFrame) -> pd.DataFrame:
    """Give accepted rows the dtypes the model declares (they passed every check, so no NA where forbidden)."""
    for name, col in kind.columns.items():
        t = col.metadata["type"]
        if t == "money":
            df[name] = df[name].astype("int64")
        elif t == "date":
            df[name] = pd.to_datetime(df[name])
        elif name == "synced":
            df[name] = df[name].astype(bool)
    return df


def _pandera_records(kind: Kind, typed: pd.DataFrame, raw: pd.DataFrame, unit: pd.Series, ev: Evaluation,
                     codes: Codes) -> pd.DataFrame:
    """Run the contract's checks (codes, ids, period, plausibility, reversals) lazily with pandera."""
    if typed.empty:
        return pd.DataFrame(columns=QUARANTINE_COLUMNS)
    settings = ev.settings
    max_fen = int(settings["max_amount_wan"]) * FEN_PER_WAN
    start, cutoff = pd.Timestamp(ev.period_start), pd.Timestamp(ev.cutoff)
    cols: dict[str, pa.Column] = {}
    df_checks = []
    for name, col in kind.columns.items():
        meta = col.metadata
        checks = []
        # Custom checks with explicit names: pandera names its built-ins after their arguments.
        if meta["type"] == "code":
            allowed = set(getattr(codes, meta["codes"]))
            checks.append(pa.Check(lambda s, a=allowed: s.isin(a), name="unknown_code"))
        if meta["type"] == "date" and meta.get("in_period"):
            checks.append(pa.Check(lambda s: s.between(start, cutoff), name="date_out_of_period"))
        if meta["type"] == "money":
            checks.append(pa.Check(lambda s, m=max_fen: s.abs() <= m, name="implausible_amount"))
            rev = meta.get("reversal_of")
            if rev:
                df_checks.append(pa.Check(
                    lambda d, c=name, r=rev: (d[c] >= 0).fillna(True).astype(bool) | (d[r].notna() if r in d else False),
                    name=f"negative_not_reversal:{name}"))
            else:
                checks.append(pa.Check(lambda s: s >= 0, name="negative_amount"))
        cols[name] = pa.Column(None, checks=checks, nullable=True, required=False)
    schema = pa.DataFrameSchema(cols, checks=df_checks, unique=kind.unique_key, report_duplicates="all")
    try:
        schema.validate(typed, lazy=True)
        return pd.DataFrame(columns=QUARANTINE_COLUMNS)
    except SchemaErrors as exc:
        return _failures_to_records(kind, exc.failure_cases, typed, raw, unit, ev)


def _failures_to_records(kind: Kind, fc: pd.DataFrame, typed: pd.DataFrame, raw: pd.DataFrame,
                         unit: pd.Series, ev: Evaluation) -> pd.DataFrame:
    """Map pandera's failure cases (check, column, index) to quarantine records with messages."""
    out = []
    fc = fc[fc["index"].notna()].copy()
    fc["index"] = fc["index"].astype("int64")
    columns = kind.columns
    # DataFrame-level checks report one failure case per column of a failing row: key them by check alone.
    wide = fc["check"].astype(str).str.startswith("negative_not_reversal:") | fc["check"].astype(str).str.contains("uniqueness")
    fc.loc[wide, "column"] = ""
    for (check, column), grp in fc.groupby(["check", "column"], dropna=False, sort=True):
        check = str(check)
        idx = pd.Index(grp["index"].unique())
        if check.startswith("negative_not_reversal:"):
            check, column = check.split(":", 1)
        elif "uniqueness" in check:
            check, column = "duplicate_id", kind.id_column
        col = columns[column]
        mask = pd.Series(False, index=typed.index)
        mask[idx] = True
        text = raw[column] if column in raw else pd.Series(pd.NA, index=raw.index, dtype="string")
        kw: dict = {"col": col.title}
        if check == "unknown_code":
            register = REGISTER_NAMES[col.metadata["codes"]].format(city=ev.city_code)
            kw["register"] = register
        elif check == "date_out_of_period":
            kw.update(start=ev.period_start.isoformat(), cutoff=ev.cutoff.isoformat())
        if check == "implausible_amount":
            msgs = pd.Series([_fmt(check, value=v, unit=u, limit=ev.settings["max_amount_wan"], **kw)
                              for v, u in zip(text[idx].fillna(""), unit[idx])], index=idx)
        elif check in RULE_HINTS:
            msgs = _per_value(check, text, idx, **kw)
        else:
            raise ValueError(f"no message for pandera check {check!r} on {kind.name}.{column}")
        out.append(_records(typed, mask, col.title, check, msgs, text, kind))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=QUARANTINE_COLUMNS)
