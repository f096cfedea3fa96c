"""One level of load, closed or open loop (used by ``runner``).

**Closed loop**: ``workers`` workers, each calling the workload again as soon as its previous
call returns (the way wrk, JMeter or Locust users behave). The level runs warm-up + duration
from the moment every worker is ready (a start barrier); a call counts when it *completes*
inside the measured window ``[warm-up end, end]``, so throughput is completions / window (the
steady-state rate, Little's law's X), and its latency is measured from its send, which is prone
to coordinated omission (docs/formats.md §3.9).

**Open loop**: request i is *intended* at ``start + i / rate`` whatever happened before. The
schedule is dealt to ``workers`` workers in turn (worker w sends requests w, w + W, w + 2W, …,
as wrk2 gives each connection its share of the rate); a worker waits for its next intended
time if it lies ahead, calls, and records the latency from the intended time, not the actual
send: a request delayed behind a slow one is charged for its wait (wrk2's correction, Tene).
Achieved rate = completions in the window / window; requests never sent are counted (unsent).

**How the workers run**. For a ``ThreadDriver`` (a callable, a command) each worker is a plain
thread looping on its own over ``driver.operation(worker)``: no dispatcher, no event loop, no
lock between the workload and its caller. Per call the worker reads ``time.perf_counter`` twice,
adds one to its own counters and appends the latency to its own histogram's buffer
(``LatencyHistogram``); the histograms and the per-sub-window counts are merged after the level.
The request budget (``max_requests``) is an ``itertools.count`` shared by the workers (one
atomic step under the GIL, no lock): the worker that takes the last unit ends the window there.
With ``process_spec`` (``--processes``) each worker is a process (spawned, importing the
function once) running the same loop against ``time.monotonic``, which is one clock for every
process of the machine; it publishes its counts in shared memory, and sends its histogram and
sub-window counts when it ends; the budget is then checked by the runner every ``POLL_S``.
For an async ``Driver`` (``url``) the workers are coroutines on one event loop (the driver
multiplexes its sockets there).

The main thread only watches: every ``TICK_S`` it reads the workers' counters (plain reads, no
lock) for the progress callback, and sleeps otherwise.

A level is bounded: no call starts after its end, and workers still inside a call ``grace_s``
later are abandoned (counted; a thread finishes its call and then stops, a process or a
command's process group is killed). A stop flag, checked between calls, ends every worker at
once when the level is interrupted (Ctrl-C, SIGTERM) or fails.

``window_rates``: the measured window cut into ``WINDOW_SPLITS`` equal sub-windows, the
throughput of each, so a caller can see the level's own noise (their spread) without repeating
it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import multiprocessing
import queue
import signal
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from throughput_expert.errors import MeasurementError
from throughput_expert.measure.drivers import Driver, ThreadDriver, load_callable
from throughput_expert.measure.histogram import LatencyHistogram

__all__ = [
    "POLL_S",
    "TICK_S",
    "WINDOW_SPLITS",
    "LevelPlan",
    "Tally",
    "run_closed",
    "run_open",
    "run_processes",
    "run_threads",
]

TICK_S = 0.25  # how often the progress callback hears from a running level
POLL_S = 0.01  # how often the runner checks the request budget of worker processes
WINDOW_SPLITS = 5  # sub-windows of the measured window in ``window_rates``
START_TIMEOUT_S = 120.0  # worker processes must have imported the function by then
_BINS = 100  # completions are counted per 1/100 of the planned window, summed into sub-windows

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
    """What a level counted so far."""

    started: float
    window_start: float
    window_end: float
    max_requests: int
    ok: int = 0
    errors: int = 0
    abandoned: int = 0
    unsent: int = 0
    histogram: LatencyHistogram = field(default_factory=LatencyHistogram)
    window_rates: tuple[float, ...] = ()

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


# --- worker threads (and processes): the loops ------------------------------------------------


class _Shared:
    """What the workers of a level share: the window (its end may move earlier), the stop flag,
    the request budget. Written by one side at a time; read without a lock."""

    def __init__(self, plan: LevelPlan, duration_s: float) -> None:
        self.plan = plan
        self.duration_s = duration_s
        self.start = 0.0
        self.window_start = 0.0
        self.window_end = 0.0
        self.stop = False  # read between calls by the loops
        self.stopped = threading.Event()  # the same, for workers waiting on a schedule
        self.failure: BaseException | None = None
        self.budget = itertools.count()
        self.started = threading.Event()

    def begin(self, now: float) -> None:
        self.start = now
        self.window_start = now + self.plan.warmup_s
        self.window_end = self.window_start + self.duration_s
        self.started.set()

    def halt(self) -> None:
        self.stop = True
        self.stopped.set()


class _Worker:
    """One worker's own counters: written only by its worker, read by the runner."""

    __slots__ = ("bins", "errors", "histogram", "ok", "sent")

    def __init__(self) -> None:
        self.ok = 0
        self.errors = 0
        self.sent = 0
        self.bins = [0] * _BINS
        self.histogram = LatencyHistogram()


def _closed_loop(op: Callable[[], object], me: _Worker, shared: _Shared, clock: Clock) -> None:
    # The hot loop: two clock reads, a count, a latency appended to this worker's own buffer.
    record, bins, budget = me.histogram.record, me.bins, shared.budget
    window_start, cap = shared.window_start, shared.plan.max_requests
    scale, last = _BINS / shared.duration_s, _BINS - 1
    while not shared.stop:
        start = clock()
        if start >= shared.window_end:
            return
        try:
            op()
            ok = True
        except MeasurementError as exc:
            shared.failure = exc
            shared.halt()
            return
        except Exception:
            ok = False
        end = clock()
        if window_start <= end <= shared.window_end:
            taken = next(budget)
            if taken >= cap:
                return  # the budget was spent by another worker: the window has ended
            if ok:
                me.ok += 1
                record(end - start)
                slot = int((end - window_start) * scale)
                bins[slot if slot < last else last] += 1
            else:
                me.errors += 1
            if taken == cap - 1:  # the last unit: the level ends here, after every counted call
                shared.window_end = clock()
                return


def _open_loop(
    op: Callable[[], object],
    me: _Worker,
    shared: _Shared,
    clock: Clock,
    index: int,
    workers: int,
    rate: float,
) -> None:
    record, bins = me.histogram.record, me.bins
    window_start, window_end = shared.window_start, shared.window_end
    scale, last = _BINS / shared.duration_s, _BINS - 1
    request = index
    while not shared.stop:
        intended = shared.start + request / rate
        now = clock()
        if intended >= window_end or now >= window_end:
            return
        if intended > now and shared.stopped.wait(intended - now):
            return
        me.sent += 1
        try:
            op()
            ok = True
        except MeasurementError as exc:
            shared.failure = exc
            shared.halt()
            return
        except Exception:
            ok = False
        end = clock()
        # Latency from the intended start, for every request intended in the window; the
        # achieved rate from completions in the window.
        latency = end - intended if intended >= window_start else None
        if window_start <= end <= window_end:
            if ok:
                me.ok += 1
                slot = int((end - window_start) * scale)
                bins[slot if slot < last else last] += 1
                if latency is not None:
                    record(latency)
            else:
                me.errors += 1
        elif latency is not None and ok:
            record(latency)
        request += workers


def run_threads(
    driver: ThreadDriver,
    workers: int,
    plan: LevelPlan,
    clock: Clock,
    tick: Tick,
    *,
    rate: float | None = None,
) -> Tally:
    """A level in ``workers`` worker threads: closed loop, or open loop at ``rate`` per second."""
    duration = plan.duration_s if rate is None else min(plan.duration_s, plan.max_requests / rate)
    shared = _Shared(plan, duration)
    mine = [_Worker() for _ in range(workers)]
    driver.open(workers)
    try:
        ops = [driver.operation(w) for w in range(workers)]
        barrier = threading.Barrier(workers, action=lambda: shared.begin(clock()))

        def body(index: int) -> None:
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                return
            if rate is None:
                _closed_loop(ops[index], mine[index], shared, clock)
            else:
                _open_loop(ops[index], mine[index], shared, clock, index, workers, rate)

        threads = [
            threading.Thread(target=body, args=(w,), name=f"tpx-worker-{w}", daemon=True)
            for w in range(workers)
        ]
        try:
            for thread in threads:
                thread.start()
            while not shared.started.wait(TICK_S):
                if not any(t.is_alive() for t in threads):
                    raise MeasurementError("the workers ended before the level started")
            tally = Tally(shared.start, shared.window_start, shared.window_end, plan.max_requests)
            tally.abandoned = _watch(threads, shared, tally, mine, clock, tick)
        except BaseException:
            shared.halt()
            barrier.abort()
            raise
    finally:
        driver.close()
    if shared.failure is not None:
        raise shared.failure
    _settle(tally, shared, mine)
    if rate is not None:
        intended = math.ceil((shared.window_end - shared.start) * rate)
        tally.unsent = max(0, intended - sum(w.sent for w in mine))
    return tally


def _watch(
    threads: Sequence[threading.Thread],
    shared: _Shared,
    tally: Tally,
    mine: Sequence[_Worker],
    clock: Clock,
    tick: Tick,
) -> int:
    """Tick the progress callback until the workers end; the number abandoned at the deadline."""
    for thread in threads:
        while thread.is_alive():
            now = clock()
            deadline = shared.window_end + shared.plan.grace_s
            if now >= deadline:
                shared.halt()
                return sum(t.is_alive() for t in threads)
            tally.window_end = shared.window_end
            tally.ok = sum(w.ok for w in mine)
            tally.errors = sum(w.errors for w in mine)
            tick(tally)
            thread.join(min(TICK_S, max(0.001, deadline - now)))
    return 0


def _settle(tally: Tally, shared: _Shared, mine: Sequence[_Worker]) -> None:
    """The level's totals: counts summed, histograms merged, sub-window rates."""
    tally.window_end = shared.window_end
    tally.ok = sum(w.ok for w in mine)
    tally.errors = sum(w.errors for w in mine)
    for worker in mine:
        tally.histogram.add(worker.histogram)
    bins = [sum(column) for column in zip(*(w.bins for w in mine), strict=True)]
    tally.window_rates = window_rates(bins, tally.window_end - tally.window_start, shared)


def window_rates(bins: Sequence[int], window_s: float, shared: _Shared) -> tuple[float, ...]:
    """Completions per second in each of ``WINDOW_SPLITS`` equal parts of the measured window,
    from counts per 1/``_BINS`` of the planned window (a window ended early by the request
    budget is cut where it ended)."""
    bin_s = shared.duration_s / _BINS
    if window_s <= 0 or bin_s <= 0:
        return ()
    covered = min(_BINS, max(1, math.ceil(window_s / bin_s - 1e-9)))
    splits = min(WINDOW_SPLITS, covered)
    edges = [round(j * covered / splits) for j in range(splits + 1)]
    rates = []
    for low, high in itertools.pairwise(edges):
        width = min(high * bin_s, window_s) - low * bin_s
        rates.append(sum(bins[low:high]) / width if width > 0 else 0.0)
    return tuple(rates)


# --- worker processes ---------------------------------------------------------------------------


def _process_main(
    spec: str,
    index: int,
    workers: int,
    rate: float | None,
    plan: LevelPlan,
    duration_s: float,
    shared_memory: tuple[Any, Any, Any, Any],
    ready: Any,
    go: Any,
    results: Any,
) -> None:
    """One worker process: import the function, wait for the start, loop, report."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner stops it (Ctrl-C reaches the group)
    counts, start, end, stop = shared_memory
    try:
        op = load_callable(spec)
    except Exception as exc:  # an InputError in the parent already passed: report, don't hang
        results.put((index, f"cannot import {spec}: {exc}", b"", [], 0))
        return
    ready.release()
    go.wait()
    try:
        shared = _ProcessShared(plan, duration_s, start.value, end, stop)
        me = _CountingWorker(counts, index)
        if rate is None:
            _closed_loop(op, me, shared, time.monotonic)  # type: ignore[arg-type]
        else:
            _open_loop(op, me, shared, time.monotonic, index, workers, rate)  # type: ignore[arg-type]
        failure = None if shared.failure is None else str(shared.failure)
        results.put((index, failure, me.histogram.to_bytes(), me.bins, me.sent))
    except BaseException as exc:  # a bug or a BaseException from the workload: say it, stop
        results.put((index, f"worker process {index}: {type(exc).__name__}: {exc}", b"", [], 0))


class _ProcessShared:
    """``_Shared`` as a worker process sees it: the window's end and the stop flag live in shared
    memory (the runner may end the window early); the budget is the runner's to check."""

    def __init__(self, plan: LevelPlan, duration_s: float, start: float, end: Any, stop: Any):
        self.plan = LevelPlan(plan.warmup_s, plan.duration_s, 2**62, plan.grace_s)
        self.duration_s = duration_s
        self.start = start
        self.window_start = start + plan.warmup_s
        self._end, self._stop = end, stop
        self.failure: BaseException | None = None
        self.budget = itertools.count()
        self.stopped = _Never(stop)

    @property
    def window_end(self) -> float:
        return float(self._end.value)

    @window_end.setter
    def window_end(self, value: float) -> None:
        self._end.value = value

    @property
    def stop(self) -> bool:
        return bool(self._stop.value)

    def halt(self) -> None:
        self._stop.value = 1


class _Never:
    """``Event.wait`` for a worker process: sleeps, waking early when the stop flag is raised."""

    def __init__(self, stop: Any) -> None:
        self._stop = stop

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self._stop.value:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(left, POLL_S))
        return True


class _CountingWorker:
    """A worker process's counters: ok and errors live in shared memory, for the runner."""

    def __init__(self, counts: Any, index: int) -> None:
        self._counts, self._slot = counts, 2 * index
        self.sent = 0
        self.bins = [0] * _BINS
        self.histogram = LatencyHistogram()

    @property
    def ok(self) -> int:
        return int(self._counts[self._slot])

    @ok.setter
    def ok(self, value: int) -> None:
        self._counts[self._slot] = value

    @property
    def errors(self) -> int:
        return int(self._counts[self._slot + 1])

    @errors.setter
    def errors(self, value: int) -> None:
        self._counts[self._slot + 1] = value


def run_processes(
    spec: str,
    workers: int,
    plan: LevelPlan,
    tick: Tick,
    *,
    rate: float | None = None,
    clock: Clock = time.perf_counter,
) -> Tally:
    """A level in ``workers`` worker processes calling ``spec`` (``module:function``). The
    processes time themselves on ``time.monotonic``; the Tally's times are on ``clock``."""
    duration = plan.duration_s if rate is None else min(plan.duration_s, plan.max_requests / rate)
    ctx = multiprocessing.get_context("spawn")
    counts = ctx.RawArray("q", 2 * workers)
    start, end, stop = ctx.RawValue("d", 0.0), ctx.RawValue("d", 0.0), ctx.RawValue("b", 0)
    ready, go, results = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    memory = (counts, start, end, stop)
    procs = [
        ctx.Process(
            target=_process_main,
            args=(spec, w, workers, rate, plan, duration, memory, ready, go, results),
            name=f"tpx-worker-{w}",
            daemon=True,
        )
        for w in range(workers)
    ]
    reports: dict[int, tuple[Any, ...]] = {}
    started: list[Any] = []
    try:
        for proc in procs:
            proc.start()
            started.append(proc)
        _await_ready(ready, procs, results)
        now = time.monotonic()
        offset = clock() - now  # from the processes' clock to the caller's
        start.value, end.value = now, now + plan.warmup_s + duration
        go.set()
        tally = Tally(
            now + offset, now + offset + plan.warmup_s, end.value + offset, plan.max_requests
        )
        abandoned = _watch_processes(
            procs, counts, end, stop, results, reports, tally, tick, plan.grace_s, offset
        )
    except BaseException:
        stop.value = 1
        go.set()
        raise
    finally:
        for proc in started:
            if proc.is_alive():
                proc.kill()
        for proc in started:
            proc.join(1.0)
        results.close()
        results.cancel_join_thread()
    failures = [r[1] for r in reports.values() if r[1]]
    if failures:
        raise MeasurementError(str(failures[0]), source="sweep")
    tally.abandoned = abandoned
    tally.window_end = end.value + offset
    tally.ok = sum(counts[2 * w] for w in range(workers))
    tally.errors = sum(counts[2 * w + 1] for w in range(workers))
    shared_view = _Shared(plan, duration)
    bins = [0] * _BINS
    for _, _, histogram, worker_bins, sent in reports.values():
        tally.histogram.add(LatencyHistogram.from_bytes(histogram))
        bins = [a + b for a, b in zip(bins, worker_bins, strict=True)]
        tally.unsent -= sent
    tally.window_rates = window_rates(bins, tally.window_end - tally.window_start, shared_view)
    if rate is not None:
        tally.unsent = max(0, tally.unsent + math.ceil((tally.window_end - tally.started) * rate))
    else:
        tally.unsent = 0
    return tally


def _await_ready(ready: Any, procs: Sequence[Any], results: Any) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    for _ in procs:
        while not ready.acquire(timeout=TICK_S):
            with contextlib.suppress(queue.Empty):
                why = results.get_nowait()[1]  # a worker that could not start says why
                raise MeasurementError(str(why), source="sweep")
            dead = [p for p in procs if p.exitcode is not None]
            if dead:
                raise MeasurementError(
                    f"a worker process ended before the level started (exit code "
                    f"{dead[0].exitcode}): can the function be imported by a fresh interpreter?",
                    source="sweep",
                )
            if time.monotonic() > deadline:
                raise MeasurementError(
                    f"the worker processes did not start within {START_TIMEOUT_S:g} s",
                    source="sweep",
                )


def _watch_processes(
    procs: Sequence[Any],
    counts: Any,
    end: Any,
    stop: Any,
    results: Any,
    reports: dict[int, tuple[Any, ...]],
    tally: Tally,
    tick: Tick,
    grace_s: float,
    offset: float,
) -> int:
    """Collect the workers' reports, tick, end the window when the budget is spent; the number
    of workers abandoned at the deadline."""
    workers = len(procs)
    next_tick = time.monotonic()
    while len(reports) < workers:
        now = time.monotonic()
        done = sum(counts[i] for i in range(2 * workers))
        if done >= tally.max_requests and now < end.value:
            end.value = now  # the request budget is spent: the level ends here
        tally.window_end = end.value + offset
        if now >= end.value + grace_s:
            stop.value = 1
            return workers - len(reports)
        if now >= next_tick:
            tally.ok = sum(counts[2 * i] for i in range(workers))
            tally.errors = sum(counts[2 * i + 1] for i in range(workers))
            tick(tally)
            next_tick = now + TICK_S
        with contextlib.suppress(queue.Empty):
            report = results.get(timeout=POLL_S)
            reports[report[0]] = report
            if report[1]:
                stop.value = 1
                return 0
            continue
        for index, proc in enumerate(procs):
            if proc.exitcode is not None and index not in reports:  # died without a word
                with contextlib.suppress(queue.Empty):  # unless its report is just arriving
                    report = results.get(timeout=POLL_S)
                    reports[report[0]] = report
                    break
                reason = f"worker process {index} died (exit code {proc.exitcode})"
                reports[index] = (index, reason, b"", [], 0)
                stop.value = 1
                return 0
    return 0


# --- async drivers (url): coroutines on one event loop ------------------------------------------


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
