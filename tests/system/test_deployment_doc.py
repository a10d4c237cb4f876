"""docs/deployment.md as written: the blocks it marks `<!-- ci: run -->` run in one bash session, as root, against
the local PostgreSQL (role and database creation, the environment file, instance migrate, schedule and sensor
start and list, the health check).

Only names are replaced, each of which must appear in the text: the role and database (a `dagster` role
that exists on a machine is never touched), its password, and the folders under /srv/pes and /etc/pes.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys

import pytest

from tests.support import ROOT, require_program
from tests.support.pg import as_superuser, ensure_server

DOC = ROOT / "docs" / "deployment.md"
BLOCK = re.compile(r"<!-- ci: run(?:, exit (\d+))? -->\n```sh\n(.*?)```", re.S)


def script(tmp_path, name: str, password: str) -> str:
    """The marked blocks with the throwaway names, in one shell as a person types them; any failure stops it."""
    text = DOC.read_text(encoding="utf-8")
    replacements = [
        ("ROLE dagster ", f"ROLE {name} "),
        ("DATABASE dagster OWNER dagster", f"DATABASE {name} OWNER {name}"),
        ("DAGSTER_PG_DB=dagster\n", f"DAGSTER_PG_DB={name}\n"),
        ("DAGSTER_PG_USERNAME=dagster\n", f"DAGSTER_PG_USERNAME={name}\n"),
        ("change-me", password),
        ("/srv/pes", f"{tmp_path}/srv/pes"),
        ("/etc/pes", f"{tmp_path}/etc/pes"),
    ]
    parts = ["set -euo pipefail"]
    for expected_exit, body in BLOCK.findall(text):
        for written, throwaway in replacements:
            body = body.replace(written, throwaway)
        want = int(expected_exit or 0)
        parts.append(f"echo '### block (expects exit {want})'")
        parts += (
            [body]
            if not want
            else [
                "set +e",
                f"(\n{body})",
                "status=$?",
                "set -e",
                f'[ "$status" -eq {want} ] || {{ echo "block exited $status, not {want}"; exit 1; }}',
            ]
        )
    blocks = "\n".join(b for _, b in BLOCK.findall(text))
    for written, _ in replacements:
        assert written in blocks, f"docs/deployment.md no longer says {written!r}: update this test"
    return "\n".join(parts) + "\n"


def test_the_documented_commands_run_as_written(tmp_path):
    require_program("psql")
    if os.geteuid() != 0:
        pytest.skip("docs/deployment.md's commands are run as root (runuser); .ci/run is root")
    ensure_server()
    name, password = f"pes_doc_{secrets.token_hex(4)}", secrets.token_hex(12)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "PIPELINE_"))}
    env["PATH"] = f"{os.path.dirname(sys.executable)}:{env['PATH']}"  # the set-up's `export PATH=.venv/bin:…`
    try:
        proc = subprocess.run(
            ["bash", "-c", script(tmp_path, name, password)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        as_superuser(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        as_superuser(f"DROP ROLE IF EXISTS {name}")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert out.count("### block") == 4
    assert re.search(r"nightly_evaluations \[RUNNING\]", out), out
    assert re.search(r"raw_submissions_sensor \[RUNNING\]", out), out
    assert "从未有心跳" in out and "异常 / UNHEALTHY" in out
    assert (tmp_path / "srv/pes/dagster_home/dagster.yaml").read_bytes() == (ROOT / "deploy/dagster.yaml").read_bytes()
