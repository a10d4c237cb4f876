"""Content fingerprints of an evaluation's inputs and of the code: what decides whether to rerun.

A run is needed when the SHA-256 of any file in the evaluation folder (submissions and
configuration) or the code version changed since the last run. No clock, no mtimes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Mapping
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from pipeline import files as fs

PACKAGE = "pes-evaluation-pipeline"
ROOT = Path(__file__).resolve().parents[1]


def folder_hashes(folder: Path, known: Mapping[str, str] | None = None) -> dict[str, str]:
    """SHA-256 of every regular file under an evaluation folder, keyed by path relative to it.

    ``known`` holds hashes a run already took (the inventory's, by the same relative path): those files
    are not read again, so a run hashes each input once, and its fingerprint is of the bytes it read.
    Links are never followed: a link, FIFO or device counts by its kind (and a link by its
    target's name), so adding or changing one is a change, without reading through it.
    """
    known = known or {}
    out = {}
    for entry in fs.walk(folder):
        rel = "/".join(entry.rel)
        if entry.kind == "file":
            if rel in known:
                out[rel] = known[rel]
                continue
            try:
                out[rel] = fs.sha256_file(entry.path)
            except OSError:
                out[rel] = "unreadable"
        elif entry.kind == "symlink":
            out[rel] = "symlink:" + os.readlink(entry.path)
        elif entry.kind != "directory":
            out[rel] = entry.kind
    return out


def combine(hashes: dict[str, str]) -> str:
    h = hashlib.sha256()
    for name in sorted(hashes):
        h.update(f"{name}\0{hashes[name]}\n".encode())
    return h.hexdigest()


def evaluation_fingerprint(folder: Path) -> str:
    return combine(folder_hashes(folder))


@lru_cache(maxsize=1)
def code_version() -> str:
    """The git commit of the checkout when there is one (marked dirty if changed), else the installed package.

    An installed package (the container image: no git there) is named by its version and the hash of its
    files, so a new image with changed code is a new code version even when nobody bumped the version.
    """
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        diff = subprocess.run(
            ["git", "diff", "HEAD", "--", "pipeline"], cwd=ROOT, capture_output=True, timeout=10
        ).stdout
        # Uncommitted changes to the code are part of the version: their hash, not just a flag.
        return f"git:{commit}" + (f"+dirty.{hashlib.sha256(diff).hexdigest()[:12]}" if diff else "")
    except (OSError, subprocess.SubprocessError):
        package = Path(__file__).resolve().parent
        files = {
            p.relative_to(package).as_posix(): fs.sha256_file(p)
            for p in sorted(package.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts
        }
        try:
            version = metadata.version(PACKAGE)
        except metadata.PackageNotFoundError:
            version = "unknown"
        return f"package:{version}+src.{combine(files)[:12]}"
