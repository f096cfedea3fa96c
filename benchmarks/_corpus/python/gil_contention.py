"""GIL contention: 4 threads of pure-Python compute (no lock of ours) on a 2-core machine; only
one of them runs at a time, the others wait for the GIL.

Known bottleneck by construction: the GIL (contention), not a user lock. Runs for about 6 s
(argv[1] overrides) and stops by itself.
"""

from __future__ import annotations

import sys
import threading
import time


def score(n: int) -> int:
    total = 0
    for i in range(n):
        total += (i * i) % 7
    return total


def worker(until: float) -> None:
    while time.monotonic() < until:
        score(20_000)


def main() -> None:
    until = time.monotonic() + (float(sys.argv[1]) if len(sys.argv) > 1 else 6.0)
    threads = [threading.Thread(target=worker, args=(until,), name=f"cpu-{i}") for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
