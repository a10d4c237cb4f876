"""Sealing (``isolation.dump``) and unsealing (``isolation.load``) 800 county read results, best of 5."""

import time
from pathlib import Path

from pipeline import evaluation
from pipeline.ingest import isolation
from pipeline.ingest.read import SourceFile, read_file
from pipeline.ingest.stage import source_files

raw = Path("/tmp/pes-bench/raw")
ev = evaluation.find(raw, "2023-national-synth")
files = [sf for sf in source_files(ev, raw) if sf.listing == "recognised" and sf.submitter_type == "county"][:800]
results = [(sf, read_file(sf, ev.limits)) for sf in files]


def fresh(sf: SourceFile) -> SourceFile:
    return SourceFile(path=sf.path, rel=sf.rel, sha256="", submitter_type="county", submitter=sf.submitter)


best_dump = best_load = float("inf")
for _ in range(5):
    t = time.perf_counter()
    sealed = [isolation.dump(sf, tables) for sf, tables in results]
    best_dump = min(best_dump, time.perf_counter() - t)
    t = time.perf_counter()
    for data, (sf, _) in zip(sealed, results):
        isolation.load(data, fresh(sf))
    best_load = min(best_load, time.perf_counter() - t)
print(f"dump {best_dump / len(results) * 1000:.3f} ms/file load {best_load / len(results) * 1000:.3f} ms/file")
