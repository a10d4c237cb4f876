"""Great Expectations 1.x suites on the validated and scored tables, declared as data.

Every table gets one suite (:func:`suites`), a list of :class:`Expect`: GX's expectation type, its
arguments and why it must hold. Submission kinds take theirs from the contract's field metadata
(ids, money, in-period dates, codes, enumerations), so those rules stay declared once; the fund and
score tables have theirs written out below. Parameters come from the evaluation (programme period,
plausible maximum amount, registers of codes) and from other tables: each fund level's column sums
must equal the by-source totals, exactly, as integers of 分.

:func:`run_suites` calls GX directly (dagster-ge supports only GX below 1.0): one ephemeral Data
Context per run, one pandas data source, and per table a dataframe asset, a whole-dataframe batch
definition, a validation definition and a Checkpoint (a Checkpoint hands one set of batch
parameters, so one dataframe, to all its validation definitions). Money stays integer 分: bounds
and sums on 分 columns use integer variants of GX's between-expectations, because GX itself turns
numeric bounds into floats. Score text such as "2.60" is compared as an exact ``Decimal``, and only
value by value: GX's column sum turns ``Decimal`` into float, so sums are asserted on 分 alone.

Data Docs are a local static site under ``OUT/<evaluation>/data_docs/``, rebuilt on every run. By
nature its pages carry the run's time and random ids (the manifest lists them without a hash), and
GX's pages would fetch their styling and scripts (Bootstrap, jQuery, Font Awesome) from the web;
:func:`pipeline.quality.offline.make_offline` rewrites them to need nothing from the network.
:func:`quality_rows` puts the same results in the report's data-quality appendix.

GX is imported only where it runs: importing it takes seconds. In a run, :func:`run_suites` runs in
the sidecar process (:mod:`pipeline.sidecar`), which imported GX while the first step read the
workbooks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import operator
import shutil
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np
import pandas as pd

from pipeline import expect as ex
from pipeline import fieldtypes
from pipeline.contract import KINDS, Kind
from pipeline.evaluation import Evaluation
from pipeline.expect import Expect
from pipeline.fieldtypes import Context
from pipeline.formats import parse_decimal
from pipeline.ingest.validate import Codes
from pipeline.quality.offline import make_offline
from pipeline.tables import MEASURES

DOCS_DIR = "data_docs"
DOCS_SITE = "local_site"
RATE = r"^-?\d+\.\d{2}$"  # percent with exactly two decimals, as formats.percent writes it
INDICATOR_STATUSES = ["met", "unmet", "not_collected"]
SOURCE_ROW = ("file", "sheet", "row")
PARTIAL_UNEXPECTED = 20  # failing values and rows kept per expectation
COLUMN_ARGS = ("column", "column_list", "column_A", "column_B")


@dataclasses.dataclass(frozen=True)
class Suite:
    """The expectations on one table; ``row_id`` names a failing row, ``decimals`` are exact-decimal text."""

    table: str
    expectations: tuple[Expect, ...]
    row_id: tuple[str, ...]
    decimals: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.table}_suite"

    def frame(self, df: pd.DataFrame) -> pd.DataFrame:
        """The table as GX sees it: exact-decimal text parsed to ``Decimal`` so it compares as numbers."""
        if not self.decimals:
            return df
        out = df.copy()
        for c in self.decimals:
            out[c] = out[c].map(lambda v: None if pd.isna(v) else parse_decimal(v))
        return out


@dataclasses.dataclass
class SuiteResult:
    """The outcome of one suite; ``failures`` is JSON-able, docs paths are relative to the output folder."""

    name: str
    table: str
    success: bool
    statistics: dict[str, int]  # evaluated, successful, unsuccessful
    failures: list[dict[str, Any]]  # expectation, kwargs, where, why, observed, unexpected_count, rows, error
    docs_page: str  # the validation's Data Docs page
    docs_index: str  # the Data Docs site's index.html
    ran_ahead: bool = False  # run before data_quality, as the table was stored (advance_suites)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# --- Declarations ---------------------------------------------------------------------------------


def _at_least(column_a: str, column_b: str, why: str) -> Expect:
    return Expect(
        "expect_column_pair_values_a_to_be_greater_than_b",
        {"column_A": column_a, "column_B": column_b, "or_equal": True},
        why,
    )


def _sum_is(column: str, total: int, why: str) -> Expect:
    return Expect(
        "expect_column_integer_sum_to_be_between", {"column": column, "min_value": total, "max_value": total}, why
    )


def _rate(column: str) -> Expect:
    return ex.matches(
        column, RATE, "率以百分数两位小数文本保存 / rates are percent text with two decimals (empty where undefined)"
    )


def submission_suite(kind: Kind, ev: Evaluation, codes: Codes, columns: Sequence[str]) -> Suite:
    """A submission kind's rules: the id's, then each field's, as its type declares them."""
    ctx = Context(evaluation=ev, codes=codes)
    out: list[Expect] = []
    if kind.id_column:
        assert kind.unique_key is not None  # a kind with an id column has a unique key
        out += [
            ex.not_null(kind.id_column, "每行须有编号 / every row has an id"),
            ex.unique(kind.unique_key, "编号不重复（旗县区按报送单位）/ ids are unique (per submitter for counties)"),
        ]
    for name, col in kind.columns.items():
        out += fieldtypes.of(col).expectations(name, col, ctx, list(columns))
    return Suite(kind.name, tuple(out), SOURCE_ROW)


def funds_suite(table: str, keys: Sequence[str], columns: Sequence[str], totals: Mapping[str, int] | None) -> Suite:
    """A reconciliation level: a unique key, integer 分 measures, and column sums equal to the by-source totals."""
    money = [c for c in (*MEASURES, "transfers_in", "transfers_out", "balance") if c in columns]
    out = [ex.not_null("key", "每行有键 / every row has a key"), ex.unique(["key"], "键不重复 / keys are unique")]
    if len(keys) > 1:
        out.append(ex.unique(keys, "维度组合不重复 / each combination appears once"))
    out += [ex.not_null(m, "金额必填 / measures are never empty") for m in money if m in MEASURES]
    out += [ex.integer(m, "金额为整数分 / money is integer 分") for m in money]
    if totals is not None:
        out += [
            _sum_is(
                m, int(totals[m]), f"合计等于按资金来源汇总 / the column sums to the by-source total of {m}, exactly"
            )
            for m in MEASURES
        ]
    out += [_rate(c) for c in ("arrival_rate", "execution_rate") if c in columns]
    return Suite(table, tuple(out), ("key",))


def by_source_suite(ev: Evaluation, columns: Sequence[str]) -> Suite:
    base = funds_suite("funds_by_source", ["source_code"], columns, None)
    extra = (
        ex.in_set("source_code", list(ev.sources), "资金来源在评价元数据中 / sources are those of evaluation.yaml"),
        *(ex.between(m, 0, why="汇总金额不为负 / totals are never negative") for m in MEASURES),
    )
    return dataclasses.replace(base, expectations=base.expectations + extra)


def score_suite(table: str, cap: str, cap_zh: str, zh: str, en: str, extra: tuple[Expect, ...] = ()) -> Suite:
    """A score table: one row per framework and code; each score a number from 0 to its ``cap`` column."""
    return Suite(
        table,
        (
            ex.unique(["framework", "code"], f"每个框架中{zh}只出现一次 / one row per framework and {en}"),
            ex.not_null(cap, f"每个{zh}有{cap_zh} / every {en} has its {cap}"),
            ex.not_null("score", f"每个{zh}有得分 / every {en} has a score"),
            ex.between("score", 0, why="得分不为负 / a score is never negative"),
            _at_least(cap, "score", f"得分不超过{cap_zh} / a score never exceeds its {cap}"),
            *extra,
        ),
        ("framework", "code"),
        decimals=(cap, "score"),
    )


SCORE_TABLES = {
    "indicator_scores": (
        "points",
        "分值",
        "三级指标",
        "indicator",
        (
            ex.in_set(
                "status",
                INDICATOR_STATUSES,
                "完成状态为 met、unmet、not_collected 或空 / status is met, unmet, not_collected or empty",
            ),
        ),
    ),
    "dimension_scores": ("weight", "权重", "一级指标", "dimension", ()),
}


FUND_LEVELS = {
    "funds_cells": ["subproject_code", "source_code", "county_code"],
    "funds_by_subproject": ["subproject_code"],
    "funds_by_group": ["group_code"],
    "funds_by_county": ["county_code"],
}


def suites(tables: Mapping[str, pd.DataFrame], ev: Evaluation, indicators: list[str] | None = None) -> list[Suite]:
    """One suite per table present: submission kinds, then fund levels, then scores.

    The register of indicator codes is the scored indicators' (``indicator_scores``), or ``indicators``
    when given (:func:`advance_suites`, before the scores exist).
    """

    def column(table: str, col: str) -> list[str]:
        return list(dict.fromkeys(tables[table][col])) if table in tables else []

    if indicators is None:
        indicators = column("indicator_scores", "code")
    codes = Codes.for_evaluation(ev, column("subprojects", "subproject_code"), indicators)
    out = [
        submission_suite(kind, ev, codes, list(tables[name].columns)) for name, kind in KINDS.items() if name in tables
    ]
    by_source = tables.get("funds_by_source")
    if by_source is not None:
        out.append(by_source_suite(ev, list(by_source.columns)))
    totals = {m: int(by_source[m].sum()) for m in MEASURES} if by_source is not None else None
    out += [
        funds_suite(name, keys, list(tables[name].columns), totals)
        for name, keys in FUND_LEVELS.items()
        if name in tables
    ]
    out += [score_suite(name, *spec) for name, spec in SCORE_TABLES.items() if name in tables]
    return out


# --- Running with GX ------------------------------------------------------------------------------

LONG_VALUE_SET = 50  # a value set longer than this is cut to the values present (_as_given)
_OPERATORS = {"<": operator.lt, "<=": operator.le, "==": operator.eq, ">=": operator.ge, ">": operator.gt}


@dataclasses.dataclass
class _Session:
    """One run's GX context part way through its suites: what :func:`advance_suites` keeps for the next call."""

    key: str
    out_dir: Path
    context: Any
    source: Any
    run_id: Any
    frames: dict[str, pd.DataFrame]  # the tables the suites so far validated
    ran: list[tuple[Suite, dict[str, tuple[int, Expect]], Any, Any]] = dataclasses.field(default_factory=list)

    @property
    def suites(self) -> list[Suite]:
        return [suite for suite, *_ in self.ran]

    def run(self, suite: Suite, tables: Mapping[str, pd.DataFrame]) -> None:
        """Validate one table against its suite, as a one-validation Checkpoint."""
        import great_expectations as gx

        table = tables[suite.table]
        frame = suite.frame(table)
        gx_suite = self.context.suites.add(
            gx.ExpectationSuite(
                name=suite.name, expectations=[_gx_expectation(_as_given(e, frame)) for e in suite.expectations]
            )
        )
        declared = {g.id: (i, e) for i, (g, e) in enumerate(zip(gx_suite.expectations, suite.expectations))}
        batch = self.source.add_dataframe_asset(suite.table).add_batch_definition_whole_dataframe("whole table")
        validation = self.context.validation_definitions.add(
            gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite)
        )
        checkpoint = self.context.checkpoints.add(
            gx.Checkpoint(
                name=suite.name,
                validation_definitions=[validation],
                actions=[],
                result_format={
                    "result_format": "SUMMARY",
                    "partial_unexpected_count": PARTIAL_UNEXPECTED,
                    "unexpected_index_column_names": list(suite.row_id),
                },
            )
        )
        outcome = checkpoint.run(batch_parameters={"dataframe": frame}, run_id=self.run_id)
        ((identifier, result),) = outcome.run_results.items()
        self.frames[suite.table] = table
        self.ran.append((suite, declared, identifier, result))

    def build_docs(self) -> None:
        """Write the site: every validation of the session, its index, offline."""
        self.context.build_data_docs(site_names=[DOCS_SITE])
        make_offline(self.out_dir / DOCS_DIR)

    def continues(
        self, key: str | None, out_dir: Path, planned: list[Suite], tables: Mapping[str, pd.DataFrame]
    ) -> bool:
        """Whether the suites run so far are the first of ``planned``, on the same tables, for the same run."""
        done = self.suites
        return (
            key == self.key
            and Path(out_dir) == self.out_dir
            and planned[: len(done)] == done
            and all(
                t in tables and list(tables[t].columns) == list(df.columns) and tables[t].equals(df)
                for t, df in self.frames.items()
            )
        )


_held: list[_Session] = []  # the session advance_suites left for this run's next call (in the sidecar: one at a time)


def _open(key: str | None, out_dir: Path, evaluation: Evaluation) -> _Session:
    """A new ephemeral GX context whose Data Docs site is ``out_dir / "data_docs"`` (emptied)."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    docs = Path(out_dir) / DOCS_DIR
    shutil.rmtree(docs, ignore_errors=True)  # the site shows this run only
    context = gx.get_context(
        mode="ephemeral",
        project_config=DataContextConfig(
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        ),
    )
    context.add_data_docs_site(
        DOCS_SITE,
        {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,  # type: ignore[typeddict-unknown-key]  # SiteBuilder takes it; not in GX's type
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs.resolve())},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    source = context.data_sources.add_pandas(evaluation.id)
    run_id = RunIdentifier(run_name=evaluation.id)
    return _Session(key or "", Path(out_dir), context, source, run_id, {})


def advance_suites(key: str, paths: Mapping[str, Path], out_dir: Path, evaluation: Evaluation) -> int:
    """Run the suites of some tables ahead of :func:`run_suites` (their Parquet files, ``paths`` by table).

    A run's tables are final as soon as their step has stored them: the submission tables after
    ``validated_submissions``, the fund levels after ``fund_reconciliation``, the scores after
    ``indicator_scoring``. Each hands its tables here (in the sidecar) while the run goes on, and the
    session is kept: the next call with the same ``key`` carries on from it, and so does
    :func:`run_suites`, when the suites so far are the first of its own on the same tables. Otherwise
    the session is dropped and :func:`run_suites` starts over: the outcome and the Data Docs are those
    of one pass either way, the suites running in the same order in one context. Before the scores
    exist, the register of indicator codes is the frameworks' (``evaluation.indicator_codes``);
    :func:`run_suites` checks it against the scored indicators'. Returns how many suites have run.
    """
    from pipeline import store

    held = _held.pop() if _held else None
    if held is not None and held.key != key:
        held = None
    tables = {name: store.read_table(Path(path)) for name, path in paths.items()}
    if held is not None:
        tables = {**held.frames, **tables}
    indicators = None if "indicator_scores" in tables else evaluation.indicator_codes
    planned = suites(tables, evaluation, indicators=indicators)
    session = held
    if session is not None and not session.continues(key, out_dir, planned, tables):
        return 0  # dropped: run_suites starts over
    if session is None:
        session = _open(key, out_dir, evaluation)
    for suite in planned[len(session.ran) :]:
        session.run(suite, tables)
    _held.append(session)
    return len(session.ran)


def run_suites(
    tables: Mapping[str, pd.DataFrame],
    out_dir: Path,
    evaluation: Evaluation,
    key: str | None = None,
    docs: bool = True,
) -> list[SuiteResult]:
    """Validate every table that has a suite, write Data Docs under ``out_dir / "data_docs"``, return the outcomes.

    With the ``key`` of an earlier :func:`advance_suites` whose suites are the first of these, on the same
    tables, only the rest are run. With ``docs=False`` the Data Docs are left to :func:`build_docs` of the
    same key (the outcomes name their pages all the same), so the caller goes on while they are written.
    """
    planned = suites(tables, evaluation)
    held = _held.pop() if _held else None
    session = held if held is not None and held.continues(key, out_dir, planned, tables) else None
    if session is None:
        session = _open(key, out_dir, evaluation)
    ahead = len(session.ran)
    for suite in planned[ahead:]:
        session.run(suite, tables)
    if docs:
        session.build_docs()
    else:
        _held.append(session)
    context, ran = session.context, session.ran

    index = _relative(_url(context, None), out_dir)
    results = []
    for i, (suite, declared, identifier, result) in enumerate(ran):
        stats = result.statistics
        failed = sorted(
            (
                declared[r.expectation_config.id] + (r,)  # GX: expectation_config is always set here
                for r in result.results
                if not r.success
            ),
            key=lambda t: t[0],
        )
        failures = [_failure(e, r) for _, e, r in failed]
        results.append(
            SuiteResult(
                name=suite.name,
                table=suite.table,
                success=bool(result.success),
                statistics={
                    "evaluated": int(stats["evaluated_expectations"]),
                    "successful": int(stats["successful_expectations"]),
                    "unsuccessful": int(stats["unsuccessful_expectations"]),
                },
                failures=failures,
                docs_page=_relative(_url(context, identifier), out_dir),
                docs_index=index,
                ran_ahead=i < ahead,
            )
        )
    return results


def build_docs(key: str, tables: Mapping[str, pd.DataFrame], out_dir: Path, evaluation: Evaluation) -> None:
    """Write the Data Docs that :func:`run_suites` of the same ``key`` left (``docs=False``).

    Without that run's session (this is not the process that ran the suites: the sidecar died in between)
    the suites run again here, with their Data Docs: GX's outcome on the same tables is the same.
    """
    held = _held.pop() if _held else None
    if held is None or held.key != key or Path(out_dir) != held.out_dir:
        run_suites(tables, out_dir, evaluation)
        return
    held.build_docs()


def _url(context: Any, identifier: Any) -> str:
    """The Data Docs URL of a validation result (None: of the site's index), whether or not the site is built yet."""
    (page,) = context.get_docs_sites_urls(resource_identifier=identifier, site_name=DOCS_SITE, only_if_exists=False)
    url = page["site_url"]
    assert url is not None  # the site is configured
    return str(url)


@functools.cache
def _integer_expectations() -> list[type]:
    """GX's between-expectations with strict integer bounds, registered once per process.

    GX declares ``min_value``/``max_value`` as float-first unions, so an integer bound of 分 would
    become a float; these subclasses keep the bounds integers and compare exactly. (Built with
    ``type`` so pydantic sees real annotations, not this module's postponed strings.)
    """
    import great_expectations.expectations as gxe
    from great_expectations.compatibility.pydantic import StrictInt

    bounds = {
        "__annotations__": {"min_value": StrictInt | None, "max_value": StrictInt | None},
        "min_value": None,
        "max_value": None,
        "__module__": __name__,
    }
    return [
        type(
            "ExpectColumnIntegerValuesToBeBetween",
            (gxe.ExpectColumnValuesToBeBetween,),
            {**bounds, "__doc__": "Each value lies between two integers (inclusive), compared exactly."},
        ),
        type(
            "ExpectColumnIntegerSumToBeBetween",
            (gxe.ExpectColumnSumToBeBetween,),
            {**bounds, "__doc__": "The column's sum lies between two integers (inclusive), compared exactly."},
        ),
    ]


def _as_given(e: Expect, frame: pd.DataFrame) -> Expect:
    """``e`` as handed to GX: a long value set cut down to the values the column holds, which gives GX's same answer.

    A value is in the set exactly when it is in the set's part that the column holds, so every row passes
    or fails as before, with the same unexpected values. GX re-serialises an expectation's arguments a
    dozen times per validation: a register of 2,851 county codes in four small tables' suites cost 3 s of
    the national run's 5 s of suites. The report and ``failures`` keep the declared set (``Expect``); the
    Data Docs page shows the part GX was given.
    """
    value_set = e.kwargs.get("value_set")
    column = e.kwargs.get("column")
    if e.type != "expect_column_values_to_be_in_set" or not isinstance(value_set, list) or column not in frame:
        return e
    if len(value_set) <= LONG_VALUE_SET:
        return e
    present = set(frame[column].dropna().unique().tolist())
    given = [v for v in value_set if v in present] or value_set[:1]  # none present: any one value not in the column
    return dataclasses.replace(e, kwargs={**e.kwargs, "value_set": given})


def _gx_expectation(e: Expect):
    from great_expectations.expectations.registry import get_expectation_impl
    from great_expectations.expectations.row_conditions import Column

    _integer_expectations()
    kwargs = dict(e.kwargs)
    if e.where:
        name, op, value = e.where
        kwargs["row_condition"] = _OPERATORS[op](Column(name=name), value)
    return get_expectation_impl(e.type)(**kwargs, notes=e.why)


def _failure(e: Expect, r) -> dict[str, Any]:
    """A failed expectation as JSON: what was expected, what was observed, which rows."""
    res = r.result or {}
    out: dict[str, Any] = {
        "expectation": e.type,
        "kwargs": _json_safe(dict(e.kwargs)),
        "where": _json_safe(e.where),
        "why": e.why,
    }
    if "observed_value" in res:
        out["observed"] = _json_safe(res["observed_value"])
    else:
        out["observed"] = _json_safe(res.get("partial_unexpected_list", []))
        out["unexpected_count"] = _json_safe(res.get("unexpected_count"))
        out["rows"] = _json_safe(res.get("partial_unexpected_index_list", []))
    errors = _errors(r.exception_info)
    if errors:
        out["error"] = "; ".join(errors)
    return out


def _errors(info: Any) -> list[str]:
    """Exception messages from GX's exception_info: flat, or keyed by metric."""
    if not isinstance(info, dict):
        return []
    if "raised_exception" in info:
        return [str(info.get("exception_message"))] if info["raised_exception"] else []
    return [m for v in info.values() for m in _errors(v)]


def _relative(url: str, out_dir: Path) -> str:
    return Path(unquote(urlparse(url).path)).resolve().relative_to(Path(out_dir).resolve()).as_posix()


def _json_safe(value: Any) -> Any:
    """Values as JSON: integers stay integers (money is 分), Decimal stays exact text, dates ISO."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return [_json_safe(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, str):
        return value
    return str(value)


# --- The report's offline appendix ----------------------------------------------------------------


def quality_rows(results: Sequence[SuiteResult]) -> pd.DataFrame:
    """One row per suite (check, passed, detail) for the data-quality appendix; no run times or ids."""
    rows = []
    for r in results:
        s = r.statistics
        detail = f"{s['successful']}/{s['evaluated']} 项期望通过 / expectations met"
        if r.failures:
            detail += "；未通过 / failed: " + "；".join(_describe(f) for f in r.failures)
        rows.append({"check": f"{r.table}:expectations", "passed": bool(r.success), "detail": detail})
    return pd.DataFrame(rows, columns=["check", "passed", "detail"])


def not_run_row(table: str, rows: int, limit: int, contract_passed: bool) -> dict[str, Any]:
    """The appendix row of a submission table GX did not check again: its outcome is the pandera contract's, said so."""
    why = (
        "报送表默认不另行复核（expectations_max_submission_rows 为 0）"
        if limit == 0
        else f"{rows:,} 行，超过 expectations_max_submission_rows（{limit:,}）"
    )
    return {
        "check": f"{table}:expectations",
        "passed": contract_passed,
        "detail": f"未另行运行 Great Expectations：{why}；逐行规则已由 pandera 合同（阻断）校验，结论同 "
        f"{table}:contract / not run: the pandera contract already checked every row, blocking; its outcome stands",
    }


def _describe(f: Mapping[str, Any]) -> str:
    kw = f["kwargs"]
    columns = kw.get("column") or kw.get("column_list") or f"{kw.get('column_A')} ≥ {kw.get('column_B')}"
    text = f"{f['expectation'].removeprefix('expect_')}({', '.join(columns) if isinstance(columns, list) else columns})"
    if f.get("where"):
        text += f" where {' '.join(map(str, f['where']))}"
    if f.get("error"):
        return f"{text}: error {f['error']}"
    observed = f["observed"]
    if "unexpected_count" in f:
        shown = ", ".join(map(str, observed[:5])) + (" …" if len(observed) > 5 else "")
        return f"{text}: {f['unexpected_count']} 行 / rows, 观测值 / observed {shown}"
    expected = ", ".join(f"{k}={v}" for k, v in kw.items() if k not in COLUMN_ARGS)
    return f"{text}: 观测值 / observed {observed}（期望 / expected {expected}）"
