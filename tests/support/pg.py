"""A real PostgreSQL for the deployment tests: the local server (started when down) and a throwaway database.

`.ci/run` starts the server; run alone, the helper starts the local cluster itself and leaves it running,
since another test session on the machine may be using it by then.
Skips visibly without the PostgreSQL programs, and fails instead when PIPELINE_REQUIRE_SYSTEM_DEPS=1.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator

from tests.support import require_program

HOST, PORT = "127.0.0.1", 5432


def reachable(timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((HOST, PORT), timeout=timeout):
            return True
    except OSError:
        return False


def as_superuser(sql: str) -> None:
    """Run one statement as the database superuser: the postgres OS user when we are root, else PG* env vars."""
    psql = [require_program("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-c", sql]
    cmd = ["runuser", "-u", "postgres", "--", *psql] if os.geteuid() == 0 else psql
    # cwd=/ so the postgres user is not told it cannot read the checkout.
    proc = subprocess.run(cmd, cwd="/", capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise RuntimeError(f"psql failed ({sql}): {proc.stderr.strip()}")


def local_cluster() -> tuple[str, str]:
    """(version, name) of the local cluster listening on PORT, from Debian's pg_lsclusters."""
    listing = subprocess.run(
        [require_program("pg_lsclusters"), "--no-header"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    for line in listing.splitlines():
        version, name, port, *_ = line.split()
        if port == str(PORT):
            return version, name
    raise RuntimeError(f"no local PostgreSQL cluster on port {PORT}: {listing!r}")


def ensure_server() -> None:
    """The server on localhost:PORT, started if it is not up."""
    if reachable():
        return
    ctl = require_program("pg_ctlcluster")
    version, name = local_cluster()
    subprocess.run([ctl, version, name, "start"], check=True, capture_output=True, timeout=120)
    deadline = time.monotonic() + 60
    while not reachable():
        if time.monotonic() > deadline:
            raise RuntimeError(f"PostgreSQL {version}/{name} started but does not accept connections")
        time.sleep(0.5)


@contextlib.contextmanager
def throwaway_database() -> Iterator[dict[str, str | int]]:
    """A fresh role and database owned by it, as the `postgres_db` fields of dagster.yaml; dropped afterwards."""
    ensure_server()
    name = f"pes_test_{secrets.token_hex(4)}"
    password = secrets.token_hex(16)
    as_superuser(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
    try:
        as_superuser(f"CREATE DATABASE {name} OWNER {name}")
        yield {"username": name, "password": password, "hostname": HOST, "db_name": name, "port": PORT}
    finally:
        as_superuser(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        as_superuser(f"DROP ROLE IF EXISTS {name}")
