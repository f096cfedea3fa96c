"""An asyncio event loop with nothing to do beside one busy thread: the main thread runs a TCP
server on loopback that no client connects to, so its loop waits in the selector (epoll_wait),
and one thread computes a rolling hash.

Known bottleneck by construction: the busy thread's compute (rolling_hash); the event loop's
wait for a connection is idle, not a network wait. Runs for about 6 s (argv[1] overrides) and
stops by itself.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time


def rolling_hash(data: bytes) -> int:
    h = 0
    for b in data:
        h = (h * 257 + b) % 1_000_000_007
    return h


def busy(until: float) -> None:
    data = bytes(range(256)) * 16
    while time.monotonic() < until:
        rolling_hash(data)


async def serve(seconds: float) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    async with server:
        await asyncio.sleep(seconds)


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 6.0
    worker = threading.Thread(target=busy, args=(time.monotonic() + seconds,), name="busy")
    worker.start()
    asyncio.run(serve(seconds))
    worker.join()


if __name__ == "__main__":
    main()
