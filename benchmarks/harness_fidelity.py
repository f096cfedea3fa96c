"""Harness fidelity: does `tpx sweep --callable` read the throughput the workload really has?

For each workload and each level N it measures, alternating, two things on the same function:

- tpx: a one-level closed-loop sweep through the runner API that `tpx sweep --callable` uses
  (`run_sweep(CallableDriver(spec), concurrency=[N])`);
- a bare reference loop, written here and sharing no code with the harness: N plain threads
  released together, each calling the function in a `while` loop and adding one to its own slot
  after each call; the main thread sleeps through the warm-up, reads the slots, sleeps through
  the window, reads them again. Throughput = completions between the two readings / window.
  No clock is read per call, nothing else runs beside the workload.

The workloads (a module written to a temporary directory):

- `gil_lock`: a GIL-bound workload with a peak: 2 ms of sleep (parallel), then ~0.2 ms of
  Python arithmetic under one `threading.Lock` (serial, holding the GIL);
- `sleep`: `time.sleep(5 ms)`, nothing else (throughput N / 5 ms until the machine's limit);
- `mixed`: ~0.1 ms of Python arithmetic outside any lock, then `time.sleep(2 ms)`.

Levels 1, 2, 4, 8, 16, 32, 64. Each run measures tpx, the reference, and the reference again
(the order rotating from run to run); the ratio is the median over `--runs` runs of tpx /
reference, and the A/A column the median of reference-again / reference: the machine's own
noise floor for that level (on a quiet machine ~1.00; on a busy one a ratio off by no more than
the A/A is noise, not the harness). The goal (issue 18) is a ratio within 5 % at every level.

    python benchmarks/harness_fidelity.py [--runs 3] [--duration 0.8] [--warmup 0.3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from throughput_expert.measure.drivers import CallableDriver, load_callable
from throughput_expert.measure.runner import run_sweep

LEVELS = (1, 2, 4, 8, 16, 32, 64)
GOAL = 0.05
WORKLOADS = """
import threading
import time

_lock = threading.Lock()


def _burn(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


def gil_lock():
    time.sleep(0.002)
    with _lock:
        _burn(4000)


def sleep():
    time.sleep(0.005)


def mixed():
    _burn(2000)
    time.sleep(0.002)
"""
MODULE = "tpx_bench_fidelity"


def reference(spec: str, workers: int, warmup: float, duration: float) -> float:
    """Completions per second of ``workers`` bare threads calling the function in a loop."""
    fn = load_callable(spec)
    done = [0] * workers
    stop = False
    gate = threading.Barrier(workers + 1)

    def loop(slot: int) -> None:
        gate.wait()
        while not stop:
            fn()
            done[slot] += 1

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(workers)]
    for thread in threads:
        thread.start()
    gate.wait()
    time.sleep(warmup)
    before, start = sum(done), time.perf_counter()
    time.sleep(duration)
    after, end = sum(done), time.perf_counter()
    stop = True
    for thread in threads:
        thread.join()
    return (after - before) / (end - start)


def through_tpx(spec: str, workers: int, warmup: float, duration: float) -> float:
    sweep = run_sweep(
        CallableDriver(spec), concurrency=[workers], duration_s=duration, warmup_s=warmup
    )
    return sweep.levels[0].throughput_rps


def main() -> None:
    parser = argparse.ArgumentParser(description="tpx sweep --callable vs a bare loop of threads")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--duration", type=float, default=0.6)
    parser.add_argument("--warmup", type=float, default=0.2)
    parser.add_argument("--workloads", default="gil_lock,sleep,mixed")
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)))
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    runs = max(1, args.runs)
    with tempfile.TemporaryDirectory(prefix="tpx-bench-fidelity-") as tmp:
        (Path(tmp) / f"{MODULE}.py").write_text(WORKLOADS)
        sys.path.insert(0, tmp)
        print(
            f"harness fidelity: tpx sweep --callable vs a bare loop of threads, "
            f"{args.warmup:g} s warm-up + {args.duration:g} s per level, median of {runs}"
        )
        verdicts = []
        for name in args.workloads.split(","):
            verdicts.append(compare(name, levels, runs, args.warmup, args.duration))
        print("summary: " + ", ".join(verdicts))


def compare(name: str, levels: list[int], runs: int, warmup: float, duration: float) -> str:
    spec = f"{MODULE}:{name}"
    print(f"  {name}:")
    print(f"    {'N':>3}  {'tpx /s':>10}  {'bare /s':>10}  {'ratio':>6}  {'A/A':>6}")
    worst = 0.0
    for level in levels:
        ratios: list[float] = []
        controls: list[float] = []
        ours: list[float] = []
        bare: list[float] = []
        for run in range(runs):  # rotate the order, so drift hits every side alike
            sides = ["tpx", "bare", "again"]
            sides = sides[run % 3 :] + sides[: run % 3]
            got: dict[str, float] = {}
            for side in sides:
                measure = through_tpx if side == "tpx" else reference
                got[side] = measure(spec, level, warmup, duration)
            ours.append(got["tpx"])
            bare.append(got["bare"])
            ratios.append(got["tpx"] / got["bare"] if got["bare"] > 0 else float("nan"))
            controls.append(got["again"] / got["bare"] if got["bare"] > 0 else float("nan"))
        ratio, control = statistics.median(ratios), statistics.median(controls)
        worst = max(worst, abs(ratio - 1))
        mine, theirs = statistics.median(ours), statistics.median(bare)
        print(f"    {level:>3}  {mine:10.1f}  {theirs:10.1f}  {ratio:6.3f}  {control:6.3f}")
    verdict = "met" if worst <= GOAL else "not met"
    print(f"    worst |ratio - 1| {worst:.1%}; goal within {GOAL:.0%}: {verdict}")
    return f"{name} {verdict}"


if __name__ == "__main__":
    main()
