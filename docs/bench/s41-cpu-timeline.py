"""Cores busy every 0.2 s while a command runs (from /proc/stat), with a per-second timeline.

python docs/bench/s41-cpu-timeline.py .venv/bin/python -m pipeline run --raw ... --if-changed
"""

import subprocess
import sys
import time


def cpu_times() -> tuple[int, int]:
    """(all jiffies, idle + iowait jiffies) of the machine."""
    with open("/proc/stat") as f:
        values = list(map(int, f.readline().split()[1:]))
    return sum(values), values[3] + values[4]


proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
start, before = time.time(), cpu_times()
samples: list[tuple[float, float]] = []
while proc.poll() is None:
    time.sleep(0.2)
    now = cpu_times()
    total, idle = now[0] - before[0], now[1] - before[1]
    samples.append((time.time() - start, (total - idle) / total * 2 if total else 0.0))
    before = now
print(f"wall {samples[-1][0]:.1f} s, mean cores busy {sum(b for _, b in samples) / len(samples):.2f}")
seconds: dict[int, list[float]] = {}
for t, busy in samples:
    seconds.setdefault(int(t), []).append(busy)
print(" ".join(f"{s}:{sum(v) / len(v):.1f}" for s, v in sorted(seconds.items())))
