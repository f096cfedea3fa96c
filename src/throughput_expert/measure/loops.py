"""One level of load, closed or open loop, on an asyncio event loop (used by ``runner``).

Closed loop: ``workers`` coroutines, each calling the driver again as soon as its previous call
returns (the way wrk, JMeter or Locust users behave). The level runs warm-up + duration; a call
counts when it *completes* inside the measured window ``[warm-up end, end]``, so throughput is
completions / window (the steady-state rate, Little's law's X), and its latency is measured from
its send, which is prone to coordinated omission (docs/formats.md §3.9).

Open loop: request i is *intended* at ``start + i / rate`` whatever happened before. ``workers``
coroutines take the next intended time in turn (a FIFO queue served by a fixed pool, as wrk2's
connections are), wait for it if it lies ahead, call, and record the latency from the intended
time, not the actual send: a request delayed behind a slow one is charged for its wait (wrk2's
correction, Tene). Achieved rate = completions in the window / window.

A level is bounded: no call starts after its end, and calls still running ``grace_s`` later are
cancelled and counted as abandoned.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from throughput_expert.measure.drivers import Driver
from throughput_expert.measure.histogram import LatencyHistogram

__all__ = ["TICK_S", "LevelPlan", "Tally", "run_closed", "run_open"]

TICK_S = 0.25  # how often the progress callback hears from a running level

Clock = Callable[[], float]
Tick = Callable[["Tally"], None]


@dataclass(frozen=True)
class LevelPlan:
    """How long a level runs and how much it may do."""

    warmup_s: float
    duration_s: float
    max_requests: int
    grace_s: float


@dataclass
class Tally:
    """What a level counted so far (mutated by its workers on one event loop)."""

    started: float
    window_start: float
    window_end: float
    max_requests: int
    ok: int = 0
    errors: int = 0
    abandoned: int = 0
    unsent: int = 0
    histogram: LatencyHistogram = field(default_factory=LatencyHistogram)

    @property
    def done(self) -> int:
        return self.ok + self.errors

    def in_window(self, end: float) -> bool:
        return self.window_start <= end <= self.window_end

    def count(self, ok: bool, latency_s: float | None) -> None:
        if ok:
            self.ok += 1
            if latency_s is not None:
                self.histogram.record(latency_s)
        else:
            self.errors += 1


async def run_closed(
    driver: Driver, workers: int, plan: LevelPlan, clock: Clock, tick: Tick
) -> Tally:
    """A closed-loop level at concurrency ``workers``."""
    await driver.open(workers)
    try:
        tally = _tally(clock(), plan)
        jobs = [_closed_worker(driver, w, tally, clock) for w in range(workers)]
        await _supervise(jobs, tally, plan.grace_s, clock, tick)
        return tally
    finally:
        await driver.close()


async def _closed_worker(driver: Driver, worker: int, tally: Tally, clock: Clock) -> None:
    # The hot loop of a fast driver: Tally's helpers are inlined, the histogram only buffers.
    call, record = driver.call, tally.histogram.record
    while True:
        start = clock()
        if start >= tally.window_end:
            return
        ok = await call(worker)
        end = clock()
        if tally.window_start <= end <= tally.window_end:
            if ok:
                tally.ok += 1
                record(end - start)
            else:
                tally.errors += 1
            if tally.ok + tally.errors >= tally.max_requests:
                tally.window_end = end  # the request budget is spent: the level ends here


@dataclass
class _Schedule:
    start: float
    rate: float
    end: float
    next: int = 0

    def intended(self, index: int) -> float:
        return self.start + index / self.rate


async def run_open(
    driver: Driver, rate: float, workers: int, plan: LevelPlan, clock: Clock, tick: Tick
) -> Tally:
    """An open-loop level: ``rate`` requests per second on a fixed schedule, ``workers`` at most
    in flight."""
    await driver.open(workers)
    try:
        start = clock()
        # The request budget shortens the measured window: max_requests / rate seconds at most.
        duration = min(plan.duration_s, plan.max_requests / rate)
        tally = _tally(start, LevelPlan(plan.warmup_s, duration, plan.max_requests, plan.grace_s))
        schedule = _Schedule(start, rate, tally.window_end)
        jobs = [_open_worker(driver, w, schedule, tally, clock) for w in range(workers)]
        await _supervise(jobs, tally, plan.grace_s, clock, tick)
        intended_total = math.ceil((schedule.end - schedule.start) * rate)
        tally.unsent = max(0, intended_total - schedule.next)
        return tally
    finally:
        await driver.close()


async def _open_worker(
    driver: Driver, worker: int, schedule: _Schedule, tally: Tally, clock: Clock
) -> None:
    call = driver.call
    while True:
        intended, now = schedule.intended(schedule.next), clock()
        if intended >= schedule.end or now >= schedule.end:
            return
        schedule.next += 1
        if intended > now:
            await asyncio.sleep(intended - now)
        ok = await call(worker)
        end = clock()
        # Latency from the intended start, for every request intended in the window; the
        # achieved rate from completions in the window.
        latency = end - intended if intended >= tally.window_start else None
        if tally.in_window(end):
            tally.count(ok, latency)
        elif latency is not None and ok:
            tally.histogram.record(latency)


def _tally(start: float, plan: LevelPlan) -> Tally:
    window_start = start + plan.warmup_s
    return Tally(start, window_start, window_start + plan.duration_s, plan.max_requests)


async def _supervise(
    jobs: list[Coroutine[Any, Any, None]], tally: Tally, grace_s: float, clock: Clock, tick: Tick
) -> None:
    """Run the workers, tick the progress callback, and cancel what outlives the deadline."""
    tasks = [asyncio.ensure_future(job) for job in jobs]
    try:
        pending = set(tasks)
        while pending:
            deadline = tally.window_end + grace_s
            timeout = min(TICK_S, max(0.0, deadline - clock()))
            done, pending = await asyncio.wait(pending, timeout=timeout)
            for task in done:
                task.result()  # a MeasurementError (or a bug) in a worker ends the level
            if pending and clock() >= deadline:
                tally.abandoned = len(pending)
                return
            tick(tally)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
