"""The reconciliation's inputs loaded whole and in their columns only, then through ``input_tables``.

Reads a cold national run's output set (``python -m pipeline run ... --out /tmp/s41/cold-new``).
"""

import sys
import time
from pathlib import Path

import pandas as pd

from pipeline import store
from pipeline.reconcile import INPUT_KINDS, input_columns, input_tables

tables = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/s41/cold-new/2023-national-synth/tables")


def load(projected: bool) -> tuple[float, float, int, dict[str, pd.DataFrame]]:
    t0 = time.perf_counter()
    loaded = {
        k: store.read_table(tables / f"{k}.parquet", columns=input_columns(k) if projected else None)
        for k in INPUT_KINDS
    }
    t1 = time.perf_counter()
    shaped = input_tables(loaded)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, sum(shaped[k] is loaded[k] for k in INPUT_KINDS), shaped


for projected in (False, True, False, True):
    loading, shaping, kept, _ = load(projected)
    print(
        f"columns only={projected} load {loading:.3f} s input_tables {shaping:.3f} s, {kept} frames taken as they are"
    )
whole, projected_ = load(False)[3], load(True)[3]
same = all(whole[k].equals(projected_[k]) and whole[k].dtypes.equals(projected_[k].dtypes) for k in INPUT_KINDS)
print("the same frames:", same)
