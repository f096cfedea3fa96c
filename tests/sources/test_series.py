"""The numeric core: counter increase/rate with resets, gauges, histogram_quantile."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from throughput_expert.errors import InputError
from throughput_expert.sources.series import (
    Series,
    SeriesIndex,
    can_rate,
    counter_increase,
    counter_rate,
    gauge_last,
    gauge_mean,
    histogram_quantile,
    make_labels,
)


def counter(values: list[float], step_s: float = 10.0) -> Series:
    return Series.of("c_total", {}, [i * step_s for i in range(len(values))], values, "counter")


def test_counter_reset_is_added_back() -> None:
    # 10 -> 20: +10; 20 -> 5 is a reset (the counter restarted at 0 and reached 5): +5;
    # 5 -> 15: +10. Increase = 25, which PromQL computes as last - first + value before reset
    # = 15 - 10 + 20 = 25. Over t = 0..30 s the rate is 25 / 30 = 0.8333 /s.
    series = counter([10, 20, 5, 15])
    assert counter_increase(series) == 25.0
    assert counter_rate(series) == pytest.approx(25.0 / 30.0)


def test_counter_without_reset() -> None:
    # 100 -> 160 over 20 s: 60 / 20 = 3 /s.
    assert counter_rate(counter([100, 130, 160])) == 3.0


def test_two_resets_in_a_row() -> None:
    # 50 -> 3 (reset, +3) -> 1 (reset again, +1) -> 4 (+3): 7 in all = 4 - 50 + 50 + 3.
    assert counter_increase(counter([50, 3, 1, 4])) == 7.0


def test_nan_samples_are_dropped_before_a_rate() -> None:
    # Prometheus marks staleness with NaN: (0, 10) and (20, 30) remain: 20 / 20 s = 1 /s.
    series = Series.of("c_total", {}, [0, 10, 20], [10, math.nan, 30])
    assert counter_rate(series) == 1.0


@pytest.mark.parametrize(
    ("times", "values"),
    [([5.0], [1.0]), ([5.0, 5.0], [1.0, 2.0]), ([], []), ([0.0, 1.0], [math.nan, 3.0])],
)
def test_rate_refuses_what_cannot_make_a_rate(times: list[float], values: list[float]) -> None:
    series = Series.of("c_total", {}, times, values)
    assert not can_rate(series)
    with pytest.raises(InputError, match="a rate needs two scrapes") as info:
        counter_rate(series)
    assert info.value.field == "c_total"


def test_increase_needs_two_samples() -> None:
    with pytest.raises(InputError, match="two scrapes"):
        counter_increase(counter([3.0]))


def test_gauges() -> None:
    series = Series.of("g", {}, [0, 1, 2, 3], [1.0, math.nan, 3.0, 8.0])
    assert gauge_mean(series) == 4.0  # (1 + 3 + 8) / 3, NaN skipped
    assert gauge_last(series) == 8.0
    empty = Series.of("g", {}, [0, 1], [math.nan, math.nan])
    assert math.isnan(gauge_mean(empty))
    assert math.isnan(gauge_last(empty))
    with pytest.raises(InputError):
        gauge_mean(Series.of("g", {}, [], []))
    with pytest.raises(InputError):
        gauge_last(Series.of("g", {}, [], []))


def test_series_labels_and_shape() -> None:
    series = Series.of("m", {"b": "2", "a": "1"}, [0.0], [1.0])
    assert series.labels == (("a", "1"), ("b", "2"))
    assert series.label("b") == "2"
    assert series.label("missing") == ""
    assert make_labels((("z", "1"), ("y", "2"))) == (("y", "2"), ("z", "1"))
    assert series.t.dtype == np.float64
    with pytest.raises(InputError, match="differ in shape"):
        Series.of("m", {}, [0.0, 1.0], [1.0])


def test_series_index_drops_created_and_remembers_unrated() -> None:
    idx = SeriesIndex(
        [
            counter([1, 2, 3]),
            Series.of("c_created", {}, [0, 10], [1.7e9, 1.7e9]),
            Series.of("once_total", {}, [0.0], [4.0]),
        ]
    )
    assert "c_created" not in idx.by_name
    assert idx.rate_sum(idx.get("c_total")) == pytest.approx(0.1)
    assert idx.rate_sum(idx.get("once_total")) is None
    assert idx.unrated == {"once_total"}
    assert idx.span == 20.0


# docs/formats.md §1.2's histogram: le 0.05 -> 10, 0.1 -> 18, +Inf -> 20 (cumulative).
BOUNDS = [0.05, 0.1, math.inf]
COUNTS = [10.0, 18.0, 20.0]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (0.25, 0.025),  # rank 5 in (0, 0.05]: 0 + 0.05 * 5/10
        (0.5, 0.05),  # rank 10 ends the first bucket: 0.05 * 10/10
        (0.75, 0.08125),  # rank 15 in (0.05, 0.1]: 0.05 + 0.05 * (15-10)/(18-10)
        (0.9, 0.1),  # rank 18 ends the second bucket
        (0.95, 0.1),  # rank 19 in +Inf: the last finite upper bound
        (1.0, 0.1),
    ],
)
def test_histogram_quantile_interpolates_like_prometheus(q: float, expected: float) -> None:
    assert histogram_quantile(q, BOUNDS, COUNTS) == pytest.approx(expected)


def test_histogram_quantile_edges() -> None:
    assert histogram_quantile(0.5, BOUNDS[::-1], COUNTS[::-1]) == pytest.approx(0.05)  # unsorted
    assert histogram_quantile(-0.1, BOUNDS, COUNTS) == -math.inf
    assert histogram_quantile(1.5, BOUNDS, COUNTS) == math.inf
    assert math.isnan(histogram_quantile(math.nan, BOUNDS, COUNTS))
    assert math.isnan(histogram_quantile(0.5, BOUNDS, [0.0, 0.0, 0.0]))  # no observations
    assert math.isnan(histogram_quantile(0.5, [0.05, 0.1], [10.0, 18.0]))  # no +Inf bucket
    assert math.isnan(histogram_quantile(0.5, [math.inf], [3.0]))  # a single bucket
    # Non-monotonic counts (rates of buckets scraped at slightly different moments) are
    # made monotonic first: +Inf's 17 is read as 18, so the total is 18, the rank of q=0.75 is
    # 13.5, in (0.05, 0.1]: 0.05 + 0.05 * (13.5 - 10) / (18 - 10) = 0.071875.
    assert histogram_quantile(0.75, BOUNDS, [10.0, 18.0, 17.0]) == pytest.approx(0.071875)
    # A first bucket at or below zero returns its bound.
    assert histogram_quantile(0.1, [0.0, 1.0, math.inf], [5.0, 10.0, 10.0]) == 0.0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e12), min_size=2, max_size=40))
def test_increase_sums_the_rises_and_post_reset_values(values: list[float]) -> None:
    expected = sum(b - a if b >= a else b for a, b in itertools.pairwise(values))
    got = counter_increase(counter(values))
    assert got >= 0
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-3)
