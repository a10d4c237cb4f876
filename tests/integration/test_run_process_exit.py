"""A process that multiprocessing started, as Dagster's code server starts each run, exits once its work is done.

The reader pool's workers and the sidecar are children of the run's process. multiprocessing's own exit function joins
every child before atexit handlers run, so a pool stopped only by atexit left each finished run's process
waiting for its workers for ever (seen under the daemon: dozens of finished runs' processes still alive).
"""

from __future__ import annotations

import multiprocessing
import os

import pytest

from pipeline import sidecar
from pipeline.evaluation import find
from pipeline.ingest.stage import ingest
from tests.support import HOHHOT, RAW


def read_hohhot() -> None:
    result = ingest(find(RAW, HOHHOT), RAW)
    assert result.rows["read"] > 0


def use_the_sidecar() -> None:
    sidecar.start()
    assert sidecar.submit(os.getpid).result() != os.getpid()


@pytest.mark.parametrize("work", [read_hohhot, use_the_sidecar], ids=["reader pool", "sidecar"])
def test_a_spawned_process_that_used_worker_processes_exits(work):
    child = multiprocessing.get_context("spawn").Process(target=work)
    child.start()
    child.join(timeout=60)
    alive = child.is_alive()
    if alive:  # clean up what the bug leaves behind before failing
        child.kill()
        child.join()
    assert not alive, "the process stayed alive after its work (its worker processes were never stopped)"
    assert child.exitcode == 0
