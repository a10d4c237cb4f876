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


def suites(tables: Mapping[str, pd.DataFrame], ev: Evaluation) -> list[Suite]:
    """One suite per table present: submission kinds, then fund levels, then scores."""

    def column(table: str, col: str) -> list[str]:
        return list(dict.fromkeys(tables[table][col])) if table in tables else []

    codes = Codes.for_evaluation(ev, column("subprojects", "subproject_code"), column("indicator_scores", "code"))
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


def run_suites(tables: Mapping[str, pd.DataFrame], out_dir: Path, evaluation: Evaluation) -> list[SuiteResult]:
    """Validate every table that has a suite, write Data Docs under ``out_dir / "data_docs"``, return the outcomes."""
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

    ran = []
    for suite in suites(tables, evaluation):
        frame = suite.frame(tables[suite.table])
        gx_suite = context.suites.add(
            gx.ExpectationSuite(
                name=suite.name, expectations=[_gx_expectation(_as_given(e, frame)) for e in suite.expectations]
            )
        )
        declared = {g.id: (i, e) for i, (g, e) in enumerate(zip(gx_suite.expectations, suite.expectations))}
        batch = source.add_dataframe_asset(suite.table).add_batch_definition_whole_dataframe("whole table")
        validation = context.validation_definitions.add(
            gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite)
        )
        checkpoint = context.checkpoints.add(
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
        outcome = checkpoint.run(batch_parameters={"dataframe": frame}, run_id=run_id)
        ((identifier, result),) = outcome.run_results.items()
        ran.append((suite, declared, identifier, result))

    index = _relative(context.build_data_docs(site_names=[DOCS_SITE])[DOCS_SITE], out_dir)
    make_offline(docs)
    results = []
    for suite, declared, identifier, result in ran:
        (page,) = context.get_docs_sites_urls(resource_identifier=identifier, site_name=DOCS_SITE)
        assert page["site_url"] is not None  # the site was built above
        stats = result.statistics
        failed = sorted(
            (
                declared[r.expectation_config.id] + (r,)  # type: ignore[union-attr]  # GX: always set here
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
                docs_page=_relative(page["site_url"], out_dir),
                docs_index=index,
            )
        )
    return results


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
    """The appendix row of a submission table too large for GX: its outcome is the pandera contract's, said so."""
    return {
        "check": f"{table}:expectations",
        "passed": contract_passed,
        "detail": f"未另行运行 Great Expectations：{rows:,} 行，超过 expectations_max_submission_rows（{limit:,}）；"
        f"逐行规则已由 pandera 合同（阻断）校验，结论同 {table}:contract / not run: the pandera contract "
        "already checked every row, blocking; its outcome stands",
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
