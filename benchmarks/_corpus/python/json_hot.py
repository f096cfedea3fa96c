"""Serialization hot path: one request thread renders every response with the stdlib json.

Known bottleneck by construction: CPU in json.dumps (serialization), called from render.
Runs for about 6 s (argv[1] overrides) and stops by itself.
"""

from __future__ import annotations

import json
import sys
import threading
import time


def payload(i: int) -> dict[str, object]:
    return {
        "id": i,
        "items": [{"sku": f"sku-{j}", "qty": j % 7, "price": j * 1.25} for j in range(40)],
        "tags": ["a", "b", "c"],
    }


def render(body: dict[str, object]) -> bytes:
    return json.dumps(body, sort_keys=True, indent=1).encode()


def serve(until: float) -> None:
    bodies = [payload(i) for i in range(50)]
    n = 0
    while time.monotonic() < until:
        render(bodies[n % len(bodies)])
        n += 1


def main() -> None:
    until = time.monotonic() + (float(sys.argv[1]) if len(sys.argv) > 1 else 6.0)
    t = threading.Thread(target=serve, args=(until,), name="request")
    t.start()
    t.join()


if __name__ == "__main__":
    main()
