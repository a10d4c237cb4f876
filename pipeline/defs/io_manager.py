"""Each run's tables go to its own output set as Parquet; the next step reads them back from there.

``OUT/.sets/<evaluation_id>/<run_id>/tables/<asset>.parquet`` holds a table asset, and small
non-table values (dicts) are sorted JSON under ``values/<asset>.json``. An input the run did
not produce itself (a run of some assets only) is read from the evaluation's published set.
``pipeline.duckdb`` and the CSV exports are written once, when the run's set is finished
(``pipeline.outputs.finalize``), not per step; a run that will finish its set has each table loaded
into the database, and exported, as it is written, on a background thread (``pipeline.store.build_early``).
"""

import json
from collections.abc import Sequence
from pathlib import Path

import dagster as dg
import pandas as pd

from pipeline import outputs, progress, store
from pipeline.defs.resources import PipelinePaths
from pipeline.files import atomic_write
from pipeline.memory import release_memory

TEXT_AS_CATEGORY = "text_as_category"  # input metadata: read the table's text columns as categoricals
COLUMNS = "columns"  # input metadata: read these columns of the table (those it has), in this order, and no other
# Output metadata: what the table's rows are made of (the ingest's kinds: ``partials.content_key``). A table
# whose key the published set holds is that set's file, linked (``store.write_table``).
CONTENT_KEY = "content_key"
_last_step = [""]  # the step whose inputs were loaded last, in this process


class EvaluationIOManager(dg.ConfigurableIOManager):
    """Stores each partition's (evaluation's) assets in the run's output set."""

    paths: PipelinePaths

    def handle_output(self, context: dg.OutputContext, obj) -> None:
        evaluation_id, name = context.asset_partition_key, context.asset_key.path[-1]
        progress.current().step(context.step_key)
        folder = self.paths.run_dir(evaluation_id, context.run_id)
        if isinstance(obj, pd.DataFrame):
            # Intermediate tables that a unified table repeats (the stages' lineage) get no CSV export.
            export = (context.definition_metadata or {}).get("csv_export", True)
            previous = outputs.published(Path(self.paths.out_root), evaluation_id)
            content = (context.output_metadata or {}).get(CONTENT_KEY)
            content = getattr(content, "value", content)  # a TextMetadataValue, or the text itself
            path = store.write_table(
                folder, name, obj, csv_export=export, content_key=content if content else None, previous=previous
            )
            if _finishes_set(context):
                store.build_early(folder, path, previous)
        else:
            path = folder / "values" / f"{name}.json"
            path.parent.mkdir(exist_ok=True)
            atomic_write(
                path, (json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n").encode()
            )
        outputs.record(folder, name, [path.relative_to(folder).as_posix()])

    def load_input(self, context: dg.InputContext):
        evaluation_id, name = context.asset_partition_key, context.asset_key.path[-1]
        step = context.step_context.step.key
        if step != _last_step[0]:  # the first input of a step: the step before it has ended
            _last_step[0] = step
            release_memory()
        progress.current().step(step)
        # An input declared with ``TEXT_AS_CATEGORY`` (an edge table, millions of rows and a few thousand
        # distinct texts) comes as categoricals straight from Parquet's dictionaries: no Python string per cell.
        declared = context.definition_metadata or {}
        as_category = bool(declared.get(TEXT_AS_CATEGORY))
        columns = declared.get(COLUMNS)
        return load(Path(self.paths.out_root), evaluation_id, context.step_context.run_id, name, as_category, columns)


def load(
    out_root: Path,
    evaluation_id: str,
    run_id: str,
    name: str,
    text_as_category: bool = False,
    columns: Sequence[str] | None = None,
):
    """An asset's value as an input of a step receives it: a table (DataFrame) or a dict (see :func:`stored`)."""
    path = stored(out_root, evaluation_id, run_id, name)
    if path.suffix == ".parquet":
        return store.read_table(path, text_as_category=text_as_category, columns=columns)
    return json.loads(path.read_text(encoding="utf-8"))


def _finishes_set(context: dg.OutputContext) -> bool:
    """Whether this run ends by finishing its set (it runs ``run_manifest``), which then writes ``pipeline.duckdb``."""
    try:
        plan = context.step_context.execution_plan
    except dg.DagsterInvariantViolationError:  # an output context built outside a run (a test)
        return False
    return "run_manifest" in plan.step_keys_to_execute


def stored(out_root: Path, evaluation_id: str, run_id: str, name: str) -> Path:
    """Where an asset's value is: the run's own set first, then the evaluation's published set."""
    run_set = outputs.sets_dir(out_root, evaluation_id) / run_id
    for folder in (run_set, outputs.published(out_root, evaluation_id)):
        if folder is None:
            continue
        for path in (folder / store.TABLES / f"{name}.parquet", folder / "values" / f"{name}.json"):
            if path.is_file():
                return path
    raise dg.Failure(
        f"评价 {evaluation_id} 还没有 {name} 的结果；请先物化上游资产 / "
        f"asset {name} of evaluation {evaluation_id} has not been materialised yet"
    )
