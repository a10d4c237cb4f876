"""The Dagster UI end to end: webserver and daemon on a free port, a Hohhot run launched over GraphQL, and the
asset graph rendered in headless Chromium (driven over the DevTools protocol), checked and screenshotted.

Skips with its reason when Chromium or a Chinese font is absent, unless PIPELINE_REQUIRE_SYSTEM_DEPS=1 (CI).
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from pipeline.evaluation import scan
from tests.support import HOHHOT, RAW, ROOT, SELF_EVALUATION
from tests.support.browser import chromium

LOCATION, REPOSITORY = "pes_evaluation", "__repository__"
# One asset per stage, raw → ingest → reconciliation → scoring → report.
STAGE_ASSETS = [
    "raw_submissions",
    "payments",
    "quarantine",
    "funds_by_source",
    "indicator_scores",
    "evaluation_summary",
]
RUN_TIMEOUT_S = 300


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition: Callable[[], object], timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    # Its own process group, so stopping it also stops the code server and run workers it spawns.
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        wait_for(lambda: not group_alive(proc.pid), 15, f"process group {proc.pid} to exit")
    except (subprocess.TimeoutExpired, TimeoutError):
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    except ProcessLookupError:
        pass


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def tail(log: Path, chars: int = 4000) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-chars:] if log.exists() else ""


class GraphQL:
    def __init__(self, port: int):
        self.url = f"http://127.0.0.1:{port}/graphql"

    def __call__(self, query: str, **variables) -> dict:
        body = json.dumps({"query": query, "variables": variables}).encode()
        req = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            answer = json.load(resp)
        assert "errors" not in answer, answer["errors"]
        return answer["data"]


class DevTools:
    """Headless Chromium over the DevTools protocol: just enough to open a page, evaluate JS, press a key, screenshot."""

    def __init__(self, browser: str, profile: Path, window: str = "1600,1100"):
        from websockets.sync.client import connect

        # Offline and quiet: no first-run pages, no background fetches, a throwaway profile.
        flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            f"--window-size={window}",
            "about:blank",
        ]
        self.proc = subprocess.Popen(
            [browser, *flags], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        try:
            port_file = profile / "DevToolsActivePort"
            wait_for(lambda: port_file.exists() and port_file.read_text().strip(), 30, "Chromium's DevTools port", 0.1)
            port = port_file.read_text().split()[0]
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
                page = next(t for t in json.load(resp) if t["type"] == "page")
            self.ws = connect(page["webSocketDebuggerUrl"], max_size=None)
        except BaseException:
            stop(self.proc)
            raise
        self.ids = itertools.count(1)

    def send(self, method: str, **params) -> dict:
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:  # events arrive interleaved with answers; only the answer to this call matters
            msg = json.loads(self.ws.recv(timeout=60))
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg["result"]

    def js(self, expression: str):
        return self.send("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def alt_key(self, letter: str) -> None:
        for kind in ("keyDown", "keyUp"):
            self.send(
                "Input.dispatchKeyEvent",
                type=kind,
                modifiers=1,
                key=letter,
                code=f"Key{letter.upper()}",
                windowsVirtualKeyCode=ord(letter.upper()),
            )

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"]))

    def close(self) -> None:
        self.ws.close()
        stop(self.proc)


def launch_hohhot_run(gql: GraphQL) -> str:
    repo = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
    added = gql(
        """mutation($repo: RepositorySelector!, $key: String!) {
        addDynamicPartition(repositorySelector: $repo, partitionsDefName: "evaluations", partitionKey: $key) {
          __typename ... on AddDynamicPartitionSuccess { partitionKey } ... on PythonError { message } } }""",
        repo=repo,
        key=HOHHOT,
    )["addDynamicPartition"]
    assert added == {"__typename": "AddDynamicPartitionSuccess", "partitionKey": HOHHOT}, added
    launched = gql(
        """mutation($params: ExecutionParams!) {
        launchRun(executionParams: $params) {
          __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }""",
        params={
            "selector": {**repo, "jobName": "evaluate"},
            "executionMetadata": {"tags": [{"key": "dagster/partition", "value": HOHHOT}]},
        },
    )["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return launched["run"]["runId"]


def run_status(gql: GraphQL, run_id: str) -> str:
    return gql("query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }", id=run_id)["runOrError"][
        "status"
    ]


def location_loaded(gql: GraphQL) -> bool:
    entries = gql("""{ workspaceOrError { ... on Workspace { locationEntries {
        name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }""")
    [entry] = entries["workspaceOrError"]["locationEntries"]
    error = entry["locationOrLoadError"] or {}
    assert error.get("__typename") != "PythonError", error.get("message")
    return entry["loadStatus"] == "LOADED" and error.get("__typename") == "RepositoryLocation"


def test_ui_runs_hohhot_and_renders_the_asset_graph(tmp_path):
    browser = chromium()
    bin_dir = Path(sys.executable).parent
    home, out = tmp_path / "dagster_home", tmp_path / "out"
    home.mkdir()
    # The embedded SQLite instance a newcomer gets; only the newsletter pop-up that would cover the graph is off.
    (home / "dagster.yaml").write_text("nux:\n  enabled: false\ntelemetry:\n  enabled: false\n", encoding="utf-8")
    env = {**os.environ, "DAGSTER_HOME": str(home), "PIPELINE_RAW_ROOT": str(RAW), "PIPELINE_OUT_ROOT": str(out)}
    port = free_port()
    web_log, daemon_log = tmp_path / "webserver.log", tmp_path / "daemon.log"
    # Create and migrate the fresh SQLite store once, before the webserver and the daemon both open it:
    # started together on an empty store they race to migrate it (alembic: "more than one head").
    migrated = subprocess.run(
        [str(bin_dir / "dagster"), "instance", "migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrated.returncode == 0, migrated.stderr
    servers = []
    try:
        servers.append(
            start(
                [str(bin_dir / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
                env,
                web_log,
            )
        )
        servers.append(start([str(bin_dir / "dagster-daemon"), "run", "-w", "workspace.yaml"], env, daemon_log))
        gql = GraphQL(port)

        def up() -> bool:
            assert all(p.poll() is None for p in servers), tail(web_log) + tail(daemon_log)
            try:
                return location_loaded(gql)
            except OSError:
                return False

        wait_for(up, 180, "the webserver to load the code location")

        run_id = launch_hohhot_run(gql)
        status = wait_for(
            lambda: (s := run_status(gql, run_id)) in {"SUCCESS", "FAILURE", "CANCELED"} and s,
            RUN_TIMEOUT_S,
            f"run {run_id} to finish",
            interval=2,
        )
        assert status == "SUCCESS", tail(daemon_log)
        summary = json.loads((out / HOHHOT / "summary.json").read_text(encoding="utf-8"))
        assert summary["score"]["total"] == "84.88"

        selection = " or ".join(f'key:"{name}"' for name in STAGE_ASSETS)
        page = DevTools(browser, tmp_path / "profile")
        try:
            page.send("Page.navigate", url=f"http://127.0.0.1:{port}/asset-groups~{urllib.parse.quote(selection)}")
            wait_for(
                lambda: page.js("document.querySelectorAll('svg foreignObject').length"),
                60,
                "the asset graph to render",
            )
            nodes_js = (
                "Object.fromEntries([...document.querySelectorAll('[class*=assetNodeContainer]')]"
                ".map(e => [e.querySelector('[class*=assetName]')?.textContent, e.innerText]))"
            )
            last_press = 0.0

            def expanded() -> dict | None:
                # The graph opens with groups collapsed: expand them all (⌥E), again if the first press came too early.
                nonlocal last_press
                nodes = page.js(nodes_js) or {}
                if set(STAGE_ASSETS) <= set(nodes):
                    return None if any("Loading" in text for text in nodes.values()) else nodes
                if time.monotonic() - last_press > 5:
                    page.alt_key("e")
                    last_press = time.monotonic()
                return None

            nodes = wait_for(expanded, 60, f"asset nodes {STAGE_ASSETS} in the graph, with their status loaded")
            shot = tmp_path / "asset-graph.png"
            page.screenshot(shot)
        finally:
            page.close()
        print(f"asset graph screenshot: {shot}")

        for name in STAGE_ASSETS[1:]:  # materialised by the run: its one partition filled
            assert "100% filled" in nodes[name], (name, nodes[name])
        for name in ("payments", "funds_by_source"):  # their asset checks ran and passed
            assert re.search(r"(\d+) / \1 Passed", nodes[name]), (name, nodes[name])
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert shot.stat().st_size > 50_000  # a blank or error page compresses far smaller
    finally:
        for proc in servers:
            stop(proc)


def test_make_run_then_make_ui_show_the_run_its_partition_and_checks(tmp_path):
    """The newcomer's first hour: `make run` records into the instance `make ui` reads; no telemetry banner."""
    dry = subprocess.run(["make", "-n", "run", "ui", "STAMP=Makefile"], cwd=ROOT, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert "DAGSTER_HOME=" + str(ROOT / ".dagster_home") in dry.stdout and "-m pipeline partitions" in dry.stdout
    bin_dir = Path(sys.executable).parent
    home, out = tmp_path / "dagster_home", tmp_path / "out"
    home.mkdir()
    (home / "dagster.yaml").write_bytes((ROOT / "deploy" / "dagster-local.yaml").read_bytes())
    env = {**os.environ, "DAGSTER_HOME": str(home), "PIPELINE_RAW_ROOT": str(RAW), "PIPELINE_OUT_ROOT": str(out)}
    run = subprocess.run(
        [sys.executable, "-m", "pipeline", "run", "--raw", str(RAW), "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    assert "Telemetry" not in run.stdout + run.stderr
    registered = subprocess.run(
        [sys.executable, "-m", "pipeline", "partitions", "--raw", str(RAW)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert registered.returncode == 0 and HOHHOT in registered.stdout and SELF_EVALUATION in registered.stdout, (
        registered.stderr
    )
    port = free_port()
    web_log = tmp_path / "webserver.log"
    server = start(
        [str(bin_dir / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)], env, web_log
    )
    try:
        gql = GraphQL(port)

        def up() -> bool:
            assert server.poll() is None, tail(web_log)
            try:
                return location_loaded(gql)
            except OSError:
                return False

        wait_for(up, 180, "the webserver to load the code location")
        runs = gql("{ runsOrError { ... on Runs { results { status tags { key value } } } } }")["runsOrError"][
            "results"
        ]
        # one run per evaluation folder under raw/ (the Hohhot reconstruction, its illustrative second year, the
        # self-evaluation example), then the portfolio's refresh, which has no partition
        found, _ = scan(RAW)
        assert [r["status"] for r in runs] == ["SUCCESS"] * (len(found) + 1)
        partitions = [t["value"] for r in runs for t in r["tags"] if t["key"] == "dagster/partition"]
        assert sorted(partitions) == sorted(ev.id for ev in found) and {HOHHOT, SELF_EVALUATION} <= set(partitions)
        [portfolio] = gql("""{ assetNodes(assetKeys: [{path: ["portfolio"]}]) { isPartitioned
                          dependencyKeys { path } assetMaterializations(limit: 1) { runId } } }""")["assetNodes"]
        assert not portfolio["isPartitioned"] and portfolio["dependencyKeys"] == [{"path": ["run_manifest"]}]
        assert len(portfolio["assetMaterializations"]) == 1
        repo = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
        keys = gql(
            """query($repo: RepositorySelector!) { partitionSetsOrError(repositorySelector: $repo,
                      pipelineName: "evaluate") { ... on PartitionSets { results { partitionsOrError {
                      ... on Partitions { results { name } } } } } } }""",
            repo=repo,
        )
        names = [
            p["name"] for ps in keys["partitionSetsOrError"]["results"] for p in ps["partitionsOrError"]["results"]
        ]
        assert HOHHOT in names
        checks = gql("""{ assetNodes(assetKeys: [{path: ["payments"]}]) { assetChecksOrError {
                       ... on AssetChecks { checks { name executionForLatestMaterialization { status } } } } } }""")
        [node] = checks["assetNodes"]
        assert {
            c["name"]: c["executionForLatestMaterialization"]["status"] for c in node["assetChecksOrError"]["checks"]
        } == {"contract": "SUCCEEDED"}
    finally:
        stop(server)
