"""County matching funds (配套): planned, stated, received and the shortfall per county; the stated plan checked sub-project by sub-project."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from pipeline.evaluation import Evaluation
from pipeline.reconcile.edges import make_edges
from pipeline.reconcile.facts import CELL, fact_rows, input_table
from pipeline.reconcile.levels import county_names, join_keys, ordered, rate_percent


def county_matching(
    tables: Mapping[str, pd.DataFrame], facts: pd.DataFrame, evaluation: Evaluation
) -> tuple[pd.DataFrame, pd.DataFrame, tuple[pd.DataFrame, pd.DataFrame]]:
    """Per county: planned (fund plan), stated plan (the county's own), received (own budget), shortfall.

    Also returns the matching table's lineage and the county × sub-project comparison of the
    stated plan with the fund plan, with its own lineage keys, for the findings.
    """
    source = evaluation.county_source
    ours = facts[
        facts["measure"].isin(["planned", "received"]).to_numpy()
        & (facts["source_code"] == source).to_numpy()
        & (facts["county_code"] != evaluation.city_code).to_numpy()
    ]
    stated = input_table(tables, "county_match_plan").assign(source_code=source)
    rows = pd.concat(
        [
            # Categoricals of text (input_facts): as objects, their values without a str() per cell.
            ours.astype(dict.fromkeys(CELL + ["file", "sheet"], object)),
            fact_rows(stated, "county_match_plan", "stated_plan").astype(dict.fromkeys(("file", "sheet"), str)),
        ],
        ignore_index=True,
    )
    rows["measure"] = rows["measure"].astype(str)

    pivot = rows.pivot_table(index="county_code", columns="measure", values="amount_fen", aggfunc="sum", fill_value=0)
    order = ordered(rows["county_code"], evaluation.counties)
    matching = pivot.reindex(index=order, columns=["planned", "stated_plan", "received"], fill_value=0).astype("int64")
    matching = matching.rename_axis(index="county_code", columns=None).reset_index()
    matching.insert(0, "key", matching["county_code"])
    matching.insert(2, "county_name", county_names(matching["county_code"], evaluation))
    matching["shortfall"] = matching["planned"] - matching["received"]
    matching["arrival_rate"] = rate_percent(matching["received"], matching["planned"])
    edges = make_edges("matching", pd.Categorical(rows["county_code"]), rows.astype({"measure": "category"}))

    compared = rows[rows["measure"] != "received"]
    detail = (
        compared.pivot_table(
            index=["county_code", "subproject_code"],
            columns="measure",
            values="amount_fen",
            aggfunc="sum",
            fill_value=0,
        )
        .reindex(columns=["planned", "stated_plan"], fill_value=0)
        .reset_index()
    )
    detail = detail[detail["county_code"].isin(set(stated["submitter"]))]  # only counties that stated a plan
    detail.insert(0, "key", join_keys(detail, ["county_code", "subproject_code"]))
    detail_edges = make_edges(
        "county_subproject",
        pd.Categorical(join_keys(compared, ["county_code", "subproject_code"])),
        compared.astype({"measure": "category"}),
    )
    return matching, edges, (detail.reset_index(drop=True), detail_edges)
