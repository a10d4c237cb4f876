"""The field types of the submission contract: each one object that knows everything about its kind of cell.

A contract field (``pipeline.contract``) names its type; the type knows how a cell's text is
parsed (and which rule a bad cell breaks), the dtype of accepted values, the pandera checks on
them, the Great Expectations expectations on the accepted table, the note a submitter reads in
the template, the drop-down list it offers and the words the contract docs use. Validation,
templates, docs and data-quality suites all ask the type; none of them interprets a type name.
A new type is one :func:`register` call.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as arrow
import pyarrow.compute as pc

from pipeline import expect as ex
from pipeline.formats import FEN_PER_WAN, arrow_text, parse_money

if TYPE_CHECKING:
    from pandas._typing import AstypeArg

_DATE = re.compile(
    r"^(?P<y>\d{4})\s*(?:[-/.年])\s*(?P<m>\d{1,2})\s*(?:[-/.月])\s*(?P<d>\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?)?$"
)
_DECIMAL = re.compile(r"^[-+]?\d+(\.\d+)?%?$")
_CONTROL = r"[\x00-\x1f\x7f]"


@dataclasses.dataclass(frozen=True)
class Bad:
    """Cells that break ``rule``: where, and what the message needs (a value per cell, or one for all)."""

    rule: str
    mask: pd.Series
    kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Context:
    """What parsing and checking need beyond the cell: the evaluation, its registers, each row's money unit."""

    evaluation: Any  # pipeline.evaluation.Evaluation
    codes: Any  # pipeline.ingest.validate.Codes
    unit: pd.Series = dataclasses.field(default_factory=lambda: pd.Series(dtype=object))

    @property
    def max_fen(self) -> int:
        return int(self.evaluation.settings.max_amount_wan) * FEN_PER_WAN


Column = Any  # a pandera column of the contract: .title, .nullable, .metadata (type options)


@dataclasses.dataclass(frozen=True)
class FieldType:
    name: str
    label: str  # how the contract docs describe the type, in Chinese
    note: str  # the template's note, for a required field ("必填；…")
    order: int  # where the templates place such columns: ids first, free text last
    dtype: AstypeArg | None  # the dtype of accepted values (None: as parsed)
    parse: Callable[[pd.Series, Column, Context], tuple[pd.Series, list[Bad]]]
    checks: Callable[[str, Column, Context], list[pa.Check]] = lambda name, col, ctx: []
    frame_checks: Callable[[str, Column, Context], list[pa.Check]] = lambda name, col, ctx: []
    expectations: Callable[[str, Column, Context, list[str]], list[ex.Expect]] = lambda name, col, ctx, cols: []
    choices: Callable[[Column, Mapping[str, list[str]]], list[str] | None] = lambda col, registers: None
    note_extra: Callable[[Column, str], str] = lambda col, unit: ""
    required_note: str | None = None  # the template note of a required column, where ``note`` assumes it may be empty
    free_text: bool = False  # a text limit applies (and, for keys, no control characters)
    key: bool = False  # an identifier or a code: control characters refused
    messages: Mapping[str, str] = dataclasses.field(default_factory=dict)  # its own rules' messages ({col}, {value}…)

    def template_note(self, col: Column, unit: str) -> str:
        required = not (col.nullable or col.metadata.get("optional"))
        text = self.required_note if required and self.required_note else self.note
        if not required:
            text = text.replace("必填；", "选填；")
        return text + self.note_extra(col, unit)

    def header(self, col: Column, unit: str) -> str:
        """The column's header in a template: money declares its unit."""
        return f"{col.title}（{unit}）" if self.name == "money" else col.title


REGISTRY: dict[str, FieldType] = {}


def register(field_type: FieldType) -> FieldType:
    REGISTRY[field_type.name] = field_type
    return field_type


def of(col: Column) -> FieldType:
    """The type of a contract column."""
    return REGISTRY[col.metadata["type"]]


def message(rule: str) -> str | None:
    """The message template a registered type declares for ``rule``, if any."""
    return next((t.messages[rule] for t in REGISTRY.values() if rule in t.messages), None)


# --- parsing -------------------------------------------------------------------------------------------


def objects(text: pd.Series) -> pd.Series:
    """Text as Python strings (object dtype, None where missing), each distinct string made once.

    ``astype(object)`` makes one string object per row; at national scale a code column repeats a
    few hundred values a million times, so the rows share the distinct values instead (same values,
    a fraction of the memory).
    """
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    values = np.empty(len(uniques) + 1, dtype=object)
    values[: len(uniques)] = np.asarray(uniques, dtype=object)
    values[-1] = None  # where the code is -1 (missing)
    return pd.Series(values[codes], index=text.index, dtype=object)


# A column is parsed once per distinct text when its distinct values are at most this share of its rows:
# a national run's dates, codes, choices and amounts repeat a few hundred or thousand texts over a million
# rows; ids do not, and are parsed row by row (factorizing them first would only add its cost).
DISTINCT_AT_MOST = 0.5

Parse = Callable[[pd.Series, Column, Context], tuple[pd.Series, list[Bad]]]


def _distinct(text: pd.Series) -> tuple[pd.Series, np.ndarray] | None:
    """The distinct texts of ``text`` (NA last) and, per row, its position among them; None when not worth it."""
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    if len(uniques) + 1 > len(text) * DISTINCT_AT_MOST:
        return None
    distinct = pd.Series([*uniques, None], dtype=text.dtype, name=text.name)
    return distinct, np.where(codes < 0, len(uniques), codes)


def _spread(part: pd.Series, at: np.ndarray, index: pd.Index) -> pd.Series:
    """A result computed per distinct text, as one value per row (same dtype and name)."""
    out = part.take(at)
    out.index = index
    return out


def each_distinct(parse: Parse) -> Parse:
    """``parse`` run once per distinct text and spread over the rows: the same values, dtypes and masks.

    Only for a parse whose result for a cell depends on that cell's text alone (not on its row's unit,
    say): money, which depends on the row's unit, is spread per unit inside :func:`_as_money`.
    """

    def parse_each_distinct(text: pd.Series, col: Column, ctx: Context) -> tuple[pd.Series, list[Bad]]:
        found = _distinct(text)
        if found is None:
            return parse(text, col, ctx)
        distinct, at = found
        values, bad = parse(distinct, col, ctx)
        return _spread(values, at, text.index), [
            dataclasses.replace(b, mask=_spread(b.mask, at, text.index)) for b in bad
        ]

    parse_each_distinct.__name__ = parse_each_distinct.__qualname__ = parse.__name__
    parse_each_distinct.__doc__ = parse.__doc__
    parse_each_distinct.__wrapped__ = parse  # type: ignore[attr-defined]  # as functools.wraps leaves it
    return parse_each_distinct


def _money_each_distinct(text: pd.Series, unit: str) -> tuple[pd.Series, pd.Series]:
    found = _distinct(text)
    if found is None:
        return parse_money(text, unit)
    distinct, at = found
    fen, error = parse_money(distinct, unit)
    return _spread(fen, at, text.index), _spread(error, at, text.index)


def _as_text(text: pd.Series, col: Column, ctx: Context) -> tuple[pd.Series, list[Bad]]:
    return objects(text), []


@each_distinct
def _as_key(text: pd.Series, col: Column, ctx: Context) -> tuple[pd.Series, list[Bad]]:
    """An id or a code: refused when it holds a control character (a NUL would make two equal-looking keys differ)."""
    control = pc.match_substring_regex(arrow.array(text, arrow.string(), from_pandas=True), _CONTROL)
    bad = pd.Series(pc.fill_null(control, False).to_numpy(zero_copy_only=False), index=text.index)
    values = text
    register = col.metadata.get("codes")
    if register == "source":
        values = values.map(ctx.codes.source_labels).fillna(values)  # a label (中央资金) becomes its code
    elif register in ("county", "county_or_city"):
        values = values.map(ctx.codes.county_labels).fillna(values)
    return objects(values), [Bad("control_character", bad)]


def _as_money(text: pd.Series, col: Column, ctx: Context) -> tuple[pd.Series, list[Bad]]:
    fen = pd.Series(pd.NA, index=text.index, dtype="Int64")
    err = pd.Series("", index=text.index, dtype=object)
    for u in ctx.unit.dropna().unique():
        sel = ctx.unit == u
        f, e = _money_each_distinct(text[sel], u)
        fen[sel], err[sel] = f, e
    return fen, [
        Bad(rule, err == rule, {"unit": ctx.unit}) for rule in ("not_a_number", "too_many_decimals", "too_large")
    ]


def parse_dates(text: pd.Series) -> pd.Series:
    """Dates as a clerk writes them (2023-05-01, 2023/5/1, 2023年5月1日, an Excel cell with a time), to the day.

    Parsed in arrow (RE2) and assembled by pandas: no Python per cell. Impossible dates are NaT.
    """
    parts = pc.extract_regex(arrow_text(text), _DATE.pattern)
    ymd = {k: pc.cast(pc.struct_field(parts, k), arrow.int64()).to_numpy(zero_copy_only=False) for k in "ymd"}
    frame = pd.DataFrame({"year": ymd["y"], "month": ymd["m"], "day": ymd["d"]}, index=text.index)
    return pd.to_datetime(frame, errors="coerce")


@each_distinct
def _as_date(text: pd.Series, col: Column, ctx: Context) -> tuple[pd.Series, list[Bad]]:
    d = parse_dates(text)
    return d, [Bad("not_a_date", text.notna() & d.isna())]


@each_distinct
def _as_decimal(text: pd.Series, col: Column, ctx: Context) -> tuple[pd.Series, list[Bad]]:
    matches = pc.fill_null(pc.match_substring_regex(arrow_text(text), _DECIMAL.pattern), False)
    bad = text.notna() & ~matches.to_numpy(zero_copy_only=False)
    return objects(text), [Bad("not_a_number", bad)]


def _enum_labels(col: Column) -> list[str]:
    """The labels a submitter chooses from (Chinese ones; canonical English names are accepted too)."""
    return [k for k in dict.fromkeys(col.metadata["values"]) if not k.isascii()]


@each_distinct
def _as_enum(text: pd.Series, col: Column, ctx: Context) -> tuple[pd.Series, list[Bad]]:
    values: Mapping = col.metadata["values"]
    mapped = text.map(values, na_action="ignore")
    return mapped.astype(object), [
        Bad("not_allowed", text.notna() & mapped.isna(), {"allowed": "、".join(_enum_labels(col))})
    ]


# --- checks and expectations ----------------------------------------------------------------------------
# Checks carry explicit names, the quarantine rule they stand for: pandera names its built-ins after their arguments.


def _code_checks(name: str, col: Column, ctx: Context) -> list[pa.Check]:
    allowed = set(getattr(ctx.codes, col.metadata["codes"]))
    return [pa.Check(lambda s, a=allowed: s.isin(a), name="unknown_code")]


def _code_expectations(name: str, col: Column, ctx: Context, columns: list[str]) -> list[ex.Expect]:
    allowed = getattr(ctx.codes, col.metadata["codes"])
    return [ex.in_set(name, allowed, "编码在登记清单中 / codes are registered")] if allowed else []


def _period(ctx: Context) -> tuple[pd.Timestamp, pd.Timestamp]:
    return pd.Timestamp(ctx.evaluation.period_start), pd.Timestamp(ctx.evaluation.cutoff)


def _date_checks(name: str, col: Column, ctx: Context) -> list[pa.Check]:
    if not col.metadata.get("in_period"):
        return []
    start, cutoff = _period(ctx)
    return [pa.Check(lambda s: s.between(start, cutoff), name="date_out_of_period")]


def _date_expectations(name: str, col: Column, ctx: Context, columns: list[str]) -> list[ex.Expect]:
    if not col.metadata.get("in_period"):
        return []
    start, cutoff = (t.to_pydatetime() for t in _period(ctx))
    ev = ctx.evaluation
    return [
        ex.not_null(name, "日期必填 / a date is required"),
        ex.between(
            name,
            start,
            cutoff,
            why=f"日期在项目实施期内（{ev.period_start} 至 {ev.cutoff}）/ within the programme period",
        ),
    ]


def _money_checks(name: str, col: Column, ctx: Context) -> list[pa.Check]:
    checks = [pa.Check(lambda s, m=ctx.max_fen: s.abs() <= m, name="implausible_amount")]
    if not col.metadata.get("reversal_of"):
        checks.append(pa.Check(lambda s: s >= 0, name="negative_amount"))
    return checks


def _money_frame_checks(name: str, col: Column, ctx: Context) -> list[pa.Check]:
    rev = col.metadata.get("reversal_of")
    if not rev:
        return []
    return [
        pa.Check(
            lambda d, c=name, r=rev: (d[c] >= 0).fillna(True).astype(bool) | (d[r].notna() if r in d else False),
            name=f"negative_not_reversal:{name}",
        )
    ]


def _money_expectations(name: str, col: Column, ctx: Context, columns: list[str]) -> list[ex.Expect]:
    reversal = col.metadata.get("reversal_of")
    out = [
        ex.not_null(name, "金额必填 / an amount is required"),
        ex.integer(name, "金额为整数分，从不为浮点数 / money is integer 分, never float"),
        ex.between(
            name,
            -ctx.max_fen if reversal else 0,
            ctx.max_fen,
            why=f"单笔金额不超过 {ctx.evaluation.settings.max_amount_wan} 万元 / |amount| within the plausible maximum",
        ),
    ]
    if reversal and reversal in columns:
        out.append(
            ex.Expect(
                "expect_column_values_to_not_be_null",
                {"column": reversal},
                "负数仅用于冲红，须写明被冲红凭证 / a negative amount names the voucher it reverses",
                where=(name, "<", 0),
            )
        )
    return out


def _enum_expectations(name: str, col: Column, ctx: Context, columns: list[str]) -> list[ex.Expect]:
    canonical = set(col.metadata["values"].values())
    if not all(isinstance(v, str) for v in canonical):
        return []
    return [ex.in_set(name, sorted(canonical), "枚举值已转为规范值 / enumerations hold canonical values")]


def _money_note(col: Column, unit: str) -> str:
    return (
        "；负数仅用于冲红，须填冲红凭证号" if col.metadata.get("reversal_of") else "；不得为负数"
    ) + f"；单位：{unit}"


ID = register(FieldType("id", "唯一编号", "必填；唯一编号", 0, None, _as_key, free_text=True, key=True))
DATE = register(
    FieldType(
        "date",
        "日期",
        "必填；日期，格式 2023-05-01",
        1,
        "datetime64[ns]",
        _as_date,
        checks=_date_checks,
        expectations=_date_expectations,
    )
)
CODE = register(
    FieldType(
        "code",
        "编码（须在登记清单中）",
        "必填；编码，从下拉列表选择",
        2,
        None,
        _as_key,
        checks=_code_checks,
        expectations=_code_expectations,
        choices=lambda col, registers: registers.get(col.metadata["codes"]) or None,
        free_text=True,
        key=True,
    )
)
ENUM = register(
    FieldType(
        "enum",
        "从给定选项中选择",
        "从下拉列表选择",
        3,
        None,
        _as_enum,
        expectations=_enum_expectations,
        choices=lambda col, registers: _enum_labels(col),
        note_extra=lambda col, unit: "：" + "/".join(_enum_labels(col)),
    )
)
FLAG = register(
    FieldType(
        "flag",
        "是 / 否",
        "从下拉列表选择",
        3,
        "bool",
        _as_enum,
        expectations=_enum_expectations,
        choices=lambda col, registers: _enum_labels(col),
        note_extra=lambda col, unit: "：" + "/".join(_enum_labels(col)),
    )
)
MONEY = register(
    FieldType(
        "money",
        "金额（最多两位小数，按表头或标题声明的单位换算为分）",
        "必填；数字，最多两位小数",
        4,
        "int64",
        _as_money,
        checks=_money_checks,
        frame_checks=_money_frame_checks,
        expectations=_money_expectations,
        note_extra=_money_note,
    )
)
DECIMAL = register(
    FieldType(
        "decimal",
        "精确小数（可带 %）",
        "数字（可带 %）；未采集时留空",
        4,
        None,
        _as_decimal,
        required_note="必填；数字（可带 %）",
    )
)
TEXT = register(FieldType("text", "文本", "必填；文本", 5, None, _as_text, free_text=True))


def accepted_dtypes(columns: Mapping[str, Column], df: pd.DataFrame) -> pd.DataFrame:
    """Give accepted rows the dtypes their types declare (they passed every check, so no NA where forbidden)."""
    for name, col in columns.items():
        dtype = of(col).dtype
        if dtype == "datetime64[ns]":
            df[name] = pd.to_datetime(df[name])
        elif dtype is not None:
            df[name] = df[name].astype(dtype)
    return df


def text_too_long(text: pd.Series, limit: int) -> pd.Series:
    return text.str.len().fillna(0).astype("int64") > limit
