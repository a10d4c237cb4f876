"""Materialisation metadata: row counts, a preview, the table schema with column descriptions, the input files."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import dagster as dg
import pandas as pd
import pandera.pandas as pa

from pipeline.tables import TABLES

PREVIEW_ROWS = 10
# Input files listed one by one (file → SHA-256) up to this many; beyond it only their count and digest. A
# national kind's 2,850 hashes made each of its events 320 KB, which Dagster stores and every later step's
# data-version lookup deserialised again; the list is the submission_inventory table's (file, sha256).
INPUTS_LISTED = 50


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
        meta.update(input_metadata(input_hashes))
    return meta


def input_metadata(hashes: Mapping[str, str]) -> dict[str, dg.MetadataValue[Any]]:
    """What a table was made from: ``input_files`` (how many), ``input_digest`` and, for up to
    :data:`INPUTS_LISTED` files, ``input_sha256`` (each file's SHA-256).

    ``input_digest`` is the SHA-256 of the lines ``file<TAB>sha256<LF>`` sorted by file (code point order),
    UTF-8: anyone can recompute it from submission_inventory.csv's two columns.
    """
    lines = "".join(f"{f}\t{hashes[f]}\n" for f in sorted(hashes))
    meta: dict[str, dg.MetadataValue[Any]] = {
        "input_files": dg.MetadataValue.int(len(hashes)),
        "input_digest": dg.MetadataValue.text(hashlib.sha256(lines.encode("utf-8")).hexdigest()),
    }
    if len(hashes) <= INPUTS_LISTED:
        meta["input_sha256"] = dg.MetadataValue.json(dict(hashes))
    return meta
