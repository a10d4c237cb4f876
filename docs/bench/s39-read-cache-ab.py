"""read_all over a national read cache: one first pass, then 5 timed passes (run with old code on PYTHONPATH for A/B).

Usage: python s39-read-cache-ab.py CACHE_DIR LABEL
"""

import sys
import time
from pathlib import Path

from pipeline import evaluation
from pipeline.ingest.stage import read_all, source_files

raw = Path("/tmp/pes-bench/raw")
ev = evaluation.find(raw, "2023-national-synth")
cache = Path(sys.argv[1])
t = time.perf_counter()
read_all(ev, source_files(ev, raw), cache)
first = time.perf_counter() - t
times = []
for _ in range(5):
    files = source_files(ev, raw)
    t = time.perf_counter()
    read_all(ev, files, cache)
    times.append(time.perf_counter() - t)
print(sys.argv[2], "first", round(first, 2), "cached:", " ".join(f"{x:.3f}" for x in times), "median", sorted(times)[2])
