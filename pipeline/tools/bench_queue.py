"""``python -m pipeline bench-queue``: many small evaluations through the Dagster run queue (a measurement, never a test).

In one run on one machine it:
1. generates (once, kept in the scratch folder) N small synthetic evaluations of about Hohhot's size
   (``synth`` with 1 county, 6 sub-projects, 8 indicators, seed = index: 633–1,372 rows read, median 916; Hohhot reads 694);
2. times the bare start-up as ``bench`` does (a process that only imports the code location, median of 3);
3. starts a throwaway production-like instance: a fresh role and database on the local PostgreSQL (a cluster
   that was down is started, and stopped afterwards unless another client has connected to it since),
   ``DAGSTER_HOME`` in the scratch folder with ``deploy/dagster.yaml`` plus ``concurrency: runs:
   max_concurrent_runs`` (the QueuedRunCoordinator, Dagster's default coordinator, named explicitly),
   ``dagster instance migrate``, every folder registered as a partition (``python -m pipeline partitions``),
   then ``dagster-webserver`` and ``dagster-daemon run`` on ``workspace.yaml``;
4. launches one run of the ``evaluate`` job per evaluation through the webserver's GraphQL API (``launchRun``
   with the ``dagster/partition`` tag: what the UI's "Materialize" on a partition sends), which queues it; the
   daemon's run queue starts at most ``--concurrency`` at a time, each in a new process (DefaultRunLauncher);
5. waits for all of them and reads the run records and their events: total wall time from the first
   submission to the last run's end, per evaluation amortised (total / N), each run's duration (median, p90),
   where a run's time goes (queue wait, process start-up before RUN_START, steps), and every published
   ``OUT/<id>/summary.json``;
6. stops the webserver and the daemon, drops the database and the role.
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from pipeline import zygote

ROOT = Path(__file__).resolve().parents[2]  # the checkout: workspace.yaml, deploy/dagster.yaml
TARGET_X = 4.0  # amortised cost per evaluation ≤ 4× the bare start-up
PG_HOST, PG_PORT = "127.0.0.1", 5432
LOCATION, REPOSITORY, JOB = "pes_evaluation", "__repository__", "evaluate"
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}


# --- pure helpers (unit-tested) ------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) with linear interpolation between closest ranks (numpy's default)."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} outside 0–100")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median, p90, min and max of some durations."""
    return {
        "median": statistics.median(values),
        "p90": percentile(values, 90),
        "min": min(values),
        "max": max(values),
    }


def instance_yaml(deploy_yaml: str, max_concurrent_runs: int) -> str:
    """``deploy/dagster.yaml`` with a run-queue limit of ``max_concurrent_runs`` and the coordinator named.

    Everything else (PostgreSQL storage read from the DAGSTER_PG_* variables, the warm run launcher, the
    one-run-per-partition tag limit, log level, telemetry off) stays as production has it.
    """
    if max_concurrent_runs < 1:
        raise ValueError("max_concurrent_runs must be at least 1")
    config = yaml.safe_load(deploy_yaml)
    if "postgres" not in config.get("storage", {}):
        raise ValueError("deploy/dagster.yaml no longer declares PostgreSQL storage")
    config.setdefault("concurrency", {}).setdefault("runs", {})["max_concurrent_runs"] = max_concurrent_runs
    config["run_coordinator"] = {"module": "dagster._core.run_coordinator", "class": "QueuedRunCoordinator"}
    config.setdefault("telemetry", {})["enabled"] = False
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


def evaluation_ids(n: int) -> list[str]:
    return [f"2023-queue-synth-{i:03d}" for i in range(1, n + 1)]


def table(m: dict[str, Any]) -> list[str]:
    """The result as a Markdown table (as ``bench`` prints its own)."""
    n, bare, total = m["finished"], m["bare_s"], m["total_s"]
    per = total / n
    first = (
        f"| {n} evaluations through the run queue (concurrency {m['concurrency']}), first submission to last end "
        f"| — | {total:.1f} s; {m['succeeded']} succeeded, {m['failed']} failed | — |"
    )
    if m["unfinished"]:
        first = (
            f"| {m['evaluations']} evaluations submitted, PARTIAL: {n} finished by the timeout "
            f"| — | {total:.1f} s to the {n}th end; {m['succeeded']} succeeded, {m['failed']} failed, "
            f"{m['unfinished']} unfinished | — |"
        )
    ratio = per / bare
    run, launch = m["run_s"], m["launch_to_end_s"]
    return [
        "| measure | target | measured | met |",
        "|---|---|---|---|",
        first,
        f"| per evaluation, amortised (total / {n}) | ≤ {TARGET_X:g}× bare start-up "
        f"| {per:.2f} s = {ratio:.2f}× bare ({bare:.2f} s) | {'yes' if ratio <= TARGET_X else 'no'} |",
        f"| each run, RUN_START → end (run record) | — | median {run['median']:.1f} s, p90 {run['p90']:.1f} s | — |",
        f"| each run, launched → end (with its process start-up) | — "
        f"| median {launch['median']:.1f} s, p90 {launch['p90']:.1f} s | — |",
        f"| each run's process start-up (launched → RUN_START) | — "
        f"| median {m['startup_s']['median']:.1f} s, p90 {m['startup_s']['p90']:.1f} s "
        f"({m['startup_share']:.0%} of run time launched → end) | — |",
        f"| each run's steps (sum of step durations) | — | median {m['steps_s']['median']:.1f} s "
        f"({m['steps_share']:.0%}) | — |",
    ]


# --- processes ------------------------------------------------------------------------------------


def _wait_for(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    # Its own process group, so stopping it stops the code server and the run workers it started too.
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    except ProcessLookupError:
        pass
    try:  # whatever the group still holds (a code server slower to exit than its parent)
        _wait_for(lambda: not _group_alive(proc.pid), 15, f"process group {proc.pid} to exit")
    except TimeoutError:
        os.killpg(proc.pid, signal.SIGKILL)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-chars:] if log.exists() else ""


# --- PostgreSQL (as tests/support/pg.py does it) ---------------------------------------------------


def _pg_reachable() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1.0):
            return True
    except OSError:
        return False


def _as_superuser(sql: str) -> str:
    """Run one statement as the database superuser (the postgres OS user when we are root); its output."""
    psql = ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-c", sql]
    cmd = ["runuser", "-u", "postgres", "--", *psql] if os.geteuid() == 0 else psql
    proc = subprocess.run(cmd, cwd="/", capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"psql failed ({sql}): {proc.stderr.strip()}")
    return proc.stdout.strip()


def _others_connected() -> bool:
    """Whether any other client is connected: then a cluster we started stays up (someone else uses it now)."""
    sql = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
    return int(_as_superuser(sql) or 0) > 0


def _local_cluster() -> tuple[str, str]:
    listing = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    for line in listing.splitlines():
        version, name, port, *_ = line.split()
        if port == str(PG_PORT):
            return version, name
    raise RuntimeError(f"no local PostgreSQL cluster on port {PG_PORT}: {listing!r}")


def _ensure_pg() -> tuple[str, str] | None:
    """Start the local cluster if it is down; the (version, name) we started, else None."""
    if _pg_reachable():
        return None
    version, name = _local_cluster()
    subprocess.run(["pg_ctlcluster", version, name, "start"], check=True, capture_output=True, timeout=120)
    _wait_for(_pg_reachable, 60, f"PostgreSQL {version}/{name} to accept connections")
    return version, name


# --- GraphQL ---------------------------------------------------------------------------------------


class GraphQL:
    def __init__(self, port: int):
        self.url = f"http://127.0.0.1:{port}/graphql"

    def __call__(self, query: str, **variables: Any) -> dict:
        body = json.dumps({"query": query, "variables": variables}).encode()
        req = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as resp:
            answer = json.load(resp)
        if "errors" in answer:
            raise RuntimeError(f"GraphQL: {answer['errors']}")
        return dict(answer["data"])


def _location_loaded(gql: GraphQL) -> bool:
    data = gql("""{ workspaceOrError { ... on Workspace { locationEntries {
        loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }""")
    [entry] = data["workspaceOrError"]["locationEntries"]
    error = entry["locationOrLoadError"] or {}
    if error.get("__typename") == "PythonError":
        raise RuntimeError(f"the code location failed to load: {error['message']}")
    return bool(entry["loadStatus"] == "LOADED" and error.get("__typename") == "RepositoryLocation")


def _queue_daemon_healthy(gql: GraphQL) -> bool:
    data = gql("{ instance { daemonHealth { allDaemonStatuses { daemonType healthy } } } }")
    statuses = data["instance"]["daemonHealth"]["allDaemonStatuses"]
    return any(s["daemonType"] == "QUEUED_RUN_COORDINATOR" and s["healthy"] for s in statuses)


def _launch(gql: GraphQL, evaluation_id: str) -> str:
    launched = gql(
        """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
          __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }""",
        params={
            "selector": {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY, "jobName": JOB},
            "executionMetadata": {"tags": [{"key": "dagster/partition", "value": evaluation_id}]},
        },
    )["launchRun"]
    if launched["__typename"] != "LaunchRunSuccess":
        raise RuntimeError(f"launchRun {evaluation_id}: {launched}")
    return str(launched["run"]["runId"])


def _statuses(gql: GraphQL, run_ids: list[str]) -> dict[str, str]:
    data = gql(
        """query($ids: [String!]) { runsOrError(filter: {runIds: $ids}) {
          ... on Runs { results { runId status } } } }""",
        ids=run_ids,
    )
    return {r["runId"]: r["status"] for r in data["runsOrError"]["results"]}


# --- the benchmark ---------------------------------------------------------------------------------


def generate(raw: Path, ids: list[str], counties: int, subprojects: int, indicators: int) -> int:
    """Write the evaluations missing under ``raw`` (seed = index); how many were written."""
    from pipeline.tools import synth

    written = 0
    for i, evaluation_id in enumerate(ids, start=1):
        folder = raw / evaluation_id
        if (folder / synth.LEDGER_FILE).is_file():
            continue
        if folder.exists():  # an interrupted generation
            shutil.rmtree(folder)
        synth.generate(
            folder,
            counties=counties,
            subprojects=subprojects,
            indicators=indicators,
            seed=i,
            evaluation_id=evaluation_id,
            workers=1,
        )
        written += 1
    return written


RUN_QUERY = """query($id: ID!) { runOrError(runId: $id) { ... on Run {
  runId status creationTime startTime endTime tags { key value }
  stepStats { stepKey status startTime endTime }
  eventConnection { hasMore events { __typename ... on MessageEvent { timestamp } } } } } }"""


def run_records(gql: GraphQL, run_ids: list[str]) -> list[dict[str, Any]]:
    """Per run, from its record in PostgreSQL (over GraphQL): status, partition, when it was created, launched
    (RUN_STARTING: the run queue hands it to the launcher), started (RUN_START: its process is up and has loaded
    the code) and ended, and each successful step's seconds."""
    out = []
    for run_id in run_ids:
        run = gql(RUN_QUERY, id=run_id)["runOrError"]
        first: dict[str, float] = {}
        for event in run["eventConnection"]["events"]:
            if event["__typename"] in ("RunStartingEvent", "RunStartEvent"):
                first.setdefault(event["__typename"], int(event["timestamp"]) / 1000)
        tags = {t["key"]: t["value"] for t in run["tags"]}
        out.append(
            {
                "run_id": run_id,
                "partition": tags.get("dagster/partition"),
                "status": run["status"],
                "run_worker": tags.get(zygote.HOW_TAG, "default launcher"),
                "created": run["creationTime"],
                "launched": first.get("RunStartingEvent"),
                "start": run["startTime"],
                "end": run["endTime"],
                "steps_s": sum(s["endTime"] - s["startTime"] for s in run["stepStats"] if s["status"] == "SUCCESS"),
                "steps": {
                    s["stepKey"]: s["endTime"] - s["startTime"] for s in run["stepStats"] if s["status"] == "SUCCESS"
                },
            }
        )
    return out


def measure(runs: list[dict[str, Any]], submitted_at: float, bare: float, concurrency: int) -> dict[str, Any]:
    """The figures of the table from the run records (pure: times are POSIX seconds)."""
    ok = [r for r in runs if r["status"] == "SUCCESS"]
    done = [r for r in runs if r["status"] in TERMINAL]
    total = max(r["end"] for r in done) - submitted_at
    run_s = [r["end"] - r["start"] for r in ok]
    launch_s = [r["end"] - r["launched"] for r in ok]
    startup = [r["start"] - r["launched"] for r in ok]
    steps = [r["steps_s"] for r in ok]
    waits = [r["launched"] - r["created"] for r in ok]
    by_step: dict[str, list[float]] = {}
    for r in ok:
        for step, seconds in r.get("steps", {}).items():
            by_step.setdefault(step, []).append(seconds)
    return {
        "evaluations": len(runs),
        "finished": len(done),
        "concurrency": concurrency,
        "bare_s": bare,
        "total_s": total,
        "per_evaluation_s": total / len(done),
        "ratio_to_bare": total / len(done) / bare,
        "succeeded": len(ok),
        "failed": len(done) - len(ok),
        "unfinished": len(runs) - len(done),
        "step_median_s": dict(sorted(((k, statistics.median(v)) for k, v in by_step.items()), key=lambda kv: -kv[1])),
        "run_s": spread(run_s),
        "launch_to_end_s": spread(launch_s),
        "startup_s": spread(startup),
        "steps_s": spread(steps),
        "queue_wait_s": spread(waits),
        "startup_share": sum(startup) / sum(launch_s),
        "steps_share": sum(steps) / sum(launch_s),
    }


def run(args: argparse.Namespace) -> int:
    from pipeline.tools.bench import bare_startup

    scratch = Path(args.scratch)
    raw, out, home = scratch / "raw", scratch / "out", scratch / "dagster_home"
    logs = scratch / "logs"
    ids = evaluation_ids(args.evaluations)
    lines: list[str] = []

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    def load() -> str:
        return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())

    say(f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}, {os.cpu_count()} CPUs, {load()}")
    t = time.perf_counter()
    written = generate(raw, ids, args.counties, args.subprojects, args.indicators)
    if written:
        say(
            f"generated {written} evaluations (synth --counties {args.counties} --subprojects {args.subprojects} "
            f"--indicators {args.indicators} --seed <index>) in {time.perf_counter() - t:.1f} s (not measured)"
        )
    for folder in (out, home, logs):
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)

    bare = bare_startup()
    say(f"bare start-up (import pipeline.definitions, median of 3): {bare:.2f} s")

    started_pg = _ensure_pg()
    name, password = f"pes_bench_{secrets.token_hex(4)}", secrets.token_hex(16)
    servers: list[subprocess.Popen] = []
    role_created = db_created = False
    try:
        _as_superuser(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
        role_created = True
        _as_superuser(f"CREATE DATABASE {name} OWNER {name}")
        db_created = True
        (home / "dagster.yaml").write_text(
            instance_yaml((ROOT / "deploy" / "dagster.yaml").read_text(encoding="utf-8"), args.concurrency),
            encoding="utf-8",
        )
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "DAGSTER_PG_HOST": PG_HOST,
            "DAGSTER_PG_PORT": str(PG_PORT),
            "DAGSTER_PG_DB": name,
            "DAGSTER_PG_USERNAME": name,
            "DAGSTER_PG_PASSWORD": password,
            "PIPELINE_RAW_ROOT": str(raw),
            "PIPELINE_OUT_ROOT": str(out),
        }
        bin_dir = Path(sys.executable).parent
        for cmd in (
            [str(bin_dir / "dagster"), "instance", "migrate"],
            [sys.executable, "-m", "pipeline", "partitions", "--raw", str(raw)],
        ):
            step = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
            if step.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)} failed: {step.stderr[-2000:]}")
        port = _free_port()
        servers.append(
            _start(
                [str(bin_dir / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
                env,
                logs / "webserver.log",
            )
        )
        servers.append(
            _start([str(bin_dir / "dagster-daemon"), "run", "-w", "workspace.yaml"], env, logs / "daemon.log")
        )
        gql = GraphQL(port)

        def ready() -> bool:
            if any(p.poll() is not None for p in servers):
                raise RuntimeError(_tail(logs / "webserver.log") + _tail(logs / "daemon.log"))
            try:
                return _location_loaded(gql) and _queue_daemon_healthy(gql)
            except OSError:
                return False

        _wait_for(ready, 300, "the webserver to load the code location and the daemon's run queue to be up")
        say(f"webserver and daemon up (PostgreSQL database {name}); {load()}; submitting {len(ids)} runs")

        submitted_at = time.time()
        run_ids = [_launch(gql, evaluation_id) for evaluation_id in ids]
        say(f"  {len(run_ids)} runs submitted in {time.time() - submitted_at:.1f} s")

        def finished() -> bool:
            statuses = _statuses(gql, run_ids)
            return len(statuses) == len(run_ids) and set(statuses.values()) <= TERMINAL

        try:
            _wait_for(finished, args.timeout, f"{len(run_ids)} runs to finish", interval=2)
            say(f"all runs finished; {load()}")
        except TimeoutError:  # the figures of the runs that did finish, said to be partial
            say(f"TIMEOUT after {args.timeout:.0f} s: not every run finished; {load()}")
        runs = run_records(gql, run_ids)
    finally:
        for proc in servers:
            _stop(proc)
        if db_created:
            _as_superuser(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if role_created:
            _as_superuser(f"DROP ROLE IF EXISTS {name}")
        if started_pg and not _others_connected():  # down before, and nobody else has started using it since
            subprocess.run(["pg_ctlcluster", *started_pg, "stop"], check=False, capture_output=True, timeout=120)

    m = measure(runs, submitted_at, bare, args.concurrency)
    # Every finished run must have succeeded and published its summary.json.
    done = [r for r in runs if r["status"] in TERMINAL]
    missing = [r["partition"] for r in done if not (out / str(r["partition"]) / "summary.json").is_file()]
    rows = [
        json.loads((out / str(r["partition"]) / "summary.json").read_text(encoding="utf-8"))["rows"]["read"]
        for r in done
        if r["partition"] not in missing
    ]
    if rows:
        say(f"rows read per evaluation: median {statistics.median(rows):.0f} (min {min(rows)}, max {max(rows)})")
    say(
        f"published summary.json: {len(done) - len(missing)} of {len(done)} finished runs"
        + (f"; missing {missing}" if missing else "")
    )
    workers = collections.Counter(str(r.get("run_worker")) for r in runs)
    say("how each run started (tag pes/run_worker): " + ", ".join(f"{k} {v}" for k, v in sorted(workers.items())))
    say(
        f"queue wait (created → launched): median {m['queue_wait_s']['median']:.1f} s, max {m['queue_wait_s']['max']:.1f} s"
    )
    say("median seconds per step: " + ", ".join(f"{k} {v:.1f}" for k, v in list(m["step_median_s"].items())[:8]))
    say("")
    for line in table(m):
        say(line)
    (scratch / "bench-queue.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (scratch / "bench-queue.json").write_text(json.dumps({"measures": m, "runs": runs}, indent=2) + "\n")
    return 0 if m["failed"] == 0 and not m["unfinished"] and not missing else 1


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--scratch", default="/tmp/pes-bench-queue", help="working folder: data, outputs (default /tmp/pes-bench-queue)"
    )
    p.add_argument("--evaluations", type=int, default=50, help="evaluations, one run each (default 50)")
    p.add_argument("--concurrency", type=int, default=2, help="the run queue's max_concurrent_runs (default 2)")
    p.add_argument("--counties", type=int, default=1)
    p.add_argument("--subprojects", type=int, default=6)
    p.add_argument("--indicators", type=int, default=8)
    p.add_argument("--timeout", type=float, default=3600, help="seconds to wait for all runs (default 3600)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline bench-queue", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))
