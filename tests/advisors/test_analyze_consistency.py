"""Values that contradict each other get a named finding, and the contradicting values are not
used: percentiles out of order, more errors than requests, a utilization too small to scale."""

from __future__ import annotations

from typing import Any

import pytest

from throughput_expert.advisors.analyze import AnalyzeInputs, advise
from throughput_expert.model import Latency, ServiceMetrics
from throughput_expert.sources.settings import load_settings

SETTINGS = load_settings()

BASE = ServiceMetrics(service="api", throughput_rps=2000.0, cores=8, utilization={"cpu": 0.80})


def run(m: ServiceMetrics) -> dict[str, Any]:
    out: dict[str, Any] = advise(AnalyzeInputs(metrics=m), SETTINGS).to_dict()
    return out


def _findings(r: dict[str, Any], word: str) -> list[dict[str, Any]]:
    return [f for f in r["analysis"]["findings"] if word in f["what"]]


def test_p99_below_p50_is_a_finding_and_neither_is_used() -> None:
    r = run(BASE.with_(latency=Latency(mean_s=0.020, p50_s=0.030, p99_s=0.010)))
    (found,) = _findings(r, "latency out of order")
    assert "p99 below p50" in found["what"]
    assert found["values"] == {"p50_ms": pytest.approx(30.0), "p99_ms": pytest.approx(10.0)}
    shown = r["analysis"]["current_throughput"]["latency_ms"]
    assert "p50" not in shown and "p99" not in shown
    assert shown["mean"] == pytest.approx(20.0)  # the mean is in order with what is left


def test_a_mean_above_the_maximum_is_a_finding() -> None:
    r = run(BASE.with_(latency=Latency(mean_s=0.050, max_s=0.010)))
    (found,) = _findings(r, "latency out of order")
    assert "max below mean" in found["what"]
    assert r["analysis"]["current_throughput"]["avg_processing_time_ms"] is None


def test_percentiles_in_order_give_no_finding() -> None:
    r = run(BASE.with_(latency=Latency(mean_s=0.02, p50_s=0.01, p99_s=0.09, max_s=0.2)))
    assert not _findings(r, "latency")
    assert r["analysis"]["current_throughput"]["latency_ms"]["p99"] == pytest.approx(90.0)


def test_errors_above_the_throughput_are_a_finding_and_not_used() -> None:
    r = run(BASE.with_(errors_rps=5000.0))
    (found,) = _findings(r, "errors_rps is above the throughput")
    assert found["values"] == {"errors_rps": 5000.0, "throughput_rps": 2000.0}
    assert r["analysis"]["current_throughput"]["errors_rps"] is None


def test_errors_within_the_throughput_are_kept() -> None:
    r = run(BASE.with_(errors_rps=20.0))
    assert not _findings(r, "errors_rps")
    assert r["analysis"]["current_throughput"]["errors_rps"] == 20.0


@pytest.mark.parametrize("tiny", [1e-302, 1e-200, 1e-9])
def test_a_utilization_whose_ceiling_is_beyond_any_rate_is_a_finding(tiny: float) -> None:
    """X / U past 1e12/s (with U = 1e-302 it overflows a float; with 1e-200 the ceiling would
    print with 200 digits): the resource is left out, named."""
    r = run(BASE.with_(throughput_rps=2000.0, utilization={"cpu": tiny, "disk_io": 0.5}))
    (found,) = _findings(r, "beyond any system")
    assert "cpu" in found["what"]
    assert "cpu" not in r["analysis"]["headroom"]["resources"]
    assert r["analysis"]["headroom"]["binding_resource"] == "disk_io"
    assert len(r["summary"]) < 1000


def test_a_small_real_utilization_is_kept() -> None:
    r = run(BASE.with_(utilization={"cpu": 0.001, "disk_io": 0.5}))
    assert not _findings(r, "beyond any system")
    assert "cpu" in r["analysis"]["headroom"]["resources"]
