"""The `callable` driver's overhead per call, over a bare Python loop calling the same function.

For each workload (an empty function, and one doing ~20 µs of arithmetic) it times, alternating,
a bare `for` loop of calls and a one-level closed-loop sweep at concurrency 1 through the
harness (`run_sweep(CallableDriver(...))`: a worker thread calling the function itself, two
clock reads, a count and a histogram record per call), then the same with `--processes` (a
worker process looping the same way). The time per call through the
harness is 1 / throughput; the overhead is the difference from the bare loop. Median of the runs.

Not a goal with a threshold (the issue asks for the figure): it tells which workloads are too
short for the harness to measure faithfully (an overhead of a few tens of microseconds is noise
for a 10 ms operation, and dominates a 1 µs one).

    python benchmarks/callable_driver.py [--runs 5] [--duration 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from throughput_expert.measure.drivers import CallableDriver, load_callable
from throughput_expert.measure.runner import run_sweep

WORKLOADS = """
def empty():
    pass


def arithmetic():
    total = 0
    for i in range(400):
        total += i * i
    return total
"""


def bare_per_call(spec: str, duration: float) -> float:
    fn = load_callable(spec)
    calls, start = 0, time.perf_counter()
    deadline = start + duration
    while time.perf_counter() < deadline:
        for _ in range(1000):
            fn()
        calls += 1000
    return (time.perf_counter() - start) / calls


def harness_per_call(spec: str, duration: float, *, processes: bool) -> float:
    sweep = run_sweep(
        CallableDriver(spec, processes=processes),
        concurrency=[1],
        duration_s=duration,
        warmup_s=0.5,
    )
    return 1 / sweep.levels[0].throughput_rps


def main() -> None:
    parser = argparse.ArgumentParser(description="callable driver overhead per call")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--duration", type=float, default=2.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tpx-bench-callable-") as tmp:
        (Path(tmp) / "tpx_bench_workloads.py").write_text(WORKLOADS)
        sys.path.insert(0, tmp)
        print(f"callable driver, concurrency 1, {args.duration:g} s levels")
        for name in ("empty", "arithmetic"):
            measure(f"tpx_bench_workloads:{name}", max(3, args.runs), args.duration)


def measure(spec: str, runs: int, duration: float) -> None:
    bare: list[float] = []
    threads: list[float] = []
    processes: list[float] = []
    for _ in range(runs):  # alternate, so noise hits every side alike
        bare.append(bare_per_call(spec, duration))
        threads.append(harness_per_call(spec, duration, processes=False))
        processes.append(harness_per_call(spec, duration, processes=True))
    b, t, p = (statistics.median(x) for x in (bare, threads, processes))
    print(f"  {spec.split(':')[1]}: bare loop {b * 1e6:8.2f} µs/call")
    print(f"    threads   {t * 1e6:8.2f} µs/call, overhead {(t - b) * 1e6:7.2f} µs, {t / b:7.1f}x")
    print(f"    processes {p * 1e6:8.2f} µs/call, overhead {(p - b) * 1e6:7.2f} µs, {p / b:7.1f}x")


if __name__ == "__main__":
    main()
