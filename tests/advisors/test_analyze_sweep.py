"""``analyze --sweep``: a sweep of one instance makes its USL fit the workers' limit on the system
model, and the plan sizes workers as ``tpx sweep`` and ``optimize-concurrency --sweep`` choose a
level from the same file (``usl_report.choose_level``): never more, fewer only when the target
needs fewer."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from throughput_expert import analyze, optimize_concurrency, sweep
from throughput_expert.advisors.analyze.planning import _with_sweep
from throughput_expert.advisors.ledger import Ledger
from throughput_expert.advisors.system import apply, plan, project
from throughput_expert.advisors.system.project import WORKERS
from throughput_expert.cli import main
from throughput_expert.laws.usl import fit_usl
from throughput_expert.model.sweep import Sweep, SweepLevel
from throughput_expert.model.system import Contention, SystemModel, SystemStation
from throughput_expert.sources.settings import load_settings
from throughput_expert.sources.sweep import load_sweep

SETTINGS = load_settings()
U = SETTINGS.threshold("pool_busy_target")
EXAMPLE = Path(__file__).parents[2] / "examples" / "sweep.json"

# the sweeps of tests/advisors/test_coherence_concurrency.py: a good fit that decides (59), a
# lock sharper than the USL bends (the measurement decides: 12), and noise (R² 0.01: no fit)
SPECSDM91 = {1: 64.9, 18: 995.9, 36: 1652.4, 72: 1853.2, 108: 1828.9, 144: 1775.0, 216: 1702.2}
SHARP_LOCK = {1: 20.0, 3: 57.5, 9: 166.0, 12: 219.0, 13: 209.0, 27: 110.0}
NOISY = {2: 933.0, 4: 1073.0, 8: 852.0, 16: 1093.0, 32: 915.0, 64: 999.0}


def _csv(tmp_path: Path, rows: dict[int, float]) -> Path:
    path = tmp_path / "sweep.csv"
    path.write_text("concurrency,throughput_rps\n" + "".join(f"{n},{x}\n" for n, x in rows.items()))
    return path


def _metrics(tmp_path: Path, rate: float, workers: int = 2, max_instances: int = 1) -> Path:
    """One instance, its CPU nearly idle (it never binds here), ``workers`` in flight."""
    path = tmp_path / "metrics.json"
    doc = {
        "service": "consumer",
        "throughput_rps": rate,
        "cores": 8,
        "workers": workers,
        "instances": 1,
        "max_instances": max_instances,
        "utilization": {"cpu": 0.01},
    }
    path.write_text(json.dumps(doc))
    return path


def _peak(path: Path) -> float:
    return max(load_sweep(path).points()[1])


def _sweep_level(path: Path) -> int:
    rec = sweep(from_files=[path]).to_dict()["recommendations"][0]["optimization"]
    assert rec.startswith("Run at concurrency ")
    return int(rec.removeprefix("Run at concurrency "))


def _cli_analyze(path: Path, metrics: Path, target: float, capsys: Any) -> dict[str, Any]:
    argv = ["analyze", "--metrics", str(metrics), "--sweep", str(path)]
    code = main([*argv, "--target-rps", f"{target:.6g}", "--format", "json"])
    out = capsys.readouterr().out
    assert code == 0, out
    doc: dict[str, Any] = json.loads(out)
    return doc


def _workers_steps(doc: dict[str, Any]) -> list[float]:
    return [s["value"] for s in doc["implementation_plan"]["steps"] if s["change"] == "workers"]


@pytest.mark.parametrize("rows", [None, SPECSDM91, SHARP_LOCK])
def test_analyze_sweep_and_optimize_concurrency_give_one_level(
    tmp_path: Path, rows: dict[int, float] | None, capsys: Any
) -> None:
    """A target far past what one instance carries, instances held at 1: the plan sizes the
    workers at the level both other commands choose, says the target is not reached, and that
    the workers' contention caps it."""
    path = EXAMPLE if rows is None else _csv(tmp_path, rows)
    level = _sweep_level(path)
    sized = optimize_concurrency("io", 2, cpu_cores=8, sweep=path).to_dict()
    assert [p["threads"] for p in sized["analysis"]["pools"]] == [level]
    peak = _peak(path)
    doc = _cli_analyze(path, _metrics(tmp_path, peak / 10), 5 * peak, capsys)
    p = doc["implementation_plan"]
    assert _workers_steps(doc) == [level]
    assert p["reaches_target"] is False and p["cap"] == WORKERS
    assert "workers' contention" in p["lift"] and "shard the lock" in p["lift"]
    assert "instances are at their bound (1)" in p["lift"]
    evidence = {e["id"]: e for e in doc["evidence"]}
    assert evidence["workers-usl"]["result"]["level"] == level
    assert "usl-fit" in evidence
    assert "USL" in evidence["plan-step-1"]["law"]


def test_a_target_that_needs_fewer_workers_gets_the_fewest(tmp_path: Path, capsys: Any) -> None:
    """The example sweep recommends 13; a target one instance carries with 9 workers at their
    busy target gets 9 (the fewest: 8 carry less)."""
    fit = fit_usl(*load_sweep(EXAMPLE).points())
    c = Contention(fit.lambda_rps, fit.sigma, fit.kappa)
    target = U * c.throughput(9) * (1 - 1e-6)
    assert U * c.throughput(8) < target
    doc = _cli_analyze(EXAMPLE, _metrics(tmp_path, 300.0), target, capsys)
    assert _workers_steps(doc) == [9]
    assert doc["implementation_plan"]["reaches_target"] is True
    assert doc["implementation_plan"]["steps"][0]["utilization_pct"][WORKERS] <= U * 100 + 1e-6


def test_workers_rise_to_the_sweeps_level_before_instances_are_added(
    tmp_path: Path, capsys: Any
) -> None:
    """4 workers today, instances free: one instance carries more at the example's 13 than at 4,
    a configuration value, so the plan takes it first, then adds the instances the rest needs
    (3, not the 5 that 4 workers each would need); the step is in the sweep's words."""
    doc = _cli_analyze(
        EXAMPLE, _metrics(tmp_path, 1500.0, workers=4, max_instances=10), 5000, capsys
    )
    steps = doc["implementation_plan"]["steps"]
    assert [(s["change"], s["value"]) for s in steps] == [("workers", 13), ("instances", 3)]
    assert doc["implementation_plan"]["reaches_target"] is True
    first = doc["recommendations"][0]["optimization"]
    assert (
        first == "Run each instance at the concurrency its sweep supports: 13 workers per instance"
    )
    assert "Little's law" not in doc["recommendations"][0]["rationale"]


def test_an_unreliable_fit_is_not_used_and_said_so(tmp_path: Path) -> None:
    """R² 0.01: the workers' limit stays Little's law, and the assumptions say why."""
    path = _csv(tmp_path, NOISY)
    with_sweep = analyze([_metrics(tmp_path, 500.0)], target_rps=5000, sweep=path).to_dict()
    without = analyze([_metrics(tmp_path, 500.0)], target_rps=5000).to_dict()
    assert with_sweep["implementation_plan"]["steps"] == without["implementation_plan"]["steps"]
    note = next(a for a in with_sweep["assumptions"] if a["what"] == "the sweep's contention")
    assert note["value"] == "not used" and "unreliable" in note["why"]
    assert "workers-usl" not in {e["id"] for e in with_sweep["evidence"]}


def test_without_workers_the_sweep_is_not_used(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"throughput_rps": 500, "cores": 8, "utilization": {"cpu": 0.5}}))
    doc = analyze([path], target_rps=2000, sweep=EXAMPLE).to_dict()
    note = next(a for a in doc["assumptions"] if a["what"] == "the sweep's contention")
    assert "no workers" in note["why"]


def test_a_sweep_of_instances_is_not_taken_for_workers(tmp_path: Path) -> None:
    path = tmp_path / "instances.csv"
    rows = "".join(f"{n},{x}\n" for n, x in SPECSDM91.items())
    path.write_text("instances,throughput_rps\n" + rows)
    doc = analyze([_metrics(tmp_path, 500.0)], target_rps=5000, sweep=path).to_dict()
    note = next(a for a in doc["assumptions"] if a["what"] == "the sweep's contention")
    assert "not a closed-loop sweep of concurrency" in note["why"]


def test_workers_past_the_sweeps_level_today_are_a_finding(tmp_path: Path) -> None:
    """64 workers where the example sweep recommends 13 and its curve peaks near 18: the curve
    carries less with 64 than with 13, and the report says so."""
    doc = analyze([_metrics(tmp_path, 300.0, workers=64)], sweep=EXAMPLE).to_dict()
    found = [f for f in doc["analysis"]["findings"] if "past the level the sweep" in f["what"]]
    assert len(found) == 1 and "(13)" in found[0]["what"]
    values = found[0]["values"]
    assert values["X(64)_rps"] < values["X(13)_rps"]


def test_the_workers_bound_in_the_headroom_is_the_curves(tmp_path: Path) -> None:
    """Little's law on today's rate would say 4 workers carry u·4/R; the sweep says one instance
    carries X(4) with them busy: the headroom's workers bound is u·X(4), as the plan's."""
    doc = analyze([_metrics(tmp_path, 300.0, workers=4)], sweep=EXAMPLE).to_dict()
    fit = fit_usl(*load_sweep(EXAMPLE).points())
    c = Contention(fit.lambda_rps, fit.sigma, fit.kappa)
    bound = doc["analysis"]["headroom"]["workers"]
    assert bound["max_rps"] == pytest.approx(U * c.throughput(4), rel=1e-5)
    assert "USL" in bound["law"]


def test_a_bad_sweep_file_is_one_line_input_error(tmp_path: Path, capsys: Any) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("concurrency,throughput_rps\n1,abc\n")
    code = main(["analyze", "--metrics", str(_metrics(tmp_path, 100.0)), "--sweep", str(bad)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and "bad.csv" in err


# --- generated sweeps: the plan on the USL -------------------------------------------------------


@settings(max_examples=120, deadline=None)
@given(
    lam=st.floats(10.0, 5_000.0),
    sigma=st.floats(0.0, 0.2),
    kappa=st.floats(0.0, 0.005),
    workers=st.integers(1, 64),
    instances=st.integers(1, 4),
    more=st.one_of(st.none(), st.integers(0, 3)),
    factor=st.floats(0.5, 20.0),
)
def test_generated_usl_sweeps_plan_within_the_peak(
    lam: float,
    sigma: float,
    kappa: float,
    workers: int,
    instances: int,
    more: int | None,
    factor: float,
) -> None:
    """Sweeps on the USL (levels 1..128): every step's gain is the solver's ceiling ratio and
    never negative; the workers the plan sizes never pass the level the sweep recommends nor
    the curve's peak."""
    levels = (1, 2, 4, 8, 16, 32, 64, 128)
    x = [lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1)) for n in levels]
    points = tuple(SweepLevel(n, r) for n, r in zip(levels, x, strict=True))
    swept = Sweep("concurrency", "closed", points)
    cpu = SystemStation("cpu", "cpu", 1e-6, 8, 0.7)  # a CPU that never binds first
    model = SystemModel(
        "svc",
        (cpu,),
        rate=1.0,
        instances=instances,
        max_instances=None if more is None else instances + more,
        workers=workers,
        worker_target=U,
    )
    curved = _with_sweep(model, swept, SETTINGS, Ledger())
    c = curved.contention
    assert c is not None  # exact points: a reliable fit
    today = project(curved)
    target = today.ceiling * factor
    found = plan(curved, target)
    current = curved
    fit = fit_usl(list(levels), x)
    peak = fit.peak_concurrency
    for step in found.steps:
        current = apply(current, step.change)
        assert project(current).ceiling == pytest.approx(step.projection.ceiling, rel=1e-12)
        assert step.gain >= 0
        assert step.gain == pytest.approx(step.projection.ceiling / today.ceiling - 1, rel=1e-9)
        if step.change.kind == "workers":
            assert c.level is None or step.change.value <= c.level
            if peak is not None:
                assert step.change.value <= math.ceil(peak)
    if found.reaches_target:
        assert all(v <= t + 1e-9 for v, t in _busy(found.final, current))
    elif found.cap == WORKERS:
        assert found.lift is not None and "contention" in found.lift


def _busy(p: Any, model: SystemModel) -> list[tuple[float, float]]:
    targets = {s.name: s.target for s in model.stations} | {WORKERS: model.worker_target}
    return [(u, targets[k]) for k, u in p.utilization.items()]
