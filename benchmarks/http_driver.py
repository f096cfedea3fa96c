"""The `url` driver's maximum rate against nginx, next to wrk's and Locust FastHttpUser's.

Starts Debian's nginx (`apt-get install nginx`) with a temporary configuration on a free loopback
port serving a 13-byte static file (one worker process, access log off), then alternates, for
each run, the same number of keep-alive connections for the same duration:

- `tpx`: `run_sweep(UrlDriver(url), concurrency=[C])`, one Python process, one event loop
  (uvloop's when installed, as the runner chooses), and `tpx-asyncio` the same on asyncio's own
  loop;
- `wrk`: `wrk -t 1 -c C -d D` (Debian's `wrk`), one thread;
- `locust`: a FastHttpUser locustfile run headless with C users by the `locustfile` driver.

With two cores or more, nginx is pinned to the last core and the load generators to the first.
tpx and Locust each run in one process with one event loop, so each uses one core at most and
its rate is its rate per core; each side's CPU seconds (getrusage) are printed beside it. Prints
the medians of the runs and the ratios. Goals (issue 6): tpx >= 0.3x wrk's maximum rate, tpx >= 3x
Locust's rate per core.

    python benchmarks/http_driver.py [--runs 3] [--duration 5] [--connections 16]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest.mock import patch

from throughput_expert.measure import runner
from throughput_expert.measure.http_driver import UrlDriver
from throughput_expert.measure.locust_driver import LocustDriver
from throughput_expert.measure.runner import run_sweep

NGINX_CONF = """
worker_processes 1;
{affinity}daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 10000000;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {tmp}/www;
    }}
}}
"""

LOCUSTFILE = """
from locust import FastHttpUser, task


class Static(FastHttpUser):
    @task
    def index(self):
        self.client.get("/index.html")
"""

Result = tuple[float, float]  # (requests per second, CPU seconds the generator used)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"nginx did not listen on 127.0.0.1:{port}")


@contextmanager
def nginx(tmp: Path) -> Iterator[str]:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        raise SystemExit("nginx not found: apt-get install -y nginx")
    tmp.chmod(0o755)  # nginx's workers run as an unprivileged user when started by root
    (tmp / "www").mkdir(mode=0o755)
    (tmp / "www" / "index.html").write_text("hello, world\n")
    port = free_port()
    conf = tmp / "nginx.conf"
    # Two cores or more: nginx on the last core, every load generator on the first (they inherit
    # this process's affinity), so the scheduler cannot put both on one core in some runs only.
    cores = os.cpu_count() or 1
    affinity = ""
    if cores >= 2:
        os.sched_setaffinity(0, {0})
        affinity = f"worker_cpu_affinity {'1' + '0' * (cores - 1)};\n"
    conf.write_text(NGINX_CONF.format(tmp=tmp, port=port, affinity=affinity))
    proc = subprocess.Popen([binary, "-c", str(conf), "-e", str(tmp / "error.log")])
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}/index.html"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_tpx(url: str, connections: int, duration: float, *, uvloop: bool = True) -> Result:
    cpu = time.process_time()
    with patch.object(runner, "loop_factory", runner.loop_factory if uvloop else lambda: None):
        sweep = run_sweep(
            UrlDriver(url), concurrency=[connections], duration_s=duration, warmup_s=1
        )
    return sweep.levels[0].throughput_rps, time.process_time() - cpu


def run_wrk(url: str, connections: int, duration: float) -> Result:
    cpu = children_cpu()
    out = subprocess.run(
        ["wrk", "-t", "1", "-c", str(connections), "-d", f"{duration:g}s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None:
        raise SystemExit(f"unexpected wrk output:\n{out}")
    return float(match.group(1)), children_cpu() - cpu


def run_locust(url: str, connections: int, duration: float, locustfile: Path) -> Result:
    host = url.rsplit("/", 1)[0]
    cpu = children_cpu()
    result = LocustDriver(str(locustfile), host=host).run_level(
        connections, duration_s=duration, warmup_s=0, max_requests=None
    )
    return result.throughput_rps, children_cpu() - cpu


def median(results: list[Result], index: int) -> float:
    return statistics.median(r[index] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description="url driver vs wrk vs Locust, against nginx")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")
    with tempfile.TemporaryDirectory(prefix="tpx-bench-nginx-") as tmp_name:
        tmp = Path(tmp_name)
        locustfile = tmp / "locustfile.py"
        locustfile.write_text(LOCUSTFILE)
        with nginx(tmp) as url:
            sides: dict[str, Callable[[], Result]] = {
                "tpx": lambda: run_tpx(url, args.connections, args.duration),
                "tpx-asyncio": lambda: run_tpx(url, args.connections, args.duration, uvloop=False),
                "wrk": lambda: run_wrk(url, args.connections, args.duration),
                "locust": lambda: run_locust(url, args.connections, args.duration, locustfile),
            }
            results: dict[str, list[Result]] = {name: [] for name in sides}
            for _ in range(max(3, args.runs)):  # alternate, so noise hits every side alike
                for name, run in sides.items():
                    results[name].append(run())
    report(results, args)


def report(results: dict[str, list[Result]], args: argparse.Namespace) -> None:
    runs = len(results["tpx"])
    print(f"nginx static file, {args.connections} connections, {args.duration:g} s, {runs} runs")
    loop = "uvloop" if runner.loop_factory() is not None else "asyncio (uvloop not installed)"
    print(f"  tpx runs on {loop}; tpx-asyncio on asyncio's own event loop")
    for name, rows in results.items():
        rates = ", ".join(f"{r[0]:,.0f}" for r in rows)
        print(
            f"  {name:11s} median {median(rows, 0):>9,.0f} req/s, "
            f"CPU {median(rows, 1):5.1f} s per run (runs: {rates} req/s)"
        )
    vs_wrk = median(results["tpx"], 0) / median(results["wrk"], 0)
    # tpx and Locust each run in one process on one event loop (Locust: gevent), so each uses
    # one core at most: their rates are their rates per core (the CPU seconds above include
    # warm-up and, for Locust, its start-up, so they are shown, not divided by).
    vs_locust = median(results["tpx"], 0) / median(results["locust"], 0)
    print(f"  tpx / wrk (max rate):          {vs_wrk:.2f}x  goal >= 0.3x: {met(vs_wrk >= 0.3)}")
    plain = median(results["tpx-asyncio"], 0) / median(results["wrk"], 0)
    print(f"  tpx-asyncio / wrk (max rate):  {plain:.2f}x")
    print(f"  tpx / locust (rate per core):  {vs_locust:.2f}x  goal >= 3x: {met(vs_locust >= 3)}")


def met(ok: bool) -> str:
    return "met" if ok else "not met"


if __name__ == "__main__":
    main()
