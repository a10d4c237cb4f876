"""The run manifest (``OUT/<evaluation_id>/manifest.json``): what went in, what came out, with hashes.

Written last. Byte-identical across reruns on the same inputs and code: no clock, no run id, no
machine path. Outputs that by nature carry the run's time or random ids (the DuckDB file, Data
Docs, logs, alerts) are listed without a hash. Each manifest is also kept as
``history/manifest-<sha256 prefix>.json``, so an auditor can see which version of every
submission each past run used.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.evaluation import Evaluation
from pipeline.files import atomic_write, sha256_file
from pipeline.fingerprint import code_version, combine, evaluation_fingerprint, folder_hashes
from pipeline.store import DB_RECORD, EXPORTS, TABLE_KEYS

MANIFEST = "manifest.json"
HISTORY = "history"
KEY_PACKAGES = (
    "dagster",
    "pandas",
    "pandera",
    "great-expectations",
    "duckdb",
    "fastexcel",
    "openpyxl",
    "xlsxwriter",
    "python-docx",
    "pyarrow",
    "numpy",
)
# Outputs whose bytes change from run to run by nature; listed, never hashed.
UNHASHED = ("pipeline.duckdb", "data_docs", "logs", HISTORY, MANIFEST)
# Not outputs: which asset wrote which file (for carrying a partial run's set), what each CSV was exported from,
# what each submission kind's table is made of (its content key), and the SHA-256 of pipeline.duckdb.
BOOKKEEPING = (".assets", EXPORTS, TABLE_KEYS, DB_RECORD)


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in KEY_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def build(
    ev: Evaluation, inventory: pd.DataFrame, out_dir: Path, known: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The manifest of the set in ``out_dir``; ``known`` holds SHA-256s already taken of its files (by relative path)."""
    known = known or {}
    outputs, unhashed = {}, set()
    for p in sorted(out_dir.rglob("*")):
        rel = p.relative_to(out_dir).as_posix()
        top = rel.split("/", 1)[0]
        if top in BOOKKEEPING or p.name.startswith("."):
            continue
        if top in UNHASHED:
            # Named, never hashed or enumerated: their file names carry run times too (Data Docs).
            if top not in (MANIFEST, HISTORY, "logs"):  # the manifest, its archive, and logs written after it
                unhashed.add(top + ("/" if (out_dir / top).is_dir() else ""))
            continue
        if p.is_file():
            outputs[rel] = known.get(rel) or sha256_file(p)
    # Every input file is hashed once per run: the submissions by the inventory, the rest here.
    prefix = ev.id + "/"  # the inventory names files as <evaluation id>/<path in the folder>
    read = {
        str(f).removeprefix(prefix): str(h) for f, h in zip(inventory["file"], inventory["sha256"], strict=True) if h
    }
    hashes = folder_hashes(ev.folder, known=read)
    config = [p.relative_to(ev.folder).as_posix() for p in ev.config_files()]
    return {
        "evaluation_id": ev.id,
        "input_fingerprint": combine(hashes),
        "inputs": {r.file: r.sha256 for r in inventory.sort_values("file").itertuples()},
        "configuration": {
            "sha256": ev.config_hash(hashes),
            "files": {rel: hashes[rel] for rel in config},
        },
        "code_version": code_version(),
        "versions": package_versions(),
        "outputs": outputs,
        "outputs_not_hashed": sorted(unhashed),
    }


def unchanged_since_last_run(ev: Evaluation, out_dir: Path) -> bool:
    """True when the last run's manifest saw the same inputs (data version) and the same code."""
    path = out_dir / MANIFEST
    if not path.is_file():
        return False
    last = json.loads(path.read_text(encoding="utf-8"))
    return (last.get("input_fingerprint"), last.get("code_version")) == (
        evaluation_fingerprint(ev.folder),
        code_version(),
    )


def write(manifest: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    data = (json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()
    path = out_dir / MANIFEST
    atomic_write(path, data)
    history = out_dir / HISTORY / f"manifest-{hashlib.sha256(data).hexdigest()[:16]}.json"
    history.parent.mkdir(exist_ok=True)
    if not history.exists():
        atomic_write(history, data)
    return path, history
