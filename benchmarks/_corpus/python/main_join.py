"""The main thread waits in Thread.join while 2 workers hash large buffers (hashlib releases
the GIL for big inputs, so both run at once on 2 cores).

Known bottleneck by construction: the workers' compute (digest_chunks); the main thread's join
is benign. Runs for about 6 s (argv[1] overrides) and stops by itself.
"""

from __future__ import annotations

import hashlib
import sys
import threading
import time


def digest_chunks(chunk: bytes, until: float) -> int:
    n = 0
    while time.monotonic() < until:
        hashlib.sha256(chunk).digest()
        n += 1
    return n


def main() -> None:
    until = time.monotonic() + (float(sys.argv[1]) if len(sys.argv) > 1 else 6.0)
    chunk = b"x" * (1 << 20)
    workers = [
        threading.Thread(target=digest_chunks, args=(chunk, until), name=f"hash-{i}")
        for i in range(2)
    ]
    for t in workers:
        t.start()
    for t in workers:
        t.join()


if __name__ == "__main__":
    main()
