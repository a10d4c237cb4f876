"""Every file's read result hashed (the sealed bytes ``isolation.dump`` makes), and read_file / dump per file.

    python docs/bench/s41-read-digest.py [RAW [EVALUATION]]

A change to the reader that keeps the digest (old and new code on the same files) keeps what every file yields.
Stop 41, national evaluation: ``c4260dce431e5149`` from both before any nightly run had changed county 410527's
workbook, ``df4a252396b30ade`` from both (``928969f`` and ``c278fc7``) after.
"""

import hashlib
import sys
import time
from pathlib import Path

from pipeline import evaluation
from pipeline.ingest import isolation
from pipeline.ingest.read import read_file
from pipeline.ingest.stage import source_files

raw = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/pes-bench/raw")
ev = evaluation.find(raw, sys.argv[2] if len(sys.argv) > 2 else "2023-national-synth")
files = [sf for sf in source_files(ev, raw) if sf.listing == "recognised"]
digest = hashlib.sha256()
reading = sealing = 0.0
for sf in files:
    t0 = time.perf_counter()
    tables = read_file(sf, ev.limits)
    t1 = time.perf_counter()
    sealed = isolation.dump(sf, tables)
    t2 = time.perf_counter()
    reading += t1 - t0
    sealing += t2 - t1
    digest.update(sf.rel.encode())
    digest.update(hashlib.sha256(sealed).digest())
n = len(files)
print(
    f"{n} files digest {digest.hexdigest()[:16]} read_file {reading / n * 1000:.3f} ms/file "
    f"dump {sealing / n * 1000:.3f} ms/file"
)
