"""Batching accuracy: recommend a batch size for a target against the local PostgreSQL, then
measure the throughput at that size; print predicted / measured (goal: within 15 %).

Needs a PostgreSQL: `TPX_POSTGRES_DSN` (scripts/services start writes it to .services/env), e.g.
    bash scripts/services start && . .services/env && python benchmarks/batching_accuracy.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

from throughput_expert import design_batching
from throughput_expert.measure.batch_trials import run_batch_trials


def one_run(dsn: str, target: float, repetitions: int) -> tuple[str, int, float, float]:
    report = design_batching(
        "database-insert", target_throughput=target, measure=dsn, measure_budget="15s"
    ).to_dict()
    a = report["analysis"]
    method, size = a["method"], a["batch_size"]
    predicted = a["expected_throughput_rps"]
    trials = run_batch_trials(
        dsn, sizes=(size,), methods=(method,), repetitions=repetitions, time_budget_s=20
    )
    latencies = [t for trial in trials.trials for t in trial.latencies_s]
    measured = size * len(latencies) / sum(latencies)  # rows per second, back to back
    return method, size, predicted, measured


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", type=float, default=50_000, help="rows per second")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--repetitions", type=int, default=60)
    args = parser.parse_args()
    dsn = os.environ.get("TPX_POSTGRES_DSN")
    if not dsn:
        print(
            "TPX_POSTGRES_DSN is not set: run `bash scripts/services start && "
            ". .services/env` first",
            file=sys.stderr,
        )
        return 2
    ratios = []
    for i in range(args.runs):
        method, size, predicted, measured = one_run(dsn, args.target, args.repetitions)
        ratios.append(predicted / measured)
        print(
            f"run {i + 1}: {method} batches of {size}: predicted {predicted:,.0f} rows/s, "
            f"measured {measured:,.0f} rows/s, predicted/measured {predicted / measured:.3f}"
        )
    ratio = statistics.median(ratios)
    print(f"median predicted/measured: {ratio:.3f}")
    print(f"goal within 15 %: {'met' if abs(ratio - 1) <= 0.15 else 'not met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
