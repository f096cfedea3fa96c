"""The HDR latency histogram: seconds in, ``Latency`` out, within HdrHistogram's precision."""

from __future__ import annotations

import pytest

from throughput_expert.measure.histogram import LatencyHistogram
from throughput_expert.model.records import Latency


def test_empty_histogram_knows_nothing() -> None:
    hist = LatencyHistogram()
    assert hist.count == 0
    assert hist.latency() == Latency()


def test_percentiles_of_one_to_a_thousand_ms() -> None:
    hist = LatencyHistogram()
    for ms in range(1, 1001):
        hist.record(ms / 1e3)
    lat = hist.latency()
    assert hist.count == 1000
    # Three significant digits: every value within 0.1 % of the exact order statistic.
    assert lat.mean_s == pytest.approx(0.5005, rel=1e-3)
    assert lat.p50_s == pytest.approx(0.500, rel=1e-3)
    assert lat.p90_s == pytest.approx(0.900, rel=1e-3)
    assert lat.p99_s == pytest.approx(0.990, rel=1e-3)
    assert lat.p999_s == pytest.approx(0.999, rel=1e-3)
    assert lat.max_s == pytest.approx(1.000, rel=1e-3)


def test_values_outside_the_range_are_clamped_and_counted() -> None:
    hist = LatencyHistogram()
    hist.record(0.0)
    hist.record(7200.0)
    assert hist.clamped == 2
    lat = hist.latency()
    assert lat.max_s == pytest.approx(3600.0, rel=1e-3)
    assert hist.percentile_s(1) == pytest.approx(1e-6, abs=1e-6)


def test_merge_adds_counts() -> None:
    a, b = LatencyHistogram(), LatencyHistogram()
    a.record(0.001)
    b.record(0.003)
    a.add(b)
    assert a.count == 2
    assert a.latency().mean_s == pytest.approx(0.002, rel=1e-3)
