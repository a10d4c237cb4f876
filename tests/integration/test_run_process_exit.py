"""A process that multiprocessing started, as Dagster's code server starts each run, exits once its work is done.

The reader pool's workers are children of the process that read. multiprocessing's own exit function joins
every child before atexit handlers run, so a pool stopped only by atexit left each finished run's process
waiting for its workers for ever (seen under the daemon: dozens of finished runs' processes still alive).
"""

from __future__ import annotations

import multiprocessing

from pipeline.evaluation import find
from pipeline.ingest.stage import ingest
from tests.support import HOHHOT, RAW


def read_hohhot() -> None:
    result = ingest(find(RAW, HOHHOT), RAW)
    assert result.rows["read"] > 0


def test_a_spawned_process_that_read_through_the_pool_exits():
    child = multiprocessing.get_context("spawn").Process(target=read_hohhot)
    child.start()
    child.join(timeout=60)
    alive = child.is_alive()
    if alive:  # clean up what the bug leaves behind before failing
        child.kill()
        child.join()
    assert not alive, "the process that read stayed alive after its work (its reader pool was never stopped)"
    assert child.exitcode == 0
