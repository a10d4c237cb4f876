"""Whether pandera would pass a frame, decided column by column in C: the common case without pandera's cost.

pandera checks a ``str`` column of object dtype value by value in Python (``isinstance`` per cell: 3 s over
the national run's 2.2 million submission rows) and spends about 0.4 s of a national nightly run on the
output tables' schemas (columns, dtypes, nullability, keys). :func:`holds` answers True only when pandera
would pass; anything it does not decide (checks, an index, coercion, other dtypes, a column order or set
other than the schema's) and any frame that does not pass gets False and goes to pandera, which names
every failing value.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

VECTOR_DTYPES = {"str", "int64", "Int64", "datetime64[ns]", "bool"}


def holds(schema: pa.DataFrameSchema, df: pd.DataFrame) -> bool:
    """True only if ``schema.validate(df)`` would pass (see the module's docstring for what is decided)."""
    if schema.checks or schema.index is not None or schema.coerce or df.columns.has_duplicates:
        return False
    if schema.strict not in (True, False):  # "filter" changes the frame
        return False
    if (schema.strict or schema.ordered) and list(df.columns) != list(schema.columns):
        return False  # exactly the schema's columns in its order, or pandera decides
    for name, col in schema.columns.items():
        if col.checks or col.regex or col.unique or col.coerce:
            return False
        if name not in df.columns:
            if col.required:
                return False
            continue
        if not _column_holds(col, df[name]):
            return False
    if schema.unique:
        key = [schema.unique] if isinstance(schema.unique, str) else list(schema.unique)
        if any(k not in df.columns for k in key) or df.duplicated(subset=key).any():
            return False
    return True


def _column_holds(col: pa.Column, values: pd.Series) -> bool:
    if col.dtype is not None:
        dtype = str(col.dtype)
        if dtype not in VECTOR_DTYPES:
            return False
        if dtype == "str":
            if values.dtype != object:
                return False
            if pd.api.types.infer_dtype(values, skipna=False) == "string":
                return True  # every value a str, so none missing: one pass instead of two
            if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
                return False
        elif str(values.dtype) != dtype:
            return False
    return col.nullable or not values.isna().any()
