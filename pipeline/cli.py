"""Command line: ``python -m pipeline run | check | templates | score | trace``.

``run`` materialises the same Dagster asset graph the UI shows, in process; the other commands
are the clerk's and the evaluator's tools around it.

Exit codes: 0 success; 1 ``check`` found problems in the files; 2 an evaluation failed (a
blocking check, a configuration that cannot be loaded, another run holding its lock) or the
command was given wrong arguments; 3 an internal error (a bug: its traceback is in the log file
the message names, never on the screen); 130 interrupted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path

from pipeline import evaluation as evaluation_mod
from pipeline import progress, sidecar
from pipeline.evaluation import EvaluationError
from pipeline.tools import TOOLS

EXIT_OK, EXIT_PROBLEMS, EXIT_FAILED, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def _evaluations(raw: Path, evaluation_id: str | None) -> tuple[list[evaluation_mod.Evaluation], list[str]]:
    """The evaluations to run and the messages of folders that could not be loaded (each fails alone)."""
    if evaluation_id:
        return [evaluation_mod.find(raw, evaluation_id)], []
    found, errors = evaluation_mod.scan(raw)
    if not found and not errors:
        raise EvaluationError(f"{raw}: 没有找到任何评价目录（含 evaluation.yaml 的子目录）/ no evaluation folders")
    return found, [e.message for e in errors]


def _load_code_location() -> None:
    """Import Dagster and the code location, the first time, with the collector paused and their objects frozen.

    The import set off a dozen full collections, each over everything imported so far, and every full
    collection of the run then looked at the same objects again (0.6 s of a national nightly run's main
    process, ``gc.callbacks``). Frozen, they are left out of later collections (``pipeline.memory``).
    What is alive before the first import is the modules and the evaluations' configuration, not garbage.
    """
    if "pipeline.definitions" in sys.modules:
        return
    from pipeline.memory import no_collection

    with no_collection(freeze=True):
        importlib.import_module("pipeline.definitions")
        importlib.import_module("pipeline.materialize")


def cmd_run(args: argparse.Namespace) -> int:
    """Each evaluation on its own: one that cannot be loaded or fails never stops the others."""
    from pipeline.manifest import unchanged_since_last_run

    evaluations, errors = _evaluations(Path(args.raw), args.evaluation)
    status, ran = EXIT_OK, False
    for message in errors:
        print(f"评价配置错误，已跳过 / evaluation skipped: {message}", file=sys.stderr)
        status = EXIT_FAILED
    for ev in evaluations:
        if args.if_changed and unchanged_since_last_run(ev, Path(args.out) / ev.id):
            print(
                f"评价 / evaluation: {ev.id}   未变化，跳过 / unchanged since the last run (same inputs and code), skipped"
            )
            continue
        sidecar.start()  # imports GX on the other core while Dagster loads and the files are read
        _load_code_location()
        from pipeline.materialize import materialize_evaluation, print_summary
        from pipeline.outputs import OutputLocked

        try:
            with progress.reporting():
                outcome = materialize_evaluation(ev.id, raw_root=args.raw, out_root=args.out)
        except OutputLocked as exc:
            print(f"错误 / error: {exc}", file=sys.stderr)
            status = EXIT_FAILED
            continue
        except Exception:  # a bug: this evaluation fails, the others still run
            log = crash_log(Path(args.out) / ".logs", f"run-{ev.id}")
            print(f"评价 {ev.id} 内部错误，已跳过（详细信息见 {log}）/ internal error, see {log}", file=sys.stderr)
            status = max(status, EXIT_INTERNAL)
            continue
        print_summary(outcome)
        ran = True
        if not outcome.success:
            status = max(status, EXIT_FAILED)
    if ran or not (Path(args.out) / evaluation_mod.PORTFOLIO_ID).exists():
        status = max(status, _refresh_portfolio(args))
    return status


def _refresh_portfolio(args: argparse.Namespace) -> int:
    """The portfolio from every published summary: after a run, or when there is none yet (an --if-changed run
    that skipped every evaluation leaves it as it is, and imports no Dagster)."""
    from pipeline.materialize import materialize_portfolio, print_portfolio
    from pipeline.outputs import OutputLocked

    try:
        outcome = materialize_portfolio(raw_root=args.raw, out_root=args.out)
    except OutputLocked as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except Exception:
        log = crash_log(Path(args.out) / ".logs", "run-portfolio")
        print(f"组合视图内部错误（详细信息见 {log}）/ portfolio: internal error, see {log}", file=sys.stderr)
        return EXIT_INTERNAL
    print_portfolio(outcome)
    return EXIT_OK if outcome.success else EXIT_FAILED


def cmd_check(args: argparse.Namespace) -> int:
    from pipeline.ingest.precheck import check_files, print_problems

    ev = evaluation_mod.find(Path(args.raw), args.evaluation)
    result = check_files(ev, Path(args.raw), [Path(f) for f in args.files])
    return EXIT_PROBLEMS if print_problems(result) else EXIT_OK


def cmd_templates(args: argparse.Namespace) -> int:
    from pipeline.templates import write_templates

    ev = evaluation_mod.find(Path(args.raw), args.evaluation) if args.evaluation else None
    for path in write_templates(Path(args.dir), ev, Path(args.raw)):
        print(path)
    return 0


def cmd_partitions(args: argparse.Namespace) -> int:
    """Register every evaluation folder as a partition of the instance in $DAGSTER_HOME (before the UI starts)."""
    from pipeline.defs.partitions import EVALUATIONS
    from pipeline.materialize import instance

    if not os.environ.get("DAGSTER_HOME"):
        raise EvaluationError(
            "DAGSTER_HOME 未设置：分区登记在持久的 Dagster 实例中 / set DAGSTER_HOME to the instance folder"
        )
    found, errors = evaluation_mod.scan(Path(args.raw))
    inst = instance()
    new = [ev.id for ev in found if not inst.has_dynamic_partition(EVALUATIONS, ev.id)]
    if new:
        inst.add_dynamic_partitions(EVALUATIONS, new)
    for ev in found:
        print(f"{ev.id}{'（新登记 / added）' if ev.id in new else ''}")
    for e in errors:
        print(f"评价配置错误，未登记 / not registered: {e.message}", file=sys.stderr)
    return EXIT_FAILED if errors else EXIT_OK


def _single_evaluation(out: Path, evaluation_id: str | None) -> str:
    """The evaluation under --out to read: the one given, or the only one there is."""
    if evaluation_id:
        return evaluation_id
    found = sorted(p.name for p in out.iterdir() if (p / "summary.json").is_file()) if out.is_dir() else []
    if len(found) != 1:
        raise EvaluationError(
            f"{out}: 找到 {len(found)} 个评价输出（{', '.join(found) or '无'}），请用 --evaluation 指定 / "
            "give --evaluation (run `python -m pipeline run` first if there is none)"
        )
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="materialise every asset for each evaluation under --raw")
    p.add_argument("--raw", default="raw", help="root holding evaluation folders (default: raw)")
    p.add_argument("--out", default="out", help="output root; writes OUT/<evaluation_id>/ (default: out)")
    p.add_argument("--evaluation", help="only this evaluation id (default: all)")
    p.add_argument(
        "--if-changed",
        action="store_true",
        help="skip an evaluation whose inputs and code are those of its last run (nightly use)",
    )
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
    p.add_argument(
        "figure", metavar="FIGURE", help="dotted path into summary.json, e.g. funds.by_source.county.received"
    )
    p.set_defaults(func=cmd_trace)

    p = sub.add_parser(
        "partitions", help="register every evaluation folder as a partition of the $DAGSTER_HOME instance"
    )
    p.add_argument("--raw", default="raw")
    p.set_defaults(func=cmd_partitions)

    p = sub.add_parser(
        "score", help="what-if: how scores, dimensions, total and grade move if actuals change (writes nothing)"
    )
    p.add_argument("--raw", default="raw")
    p.add_argument("--evaluation", required=True)
    p.add_argument("--framework", help="framework name (default: the evaluation's primary)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="CODE=VALUE",
        help="override an indicator's actual (a number, grades like 好,较好, or 未采集); repeatable",
    )
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("health", help="for a monitor: exit 1 if a sensor/schedule tick failed or the daemon is quiet")
    p.add_argument(
        "--max-heartbeat-age",
        type=float,
        metavar="SECONDS",
        help="a daemon heartbeat older than this is unhealthy (default: 300)",
    )
    p.set_defaults(func=cmd_health)

    for name, (_, text) in TOOLS.items():  # listed here; parsed by the tool itself (see below)
        sub.add_parser(name, help=text, add_help=False)

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in TOOLS:
        return importlib.import_module(TOOLS[argv[0]][0]).main(argv[1:])
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except EvaluationError as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:
        # The reader of our output went away (`| head`): stop quietly, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:
        folder = Path(args.out) / ".logs" if getattr(args, "command", "") == "run" and hasattr(args, "out") else None
        log = crash_log(folder, args.command)
        print(f"内部错误 / internal error（{type(exc).__name__}）；详细信息见 / details in {log}", file=sys.stderr)
        return EXIT_INTERNAL


def crash_log(folder: Path | None, name: str) -> Path:
    """Write the current exception's traceback to a log file (``folder``, else the system temp folder); its path."""
    try:
        if folder is None:
            raise OSError
        folder.mkdir(parents=True, exist_ok=True)
        fd, path = tempfile.mkstemp(prefix=f"pipeline-{name}-", suffix=".log", dir=folder)
    except OSError:
        fd, path = tempfile.mkstemp(prefix=f"pipeline-{name}-", suffix=".log")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(f"{dt.datetime.now().isoformat()} python -m pipeline {' '.join(sys.argv[1:])}\n")
        traceback.print_exc(file=fh)
    return Path(path)
