"""scaling-plan computes on the system model: each component is a SystemModel built from the
architecture (``advisors/system/architecture.component_model``), its capacity today's
``project`` ceiling, its instances the fewest whose ``apply``-ed model carries the demand.

Every number is checked twice: against a hand computation written here (the utilization law,
the USL over instances), and against project() on the component's model."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from throughput_expert import scaling_plan
from throughput_expert.advisors.scaling import ScalingInputs, advise, parts
from throughput_expert.advisors.system.architecture import component_model
from throughput_expert.advisors.system.project import Projection, apply, project
from throughput_expert.model import Resource
from throughput_expert.model.analysis.scaling import ComponentRecord, ScalingAnalysis
from throughput_expert.model.architecture import Architecture, Component
from throughput_expert.model.system import Change, InstanceScaling, SystemModel, SystemStation
from throughput_expert.sources.settings import load_settings

SETTINGS = load_settings()
REPO = Path(__file__).resolve().parents[2]
SLACK = 1e-9  # a boundary within a billionth may fall either way


def _plan(c: Component, entry: float, target: float) -> tuple[ScalingAnalysis, ComponentRecord]:
    arch = Architecture(system="s", entry_rate_rps=entry, components=(c,))
    analysis = advise(ScalingInputs(arch, target), SETTINGS).analysis
    assert isinstance(analysis, ScalingAnalysis)
    return analysis, analysis.components[0]


def _rel(n: float, sigma: float, kappa: float) -> float:
    """The USL by hand: n instances relative to one."""
    return n / (1 + sigma * (n - 1) + kappa * n * (n - 1))


def _smallest(carries: Callable[[int], bool], limit: int) -> int | None:
    """A count from 1 (the advisor bisects)."""
    return next((k for k in range(1, limit + 1) if carries(k)), None)


def _by_hand(
    utilization: Mapping[Resource, float], rate: float, instances: int, grows: bool
) -> tuple[float, set[str]]:
    """The utilization law per instance: X_target = (X / n) · t / U, the lowest over the
    resources that grow with the rate."""
    caps = {
        r: rate / instances * SETTINGS.target(r) / u
        for r, u in utilization.items()
        if u > 0 and (r != "memory" or grows)
    }
    low = min(caps.values())
    # resources within a rounding error of each other both bind
    return low, {r for r, v in caps.items() if v <= low * (1 + 1e-12)}


utilizations = st.dictionaries(
    st.sampled_from(["cpu", "disk_io", "network", "memory"]),
    st.floats(0.01, 1.0),
    min_size=1,
).filter(lambda u: any(k != "memory" for k in u))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    u=utilizations,
    grows=st.booleans(),
    instances=st.integers(1, 40),
    cores=st.one_of(st.none(), st.floats(0.5, 64)),
    fanout=st.floats(0.1, 10),
    entry=st.floats(1, 1e5),
    growth=st.floats(1.01, 50),
    max_instances=st.one_of(st.none(), st.integers(1, 400)),
)
def test_capacity_and_instances_are_the_utilization_law_on_the_model(
    u: dict[Resource, float],
    grows: bool,
    instances: int,
    cores: float | None,
    fanout: float,
    entry: float,
    growth: float,
    max_instances: int | None,
) -> None:
    max_instances = max(max_instances, instances) if max_instances else None
    c = Component(
        name="svc",
        kind="service",
        instances=instances,
        max_instances=max_instances,
        cores=cores,
        fanout=fanout,
        utilization=u,
        memory_grows_with_rate=grows,
        stateless=True,
    )
    target = entry * growth
    _, rec = _plan(c, entry, target)
    cap1, binding = _by_hand(u, entry * fanout, instances, grows)
    assert rec.capacity_per_instance == pytest.approx(cap1, rel=1e-12)
    assert rec.binding in binding
    demand = target * fanout
    # linear: N = ceil(demand / capacity per instance)
    want = [max(1, math.ceil(demand / cap1 * (1 + e) - 1e-9)) for e in (-SLACK, SLACK)]
    limit = max_instances or 100_000
    if min(want) > limit:
        assert rec.feasible is False and rec.instances_needed is None
        return
    assert rec.feasible is True and rec.instances_needed in want
    # the same on the model: N carries the demand at the targets, N − 1 does not
    model = component_model(c, fanout, entry, SETTINGS)
    assert model is not None and all(s.scope == "per_instance" for s in model.stations)
    assert project(model).ceiling / instances == pytest.approx(rec.capacity_per_instance)
    n = rec.instances_needed
    assert n is not None
    at_n = project(apply(model, Change("instances", n))).ceiling
    assert at_n >= demand * (1 - SLACK)
    assert rec.capacity_at_plan == pytest.approx(at_n, rel=1e-12)
    assert rec.capacity_at_plan == pytest.approx(n * cap1, rel=1e-9)
    if n > 1:
        assert project(apply(model, Change("instances", n - 1))).ceiling < demand * (1 + SLACK)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cpu=st.floats(0.05, 0.95),
    instances=st.integers(1, 12),
    sigma=st.floats(0, 0.3),
    kappa=st.floats(0, 0.02),
    growth=st.floats(1.01, 30),
    max_instances=st.integers(1, 60),
)
# a κ so small its peak is infinite: rising all the way (was int(inf), an OverflowError)
@example(cpu=0.5, instances=1, sigma=0.0, kappa=5e-324, growth=2.0, max_instances=1)
def test_instances_bend_by_the_usl_over_instances_on_the_model(
    cpu: float, instances: int, sigma: float, kappa: float, growth: float, max_instances: int
) -> None:
    max_instances = max(max_instances, instances)
    entry = 1000.0
    c = Component(
        name="svc",
        kind="service",
        instances=instances,
        max_instances=max_instances,
        utilization={"cpu": cpu},
        stateless=True,
        sigma=sigma,
        kappa=kappa,
    )
    _, rec = _plan(c, entry, entry * growth)
    demand = entry * growth
    # by hand: today's n0 instances carry n0·cap1; one carries base = n0·cap1 / rel(n0)
    cap1 = entry / instances * SETTINGS.target("cpu") / cpu
    base = instances * cap1 / _rel(instances, sigma, kappa)
    assert rec.capacity_per_instance == pytest.approx(cap1, rel=1e-12)
    want = {
        _smallest(lambda k, e=e: base * _rel(k, sigma, kappa) >= demand * (1 + e), max_instances)
        for e in (-SLACK, SLACK)
    }
    assert rec.instances_needed in want
    model = component_model(c, 1.0, entry, SETTINGS, (sigma, kappa))
    assert model is not None and model.scaling == InstanceScaling(sigma, kappa, instances)
    if rec.instances_needed is None:
        assert rec.feasible is False
        return
    n = rec.instances_needed
    assert rec.feasible is True
    assert rec.capacity_at_plan == pytest.approx(base * _rel(n, sigma, kappa), rel=1e-9)
    assert rec.capacity_at_plan == pytest.approx(
        project(apply(model, Change("instances", n))).ceiling, rel=1e-12
    )


@settings(max_examples=40, deadline=None)
@given(
    kind=st.sampled_from(["stateful", "database", "external"]),
    u=utilizations,
    instances=st.integers(1, 8),
    growth=st.floats(1.01, 10),
)
def test_a_component_that_cannot_scale_out_is_shared_and_its_instances_carry_or_not(
    kind: str, u: dict[Resource, float], instances: int, growth: float
) -> None:
    entry = 500.0
    c = Component(
        name="x",
        kind="service" if kind == "stateful" else kind,  # type: ignore[arg-type]
        instances=instances,
        stateless=False if kind == "stateful" else None,
        utilization=u,
    )
    _, rec = _plan(c, entry, entry * growth)
    cap1, _ = _by_hand(u, entry, instances, False)
    total = instances * cap1  # by hand: today's instances, no more
    assert rec.capacity_at_plan == pytest.approx(total, rel=1e-12)
    carries = total >= entry * growth
    assert rec.feasible is carries or abs(total / (entry * growth) - 1) < 1e-9
    model = component_model(c, 1.0, entry, SETTINGS)
    assert model is not None and all(s.scope == "shared" for s in model.stations)
    # scaling out never multiplies it
    more = project(apply(model, Change("instances", instances * 10))).ceiling
    assert more == pytest.approx(project(model).ceiling) == pytest.approx(total)


@settings(max_examples=40, deadline=None)
@given(
    given_cap=st.one_of(st.none(), st.floats(1, 1e5)),
    service_ms=st.floats(0.1, 500),
    concurrency=st.integers(1, 64),
    instances=st.integers(1, 10),
    fanout=st.floats(0.5, 5),
)
def test_a_given_capacity_or_service_time_is_a_station_of_the_model(
    given_cap: float | None, service_ms: float, concurrency: int, instances: int, fanout: float
) -> None:
    entry = 100.0
    c = Component(
        name="w",
        kind="worker",
        instances=instances,
        fanout=fanout,
        capacity_per_instance_rps=given_cap,
        service_time_s=service_ms / 1e3,
        concurrency_per_instance=concurrency,
        stateless=True,
    )
    analysis, rec = _plan(c, entry, entry * 3)
    # by hand: a given capacity as given; else the utilization law X = c · U / S
    cap1 = given_cap if given_cap else concurrency * SETTINGS.target("cpu") / (service_ms / 1e3)
    assert rec.capacity_per_instance == pytest.approx(cap1, rel=1e-12)
    assert rec.binding == ("given capacity" if given_cap else "service time")
    model = component_model(c, fanout, entry, SETTINGS)
    assert model is not None
    assert project(model).ceiling == pytest.approx(instances * cap1, rel=1e-12)
    # the forced flow law: today's instances saturate at an entry rate of n · cap1 / fanout
    (step,) = analysis.saturation_order
    assert step.saturates_at_entry == pytest.approx(instances * cap1 / fanout, rel=1e-12)


def test_the_plan_is_the_model_s_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """A model whose solver answers half as much gives a plan of half the capacity and about
    twice the instances: the plan comes from project(), not from a copy of its law."""
    c = Component(name="svc", kind="service", instances=2, utilization={"cpu": 0.5}, stateless=True)
    _, before = _plan(c, 1000.0, 7000.0)
    # by hand: 500 rps per instance at 50 % CPU -> 500 · 0.7 / 0.5 = 700; 7,000 / 700 = 10
    assert before.capacity_per_instance == pytest.approx(700)
    assert before.instances_needed == 10
    real = parts.project

    def halved(model: SystemModel, rate: float | None = None) -> Projection:
        p = real(model, rate)
        return Projection(p.ceiling / 2, p.binding, p.limits, p.rate, p.utilization)

    monkeypatch.setattr(parts, "project", halved)
    _, after = _plan(c, 1000.0, 7000.0)
    assert after.capacity_per_instance == pytest.approx(350)
    assert after.instances_needed == 20


def test_the_usl_over_instances_is_the_model_s_and_only_for_its_per_instance_stations() -> None:
    """project() on a model with ``scaling``: n instances' per-instance stations carry
    rel(n) / rel(n0) times today's; a shared station and a model without it are unchanged."""
    cpu = SystemStation("cpu", "cpu", demand=0.001, servers=1, target=0.7)
    disk = SystemStation("disk_io", "disk_io", 0.0001, 1, 0.8, scope="shared")
    model = SystemModel("m", (cpu, disk), rate=None, instances=4)
    bent = SystemModel("m", (cpu, disk), None, 4, scaling=InstanceScaling(0.1, 0.01, 4))
    assert project(bent).limits == pytest.approx(project(model).limits)
    for n in (1, 2, 8, 16):
        linear = project(apply(model, Change("instances", n))).limits
        usl = project(apply(bent, Change("instances", n))).limits
        assert linear["cpu"] == pytest.approx(0.7 * n / 0.001)  # the utilization law
        ratio = _rel(n, 0.1, 0.01) / _rel(4, 0.1, 0.01)
        assert usl["cpu"] == pytest.approx(0.7 * 4 / 0.001 * ratio)
        assert usl["disk_io"] == linear["disk_io"] == pytest.approx(0.8 / 0.0001)


@pytest.mark.parametrize(
    ("path", "target", "expected"),
    [
        # examples/architecture.yaml: the consumer at 10K msg/s on one instance, CPU 45 % of
        # its target 70 %: 10,000 · 0.7 / 0.45 = 15,556 per instance, ceil(50,000 / 15,556)
        # = 4; the database one node, disk 80 % at a target 70 %: 8,750 rps today, its one
        # node carries 50K once the writes are batched (tests/advisors/test_scaling_writes.py)
        (
            "examples/architecture.yaml",
            50_000,
            {"consumer": (10_000 * 0.7 / 0.45, 4, True), "db": (10_000 * 0.7 / 0.8, 1, True)},
        ),
        # three-tier: api 500 rps per instance at 55 % CPU -> 636 per instance, 10 for 6,000;
        # workers 4 in flight at 8 ms kept 70 % busy: 350 each, ceil(6,000 / 350) = 18
        (
            "src/throughput_expert/examples/three-tier.yaml",
            6_000,
            {"api": (500 * 0.7 / 0.55, 10, True), "workers": (4 * 0.7 / 0.008, 18, True)},
        ),
    ],
)
def test_the_examples_plan_as_by_hand(
    path: str, target: float, expected: dict[str, tuple[float, int | None, bool]]
) -> None:
    doc = scaling_plan(REPO / path, target_rps=target).to_dict()
    rows = {c["name"]: c for c in doc["analysis"]["components"]}
    for name, (cap, instances, feasible) in expected.items():
        assert rows[name]["capacity_per_instance_rps"] == pytest.approx(cap, rel=1e-5), name
        assert rows[name].get("instances_needed") == instances, name
        assert rows[name]["feasible"] is feasible, name


def test_a_consumer_s_lag_target_is_whole_messages_by_little_s_law() -> None:
    """three-tier's workers: 4 in flight at 8 ms kept 70 % busy carry 350 rps each; a 5 s delay
    is 350 × 5 = 1,750 messages waiting (was 1,749: the floor of 349.99999999999994 × 5)."""
    doc = scaling_plan(
        REPO / "src/throughput_expert/examples/three-tier.yaml", target_rps=6000
    ).to_dict()
    workers = {c["name"]: c for c in doc["analysis"]["components"]}["workers"]
    assert workers["autoscaling"]["style"] == "KEDA"
    by_hand = 4 * 0.7 / 0.008 * 5  # 1749.9999999999998 in floats
    assert by_hand == pytest.approx(1750)
    assert workers["autoscaling"]["target"] == 1750
