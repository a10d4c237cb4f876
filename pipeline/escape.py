"""Formula-injection escaping for every spreadsheet-facing export (XLSX sheets and CSV files).

Submitted text such as ``=SUM(1)`` or ``@cmd`` must never become a formula when a clerk opens
the file. Text cells that begin with a trigger character get a leading apostrophe (the OWASP
CSV-injection advice); numbers are never touched, so a negative amount stays a number.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from pipeline.files import atomic_write

# Tab and carriage return also start formulas in some spreadsheet programs.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def escape_text(value: str) -> str:
    """``"=SUM(1)"`` → ``"'=SUM(1)"``; harmless text is returned unchanged."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def escape_cell(value: object) -> object:
    """Escape a cell only when it is text; numbers, dates and missing values pass through."""
    return escape_text(value) if isinstance(value, str) else value


def escape_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every text cell escaped (text headers included); vectorised per column."""
    out = df.copy()
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype(object)
        elif not (column.dtype == object or pd.api.types.is_string_dtype(column.dtype)):
            continue
        try:
            # .str yields NA for non-text cells in an object column, so numbers there stay numbers.
            risky = column.str.startswith(FORMULA_TRIGGERS, na=False).astype(bool)
        except AttributeError:  # an object column with no text in it at all
            continue
        if risky.any():
            column = column.astype(object)
            column[risky] = "'" + column[risky].astype(str)
            out[out.columns[position]] = column
    out.columns = [escape_cell(c) for c in out.columns]
    return out


def csv_bytes(df: pd.DataFrame) -> bytes:
    """Escaped CSV as UTF-8 with a BOM (Excel then reads the Chinese), ``\\n`` line ends."""
    buffer = io.StringIO()
    escape_frame(df).to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue().encode("utf-8-sig")


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write :func:`csv_bytes` to ``path``; the same table always gives the same bytes."""
    atomic_write(Path(path), csv_bytes(df))
