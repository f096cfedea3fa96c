"""Advice quality: throughput at the concurrency `tpx sweep --concurrency auto` recommends, over
the best of an exhaustive sweep measured in the same run, on three Python workloads with a peak.

Each workload is a function driven by the `callable` driver in threads. n is the number of calls
in flight; each workload's peak follows from its construction:

- **sleeping**: sleep P = 50 ms outside any lock, then hold one lock while sleeping
  B + K·n (B = 1 ms, K = 0.3 ms). X(n) = min(n / (P + B + K·n), 1 / (B + K·n)); the peak is
  where both meet, K·n² + (B − K)·n − (P + B) = 0: n* ≈ 11.9, X* ≈ 217/s.
- **GIL-bound**: sleep P = 20 ms, then hold one lock while a pure-Python loop burns
  B + K·n of CPU (B = 1 ms, K = 0.1 ms; the loop's speed is measured at import, so the
  costs are seconds of this machine's CPU). The GIL is held through the section, so the
  harness competes with it; n* ≈ 10.7 by the same equation, X* ≈ 1/(B + K·n*).
- **CPU-bound**: sleep P = 10 ms, then burn C = 2 ms of pure-Python CPU with no lock: the GIL
  serialises the burning, X(n) = min(n / (P + C), 1 / C): throughput reaches 1/C at
  n = (P + C)/C = 6 and stays flat (a knee, then a plateau the GIL's hand-offs erode).

Per workload:

1. Exhaustive sweep: every level 1..32, then 40, 48, 56, 64 (short levels); its best level.
2. Three `--concurrency auto` searches (the default plan: 16 readings at most, each level read
   up to 5 times); each recommends what `tpx sweep` recommends (`choose_level`: the smallest
   level whose mean throughput is not significantly below the best's, one-sided t-test at 5 %,
   once the peak is bracketed and a level was read twice).
3. Confirmation: the three recommended levels and the exhaustive best are measured again,
   alternating, with longer levels; the ratio of medians is the share of the best.

Goal (issue 18): every recommendation >= 95 % of the exhaustive best, and the three
recommendations within ±1 level of their median.

    python benchmarks/advice_quality.py [--runs 3] [--level-s 0.8] [--confirm-s 2] [--only NAME]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from throughput_expert.advisors.ledger import Ledger
from throughput_expert.advisors.usl_report import choose_level, measured_peak, usl_report
from throughput_expert.measure.drivers import CallableDriver
from throughput_expert.measure.runner import run_sweep
from throughput_expert.measure.search import PeakSearch
from throughput_expert.model.sweep import Sweep
from throughput_expert.sources.settings import load_settings

SLEEPING = """
import threading
import time

P, B, K = 0.050, 0.001, 0.0003
_lock, _guard = threading.Lock(), threading.Lock()
_in_flight = 0


def work():
    global _in_flight
    with _guard:
        _in_flight += 1
    try:
        time.sleep(P)
        with _lock:
            time.sleep(B + K * _in_flight)
    finally:
        with _guard:
            _in_flight -= 1
"""

_BURN = """
import threading
import time


def _spin(k):
    x = 0
    for i in range(k):
        x += i
    return x


def _loops_per_second():
    best = 0.0
    for _ in range(5):
        start = time.perf_counter()
        _spin(20_000)
        best = max(best, 20_000 / (time.perf_counter() - start))
    return best


RATE = _loops_per_second()
_lock, _guard = threading.Lock(), threading.Lock()
_in_flight = 0
"""

GIL_BOUND = (
    _BURN
    + """
P, B, K = 0.020, 0.001, 0.0001


def work():
    global _in_flight
    with _guard:
        _in_flight += 1
    try:
        time.sleep(P)
        with _lock:
            _spin(int((B + K * _in_flight) * RATE))
    finally:
        with _guard:
            _in_flight -= 1
"""
)

CPU_BOUND = (
    _BURN
    + """
P, C = 0.010, 0.002
LOOPS = int(C * RATE)


def work():
    time.sleep(P)
    _spin(LOOPS)
"""
)

WORKLOADS = {
    "sleeping": (SLEEPING, "50 ms asleep + lock held asleep 1 ms + 0.3 ms x in flight; n* = 11.9"),
    "gil-bound": (
        GIL_BOUND,
        "20 ms asleep + lock held burning 1 ms + 0.1 ms x in flight; n* = 10.7",
    ),
    "cpu-bound": (CPU_BOUND, "10 ms asleep + 2 ms burning, no lock; knee at n = 6, then flat"),
}
EXHAUSTIVE = [*range(1, 33), 40, 48, 56, 64]
WARMUP_S = 0.3


def sweep(spec: str, levels: list[int], level_s: float) -> list[float]:
    result = run_sweep(
        CallableDriver(spec), concurrency=levels, duration_s=level_s, warmup_s=WARMUP_S
    )
    return [lv.throughput_rps for lv in result.levels]


def searched(spec: str, level_s: float) -> tuple[int | None, Sweep]:
    """What `tpx sweep --concurrency auto` recommends, and the sweep it measured."""
    result = run_sweep(
        CallableDriver(spec), concurrency=PeakSearch(), duration_s=level_s, warmup_s=WARMUP_S
    )
    ledger = Ledger()
    minimum = load_settings().threshold("usl_min_r_squared")
    usl = usl_report(result, ledger, min_r_squared=minimum)
    return choose_level(result, usl.analysis, measured_peak(result, ledger)).level, result


def confirm(spec: str, levels: list[int], runs: int, confirm_s: float) -> dict[int, float]:
    samples: dict[int, list[float]] = {n: [] for n in levels}
    for _ in range(runs):  # alternate, so noise hits every level alike
        for n, x in zip(levels, sweep(spec, levels, confirm_s), strict=True):
            samples[n].append(x)
    return {n: statistics.median(xs) for n, xs in samples.items()}


def workload(name: str, args: argparse.Namespace) -> bool:
    spec = f"tpx_bench_{name.replace('-', '_')}:work"
    started = time.perf_counter()
    print(f"{name}: {WORKLOADS[name][1]}")
    exhaustive = sweep(spec, EXHAUSTIVE, args.level_s)
    best_level = EXHAUSTIVE[exhaustive.index(max(exhaustive))]
    top = max(exhaustive)
    print(f"  exhaustive {len(EXHAUSTIVE)} levels 1..64: best {top:.1f}/s at N = {best_level}")
    recs: list[int] = []
    for run in range(args.runs):
        level, result = searched(spec, args.level_s)
        order = " ".join(f"{lv.level:g}" for lv in result.levels)
        print(f"  search {run + 1}: {len(result.levels)} readings [{order}] -> recommends {level}")
        if level is None:
            print("    no recommendation: " + "; ".join(result.notes[-2:]))
        else:
            recs.append(level)
    levels = sorted({best_level, *recs})
    medians = confirm(spec, levels, max(3, args.runs), args.confirm_s)
    best = medians[best_level]
    shares = [medians[n] / best for n in recs]
    print(f"  confirmation, median of {max(3, args.runs)} runs of {args.confirm_s:g} s:")
    print(f"    exhaustive best N = {best_level:2d}: {best:7.1f}/s")
    for n in sorted(set(recs)):
        print(f"    recommended    N = {n:2d}: {medians[n]:7.1f}/s  {medians[n] / best:6.1%}")
    middle = statistics.median(recs) if recs else 0
    same = len(recs) == args.runs and all(abs(n - middle) <= 1 for n in recs)
    shares_ok = len(recs) == args.runs and all(s >= 0.95 for s in shares)
    verdict = "met" if same and shares_ok else "not met"
    low = f"{min(shares):.1%}" if shares else "-"
    print(
        f"  share of best (lowest of {len(recs)}): {low}; recommendations {recs}; "
        f"goal >= 95 % and same rec 3/3: {verdict}  ({time.perf_counter() - started:.0f} s)"
    )
    return verdict == "met"


def main() -> None:
    parser = argparse.ArgumentParser(description="throughput at the recommended concurrency")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--level-s", type=float, default=0.8)
    parser.add_argument("--confirm-s", type=float, default=2.0)
    parser.add_argument("--only", choices=sorted(WORKLOADS), action="append")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tpx-bench-advice-") as tmp:
        for name, (source, _) in WORKLOADS.items():
            (Path(tmp) / f"tpx_bench_{name.replace('-', '_')}.py").write_text(source)
        sys.path.insert(0, tmp)
        met = [workload(name, args) for name in WORKLOADS if not args.only or name in args.only]
    print(f"advice quality: goal met on {sum(met)} of {len(met)} workloads")


if __name__ == "__main__":
    main()
