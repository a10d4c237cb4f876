#!/bin/bash
# A/B of the national nightly run with one changed county: old code (worktree) on its own copy of the outputs,
# new code on another; each pair changes the same county workbook once, then runs both (order alternating).
set -u
cd /work/main
OLD=/tmp/wt-old
PAIRS=${PAIRS:-4}
run() { # $1 = old|new
  local out=/tmp/s39/out-$1 pp=""; [ "$1" = old ] && pp=$OLD
  local t0=$(date +%s.%N)
  # From the code's own checkout: `python -m` puts the working directory ahead of PYTHONPATH (stop 39 ran this
  # from /work/main, so both sides ran the new code; see docs/bench/README.md).
  (cd ${pp:-/work/main} && PYTHONPATH=$pp /work/main/.venv/bin/python -m pipeline run --raw /tmp/pes-bench/raw --out $out --evaluation 2023-national-synth --if-changed > /tmp/s39/ab-$1.log 2>&1)
  local rc=$? t1=$(date +%s.%N)
  local vs=$(python3 -c "import json;d=json.load(open('$out/2023-national-synth/logs/step_seconds.json'));print(d['validated_submissions'])")
  echo "$1 wall $(python3 -c "print(round($t1-$t0,2))") exit $rc validated_submissions $vs"
}
for i in $(seq 1 $PAIRS); do
  .venv/bin/python /tmp/s39/touch.py > /dev/null
  if [ $((i % 2)) -eq 1 ]; then run old; run new; else run new; run old; fi
done
