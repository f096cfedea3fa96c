"""design-batching on cost models whose answers are worked out by hand here."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from throughput_expert import design_batching
from throughput_expert.advisors.batching.advisor import advise
from throughput_expert.advisors.batching.inputs import BatchingInputs
from throughput_expert.errors import InputError
from throughput_expert.model.trials import BatchTrial, BatchTrials
from throughput_expert.sources.settings import load_settings


def run(**kw: Any) -> dict[str, Any]:
    return design_batching("database-insert", **kw).to_dict()


def test_explicit_costs_and_two_in_flight() -> None:
    # c0 = 5 ms, c1 = 0.1 ms, k = 2, target 10,000/s sized for the 70 % cpu target: X(b) must
    # reach 10,000 / 0.7 = 14,286/s, b = ceil(14,286 x 0.005 / (2 - 14,286 x 0.0001)) = 125
    a = run(fixed_overhead="5ms", per_item_cost="0.1ms", concurrency=2, target_throughput=10_000)[
        "analysis"
    ]
    assert a["batch_size"] == 125
    assert a["feasible"] is True
    assert a["sized_for_rps"] == pytest.approx(10_000 / 0.7)
    assert a["expected_throughput_rps"] == pytest.approx(10_000 / 0.7)  # 2 x 125 / 17.5 ms
    assert a["utilization_at_target_pct"] == pytest.approx(70)
    assert a["saturation_target_pct"] == pytest.approx(70)
    assert a["flush_interval_ms"] == pytest.approx(12.4)  # (125 - 1) / 10,000 s
    assert a["added_latency_ms"]["p50"] == pytest.approx(6.2 + 17.5)  # fill / 2 + T(125)
    assert a["added_latency_ms"]["max"] == pytest.approx(12.4 + 17.5)
    assert a["gain_vs_current"] == pytest.approx((10_000 / 0.7) / (2 / 0.0051), rel=1e-5)
    assert a["limit_rps"] == pytest.approx(20_000)  # k / c1


def test_seed_example_needs_more_in_flight_and_says_so() -> None:
    # 5 ms split 90 % fixed: c0 = 4.5 ms, c1 = 0.5 ms: one writer tops out at 1 / c1 = 2,000/s;
    # 10,000/s at the 70 % target needs X = 14,286/s, k > X·c1 = 7.14, so 8 in flight, then
    # b = ceil(14,286 x 4.5 ms / (8 - 7.14)) = 75
    r = run(current_latency="5ms", target_throughput=10_000)
    a = r["analysis"]
    assert (a["feasible"], a["concurrency"], a["batch_size"]) == (False, 8, 75)
    assert a["limit_rps"] == pytest.approx(2000)
    assert a["utilization_at_target_pct"] <= 70 + 1e-6
    assert a["what_else"][0].startswith("more in flight: at least 8")
    assert r["summary"].startswith("With 1 in flight batching cannot reach 10K rps")
    assert any(x["what"] == "fixed share of a single database-insert" for x in r["assumptions"])


def test_measurements_are_fitted_with_residuals(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("batch_size,latency_ms\n1,5.1\n10,6.0\n100,15.0\n100,15.0\n")
    a = run(measurements=path, target_throughput=5000)["analysis"]
    assert a["cost_model"]["c0_ms"] == pytest.approx(5.0, abs=1e-6)
    assert a["cost_model"]["c1_ms"] == pytest.approx(0.1, abs=1e-6)
    assert a["cost_model"]["source"] == "measurements"
    assert len(a["cost_model"]["fit"]["residuals_ms"]) == 4
    # sized for 5,000 / 0.7 = 7,143/s: 7,143 x 5 ms / (1 - 7,143 x 0.1 ms) = 35.7 / 0.286 = 125
    assert a["batch_size"] == 125


def test_a_latency_budget_raises_concurrency() -> None:
    # with k = 1 the batch for 5,000/s is 50 (T = 10 ms, fill 9.8 ms: max 19.8 ms > 15 ms)
    a = run(
        fixed_overhead="5ms", per_item_cost="0.1ms", target_throughput=5000, max_latency="15ms"
    )["analysis"]
    assert a["concurrency"] > 1 and a["feasible"] is False
    assert a["added_latency_ms"]["max"] <= 15.0


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"current_latency": "0ms", "target_throughput": 100}, "must be above zero"),
        ({"fixed_overhead": "-1ms", "per_item_cost": "1ms", "target_throughput": 10}, "negative"),
        ({"target_throughput": 100}, "give current_latency"),
        ({"fixed_overhead": "1ms", "target_throughput": 100}, "give both"),
    ],
)
def test_bad_input(kw: dict[str, Any], words: str) -> None:
    with pytest.raises(InputError, match=words):
        run(**kw)


def test_measurements_that_are_not_a_line(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("batch_size,latency_ms\n1,50\n10,1\n20,60\n30,2\n40,70\n")
    with pytest.raises(InputError, match="residual"):
        run(measurements=path, target_throughput=5000)


@pytest.mark.service
def test_measure_against_the_real_postgresql(postgres_dsn: str) -> None:
    r = run(measure=postgres_dsn, target_throughput=20_000, measure_budget="10s")
    a = r["analysis"]
    methods = {m["method"]: m for m in a["methods"]}
    # a method whose mean times a busy 2-core machine bent off a line keeps its best line, and
    # the report says how far off under assumptions; only one the budget left with fewer than
    # two sizes can be missing (said too)
    assert len(methods) >= 3 and set(methods) <= {"single", "executemany", "multirow", "copy"}
    skipped = {"single", "executemany", "multirow", "copy"} - set(methods)
    assert all(any(x["what"] == f"{m}: no cost model" for x in r["assumptions"]) for m in skipped)
    if a["cost_model"]["fit"]["r_squared"] < 0.9:  # the design's method: said how far off
        assert any(x["what"] == f"{a['method']}: means off a line" for x in r["assumptions"])
    assert a["method"] in methods and a["batch_size"] >= 1
    assert a["cost_model"]["source"].startswith("trial: postgresql")
    assert "password" not in str(r)
    if "copy" in methods and "single" in methods:  # COPY is cheaper per row than INSERTs
        assert methods["copy"]["c1_ms"] < methods["single"]["c1_ms"]


def skewed_trials(seed_fast_ms: float, slow_every: int, slow_ms: float) -> BatchTrials:
    """Trials at b = 1, 10, 100 whose calls cost ``seed_fast_ms`` + 0.01 ms per row, with every
    ``slow_every``-th call ``slow_ms`` slower (a commit that waited behind the disk)."""
    trials = []
    for b in (1, 10, 100):
        fast = (seed_fast_ms + 0.01 * b) / 1e3
        calls = [fast + (slow_ms / 1e3 if n % slow_every == 0 else 0.0) for n in range(1, 101)]
        trials.append(BatchTrial("copy", b, tuple(calls)))
    return BatchTrials("postgresql://t@h/db", "postgresql", tuple(trials), 116, 1.0, False, ())


def test_a_trial_is_fitted_to_the_mean_time_per_batch_not_the_median() -> None:
    # 1 call in 10 pays 5 ms more: the median misses it, a sustained writer pays 0.5 ms a batch
    inputs = BatchingInputs("database-insert", 1000.0, trials=skewed_trials(0.5, 10, 5.0))
    a = advise(inputs, load_settings(None)).to_dict()["analysis"]
    assert a["cost_model"]["c0_ms"] == pytest.approx(1.0)  # 0.5 fast + 5 / 10 slow
    assert a["cost_model"]["c1_ms"] == pytest.approx(0.01)
    assert a["cost_model"]["fit"]["r_squared"] == pytest.approx(1.0)


def test_trial_means_off_a_line_keep_the_best_line_and_say_how_far_off() -> None:
    # the slow calls land on b = 10 only: its mean is 3 ms above the line of the other two
    trials = skewed_trials(0.5, 1000, 0.0)
    bent = [
        BatchTrial(
            t.method,
            t.batch_size,
            tuple(x + (0.003 if t.batch_size == 10 else 0.0) for x in t.latencies_s),
        )
        for t in trials.trials
    ]
    inputs = BatchingInputs(
        "database-insert", 1000.0, trials=dataclasses.replace(trials, trials=tuple(bent))
    )
    r = advise(inputs, load_settings(None)).to_dict()
    assert r["analysis"]["cost_model"]["source"] == "trial: postgresql copy"
    said = [x for x in r["assumptions"] if x["what"] == "copy: means off a line"]
    assert len(said) == 1 and str(said[0]["value"]).startswith("±")


def test_a_large_measurements_file_is_fitted_whole_and_reported_in_part(tmp_path: Path) -> None:
    # 3,000 rows: every one fitted; the report keeps the first 1,000 residuals and inputs (a
    # 70,000-row file made a 4 MB report of them)
    path = tmp_path / "m.csv"
    rows = [
        (b, 2.0 + 0.01 * b + (0.05 if i % 2 else -0.05))
        for i, b in enumerate([1, 10, 100, 1000] * 750)
    ]
    path.write_text("batch_size,latency_ms\n" + "".join(f"{b},{t:.4f}\n" for b, t in rows))
    r = design_batching("database-insert", target_throughput=50_000, measurements=path).to_dict()
    fit = r["analysis"]["cost_model"]["fit"]
    assert fit["points"] == 3000 and len(fit["residuals_ms"]) == 1000
    assert abs(r["analysis"]["cost_model"]["c1_ms"] - 0.01) < 1e-3
    cited = next(e for e in r["evidence"] if e["id"] == "cost-model")["inputs"]
    assert cited["points"] == 3000 and len(cited["batch_sizes"]) == 1000
