"""optimize-concurrency: the seed's numbers exactly, then each law on hand-computed numbers."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from throughput_expert import optimize_concurrency
from throughput_expert.advisors.concurrency import ConcurrencyInputs, LatencySlo, advise
from throughput_expert.api import parse_slo
from throughput_expert.errors import InputError
from throughput_expert.laws.queueing import mmc, mmc_response_percentile
from throughput_expert.sources.settings import load_settings

SETTINGS = load_settings()


def run(**kw: Any) -> dict[str, Any]:
    return advise(ConcurrencyInputs(**kw), SETTINGS).to_dict()


def pools(r: dict[str, Any]) -> dict[str, int]:
    return {p["pool"]: p["threads"] for p in r["analysis"]["pools"]}


def test_seed_cpu_bound_8_cores_is_8_threads() -> None:
    assert pools(run(workload_type="cpu", current_threads=4, cores=8)) == {"cpu": 8}


def test_seed_io_bound_100ms_wait_10ms_compute_is_88_threads() -> None:
    r = run(workload_type="io", current_threads=20, cores=8, wait_s=0.100, compute_s=0.010)
    assert pools(r) == {"io": 88}  # 8 x (1 + 100/10)
    assert r["analysis"]["cpu_ceiling_rps"] == pytest.approx(800.0)  # 8 cores / 10 ms


def test_seed_mixed_separates_pools_and_assumes_x10_when_split_unknown() -> None:
    r = run(workload_type="mixed", current_threads=10, cores=8)
    assert pools(r) == {"cpu": 8, "io": 80}
    assert any("wait/compute is unknown" in a["what"] for a in r["assumptions"])


def test_littles_law_for_a_target() -> None:
    r = run(
        workload_type="io",
        current_threads=20,
        cores=8,
        wait_s=0.100,
        compute_s=0.010,
        target_rps=300.0,
    )
    assert r["analysis"]["threads_for_target"] == 33  # 300/s x 0.110 s = 33 in flight
    # sized for the 70 % saturation target, not for 100 %: ceil(33 / 0.7) = 48 threads
    assert r["analysis"]["saturation_target_pct"] == pytest.approx(70)
    assert pools(r) == {"io": 48}
    exp = r["analysis"]["expected"]
    assert exp["basis"] == "little"
    assert exp["current"]["max_throughput_rps"] == pytest.approx(20 / 0.110)
    assert exp["recommended"]["max_throughput_rps"] == pytest.approx(48 / 0.110)
    assert r["recommendations"][0]["expected_improvement_pct"] == pytest.approx((48 / 20 - 1) * 100)


def test_a_target_past_the_cpu_ceiling_says_threads_cannot_reach_it() -> None:
    r = run(
        workload_type="io",
        current_threads=20,
        cores=2,
        wait_s=0.050,
        compute_s=0.010,
        target_rps=500.0,
    )
    assert r["analysis"]["target_reachable"] is False  # ceiling 2 / 10 ms = 200 rps
    assert "more threads cannot reach it" in r["summary"]
    assert any("CPU ceiling" in x["optimization"] for x in r["recommendations"])


def test_python_cpu_work_is_capped_per_process_by_the_gil() -> None:
    r = run(workload_type="cpu", current_threads=16, cores=4, compute_s=0.005, runtime="python")
    exp = r["analysis"]["expected"]
    assert exp["current"]["max_throughput_rps"] == pytest.approx(200.0)  # 1 / 5 ms, one process
    # the recommended pools run the CPU work in 4 processes: 4 / 5 ms
    assert r["analysis"]["cpu_ceiling_rps"] == pytest.approx(800.0)
    assert exp["recommended"]["max_throughput_rps"] == pytest.approx(800.0)
    assert r["analysis"]["pools"][0]["kind"] == "processes"
    assert any("processes" in x["optimization"] for x in r["recommendations"])


def test_erlang_c_sizes_the_pool_for_a_mean_slo() -> None:
    r = run(
        workload_type="io",
        current_threads=10,
        cores=8,
        wait_s=0.090,
        compute_s=0.010,
        arrival_rps=200.0,
        slo=LatencySlo(0.120),
    )
    e = r["analysis"]["erlang"]
    c = e["threads"]
    # the answer is the smallest c whose M/M/c mean response meets 120 ms
    assert mmc(200.0, 0.100, c).mean_response_s <= 0.120
    assert mmc(200.0, 0.100, c - 1).utilization >= 1 or (
        mmc(200.0, 0.100, c - 1).mean_response_s > 0.120
    )
    # the pool is never sized above the 70 % saturation target: 20 erlangs need 29 threads
    assert c < 29 and pools(r) == {"io": 29}
    assert "raised to stay ≤ 70 % busy" in r["analysis"]["pools"][0]["formula"]
    assert e["p_wait"] == pytest.approx(mmc(200.0, 0.100, c).p_wait, rel=1e-5)
    # utilizations are percent: 200/s x 100 ms over c threads
    assert e["pool_utilization_pct"] == pytest.approx(100 * 20 / c, rel=1e-5)


def test_erlang_c_sizes_the_pool_for_a_percentile_slo() -> None:
    r = run(
        workload_type="io",
        current_threads=10,
        cores=8,
        wait_s=0.090,
        compute_s=0.010,
        arrival_rps=200.0,
        slo=LatencySlo(0.600, 0.99),
    )
    c = r["analysis"]["erlang"]["threads"]
    assert mmc_response_percentile(200.0, 0.100, c, 0.99) <= 0.600
    assert r["analysis"]["erlang"]["percentile_response_ms"] <= 600


def test_an_slo_below_the_service_time_is_infeasible_and_said() -> None:
    r = run(
        workload_type="io",
        current_threads=10,
        cores=8,
        wait_s=0.090,
        compute_s=0.010,
        arrival_rps=50.0,
        slo=LatencySlo(0.080),
    )
    assert r["analysis"]["erlang"]["feasible"] is False
    assert "below what the service time alone gives" in r["analysis"]["erlang"]["why"]


def test_bounded_queue_by_littles_law() -> None:
    r = run(
        workload_type="io",
        current_threads=10,
        cores=8,
        wait_s=0.090,
        compute_s=0.010,
        arrival_rps=200.0,
        slo=LatencySlo(0.300),
    )
    assert r["analysis"]["queue"]["capacity"] == 40  # floor(200/s x (0.300 - 0.100) s)


def test_async_when_waits_dominate_or_the_pool_is_huge() -> None:
    r = run(workload_type="io", current_threads=10, cores=32, wait_s=0.500, compute_s=0.010)
    why = " ".join(r["analysis"]["async"]["why"])
    assert "wait/compute is 50" in why and "1632 threads" in why  # 32 x (1 + 50)
    assert (
        run(workload_type="io", current_threads=4, cores=2, wait_s=0.010, compute_s=0.010)[
            "analysis"
        ]["async"]
        is None
    )


SPECSDM91 = (
    "concurrency,throughput_rps\n1,64.9\n18,995.9\n36,1652.4\n72,1853.2\n108,1828.9\n"
    "144,1775.0\n216,1702.2\n"
)


def test_sweep_fits_the_usl_and_sizes_the_measured_pool(tmp_path: Path) -> None:
    path = tmp_path / "sweep.csv"
    path.write_text(SPECSDM91)
    r = optimize_concurrency("io", 150, cpu_cores=8, sweep=path).to_dict()
    u = r["analysis"]["usl"]
    # published R usl fit of this data: sigma 0.02773, kappa 1.044e-4, lambda 89.995
    assert u["sigma"] == pytest.approx(0.0277285, rel=1e-3)
    assert u["kappa"] == pytest.approx(1.04366e-4, rel=1e-3)
    assert u["peak_concurrency"] == pytest.approx(
        math.sqrt((1 - u["sigma"]) / u["kappa"]), rel=1e-5
    )
    assert pools(r) == {"io": u["recommended_concurrency"]}
    assert {"usl_fit", "usl_measured"} <= set(r["series"])
    assert max(x for x, _ in r["series"]["usl_fit"]["points"]) <= 2 * 216


def test_a_short_sweep_says_how_many_levels_to_add(tmp_path: Path) -> None:
    path = tmp_path / "sweep.csv"
    path.write_text("concurrency,throughput\n1,100\n2,190\n4,350\n")
    u = optimize_concurrency("io", 4, cpu_cores=2, sweep=path).to_dict()["analysis"]["usl"]
    assert u["available"] is False
    assert "measure 3 more levels" in u["why"] and "beyond the highest measured, 4" in u["why"]


@pytest.mark.parametrize(
    ("text", "seconds", "quantile"),
    [
        ("200ms", 0.2, None),
        ("p99=200ms", 0.2, 0.99),
        ("p99.9=1s", 1.0, 0.999),
        ("0.15", 0.15, None),
    ],
)
def test_slo_forms(text: str, seconds: float, quantile: float | None) -> None:
    slo = parse_slo(text)
    assert slo.seconds == pytest.approx(seconds)
    assert slo.quantile == (pytest.approx(quantile) if quantile else None)


@pytest.mark.parametrize("text", ["p100=1s", "q99=1s", "p99=", "-5ms", "p99=0ms"])
def test_bad_slos(text: str) -> None:
    with pytest.raises(InputError):
        parse_slo(text)


@pytest.mark.parametrize(
    ("kw", "source"),
    [
        ({"cpu_cores": 0}, "cpu_cores"),
        ({"wait_time": "0ms", "compute_time": "1ms"}, "wait_time"),
        ({"latency_slo": "200ms"}, "latency_slo"),
        ({"runtime": "cobol"}, "runtime"),
    ],
)
def test_bad_flags(kw: dict[str, Any], source: str) -> None:
    with pytest.raises(InputError) as err:
        optimize_concurrency("io", 4, **{"cpu_cores": 8, **kw})
    assert err.value.source == source


@pytest.mark.parametrize("rate_flag", ["arrival_rate", "target_throughput"])
def test_a_rate_and_time_that_no_pool_holds_name_the_inputs(rate_flag: str) -> None:
    # 1e12 rps for a year each: 3e19 in flight, each value plausible alone, no system together;
    # once this reached the queueing law as "servers: an integer of 65 bits"
    with pytest.raises(InputError) as err:
        optimize_concurrency(
            "io", 4, cpu_cores=8, wait_time=31_536_000.0, compute_time="1ms", **{rate_flag: 1e12}
        )
    assert err.value.source == rate_flag
    message = str(err.value)
    assert "in flight" in message and "16,777,216" in message and "bits" not in message


def test_a_rate_just_inside_the_bound_is_sized() -> None:
    # 16,000 in flight: a big pool, still a pool
    report = optimize_concurrency(
        "io", 4, cpu_cores=10_000, wait_time="1s", compute_time="1ms", arrival_rate=16_000
    )
    assert report.recommendations
