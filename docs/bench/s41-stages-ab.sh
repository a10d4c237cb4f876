#!/bin/bash
# A/B of the bench's in-process stages (read, validate, account, reconcile, score: the "core" row) over the
# national evaluation: old code (a worktree at $OLD) and new (/work/main), alternating, each run from its own
# checkout (`python -c` puts the working directory first on sys.path), one process per run.
set -u
OLD=${OLD:-/tmp/wt-old}
NEW=/work/main
RAW=${RAW:-/tmp/pes-bench/raw}
PAIRS=${PAIRS:-4}
PY=$NEW/.venv/bin/python
CODE='
import sys
from pathlib import Path
from pipeline.tools import bench
st = bench.stages(Path(sys.argv[1]), "2023-national-synth", Path("/tmp/s41-stages-scratch"))
core = st["read"] + st["validate"] + st["account"] + st["reconcile"] + st["score"]
print(" ".join(f"{k}={st[k]:.2f}" for k in ("read", "validate", "account", "reconcile", "score")), f"core={core:.2f}")
'
run() { # $1 = old|new
  local dir=$NEW; [ "$1" = old ] && dir=$OLD
  echo "$1 $(cd "$dir" && PYTHONPATH=$dir $PY -c "$CODE" "$RAW" 2>/dev/null | tail -1)"
}
for i in $(seq 1 "$PAIRS"); do
  if [ $((i % 2)) -eq 1 ]; then run old; run new; else run new; run old; fi
done
