"""What the tests share besides fixtures: the repository's paths, the raw/ evaluations, the system-program gate.

Test modules import from here (and from :mod:`tests.support.report_example`, :mod:`tests.support.pg`,
:mod:`tests.support.browser`), never from one another.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RAW = ROOT / "raw"
CORPUS = ROOT / "tests" / "corpus"
HOHHOT = "2023-hohhot-pes"
SELF_EVALUATION = "2023-tumote-skills-self"  # the unit self-evaluation example (自评表)


def require_program(name: str) -> str:
    """Path of a system program; skip visibly when absent, fail when CI demands system deps."""
    path = shutil.which(name)
    if path:
        return path
    reason = f"system program '{name}' is not installed (.ci/run installs it)"
    if os.environ.get("PIPELINE_REQUIRE_SYSTEM_DEPS") == "1":
        pytest.fail(reason)
    pytest.skip(reason)
