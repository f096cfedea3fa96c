"""Timed trial inserts into a real database, by batch size and method (``tpx design-batching
--measure DSN``).

Each timed repetition inserts one batch of ``b`` small rows and commits, so its latency is one
sample of T(b) = c0 + c1·b (``laws.batching``): the commit and round trips are the fixed cost c0,
the rows the per-item cost c1. The trials write only to a table of their own,
``tpx_batch_trial_<random>``: a TEMPORARY table in PostgreSQL (it dies with the session), a real
table in the SQLite file; it is dropped at the end whatever happens (the databases themselves:
``batch_backends``). The run stays within its time budget by estimating each block from the sizes
already measured and skipping what would not fit (said in the notes); blocks whose runs spread
widely get more repetitions while the budget lasts; Ctrl-C stops it at once and returns what was
measured, ``interrupted=True``.

Methods: ``single`` (one INSERT per row, one commit per batch), ``executemany``, ``multirow`` (one
INSERT with a VALUES list) and, in PostgreSQL only, ``copy`` (COPY FROM STDIN).
"""

from __future__ import annotations

import math
import random
import secrets
import statistics
import string
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from throughput_expert.errors import InputError, MeasurementError
from throughput_expert.measure.batch_backends import (
    SOURCE,
    Backend,
    Job,
    Row,
    open_backend,
    parse_dsn,
)
from throughput_expert.model.trials import BatchTrial, BatchTrials

__all__ = ["DEFAULT_METHODS", "DEFAULT_SIZES", "METHODS", "PAYLOAD_BYTES", "run_batch_trials"]

METHODS = ("single", "executemany", "multirow", "copy")
DEFAULT_METHODS = METHODS
DEFAULT_SIZES = (1, 10, 50, 100, 500, 1000)
PAYLOAD_BYTES = 100
ROW_BYTES = 8 + PAYLOAD_BYTES + 8  # bigint id, text payload, timestamptz
SEED = 1729  # fixed: every run inserts the same rows
WARMUP_ROWS = 10  # enough executions for psycopg to prepare a repeated statement (threshold 5)
SAFETY = 1.25  # estimates of a block's time are stretched by this before checking the budget
SPREAD = 0.10  # a block whose median is this far above its fastest run gets more repetitions
MAX_ROUNDS = 4  # ... in up to this many rounds in all (the first pass is one)

_TABLE_PREFIX = "tpx_batch_trial_"

# --- the run ------------------------------------------------------------------------------------


def _rows(count: int) -> list[Row]:
    """``count`` rows with ``PAYLOAD_BYTES`` ASCII payloads, the same on every run (``SEED``)."""
    rng = random.Random(SEED)
    alphabet = string.ascii_letters + string.digits
    start = datetime(2024, 1, 1, tzinfo=UTC)
    return [
        (i, "".join(rng.choices(alphabet, k=PAYLOAD_BYTES)), start + timedelta(seconds=i))
        for i in range(1, count + 1)
    ]


def _estimate(measured: dict[int, float], size: int) -> float | None:
    """Seconds one batch of ``size`` should take, from the medians at smaller sizes.

    Through the last two sizes, T(b) = c0 + c1·b with c0, c1 ≥ 0; from one size b1, the
    proportional T(b1)·b/b1, which overestimates while c0 > 0 (safe for a budget).
    """
    below = sorted((b, t) for b, t in measured.items() if b < size)
    if not below:
        return None
    if len(below) == 1:
        ((b1, t1),) = below
        return t1 * size / b1
    (b1, t1), (b2, t2) = below[-2:]
    c1 = max(0.0, (t2 - t1) / (b2 - b1))
    return max(0.0, t2 - c1 * b2) + c1 * size


@dataclass
class _Run:
    clock: Callable[[], float]
    deadline: float
    repetitions: int
    on_progress: Callable[[str], None] | None
    rows: list[Row]
    latencies: dict[tuple[str, int], list[float]] = field(default_factory=dict)
    medians: dict[str, dict[int, float]] = field(default_factory=dict)
    warmed: set[str] = field(default_factory=set)
    skipped: dict[str, list[int]] = field(default_factory=dict)
    cut: list[str] = field(default_factory=list)
    unsupported: dict[str, list[int]] = field(default_factory=dict)
    extra: dict[str, int] = field(default_factory=dict)  # repetitions added by refine()
    spent: bool = False  # the deadline has passed: skip the rest without touching the database

    def sizes(self, backend: Backend, sizes: Sequence[int], methods: Sequence[str]) -> None:
        for index, size in enumerate(sizes):
            if index and not self.spent:
                backend.reset()
            # Cheapest first: when the budget runs short, the dearest method gives way.
            for method in sorted(methods, key=lambda m: self._expected(m, size) or 0.0):
                self._block(backend, method, size)

    def refine(self, backend: Backend, sizes: Sequence[int], methods: Sequence[str]) -> None:
        """Rounds of more repetitions for the blocks whose runs spread widely (other work on
        the machine preempted some), while the budget lasts: more samples steady the median and
        make the fastest run the undisturbed cost. Later rounds revisit every size, so a burst
        of interference lands on different sizes each time rather than bending one."""
        for _ in range(MAX_ROUNDS - 1):
            # Every size of a method with a wide block gets the round, so its sizes keep equal
            # sample counts: the fastest of 20 runs is not compared with the fastest of 5.
            wide = {m for (m, _), t in self.latencies.items() if _spread(t) > SPREAD}
            if not wide or self.spent:
                return
            for size in sizes:
                todo = [m for m in methods if m in wide and (m, size) in self.latencies]
                if not todo or self.spent:
                    continue
                backend.reset()
                for method in todo:
                    self._more(backend, method, size)

    def _more(self, backend: Backend, method: str, size: int) -> None:
        median = self.medians[method][size]
        runs = self._runs_that_fit(method, median)
        if runs < 1:
            return
        timed = self._time(backend.prepare(method, self.rows[:size]), runs, median)
        self.latencies[(method, size)] += timed
        self.medians[method][size] = statistics.median(self.latencies[(method, size)])
        self.extra[method] = self.extra.get(method, 0) + len(timed)

    def _expected(self, method: str, size: int) -> float | None:
        return _estimate(self.medians.get(method, {}), size)

    def _block(self, backend: Backend, method: str, size: int) -> None:
        if why := backend.supports(method, size):
            self.unsupported.setdefault(f"{method} ({why})", []).append(size)
            return
        runs = self._runs_that_fit(method, self._expected(method, size))
        if runs < 1:
            self.skipped.setdefault(method, []).append(size)
            return
        job = backend.prepare(method, self.rows[:size])
        if method not in self.warmed:  # first use: connections, caches, prepared statements
            backend.prepare(method, self.rows[: max(size, WARMUP_ROWS)])()
            self.warmed.add(method)
        timed = self._time(job, runs, self._expected(method, size))
        if len(timed) < self.repetitions:
            self.cut.append(f"{method} at b = {size}: {len(timed)} of {self.repetitions}")
        if not timed:
            return
        self.latencies[(method, size)] = timed
        median = statistics.median(timed)
        self.medians.setdefault(method, {})[size] = median
        if self.on_progress is not None:
            self.on_progress(f"{method} b={size}: {len(timed)} x median {median * 1e3:.3g} ms")

    def _runs_that_fit(self, method: str, expected: float | None) -> int:
        """How many timed repetitions of ``expected`` seconds fit before the deadline (a warm-up
        counts as one)."""
        left = 0.0 if self.spent else self.deadline - self.clock()
        self.spent = left <= 0
        if self.spent:
            return 0
        if expected is None or expected <= 0:
            return self.repetitions
        warmup = 0 if method in self.warmed else 1
        fit = math.floor(left / (expected * SAFETY)) - warmup
        return min(self.repetitions, fit)

    def _time(self, job: Job, runs: int, expected: float | None) -> list[float]:
        timed: list[float] = []
        for _ in range(runs):
            guess = timed[-1] if timed else (expected or 0.0)
            if self.clock() + guess > self.deadline:
                break
            start = self.clock()
            job()
            timed.append(self.clock() - start)
        return timed

    def trials(self, methods: Sequence[str]) -> tuple[BatchTrial, ...]:
        order = {m: i for i, m in enumerate(methods)}
        keys = sorted(self.latencies, key=lambda k: (order[k[0]], k[1]))
        return tuple(BatchTrial(m, b, tuple(self.latencies[(m, b)])) for m, b in keys)

    def notes(self, budget_s: float, sizes: list[int]) -> list[str]:
        notes = [
            f"not measured: {m}" + ("" if b == sizes else f" at b = {_sizes(b)}")
            for m, b in self.unsupported.items()
        ]
        if self.skipped:
            skipped = "; ".join(f"{m} at b = {_sizes(b)}" for m, b in self.skipped.items())
            notes.append(f"time budget {budget_s:g} s: skipped {skipped}")
        if self.cut:
            notes.append(f"time budget {budget_s:g} s: fewer repetitions for {'; '.join(self.cut)}")
        if self.extra:
            extra = ", ".join(f"{n} for {m}" for m, n in self.extra.items())
            notes.append(
                f"runs spread by more than {SPREAD:.0%} above their fastest (other work on the "
                f"machine): {extra} more repetitions, in rounds over the sizes"
            )
        return notes


def _spread(latencies: list[float]) -> float:
    """How far the median sits above the fastest run, relative to the median."""
    median = statistics.median(latencies)
    return (median - min(latencies)) / median if median > 0 else 0.0


def _sizes(sizes: list[int]) -> str:
    return ", ".join(str(b) for b in sizes)


def _checked(
    sizes: Sequence[int], methods: Sequence[str], time_budget_s: float, repetitions: int
) -> tuple[list[int], list[str]]:
    if not sizes or any(isinstance(b, bool) or not isinstance(b, int) or b < 1 for b in sizes):
        raise InputError(
            f"batch sizes must be whole numbers >= 1, got {list(sizes)!r}",
            source=SOURCE,
            field="sizes",
        )
    if not methods or (unknown := [m for m in methods if m not in METHODS]):
        raise InputError(
            f"unknown method(s) {unknown if methods else []!r}: choose from {', '.join(METHODS)}",
            source=SOURCE,
            field="methods",
        )
    if not math.isfinite(time_budget_s) or time_budget_s <= 0:
        raise InputError(
            f"must be a time > 0 s, got {time_budget_s!r}", source=SOURCE, field="time_budget_s"
        )
    if isinstance(repetitions, bool) or not isinstance(repetitions, int) or repetitions < 1:
        raise InputError(
            f"must be a whole number >= 1, got {repetitions!r}", source=SOURCE, field="repetitions"
        )
    return sorted(set(sizes)), list(dict.fromkeys(methods))


def run_batch_trials(
    dsn: str,
    *,
    sizes: Sequence[int] = DEFAULT_SIZES,
    methods: Sequence[str] = DEFAULT_METHODS,
    time_budget_s: float = 25.0,
    repetitions: int = 5,
    clock: Callable[[], float] = time.perf_counter,
    on_progress: Callable[[str], None] | None = None,
) -> BatchTrials:
    """Time inserting batches of each size with each method into ``dsn``, within the budget.

    ``dsn`` is ``postgresql://...`` (or ``postgres://``; psycopg 3) or ``sqlite:///path``.
    Raises ``InputError`` for a malformed DSN or arguments, ``MeasurementError`` when the
    database cannot be reached or fails; no message carries the DSN's password. Ctrl-C returns
    what was measured with ``interrupted=True``; the trial table is dropped in every case.
    """
    size_list, method_list = _checked(sizes, methods, time_budget_s, repetitions)
    parsed = parse_dsn(dsn)
    table = _TABLE_PREFIX + secrets.token_hex(6)
    start = clock()
    # Keep a little of the budget for dropping the table and closing the connection.
    deadline = start + time_budget_s - min(0.5, 0.1 * time_budget_s)
    run = _Run(clock, deadline, repetitions, on_progress, _rows(size_list[-1]))
    backend: Backend | None = None
    interrupted = False
    try:
        backend = open_backend(parsed, table, time_budget_s)
        backend.create()
        run.sizes(backend, size_list, method_list)
        run.refine(backend, size_list, method_list)
    except KeyboardInterrupt:
        interrupted = True
    except Exception as exc:
        if backend is None or not isinstance(exc, backend.errors):
            raise
        raise MeasurementError(
            f"the database failed: {parsed.scrub(exc)}", source=parsed.target
        ) from None
    finally:
        if backend is not None:
            backend.close()
    notes = (backend.notes if backend else []) + run.notes(time_budget_s, size_list)
    if interrupted:
        notes.append("interrupted (Ctrl-C): these are the trials measured before it")
    return BatchTrials(
        target=parsed.target,
        dialect=parsed.dialect,
        trials=run.trials(method_list),
        row_bytes=ROW_BYTES,
        duration_s=clock() - start,
        interrupted=interrupted,
        notes=tuple(notes),
    )
