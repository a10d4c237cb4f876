"""Materialise the whole asset graph for one evaluation, in process, and report what happened."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import dagster as dg

from pipeline import outputs
from pipeline.defs.partitions import EVALUATIONS


@dataclasses.dataclass
class Outcome:
    evaluation_id: str
    success: bool
    out_dir: Path  # the published outputs, OUT/<evaluation_id>
    failed_checks: list[str]
    failed_steps: list[str]
    summary: dict
    run_dir: Path | None = None  # the run's own output set (left unpublished when the run failed)


def instance() -> dg.DagsterInstance:
    """The persistent instance when DAGSTER_HOME is set (so runs are remembered), else a throwaway one."""
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral(settings={"telemetry": {"enabled": False}})


def materialize_evaluation(
    evaluation_id: str, raw_root: str, out_root: str, dagster_instance: dg.DagsterInstance | None = None
) -> Outcome:
    """Run every asset of one evaluation; the outputs are published only if everything succeeded.

    Raises :class:`pipeline.outputs.OutputLocked` when another process is running the evaluation.
    """
    from pipeline.definitions import defs
    from pipeline.defs.instance import hold_connections, remember_yes
    from pipeline.defs.io_manager import EvaluationIOManager
    from pipeline.defs.jobs import EVALUATION_ASSETS
    from pipeline.defs.resources import PipelinePaths

    holder = f"cli-{os.getpid()}"
    outputs.acquire(Path(out_root), evaluation_id, holder)  # refuse before starting, with a clear message
    try:
        inst = dagster_instance or instance()
        hold_connections(inst)  # from the run's creation on, not only from its first step
        remember_yes(inst)
        if not inst.has_dynamic_partition(EVALUATIONS, evaluation_id):
            inst.add_dynamic_partitions(EVALUATIONS, [evaluation_id])
        paths = PipelinePaths(raw_root=str(raw_root), out_root=str(out_root))
        result = dg.materialize(
            [a for a in defs.assets or [] if isinstance(a, (dg.AssetsDefinition, dg.AssetSpec, dg.SourceAsset))],
            selection=EVALUATION_ASSETS,
            instance=inst,
            partition_key=evaluation_id,
            raise_on_error=False,
            resources={"paths": paths, "io_manager": EvaluationIOManager(paths=paths)},
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
            tags={"evaluation": evaluation_id},
        )
    finally:
        outputs.release(evaluation_id, holder)
    run_dir = outputs.sets_dir(Path(out_root), evaluation_id) / result.run_id
    outputs.release(evaluation_id, result.run_id)  # a failed run never reached the step that releases it
    # WARN-severity checks are reported in the UI but do not fail the run.
    failed_checks = sorted(
        f"{e.asset_key.to_user_string()}:{e.check_name}"
        for e in result.get_asset_check_evaluations()
        if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
    )
    failed_steps = sorted(e.step_key for e in result.get_step_failure_events() if e.step_key is not None)
    success = result.success and not failed_checks
    if not success and run_dir.is_dir():
        _export_for_inspection(run_dir)
    step_seconds = {
        e.step_key: round(e.step_success_data.duration_ms / 1000, 3) for e in result.get_step_success_events()
    }
    if run_dir.is_dir():  # run-specific, never in the manifest's hashes
        (run_dir / "logs").mkdir(exist_ok=True)
        (run_dir / "logs" / "step_seconds.json").write_text(json.dumps(step_seconds, indent=2) + "\n", encoding="utf-8")
    out_dir = Path(out_root) / evaluation_id
    summary_path = out_dir / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if success and summary_path.exists() else {}
    return Outcome(evaluation_id, success, out_dir, failed_checks, failed_steps, summary, run_dir)


@dataclasses.dataclass
class PortfolioOutcome:
    success: bool
    out_dir: Path  # OUT/portfolio
    evaluations: list[str]  # the evaluations it lists


def materialize_portfolio(
    raw_root: str, out_root: str, dagster_instance: dg.DagsterInstance | None = None
) -> PortfolioOutcome:
    """Refresh the portfolio asset in process from every published summary (after the evaluations' runs).

    Raises :class:`pipeline.outputs.OutputLocked` when another process is publishing the portfolio.
    """
    from pipeline.definitions import defs
    from pipeline.defs.io_manager import EvaluationIOManager
    from pipeline.defs.resources import PipelinePaths
    from pipeline.portfolio import PORTFOLIO_ID

    paths = PipelinePaths(raw_root=str(raw_root), out_root=str(out_root))
    result = dg.materialize(
        [a for a in defs.assets or [] if isinstance(a, (dg.AssetsDefinition, dg.AssetSpec, dg.SourceAsset))],
        selection=[PORTFOLIO_ID],
        instance=dagster_instance or instance(),
        raise_on_error=False,
        resources={"paths": paths, "io_manager": EvaluationIOManager(paths=paths)},
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None and error.cls_name != "OutputLocked" and error.cause is not None:
            error = error.cause
        if error is not None and error.cls_name == "OutputLocked":
            raise outputs.OutputLocked(error.message.strip())
    listed: list[str] = []
    for event in result.get_asset_materialization_events():
        value = event.materialization.metadata.get("evaluations")
        if isinstance(value, dg.JsonMetadataValue) and isinstance(value.value, list):
            listed = [str(v) for v in value.value]
    return PortfolioOutcome(result.success, Path(out_root) / PORTFOLIO_ID, listed)


def print_portfolio(o: PortfolioOutcome) -> None:
    if not o.success:
        print("组合视图刷新失败 / portfolio refresh FAILED (上一次的组合视图保持不变 / the previous one is unchanged)")
        return
    print(f"组合视图 / portfolio: {len(o.evaluations)} 项已评分的评价 / scored evaluations")
    for name in ("portfolio.html", "portfolio.xlsx", "portfolio.csv"):
        print(f"  {o.out_dir / name}")


def _export_for_inspection(run_dir: Path) -> None:
    """A failed run is not published; its tables are still exported as CSV in its own set, to see why."""
    from pipeline import store

    if store.table_paths(run_dir):
        store.write_exports(run_dir)


def print_summary(o: Outcome) -> None:
    s = o.summary
    line = "=" * 64
    print(line)
    print(f"评价 / evaluation: {o.evaluation_id}   {'成功 / ok' if o.success else '失败 / FAILED'}")
    if "rows" in s:
        r, f = s["rows"], s["files"]
        print(f"行 rows: 读取 read {r['read']} = 采用 accepted {r['accepted']} + 隔离 quarantined {r['quarantined']}")
        print(
            f"文件 files: 读取 read {f['read']}, 整份拒收 rejected {f['rejected']}, "
            f"未识别 unrecognised {f.get('unrecognised', 0)}, 未提交 missing {f['missing']}"
        )
    funds = s.get("funds")
    if funds:
        print(
            f"资金（万元）: 计划 {funds['planned']}  到位 {funds['received']}  支出 {funds['spent']}  "
            f"结转 {funds['carried_forward']}  收回 {funds['recovered']}"
        )
        print(f"到位率 {funds['arrival_rate']}%  执行率 {funds['execution_rate']}%")
    m = s.get("monitoring")
    if m:  # a monitoring cut-off: the figures above are the whole ledger, these are up to the cut-off
        print(
            f"监控 monitoring: 截至 {m['cutoff']}  序时进度 {m['time_progress']}%  执行率 {m['execution_rate']}%"
            f"（{m['deviation_level']}）  红 {m['lines'].get('红', 0)} 黄 {m['lines'].get('黄', 0)}  "
            f"截止日后未计入 {m['rows_excluded_after_cutoff']} 行"
        )
    score = s.get("score")
    if score:
        dims = "  ".join(f"{k} {v}" for k, v in score["by_dimension"].items())
        print(f"得分 score: {score['total']}（{score['grade']}）  {dims}")
    if o.failed_checks:
        print("未通过的检查 / failed checks: " + ", ".join(o.failed_checks))
    if o.failed_steps:
        print("失败的步骤 / failed steps: " + ", ".join(o.failed_steps))
    if not o.success:
        kept = (
            "上一次的完整输出保持不变 / the previous complete outputs are unchanged"
            if o.out_dir.exists()
            else "尚无已发布的输出 / nothing published yet"
        )
        print(f"本次输出未发布（{kept}）；本次的中间结果在 / this run's partial results: {o.run_dir}")
        print(line)
        return
    print("输出 / outputs:")
    for name in ("summary.json", "quarantine.csv"):
        print(f"  {o.out_dir / name}")
    for art in (s.get("artifacts") or {}).values():
        print(f"  {o.out_dir / art['path']}")
    if m:
        print(f"  {o.out_dir / 'monitoring.xlsx'}  {o.out_dir / 'monitoring.html'}")
    print(f"  {o.out_dir / 'pipeline.duckdb'}  (SQL: tables by asset name)")
    print(f"  {o.out_dir / 'manifest.json'}  {o.out_dir / 'data_docs' / 'index.html'}")
    print(line)
