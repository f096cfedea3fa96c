"""Ingest cost: `throughput_expert.analyze` on a 1,000,000-point Prometheus range response.

Builds, in a temporary folder, one `/api/v1/query_range` answer (docs/formats.md §1.1: matrix,
values as strings, timestamps 1 s apart) of raw node_exporter series for 5 hosts: 2 cpus x
8 modes of `node_cpu_seconds_total`, `node_network_{receive,transmit}_bytes_total` for eth0,
and the `node_memory_MemAvailable_bytes` / `node_memory_MemTotal_bytes` gauges. That is 100
series of 10,000 points (Prometheus caps a series at 11,000 points per query).

Then times, side by side alternating, two whole processes as a user sees them, imports
included: `python -c 'import json; json.load(open(FILE))'` against `tpx analyze --metrics FILE
--format json`, and prints both medians and their ratio. Goal: tpx costs at most 2x the bare
JSON parse, i.e. its imports and everything after parsing cost less than the parse.

    python benchmarks/ingest.py [--runs N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

import numpy as np
from _shared import find_tpx  # benchmarks/_shared.py

GOAL_RATIO = 2.0
HOSTS = 5
CPUS = 2
POINTS_PER_SERIES = 10_000
START_TS = 1_795_750_000
# Share of one cpu's second spent in each mode: a busy web host (sums to 1).
MODE_SHARES = {
    "idle": 0.62,
    "iowait": 0.02,
    "irq": 0.004,
    "nice": 0.001,
    "softirq": 0.015,
    "steal": 0.0,
    "system": 0.09,
    "user": 0.25,
}
MEM_TOTAL_BYTES = 16_763_695_104
NET_RATES_BYTES_PER_S = {"receive": 3.2e6, "transmit": 9.5e6}

Series = tuple[dict[str, str], list[str]]


def prom_float(value: float) -> str:
    """A sample value as Prometheus writes it: shortest round-trip form, no trailing `.0`."""
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def cpu_series(rng: np.random.Generator, labels: dict[str, str]) -> Iterator[Series]:
    """One counter per mode; jiffies (0.01 s) so values look like "12345.67"."""
    boot_ticks = rng.integers(10**6, 10**8)
    for mode, share in MODE_SHARES.items():
        noisy = np.clip(rng.normal(share, share * 0.3 + 1e-4, POINTS_PER_SERIES), 0.0, None)
        ticks = boot_ticks * max(share, 0.001) + np.cumsum(np.round(noisy * 100))
        values = [prom_float(t / 100) for t in ticks.astype(np.int64).tolist()]
        yield {"__name__": "node_cpu_seconds_total", **labels, "mode": mode}, values


def network_series(rng: np.random.Generator, labels: dict[str, str]) -> Iterator[Series]:
    """Byte counters for eth0, integers as node_exporter reports them."""
    for direction, rate in NET_RATES_BYTES_PER_S.items():
        steps = rng.gamma(4.0, rate / 4.0, POINTS_PER_SERIES).astype(np.int64)
        counter = rng.integers(10**9, 10**12) + np.cumsum(steps)
        name = f"node_network_{direction}_bytes_total"
        yield {"__name__": name, **labels, "device": "eth0"}, [str(v) for v in counter.tolist()]


def memory_series(rng: np.random.Generator, labels: dict[str, str]) -> Iterator[Series]:
    """MemAvailable wanders between 20 % and 80 % of MemTotal in 4 KiB pages; MemTotal is flat."""
    walk = 0.5 + np.cumsum(rng.normal(0.0, 0.002, POINTS_PER_SERIES))
    available = (np.clip(walk, 0.2, 0.8) * MEM_TOTAL_BYTES // 4096 * 4096).astype(np.int64)
    yield (
        {"__name__": "node_memory_MemAvailable_bytes", **labels},
        [str(v) for v in available.tolist()],
    )
    yield (
        {"__name__": "node_memory_MemTotal_bytes", **labels},
        [str(MEM_TOTAL_BYTES)] * POINTS_PER_SERIES,
    )


def host_series(rng: np.random.Generator, host: int) -> Iterator[Series]:
    """Every series one node_exporter host contributes."""
    labels = {"instance": f"web-{host}:9100", "job": "node"}
    for cpu in range(CPUS):
        yield from cpu_series(rng, {**labels, "cpu": str(cpu)})
    yield from network_series(rng, labels)
    yield from memory_series(rng, labels)


def write_series(out: IO[str], metric: dict[str, str], values: list[str]) -> None:
    """One matrix entry: {"metric": {...}, "values": [[ts, "v"], ...]}, labels sorted."""
    labels = json.dumps(metric, separators=(",", ":"), sort_keys=True)
    out.write('{"metric":' + labels + ',"values":[')
    out.write(",".join(f'[{START_TS + i},"{v}"]' for i, v in enumerate(values)))
    out.write("]}")


def build_response(path: Path, seed: int = 7) -> int:
    """Writes the query_range response to `path`; returns the number of points in it."""
    rng = np.random.default_rng(seed)
    points = 0
    with path.open("w", encoding="utf-8") as out:
        out.write('{"status":"success","data":{"resultType":"matrix","result":[')
        for host in range(HOSTS):
            for metric, values in host_series(rng, host):
                out.write("," if points else "")
                write_series(out, metric, values)
                points += len(values)
        out.write("]}}")
    return points


def wall_time(command: Sequence[str]) -> float:
    """Seconds one run of `command` takes, start to exit; fails loudly if the command fails."""
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(
            f"benchmarks/ingest.py: {' '.join(command)} exited {done.returncode}:\n"
            + done.stderr.decode(errors="replace")
        )
    return elapsed


def alternate(first: Sequence[str], second: Sequence[str], runs: int) -> tuple[float, float]:
    """Median wall times of two commands run in turn, after one unmeasured warm-up each (the
    file then sits in the page cache for both)."""
    wall_time(first)
    wall_time(second)
    times_first: list[float] = []
    times_second: list[float] = []
    for _ in range(runs):
        times_first.append(wall_time(first))
        times_second.append(wall_time(second))
    return statistics.median(times_first), statistics.median(times_second)


def run(folder: Path, runs: int) -> None:
    """Build the file in `folder`, time both whole processes, print the verdict."""
    tpx = find_tpx("ingest.py")
    path = folder / "query_range_node_exporter.json"
    start = time.perf_counter()
    points = build_response(path)
    built = time.perf_counter() - start
    size_mb = path.stat().st_size / 1e6
    print(f"input:              {path}")
    print(f"                    {points:,} points, {size_mb:.1f} MB, built in {built:.1f} s")
    parse = [
        sys.executable,
        "-c",
        "import json, sys; json.load(open(sys.argv[1], 'rb'))",
        str(path),
    ]
    analyze = [tpx, "analyze", "--metrics", str(path), "--format", "json"]
    parse_median, analyze_median = alternate(parse, analyze, runs)
    ratio = analyze_median / parse_median
    print(f"runs:               {runs} each, alternating, whole processes  [{tpx}]")
    print(f"python json.load:   {parse_median:8.3f} s (median)")
    print(f"tpx analyze:        {analyze_median:8.3f} s (median)")
    print(f"ratio:              {ratio:8.2f}x")
    print(f"goal <= {GOAL_RATIO:g}x: {'met' if ratio <= GOAL_RATIO else 'not met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="measured runs of each (>= 5)")
    parser.add_argument("--keep", type=Path, help="build the file in DIR and keep it")
    args = parser.parse_args()
    runs = max(args.runs, 5)
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        run(args.keep, runs)
        return
    with tempfile.TemporaryDirectory(prefix="tpx-ingest-") as folder:
        run(Path(folder), runs)


if __name__ == "__main__":
    main()
