"""The output tables' schema checks: ``schemas.holds`` against pandera on every table of a published set.

python docs/bench/s42-schema-checks.py OUT/<evaluation>

Each table is read from ``tables/<name>.parquet`` and checked both ways (best of three each); holds must
say yes for every table that passes (a failing one goes to pandera for its failure cases anyway).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from pipeline.schemas import holds
from pipeline.tables import TABLES


def best(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(folder: Path) -> None:
    rows = []
    for path in sorted((folder / "tables").glob("*.parquet")):
        if path.stem not in TABLES:
            continue
        df, schema = pd.read_parquet(path), TABLES[path.stem].schema()
        fast = best(lambda s=schema, d=df: holds(s, d))
        slow = best(lambda s=schema, d=df: s.validate(d))
        rows.append((path.stem, len(df), holds(schema, df), fast, slow))
    for name, n, held, fast, slow in sorted(rows, key=lambda r: -r[4])[:8]:
        print(f"{name:28s} {n:>10,} rows  holds {held!s:5s} {fast:6.3f} s  pandera {slow:6.3f} s")
    print(
        f"{len(rows)} tables: holds {sum(r[3] for r in rows):.3f} s, pandera {sum(r[4] for r in rows):.3f} s; "
        f"not held: {[r[0] for r in rows if not r[2]]}"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
