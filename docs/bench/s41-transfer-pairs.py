"""``transfer_pairs`` over the national tables, best of 5; with function names, a line profile of them.

    python docs/bench/s41-transfer-pairs.py [transfer_pairs _side _pair_in_order]

Reads a cold national run's output set (``--out /tmp/s41/cold-new``); needs ``line_profiler`` for a profile.
"""

import hashlib
import sys
import time
from pathlib import Path

import pandas as pd

from pipeline import evaluation, store
from pipeline.reconcile import input_columns, input_tables, transfers

ev = evaluation.find(Path("/tmp/pes-bench/raw"), "2023-national-synth")
tables = Path("/tmp/s41/cold-new/2023-national-synth/tables")
inputs = input_tables(
    {k: store.read_table(tables / f"{k}.parquet", columns=input_columns(k)) for k in ("transfers", "county_receipts")}
)
window = ev.settings.transfer_match_window_days
if len(sys.argv) > 1:
    from line_profiler import LineProfiler

    profiler = LineProfiler()
    for name in sys.argv[1:]:
        profiler.add_function(getattr(transfers, name))
    profiler.enable_by_count()
    transfers.transfer_pairs(inputs, ev, window)
    profiler.disable_by_count()
    profiler.print_stats(output_unit=1e-3, stripzeros=True)
else:
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        pairs, edges = transfers.transfer_pairs(inputs, ev, window)
        best = min(best, time.perf_counter() - t)
    print("transfer_pairs best", round(best, 3), "s")
    for frame in (pairs, edges):
        print(hashlib.sha256(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes()).hexdigest()[:16])
