"""When each step began and when the sidecar's work (GX suites, the PDF's layout, Data Docs) ran, in one run.

python docs/bench/s42_timeline.py run --raw /tmp/pes-bench/raw --out /tmp/out --evaluation 2023-national-synth

Runs the CLI in this process with ``sidecar.submit`` wrapped so that every piece of work records its start,
end and CPU seconds (in the sidecar process), and each step's first progress line its start; seconds from
the start of this script, printed in order at the end (a step reports progress several times: the first
line of each is its start). Used at stop 42 to see that the PDF's layout runs uncontended (CPU ≈ wall).
"""

from __future__ import annotations

import functools
import os
import sys
import time
from pathlib import Path

T0 = float(os.environ.setdefault("PES_TIMELINE_T0", str(time.time())))
LOG = Path(os.environ.setdefault("PES_TIMELINE_LOG", f"/tmp/pes-timeline-{os.getpid()}.log"))


def timed(fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, its start, end and CPU seconds appended to the log (runs in the sidecar)."""
    start, cpu = time.time(), time.process_time()
    try:
        return fn(*args, **kwargs)
    finally:
        name = getattr(fn, "__qualname__", str(fn))
        with LOG.open("a") as f:
            f.write(f"{start - T0:7.2f} {time.time() - T0:7.2f} cpu {time.process_time() - cpu:5.2f} sidecar {name}\n")


def main() -> int:
    sys.path.insert(0, str(Path(__file__).parent))
    import s42_timeline  # this file as a module, so that the sidecar can unpickle ``timed``

    from pipeline import progress, sidecar
    from pipeline.cli import main as cli

    submit = sidecar.submit
    sidecar.submit = lambda fn, *a, **k: submit(functools.partial(s42_timeline.timed, fn), *a, **k)
    seen: set[str] = set()
    for cls in (progress.Reporter, progress.PlainReporter, progress.LiveReporter):

        def step(self, name, _step=cls.step):
            if name not in seen:
                seen.add(name)
                with LOG.open("a") as f:
                    f.write(f"{time.time() - T0:7.2f}       -          step {name}\n")
            return _step(self, name)

        cls.step = step
    code = cli(sys.argv[1:])
    print(f"{time.time() - T0:7.2f}       -          end (exit {code})")
    print("".join(sorted(LOG.read_text().splitlines(keepends=True))), end="")
    return code


if __name__ == "__main__":
    sys.exit(main())
