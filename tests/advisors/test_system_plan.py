"""The system model's planner (advisors/system): the seed's scenario, and the invariants every
plan keeps on thousands of generated systems."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from throughput_expert.advisors.system import apply, plan, project
from throughput_expert.advisors.system.build import from_metrics
from throughput_expert.advisors.system.project import WORKERS, servers_of
from throughput_expert.model import ServiceMetrics
from throughput_expert.model.system import Change, Sink, SystemModel, SystemStation
from throughput_expert.sources.settings import load_settings

X = 10_000.0
SETTINGS = load_settings()


def seed() -> SystemModel:
    """10K msg/s, one consumer, CPU 45 % (its own), disk 80 % (the shared PostgreSQL's; 90 % of
    a single-row insert's cost is per commit)."""
    return SystemModel(
        "order-consumer",
        (
            SystemStation("cpu", "cpu", 0.45 / X, 1, 0.70, "per_instance"),
            SystemStation("disk_io", "disk_io", 0.80 / X, 1, 0.70, "shared", per_call=0.9),
        ),
        rate=X,
        workers=1,
        item_time=1 / X,
        item_per_call=0.9,
    )


def test_today_the_shared_disk_binds_below_the_rate() -> None:
    today = project(seed())
    assert today.binding == "disk_io"
    assert today.ceiling == pytest.approx(8_750)  # 0.70 · 1 / 80 µs
    assert today.limits[WORKERS] == pytest.approx(10_000)  # Little: 1 / 100 µs


def test_the_seed_plan_batches_then_scales_out_and_reaches_50k_at_the_targets() -> None:
    p = plan(seed(), 50_000)
    assert [s.change.kind for s in p.steps] == ["batch", "instances"]
    assert p.steps[0].change.value == 12  # disk at 70 % at 50K: 8 µs + 72 µs / b ≤ 14 µs
    assert p.steps[1].change.value == 4  # CPU at 15.6K per consumer after batching
    assert p.reaches_target
    final = p.final
    assert final.ceiling >= 50_000 * (1 - 1e-9)
    assert final.utilization["disk_io"] == pytest.approx(0.70)  # the shared disk, not ×4
    assert final.utilization["cpu"] <= 0.70
    gains = [s.gain for s in p.steps]
    assert gains == sorted(gains) and gains[0] > 0


def test_a_shared_station_that_cannot_be_batched_caps_the_plan_and_says_why() -> None:
    m = seed().with_station(
        SystemStation("disk_io", "disk_io", 0.80 / X, 1, 0.70, "shared", per_call=0.0)
    )
    p = plan(m, 50_000)
    assert not p.reaches_target
    assert p.cap == "disk_io"
    assert p.lift is not None and "shared" in p.lift


def test_scale_out_never_multiplies_a_shared_station() -> None:
    m = apply(seed(), Change("instances", 6))
    disk = m.station("disk_io")
    cpu = m.station("cpu")
    assert disk is not None and cpu is not None
    assert servers_of(m, disk) == 1 and servers_of(m, cpu) == 6


stations = st.builds(
    SystemStation,
    name=st.sampled_from(["cpu", "disk_io", "network", "db", "lock"]),
    kind=st.just("cpu"),
    demand=st.floats(1e-6, 1e-2),
    servers=st.integers(1, 64),
    target=st.floats(0.5, 0.9),
    scope=st.sampled_from(["per_instance", "shared"]),
    per_call=st.sampled_from([0.0, 0.5, 0.9]),
)


@settings(max_examples=2000, deadline=None)
@given(
    found=st.lists(stations, min_size=1, max_size=4, unique_by=lambda s: s.name),
    workers=st.one_of(st.none(), st.integers(1, 64)),
    item_time=st.floats(1e-5, 1e-1),
    instances=st.integers(1, 8),
    max_instances=st.one_of(st.none(), st.integers(8, 200)),
    factor=st.floats(1.01, 50.0),
)
def test_plan_invariants(
    found: list[SystemStation],
    workers: int | None,
    item_time: float,
    instances: int,
    max_instances: int | None,
    factor: float,
) -> None:
    model = SystemModel(
        "s",
        tuple(found),
        rate=None,
        instances=instances,
        max_instances=max_instances,
        workers=workers,
        item_time=item_time if workers else None,
        item_per_call=0.5 if workers else 0.0,
    )
    today = project(model)
    target = today.ceiling * factor
    p = plan(model, target)
    ceilings = [today.ceiling] + [s.projection.ceiling for s in p.steps]
    assert all(b > a for a, b in itertools.pairwise(ceilings))  # never falls
    assert all(s.gain > 0 for s in p.steps)
    changes = [(s.change.kind, s.change.station, s.change.value) for s in p.steps]
    assert len(set(changes)) == len(changes)  # no change twice
    for s in p.steps:  # each step's utilizations are at the rate it can carry, within targets
        for st_ in model.stations:
            assert s.projection.utilization[st_.name] <= st_.target * (1 + 1e-9)
        if max_instances is not None:
            assert (
                1
                <= apply_all(model, p.steps[: p.steps.index(s) + 1]).instances
                <= max(max_instances, instances)
            )
    if p.reaches_target:
        assert p.final.ceiling >= target * (1 - 1e-9)
        assert p.cap is None
    else:
        assert p.cap is not None
    shared = [s.name for s in model.stations if s.scope == "shared"]
    final = apply_all(model, p.steps)
    for name in shared:
        before, after = model.station(name), final.station(name)
        assert before is not None and after is not None
        assert servers_of(final, after) == servers_of(model, before)
    assert math.isfinite(today.ceiling) or not today.limits


def apply_all(model: SystemModel, steps: object) -> SystemModel:
    for step in steps:  # type: ignore[attr-defined]
        model = apply(model, step.change)
    return model


def test_the_model_built_from_the_seed_metrics_is_the_seed_model() -> None:
    """From the bundled example's metrics and its sink: the same stations, the same plan."""
    from throughput_expert.advisors.system.build import from_metrics
    from throughput_expert.model.system import Sink
    from throughput_expert.sources import load_metrics
    from throughput_expert.sources.settings import load_settings

    example = Path(__file__).resolve().parents[2] / "src/throughput_expert/examples"
    metrics = load_metrics([str(example / "message-consumer.json")])
    built = from_metrics(metrics, load_settings(), Sink("PostgreSQL", "database"))
    assert built is not None
    model, assumed = built
    disk, cpu = model.station("disk_io"), model.station("cpu")
    assert disk is not None and cpu is not None
    assert disk.scope == "shared" and disk.per_call == 0.9
    assert disk.demand == pytest.approx(80e-6) and cpu.demand == pytest.approx(45e-6)
    assert model.item_time == pytest.approx(100e-6)
    assert {a.what for a in assumed} == {
        "share of a database-insert paid per call",
        "the disk is the sink's",
        "the CPU's time per item does not fall with batching",
    }
    p = plan(model, 50_000)
    # the worker, busy at most 70 %, binds first (7K): batch 23, then 4 instances for the CPU
    assert [(s.change.kind, s.change.value) for s in p.steps] == [("batch", 23), ("instances", 4)]
    assert p.reaches_target


@pytest.mark.parametrize("cores", [0.25, 0.5, 1.5, 3.7])
def test_fractional_cores_give_whole_servers_and_the_same_ceiling(cores: float) -> None:
    from throughput_expert.advisors.system.build import from_metrics
    from throughput_expert.model import ServiceMetrics
    from throughput_expert.sources.settings import load_settings

    m = ServiceMetrics(throughput_rps=1000.0, cores=cores, utilization={"cpu": 0.5})
    built = from_metrics(m, load_settings())
    assert built is not None
    cpu = built[0].station("cpu")
    assert cpu is not None and cpu.servers is not None and cpu.servers >= 1
    assert project(built[0]).ceiling == pytest.approx(1000 * 0.70 / 0.5)


def test_beyond_what_the_shared_disk_can_take_the_plan_stops_and_counts_no_extra_instances() -> (
    None
):
    """200K from the seed: batching cuts the per-commit part of the disk's demand to nearly
    nothing, yet its per-item part caps the shared disk at 86.6K; 6 instances carry that (13
    would be sized for 200K and buy nothing), and the plan says what would lift the cap."""
    p = plan(seed(), 200_000)
    assert [s.change.kind for s in p.steps] == ["batch", "instances"]
    assert p.steps[1].change.value == 6
    assert not p.reaches_target and p.cap == "disk_io"
    assert p.final.ceiling == pytest.approx(0.70 / (0.80 / X * (0.1 + 0.9 / 900)), rel=1e-9)
    assert p.lift is not None and "partition or shard" in p.lift


def test_a_second_batch_step_continues_from_the_first_batch() -> None:
    """Applying batch b after batch a: the per-call part is the original one over b, not a
    second 90 % of what is left (the per-call share follows the demand)."""
    once = apply(seed(), Change("batch", 12))
    twice = apply(once, Change("batch", 24))
    direct = apply(seed(), Change("batch", 24))
    a, b = twice.station("disk_io"), direct.station("disk_io")
    assert a is not None and b is not None
    assert a.demand == pytest.approx(b.demand) and a.per_call == pytest.approx(b.per_call)
    assert twice.item_time == pytest.approx(direct.item_time)


def test_one_fixed_host_grows_by_workers_never_by_instances() -> None:
    """max_instances 1 (one host): a consumer whose one worker binds gets more workers; more
    capacity past the host's cores is a bigger host, never a second one."""
    m = ServiceMetrics(
        throughput_rps=900.0,
        workers=1,
        cores=2,
        max_instances=1,
        utilization={"cpu": 0.2, "disk_io": 0.3},
    )
    built = from_metrics(m, SETTINGS)
    assert built is not None
    model, _ = built
    found = plan(model, 2_000.0)
    assert "instances" not in [s.change.kind for s in found.steps]
    assert found.steps[0].change.kind == "workers" and found.reaches_target


def test_utilization_is_one_instances_and_the_demand_counts_every_instance() -> None:
    """Three instances at 30 % CPU each carry 900/s: each instance's CPU is 30 % busy, so the
    model's ceiling at 70 % is 900 x 0.7 / 0.3 = 2,100 across the three, and a fourth adds a
    third of that again."""
    m = ServiceMetrics(throughput_rps=900.0, instances=3, cores=2, utilization={"cpu": 0.3})
    built = from_metrics(m, SETTINGS)
    assert built is not None
    model, _ = built
    assert project(model).ceiling == pytest.approx(2100)
    assert project(apply(model, Change("instances", 4))).ceiling == pytest.approx(2800)


def _trial(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "trial.csv"
    path.write_text(text)
    return path


PIPELINE = ServiceMetrics(
    throughput_rps=1916.0,
    workers=1,
    cores=2,
    max_instances=1,
    utilization={"cpu": 0.344, "disk_io": 0.211},
)
TRIAL = """batch_size,latency_ms,cpu_ms,disk_ms
1,0.522,0.316,0.111
5,0.62,0.375,0.115
50,1.2,1.05,0.178
200,3.4,2.92,0.282
"""


def test_a_measured_trial_sets_each_stations_share_paid_per_call(tmp_path: Path) -> None:
    """CPU 359 µs per item today (0.344 x 2 / 1,916); the trial's CPU fit c0 ≈ 0.3 ms per call:
    that much of each item's CPU is per call, the rest (work the trial did not do) stays; the
    worker and the disk take the trial's own split c0 / (c0 + c1) (their c0 is about all of
    today's demand)."""
    from throughput_expert.laws.batching import fit_cost_model
    from throughput_expert.sources.batch_measurements import load_call_costs

    calls = load_call_costs(_trial(tmp_path, TRIAL))
    built = from_metrics(PIPELINE, SETTINGS, Sink("PostgreSQL", "database"), calls)
    assert built is not None
    model, notes = built
    sizes = [c.batch_size for c in calls]
    cpu = fit_cost_model(sizes, [c.cpu_s or 0.0 for c in calls])
    demand = 0.344 * 2 / 1916.0
    assert model.station("cpu").per_call == pytest.approx(cpu.c0_s / demand)  # type: ignore[union-attr]
    worker = fit_cost_model(sizes, [c.latency_s for c in calls])
    assert model.item_per_call == pytest.approx(worker.c0_s / (worker.c0_s + worker.c1_s))
    assert {n.what for n in notes} >= {"cpu's share paid per call", "worker's share paid per call"}
    # the plan's batch cuts the CPU too: at the target, under the CPU's target
    found = plan(model, 4 * 1916.0)
    assert found.reaches_target and found.steps[0].change.kind == "batch"
    assert found.final.utilization["cpu"] < 0.344 * 4 * 0.5


def test_without_a_cpu_column_the_cpu_is_said_not_to_fall(tmp_path: Path) -> None:
    from throughput_expert.sources.batch_measurements import load_call_costs

    calls = load_call_costs(_trial(tmp_path, "batch_size,latency_ms\n1,0.52\n50,1.2\n"))
    built = from_metrics(PIPELINE, SETTINGS, Sink("PostgreSQL", "database"), calls)
    assert built is not None
    model, notes = built
    assert model.station("cpu").per_call == 0.0  # type: ignore[union-attr]
    said = next(n for n in notes if n.what == "cpu's share paid per call")
    assert "no cpu_ms column" in said.why


def test_a_trial_row_with_a_negative_cpu_time_is_one_line(tmp_path: Path) -> None:
    from throughput_expert.errors import InputError
    from throughput_expert.sources.batch_measurements import load_call_costs

    path = _trial(tmp_path, "batch_size,latency_ms,cpu_ms\n1,0.5,0.3\n5,0.6,-1\n")
    with pytest.raises(InputError) as err:
        load_call_costs(path)
    assert err.value.one_line() == f"{path}: line 3: cpu_ms must be >= 0"


def test_a_flat_trial_column_is_all_per_call_and_a_noisy_one_falls_back_to_the_table(
    tmp_path: Path,
) -> None:
    """A commit's flush costs the same at every batch size: a flat disk line (R² near 0) that
    fits within a few % is all paid per call; a column straying past
    thresholds.trial_max_relative_error (25 %) takes the table's share (0.9), said so."""
    from throughput_expert.laws.batching import fit_call_cost
    from throughput_expert.sources.batch_measurements import load_call_costs

    flat = fit_call_cost([1, 5, 50, 200], [0.130e-3, 0.128e-3, 0.133e-3, 0.129e-3])
    assert flat.c1_s == 0.0 and flat.relative_error < 0.03 and flat.note  # fell: made flat
    text = (
        "batch_size,latency_ms,cpu_ms,disk_ms\n"
        "1,0.52,0.31,0.130\n5,0.62,0.38,0.128\n50,1.2,1.05,0.133\n200,3.4,2.92,0.129\n"
    )
    calls = load_call_costs(_trial(tmp_path, text))
    built = from_metrics(PIPELINE, SETTINGS, Sink("PostgreSQL", "database"), calls)
    assert built is not None
    assert built[0].station("disk_io").per_call == pytest.approx(1.0)  # type: ignore[union-attr]
    noisy = text.replace("50,1.2,1.05,0.133", "50,1.2,1.05,0.533")
    calls = load_call_costs(_trial(tmp_path, noisy))
    built = from_metrics(PIPELINE, SETTINGS, Sink("PostgreSQL", "database"), calls)
    assert built is not None
    model, notes = built
    assert model.station("disk_io").per_call == 0.9  # type: ignore[union-attr]
    said = next(n for n in notes if n.what == "disk_io's share paid per call")
    assert "strays" in said.why and "the batching table's share is used" in said.why


def test_todays_demand_within_the_trials_noise_takes_the_trials_own_split(tmp_path: Path) -> None:
    """A worker measured at 1,564 µs per item today and a trial line T(b) = 1,450 µs + 17 µs·b
    (1,467 µs at b = 1, within twice its relative error of today's): the 97 µs between them is
    noise, not work per item, so the share is the trial's own 1,450 / 1,467; a demand twice the
    trial's keeps the excess per item (c0 / demand)."""
    from throughput_expert.laws.batching import fit_call_cost
    from throughput_expert.sources.batch_measurements import load_call_costs

    rows = ["batch_size,latency_ms"]
    for b, jitter in ((1, 1.06), (2, 0.94), (5, 1.06), (13, 0.94), (50, 1.05), (200, 0.95)):
        rows.append(f"{b},{(1.450 + 0.017 * b) * jitter:.5f}")
    calls = load_call_costs(_trial(tmp_path, "\n".join(rows) + "\n"))
    line = fit_call_cost([c.batch_size for c in calls], [c.latency_s for c in calls])
    own = line.c0_s / (line.c0_s + line.c1_s)
    for rate, expected in ((1 / 1.564e-3, own), (1 / 3.0e-3, line.c0_s / 3.0e-3)):
        m = ServiceMetrics(service="c", throughput_rps=rate, workers=1, utilization={"cpu": 0.5})
        built = from_metrics(m, SETTINGS, Sink("PostgreSQL", "database"), calls)
        assert built is not None
        assert built[0].item_per_call == pytest.approx(expected, rel=1e-9)
    assert line.relative_error * 2 > 1.564 / 1.467 - 1  # the first case is within the noise
