"""Command line: ``python -m pipeline run | check | templates | score | trace``.

``run`` materialises the same Dagster asset graph the UI shows, in process; the other commands
are the clerk's and the evaluator's tools around it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from pipeline import evaluation as evaluation_mod
from pipeline.evaluation import EvaluationError


def _evaluations(raw: Path, evaluation_id: Optional[str]) -> tuple[list[evaluation_mod.Evaluation], list[str]]:
    """The evaluations to run and the messages of folders that could not be loaded (each fails alone)."""
    if evaluation_id:
        return [evaluation_mod.find(raw, evaluation_id)], []
    found, errors = evaluation_mod.scan(raw)
    if not found and not errors:
        raise EvaluationError(f"{raw}: 没有找到任何评价目录（含 evaluation.yaml 的子目录）/ no evaluation folders")
    return found, [e.message for e in errors]


def cmd_run(args: argparse.Namespace) -> int:

    from pipeline.manifest import unchanged_since_last_run

    evaluations, errors = _evaluations(Path(args.raw), args.evaluation)
    status = 0
    for message in errors:
        print(f"评价配置错误，已跳过 / evaluation skipped: {message}", file=sys.stderr)
        status = 2
    for ev in evaluations:
        if args.if_changed and unchanged_since_last_run(ev, Path(args.out) / ev.id):
            print(f"评价 / evaluation: {ev.id}   未变化，跳过 / unchanged since the last run (same inputs and code), skipped")
            continue
        from pipeline.runner import materialize_evaluation, print_summary

        outcome = materialize_evaluation(ev.id, raw_root=args.raw, out_root=args.out)
        print_summary(outcome)
        if not outcome.success:
            status = 2
    return status


def cmd_check(args: argparse.Namespace) -> int:
    from pipeline.ingest.check import check_files, print_problems

    ev = evaluation_mod.find(Path(args.raw), args.evaluation)
    result = check_files(ev, Path(args.raw), [Path(f) for f in args.files])
    return print_problems(result)


def cmd_templates(args: argparse.Namespace) -> int:
    from pipeline.templates import write_templates

    ev = evaluation_mod.find(Path(args.raw), args.evaluation) if args.evaluation else None
    for path in write_templates(Path(args.dir), ev, Path(args.raw)):
        print(path)
    return 0


def _single_evaluation(out: Path, evaluation_id: Optional[str]) -> str:
    """The evaluation under --out to read: the one given, or the only one there is."""
    if evaluation_id:
        return evaluation_id
    found = sorted(p.name for p in out.iterdir() if (p / "summary.json").is_file()) if out.is_dir() else []
    if len(found) != 1:
        raise EvaluationError(f"{out}: 找到 {len(found)} 个评价输出（{', '.join(found) or '无'}），请用 --evaluation 指定 / "
                              "give --evaluation (run `python -m pipeline run` first if there is none)")
    return found[0]


def cmd_trace(args: argparse.Namespace) -> int:
    from pipeline import lineage

    out = Path(args.out)
    evaluation_id = _single_evaluation(out, args.evaluation)
    try:
        t = lineage.trace(out / evaluation_id, args.figure, raw_display=args.raw)
    except KeyError as exc:
        print(f"错误 / error: {exc.args[0]}", file=sys.stderr)
        return 2
    print(lineage.as_json(t) if args.json else lineage.as_text(t))
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from pipeline.whatif import run_what_if

    ev = evaluation_mod.find(Path(args.raw), args.evaluation)
    overrides = {}
    for item in args.set:
        code, sep, value = item.partition("=")
        if not sep:
            raise EvaluationError(f"--set {item}: 应写作 CODE=VALUE / expected CODE=VALUE")
        overrides[code.strip()] = value.strip()
    try:
        print(run_what_if(ev, Path(args.raw), args.framework, overrides))
    except ValueError as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    from pipeline.health import run

    return run(args.max_heartbeat_age)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="materialise every asset for each evaluation under --raw")
    p.add_argument("--raw", default="raw", help="root holding evaluation folders (default: raw)")
    p.add_argument("--out", default="out", help="output root; writes OUT/<evaluation_id>/ (default: out)")
    p.add_argument("--evaluation", help="only this evaluation id (default: all)")
    p.add_argument("--if-changed", action="store_true",
                   help="skip an evaluation whose inputs and code are those of its last run (nightly use)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("check", help="validate submission files on their own, as a clerk would before sending")
    p.add_argument("--raw", default="raw")
    p.add_argument("--evaluation", required=True)
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("templates", help="write blank XLSX templates for every submission kind")
    p.add_argument("--raw", default="raw")
    p.add_argument("--evaluation", help="fill drop-down lists from this evaluation's registry and codes")
    p.add_argument("dir", metavar="DIR")
    p.set_defaults(func=cmd_templates)

    p = sub.add_parser("trace", help="where does a figure of summary.json come from: the chain down to raw rows")
    p.add_argument("--raw", default="raw", help="raw root, as file paths are printed (default: raw)")
    p.add_argument("--out", default="out", help="output root the last run wrote (default: out)")
    p.add_argument("--evaluation", help="needed only when --out holds more than one evaluation")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("figure", metavar="FIGURE", help="dotted path into summary.json, e.g. funds.by_source.county.received")
    p.set_defaults(func=cmd_trace)

    p = sub.add_parser("score", help="what-if: how scores, dimensions, total and grade move if actuals change (writes nothing)")
    p.add_argument("--raw", default="raw")
    p.add_argument("--evaluation", required=True)
    p.add_argument("--framework", help="framework name (default: the evaluation's primary)")
    p.add_argument("--set", action="append", default=[], metavar="CODE=VALUE",
                   help="override an indicator's actual (a number, grades like 好,较好, or 未采集); repeatable")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("health", help="for a monitor: exit 1 if a sensor/schedule tick failed or the daemon is quiet")
    p.add_argument("--max-heartbeat-age", type=float, metavar="SECONDS",
                   help="a daemon heartbeat older than this is unhealthy (default: 300)")
    p.set_defaults(func=cmd_health)

    from pipeline import bench, synth

    p = sub.add_parser("bench", help="national-scale benchmark: stages, full run, DuckDB reference, nightly runs")
    bench.add_arguments(p)
    p.set_defaults(func=bench.run)

    p = sub.add_parser("synth", help="write a synthetic evaluation folder (national scale by default), deterministic")
    synth.add_arguments(p)
    p.set_defaults(func=synth.run)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except EvaluationError as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2

