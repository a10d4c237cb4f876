"""Edge tables (``tables.LINEAGE_COLUMNS``: output row → input row) as categoricals.

A stage's edge table has a row per input row, over a million at national scale, and a few thousand
distinct texts: its text columns are kept as categoricals from the moment they are built, so that
no cell becomes a Python string on the way to Parquet (which stores them as dictionaries) and the
unified lineage (:func:`pipeline.lineage.unify`) takes them as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from pipeline.tables import LINEAGE_COLUMNS

TEXT_COLUMNS = [c for c in LINEAGE_COLUMNS if c != "row"]


def categorical(column: pd.Series) -> pd.Categorical:
    """The column as a categorical: as it is when it is one, else of its values as text."""
    return column.array if isinstance(column.dtype, pd.CategoricalDtype) else pd.Categorical(column.astype(str))


def text_categorical(column: pd.Series) -> pd.Categorical:
    """``pd.Categorical(column.astype(str))``: the values as text, categories the ones used, sorted.

    A categorical of text without missing values (an input read from Parquet's dictionaries, its categories
    in the order met, some no longer used once rows are filtered) gives the same without a Python string per
    cell: its used categories, sorted, its codes mapped. Edges built from it are then the bytes that edges
    built from the text give.
    """
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return pd.Categorical(column.astype(str))
    cat: pd.Categorical = column.array
    categories = cat.categories
    if (cat.codes < 0).any() or pd.api.types.infer_dtype(categories, skipna=False) not in ("string", "empty"):
        return pd.Categorical(column.astype(str))  # a missing value ("nan") or values not text: as their text
    used = np.bincount(cat.codes, minlength=len(categories)) > 0
    if used.all() and categories.is_monotonic_increasing and categories.dtype == object:
        return cat
    kept = pd.Index(categories[used].astype(object))
    order = np.argsort(kept.to_numpy(), kind="stable")
    position = np.full(len(categories), -1, dtype=np.int64)
    position[np.flatnonzero(used)[order]] = np.arange(len(kept))
    return pd.Categorical.from_codes(position[cat.codes], categories=kept[order])


def constant(value: str, n: int) -> pd.Categorical:
    """``value`` on ``n`` rows, as a categorical of one category."""
    return pd.Categorical.from_codes(np.zeros(n, dtype="int8"), categories=pd.Index([value]))  # type: ignore[arg-type]  # stubs: codes as a sequence


def concat(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Edge frames one after another, every text column categorical (categories in order of appearance).

    ``pd.concat`` turns categoricals of different categories into objects; this keeps them categorical.
    Empty parts are left out unless all are empty; needs at least one part.
    """
    parts = [p for p in parts if len(p)] or parts[:1]
    columns: dict[str, pd.Categorical | np.ndarray] = {
        c: union_categoricals([categorical(p[c]) for p in parts]) for c in TEXT_COLUMNS
    }
    columns["row"] = np.concatenate([p["row"].to_numpy(dtype="int64") for p in parts])
    return pd.DataFrame(columns)[LINEAGE_COLUMNS]
