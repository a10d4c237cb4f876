"""``python -m pipeline templates``: blank XLSX templates for every submission kind.

Each template has a title row, a notes row (units and formats) and the Chinese header, with
drop-down lists for enumerations and, when an evaluation is given, for its codes (sub-projects
from the registry, funding sources, counties, indicators). The reader accepts them as they are.
"""

from __future__ import annotations

from pathlib import Path

from pipeline import fieldtypes
from pipeline.contract import KINDS, Kind, kinds_for
from pipeline.evaluation import Evaluation
from pipeline.workbooks import Sheet, write_xlsx


def code_choices(ev: Evaluation | None, raw_root: Path) -> dict[str, list[str]]:
    """Drop-down values per code register, from the evaluation (empty without one)."""
    if ev is None:
        return {}
    from pipeline.ingest.inventory import RECOGNISED
    from pipeline.ingest.stage import read_all, source_files

    offices = [f for f in source_files(ev, raw_root) if f.submitter == "project_office" and f.listing == RECOGNISED]
    registry = read_all(ev, offices)["subprojects"]
    subprojects = [str(c).strip() for t in registry for c in t.frame["subproject_code"].to_pylist() if c]
    return {
        "subproject": subprojects,
        "source": list(ev.sources.values()),
        "county": list(ev.counties),
        "county_or_city": [ev.city_code, *ev.counties],
        "indicator": ev.indicator_codes,
    }


def choices_for(kind: Kind, codes: dict[str, list[str]]) -> dict[str, list[str]]:
    """The drop-down list of each column whose type offers one."""
    lists = {name: fieldtypes.of(col).choices(col, codes) for name, col in kind.columns.items()}
    return {name: values for name, values in lists.items() if values}


def write_templates(folder: Path, ev: Evaluation | None, raw_root: Path) -> list[Path]:
    codes = code_choices(ev, raw_root)
    who = ev.config.region.name if ev else ""
    written = []
    for typ in ("bureau", "evaluator"):
        for kind in kinds_for(typ):
            path = folder / typ / f"{kind.name}.xlsx"
            write_xlsx(
                path,
                [
                    Sheet(
                        kind,
                        [],
                        title=f"{who}{kind.label}　单位：万元　（填报单位：　　　）",
                        choices=choices_for(kind, codes),
                    )
                ],
            )
            written.append(path)
    county_sheets = [
        Sheet(k, [], title=f"{k.label}　单位：万元　（填报单位：旗县区名称及编码）", choices=choices_for(k, codes))
        for k in KINDS.values()
        if k.county_scoped
    ]
    path = folder / "county" / "旗县区编码.xlsx"
    write_xlsx(path, county_sheets)
    written.append(path)
    return written
