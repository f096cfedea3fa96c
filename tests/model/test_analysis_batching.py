"""design-batching's analysis record: its JSON form obeys the generated schema, loads back and
dumps identically; a corrupted analysis is refused naming the key."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from tests.support import check_report

from throughput_expert import design_batching
from throughput_expert.advisors.batching import BatchingInputs, advise
from throughput_expert.errors import InputError
from throughput_expert.model.analysis.batching import BatchingAnalysis
from throughput_expert.model.record import dump, load
from throughput_expert.model.trials import BatchTrial, BatchTrials
from throughput_expert.sources.settings import load_settings


def _trials() -> BatchTrials:
    """Three methods on an exact line each (c0 + c1·b), five repetitions per size."""
    trials = []
    for method, c0, c1 in (
        ("single", 0.002, 0.0004),
        ("executemany", 0.002, 0.00005),
        ("multirow", 0.003, 0.00002),
    ):
        for b in (1, 10, 100, 1000):
            reps = tuple(c0 + c1 * b + 1e-6 * ((i * 7 + b) % 5) for i in range(5))
            trials.append(BatchTrial(method, b, reps))
    return BatchTrials("sqlite:///t.db", "sqlite", tuple(trials), 100, 3.5, False, ())


def _cases(tmp_path: Path) -> dict[str, dict[str, Any]]:
    measured = tmp_path / "m.csv"
    measured.write_text("batch_size,latency_ms\n1,5.1\n10,6.0\n100,15.0\n100,15.3\n")
    trial = advise(
        BatchingInputs("database-insert", 50_000, max_latency_s=0.05, trials=_trials()),
        load_settings(),
    )
    return {
        "split": design_batching(
            "database-insert", target_throughput="50K", current_latency="2ms", max_latency="50ms"
        ).to_dict(),
        "flags": design_batching(
            "database-insert",
            target_throughput=10_000,
            fixed_overhead="5ms",
            per_item_cost="0.1ms",
            concurrency=2,
        ).to_dict(),
        "measurements": design_batching(
            "database-insert", target_throughput=5000, measurements=measured
        ).to_dict(),
        "infeasible": design_batching(
            "database-insert",
            target_throughput=5_000_000,
            fixed_overhead="5ms",
            per_item_cost="1ms",
            max_latency="1ms",
        ).to_dict(),
        "concurrency-4": design_batching(
            "api-call", target_throughput="50K", current_latency="2ms", concurrency=4
        ).to_dict(),
        "trial": trial.to_dict(),
        "met-today": design_batching(
            "database-insert", target_throughput=100, current_latency="5ms"
        ).to_dict(),
    }


def test_every_form_obeys_the_schema_and_round_trips(tmp_path: Path) -> None:
    cases = _cases(tmp_path)
    for name, doc in cases.items():
        try:
            check_report(doc)
        except Exception as exc:  # name the case that failed
            raise AssertionError(name) from exc
    a = {name: doc["analysis"] for name, doc in cases.items()}
    # the optional parts, present and absent
    assert "fit" not in a["split"]["cost_model"] and a["split"]["methods"] is None
    assert a["measurements"]["cost_model"]["fit"]["points"] == 4
    assert a["flags"]["what_else"] == [] and a["flags"]["feasible"] is True
    assert a["flags"]["added_latency_ms"]["max"] == pytest.approx(29.9)  # 12.4 fill + 17.5 T(125)
    assert a["flags"]["met_today"] is False and a["flags"]["utilization_at_target_pct"] <= 70
    never = a["infeasible"]
    assert never["batch_size"] is None and never["what_else"]
    for key in ("flush_interval_ms", "expected_throughput_rps", "added_latency_ms"):
        assert key not in never
    assert "gain_vs_current" not in never
    assert a["concurrency-4"]["concurrency"] >= 4
    methods = {m["method"]: m for m in a["trial"]["methods"]}
    assert set(methods) == {"single", "executemany", "multirow"}
    assert methods["single"]["c1_ms"] == pytest.approx(0.4, rel=1e-3)
    assert a["trial"]["cost_model"]["source"].startswith("trial: sqlite")
    met = a["met-today"]  # one item per call carries it: no design keys but the rate
    assert met["met_today"] is True and met["batch_size"] == 1
    assert "flush_interval_ms" not in met and "added_latency_ms" not in met
    assert met["utilization_at_target_pct"] == pytest.approx(50)


def test_the_record_holds_si_values(tmp_path: Path) -> None:
    doc = _cases(tmp_path)["flags"]
    r = load(BatchingAnalysis, doc["analysis"], source="report")
    assert r.cost_model.c0 == pytest.approx(0.005) and r.cost_model.c1 == pytest.approx(1e-4)
    assert r.flush_interval == pytest.approx(0.0124)
    assert r.target == 10_000 and r.batch_size == 125
    assert r.saturation_target == pytest.approx(0.7) and r.sized_for == pytest.approx(10_000 / 0.7)
    assert dump(r) == doc["analysis"]


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        (("cost_model", "c0_ms"), "five", "analysis.cost_model.c0_ms"),
        (("added_latency_ms", "max"), "long", "analysis.added_latency_ms.max"),
        (("batch_size",), 2.5, "analysis.batch_size"),
        (("what_else",), "more", "analysis.what_else"),
    ],
)
def test_a_wrong_type_is_refused_naming_the_key(
    tmp_path: Path, path: tuple[str, ...], value: Any, where: str
) -> None:
    analysis = copy.deepcopy(_cases(tmp_path)["flags"]["analysis"])
    parent = analysis
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    with pytest.raises(InputError) as caught:
        load(BatchingAnalysis, analysis, source="saved.json")
    assert caught.value.field == where
    assert str(caught.value).startswith(f"saved.json: {where}: expected")


def test_an_unknown_key_is_refused_naming_where(tmp_path: Path) -> None:
    analysis = copy.deepcopy(_cases(tmp_path)["measurements"]["analysis"])
    analysis["cost_model"]["fit"]["residuals_s"] = [0.0]
    with pytest.raises(InputError, match="unknown key 'residuals_s'") as caught:
        load(BatchingAnalysis, analysis, source="saved.json")
    assert caught.value.field == "analysis.cost_model.fit"
    del analysis["cost_model"]["fit"]["residuals_s"]
    del analysis["limit_rps"]
    with pytest.raises(InputError, match="missing") as caught:
        load(BatchingAnalysis, analysis, source="saved.json")
    assert caught.value.field == "analysis.limit_rps"
