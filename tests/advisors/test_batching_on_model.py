"""design-batching computes on the system model: the writer is the model's workers (k batches in
flight, each holding an item T(1) = c0 + c1 at one item per call, c0 of it per call), a batch
size is ``apply(model, Change("batch", b))`` and its throughput ``project``'s capacity (every
writer busy) and ceiling (at the pools' busy target). Given one batch trial file, it and
``analyze --batch-trials`` (a service measured at X = k / T(1) with k workers: the same facts)
project the same throughput at the same batch size; both equal Little's law by hand,
X(b) = k·b / (c0 + c1·b)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support import run_tpx

from throughput_expert import api, design_batching
from throughput_expert.advisors.batching import on_model
from throughput_expert.advisors.system.build import from_metrics
from throughput_expert.advisors.system.project import Projection, apply, project
from throughput_expert.model import Report, ServiceMetrics
from throughput_expert.model.system import Change, SystemModel
from throughput_expert.model.trials import CallCost
from throughput_expert.sources.batch_measurements import load_call_costs
from throughput_expert.sources.settings import load_settings

SETTINGS = load_settings()
U = SETTINGS.threshold("pool_busy_target")
EXAMPLE = Path(__file__).parents[2] / "examples/batch-trial.csv"
SIZES = (1, 2, 5, 10, 50, 100, 500)


def analysis(report: Report) -> Any:
    return report.analysis


def analyze_model(calls: list[CallCost], c0: float, c1: float, k: int) -> SystemModel:
    """The model ``analyze`` builds from the same facts: k workers at X = k / T(1), one item per
    call, the trial's calls."""
    m = ServiceMetrics(service="writer", throughput_rps=k / (c0 + c1), workers=k, batch_size=1)
    built = from_metrics(m, SETTINGS, None, calls)
    assert built is not None
    return built[0]


def at(model: SystemModel, b: int, workers: int | None = None) -> Projection:
    changed = apply(model, Change("batch", b))
    return project(changed if workers is None else apply(changed, Change("workers", workers)))


@settings(max_examples=150, deadline=None)
@given(
    c0=st.floats(1e-6, 1e-2),
    ratio=st.floats(1e-4, 1.0),
    k=st.integers(1, 8),
    reach=st.floats(0.05, 0.95),
    noise=st.floats(0.0, 0.03),
)
def test_property_design_batching_and_analyze_project_the_same_throughput(
    c0: float, ratio: float, k: int, reach: float, noise: float
) -> None:
    c1 = c0 * ratio
    # the calls on the line, each size's mean off it by up to ``noise`` (alternating sign)
    calls = [CallCost(b, (c0 + c1 * b) * (1 + noise * (-1) ** n)) for n, b in enumerate(SIZES)]
    today = k / (c0 + c1)
    # a target between today's rate at the writer's busy target and the asymptote's
    target = U * (today + reach * (k / c1 - today))
    report = design_batching(
        "database-insert", target_throughput=target, measurements=calls, concurrency=k
    )
    a = analysis(report)
    fc0, fc1 = a.cost_model.c0, a.cost_model.c1
    model = analyze_model(calls, fc0, fc1, k)
    if a.met_today:
        assert a.current_throughput == pytest.approx(project(model).capacity, rel=1e-9)
        return
    # the noise may put the target past the fitted line's k / c1: then more are in flight
    b, n = a.batch_size, a.concurrency
    assert b is not None and (n == k) == a.feasible
    hand = n * b / (fc0 + fc1 * b)  # Little's law on n writers, each T(b) per b items
    theirs = at(model, b, n)
    assert a.expected_throughput == pytest.approx(hand, rel=1e-9)
    assert theirs.capacity == pytest.approx(hand, rel=1e-9)
    assert theirs.ceiling == pytest.approx(U * hand, rel=1e-9)
    assert a.utilization_at_target == pytest.approx(target / hand, rel=1e-9)
    # the smallest batch on both: b carries the target at the busy target, b - 1 does not
    assert theirs.ceiling >= target * (1 - 1e-9)
    if b > 1:
        assert at(model, b - 1, n).ceiling < target * (1 + 1e-9)
    assert a.limit == pytest.approx(k / fc1, rel=1e-9)
    assert a.current_throughput == pytest.approx(project(model).capacity, rel=1e-9)


def test_the_example_trial_gives_the_same_batch_and_throughput_in_both_commands(
    tmp_path: Path,
) -> None:
    report = design_batching(
        "database-insert", target_throughput="50K", measurements=EXAMPLE, concurrency=1
    )
    a = analysis(report)
    c0, c1 = a.cost_model.c0, a.cost_model.c1
    metrics = tmp_path / "m.json"
    # the same writer as analyze sees it: X = 1 / T(1) with one worker; a CPU barely busy
    metrics.write_text(
        f'{{"service": "writer", "throughput_rps": {1 / (c0 + c1)!r}, "workers": 1, '
        '"cores": 4, "utilization": {"cpu": 0.01}}'
    )
    doc = api.analyze([metrics], batch_trials=EXAMPLE, target_rps="50K").to_dict()
    step = next(e for e in doc["evidence"] if e["id"] == "plan-step-1")
    assert step["inputs"] == {"change": "batch", "station": None, "value": a.batch_size}
    # by hand: U·b / (c0 + c1·b) ≥ 50K from b = ⌈50K·c0 / (U − 50K·c1)⌉ (427 µs, 7.62 µs: 67)
    b = math.ceil(50_000 * c0 / (U - 50_000 * c1))
    assert a.batch_size == b == 67
    # 67 / (427 µs + 67 x 7.62 µs) = 71.5K rps, 50K at the 70 % target (JSON: 6 digits)
    assert a.expected_throughput == pytest.approx(b / (c0 + b * c1), rel=1e-12)
    assert step["result"]["ceiling_rps"] == pytest.approx(U * a.expected_throughput, rel=1e-5)
    assert step["result"]["binding"] == "workers"
    model = analyze_model(load_call_costs(EXAMPLE), c0, c1, 1)
    assert at(model, b).capacity == pytest.approx(a.expected_throughput, rel=1e-9)


def test_every_throughput_reported_is_a_projection_of_the_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The command's numbers are what ``project`` returns for the writer's model (a spy on the
    solver), and they are Little's law by hand: c0 = 5 ms, c1 = 0.1 ms, k = 2, target 10K/s:
    b = 125, X = 2 x 125 / 17.5 ms = 14,286/s."""
    seen: list[tuple[SystemModel, Projection]] = []

    def spy(model: SystemModel, rate: float | None = None) -> Projection:
        out = project(model, rate)
        seen.append((model, out))
        return out

    monkeypatch.setattr(on_model, "project", spy)
    a = analysis(
        design_batching(
            "database-insert",
            target_throughput=10_000,
            fixed_overhead="5ms",
            per_item_cost="0.1ms",
            concurrency=2,
        )
    )
    assert a.batch_size == 125
    hand = 2 * 125 / (0.005 + 0.0001 * 125)
    assert a.expected_throughput == pytest.approx(hand, rel=1e-12)
    projected = [p.capacity for m, p in seen if m.batch == 125 and m.workers == 2]
    assert projected and a.expected_throughput in projected
    assert a.current_throughput in [p.capacity for m, p in seen if m.batch == 1]
    assert a.limit in [p.capacity for m, p in seen if m.item_per_call == 0]
    assert a.limit == pytest.approx(2 / 0.0001, rel=1e-9)


def test_the_writer_model_is_the_cost_line_as_workers() -> None:
    model = on_model.writer_model(0.004, 0.001, 3, U)
    assert (model.workers, model.batch, model.worker_target) == (3, 1, U)
    assert model.item_time == pytest.approx(0.005)
    assert model.item_per_call == pytest.approx(0.8)
    for b in (1, 7, 64):
        p = on_model.at_batch(model, b)
        assert p.capacity == pytest.approx(3 * b / (0.004 + 0.001 * b), rel=1e-12)
        assert p.binding == on_model.WORKERS
    assert on_model.limit(model).capacity == pytest.approx(3 / 0.001, rel=1e-9)
    # smallest b with U·X(b) ≥ t: 3b / (4 + b) ms ≥ t / 0.7 ⇔ b ≥ 4t / (2,100 − t): 3.6 for
    # 1,000/s; exactly 80 for 2,000/s (X(80) = 240 / 84 ms = 2,000 / 0.7, met within rounding)
    assert U == 0.7
    assert on_model.smallest_batch(model, 1000, 3) == math.ceil(4000 / 1100) == 4
    assert on_model.smallest_batch(model, 2000, 3) == 80
    assert on_model.smallest_batch(model, U * 3 / 0.001, 3) is None


@settings(max_examples=100, deadline=None)
@given(
    c0=st.floats(1e-5, 1e-2),
    ratio=st.floats(1e-3, 1.0),
    k=st.integers(1, 8),
    g=st.floats(0.05, 0.99),
    h=st.floats(0.0, 0.99),
    reach=st.floats(0.05, 0.95),
)
def test_property_a_timed_disk_is_a_station_in_both_commands(
    c0: float, ratio: float, k: int, g: float, h: float, reach: float
) -> None:
    """A disk_ms column makes the disk a station (one server, d0 / Td(1) of it per call) in
    design-batching as in analyze (given the disk's utilization at today's rate): the same
    batch, the same projected throughput, and both the lower of the writers' k·b / T(b) and
    the disk's b / Td(b) by hand."""
    c1 = c0 * ratio
    t1 = c0 + c1
    today = k / t1  # the writers bind today: the disk at g of its capacity
    d1_total = g * t1 / k
    d0, d1 = d1_total * h, d1_total * (1 - h)
    calls = [CallCost(b, c0 + c1 * b, None, d0 + d1 * b) for b in SIZES]
    top = min(k / c1, 1 / d1) if d1 > 0 else k / c1
    target = U * (today + reach * (top - today))
    report = design_batching(
        "database-insert", target_throughput=target, measurements=calls, concurrency=k
    )
    a = analysis(report)
    assert a.current_throughput == pytest.approx(today, rel=1e-9)
    if a.met_today:
        return
    b = a.batch_size
    assert b is not None and a.concurrency == k
    hand = min(k * b / (c0 + c1 * b), b / (d0 + d1 * b))
    assert a.expected_throughput == pytest.approx(hand, rel=1e-6)
    m = ServiceMetrics(
        service="writer",
        throughput_rps=today,
        workers=k,
        batch_size=1,
        utilization={"disk_io": today * (d0 + d1)},
    )
    built = from_metrics(m, SETTINGS, None, calls)
    assert built is not None
    theirs = at(built[0], b)
    assert theirs.capacity == pytest.approx(hand, rel=1e-6)
    assert theirs.ceiling >= target * (1 - 1e-9)
    if b > 1:
        assert at(built[0], b - 1).ceiling < target * (1 + 1e-9)


def test_a_timed_disk_raises_the_batch_from_a_file(tmp_path: Path) -> None:
    # on exact lines T(b) = 2.5/9 ms + 0.2/9 ms·b and, the disk's busy time per call,
    # Td(b) = 2.2/9 ms + 0.05/9 ms·b; 4 in flight, 20K/s at the 70 % targets: 28,571/s.
    # The writers alone: b ≥ 28.571·(2.5/9) / (4 − 28.571·(0.2/9)) = 2.36 → 3; the disk (one
    # server): b ≥ 28.571·(2.2/9) / (1 − 28.571·(0.05/9)) = 8.30 → 9, X = 9 / Td(9) = 30.6K/s
    rows = [(1, 0.3, 0.25), (10, 0.5, 0.3), (100, 2.5, 0.8), (1000, 22.5, 5.8)]
    timed, plain = tmp_path / "timed.csv", tmp_path / "plain.csv"
    timed.write_text(
        "batch_size,latency_ms,disk_ms\n" + "".join(f"{b},{t},{d}\n" for b, t, d in rows)
    )
    plain.write_text("batch_size,latency_ms\n" + "".join(f"{b},{t}\n" for b, t, _ in rows))
    kw: dict[str, Any] = {"target_throughput": "20K", "concurrency": 4}
    without = analysis(design_batching("database-insert", measurements=plain, **kw))
    assert without.batch_size == 3
    report = design_batching("database-insert", measurements=timed, **kw)
    a = analysis(report)
    assert a.batch_size == 9
    assert a.expected_throughput == pytest.approx(9 / (2.2e-3 / 9 + 9 * 0.05e-3 / 9), rel=1e-9)
    # today one item per call: the writers carry 4 / 0.3 ms = 13.3K/s, the disk 1 / 0.25 ms
    assert a.current_throughput == pytest.approx(1 / 0.25e-3, rel=1e-9)
    doc = report.to_dict()
    step = next(e for e in doc["evidence"] if e["id"] == "batch-size")
    assert step["result"]["binding"] == "disk_io"
    assert any(e["id"] == "cost-disk" for e in doc["evidence"])


def test_the_two_commands_agree_on_the_example_from_the_command_line(tmp_path: Path) -> None:
    out = run_tpx(
        "design-batching",
        "--operation",
        "database-insert",
        "--measurements",
        str(EXAMPLE),
        "--target-throughput",
        "50K",
        "--format",
        "json",
    )
    assert out.returncode == 0, out.stderr
    a = json.loads(out.stdout)["analysis"]
    c0, c1 = a["cost_model"]["c0_ms"] / 1e3, a["cost_model"]["c1_ms"] / 1e3
    metrics = tmp_path / "m.json"
    metrics.write_text(
        json.dumps(
            {
                "service": "writer",
                "throughput_rps": 1 / (c0 + c1),
                "workers": 1,
                "cores": 4,
                "utilization": {"cpu": 0.01},
            }
        )
    )
    out = run_tpx(
        "analyze",
        "--metrics",
        str(metrics),
        "--batch-trials",
        str(EXAMPLE),
        "--target-rps",
        "50K",
        "--format",
        "json",
    )
    assert out.returncode == 0, out.stderr
    step = next(e for e in json.loads(out.stdout)["evidence"] if e["id"] == "plan-step-1")
    assert step["inputs"]["value"] == a["batch_size"] == 67
    # the JSON holds 6 significant digits, and c0, c1 came through it
    assert step["result"]["ceiling_rps"] == pytest.approx(
        U * a["expected_throughput_rps"], rel=1e-4
    )
