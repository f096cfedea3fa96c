"""A request handler for `tpx sweep --callable examples.handler:handle`: 2 ms of waiting (a
downstream call) and a short critical section under one lock, so throughput rises with
concurrency, then flattens as the lock saturates (the USL's contention, sigma)."""

from __future__ import annotations

import threading
import time

LOCK = threading.Lock()


def handle() -> None:
    time.sleep(0.002)  # the downstream call: waiting, no CPU
    with LOCK:  # the shared resource every request needs for 0.2 ms
        time.sleep(0.0002)
