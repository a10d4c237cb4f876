"""How many Dagster events one run stores, and their serialised bytes by type (the largest ten listed).

python docs/bench/s42-event-bytes.py RAW EVALUATION OUT

Runs the evaluation in this process on an ephemeral instance (as ``python -m pipeline run`` without
DAGSTER_HOME) and reads its event log back. Stop 42: a national run's 608 events held 5.24 MB, of which
3.9 MB were the six submission tables' ``input_sha256`` lists (2,850 hashes each, twice per table: the
step output and the materialisation); 1.48 MB with the lists digested.
"""

from __future__ import annotations

import collections
import sys

from dagster_shared.serdes import serialize_value

from pipeline.materialize import instance, materialize_evaluation


def kind(entry) -> str:
    return entry.dagster_event.event_type_value if entry.dagster_event else "LOG"


def main(raw: str, evaluation_id: str, out: str) -> None:
    inst = instance()
    outcome = materialize_evaluation(evaluation_id, raw, out, inst)
    logs = inst.all_logs(inst.get_runs(limit=1)[0].run_id)
    sizes = [(len(serialize_value(e)), kind(e), e.step_key) for e in logs]
    count, volume = collections.Counter(k for _, k, _ in sizes), collections.Counter()
    for n, k, _ in sizes:
        volume[k] += n
    print(f"run succeeded: {outcome.success}; events {len(logs)}, bytes {sum(n for n, _, _ in sizes):,}")
    for k, n in volume.most_common():
        print(f"  {k:32s} {count[k]:4d} events {n:>10,} bytes")
    print("largest:")
    for n, k, step in sorted(sizes, key=lambda s: -s[0])[:10]:
        print(f"  {n:>9,} {k} {step}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
