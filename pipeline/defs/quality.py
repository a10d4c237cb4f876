"""Which tables Great Expectations gets in ``data_quality``, and their suites started as the tables are stored.

``data_quality`` runs GX on the result tables (:data:`RESULT_TABLES`), and on a submission table only
when the evaluation asks for it (``settings.expectations_max_submission_rows``, 0 by default): the
pandera contract has checked its every row already, blocking, and a table not checked again takes
that outcome. Each of those tables is final once its step has stored it, so the step hands
its suites to the sidecar at once (:func:`advance_suites`): the submission tables from
``validated_submissions``, the fund levels from ``fund_reconciliation``, the scores from
``indicator_scoring``. The sidecar runs them while the run goes on, and ``data_quality`` (which the
run executes after the other steps that are ready, ``dagster/priority`` −1) finds them done:
:func:`pipeline.quality.expectations.run_suites` carries on from the same run's session when its
suites and tables agree, and starts over otherwise. Measured on the Hohhot evaluation, the sidecar
had been idle for 2.6 s between importing GX and being given the suites.

In a run that finishes its set, ``data_quality`` takes the outcomes without waiting for the Data Docs:
the sidecar writes them after the report's PDF (``sidecar.submit(..., after_next=True)``), while this
process finishes the report, and ``run_manifest`` waits for them (:func:`wait_for_docs`) before the
set is finished.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
import pandas as pd
import pyarrow.parquet as pq

from pipeline import sidecar
from pipeline.contract import KINDS
from pipeline.defs.io_manager import stored
from pipeline.defs.resources import PipelinePaths
from pipeline.evaluation import Evaluation

if TYPE_CHECKING:  # the suites' module is imported where they run, not when the code location loads
    from pipeline.quality.expectations import SuiteResult

SUBMISSION_TABLES = list(KINDS)
FUND_TABLES = ["funds_by_source", "funds_by_subproject", "funds_by_group", "funds_by_county", "funds_cells"]
SCORE_TABLES = ["indicator_scores", "dimension_scores"]
RESULT_TABLES = FUND_TABLES + SCORE_TABLES
# The step tag that orders the steps ready at once (higher first; Dagster's default is 0).
RUN_AFTER_READY_STEPS = {"dagster/priority": "-1"}

_docs: dict[str, sidecar.Pending[None]] = {}  # Data Docs being written in the sidecar, by session key


def submission_tables(
    paths: PipelinePaths, evaluation: Evaluation, run_id: str
) -> tuple[dict[str, Path], dict[str, int]]:
    """The stored submission tables GX checks again (by kind), and the row counts of the others.

    ``settings.expectations_max_submission_rows``: 0 checks none again, N those of at most N rows.
    """
    limit = evaluation.settings.expectations_max_submission_rows
    checked, not_checked = {}, {}
    for t in SUBMISSION_TABLES:
        path = stored(Path(paths.out_root), evaluation.id, run_id, t)
        rows = pq.read_metadata(path).num_rows
        if limit == 0 or rows > limit:
            not_checked[t] = rows
        else:
            checked[t] = path
    return checked, not_checked


def session_key(context: dg.AssetExecutionContext) -> str:
    """What ties the suites started early to the ``data_quality`` step of the same run and evaluation."""
    return f"{context.run.run_id}/{context.partition_key}"


def advance_suites(
    context: dg.AssetExecutionContext, paths: PipelinePaths, evaluation: Evaluation, tables: Iterable[str] | None
) -> bool:
    """Hand the suites of these stored tables (None: the submission tables GX checks) to the sidecar now.

    Only when this run's ``data_quality`` will want them and a sidecar runs (in this process they
    would hold up the run instead); returns whether they were handed over. Nothing waits for the
    outcome here: ``data_quality`` carries on from it, or starts over.
    """
    from pipeline.quality.expectations import advance_suites as advance

    if not sidecar_serves(context, "data_quality"):
        return False
    run_id = context.run.run_id
    if tables is None:
        found, _ = submission_tables(paths, evaluation, run_id)
    else:
        found = {t: stored(Path(paths.out_root), evaluation.id, run_id, t) for t in tables}
    if not found:
        return False
    sidecar.submit(advance, session_key(context), found, paths.run_dir(evaluation.id, run_id), evaluation)
    return True


def sidecar_serves(context: dg.AssetExecutionContext, step: str) -> bool:
    """Whether work this step hands the sidecar now is collected by ``step`` later in this run, in this process.

    Otherwise the work would hold the step up (no sidecar: it runs in this process) or be lost.
    """
    return _will_run(context, step) and _one_process() and sidecar.running()


def will_run_here(context: dg.AssetExecutionContext, *steps: str) -> bool:
    """Whether one of ``steps`` runs later in this run, in this process (so what this step begins, it can take)."""
    return _one_process() and any(_will_run(context, step) for step in steps)


def _one_process() -> bool:
    """Whether the run's steps share this process, and so its sidecar (the code location's in-process executor).

    A step process of the multiprocess executor is a child that multiprocessing started; its sidecar
    ends with the step, which would first wait for suites no later step can collect.
    """
    return multiprocessing.parent_process() is None


def _will_run(context: dg.AssetExecutionContext, step: str) -> bool:
    return step in context.get_step_execution_context().execution_plan.step_keys_to_execute


def run_suites(
    context: dg.AssetExecutionContext, tables: dict[str, pd.DataFrame], out: Path, evaluation: Evaluation
) -> list[SuiteResult]:
    """``data_quality``'s suites (the rest of them, see :func:`advance_suites`), in the sidecar, and their outcomes.

    When the run finishes its set, the Data Docs are written behind the sidecar's next work (the
    report's PDF), and ``run_manifest`` waits for them (:func:`wait_for_docs`); otherwise before.
    """
    from pipeline.quality.expectations import build_docs
    from pipeline.quality.expectations import run_suites as run

    key = session_key(context)
    later = sidecar.running() and _will_run(context, "run_manifest")
    results = sidecar.submit(run, tables, out, evaluation, key, not later).result()
    # The sidecar's next work is the report's PDF: it imports WeasyPrint while this process builds the page.
    sidecar.warm("weasyprint")
    if later:
        _docs[key] = sidecar.submit(build_docs, key, tables, out, evaluation, after_next=True)
    return results


def wait_for_docs(context: dg.AssetExecutionContext) -> None:
    """Wait for the Data Docs that this run's ``data_quality`` left to the sidecar (none: return at once)."""
    pending = _docs.pop(session_key(context), None)
    if pending is not None:
        pending.result()
