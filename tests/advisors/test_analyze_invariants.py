"""Report invariants of ``analyze`` (issue 14) on a thousand generated services: every quantified
gain is positive, no change is recommended twice, the plan's ceilings never fall, a plan that
reaches the target keeps every station at or under its saturation target, and the summary, the
first recommendation and the plan's first step are the same change."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from throughput_expert.advisors.analyze import AnalyzeInputs, advise
from throughput_expert.advisors.system import apply, project
from throughput_expert.advisors.system.build import from_metrics
from throughput_expert.advisors.system.project import servers_of
from throughput_expert.model import ServiceMetrics
from throughput_expert.model.system import Change, Sink, SystemModel
from throughput_expert.sources.settings import load_settings

SETTINGS = load_settings()
TARGETS = {"cpu": 0.70, "disk_io": 0.70, "network": 0.60, "workers": 0.70}

services = st.builds(
    ServiceMetrics,
    service=st.just("svc"),
    throughput_rps=st.floats(1.0, 1e6),
    workers=st.one_of(st.none(), st.integers(1, 256)),
    instances=st.one_of(st.none(), st.integers(1, 4)),
    max_instances=st.one_of(st.none(), st.integers(4, 64)),
    cores=st.one_of(st.none(), st.sampled_from([0.5, 1, 2, 4, 8, 32])),
    utilization=st.fixed_dictionaries(
        {},
        optional={
            "cpu": st.floats(0.01, 0.99),
            "disk_io": st.floats(0.01, 0.99),
            "network": st.floats(0.01, 0.99),
            "memory": st.floats(0.01, 0.99),
        },
    ),
)


@settings(max_examples=1000, deadline=None)
@given(
    m=services,
    factor=st.one_of(st.none(), st.floats(0.5, 20.0)),
    sink=st.one_of(
        st.none(), st.sampled_from([Sink("PostgreSQL", "database"), Sink("Kafka", "queue")])
    ),
)
def test_analyze_reports_add_up(m: ServiceMetrics, factor: float | None, sink: Sink | None) -> None:
    assert m.throughput_rps is not None
    asked = None if factor is None else m.throughput_rps * factor
    doc = advise(AnalyzeInputs(metrics=m, target_rps=asked, sink=sink), SETTINGS).to_dict()
    # without a target, a plan only when today's rate is past a limit's target: then for it
    target = m.throughput_rps if asked is None else asked
    if asked is None and "steps" in doc["implementation_plan"]:
        assert doc["implementation_plan"]["target_rps"] == pytest.approx(target, rel=1e-5)
        assert doc["implementation_plan"]["ceiling_today_rps"] < target * (1 + 1e-5)
    recs = doc["recommendations"]
    gains = [
        r["expected_improvement_pct"] for r in recs if r["expected_improvement_pct"] is not None
    ]
    assert all(g > 0 for g in gains), gains
    names = [r["optimization"] for r in recs]
    assert len(set(names)) == len(names)  # no recommendation twice
    # no change twice, at two prices ("servers" may change two stations: cores and disks)
    changes = [r["change"] for r in recs if r.get("change") not in (None, "servers")]
    assert len(set(changes)) == len(changes)
    assert all(r["expected_improvement_pct"] is not None for r in recs if "change" in r)
    plan = doc["implementation_plan"]
    if "steps" not in plan:
        assert "plan-step-1" not in {i for r in recs for i in r["evidence_ids"]}
        return
    steps = plan["steps"]
    kinds = [s["change"] for s in steps]
    values = [(s["change"], s["station"], s["value"]) for s in steps]
    assert len(set(values)) == len(values)
    ceilings = [plan["ceiling_today_rps"]] + [s["ceiling_rps"] for s in steps]
    assert all(b > a for a, b in itertools.pairwise(ceilings)), ceilings
    for s in steps:  # at the rate each step can carry, every station within its target
        for station, used in s["utilization_pct"].items():
            assert used <= TARGETS[station] * 100 * (1 + 1e-6), (station, used)
    if plan["reaches_target"]:
        assert steps == [] or steps[-1]["ceiling_rps"] >= target * (1 - 1e-5)  # 6 digits
    else:
        assert plan["cap"]
    for s, r in zip(steps, recs, strict=False):  # each step's gain is its recommendation's
        assert r["change"] == s["change"]
        assert r["expected_improvement_pct"] == s["gain_pct"]
    capacities = [plan["capacity_today_rps"]] + [s["capacity_rps"] for s in steps]
    if None not in capacities:  # at 100 %, like at the targets, no step carries less
        assert all(b >= a * (1 - 1e-5) for a, b in itertools.pairwise(capacities)), capacities
    if steps:  # the summary's first action, the first recommendation and step 1 are one change
        first = recs[0]
        assert first["evidence_ids"] == ["plan-step-1"]
        assert steps[0]["what"] in first["optimization"]
        action = doc["summary"].split("First: ", 1)[1]
        assert action.rstrip(".").lower() == first["optimization"].rstrip(".").lower()
        step_recs = [r for r in recs if any(i.startswith("plan-step-") for i in r["evidence_ids"])]
        assert len(step_recs) == len(steps) and len(set(kinds)) >= 1
    _gains_are_the_solvers(doc, m, sink)


def _gains_are_the_solvers(doc: dict[str, object], m: ServiceMetrics, sink: Sink | None) -> None:
    """Every quantified gain, solved again here: the model built from the same metrics, the
    recommendation's change (the plan's steps in turn; any other play on today's model) applied,
    the solver's ceiling over today's. Scale-out never multiplies a shared station."""
    recs = doc["recommendations"]
    assert isinstance(recs, list)
    quantified = [r for r in recs if r["expected_improvement_pct"] is not None]
    built = from_metrics(m, SETTINGS, sink)
    if built is None:
        assert not quantified
        return
    model = built[0]
    today = project(model).ceiling
    evidence = {e["id"]: e for e in doc["evidence"]}  # type: ignore[attr-defined]
    plan = doc["implementation_plan"]
    assert isinstance(plan, dict)
    cur = model
    for i, s in enumerate(plan.get("steps", []), 1):
        cur = apply(cur, Change(s["change"], s["value"], s["station"]))
        after = project(cur).ceiling
        assert s["ceiling_rps"] == pytest.approx(after, rel=1e-5)
        rec = next(r for r in recs if r["evidence_ids"] == [f"plan-step-{i}"])
        assert rec["expected_improvement_pct"] == pytest.approx((after / today - 1) * 100, rel=1e-4)
        _shared_not_multiplied(model, cur)
    for r in quantified:
        alone = [i for i in r["evidence_ids"] if i.startswith("alone-")]
        if not alone:
            assert any(i.startswith("plan-step-") for i in r["evidence_ids"]), r
            continue
        change = evidence[alone[0]]["inputs"]
        changed = apply(model, Change(change["change"], change["value"], change["station"]))
        after = project(changed).ceiling
        assert r["expected_improvement_pct"] == pytest.approx((after / today - 1) * 100, rel=1e-4)
        _shared_not_multiplied(model, changed)


def _shared_not_multiplied(before: SystemModel, after: SystemModel) -> None:
    for st_ in before.stations:
        if st_.scope == "shared":
            now = after.station(st_.name)
            assert now is not None and servers_of(after, now) == servers_of(before, st_)
