"""scaling-plan batches the writes to a store that cannot add instances, on the model and planner
analyze plans on: one SystemModel of the caller and the store in entry requests per second
(``advisors/scaling/writes``), ``advisors/system/plan.plan`` on it.

Every number is checked against a hand computation from the utilization law (X = t·m / D at
each station, a batch of b cutting the store's demand to D·((1 − f) + f / b)), and the README's
command against ``tpx demo`` (analyze on the same facts)."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from throughput_expert import analyze, scaling_plan
from throughput_expert.advisors.scaling import ScalingInputs, advise
from throughput_expert.advisors.scaling.writes import combined
from throughput_expert.advisors.system.build import from_metrics
from throughput_expert.advisors.system.plan import plan
from throughput_expert.model import Report
from throughput_expert.model.analysis.common import PlanRecord
from throughput_expert.model.analysis.scaling import ScalingAnalysis
from throughput_expert.model.architecture import Architecture, Component, Edge
from throughput_expert.model.units import fmt_count
from throughput_expert.sources.metrics import load_metrics
from throughput_expert.sources.sentence import sink_of
from throughput_expert.sources.settings import load_settings

SETTINGS = load_settings()
REPO = Path(__file__).resolve().parents[2]
SEED_METRICS = REPO / "src/throughput_expert/examples/message-consumer.json"
SHARE = float(SETTINGS.batching_operation("database-insert")["fixed_share"])


def _smallest_batch(demand: float, allowed: float) -> int:
    """By hand, counting up: the smallest b with demand·((1 − f) + f / b) ≤ allowed."""
    return next(b for b in range(1, 100_000) if demand * ((1 - SHARE) + SHARE / b) <= allowed)


def _steps(p: PlanRecord) -> list[tuple[str, int]]:
    return [(s.change, int(s.value)) for s in p.steps]


def test_the_readme_command_gives_the_demo_s_plan() -> None:
    """examples/architecture.yaml is the seed's pipeline with its single consumer (concurrency 1):
    the facts of ``tpx demo``, so the same plan, step for step, number for number."""
    report = scaling_plan(REPO / "examples/architecture.yaml", target_rps=50_000)
    demo = analyze([SEED_METRICS])
    assert report.plan is not None and report.plan.reaches_target
    assert demo.plan is not None and demo.plan.reaches_target
    # the worker: 1 at 10K holds an item 100 us (Little's law), may be busy 70 %: 100 us·(0.1 +
    # 0.9 / b) <= 14 us from b = 23; then the consumer's CPU (45 % at 10K: 15.6K per instance at
    # 70 %) needs ceil(50K / 15.6K) = 4
    batch = _smallest_batch(100e-6, 0.7 / 50_000)
    n = math.ceil(50_000 / (10_000 * 0.7 / 0.45))
    assert (batch, n) == (23, 4)
    assert _steps(report.plan) == _steps(demo.plan) == [("batch", batch), ("instances", n)]
    for mine, theirs in zip(report.plan.steps, demo.plan.steps, strict=True):
        assert mine.ceiling == pytest.approx(theirs.ceiling, rel=1e-9)
        assert mine.gain == pytest.approx(theirs.gain, rel=1e-9)
    said = {a.what: a.why for a in report.assumptions}
    assert "always busy" in said["consumer's time per write"]
    _first_action_agrees(report, batch)


def test_without_the_consumer_s_workers_the_batch_is_sized_for_the_store(tmp_path: Path) -> None:
    """The same YAML without ``concurrency``: nothing is known of the consumer's time per item,
    so the batch is sized for db alone, as analyze's own model without its worker sizes it."""
    text = (REPO / "examples/architecture.yaml").read_text()
    assert "    concurrency: 1" in text
    bare_yaml = tmp_path / "architecture.yaml"
    bare_yaml.write_text(
        "\n".join(line for line in text.splitlines() if "concurrency:" not in line)
    )
    report = scaling_plan(bare_yaml, target_rps=50_000)
    assert report.plan is not None and report.plan.reaches_target
    # db's disk: 80 % at 10K is 80 us per write; 70 % at 50K allows 14 us: 0.1 + 0.9 / b
    # <= 0.175 from b = 12
    batch = _smallest_batch(80e-6, 0.7 / 50_000)
    assert batch == 12
    assert _steps(report.plan) == [("batch", batch), ("instances", 4)]
    said = {a.what: a.why for a in report.assumptions}
    assert "larger batch" in said["consumer's time per write"]
    # a fact analyze does not have: db's CPU, 30 % at 10K (30 us a write), 0.7 / 30 us = 23.3K;
    # the share cuts it too (the source is about the whole insert), and the report says what
    # analyze's reading (the disk alone) would give
    disk_only = f"stops at {fmt_count(0.7 / 30e-6)} rps, capped by db CPU"
    assert disk_only in said["share of a database-insert paid per call"]

    # the same facts give the same plan: analyze's own model without its worker plans exactly
    # what scaling-plan plans
    metrics = load_metrics([SEED_METRICS])
    sink = sink_of(json.loads(SEED_METRICS.read_text())["architecture"])
    built = from_metrics(metrics, SETTINGS, sink)
    assert built is not None
    bare = replace(built[0], workers=None, item_time=None)
    assert [(s.change.kind, int(s.change.value)) for s in plan(bare, 50_000).steps] == _steps(
        report.plan
    )
    _first_action_agrees(report, batch)


def _first_action_agrees(report: Report, batch: int) -> None:
    assert report.plan is not None
    # the first action: the summary's, the first recommendation's, the first step's
    first = report.recommendations[0]
    assert first.optimization == f"Batch the writes to db: {batch} items per commit"
    assert first.expected_improvement_pct == pytest.approx(report.plan.steps[0].gain * 100)
    assert report.summary.startswith(f"To go from 10K to 50K rps: {report.plan.steps[0].what}")
    db = next(c for c in report.analysis.components if c.name == "db")
    assert db.feasible is True and db.instances_needed == 1 and db.batch == batch
    assert report.analysis.totals.feasible is True


def _arch(
    n0: int,
    cores: int,
    cpu: float,
    max_n: int | None,
    calls: float,
    store_cpu: float | None,
    disk: float,
    entry: float,
) -> Architecture:
    store_util = {"disk_io": disk} | ({"cpu": store_cpu} if store_cpu else {})
    return Architecture(
        system="gen",
        entry_rate_rps=entry,
        components=(
            Component(
                name="writer",
                kind="worker",
                instances=n0,
                max_instances=max_n,
                cores=cores,
                stateless=True,
                utilization={"cpu": cpu, "memory": 0.5},
            ),
            Component(name="store", kind="database", instances=1, utilization=store_util),
        ),
        edges=(Edge("writer", "store", calls),),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n0=st.integers(1, 4),
    cores=st.integers(1, 8),
    cpu=st.floats(0.05, 0.95),
    max_n=st.one_of(st.none(), st.integers(1, 64)),
    calls=st.sampled_from([0.5, 1.0, 2.0, 3.0]),
    store_cpu=st.one_of(st.none(), st.floats(0.05, 0.95)),
    disk=st.floats(0.05, 0.95),
    entry=st.floats(100, 50_000),
    factor=st.floats(1.1, 40),
)
def test_generated_writer_and_store_plans_are_the_model_s_by_hand(
    n0: int,
    cores: int,
    cpu: float,
    max_n: int | None,
    calls: float,
    store_cpu: float | None,
    disk: float,
    entry: float,
    factor: float,
) -> None:
    max_n = max(max_n, n0) if max_n is not None else None
    arch = _arch(n0, cores, cpu, max_n, calls, store_cpu, disk, entry)
    target = entry * factor
    report = advise(ScalingInputs(arch, target), SETTINGS)
    analysis = report.analysis
    assert isinstance(analysis, ScalingAnalysis)
    t_cpu, t_disk = SETTINGS.target("cpu"), SETTINGS.target("disk_io")
    # by hand, in entry requests per second: the writer's CPU per instance (U·m·n0 / X over m
    # servers an instance), the store's stations shared, their demand cut by the batch
    writer_d = cpu * cores * n0 / entry
    store_d = {"disk_io": (disk, t_disk)} | ({"cpu": (store_cpu, t_cpu)} if store_cpu else {})
    demands = {k: (u / entry, t) for k, (u, t) in store_d.items()}

    def store_limit(b: int) -> float:
        return min(t / (d * ((1 - SHARE) + SHARE / b)) for d, t in demands.values())

    def ceiling(n: int, b: int, m: int = cores) -> float:
        return min(t_cpu * m * n / writer_d, store_limit(b))

    alone = min(t / d for d, t in demands.values())
    p = report.plan
    if p is None:  # the store carries the target alone, or batching lifts nothing
        assert alone >= target * (1 - 1e-9) or not any(
            r.change == "batch" for r in report.recommendations
        )
        return
    # the report's plan is plan() on the pair's model from the shared builder, step for step
    writer, store_c = arch.components
    built = combined(store_c, writer, {"writer": 1.0, "store": calls}, arch, SETTINGS, None)
    assert built is not None
    solved = plan(built[0], target)
    assert [(s.change.kind, s.change.value, s.projection.ceiling) for s in solved.steps] == [
        (s.change, s.value, s.ceiling) for s in p.steps
    ]
    today = ceiling(n0, 1)
    assert p.ceiling_today == pytest.approx(today, rel=1e-9)
    n, b, m, before = n0, 1, cores, today
    for i, step in enumerate(p.steps):
        if step.change == "batch":
            b = int(step.value)
        elif step.change == "instances":
            n = int(step.value)
        else:  # a bigger writer (the store's stations are shared: never given servers)
            assert (step.change, step.station) == ("servers", "writer CPU")
            m = int(step.value)
        # every quantified gain: the hand ceiling of the changed model over today's
        assert step.ceiling == pytest.approx(ceiling(n, b, m), rel=1e-9)
        assert step.gain == pytest.approx(ceiling(n, b, m) / today - 1, rel=1e-9, abs=1e-12)
        # ceilings never fall
        assert step.ceiling >= before * (1 - 1e-12)
        before = step.ceiling
        # scale-out never multiplies the store: its utilization at the rate is the batch's alone
        used = step.rate * demands["disk_io"][0] * ((1 - SHARE) + SHARE / b)
        assert step.utilization["store disk I/O"] == pytest.approx(used, rel=1e-9)
        assert report.recommendations[i].expected_improvement_pct == pytest.approx(step.gain * 100)
    if max_n is not None:
        assert n <= max_n
    if p.reaches_target:
        assert ceiling(n, b, m) >= target * (1 - 1e-9)
        last = p.steps[-1]
        assert last.rate == pytest.approx(target)
        words = {"cpu": "CPU", "disk_io": "disk I/O"}
        limits = {"writer CPU": t_cpu} | {f"store {words[k]}": t for k, (_, t) in store_d.items()}
        for name, limit in limits.items():
            assert last.utilization[name] <= limit * (1 + 1e-9), name
    store = next(c for c in analysis.components if c.name == "store")
    assert store.batch == b
    assert (store.feasible is True) == (store_limit(b) >= target * (1 - 1e-9))
    # the first action everywhere is the plan's first step
    assert report.recommendations[0].change == p.steps[0].change
    first = p.steps[0]
    words = f"writer {n0}→{int(first.value)}" if first.change == "instances" else first.what
    assert report.summary.startswith(f"To go from {fmt_count(entry)} to {fmt_count(target)} rps:")
    assert report.summary.split(": ", 1)[1].startswith(words)


def test_several_callers_keep_the_store_s_own_plan() -> None:
    arch = _arch(1, 2, 0.45, 16, 1.0, None, 0.8, 10_000)
    other = Component(name="api", kind="service", stateless=True, utilization={"cpu": 0.2})
    arch = replace(
        arch,
        components=(*arch.components, other),
        edges=(*arch.edges, Edge("api", "store", 1.0)),
    )
    report = advise(ScalingInputs(arch, 50_000), SETTINGS)
    assert report.plan is None
    store = next(c for c in report.analysis.components if c.name == "store")
    assert store.feasible is False and store.batch is None
