"""The bench's validate stage (validate_all, its two threads) once after a cold read of the national evaluation."""

import sys
import time
from pathlib import Path

from pipeline import evaluation
from pipeline.ingest.stage import read_all, source_files, validate_all

raw = Path("/tmp/pes-bench/raw")
ev = evaluation.find(raw, "2023-national-synth")
tables = read_all(ev, source_files(ev, raw))
t = time.perf_counter()
validate_all(ev, tables)
print(sys.argv[1], f"validate_all {time.perf_counter() - t:.2f}", flush=True)
