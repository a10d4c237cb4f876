import time, sys, gc
from pathlib import Path
from pipeline import evaluation
from pipeline.ingest.stage import source_files, read_all
raw = Path("/tmp/pes-bench/raw"); ev = evaluation.find(raw, "2023-national-synth")
cache = Path(sys.argv[1])
files = source_files(ev, raw)
t = time.perf_counter(); read_all(ev, files, cache); first = time.perf_counter() - t
ts = []
for i in range(5):
    files = source_files(ev, raw)
    t = time.perf_counter(); r = read_all(ev, files, cache); ts.append(time.perf_counter() - t); del r
print(sys.argv[2], "first", round(first, 2), "cached:", " ".join(f"{x:.3f}" for x in ts), "median", sorted(ts)[2])
