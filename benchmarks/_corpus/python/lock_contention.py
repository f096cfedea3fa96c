"""A contended threading.Lock on the request path: 8 request threads take one lock around a
critical section (a 2 ms write to a shared store, standing in for I/O done under the lock, plus a
little bookkeeping), and do 0.2 ms of their own work outside it.

Known bottleneck by construction: lock contention at handle_request's `with STORE_LOCK:`; the
process is mostly idle (threads queue on the lock). Runs for about 6 s (argv[1]) and stops.
"""

from __future__ import annotations

import sys
import threading
import time

STORE_LOCK = threading.Lock()
STORE: dict[int, int] = {}


def write_store(key: int) -> None:
    time.sleep(0.002)  # the shared resource's write, done while holding the lock
    STORE[key % 1000] = STORE.get(key % 1000, 0) + 1


def own_work(key: int) -> int:
    return sum(i * i for i in range(key % 7, 200))


def handle_request(key: int) -> int:
    value = own_work(key)
    with STORE_LOCK:
        write_store(key)
    return value


def worker(until: float, seed: int) -> None:
    n = seed
    while time.monotonic() < until:
        handle_request(n)
        n += 8


def main() -> None:
    until = time.monotonic() + (float(sys.argv[1]) if len(sys.argv) > 1 else 6.0)
    threads = [
        threading.Thread(target=worker, args=(until, i), name=f"request-{i}") for i in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
