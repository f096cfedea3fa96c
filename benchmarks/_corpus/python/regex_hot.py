"""Regular-expression hot path: each log line is matched with module-level re calls (pattern
strings, looked up in re's cache on every call) in the request thread.

Known bottleneck by construction: CPU in the re module (regex), called from parse_line.
Runs for about 6 s (argv[1] overrides) and stops by itself.
"""

from __future__ import annotations

import re
import sys
import time

LINE = (
    '10.0.0.7 - - [01/Dec/2024:10:00:00 +0000] "GET /api/v1/orders/12345?expand=items HTTP/1.1" '
    '200 5123 "-" "curl/8.5.0" rt=0.012 uct=0.001 ' * 4
)


def parse_line(line: str) -> int:
    found = re.findall(r"(\d+\.\d+\.\d+\.\d+)|rt=(\d+\.\d+)|\"(GET|POST) ([^ ]+)", line)
    clean = re.sub(r"\s+", " ", line)
    return len(found) + len(clean)


def main() -> None:
    until = time.monotonic() + (float(sys.argv[1]) if len(sys.argv) > 1 else 6.0)
    total = 0
    while time.monotonic() < until:
        total += parse_line(LINE)
    print(total % 7)


if __name__ == "__main__":
    main()
