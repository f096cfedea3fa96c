"""An idle worker pool beside one busy thread: 8 pool threads block on an empty queue.Queue
(nothing is submitted), and one thread computes checksums.

Known bottleneck by construction: the busy thread's compute (checksum); the pool's queue.get is
idle, not a bottleneck. Runs for about 6 s (argv[1] overrides) and stops by itself.
"""

from __future__ import annotations

import queue
import sys
import threading
import time

JOBS: queue.Queue[int | None] = queue.Queue()


def pool_worker() -> None:
    while JOBS.get() is not None:
        pass


def checksum(data: bytes) -> int:
    h = 0
    for b in data:
        h = (h * 31 + b) & 0xFFFFFFFF
    return h


def busy(until: float) -> None:
    data = bytes(range(256)) * 16
    while time.monotonic() < until:
        checksum(data)


def main() -> None:
    until = time.monotonic() + (float(sys.argv[1]) if len(sys.argv) > 1 else 6.0)
    pool = [threading.Thread(target=pool_worker, name=f"pool-{i}") for i in range(8)]
    for t in pool:
        t.start()
    b = threading.Thread(target=busy, args=(until,), name="busy")
    b.start()
    b.join()
    for _ in pool:
        JOBS.put(None)
    for t in pool:
        t.join()


if __name__ == "__main__":
    main()
