"""benchmarks/plan_accuracy keeps a batch trial's column exactly when ``tpx analyze
--batch-trials`` would use it (``advisors/system/build``: the line T(b) = c0 + c1·b judged by its
relative error), so the plan it measures is the plan the tool gives on that trial.

It judged by R² before: a run on a shared machine left out a latency column the tool accepts
(R² 0.892, relative error 17 %), and without latency_ms the whole trial, so the plan priced
batching with no measured CPU share and predicted 903 items/s where 3,508 were achieved.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest

from throughput_expert.advisors.system.build import from_metrics
from throughput_expert.model import ServiceMetrics
from throughput_expert.model.system import Sink
from throughput_expert.model.trials import CallCost
from throughput_expert.sources.settings import load_settings

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SIZES = (1, 2, 5, 13, 50, 200, 1000)
# the run's per-call means (µs): latency, consumer + PostgreSQL CPU, disk busy
LATENCY = (1129, 1388, 1361, 2228, 3014, 6254, 19155)
CPU = (789, 862, 921, 1389, 1984, 4837, 17778)
DISK = (248, 273, 316, 239, 437, 534, 1222)


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        return importlib.import_module("plan_accuracy")
    finally:
        sys.path.remove(str(BENCHMARKS))


def _rows(bench: ModuleType, latency: tuple[float, ...]) -> list[object]:
    return [
        bench.TrialRow(
            batch=b,
            calls=100,
            items=100 * b,
            latency_s=t * 1e-6,
            cpu_s=c * 1e-6,
            disk_s=d * 1e-6,
            rate=0.0,
            others=0.0,
        )
        for b, t, c, d in zip(SIZES, latency, CPU, DISK, strict=True)
    ]


def _used_by_analyze(latency: tuple[float, ...]) -> dict[str, bool]:
    """Which columns analyze's model takes from the trial (an assumption 'measured: ...')."""
    trials = [
        CallCost(b, t * 1e-6, c * 1e-6, d * 1e-6)
        for b, t, c, d in zip(SIZES, latency, CPU, DISK, strict=True)
    ]
    m = ServiceMetrics(
        service="pipeline",
        throughput_rps=680.0,
        workers=1,
        cores=2,
        utilization={"cpu": 0.75, "disk_io": 0.19},
    )
    built = from_metrics(m, load_settings(), Sink("PostgreSQL", "database"), trials)
    assert built is not None
    notes = {a.what: a.why for a in built[1]}
    return {
        column: notes[f"{station}'s share paid per call"].startswith("measured")
        for column, station in (("latency_ms", "worker"), ("cpu_ms", "cpu"), ("disk_ms", "disk_io"))
    }


def test_the_runs_latency_column_is_kept_as_the_tool_keeps_it(bench: ModuleType) -> None:
    fits = bench.fit_columns(_rows(bench, LATENCY))
    assert _used_by_analyze(LATENCY) == {"latency_ms": True, "cpu_ms": True, "disk_ms": True}
    assert {c: not isinstance(f, str) for c, f in fits.items()} == _used_by_analyze(LATENCY)


def test_a_column_the_tool_refuses_is_left_out(bench: ModuleType) -> None:
    # a latency that jumps around a line by far more than the 25 % the tool allows
    wild = (1000, 9000, 1200, 15000, 2000, 40000, 20000)
    fits = bench.fit_columns(_rows(bench, wild))
    assert isinstance(fits["latency_ms"], str) and "trial_max_relative_error" in fits["latency_ms"]
    assert _used_by_analyze(wild)["latency_ms"] is False
