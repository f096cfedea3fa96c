"""The batching cost model T(b) = c0 + c1·b on hand-computed numbers."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from throughput_expert.errors import FitError, InputError, ModelError
from throughput_expert.laws.batching import (
    AddedLatency,
    CostFit,
    added_latency,
    batch_throughput,
    batch_time,
    fill_time,
    fit_cost_model,
    smallest_batch_for,
    split_single_item,
    throughput_limit,
)

C0, C1 = 0.005, 0.0001  # 5 ms per batch, 0.1 ms per item

# --- the model --------------------------------------------------------------------------------


def test_batch_time_by_hand() -> None:
    # T(10) = 5 ms + 10 × 0.1 ms = 6 ms
    assert batch_time(10, C0, C1) == pytest.approx(0.006)


def test_batch_throughput_by_hand() -> None:
    # b = 1: 1 / 5.1 ms = 196.08/s; b = 50, 2 in flight: 2 × 50 / (5 ms + 5 ms) = 10,000/s
    assert batch_throughput(1, C0, C1) == pytest.approx(1 / 0.0051)
    assert batch_throughput(50, C0, C1, concurrency=2) == pytest.approx(10_000)


def test_throughput_limit_by_hand() -> None:
    # concurrency / c1: 1 / 0.1 ms = 10,000/s; 2 in flight: 20,000/s; c1 = 0: no limit
    assert throughput_limit(C1, 1) == pytest.approx(10_000)
    assert throughput_limit(C1, 2) == pytest.approx(20_000)
    assert throughput_limit(0.0, 4) == math.inf


def test_batching_alone_cannot_reach_the_limit() -> None:
    # target 10,000/s, concurrency 1: b = ceil(10000 × 0.005 / (1 − 10000 × 0.0001))
    # = ceil(50 / (1 − 1)) → no finite b; the limit 1 / c1 is 10,000/s exactly.
    assert smallest_batch_for(10_000, C0, C1) is None
    assert smallest_batch_for(12_000, C0, C1) is None


def test_more_concurrency_brings_the_target_within_reach() -> None:
    # concurrency 2: b = ceil(10000 × 0.005 / (2 − 10000 × 0.0001)) = ceil(50 / 1) = 50;
    # X(50) = 100 / 0.01 = 10,000/s exactly, X(49) = 98 / 0.0099 = 9,898.99/s
    assert smallest_batch_for(10_000, C0, C1, concurrency=2) == 50
    assert batch_throughput(49, C0, C1, concurrency=2) < 10_000


def test_smallest_batch_other_cases() -> None:
    # c0 = 2 ms, c1 = 0.5 ms, 1 in flight (limit 2,000/s):
    # target 1,400/s: b = ceil(1400 × 0.002 / (1 − 1400 × 0.0005)) = ceil(2.8 / 0.3) = ceil(9.33)
    # = 10; X(10) = 10 / 7 ms = 1,428.6/s, X(9) = 9 / 6.5 ms = 1,384.6/s
    assert smallest_batch_for(1_400, 0.002, 0.0005) == 10
    # target 1,500/s: b = ceil(3 / 0.25) = 12, X(12) = 12 / 8 ms = 1,500/s exactly
    assert smallest_batch_for(1_500, 0.002, 0.0005) == 12
    # target below the single-item rate 1 / 2.5 ms = 400/s: b = 1
    assert smallest_batch_for(300, 0.002, 0.0005) == 1
    # no fixed cost: nothing to amortise, b = 1 while the target is under the limit
    assert smallest_batch_for(1_000, 0.0, 0.0005) == 1
    assert smallest_batch_for(3_000, 0.0, 0.0005) is None


def test_fill_time_and_added_latency_by_hand() -> None:
    # b = 10 at 1,000 items/s: the first item waits 9 / 1000 = 9 ms for the last;
    # T(10) = 6 ms; p50 = 9/2 + 6 = 10.5 ms; max = 9 + 6 = 15 ms
    assert fill_time(10, 1_000) == pytest.approx(0.009)
    latency = added_latency(10, 1_000, C0, C1)
    assert isinstance(latency, AddedLatency)
    assert latency.fill_s == pytest.approx(0.009)
    assert latency.batch_time_s == pytest.approx(0.006)
    assert latency.p50_s == pytest.approx(0.0105)
    assert latency.max_s == pytest.approx(0.015)
    # b = 1: no wait to fill, just T(1) = 5.1 ms
    assert added_latency(1, 1_000, C0, C1).max_s == pytest.approx(0.0051)


@pytest.mark.parametrize(
    "call",
    [
        lambda: batch_time(0, C0, C1),
        lambda: batch_time(10, -C0, C1),
        lambda: batch_time(10, C0, math.nan),
        lambda: batch_throughput(10, C0, C1, concurrency=0),
        lambda: smallest_batch_for(0, C0, C1),
        lambda: smallest_batch_for(100, C0, C1, concurrency=-1),
        lambda: fill_time(10, 0),
        lambda: throughput_limit(-1e-3),
    ],
)
def test_rejects_impossible_arguments(call: Callable[[], object]) -> None:
    with pytest.raises(InputError):
        call()


def test_a_batch_that_takes_no_time_is_a_model_error() -> None:
    with pytest.raises(ModelError):
        batch_throughput(10, 0.0, 0.0)


@given(
    st.floats(1.0, 1e6),
    st.floats(0.0, 1.0),
    st.floats(1e-9, 1.0),
    st.integers(1, 64),
)
def test_smallest_batch_is_the_smallest_that_meets_the_target(
    target: float, c0: float, c1: float, concurrency: int
) -> None:
    size = smallest_batch_for(target, c0, c1, concurrency)
    if size is None:
        assert target >= throughput_limit(c1, concurrency)
        return
    assert batch_throughput(size, c0, c1, concurrency) >= target * (1 - 1e-9)
    if size > 1:
        assert batch_throughput(size - 1, c0, c1, concurrency) < target


# --- fitting ----------------------------------------------------------------------------------


def test_fit_recovers_an_exact_line() -> None:
    sizes = [1, 10, 100, 1000]
    fit = fit_cost_model(sizes, [C0 + C1 * b for b in sizes])
    assert isinstance(fit, CostFit)
    assert fit.c0_s == pytest.approx(C0)
    assert fit.c1_s == pytest.approx(C1)
    assert fit.r_squared == pytest.approx(1.0)
    assert fit.note is None
    assert not fit.through_origin
    assert max(abs(r) for r in fit.residuals_s) < 1e-12


def test_fit_by_hand() -> None:
    # Weighted least squares, w = 1/T², in ms: b = 1, 2, 3; T = 2, 4, 5; w = 1/4, 1/16, 1/25.
    # Σw = 0.3525, Σwb = 0.495, Σwb² = 0.86, ΣwT = 0.95, ΣwbT = 1.6; det = 0.3525·0.86 − 0.495²
    # = 0.058125 → c1 = (0.3525·1.6 − 0.495·0.95) / 0.058125 = 0.09375 / 0.058125 = 50/31 ms,
    # c0 = (0.95 − 0.495·50/31) / 0.3525 = 40/93 ms. Residuals 2 − 40/93 − 50/31 = −4/93,
    # 4 − 40/93 − 100/31 = 32/93, 5 − 40/93 − 150/31 = −25/93 ms; RSS = 1665/8649 → RSE =
    # √(RSS / 1). R² is weighted like the fit: T̄w = ΣwT / Σw = 380/141, Σw·r² = 1/93,
    # Σw·(T − T̄w)² = 62/141 → R² = 1 − 141/5766 = 1875/1922.
    fit = fit_cost_model([1, 2, 3], [0.002, 0.004, 0.005])
    assert fit.c1_s == pytest.approx(0.050 / 31)
    assert fit.c0_s == pytest.approx(0.040 / 93)
    assert fit.residuals_s == pytest.approx((-0.004 / 93, 0.032 / 93, -0.025 / 93))
    assert fit.r_squared == pytest.approx(1875 / 1922)
    assert fit.residual_std_error_s == pytest.approx(math.sqrt(1665 / 8649) / 1000)
    assert fit.points == fit.sizes == 3


def test_negative_intercept_refits_through_the_origin() -> None:
    # b = 10, 20, 30; T = 0.9, 2.0, 3.1 ms lie on c1 = 0.11 ms, c0 = −0.2 ms < 0 → refit with
    # w = 1/T²: c1 = ΣwbT / Σwb² = Σb/T / Σb²/T² = (10/0.9 + 10 + 30/3.1) / (100/0.81 + 100 +
    # 900/9.61) = 30.7885 / 317.109 = 0.0970912 ms, c0 = 0. Residuals −0.07091, +0.05818,
    # +0.18726 ms; RSS = 0.043480 → RSE = √(0.043480 / 2) = 0.14745 ms. Weighted: T̄w = ΣwT/Σw =
    # 1.21721 ms, Σw·r² = 0.0107032, Σw·(T − T̄w)² = 0.646291 → R² = 0.98344.
    fit = fit_cost_model([10, 20, 30], [0.0009, 0.002, 0.0031])
    assert fit.through_origin
    assert fit.note is not None and "origin" in fit.note
    assert fit.c0_s == 0.0
    assert fit.c1_s == pytest.approx(0.0000970912, rel=1e-5)
    assert fit.r_squared == pytest.approx(0.98344, abs=1e-5)
    assert fit.residual_std_error_s == pytest.approx(0.00014745, rel=1e-4)


def test_two_points_fit_exactly_with_no_error_estimate() -> None:
    # (1, 5.1 ms), (101, 15.1 ms): c1 = 10 / 100 = 0.1 ms, c0 = 5 ms
    fit = fit_cost_model([1, 101], [0.0051, 0.0151])
    assert fit.c0_s == pytest.approx(0.005)
    assert fit.c1_s == pytest.approx(0.0001)
    assert fit.residual_std_error_s is None


def test_data_off_a_line_is_a_fit_error_with_the_residuals() -> None:
    # b = 1..4, T = 1, 9, 2, 8 ms, w = 1/T²: c0 = 5024/24069 = 0.20873 ms, c1 = 19250/24069 =
    # 0.79978 ms; residuals −0.00852, +7.19, −0.608, +4.59 ms; weighted (w = 1/T²) Σw·r² =
    # 1.06053, T̄w = 1.35849, Σw·(T − T̄w)² = 1.64151 → R² = 0.354
    with pytest.raises(FitError) as caught:
        fit_cost_model([1, 2, 3, 4], [0.001, 0.009, 0.002, 0.008])
    message = str(caught.value)
    assert "R² = 0.354" in message
    assert "-0.00852, +7.19, -0.608, +4.59" in message


def test_latency_falling_with_size_is_a_fit_error() -> None:
    with pytest.raises(FitError, match="falls as the batch grows"):
        fit_cost_model([1, 10], [0.010, 0.005])


def test_without_require_line_the_best_line_is_kept_whatever_its_r_squared() -> None:
    # the same data as above: the same line, no error; R² and residuals say how far off it is
    fit = fit_cost_model([1, 2, 3, 4], [0.001, 0.009, 0.002, 0.008], require_line=False)
    assert fit.c0_s == pytest.approx(5024 / 24069 * 1e-3, rel=1e-4)
    assert fit.c1_s == pytest.approx(19250 / 24069 * 1e-3, rel=1e-4)
    assert fit.r_squared == pytest.approx(0.354, abs=1e-3)
    assert fit.residuals_s[1] == pytest.approx(7.19e-3, rel=1e-3)


def test_without_require_line_a_falling_line_is_fitted_flat() -> None:
    # T = 10 and 5 ms: flat c0 = Σ(1/T) / Σ(1/T²) = (100 + 200) / (10^4 + 4·10^4) = 6 ms
    fit = fit_cost_model([1, 10], [0.010, 0.005], require_line=False)
    assert (fit.c0_s, fit.c1_s) == (pytest.approx(0.006), 0.0)
    assert fit.note is not None and "flat" in fit.note
    assert not fit.through_origin
    assert fit.residuals_s == pytest.approx((0.004, -0.001))


@pytest.mark.parametrize(
    ("sizes", "latencies"),
    [
        ([5, 5, 5], [0.01, 0.011, 0.012]),
        ([], []),
        ([1, 2], [0.01]),
        ([0, 2], [0.01, 0.02]),
        ([1, 2], [0.0, 0.02]),
        ([1, 2], [math.nan, 0.02]),
    ],
)
def test_bad_measurements_are_fit_errors(sizes: list[float], latencies: list[float]) -> None:
    with pytest.raises(FitError):
        fit_cost_model(sizes, latencies)


def test_results_are_frozen() -> None:
    fit = fit_cost_model([1, 101], [0.0051, 0.0151])
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.c0_s = 1.0  # type: ignore[misc]


def test_split_single_item() -> None:
    # T(1) = 2 ms, 90 % fixed per batch: c0 = 1.8 ms, c1 = 0.2 ms, and T(1) = c0 + c1
    c0, c1 = split_single_item(0.002, 0.9)
    assert (c0, c1) == (pytest.approx(0.0018), pytest.approx(0.0002))
    assert batch_time(1, c0, c1) == pytest.approx(0.002)


@pytest.mark.parametrize(("time", "share"), [(-0.001, 0.5), (0.002, 1.5), (0.002, -0.1)])
def test_split_single_item_refuses_impossible_arguments(time: float, share: float) -> None:
    with pytest.raises(InputError):
        split_single_item(time, share)
