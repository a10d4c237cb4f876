"""Lineage of the reconciliation: edge rows (output row, measure, input row), stored for the cells, derived for coarser levels."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from pipeline.edges import concat as concat_frames
from pipeline.reconcile.facts import EDGE_MEASURES, INPUT_KINDS, TRANSFER_MEASURES, constant
from pipeline.reconcile.levels import UNREGISTERED_GROUP

# Levels whose lineage is not stored but derived from the cells' edges (see derived_edges).
DERIVED_LEVELS = {
    "by_source": "source_code",
    "by_subproject": "subproject_code",
    "by_group": "group_code",
    "by_county": "county_code",
}


def derived_edges(
    level: str, keys: list[str] | None, cell_edges: pd.DataFrame, cells: pd.DataFrame, groups: Mapping[str, str]
) -> pd.DataFrame:
    """The edges of rows of a coarser level (``by_source`` …), from the cells' edges and codes.

    ``cell_edges`` are the stored edges with output_table ``cells``; ``cells`` has key and the three
    codes; ``groups`` maps sub-project → group. Transfers net to zero above the county level, so
    they are left out there, as the levels' sums leave them out.
    """
    column = DERIVED_LEVELS[level]
    c = cells[["key", "subproject_code", "source_code", "county_code"]].astype(str)
    c["group_code"] = c["subproject_code"].map(groups).fillna(UNREGISTERED_GROUP)
    if keys is not None:
        c = c[c[column].isin(keys)]
    owner = dict(zip(c["key"], c[column]))
    e = cell_edges[cell_edges["output_key"].astype(str).isin(owner)]
    if level != "by_county":
        e = e[~e["measure"].astype(str).isin(TRANSFER_MEASURES)]
    return e.assign(output_table=level, output_key=e["output_key"].astype(str).map(owner))


def level_edges(
    cid: np.ndarray, cells: pd.DataFrame, facts: pd.DataFrame, registry: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """Lineage of every level: each fact links to its cell, and through the cell's codes to each coarser row."""
    owners = pd.Categorical.from_codes(cid, categories=pd.Index(cells["key"]))  # type: ignore[arg-type]  # stubs: codes
    edges = {"cells": make_edges("cells", owners, facts)}
    in_counties = ~facts["measure"].isin(TRANSFER_MEASURES).to_numpy()  # transfers net to zero above the county level
    for name, column, mask in (
        ("by_source", "source_code", in_counties),
        ("by_subproject", "subproject_code", in_counties),
        ("by_group", "group_code", in_counties),
        ("by_county", "county_code", np.ones(len(facts), dtype=bool)),
    ):
        codes, categories = pd.factorize(cells[column])
        edges[name] = make_edges(name, pd.Categorical.from_codes(codes[cid[mask]], categories), facts[mask])
    allocation = make_edges(
        "by_subproject", pd.Categorical(registry["subproject_code"]), registry, measure="allocation", kind="subprojects"
    )
    edges["by_subproject"] = concat_edges([edges["by_subproject"], allocation])
    return edges


def make_edges(
    table: str, keys: pd.Categorical, rows: pd.DataFrame, *, measure: str | None = None, kind: str | None = None
) -> pd.DataFrame:
    """Edges from output rows (``keys``, one per input row) to the input ``rows``."""
    n = len(rows)
    return pd.DataFrame(
        {
            "output_table": constant(table, [table], n),
            "output_key": keys,
            "measure": constant(measure, EDGE_MEASURES, n) if measure else rows["measure"].array,
            "input_kind": constant(kind, INPUT_KINDS, n) if kind else rows["input_kind"].array,
            "file": rows["file"].array,
            "sheet": rows["sheet"].array,
            "row": rows["row"].to_numpy(dtype="int64"),
        }
    )


def concat_edges(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate edge frames keeping every text column categorical (the edge table can be millions of rows)."""
    return concat_frames([p for p in parts if len(p)] or [make_edges("cells", pd.Categorical([]), empty_facts())])


def empty_facts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            c: pd.Series(dtype="int64" if c == "row" else object)
            for c in ("measure", "input_kind", "file", "sheet", "row")
        }
    )


def edge_subset(edges: pd.DataFrame, keys: pd.Series, table: str) -> pd.DataFrame:
    out = edges[edges["output_key"].isin(set(keys))].copy()
    out["output_table"] = table
    return out
