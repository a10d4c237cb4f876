#!/bin/bash
# alternating cold national runs: old (/tmp/wt-old) vs new (/work/main)
for i in 1 2 3; do
  for who in old new; do
    if [ $who = old ]; then dir=/tmp/wt-old; pp=/tmp/wt-old; else dir=/work/main; pp=/work/main; fi
    out=/tmp/s38/ab-$who; rm -rf $out; export DAGSTER_HOME=$(mktemp -d); cp /work/main/deploy/dagster-local.yaml $DAGSTER_HOME/dagster.yaml
    s=$(date +%s.%N)
    (cd $dir && PYTHONPATH=$pp /work/main/.venv/bin/python -m pipeline run --raw /tmp/pes-bench/raw --out $out --evaluation 2023-national-synth > /tmp/s38/ab-$who.log 2>&1)
    e=$(date +%s.%N)
    st=$(python3 -c "import json,glob; d=json.load(open(glob.glob('$out/.sets/*/*/logs/step_seconds.json')[0])); print(' '.join(f'{k}={v:.2f}' for k,v in d.items() if k in ('validated_submissions','fund_reconciliation','indicator_scoring')))")
    echo "pair $i $who wall $(python3 -c "print(f'{$e-$s:.1f}')") $st"
  done
done
