#!/bin/bash
# Used again at stop 41 with OLD, WORK and PAIRS set (docs/bench/README.md); report_layout's seconds printed since.
# A/B of the national nightly run with one changed county: old code (a worktree at $OLD) on its own copy of
# the outputs, new code (/work/main) on another. Each pair changes one county workbook as `make bench` does
# (one payment +0.01 万元), then runs both sides, order alternating; the first pair primes both copies.
# Each side runs from its own checkout (NEW, default /work/main): `python -m` puts the working directory ahead of PYTHONPATH.
set -u
OLD=${OLD:-/tmp/wt-old}
NEW=${NEW:-/work/main}
RAW=${RAW:-/tmp/pes-bench/raw}
WORK=${WORK:-/tmp/s40-ab}
PAIRS=${PAIRS:-5}
PY=${PY:-/work/main/.venv/bin/python}  # one environment; each side imports its own checkout
mkdir -p "$WORK"
run() { # $1 = old|new
  local out=$WORK/out-$1 dir=$NEW; [ "$1" = old ] && dir=$OLD
  local t0 t1 rc
  t0=$(date +%s.%N)
  (cd "$dir" && PYTHONPATH=$dir $PY -m pipeline run --raw "$RAW" --out "$out" --evaluation 2023-national-synth --if-changed > "$WORK/ab-$1.log" 2>&1)
  rc=$?
  t1=$(date +%s.%N)
  echo "$1 wall $(python3 -c "print(round($t1-$t0,2))") exit $rc steps $(python3 -c "import json;d=json.load(open('$out/2023-national-synth/logs/step_seconds.json'));print(' '.join(f'{k}={v}' for k,v in d.items() if k in ('validated_submissions','fund_reconciliation','indicator_scoring','report_layout','evaluation_report')))")"
}
for i in $(seq 0 "$PAIRS"); do
  (cd $NEW && $PY -c "from pathlib import Path; from pipeline.tools.bench import _touch_one_county as t; print(t(Path('$RAW/2023-national-synth')).name)")
  if [ $((i % 2)) -eq 0 ]; then run old; run new; else run new; run old; fi
done
