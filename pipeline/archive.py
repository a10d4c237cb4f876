"""County archive checklists (档案清单): which project records never reached the project office.

The seed's finding 4: the counties carrying sub-project 8 kept their organisation, targets, tasks
and process records locally, not synchronised to the project office. One finding per county.
"""

from __future__ import annotations

import pandas as pd

from pipeline import findings
from pipeline.evaluation import Evaluation
from pipeline.formats import natural_sorted
from pipeline.tables import LINEAGE_COLUMNS


def findings_and_edges(archive: pd.DataFrame, ev: Evaluation) -> tuple[pd.DataFrame, pd.DataFrame]:
    gaps = archive[~archive["synced"].astype(bool)]
    rows = []
    items_per_county = archive["county_code"].value_counts()
    for county, part in gaps.groupby("county_code", sort=False):
        subs = "、".join(natural_sorted(part["subproject_code"].unique()))
        items = "、".join(dict.fromkeys(part["item"]))
        rows.append(
            dict(
                code="archive_not_synced",
                severity="medium",
                subject_type="county",
                subject=county,
                figure=f"{len(part)}/{int(items_per_county[county])}",
                message=f"{ev.submitter_name(str(county))}（{county}）子项目 {subs} 的{items}等 {len(part)} 项档案资料未同步至总项目管理组。",
            )
        )
    edges = pd.DataFrame(
        {
            "output_table": "scoring_findings",
            "output_key": "archive_not_synced:" + gaps["county_code"].astype(str),
            "measure": "synced",
            "input_kind": "county_archive",
            "file": gaps["file"],
            "sheet": gaps["sheet"],
            "row": gaps["row"].astype("int64"),
        },
        columns=LINEAGE_COLUMNS,
    )
    return findings.frame(rows), edges.reset_index(drop=True)
