"""Startup cost of the CLI: wall time of `tpx --help` over `python -c pass`.

Runs the two commands side by side, alternating, as subprocesses, and prints both medians and
their ratio. Goal: `tpx --help` takes at most 3x a bare interpreter start, i.e. the CLI imports
nothing heavy (numpy, scipy, rich) before it knows it needs it.

    python benchmarks/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

GOAL_RATIO = 3.0


def find_tpx() -> str:
    """The `tpx` console script beside this interpreter (no pyenv shim in the timing), else PATH."""
    beside = Path(sys.executable).parent / "tpx"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("tpx")
    if found is None:
        sys.exit("benchmarks/startup.py: `tpx` not found; install the package: pip install -e .")
    return found


def wall_time(command: Sequence[str]) -> float:
    """Seconds one run of `command` takes, start to exit; fails loudly if the command fails."""
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(
            f"benchmarks/startup.py: {' '.join(command)} exited {done.returncode}:\n"
            + done.stderr.decode(errors="replace")
        )
    return elapsed


def alternate(first: Sequence[str], second: Sequence[str], runs: int) -> tuple[float, float]:
    """Median wall times of two commands run in turn, after one unmeasured warm-up each."""
    wall_time(first)
    wall_time(second)
    times_first: list[float] = []
    times_second: list[float] = []
    for _ in range(runs):
        times_first.append(wall_time(first))
        times_second.append(wall_time(second))
    return statistics.median(times_first), statistics.median(times_second)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="measured runs of each (>= 7)")
    args = parser.parse_args()
    runs = max(args.runs, 7)
    tpx = [find_tpx(), "--help"]
    bare = [sys.executable, "-c", "pass"]
    tpx_median, bare_median = alternate(tpx, bare, runs)
    ratio = tpx_median / bare_median
    print(f"runs:               {runs} each, alternating")
    print(f"python -c pass:     {bare_median * 1000:8.1f} ms (median)")
    print(f"tpx --help:         {tpx_median * 1000:8.1f} ms (median)  [{tpx[0]}]")
    print(f"ratio:              {ratio:8.2f}x")
    print(f"goal <= {GOAL_RATIO:g}x: {'met' if ratio <= GOAL_RATIO else 'not met'}")


if __name__ == "__main__":
    main()
