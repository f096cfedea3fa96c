"""Report invariants of issue 14 beyond analyze, on generated inputs: design-batching over random
cost models, scaling-plan over random architectures. On every report a quantified gain is
positive, no two recommendations make the same change, a batch, a pool or an instance count is
sized so that what it changes runs at or under its saturation target at the rate it is sized for,
and nothing projects less than today."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from throughput_expert import api
from throughput_expert.sources.architecture import architecture_from_doc

EPS = 1e-6


def _common(doc: dict[str, Any]) -> None:
    recs = doc["recommendations"]
    gains = [r["expected_improvement_pct"] for r in recs]
    assert all(g > 0 for g in gains if g is not None), gains
    # one price per change ("instances" of different components are different changes)
    changes = [
        (r["change"], r["optimization"].split(" from ")[0] if r["change"] == "instances" else "")
        for r in recs
        if r.get("change") not in (None, "servers")
    ]
    assert len(set(changes)) == len(changes), changes
    names = [r["optimization"] for r in recs]
    assert len(set(names)) == len(names)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    c0=st.floats(1e-5, 0.05),
    c1=st.floats(1e-7, 5e-3),
    target=st.floats(10.0, 2e6),
    concurrency=st.integers(1, 8),
    latency=st.one_of(st.none(), st.floats(1e-3, 1.0)),
)
def test_design_batching_reports_add_up(
    c0: float, c1: float, target: float, concurrency: int, latency: float | None
) -> None:
    doc = api.design_batching(
        "database-insert",
        target_throughput=target,
        fixed_overhead=c0,
        per_item_cost=c1,
        concurrency=concurrency,
        max_latency=latency,
    ).to_dict()
    _common(doc)
    a = doc["analysis"]
    if a["batch_size"] is None:
        return
    # never slower than today, and sized for the writer's saturation target, not for 100 %
    assert a["expected_throughput_rps"] >= a["current_throughput_rps"] * (1 - EPS)
    if a["feasible"] and a["utilization_at_target_pct"] is not None:
        assert a["utilization_at_target_pct"] <= a["saturation_target_pct"] * (1 + EPS)


_component = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["service", "worker"]),
        "instances": st.integers(1, 8),
        "utilization": st.fixed_dictionaries({"cpu": st.floats(0.05, 0.95)}),
    },
    optional={"max_instances": st.integers(8, 40), "stateless": st.booleans()},
)
_store = st.fixed_dictionaries(
    {
        "kind": st.just("database"),
        "instances": st.just(1),
        "utilization": st.fixed_dictionaries({"disk_io": st.floats(0.02, 0.95)}),
        "stateless": st.just(False),
    }
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    services=st.lists(_component, min_size=1, max_size=3),
    store=st.one_of(st.none(), _store),
    factor=st.floats(1.05, 20.0),
)
def test_scaling_plan_reports_add_up(
    services: list[dict[str, Any]], store: dict[str, Any] | None, factor: float
) -> None:
    components = [dict(c, name=f"svc{i}") for i, c in enumerate(services)]
    if store is not None:
        components.append(dict(store, name="db"))
    doc = {"system": "s", "entry_rate": 1000.0, "components": components}
    arch = architecture_from_doc(doc, "generated", Path("."))
    report = api.scaling_plan(arch, target_rps=1000.0 * factor).to_dict()
    _common(report)
    for c in report["analysis"]["components"]:
        needed, now = c["instances_needed"], c["instances_now"]
        if needed is None:
            continue
        assert needed >= 1 and now >= 1  # fewer than today only when today is over-provisioned
        if c["kind"] == "database" or c.get("stateless") is False:
            continue
        if c["feasible"] and c["capacity_at_plan_rps"] is not None:
            # sized so the demand at the target fits at the saturation target
            assert c["capacity_at_plan_rps"] >= c["demand_at_target_rps"] * (1 - EPS)


def test_the_invariants_can_fail() -> None:
    """The checks above are not vacuous: a report with a negative gain or a repeated change
    fails them."""
    bad = {"recommendations": [{"optimization": "a", "expected_improvement_pct": -5.0}]}
    with pytest.raises(AssertionError):
        _common(bad)
    twice = {
        "recommendations": [
            {"optimization": "a", "expected_improvement_pct": 5.0, "change": "batch"},
            {"optimization": "b", "expected_improvement_pct": 9.0, "change": "batch"},
        ]
    }
    with pytest.raises(AssertionError):
        _common(twice)
