"""check_rows over every kind of the national evaluation, one thread, N times in one process (stop 38's A/B).

Run from the checkout to measure: ``python s38-check-rows-ab.py 3 new`` (an older checkout with PYTHONPATH).
"""

import gc
import sys
import time
from pathlib import Path

from pipeline import evaluation
from pipeline.contract import KINDS
from pipeline.ingest.stage import read_all, source_files
from pipeline.ingest.validate import Codes, check_rows

raw = Path("/tmp/pes-bench/raw")
ev = evaluation.find(raw, "2023-national-synth")
tables = read_all(ev, source_files(ev, raw))
codes = Codes.for_evaluation(ev, [], ev.indicator_codes)
codes.subproject = (
    check_rows(KINDS["subprojects"], tables["subprojects"], ev, codes).accepted["subproject_code"].tolist()
)
for _ in range(int(sys.argv[1])):
    gc.collect()
    t = time.perf_counter()
    results = {name: check_rows(KINDS[name], ts, ev, codes) for name, ts in tables.items() if ts}
    del results
    print(sys.argv[2], f"check_rows all kinds: {time.perf_counter() - t:.2f}", flush=True)
