"""Start-up cost of the CLI, timed as whole processes, as a user sees them.

Runs `python -c pass`, `tpx --help` and `tpx analyze --metrics <the bundled
examples/message-consumer.json>` in turn, as subprocesses, and prints each median beside its goal:

- `tpx --help` takes at most 3x a bare interpreter start (the CLI imports nothing heavy before it
  knows it needs it: numpy, scipy and rich wait for the commands that use them);
- `tpx analyze` of that small metrics file takes at most 250 ms wall, start to exit (scipy and
  numpy are imported only by the paths that fit curves).

    python benchmarks/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from _shared import find_tpx  # benchmarks/_shared.py

GOAL_RATIO = 3.0
GOAL_ANALYZE_S = 0.250
EXAMPLE = "message-consumer.json"


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


def example_metrics() -> str:
    """The bundled example metrics file, found without importing the package."""
    spec = importlib.util.find_spec("throughput_expert")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("benchmarks/startup.py: throughput_expert is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "examples" / EXAMPLE
    if not path.is_file():
        sys.exit(f"benchmarks/startup.py: {path} not found")
    return str(path)


def interleaved(commands: Sequence[Sequence[str]], runs: int) -> list[float]:
    """Median wall time of each command, run in turn (so load drifts hit all alike), after one
    unmeasured warm-up each."""
    for command in commands:
        wall_time(command)
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for command, taken in zip(commands, times, strict=True):
            taken.append(wall_time(command))
    return [statistics.median(taken) for taken in times]


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="measured runs of each (>= 7)")
    args = parser.parse_args()
    runs = max(args.runs, 7)
    tpx = find_tpx("startup.py")
    bare = [sys.executable, "-c", "pass"]
    helps = [tpx, "--help"]
    analyze = [tpx, "analyze", "--metrics", example_metrics()]
    bare_s, help_s, analyze_s = interleaved([bare, helps, analyze], runs)
    help_ratio = help_s / bare_s
    print(f"runs:                 {runs} each, interleaved, median wall time  [{tpx}]")
    print(f"python -c pass:       {bare_s * 1000:8.1f} ms")
    print(
        f"tpx --help:           {help_s * 1000:8.1f} ms  {help_ratio:5.2f}x python -c pass"
        f"   goal <= {GOAL_RATIO:g}x: {verdict(help_ratio <= GOAL_RATIO)}"
    )
    analyze_ratio = analyze_s / bare_s
    print(
        f"tpx analyze (small):  {analyze_s * 1000:8.1f} ms  {analyze_ratio:5.2f}x python -c pass"
        f"   goal <= {GOAL_ANALYZE_S * 1000:g} ms: {verdict(analyze_s <= GOAL_ANALYZE_S)}"
        f"   [{EXAMPLE}]"
    )


if __name__ == "__main__":
    main()
