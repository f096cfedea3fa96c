"""The level loops: worker threads (and processes) calling the workload themselves."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from throughput_expert.errors import MeasurementError
from throughput_expert.measure.drivers import CallableDriver
from throughput_expert.measure.loops import (
    WINDOW_SPLITS,
    LevelPlan,
    Tally,
    run_processes,
    run_threads,
)
from throughput_expert.measure.runner import run_sweep


def _module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> str:
    name = f"tpx_loops_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


class _Recorder:
    """A ThreadDriver whose operation notes the thread that calls it."""

    name = "recorder"
    target = "recorder"
    process_spec: str | None = None

    def __init__(self, work: float = 0.0, fail_every: int = 0) -> None:
        self.threads: set[int] = set()
        self.calls = 0
        self.opened = self.closed = 0
        self._work, self._fail_every = work, fail_every

    def check_target(self, *, allow_remote: bool) -> None:
        pass

    def open(self, workers: int) -> None:
        self.opened += 1

    def operation(self, worker: int) -> Callable[[], object]:
        def op() -> None:
            self.threads.add(threading.get_ident())
            self.calls += 1
            if self._work:
                time.sleep(self._work)
            if self._fail_every and self.calls % self._fail_every == 0:
                raise RuntimeError("failed")

        return op

    def close(self) -> None:
        self.closed += 1


def test_each_worker_is_its_own_thread_and_calls_the_workload_itself() -> None:
    driver = _Recorder(work=0.002)
    plan = LevelPlan(0.05, 0.3, 10**9, 1.0)
    tally = run_threads(driver, 3, plan, time.perf_counter, lambda t: None)
    assert len(driver.threads) == 3  # one thread per unit of concurrency, no pool in between
    assert threading.main_thread().ident not in driver.threads
    assert driver.opened == driver.closed == 1
    assert tally.ok > 0 and tally.errors == 0 and tally.abandoned == 0
    assert tally.histogram.count == tally.ok
    # Every call counted completed inside the window; calls in the warm-up are not counted.
    assert tally.ok < driver.calls
    assert not [t for t in threading.enumerate() if t.name.startswith("tpx-worker")]


def test_window_rates_split_the_window_and_add_up_to_its_throughput() -> None:
    driver = _Recorder(work=0.002)
    plan = LevelPlan(0.0, 0.5, 10**9, 1.0)
    tally = run_threads(driver, 2, plan, time.perf_counter, lambda t: None)
    assert len(tally.window_rates) == WINDOW_SPLITS
    window = tally.window_end - tally.window_start
    part = window / WINDOW_SPLITS
    assert sum(r * part for r in tally.window_rates) == pytest.approx(tally.ok, abs=0.5)
    assert all(r > 0 for r in tally.window_rates)


def test_the_request_budget_ends_the_window_where_it_is_spent() -> None:
    driver = _Recorder()
    plan = LevelPlan(0.0, 60.0, 1000, 1.0)
    tally = run_threads(driver, 4, plan, time.perf_counter, lambda t: None)
    assert tally.done == 1000
    assert tally.window_end - tally.window_start < 60.0
    # A window ended early is cut where it ended: its sub-windows still add up.
    width = (tally.window_end - tally.window_start) / len(tally.window_rates)
    assert sum(r * width for r in tally.window_rates) == pytest.approx(1000, abs=1)


def test_errors_are_counted_apart() -> None:
    driver = _Recorder(fail_every=2)
    plan = LevelPlan(0.0, 0.2, 10**9, 1.0)
    tally = run_threads(driver, 2, plan, time.perf_counter, lambda t: None)
    assert tally.errors > 0 and tally.ok > 0
    assert tally.errors / tally.done == pytest.approx(0.5, abs=0.01)


def test_a_measurement_error_stops_every_worker() -> None:
    class Broken(_Recorder):
        def operation(self, worker: int) -> Callable[[], object]:
            def op() -> None:
                raise MeasurementError("target gone", source="sweep")

            return op

    plan = LevelPlan(0.0, 30.0, 10**9, 1.0)
    with pytest.raises(MeasurementError, match="target gone"):
        run_threads(Broken(), 4, plan, time.perf_counter, lambda t: None)


def test_calls_outliving_the_grace_are_abandoned() -> None:
    release = threading.Event()

    class Stuck(_Recorder):
        def operation(self, worker: int) -> Callable[[], object]:
            return lambda: release.wait(30)

    plan = LevelPlan(0.0, 0.1, 10**9, 0.1)
    try:
        tally = run_threads(Stuck(), 3, plan, time.perf_counter, lambda t: None)
    finally:
        release.set()
    assert tally.abandoned == 3 and tally.ok == 0


def test_an_interrupt_stops_the_workers_between_calls() -> None:
    driver = _Recorder(work=0.001)

    def tick(tally: Tally) -> None:
        raise KeyboardInterrupt

    plan = LevelPlan(0.0, 30.0, 10**9, 1.0)
    with pytest.raises(KeyboardInterrupt):
        run_threads(driver, 4, plan, time.perf_counter, tick)
    assert driver.closed == 1
    for thread in [t for t in threading.enumerate() if t.name.startswith("tpx-worker")]:
        thread.join(5)  # each ends after its call in flight, by itself
        assert not thread.is_alive()


def test_open_loop_in_threads_keeps_the_schedule() -> None:
    driver = _Recorder(work=0.001)
    plan = LevelPlan(0.1, 0.5, 10**9, 1.0)
    tally = run_threads(driver, 8, plan, time.perf_counter, lambda t: None, rate=200.0)
    # 200/s over 0.5 s: the schedule, not the workers' speed (8 × 1 ms calls could do 8000/s)
    assert tally.ok == pytest.approx(100, abs=10)
    assert tally.unsent <= 5


def test_processes_each_loop_on_their_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = _module(tmp_path, monkeypatch, "import os, time\ndef work():\n    time.sleep(0.002)\n")
    plan = LevelPlan(0.05, 0.4, 10**9, 1.0)
    tally = run_processes(f"{name}:work", 2, plan, lambda t: None)
    assert tally.ok > 0 and tally.errors == 0 and tally.abandoned == 0
    assert tally.histogram.count == tally.ok
    assert len(tally.window_rates) == WINDOW_SPLITS


def test_processes_report_a_function_they_cannot_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = _module(tmp_path, monkeypatch, "def work():\n    pass\n")
    plan = LevelPlan(0.0, 0.2, 10**9, 1.0)
    with pytest.raises(MeasurementError, match="cannot import"):
        run_processes(f"{name}:missing", 1, plan, lambda t: None)


def test_a_callable_raising_every_call_stops_at_level_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = _module(tmp_path, monkeypatch, "def work():\n    raise ValueError('no')\n")
    sweep = run_sweep(
        CallableDriver(f"{name}:work"), concurrency=[1, 2], duration_s=0.2, warmup_s=0.0
    )
    assert sweep.levels == ()
    assert any(n.startswith("stopped at level 1") and "100%" in n for n in sweep.notes)
