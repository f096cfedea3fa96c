"""USL fit cost: `fit_usl` on 1,000 load levels of synthetic, noisy USL data.

Generates throughput at levels 1..1000 from X(N) = λN / (1 + σ(N − 1) + κN(N − 1)) with
σ = 0.03, κ = 1e-5, λ = 250/s (a peak near N* = 311) and 3 % multiplicative Gaussian noise
(fixed seed), then times `fit_usl` on it. Prints the median of the runs and the fitted
coefficients next to the true ones, so a fast but wrong fit does not pass unnoticed.

Not a goal with a threshold (the issue asks for the figure): a fit is a one-off per sweep, so
anything well under a second is invisible to a user.

    python benchmarks/usl_fit.py [--runs N] [--levels N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from throughput_expert.laws.usl import fit_usl, usl_throughput

SIGMA, KAPPA, LAMBDA = 0.03, 1e-5, 250.0
NOISE = 0.03
SEED = 20_240_601


def synthetic(levels: int) -> tuple[list[float], list[float]]:
    """``levels`` load levels 1..levels and their noisy USL throughputs."""
    rng = np.random.default_rng(SEED)
    n = np.arange(1, levels + 1, dtype=np.float64)
    x = usl_throughput(n, SIGMA, KAPPA, LAMBDA) * rng.normal(1.0, NOISE, n.size)
    return n.tolist(), np.maximum(x, 1e-9).tolist()


def main() -> None:
    parser = argparse.ArgumentParser(description="USL fit cost on synthetic levels")
    parser.add_argument("--runs", type=int, default=5, help="timed runs (default 5)")
    parser.add_argument("--levels", type=int, default=1_000, help="load levels (default 1000)")
    args = parser.parse_args()

    levels, throughputs = synthetic(args.levels)
    fit_usl(levels, throughputs)  # warm-up: imports, caches
    times = []
    for _ in range(max(1, args.runs)):
        start = time.perf_counter()
        fit = fit_usl(levels, throughputs)
        times.append(time.perf_counter() - start)

    print(f"fit_usl on {args.levels} levels, {len(times)} runs")
    print(f"  median {statistics.median(times) * 1e3:.1f} ms (min {min(times) * 1e3:.1f} ms)")
    print(f"  sigma {fit.sigma:.5f} (true {SIGMA}), kappa {fit.kappa:.3e} (true {KAPPA:.0e})")
    print(f"  lambda {fit.lambda_rps:.2f}/s (true {LAMBDA}), R² {fit.r_squared:.4f}")
    peak = "none" if fit.peak_concurrency is None else f"{fit.peak_concurrency:.1f}"
    print(f"  peak N* {peak}, recommended N {fit.recommended_concurrency}")


if __name__ == "__main__":
    main()
