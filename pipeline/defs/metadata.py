"""Materialisation metadata: row counts, a preview, the table schema with column descriptions."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pandera.pandas as pa

from pipeline.tables import TABLES

PREVIEW_ROWS = 10


def column_schema(
    df: pd.DataFrame, name: str | None = None, model: type[pa.DataFrameModel] | None = None
) -> dg.TableSchema:
    """The UI's column list: names, types and bilingual descriptions (with units) from the contract or ``tables``."""
    if model is not None:
        declared = {n: f"{c.title} — {c.description}" for n, c in model.to_schema().columns.items() if c.title}
    else:
        declared = {n: f.shown for n, f in TABLES[name].fields().items()} if name in TABLES else {}
    return dg.TableSchema(
        columns=[dg.TableColumn(name=str(c), type=str(df[c].dtype), description=declared.get(c)) for c in df.columns]
    )


def table_metadata(
    df: pd.DataFrame,
    name: str | None = None,
    model: type[pa.DataFrameModel] | None = None,
    input_hashes: dict[str, str] | None = None,
) -> dict:
    meta = {
        "dagster/row_count": dg.MetadataValue.int(len(df)),
        "dagster/column_schema": column_schema(df, name, model),
        "preview": dg.MetadataValue.md(
            df.head(PREVIEW_ROWS).astype(str).to_markdown(index=False) if len(df) else "(empty)"
        ),
    }
    if input_hashes is not None:
        meta["input_sha256"] = dg.MetadataValue.json(input_hashes)
    return meta
