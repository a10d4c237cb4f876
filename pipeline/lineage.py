"""Row-level lineage: one edge table (output row → input row) and the `trace` that walks it.

The stages each emit edges in ``tables.LINEAGE_COLUMNS`` with their own table names; here they
are unified under the asset names (``funds_by_source``, ``indicator_scores``, …) and joined to
the inputs' SHA-256. ``trace`` answers "where does this figure of summary.json come from" by
mapping a dotted path to output rows and following edges down to raw rows, through the
reconciliation when an indicator takes its actual from it.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from pipeline.reconcile import derived_edges
from pipeline.tables import LINEAGE_COLUMNS, columns

# Stage-local table names → asset names.
FUNDS_TABLES = {
    "cells": "funds_cells",
    "by_source": "funds_by_source",
    "by_subproject": "funds_by_subproject",
    "by_group": "funds_by_group",
    "by_county": "funds_by_county",
    "matching": "county_matching",
    "transfer_matches": "transfer_matches",
    "transfer_discrepancies": "transfer_discrepancies",
    "findings": "reconciliation_findings",
}
SCORING_TABLES = {
    "indicators": "indicator_scores",
    "findings": "scoring_findings",
    "subprojects": "subproject_status",
    "scoring_findings": "scoring_findings",
}
EDGE_COLUMNS = columns("lineage")
LEVELS = {
    "funds_by_source": "by_source",
    "funds_by_subproject": "by_subproject",
    "funds_by_group": "by_group",
    "funds_by_county": "by_county",
}
RATE_MEASURES = {
    "arrival_rate": ["received", "planned"],
    "execution_rate": ["spent", "received"],
    "balance": ["received", "spent", "carried_forward", "recovered"],
}


def unify(
    funds: pd.DataFrame, scoring: pd.DataFrame, inventory: pd.DataFrame, monitoring: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One edge table under asset names, with each input file's SHA-256 (``monitoring``: a monitoring
    cut-off's edges, already under asset names; absent or empty for any other folder)."""
    parts = []
    stages = [(funds, FUNDS_TABLES), (scoring, SCORING_TABLES)]
    if monitoring is not None and len(monitoring):
        stages.append((monitoring, {}))
    for df, names in stages:
        df = df[LINEAGE_COLUMNS].copy()
        # Renamed once per distinct table name, not once per edge; two names may become one asset name.
        table = _category_of_text(df["output_table"])
        if table is None:
            table = pd.Categorical(df["output_table"].astype(str))
        renamed = [names.get(t, t) for t in table.categories]
        distinct = list(dict.fromkeys(renamed))
        position = np.array([distinct.index(r) for r in renamed], dtype=np.int64)
        df["output_table"] = pd.Categorical.from_codes(
            position[table.codes], categories=pd.Index(distinct, dtype=object)
        )
        parts.append(df)
    # Both inputs are in a deterministic order already; categoricals keep millions of edges small.
    edges = pd.DataFrame(
        {c: _text_category([p[c] for p in parts]) for c in LINEAGE_COLUMNS if c != "row"}
        | {"row": pd.concat([p["row"] for p in parts], ignore_index=True).astype("int64")}
    )[LINEAGE_COLUMNS]
    edges["sha256"] = _file_hashes(edges["file"].array, dict(zip(inventory["file"], inventory["sha256"])))
    return edges


def _text_category(columns: list[pd.Series]) -> pd.Categorical:
    """The columns one after another as one categorical of their text, categories sorted: what
    ``pd.concat(columns).astype(str).astype("category")`` gives, without turning every value into text."""
    cats = [cat for c in columns if (cat := _category_of_text(c)) is not None]
    if len(cats) < len(columns):  # missing values ("nan") or values not yet text: the general way
        return pd.Categorical(pd.concat(columns, ignore_index=True).astype(str))
    return union_categoricals(cats, sort_categories=True)


def _category_of_text(column: pd.Series) -> pd.Categorical | None:
    """The column as a categorical if every value is text (no missing value), else None."""
    if column.dtype == "category":
        # Only the categories present, as astype(str) gives; as Python str whatever their dtype (e.g. string).
        cat: pd.Categorical = column.array
        if (cat.codes < 0).any():
            return None
        cat = _without_unused(cat)
        if pd.api.types.infer_dtype(cat.categories, skipna=False) not in ("string", "empty"):
            return None
        if cat.categories.dtype != object:
            cat = cat.set_categories(pd.Index(list(cat.categories), dtype=object), rename=True)
        return cat
    if pd.api.types.infer_dtype(column, skipna=False) not in ("string", "empty"):  # a missing value is "mixed"
        return None
    return pd.Categorical(column.to_numpy(dtype=object))  # categories of Python str, whatever the column's dtype


def _file_hashes(files: pd.Categorical, sha: dict[str, str]) -> pd.Categorical:
    """Each edge's file's SHA-256, on the categories: ``Series(files).map(sha).astype("category")``.

    pandas maps the categories, but when the result is not one to one (a name that is no submission,
    as ``""`` of the edges to reconciliation figures, has none) it turns every edge into a Python object
    and builds the categorical again: 0.2–0.3 s over a national run's 3.3 million edges. The same result,
    from the categories: one to one, their hashes in the files' order; otherwise the hashes sorted,
    a missing one coded -1.
    """
    mapped = pd.Index([sha.get(f, np.nan) for f in files.categories], dtype=object)
    if mapped.is_unique and not mapped.hasnans:
        return pd.Categorical.from_codes(files.codes, categories=mapped)  # type: ignore[arg-type]  # stubs: codes as a sequence
    categories = pd.Index(sorted({h for h in mapped if isinstance(h, str)}), dtype=object)
    position = np.append(categories.get_indexer(mapped), -1)  # a missing file (code -1) has no hash either
    return pd.Categorical.from_codes(position[files.codes], categories=categories)


def _without_unused(cat: pd.Categorical) -> pd.Categorical:
    """``cat.remove_unused_categories()`` for a categorical without missing values, by counting its codes
    (pandas finds the used ones by sorting them: 0.3 s over a national run's edges)."""
    used = np.bincount(cat.codes, minlength=len(cat.categories)) > 0
    if used.all():
        return cat
    position = np.cumsum(used) - 1
    codes = position[cat.codes].astype(cat.codes.dtype, copy=False)
    return pd.Categorical.from_codes(codes, categories=cat.categories[used])


@dataclasses.dataclass
class Trace:
    figure: str
    value: object
    steps: list[dict[str, str]]  # the output rows the figure is made of: table, key, measure
    rows: pd.DataFrame  # raw rows: file, sheet, row, kind, sha256 (file as given to --raw)


def _figure_value(summary: dict[str, Any], figure: str) -> object:
    node: object = summary
    for part in figure.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"“{figure}” 不在 summary.json 中（在 “{part}” 处找不到）/ not a path into summary.json")
        node = node[part]
    return node


def _targets(
    summary: dict[str, Any], figure: str, indicators: pd.DataFrame
) -> list[tuple[str, list[str] | None, list[str]]]:
    """(asset table, keys or None for all, measures or [] for all) the figure is computed from."""
    parts = figure.split(".")
    head = parts[0]
    if head == "funds":
        if len(parts) == 2:
            return [("funds_by_source", None, RATE_MEASURES.get(parts[1], [parts[1]]))]
        table = {"by_source": "funds_by_source", "by_group": "funds_by_group"}[parts[1]]
        keys = [parts[2]] if len(parts) > 2 else None
        measure = parts[3] if len(parts) > 3 else None
        return [(table, keys, RATE_MEASURES.get(measure, [measure]) if measure else [])]
    if head == "coverage":
        return [("funds_by_subproject", None, ["planned"])]
    if head == "score":
        framework = parts[2] if len(parts) > 2 and parts[1] == "alternatives" else None
        rows = indicators if framework is None else indicators[indicators["framework"] == framework]
        if framework is None:
            primary = indicators["framework"].iloc[0] if len(indicators) else None
            rows = indicators[indicators["framework"] == primary]
        if "by_dimension" in parts:
            dim = parts[parts.index("by_dimension") + 1]
            rows = rows[rows["dimension"] == dim]
        return [("indicator_scores", sorted(rows["code"].unique()), [])]
    if head == "indicators":
        if len(parts) > 2 and parts[1] == "by_code":
            return [("indicator_scores", [parts[2]], [])]
        status = {"unmet": "unmet", "not_collected": "not_collected", "met_count": "met"}.get(parts[1])
        rows = indicators[indicators["status"] == status] if status else indicators[indicators["status"].notna()]
        return [("indicator_scores", sorted(rows["code"].unique()), [])]
    if head == "subprojects":
        codes = _figure_value(summary, figure)
        codes = codes if isinstance(codes, list) else [codes]
        return [("subproject_status", [str(c) for c in codes], [])]
    if head in ("rows", "files"):
        return [("submission_inventory", None, [])]
    raise KeyError(f"“{figure}” 没有可追溯的血缘 / no lineage for this figure")


def trace(out_dir: Path, figure: str, raw_display: str = "raw") -> Trace:
    """Follow ``figure`` down to raw rows using what the last run wrote under ``out_dir``."""
    summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    value = _figure_value(summary, figure)
    with duckdb.connect(str(out_dir / "pipeline.duckdb"), read_only=True) as con:
        edges = con.execute("SELECT * FROM lineage").df()
        indicators = con.execute("SELECT framework, code, dimension, status FROM indicator_scores").df()
        inventory = con.execute("SELECT file, sha256, rows_read FROM submission_inventory").df()
        cells = con.execute("SELECT key, subproject_code, source_code, county_code FROM funds_cells").df()
        groups = dict(con.execute("SELECT subproject_code, group_code FROM funds_by_subproject").fetchall())
    cell_edges = edges[edges["output_table"] == "funds_cells"]

    def edges_of(table: str, keys: list[str] | None, measures: list[str]) -> pd.DataFrame:
        sel = edges["output_table"] == table
        if keys is not None:
            sel &= edges["output_key"].isin(keys)
        found = edges[sel]
        if table in LEVELS:  # coarser fund levels: derived from the cells they sum
            derived = derived_edges(LEVELS[table], keys, cell_edges, cells, groups).assign(output_table=table)
            found = pd.concat([found, derived], ignore_index=True)
        return found[found["measure"].isin(measures)] if measures else found

    steps, picked = [], []
    for table, keys, measures in _targets(summary, figure, indicators):
        if table == "submission_inventory":
            inv = inventory.assign(sheet="", row=pd.NA, input_kind="file", measure="")  # type: ignore[arg-type]  # stubs reject pd.NA
            picked.append(inv)
            steps.append({"table": table, "key": "*", "measure": "rows_read"})
            continue
        hit = edges_of(table, keys, measures)
        steps += [
            {"table": table, "key": k, "measure": m}
            for k, m in hit[["output_key", "measure"]].drop_duplicates().itertuples(index=False)
        ]
        via = hit[hit["input_kind"] == "reconciliation"]
        for measure in via["measure"].unique():  # an indicator computed from the reconciliation
            steps.append({"table": "funds_by_source", "key": "*", "measure": measure})
            picked.append(edges_of("funds_by_source", None, RATE_MEASURES[measure]))
        picked.append(hit[hit["input_kind"] != "reconciliation"])
    rows = pd.concat(picked, ignore_index=True) if picked else pd.DataFrame(columns=EDGE_COLUMNS)
    rows = rows.rename(columns={"input_kind": "kind"})[["file", "sheet", "row", "kind", "sha256"]]
    rows = rows.drop_duplicates().sort_values(["file", "sheet", "row"], kind="stable").reset_index(drop=True)
    rows["file"] = raw_display.rstrip("/") + "/" + rows["file"].astype(str)
    return Trace(figure=figure, value=value, steps=steps, rows=rows)


def as_json(t: Trace) -> str:
    rows = [
        {k: (None if pd.isna(v) else (int(v) if k == "row" else v)) for k, v in r.items()}
        for r in t.rows.to_dict("records")
    ]
    return json.dumps(
        {"figure": t.figure, "value": t.value, "steps": t.steps, "rows": rows},
        ensure_ascii=False,
        indent=2,
        sort_keys=True,
    )


def as_text(t: Trace) -> str:
    lines = [f"{t.figure} = {json.dumps(t.value, ensure_ascii=False)}"]
    for s in t.steps[:40]:
        lines.append(f"  ← {s['table']}[{s['key']}].{s['measure']}")
    if len(t.steps) > 40:
        lines.append(f"  ← … {len(t.steps) - 40} more")
    lines.append(f"  来源行 / source rows: {len(t.rows)}")
    for r in t.rows.itertuples():
        where = f"sheet {r.sheet!s} " if r.sheet else ""
        row = "" if pd.isna(r.row) else f"row {int(r.row)}"  # type: ignore[arg-type]  # stubs: a field is Scalar
        lines.append(f"    {r.file}  {where}{row}  ({r.kind})  sha256 {r.sha256}")
    return "\n".join(lines)
