"""The sweep runner: a driver at rising load levels, one ``Sweep`` out (``tpx sweep``).

``run_sweep`` runs closed-loop levels (``concurrency``: work in flight, a list or a
``PeakSearch`` that chooses each level from those measured) or open-loop levels (``rates``:
offered requests per second), each as warm-up + duration on its own event loop
(``measure.loops``), and returns the finished levels as a ``Sweep``. In open loop a level's
``level`` is its offered rate, and the Sweep's notes say which rates were *sustained*: achieved
≥ 99 % of offered and, with an SLO, p99 ≤ SLO (``sustained``, ``highest_sustained_rps``). The
runner fits nothing: the USL fit of closed-loop levels is the caller's (``laws.usl``).

Safety: the driver's target must be on loopback unless ``allow_remote``; every level is bounded
in time (warm-up + duration + a grace period, then running calls are abandoned) and in requests
(``max_requests``, else ``LEVEL_REQUEST_CAP``); Ctrl-C, SIGTERM or SIGHUP (``errors.Interrupted``,
raised by the command line's handlers) stops at once — the workers of the level in flight stop
between calls — and returns the levels already finished, noted "interrupted by SIGTERM after
level N"; ``interrupted_by()`` then gives the signal, for the caller to exit 128 + it after the
report is out. A level whose error share exceeds ``error_threshold`` is not kept and stops the
sweep, with the reason in the notes. The Sweep's ``target`` never holds a secret: each driver
masks its own (a URL's password, a command's ``PASSWORD=...``) and the runner masks it again
(``redact.redact_text``).

How a level runs is ``measure.loops``'s: a callable or a command in plain worker threads (or
processes, ``--processes``), each looping on its own; the ``url`` driver on an event loop,
uvloop's when ``uvloop`` is installed (libuv: about 3.5x the requests per second of the standard
loop against nginx, see ``benchmarks/http_driver.py``), else asyncio's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from throughput_expert.errors import InputError, Interrupted, Parameter
from throughput_expert.measure.drivers import Driver, LevelDriver, LevelResult, ThreadDriver
from throughput_expert.measure.loops import (
    LevelPlan,
    Tally,
    run_closed,
    run_open,
    run_processes,
    run_threads,
)
from throughput_expert.measure.search import PeakSearch
from throughput_expert.model.progress import ProgressEvent, ProgressKind
from throughput_expert.model.sweep import Sweep, SweepLevel, SweepMode
from throughput_expert.redact import redact_text

__all__ = [
    "LEVEL_REQUEST_CAP",
    "SUSTAINED_SHARE",
    "highest_sustained_rps",
    "interrupted_by",
    "loop_factory",
    "reraise_interruption",
    "run_sweep",
    "sustained",
]

SUSTAINED_SHARE = 0.99
"""An offered rate is sustained when the achieved rate reaches this share of it."""
LEVEL_REQUEST_CAP = 10_000_000
"""The most operations one level may count when no ``max_requests`` is given."""
MIN_GRACE_S = 2.0
_SOURCE = "sweep"
_CO_NOTE = (
    "closed loop: latency is measured from each request's send, so the percentiles are prone "
    "to coordinated omission (docs/formats.md §3.9)"
)

Progress = Callable[[ProgressEvent], None]
# The next level to measure (and why, for the notes) given the levels finished, or None: done.
NextLevel = Callable[[list[SweepLevel]], tuple[float, str | None] | None]
Clock = Callable[[], float]
LoopFactory = Callable[[], asyncio.AbstractEventLoop]


_interruption: list[int] = []  # the signal that stopped the last sweep of this process, if any


def interrupted_by() -> int | None:
    """The signal number (2 SIGINT, 15 SIGTERM, 1 SIGHUP) that interrupted the last
    ``run_sweep`` of this process, or None when it ran to its end."""
    return _interruption[-1] if _interruption else None


def reraise_interruption() -> None:
    """Raise ``Interrupted`` again for the signal that stopped the last sweep, once its partial
    report is out, so the process exits 128 + signum; nothing when the sweep was not stopped."""
    signum = interrupted_by()
    if signum is not None:
        _interruption.clear()
        raise Interrupted(signum)


def loop_factory() -> LoopFactory | None:
    """uvloop's event loop when it is installed, else None (asyncio's default loop)."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run_sweep(
    driver: ThreadDriver | Driver | LevelDriver,
    *,
    concurrency: Sequence[int] | PeakSearch | None = None,
    rates: Sequence[float] | None = None,
    duration_s: float = 10.0,
    warmup_s: float = 2.0,
    max_requests: int | None = None,
    error_threshold: float = 0.5,
    allow_remote: bool = False,
    slo_s: float | None = None,
    open_workers: int = 64,
    on_progress: Progress | None = None,
    clock: Clock = time.perf_counter,
) -> Sweep:
    """Measure ``driver`` at each level in turn and return the finished levels.

    Exactly one of ``concurrency`` (closed loop: the levels, or a ``PeakSearch`` to choose
    them) and ``rates`` (open loop, at most ``open_workers`` calls in flight) is given. Raises
    ``InputError`` for bad settings or a target that may not be loaded, ``MeasurementError`` when
    the driver cannot measure at all.
    """
    if isinstance(concurrency, PeakSearch):
        mode: SweepMode = "closed"
        total, next_level = concurrency.max_levels, _searching(concurrency)
    else:
        mode, levels = _levels(concurrency, rates)
        total, next_level = len(levels), _listed(levels)
    _check_settings(duration_s, warmup_s, max_requests, error_threshold, slo_s, open_workers)
    if mode == "open" and isinstance(driver, LevelDriver) and not isinstance(driver, Driver):
        raise InputError(
            f"the {driver.name} driver runs closed loop only: use {{concurrency}}",
            mentions=("concurrency",),
        )
    driver.check_target(allow_remote=allow_remote)
    _interruption.clear()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    plan = LevelPlan(
        warmup_s, duration_s, max_requests or LEVEL_REQUEST_CAP, max(MIN_GRACE_S, duration_s / 2)
    )
    context = _Context(driver, mode, total, plan, open_workers, on_progress, clock)
    context.max_requests = max_requests
    finished, notes = context.run(next_level, error_threshold)
    if isinstance(concurrency, PeakSearch):
        measured = [(lv.level, lv.throughput_rps) for lv in finished]
        windows = _windows(finished)
        if concurrency.next_level(measured, windows) is None:  # finished, not stopped
            notes.append(concurrency.why_stopped(measured, windows))
    context.end(notes[-1] if notes else "")
    notes += _mode_notes(mode, finished, slo_s)
    return Sweep(
        "concurrency",
        mode,
        tuple(finished),
        closed_loop_percentiles=mode == "closed",
        driver=driver.name,
        target=redact_text(driver.target),  # the drivers mask theirs; this covers any other
        started_at=started_at,
        notes=tuple(notes),
    )


def _levels(
    concurrency: Sequence[int] | None, rates: Sequence[float] | None
) -> tuple[SweepMode, list[float]]:
    if concurrency is None and rates is None:
        raise InputError(
            "no load to drive: give {concurrency} (levels such as 1,2,4,8, or auto) or {rates} "
            "(requests per second)",
            source=_SOURCE,
            mentions=("concurrency", "rates"),
        )
    if concurrency is not None and rates is not None:
        raise InputError(
            "give {concurrency} or {rates}, not both",
            source=_SOURCE,
            mentions=("concurrency", "rates"),
        )
    if concurrency is not None:
        if not concurrency or any(int(n) != n or n < 1 for n in concurrency):
            raise InputError("must be whole numbers >= 1", source=Parameter("concurrency"))
        return "closed", [float(n) for n in concurrency]
    assert rates is not None
    if not rates or any(not math.isfinite(r) or r < 1 for r in rates):
        raise InputError("must be rates >= 1 per second", source=Parameter("rates"))
    return "open", [float(r) for r in rates]


def _listed(levels: list[float]) -> NextLevel:
    def next_level(finished: list[SweepLevel]) -> tuple[float, str | None] | None:
        return (levels[len(finished)], None) if len(finished) < len(levels) else None

    return next_level


def _windows(finished: list[SweepLevel]) -> dict[int, tuple[float, ...]]:
    """Each reading's sub-window throughputs (by its index), for the search's noise estimate."""
    return {i: lv.window_rates for i, lv in enumerate(finished) if len(lv.window_rates) > 1}


def _searching(search: PeakSearch) -> NextLevel:
    def next_level(finished: list[SweepLevel]) -> tuple[float, str | None] | None:
        measured = [(lv.level, lv.throughput_rps) for lv in finished]
        step = search.next_level(measured, _windows(finished))
        if step is None:
            return None
        level, why = step
        return float(level), f"level {len(finished) + 1} at concurrency {level}: {why}"

    return next_level


def _check_settings(
    duration_s: float,
    warmup_s: float,
    max_requests: int | None,
    error_threshold: float,
    slo_s: float | None,
    open_workers: int,
) -> None:
    checks = [
        (Parameter("duration"), math.isfinite(duration_s) and duration_s > 0, "must be > 0"),
        (Parameter("warmup"), math.isfinite(warmup_s) and warmup_s >= 0, "must be >= 0"),
        (Parameter("max_requests"), max_requests is None or max_requests >= 1, "must be >= 1"),
        ("error_threshold", 0 <= error_threshold <= 1, "must be in [0, 1]"),
        (Parameter("slo"), slo_s is None or slo_s > 0, "must be > 0"),
        ("open_workers", open_workers >= 1, "must be >= 1"),
    ]
    for source, ok, message in checks:
        if not ok:
            raise InputError(message, source=source)


class _Context:
    """One sweep in progress: runs the levels and turns each into a ``SweepLevel``."""

    def __init__(
        self,
        driver: ThreadDriver | Driver | LevelDriver,
        mode: SweepMode,
        total: int,
        plan: LevelPlan,
        open_workers: int,
        on_progress: Progress | None,
        clock: Clock,
    ) -> None:
        self.driver, self.mode, self.total, self.plan = driver, mode, total, plan
        self.open_workers, self.clock = open_workers, clock
        self.emit: Progress = on_progress or (lambda event: None)
        self.max_requests: int | None = None

    def run(self, next_level: NextLevel, threshold: float) -> tuple[list[SweepLevel], list[str]]:
        finished: list[SweepLevel] = []
        notes: list[str] = []
        try:
            while (step := next_level(finished)) is not None:
                level, why = step
                index = len(finished) + 1
                notes += [why] if why else []
                record, level_notes = self._level(index, level)
                notes += level_notes
                stop = _error_stop(index, self._load(level), record, threshold)
                if stop:
                    notes.append(stop)
                    break
                finished.append(record)
        except KeyboardInterrupt as exc:
            signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT.value
            _interruption.append(signum)
            notes.append(_interrupted(len(finished), signum))
        return finished, notes

    def _level(self, index: int, level: float) -> tuple[SweepLevel, list[str]]:
        planned = self.plan.warmup_s + self.plan.duration_s
        self.emit(self._event("level_start", index, level, planned_s=planned))
        if isinstance(self.driver, ThreadDriver):
            tally = self._in_workers(self.driver, index, level)
            record, notes = _from_tally(tally, level, self.mode), _tally_notes(index, tally)
        elif isinstance(self.driver, Driver):
            with asyncio.Runner(loop_factory=loop_factory()) as runner:
                tally = runner.run(self._measure(index, level))
            record, notes = _from_tally(tally, level, self.mode), _tally_notes(index, tally)
        else:
            result = self.driver.run_level(
                int(level),
                duration_s=self.plan.duration_s,
                warmup_s=self.plan.warmup_s,
                max_requests=self.max_requests,
            )
            record, notes = _from_result(result, level), []
        self.emit(self._finished(index, level, record, planned))
        return record, notes

    def _in_workers(self, driver: ThreadDriver, index: int, level: float) -> Tally:
        def tick(tally: Tally) -> None:
            self.emit(self._tick(index, level, tally))

        closed = self.mode == "closed"
        workers = int(level) if closed else self.open_workers
        rate = None if closed else level
        if driver.process_spec is not None:
            return run_processes(
                driver.process_spec, workers, self.plan, tick, rate=rate, clock=self.clock
            )
        return run_threads(driver, workers, self.plan, self.clock, tick, rate=rate)

    async def _measure(self, index: int, level: float) -> Tally:
        def tick(tally: Tally) -> None:
            self.emit(self._tick(index, level, tally))

        assert isinstance(self.driver, Driver)
        if self.mode == "closed":
            return await run_closed(self.driver, int(level), self.plan, self.clock, tick)
        return await run_open(self.driver, level, self.open_workers, self.plan, self.clock, tick)

    def _load(self, level: float) -> str:
        return f"offered {level:g} rps" if self.mode == "open" else f"concurrency {level:g}"

    def _event(self, kind: ProgressKind, index: int, level: float, **extra: Any) -> ProgressEvent:
        return ProgressEvent(kind, index, self.total, level, self.mode, **extra)

    def _tick(self, index: int, level: float, tally: Tally) -> ProgressEvent:
        now = self.clock()
        measured = min(now, tally.window_end) - tally.window_start
        return self._event(
            "tick",
            index,
            level,
            elapsed_s=now - tally.started,
            planned_s=self.plan.warmup_s + self.plan.duration_s,
            completed=tally.ok,
            errors=tally.errors,
            rate_rps=tally.ok / measured if measured > 0 else 0.0,
            warming_up=now < tally.window_start,
        )

    def _finished(
        self, index: int, level: float, record: SweepLevel, planned: float
    ) -> ProgressEvent:
        requests = record.requests or 0
        errors = record.errors or 0
        return self._event(
            "level_end",
            index,
            level,
            elapsed_s=planned,
            planned_s=planned,
            completed=requests - errors,
            errors=errors,
            rate_rps=record.throughput_rps,
            p99_s=record.latency.p99_s,
        )

    def end(self, message: str) -> None:
        # A second Ctrl-C at the very end is ignored: the sweep is being returned anyway.
        with contextlib.suppress(KeyboardInterrupt):
            self.emit(self._event("sweep_end", self.total, 0.0, message=message))


def _from_tally(tally: Tally, level: float, mode: SweepMode) -> SweepLevel:
    window = tally.window_end - tally.window_start
    record = SweepLevel(
        level=level,
        throughput_rps=tally.ok / window if window > 0 else 0.0,
        latency=tally.histogram.latency(),
        errors=tally.errors,
        requests=tally.done,
        duration_s=window,
        offered_rps=level if mode == "open" else None,
        window_rates=tuple(tally.window_rates),  # the level's own noise, for the peak search
    )
    return record


def _from_result(result: LevelResult, level: float) -> SweepLevel:
    return SweepLevel(
        level=level,
        throughput_rps=result.throughput_rps,
        latency=result.latency,
        errors=result.errors,
        requests=result.requests,
        duration_s=result.duration_s,
    )


def _tally_notes(index: int, tally: Tally) -> list[str]:
    notes = []
    if tally.abandoned:
        notes.append(
            f"level {index}: {tally.abandoned} calls still running at the level's deadline "
            "were abandoned"
        )
    if tally.unsent > 1:  # one request due at the very end of the schedule is timing, not lag
        notes.append(
            f"level {index}: {tally.unsent} scheduled requests were never sent: the target "
            "(or the generator's workers) fell behind the schedule"
        )
    if tally.histogram.clamped:
        notes.append(f"level {index}: {tally.histogram.clamped} latencies outside 1 µs .. 1 h")
    return notes


def _error_stop(index: int, load: str, record: SweepLevel, threshold: float) -> str | None:
    requests, errors = record.requests or 0, record.errors or 0
    if requests == 0:
        return (
            f"stopped at level {index} ({load}): no operation completed within the level's "
            f"{record.duration_s or 0:g} s window"
        )
    share = errors / requests
    if share <= threshold:
        return None
    return (
        f"stopped at level {index} ({load}): {errors} of {requests} operations failed "
        f"({share:.0%}), above the error threshold of {threshold:.0%}; the level is not kept"
    )


def _interrupted(finished: int, signum: int) -> str:
    name = signal.Signals(signum).name
    if finished == 0:
        return f"interrupted by {name} during level 1: no level finished"
    return f"interrupted by {name} after level {finished}: the levels finished before it are kept"


# --- open loop: sustained rates -----------------------------------------------------------------


def sustained(level: SweepLevel, slo_s: float | None = None) -> bool:
    """True when the achieved rate is ≥ 99 % of the offered one (and p99 ≤ ``slo_s`` if given)."""
    if level.offered_rps is None or level.throughput_rps < SUSTAINED_SHARE * level.offered_rps:
        return False
    if slo_s is None:
        return True
    return level.latency.p99_s is not None and level.latency.p99_s <= slo_s


def highest_sustained_rps(sweep: Sweep, slo_s: float | None = None) -> float | None:
    """The highest offered rate the open-loop sweep sustained, or None if none was."""
    rates = [lv.offered_rps for lv in sweep.levels if lv.offered_rps and sustained(lv, slo_s)]
    return max(rates) if rates else None


def _mode_notes(mode: SweepMode, levels: list[SweepLevel], slo_s: float | None) -> list[str]:
    if mode == "closed":
        return [_CO_NOTE]
    notes = [_sustained_note(lv, slo_s) for lv in levels]
    criterion = f"achieved >= {SUSTAINED_SHARE:.0%} of offered"
    if slo_s is not None:
        criterion += f", p99 <= {slo_s * 1e3:g} ms"
    best = highest_sustained_rps(Sweep("concurrency", mode, tuple(levels)), slo_s)
    if best is None:
        return [*notes, f"no offered rate was sustained ({criterion})"]
    return [*notes, f"highest sustained rate: {best:g} rps ({criterion})"]


def _sustained_note(level: SweepLevel, slo_s: float | None) -> str:
    offered = level.offered_rps or level.level
    p99 = level.latency.p99_s
    shown = "no p99" if p99 is None else f"p99 {p99 * 1e3:.2f} ms from the intended start"
    verdict = "sustained" if sustained(level, slo_s) else "not sustained"
    return (
        f"offered {offered:g} rps: achieved {level.throughput_rps:.1f} rps "
        f"({level.throughput_rps / offered:.1%}), {shown}: {verdict}"
    )
