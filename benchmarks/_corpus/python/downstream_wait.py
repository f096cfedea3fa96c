"""A service whose request threads wait on a slow dependency: 4 threads call a local HTTP
server (a separate process on loopback, answering after 30 ms) and parse the small answer.

Known bottleneck by construction: the downstream (network I/O wait in call_inventory), not
compute; the profiled process is mostly idle. Runs for about 6 s (argv[1]) and stops.
"""

from __future__ import annotations

import http.client
import subprocess
import sys
import threading
import time

SERVER = """
import http.server, sys, time
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        time.sleep(0.03)
        body = b'{"in_stock": 3}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.timeout = 0.5
deadline = time.monotonic() + float(sys.argv[1])
while time.monotonic() < deadline:
    s.handle_request()
"""


def call_inventory(conn: http.client.HTTPConnection) -> int:
    conn.request("GET", "/stock/42")
    resp = conn.getresponse()
    return len(resp.read())


def worker(port: int, until: float) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    while time.monotonic() < until:
        call_inventory(conn)
    conn.close()


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 6.0
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(seconds + 2)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        until = time.monotonic() + seconds
        threads = [
            threading.Thread(target=worker, args=(port, until), name=f"request-{i}")
            for i in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.terminate()
        server.wait(5)


if __name__ == "__main__":
    main()
