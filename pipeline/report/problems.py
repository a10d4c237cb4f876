"""Section 四（二）: the stages' findings grouped into problems, as an evaluator writes them.

One problem per cause. The evaluator's narrative claims findings first (``发现：`` in
``narrative.md``, see :mod:`pipeline.report.narrative`); every finding it does not claim falls into
the generated problem of its category (``causes.yaml``). A category whose findings are all of
severity 低 is not a problem of its own: its findings are listed in the appendix only. So every
finding sits in exactly one problem or in the appendix, with or without a narrative.

Money is counted once. Each money finding concerns a set of lineage cells (sub-project × source ×
county, ``funds_cells``) and a measure (未到位, 已到位未支出, 收回, or a sub-project's 计划资金);
a problem's money is each measure summed over the union of its findings' cells, and findings
whose cells coincide or nest are said to be the same money. Problems are ranked by severity, then
money at stake, then points lost.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, SupportsInt, cast

import pandas as pd
import yaml

from pipeline.findings import SEVERITIES
from pipeline.report.narrative import Narrative, NarrativeProblem

CAUSES_FILE = Path(__file__).with_name("causes.yaml")
SEVERITY_RANK = {s: n for n, s in enumerate(SEVERITIES)}
OTHER = "other"  # the category of a finding code no category names
OTHER_HEADING = "其他需要关注的问题"

# The measure of each money finding's stake, summed over the union of the problem's cells.
MEASURE_OF_CODE = {
    "low_arrival": "unarrived",
    "county_matching_short": "unarrived",
    "low_execution_source": "unspent",
    "low_execution_subproject": "unspent",
    "funds_recovered": "recovered",
    "subproject_delayed": "planned",
    "subproject_extended": "planned",
    "subproject_status_conflict": "planned",
}
MEASURE_LABELS = {
    "planned": "计划资金",
    "unarrived": "未到位资金",
    "unspent": "已到位未支出资金",
    "recovered": "被收回资金",
}
CELL_MEASURES = ("planned", "received", "spent", "carried_forward", "recovered", "transfers_in", "transfers_out")


@dataclasses.dataclass(frozen=True)
class Cause:
    key: str
    heading: str
    codes: tuple[str, ...]
    when: Mapping[str, str]
    recommendation: str
    order: int


@functools.cache
def causes() -> dict[str, Cause]:
    """The categories of ``causes.yaml``, in file order."""
    data = yaml.safe_load(CAUSES_FILE.read_text(encoding="utf-8"))
    out = {}
    for n, (key, c) in enumerate(data.items()):
        out[key] = Cause(
            key, c["heading"], tuple(c["codes"]), dict(c.get("when") or {}), c["recommendation"].strip(), n
        )
    return out


def load_recommendations(evaluation_folder: Path | None = None) -> dict[str, str]:
    """Category → generated recommendation, overridden by the evaluation's ``recommendations.yaml``.

    A key of the override file is a category or a finding code (standing for its category).
    """
    texts = {key: c.recommendation for key, c in causes().items()}
    path = None if evaluation_folder is None else Path(evaluation_folder) / "recommendations.yaml"
    if path is not None and path.is_file():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise ValueError(f"{path}: 应为“问题类别或发现编码: 建议文字”的映射 / expected category → text")
        by_code = {code: key for key, c in causes().items() for code in c.codes}
        for key, text in data.items():
            texts[by_code.get(str(key), str(key))] = text.strip()
    return texts


@dataclasses.dataclass(frozen=True)
class Money:
    """A problem's money, each measure counted once over the union of its cells (分)."""

    by_measure: Mapping[str, int]
    # (finding id, ids of findings whose cells equal or sit inside its own, measure): the same money
    same: tuple[tuple[str, tuple[str, ...], str], ...]
    unlinked_fen: int  # money at stake of findings without lineage cells (summed as given)

    @property
    def at_stake(self) -> int:
        """What ranks problems: not arrived + arrived but not spent; else the planned funds concerned."""
        flow = self.by_measure.get("unarrived", 0) + max(
            self.by_measure.get("unspent", 0), self.by_measure.get("recovered", 0)
        )
        return (flow or self.by_measure.get("planned", 0)) + self.unlinked_fen


@dataclasses.dataclass(frozen=True)
class Problem:
    heading: str
    findings: pd.DataFrame  # the findings it explains, in report order
    cause: str  # its category; for an evaluator's problem the category of its most severe finding
    narrative: NarrativeProblem | None  # the evaluator's words, when the narrative wrote or attached them
    money: Money

    @property
    def severity(self) -> str:
        if self.findings.empty:
            return "medium"  # a problem only the evaluator sees
        return str(min(self.findings["severity"], key=SEVERITY_RANK.__getitem__))

    @property
    def points_lost(self) -> Decimal:
        """Points the problem's indicators lost, each indicator once (an unmet target and its realism finding share them)."""
        lost = {
            s: Decimal(p)
            for s, p, t in zip(self.findings["subject"], self.findings["points_lost"], self.findings["subject_type"])
            if p and t == "indicator"
        }
        return sum(lost.values(), Decimal(0))

    @property
    def by_evaluator(self) -> bool:
        """Written by the evaluator (not a generated problem the evaluator only added words to)."""
        return (
            self.narrative is not None
            and self.heading == self.narrative.heading
            and (bool(self.narrative.selectors) or self.heading not in {c.heading for c in causes().values()})
        )


@dataclasses.dataclass(frozen=True)
class Grouping:
    problems: tuple[Problem, ...]
    appendix_only: pd.DataFrame  # findings in no problem: categories whose findings are all 低
    unmatched: tuple[str, ...]  # narrative selectors that matched no finding


def category(
    findings: pd.DataFrame, indicator_status: Mapping[str, str], subproject_status: Mapping[str, str]
) -> pd.Series:
    """The category (cause key) of every finding, by its code and, where a category says so, its subject."""
    out = pd.Series(OTHER, index=findings.index, dtype=object)
    for key, c in reversed(list(causes().items())):  # the first category listing a code wins
        for code in c.codes:
            hit = findings["code"] == code
            cond = c.when.get(code)
            if cond:
                hit &= findings["subject"].map(
                    functools.partial(_holds, cond, indicators=indicator_status, subprojects=subproject_status)
                )
            out[hit] = key
    return out


def _holds(cond: str, subject: str, indicators: Mapping[str, str], subprojects: Mapping[str, str]) -> bool:
    if cond in ("met", "not_met"):
        return (indicators.get(subject) == "met") == (cond == "met")
    if cond in ("completed", "not_completed"):
        return (subprojects.get(subject) == "completed") == (cond == "completed")
    raise ValueError(f"causes.yaml: unknown condition {cond!r}")


def group(
    findings: pd.DataFrame,
    narrative: Narrative,
    indicator_status: Mapping[str, str],
    subproject_status: Mapping[str, str],
    cells: pd.DataFrame | None = None,
    finding_cells: pd.DataFrame | None = None,
) -> Grouping:
    """Problems in rank order, the findings left to the appendix, and selectors that matched nothing."""
    df = findings.reset_index(drop=True)
    cat = category(df, indicator_status, subproject_status)
    owner = pd.Series(-1, index=df.index)  # index of the narrative problem that claims each finding
    unmatched: list[str] = []
    selectors = [(n, s) for n, p in enumerate(narrative.problems) for s in p.selectors]
    # A finding id is more specific than a code or a category, so it claims first, whatever the order.
    for n, s in sorted(selectors, key=lambda t: ":" not in t[1]):
        hit = (df["finding_id"] == s) | (df["code"] == s) | (cat == s)
        if not hit.any():
            unmatched.append(s)
        owner[hit & (owner < 0)] = n

    money = _Money(cells, finding_cells)
    problems: list[Problem] = []
    attached = {p.heading: p for p in narrative.problems if not p.selectors}  # by a generated heading
    appendix = []
    rest = df[owner < 0]
    for key in dict.fromkeys(cat[rest.index]):
        mine = rest[cat[rest.index] == key]
        if (mine["severity"] == "low").all():
            appendix.append(mine)
            continue
        heading = causes()[key].heading if key in causes() else OTHER_HEADING
        problems.append(Problem(heading, mine, key, attached.pop(heading, None), money.of(mine)))
    for n, p in enumerate(narrative.problems):
        if p.selectors or p.heading in attached:  # written by the evaluator, or text the data cannot see
            mine = df[owner == n]
            problems.append(Problem(p.heading, mine, _main_category(mine, cat), p, money.of(mine)))
    # The evaluator's problems first, in the order written (their ranking is a judgement); then the
    # generated ones by what is at stake.
    order = {k: c.order for k, c in causes().items()}
    written = {id(p): n for n, p in enumerate(narrative.problems)}
    problems.sort(
        key=lambda p: (
            (0, written[id(p.narrative)])
            if p.by_evaluator
            else (1, SEVERITY_RANK[p.severity], -p.money.at_stake, -p.points_lost, order.get(p.cause, len(order)))
        )
    )
    left = pd.concat(appendix) if appendix else df.iloc[:0]
    return Grouping(tuple(problems), left.sort_index(), tuple(unmatched))


def _main_category(findings: pd.DataFrame, cat: pd.Series) -> str:
    if findings.empty:
        return OTHER
    worst = findings["severity"].map(SEVERITY_RANK)
    return str(cat[worst.idxmin()])


class _Money:
    """Money at stake counted once, from the lineage cells each finding concerns."""

    def __init__(self, cells: pd.DataFrame | None, finding_cells: pd.DataFrame | None) -> None:
        self.cells = None if cells is None or cells.empty else cells.set_index("key")
        links = finding_cells if finding_cells is not None else pd.DataFrame(columns=["finding_id", "cell"])
        # finding_id → the cell keys it concerns (both str columns; to_dict is typed dict[Hashable, Any])
        self.links = (
            cast(dict[str, frozenset[str]], links.groupby("finding_id")["cell"].agg(frozenset).to_dict())
            if len(links)
            else {}
        )

    def cells_of(self, f: Any) -> frozenset[str]:
        """The cells of f, a findings row (itertuples)."""
        linked = self.links.get(f.finding_id, frozenset())
        if linked or self.cells is None:
            return linked
        column = {"subproject": "subproject_code", "source": "source_code"}.get(f.subject_type)
        if column is None:
            return frozenset()
        return frozenset(self.cells.index[self.cells[column].astype(str) == str(f.subject)])

    def value(self, measure: str, keys: frozenset[str]) -> int:
        assert self.cells is not None  # only findings with cells have values
        c = self.cells.loc[sorted(keys), list(CELL_MEASURES)].astype("int64").sum()
        if measure == "unarrived":
            return int(c["planned"] - c["received"])
        if measure == "unspent":
            return int(c["received"] + c["transfers_in"] - c["transfers_out"] - c["spent"])
        return int(c[measure])

    def of(self, findings: pd.DataFrame) -> Money:
        sets: dict[str, dict[str, frozenset[str]]] = {}
        unlinked = 0
        for f in findings.itertuples(index=False):
            measure = MEASURE_OF_CODE.get(str(f.code))
            keys = self.cells_of(f) if measure and self.cells is not None else frozenset()
            if measure and keys:
                sets.setdefault(measure, {})[str(f.finding_id)] = keys
            elif not pd.isna(f.stake_fen):
                unlinked += int(cast(SupportsInt, f.stake_fen))  # stake_fen is Int64: a numpy integer here
        by_measure = {m: self.value(m, frozenset[str]().union(*s.values())) for m, s in sets.items()}
        if "recovered" in sets and "unspent" in sets:
            # recovered money was arrived and not spent: the outstanding total covers both
            by_measure["unspent"] = self.value(
                "unspent", frozenset[str]().union(*sets["unspent"].values(), *sets["recovered"].values())
            )
        return Money(by_measure, tuple(s for m, found in sets.items() for s in _same(m, found, findings)), unlinked)


def _same(
    measure: str, found: Mapping[str, frozenset[str]], findings: pd.DataFrame
) -> list[tuple[str, tuple[str, ...], str]]:
    """(finding id, the ids whose cells equal or sit inside its own, measure) for each covering finding."""
    out = []
    covered: set[str] = set()
    ids = sorted(found, key=lambda i: (-len(found[i]), list(findings["finding_id"]).index(i)))
    for a in ids:
        if a in covered:
            continue
        inside = [b for b in ids if b != a and b not in covered and found[b] <= found[a]]
        if inside:
            out.append((a, tuple(inside), measure))
            covered.update(inside)
    return out


def severity_counts(findings: pd.DataFrame) -> str:
    """“高 2 项、中 3 项” for the findings' severities, highest first."""
    counts = findings["severity"].value_counts()
    labels = {"high": "高", "medium": "中", "low": "低"}
    return "、".join(f"{labels[s]} {int(counts[s])} 项" for s in SEVERITIES if s in counts)


def finding_cells(funds_lineage: Path, scoring_lineage: Path, monitoring_lineage: Path | None = None) -> pd.DataFrame:
    """finding_id → cell key, from the stages' lineage: a finding's input rows and the cells those rows feed.

    The same pairs as from the unified lineage (:func:`pipeline.lineage.unify` renames the stages' tables
    to asset names; so does the query), read from the stages' edge tables (Parquet) in DuckDB, so that
    only the findings' edges and the cells' edges are read, never a whole table into pandas. The report
    does not wait for the unified lineage: its PDF is laid out while ``lineage`` is built.
    """
    import duckdb

    from pipeline.lineage import FUNDS_TABLES, SCORING_TABLES

    wanted = ("reconciliation_findings", "scoring_findings", "funds_cells")

    def renamed(param: str, names: dict[str, str]) -> str:
        """The stage's findings' and cells' edges, under asset names (a name not in ``names`` is one already)."""
        asset = {t: names.get(t, t) for t in (*names, *wanted)}
        kept = sorted(t for t, a in asset.items() if a in wanted)
        cases = " ".join(f"WHEN '{t}' THEN '{asset[t]}'" for t in kept)
        return (
            f"SELECT CASE CAST(output_table AS VARCHAR) {cases} END AS output_table, "
            "CAST(output_key AS VARCHAR) AS output_key, CAST(file AS VARCHAR) AS file, "
            f'CAST(sheet AS VARCHAR) AS sheet, CAST("row" AS BIGINT) AS "row" FROM read_parquet(${param}) '
            f"WHERE CAST(output_table AS VARCHAR) IN ({', '.join(repr(t) for t in kept)})"
        )

    stages = {"funds": (funds_lineage, FUNDS_TABLES), "scoring": (scoring_lineage, SCORING_TABLES)}
    if monitoring_lineage is not None:  # already under asset names
        stages["monitoring"] = (monitoring_lineage, {})
    edges = " UNION ALL ".join(renamed(name, names) for name, (_, names) in stages.items())
    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false")
        return con.execute(
            f"""
            WITH edges AS ({edges}),
                 found AS (SELECT * FROM edges WHERE output_table IN ('reconciliation_findings', 'scoring_findings')),
                 cells AS (SELECT * FROM edges WHERE output_table = 'funds_cells')
            SELECT DISTINCT found.output_key AS finding_id, cells.output_key AS cell
            FROM found JOIN cells ON found.file = cells.file AND found.sheet = cells.sheet AND found."row" = cells."row"
            ORDER BY finding_id, cell
            """,
            {name: str(path) for name, (path, _) in stages.items()},
        ).df()
