"""``optimize-concurrency`` computes on the one system model (``model/system``, solved by
``advisors/system/project``): every pool it prices is ``project(model).capacity`` of the model
its builder makes, and the closed loop's answer is ``closed(model)`` (Mean Value Analysis).

Each number is checked twice: against the model the command builds, and against the law worked
out here by hand (the bottleneck law; MVA by its recursion, Lazowska et al. §6.3 and §8.3), so
that the test fails if the command stops using the model or the model stops giving the law.
The issue's own command (#14) runs end to end without today's pool.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support import check_report, main_in_process

from throughput_expert import optimize_concurrency
from throughput_expert.advisors.concurrency import model as on_model
from throughput_expert.advisors.concurrency.inputs import ConcurrencyInputs
from throughput_expert.advisors.concurrency.model import Config, sweep_model, system_model
from throughput_expert.advisors.system.project import closed, project
from throughput_expert.advisors.usl_report import SweepChoice
from throughput_expert.model.analysis.common import UslFitRecord
from throughput_expert.model.record import load
from throughput_expert.sources.settings import load_settings

CPU_U = load_settings().target("cpu")


def _bound(n: int, m: int, wait: float | None, compute: float | None) -> float:
    """The bottleneck law by hand: X ≤ min(N / (W + C), m / C)."""
    hold = (wait or 0.0) + (compute or 0.0)
    return min(n / hold, m / compute if compute else math.inf)


def _mva(n: int, m: int, compute: float | None, think: float) -> tuple[float, float]:
    """The closed loop solved by hand as the Markov chain it is: ``n`` requests, each thinking
    (waiting) ``think`` then using one CPU of ``m`` servers for ``compute``, exponential times.
    With j requests at the CPU, one more arrives at rate (n − j) / Z and one leaves at
    min(j, m) / C; the chain is a birth-death process, so p(j) ∝ Π_{i≤j} ((n − i + 1) / Z) /
    (min(i, m) / C) (worked in logarithms). X = Σ_j p(j)·min(j, m) / C, and a request spends
    n / X in the loop (Little's law), R + Z. MVA's answer is this chain's (Lazowska §6.3)."""
    if not compute:
        return n / think, think
    if think == 0:  # every request at the CPU
        x = min(n, m) / compute
        return x, n / x
    logs = [0.0]
    for i in range(1, n + 1):
        logs.append(logs[-1] + math.log((n - i + 1) / think) - math.log(min(i, m) / compute))
    top = max(logs)
    weights = [math.exp(v - top) for v in logs]
    total = sum(weights)
    x = sum(w * min(j, m) / compute for j, w in enumerate(weights)) / total
    return x, n / x


def _servers(workload: str, runtime: str | None, cores: int) -> tuple[int, int]:
    """The CPU servers today and recommended: one process under the GIL today; processes for
    CPU-bound Python, one process for I/O-bound Python (its waits release the GIL)."""
    gil = runtime == "python"
    return (1 if gil else cores), (1 if gil and workload == "io" else cores)


def _recommended(doc: dict[str, Any]) -> int:
    pools = doc["analysis"]["pools"]
    return int(max(p["threads"] for p in pools if p["pool"] != "cpu" or len(pools) == 1))


# --- the model the command builds ----------------------------------------------------------------


def test_the_model_is_the_pool_the_cpu_and_the_wait() -> None:
    i = ConcurrencyInputs("io", 10, 4, wait_s=0.050, compute_s=0.010)
    model = system_model(i, Config(12, 4, 0.7, 0.7))
    assert model is not None
    assert model.workers == 12 and model.item_time == pytest.approx(0.060)
    cpu, wait = model.station("cpu"), model.station("wait")
    assert cpu is not None and (cpu.demand, cpu.servers, cpu.target) == (0.010, 4, 0.7)
    assert wait is not None and wait.servers is None  # a delay: it never queues
    got = project(model)
    # capacity at 100 %: min(12 / 60 ms, 4 / 10 ms) = 200; ceiling at the 70 % targets: 140
    assert got.capacity == pytest.approx(200.0)
    assert got.ceiling == pytest.approx(140.0)
    assert system_model(ConcurrencyInputs("io", 1, 4), Config(1, 4)) is None


def test_two_threads_on_one_cpu_by_hand() -> None:
    # the textbook case: one CPU (C = 10 ms), a think (wait) of Z = 10 ms, N = 2:
    #   n = 1: R = 10 ms, X = 1 / (10 + 10) ms = 50 rps, Q = 0.5
    #   n = 2: R = 10 · (1 + 0.5) = 15 ms, X = 2 / (15 + 10) ms = 80 rps
    # a thread is held R + Z = 25 ms (Little: 2 / 80 rps); the bound says min(2/20ms, 1/10ms)
    # = 100 rps: the closed loop carries 20 % less, queueing for the one CPU.
    doc = optimize_concurrency(
        "io", 2, cpu_cores=8, wait_time="10ms", compute_time="10ms", runtime="python"
    ).to_dict()
    today = doc["analysis"]["expected"]["current"]
    assert today["threads"] == 2
    assert today["max_throughput_rps"] == pytest.approx(100.0)
    assert today["mva_throughput_rps"] == pytest.approx(80.0, rel=1e-5)
    assert today["mva_response_ms"] == pytest.approx(25.0, rel=1e-5)
    loop = next(e for e in doc["evidence"] if e["id"] == "closed-loop")
    assert loop["result"]["current_rps"] == pytest.approx(80.0)
    assert _mva(2, 1, 0.010, 0.010) == pytest.approx((80.0, 0.025))


def test_the_command_calls_project_and_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_project, real_closed = project, closed

    def spy_project(*a: Any, **k: Any) -> Any:
        calls.append("project")
        return real_project(*a, **k)

    def spy_closed(*a: Any, **k: Any) -> Any:
        calls.append("closed")
        return real_closed(*a, **k)

    monkeypatch.setattr(on_model, "project", spy_project)
    monkeypatch.setattr(on_model, "closed", spy_closed)
    optimize_concurrency("io", 8, cpu_cores=4, wait_time="100ms", compute_time="10ms")
    assert "project" in calls and "closed" in calls


# --- generated workloads: the report is the model's answer and the law's -------------------------


@settings(max_examples=120, deadline=None)
@given(
    workload=st.sampled_from(["cpu", "io", "mixed"]),
    runtime=st.sampled_from([None, "python", "go"]),
    cores=st.integers(1, 16),
    wait=st.one_of(st.none(), st.floats(1e-4, 0.5)),
    compute=st.one_of(st.none(), st.floats(1e-4, 0.05)),
    current=st.one_of(st.none(), st.integers(1, 120)),
    target=st.one_of(st.none(), st.floats(1.0, 5_000.0)),
)
def test_every_pool_is_priced_on_the_model_and_by_the_law(
    workload: str,
    runtime: str | None,
    cores: int,
    wait: float | None,
    compute: float | None,
    current: int | None,
    target: float | None,
) -> None:
    kw: dict[str, Any] = {"cpu_cores": cores, "runtime": runtime}
    if wait is not None:
        kw["wait_time"] = wait
    if compute is not None:
        kw["compute_time"] = compute
    if target is not None:
        kw["target_throughput"] = target
    doc = optimize_concurrency(workload, current, **kw).to_dict()  # type: ignore[arg-type]
    exp, recs = doc["analysis"]["expected"], doc["recommendations"]
    size = recs[0]
    if wait is None and compute is None:
        assert exp["recommended"]["max_throughput_rps"] is None
        assert "throughput_vs_threads" not in doc["series"]
        return
    today_m, rec_m = _servers(workload, runtime, cores)
    n = _recommended(doc)
    i = ConcurrencyInputs(workload, current, cores, wait_s=wait, compute_s=compute)  # type: ignore[arg-type]
    built = system_model(i, Config(n, rec_m))
    assert built is not None
    then = exp["recommended"]["max_throughput_rps"]
    # the model's answer, and the law's by hand (the report writes 6 significant digits)
    assert then == pytest.approx(project(built).capacity, rel=1e-5)
    assert then == pytest.approx(_bound(n, rec_m, wait, compute), rel=1e-5)
    loop = closed(built)
    assert loop is not None
    mva = exp["recommended"].get("mva_throughput_rps")
    if n <= 400:  # the exact solution: by the recursion too
        assert mva == pytest.approx(loop.throughput, rel=1e-5)
        if n <= 150:
            x, held = _mva(n, rec_m, compute, wait or 0.0)
            assert mva == pytest.approx(x, rel=1e-4)
            assert exp["recommended"]["mva_response_ms"] == pytest.approx(held * 1e3, rel=1e-4)
    if mva is not None:
        assert mva <= then * (1 + 1e-6)  # the bound is what the loop never passes
        # Little's law in the loop: N = X · (R + Z)
        assert n == pytest.approx(mva * exp["recommended"]["mva_response_ms"] / 1e3, rel=1e-4)
    if current is None:
        # no today: nothing priced against it, and said so
        assert exp["current"] == {"threads": None, "max_throughput_rps": None}
        assert all(r["expected_improvement_pct"] is None for r in recs)
        assert "today's pool not given" in doc["summary"]
        assert "today's pool not given" in size["rationale"]
        assert "+0 %" not in json.dumps(doc) and "(now " not in doc["summary"]
        return
    now = exp["current"]["max_throughput_rps"]
    today_model = system_model(i, Config(current, today_m))
    assert today_model is not None
    assert now == pytest.approx(project(today_model).capacity, rel=1e-5)
    assert now == pytest.approx(_bound(current, today_m, wait, compute), rel=1e-5)
    gain = size["expected_improvement_pct"]
    if then > now * (1 + 1e-6):
        assert gain == pytest.approx((then / now - 1) * 100, rel=1e-4, abs=2e-3)
    else:
        assert gain is None
    # the MVA series is the closed loop at each size, under the bound at each size
    bound = dict(doc["series"]["throughput_vs_threads"]["points"])
    for k, x in doc["series"]["throughput_vs_threads_mva"]["points"]:
        assert x <= bound[k] * (1 + 1e-6)
        if k <= 60:
            assert x == pytest.approx(_mva(int(k), rec_m, compute, wait or 0.0)[0], rel=1e-4)


def test_the_closed_loop_short_of_the_target_is_said() -> None:
    # 2 cores, W = 50 ms, C = 10 ms, 190 rps asked: the pools are sized for what the CPU carries
    # at 70 % (140 rps): 12 threads. The bound gives 12 threads min(12 / 60 ms, 2 / 10 ms) =
    # 200 rps >= 190; as a closed loop they carry less, queueing for the two cores.
    doc = optimize_concurrency(
        "io", 4, cpu_cores=2, wait_time="50ms", compute_time="10ms", target_throughput=190
    ).to_dict()
    rec = doc["analysis"]["expected"]["recommended"]
    assert rec["threads"] == 12 and rec["max_throughput_rps"] == pytest.approx(200.0)
    x, _ = _mva(12, 2, 0.010, 0.050)
    assert rec["mva_throughput_rps"] == pytest.approx(x, rel=1e-5)
    assert x < 190
    size = doc["recommendations"][0]
    assert (
        "Mean Value Analysis" in size["rationale"]
        and "below the 190 rps asked" in size["rationale"]
    )
    assert f"{x:.3g}" in size["rationale"]
    assert "closed-loop" in size["evidence_ids"]
    # at 130 rps the loop carries the target: nothing to say
    easy = optimize_concurrency(
        "io", 4, cpu_cores=2, wait_time="50ms", compute_time="10ms", target_throughput=130
    ).to_dict()
    assert "Mean Value Analysis" not in easy["recommendations"][0]["rationale"]


def test_a_rate_past_todays_capacity_is_unstable_whatever_its_threads() -> None:
    # 8 threads of one Python process carry 1 / 10 ms = 100 rps: 600 rps is not stable there,
    # though 8 threads would be 75 % busy as a pool alone
    doc = optimize_concurrency(
        "cpu", 8, cpu_cores=8, compute_time="10ms", target_throughput=600, runtime="python"
    ).to_dict()
    today = doc["analysis"]["expected"]["current"]
    assert today["max_throughput_rps"] == pytest.approx(100.0)
    assert today["stable"] is False and "mean_latency_ms" not in today
    assert doc["analysis"]["expected"]["recommended"]["stable"] is True


SWEEP = (
    "concurrency,throughput_rps\n1,64.9\n18,995.9\n36,1652.4\n72,1853.2\n108,1828.9\n"
    "144,1775.0\n216,1702.2\n"
)


def test_a_sweep_prices_both_pools_on_its_usl_as_the_workers_contention(tmp_path: Path) -> None:
    path = tmp_path / "sweep.csv"
    path.write_text(SWEEP)
    doc = optimize_concurrency("io", 150, cpu_cores=8, sweep=path).to_dict()
    a = doc["analysis"]
    assert a["expected"]["basis"] == "usl"
    u = a["usl"]
    lam, sigma, kappa = (float(u[k]) for k in ("lambda_rps", "sigma", "kappa"))

    def usl(n: float) -> float:  # X(N) = λN / (1 + σ(N−1) + κN(N−1)), by hand
        return lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))

    n = _recommended(doc)
    assert a["expected"]["recommended"]["max_throughput_rps"] == pytest.approx(usl(n), rel=1e-4)
    assert a["expected"]["current"]["max_throughput_rps"] == pytest.approx(usl(150), rel=1e-4)
    # the same number from the system model with the fit as the workers' contention
    fit = load(UslFitRecord, u, source="report")
    model = sweep_model(fit, SweepChoice(n, "usl", None, "", ()), n)
    assert model.contention is not None and model.workers == n
    assert project(model).capacity == pytest.approx(usl(n), rel=1e-9)
    # without today's pool, the sweep's level is still priced, against nothing
    alone = optimize_concurrency("io", None, cpu_cores=8, sweep=path).to_dict()
    assert alone["analysis"]["expected"]["recommended"]["threads"] == n
    assert alone["analysis"]["expected"]["current"]["threads"] is None
    assert alone["recommendations"][0]["expected_improvement_pct"] is None


# --- the issue's command, end to end -------------------------------------------------------------


def _tpx(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    return main_in_process(capsys, *argv)


ISSUE = (
    "optimize-concurrency",
    "--runtime",
    "python",
    "--workload-type",
    "cpu",
    "--cpu-cores",
    "8",
    "--compute-time",
    "10ms",
    "--target-throughput",
    "600",
)


def test_the_issues_command_works_without_todays_pool(capsys: pytest.CaptureFixture[str]) -> None:
    # failed with "--current-thread-pool required"; before that it said "+0 %, caps at 100 rps"
    # and "+700 %" for the same 8 processes
    code, out, err = _tpx(capsys, *ISSUE, "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    check_report(doc)  # the schema allows today's pool absent, and the record loads it back
    a = doc["analysis"]
    assert [(p["pool"], p["threads"], p["kind"]) for p in a["pools"]] == [("cpu", 8, "processes")]
    # 8 processes on 8 cores: 8 / 10 ms = 800 rps at 100 %, 560 at the CPU's saturation target
    assert a["cpu_ceiling_rps"] == pytest.approx(800.0)
    assert a["saturation_target_pct"] == pytest.approx(CPU_U * 100)
    at_target = CPU_U * 800
    assert a["expected"]["recommended"]["max_throughput_rps"] == pytest.approx(800.0)
    # 600 rps is past 560: said, with both numbers
    assert a["target_reachable"] is (at_target >= 600)
    assert (
        f"CPU caps throughput at 800 rps ({at_target:.0f} at the {CPU_U * 100:.0f} % saturation "
        "target), below the 600 target" in doc["summary"]
    )
    assert "today's pool not given" in doc["summary"]
    # no gain against a today that was not given: no percent, no '+0 %'
    assert all(r["expected_improvement_pct"] is None for r in doc["recommendations"])
    assert "today's pool not given" in doc["recommendations"][0]["rationale"]
    assert a["expected"]["current"] == {"threads": None, "max_throughput_rps": None}
    assert any("past the CPU ceiling" in r["optimization"] for r in doc["recommendations"])
    # the closed loop of 8 processes on 8 cores: no queueing (W = 0): the bound exactly
    assert a["expected"]["recommended"]["mva_throughput_rps"] == pytest.approx(800.0)
    code, text, err = _tpx(capsys, *ISSUE, "--format", "text")
    assert code == 0 and err == ""
    assert "+0 %" not in text and "Traceback" not in text


def test_the_issues_command_with_todays_pool_prices_the_gain(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = _tpx(capsys, *ISSUE, "--current-thread-pool", "1", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["recommendations"][0]["expected_improvement_pct"] == pytest.approx(700.0)
    code, _, err = _tpx(capsys, *ISSUE, "--current-thread-pool", "0")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--current-thread-pool" in err
