"""Output sets: a run of some assets only (as the UI's "Materialize" on one asset) still publishes a whole set.

After a full run, the evaluator edits the narrative and re-materialises only ``evaluation_report``.
Its inputs come from the published set; when the run succeeds, ``publish_partial_runs`` carries
the other assets' files over (hard links, same bytes), rebuilds DuckDB, CSVs and the manifest,
and publishes: the new report, everything else the previous run's, all described by the manifest.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import dagster as dg

from tests.support import HOHHOT, RAW


def manifest_holds(folder: Path) -> dict:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for rel, digest in manifest["outputs"].items():
        assert hashlib.sha256((folder / rel).read_bytes()).hexdigest() == digest, rel
    return manifest


def test_a_run_of_one_asset_publishes_a_whole_set(tmp_path, instance, monkeypatch):
    from pipeline import store
    from pipeline.definitions import defs
    from pipeline.defs.io_manager import EvaluationIOManager
    from pipeline.defs.resources import PipelinePaths
    from pipeline.defs.sensors import publish_partial_runs
    from pipeline.materialize import materialize_evaluation

    finished_early: list[int] = []  # per database finished from the early load: the tables loaded during the run
    finish = store._EarlyDatabase.finish

    def counted(self):
        finished_early.append(len(self.loaded))
        return finish(self)

    monkeypatch.setattr(store._EarlyDatabase, "finish", counted)
    raw, out = tmp_path / "raw", tmp_path / "out"
    shutil.copytree(RAW / HOHHOT, raw / HOHHOT)
    full = materialize_evaluation(HOHHOT, raw_root=str(raw), out_root=str(out), dagster_instance=instance)
    assert full.success
    # The full run loaded its tables into pipeline.duckdb as it wrote them; the partial run below does not
    # finish its set itself (the sensor does, in its own process), so it starts no early database.
    assert len(finished_early) == 1 and finished_early[0] >= 40
    # Every GX suite ran in the sidecar as its table was stored; data_quality only collected the outcomes,
    # and the Data Docs, written after the report's PDF, were there before the set was published. By default
    # GX checks the result tables (fund levels, scores: 7 suites), not the submission tables pandera checked.
    quality = instance.get_latest_materialization_event(dg.AssetKey("data_quality")).asset_materialization
    assert quality.metadata["gx_suites_ran_ahead"].value == quality.metadata["gx_suites"].value >= 7
    # The report was begun by report_layout (its PDF laid out while lineage was built), in the order the
    # steps' priorities give.
    report = instance.get_latest_materialization_event(dg.AssetKey("evaluation_report")).asset_materialization
    assert report.metadata["begun_in"].value == "report_layout"
    # The findings' cells (a query of the stages' lineage) were queried beside the findings step, not by the layout.
    layout = instance.get_latest_materialization_event(dg.AssetKey("report_layout")).asset_materialization
    assert layout.metadata["finding_cells_from"].value == "findings"
    # What the submission tables were made from: the digest an auditor recomputes from submission_inventory.csv.
    inventory = instance.get_latest_materialization_event(dg.AssetKey("submission_inventory")).asset_materialization
    rows = (out / HOHHOT / "submission_inventory.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    lines = sorted(f"{r.split(',')[0]}\t{r.split(',')[1]}\n" for r in rows)
    assert inventory.metadata["input_digest"].value == hashlib.sha256("".join(lines).encode()).hexdigest()
    assert inventory.metadata["input_files"].value == len(rows) == len(inventory.metadata["input_sha256"].value)
    steps = [
        e.step_key
        for e in instance.all_logs(instance.get_runs(limit=1)[0].run_id, of_type=dg.DagsterEventType.STEP_START)
        if e.step_key in ("data_quality", "report_layout", "lineage", "evaluation_report")
    ]
    assert steps == ["data_quality", "report_layout", "lineage", "evaluation_report"]
    before = (out / HOHHOT).resolve()
    assert (before / "data_docs" / "index.html").is_file()
    old = manifest_holds(before)

    narrative = raw / HOHHOT / "narrative.md"
    narrative.write_text(
        narrative.read_text(encoding="utf-8") + "\n评价组补充：本段为局部重算的检验。\n", encoding="utf-8"
    )
    paths = PipelinePaths(raw_root=str(raw), out_root=str(out))
    result = dg.materialize(
        list(defs.assets),
        selection=["evaluation_report"],
        instance=instance,
        partition_key=HOHHOT,
        resources={"paths": paths, "io_manager": EvaluationIOManager(paths=paths)},
    )
    assert result.success
    # Alone, the report lays itself out from its inputs as stored.
    report = result.asset_materializations_for_node("evaluation_report")[0]
    assert report.metadata["begun_in"].value == "evaluation_report"
    assert report.metadata["finding_cells_from"].value == "here"  # no findings step in this run began the query
    assert (out / HOHHOT).resolve() == before  # nothing is published until the run's set is whole
    assert not store._early and len(finished_early) == 1

    with dg.build_run_status_sensor_context(
        sensor_name="publish_partial_runs",
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=result.get_run_success_event(),
        resources={"paths": paths},
    ) as context:
        publish_partial_runs(context)
    after = (out / HOHHOT).resolve()
    assert after != before and after.name == result.run_id
    new = manifest_holds(after)
    assert "评价组补充" in (after / "report.html").read_text(encoding="utf-8")
    changed = {rel for rel in new["outputs"] if old["outputs"].get(rel) != new["outputs"][rel]}
    assert changed == {"report.html", "report.pdf", "report.docx", "values/evaluation_report.json"}
    # The carried files are the previous set's own bytes, linked, not copies.
    assert (after / "payments.csv").stat().st_ino == (before / "payments.csv").stat().st_ino or (
        after / "tables" / "payments.parquet"
    ).stat().st_ino == (before / "tables" / "payments.parquet").stat().st_ino
    assert (after / "pipeline.duckdb").is_file() and (after / "data_docs" / "index.html").is_file()

    # A second evaluation of the sensor for the same run finds nothing left to do.
    with dg.build_run_status_sensor_context(
        sensor_name="publish_partial_runs",
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=result.get_run_success_event(),
        resources={"paths": paths},
    ) as context:
        assert isinstance(publish_partial_runs(context), dg.SkipReason)
