"""Materialisation metadata: row counts, a preview, the table schema with column descriptions."""

from __future__ import annotations

from typing import Optional

import dagster as dg
import pandas as pd
import pandera.pandas as pa

PREVIEW_ROWS = 10


def column_schema(model: Optional[type[pa.DataFrameModel]], df: pd.DataFrame) -> dg.TableSchema:
    """The UI's column list: names, types and the contract's bilingual descriptions where declared."""
    declared = model.to_schema().columns if model is not None else {}
    cols = []
    for name in df.columns:
        col = declared.get(name)
        desc = f"{col.title} — {col.description}" if col is not None and col.title else None
        cols.append(dg.TableColumn(name=str(name), type=str(df[name].dtype), description=desc))
    return dg.TableSchema(columns=cols)


def table_metadata(df: pd.DataFrame, model: Optional[type[pa.DataFrameModel]] = None,
                   input_hashes: Optional[dict[str, str]] = None) -> dict:
    meta = {
        "dagster/row_count": dg.MetadataValue.int(len(df)),
        "dagster/column_schema": column_schema(model, df),
        "preview": dg.MetadataValue.md(df.head(PREVIEW_ROWS).astype(str).to_markdown(index=False) if len(df) else "(empty)"),
    }
    if input_hashes is not None:
        meta["input_sha256"] = dg.MetadataValue.json(input_hashes)
    return meta
