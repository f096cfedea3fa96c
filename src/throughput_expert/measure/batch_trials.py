"""Timed trial inserts into a real database, by batch size and method (``tpx design-batching
--measure DSN``).

Each timed repetition inserts one batch of ``b`` small rows and commits, so its latency is one
sample of T(b) = c0 + c1·b (``laws.batching``): the commit and round trips are the fixed cost c0,
the rows the per-item cost c1. The trials write only to a table of their own,
``tpx_batch_trial_<random>``. In PostgreSQL it is a regular (WAL-logged) table in a scratch schema
of the same unique name, created by the trial and dropped at its end (the table, then the schema,
which is never dropped with anything in it the trial did not create), so each commit pays the WAL
flush a production table's commit pays; the server's ``synchronous_commit``, ``fsync``,
``wal_sync_method`` and ``commit_delay`` decide what that flush costs, and are read and reported.
Where the user may not create a schema, the trial falls back to a TEMPORARY table, whose rows
write no WAL; each batch then also writes a transactional logical message
(``pg_logical_emit_message``), so its commit still waits for the WAL flush (said in the notes;
where even that is refused, the notes say c0 is a lower bound). In SQLite it is a real table in
the database file (whose commits fsync unless ``synchronous`` says not: reported). It is dropped
at the end whatever happens, Ctrl-C and errors included; in PostgreSQL over a new connection when
the trial's own one is broken (the databases themselves: ``batch_backends``).

Each block (one method at one size) inserts batches back to back, as a production writer does,
for at least ``repetitions`` batches and at least a share of the budget (``SUSTAIN_SHARE`` split
over the blocks): the mean time per batch of such a block is what sustained throughput pays,
X(b) = b / mean T(b). Commit times are right-skewed (a WAL flush that waits behind the disk's
other work, a checkpoint, a preempted process): the median of a few calls misses the slow ones
that a sustained writer pays, and the mean of a few calls is at the mercy of one slow call; the
mean of a block of hundreds of calls is neither. The run stays within its time budget by estimating
each block from the sizes already measured and skipping what would not fit (said in the notes);
blocks whose runs spread widely get more repetitions while the budget lasts; Ctrl-C (or SIGTERM,
which ``tpx`` turns into the same) drops the trial table and is raised again.

Methods: ``single`` (one INSERT per row, one commit per batch), ``executemany``, ``multirow`` (one
INSERT with a VALUES list) and, in PostgreSQL only, ``copy`` (COPY FROM STDIN).
"""

from __future__ import annotations

import contextlib
import math
import random
import secrets
import statistics
import string
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from throughput_expert.errors import InputError, MeasurementError
from throughput_expert.measure.batch_backends import (
    SOURCE,
    Backend,
    Dsn,
    Job,
    Row,
    _Postgres,
    _Sqlite,
    open_backend,
    parse_dsn,
)
from throughput_expert.model.trials import BatchTrial, BatchTrials

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql
    from psycopg.rows import TupleRow

__all__ = [
    "DEFAULT_METHODS",
    "DEFAULT_SIZES",
    "METHODS",
    "PAYLOAD_BYTES",
    "PG_SETTINGS",
    "run_batch_trials",
]

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
# The share of the budget that blocks spend inserting back to back beyond their repetitions,
# split evenly over the blocks and the rounds (each round revisits every size, so a burst of
# other work on the machine lands on all sizes alike instead of bending one): long enough for each
# size's mean to include the slow commits in their proportion, short enough to leave the rest of
# the budget for what it has to measure.
SUSTAIN_SHARE = 0.5

_TABLE_PREFIX = "tpx_batch_trial_"
# What a PostgreSQL commit waits for, and how long: read at the start and reported.
PG_SETTINGS = ("synchronous_commit", "fsync", "wal_sync_method", "commit_delay")
_PG_COLUMNS = "(id bigint, payload text, created timestamptz)"
DROP_TIMEOUT_S = 5  # a new connection's wait when the trial's own one cannot drop the schema

# --- the trial table: durable in PostgreSQL, settings read in both --------------------------------


class _DurablePostgres(_Postgres):
    """The PostgreSQL backend on a regular table ``schema.table`` in a scratch schema of its own
    (``schema`` is ``table``'s unique name): each commit pays the WAL flush."""

    def __init__(self, base: _Postgres, dsn: Dsn, table: str) -> None:
        super().__init__(base._conn, table)
        self._dsn, self._schema_name = dsn, table
        self._schema = self._sql.Identifier(table)
        self._durable = self._sql.Identifier(table, table)
        self._temp = self._table  # pg_temp.<table>: the fallback where no schema may be created
        self._use(self._durable)
        self._created = False
        self.settings: list[tuple[str, str]] = []
        self.notes = [self.notes[0].partition(";")[0]]  # "PostgreSQL N.M at host"
        self.left_behind: str | None = None  # why the scratch schema is still there, if it is

    def _use(self, table: sql.Identifier) -> None:
        self._table = table
        self._insert = self._sql.SQL(
            "INSERT INTO {} (id, payload, created) VALUES (%s, %s, %s)"
        ).format(self._table)

    def create(self) -> None:
        import psycopg

        self.settings = _pg_settings(self._conn)
        self.notes.append(_pg_settings_note(self.settings))
        try:
            # from here on close() drops it (IF EXISTS), whatever happens next: an interrupt
            # that lands between the statement and this line would otherwise leave the schema
            self._created = True
            self._conn.execute(self._sql.SQL("CREATE SCHEMA {}").format(self._schema))
            create = self._sql.SQL("CREATE TABLE {} " + _PG_COLUMNS).format(self._durable)
            self._conn.execute(create)
            self._conn.commit()
        except psycopg.errors.InsufficientPrivilege:
            self._conn.rollback()
            self._created = False
            self._use(self._temp)
            super().create()
            self.notes.append(self._flushing_temporary())
            return
        self.notes.append(
            f'a regular (WAL-logged) table in the scratch schema "{self._schema_name}", dropped '
            "at the end: each commit pays the WAL flush, as a production table's does"
        )

    def _flushing_temporary(self) -> str:
        """Make each commit into the TEMPORARY table wait for the WAL flush, as a regular table's
        does, and say so: a temporary table's rows write no WAL, so its commit returns without
        the flush; a transactional logical message in the same transaction writes a WAL record
        (and takes a transaction id), so the commit flushes it and waits. Where the function
        cannot be called, c0 is what it is: a lower bound, said so."""
        import psycopg

        emit = self._sql.SQL("SELECT pg_logical_emit_message(true, 'tpx-batch-trials', '')")
        try:
            self._conn.execute(emit)
            self._conn.commit()
        except psycopg.Error as exc:
            self._conn.rollback()
            return (
                "no permission to create a schema: a TEMPORARY table instead, whose rows are "
                "not WAL-logged, so its commits skip the WAL flush that a regular table's commit "
                f"waits for ({self._dsn.scrub(exc)}: the flush could not be added; c0 here is a "
                "lower bound: production pays more per batch)"
            )
        self._before_commit = emit
        return (
            "no permission to create a schema: a TEMPORARY table instead, whose rows write no "
            "WAL; each batch also writes a transactional logical message "
            "(pg_logical_emit_message), so each commit waits for the WAL flush as a regular "
            "table's does (only the rows' own WAL volume is missing from c1)"
        )

    def close(self) -> None:
        if not self._created:
            super().close()
            return
        drops = [
            self._sql.SQL("DROP TABLE IF EXISTS {}").format(self._durable),
            # RESTRICT: an object someone else put there keeps the schema (said in the notes)
            self._sql.SQL("DROP SCHEMA IF EXISTS {} RESTRICT").format(self._schema),
        ]
        try:
            self._conn.rollback()
            for drop in drops:
                self._conn.execute(drop)
            self._conn.commit()
            return
        except self.errors:
            pass
        finally:
            self._conn.close()
        self._drop_over_a_new_connection(drops)

    def _drop_over_a_new_connection(self, drops: list[sql.Composed]) -> None:
        import psycopg

        try:
            with psycopg.connect(
                self._dsn.dsn,
                application_name="tpx-batch-trials",
                connect_timeout=DROP_TIMEOUT_S,
                # a drop that waits behind the old session's locks gives up too (signals are
                # held meanwhile: the user's next Ctrl-C waits for this)
                options=f"-c lock_timeout={DROP_TIMEOUT_S}s -c statement_timeout={DROP_TIMEOUT_S}s",
            ) as conn:
                for drop in drops:
                    conn.execute(drop)
        except psycopg.Error as exc:
            self.left_behind = (
                f'could not drop the scratch schema "{self._schema_name}" '
                f"({self._dsn.scrub(exc)}): drop it by hand: "
                f'DROP SCHEMA "{self._schema_name}" CASCADE'
            )
            self.notes.append(self.left_behind)


def _pg_settings(conn: psycopg.Connection[TupleRow]) -> list[tuple[str, str]]:
    query = "SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%s)"
    rows = conn.execute(query, [list(PG_SETTINGS)]).fetchall()
    conn.commit()
    found = {name: setting + (unit or "") for name, setting, unit in rows}
    return [(name, found[name]) for name in PG_SETTINGS if name in found]


def _pg_settings_note(settings: list[tuple[str, str]]) -> str:
    values = dict(settings)
    said = ", ".join(f"{name} = {value}" for name, value in settings)
    if values.get("fsync") == "off":
        meaning = (
            "fsync is off: commits flush nothing to disk (not crash-safe); a server with it on "
            "pays more per batch"
        )
    elif values.get("synchronous_commit") == "off":
        meaning = (
            "synchronous_commit is off: commits return before the WAL flush; a session or "
            "server with it on pays more per batch"
        )
    else:
        meaning = "each commit waits for the WAL flush"
    delay = values.get("commit_delay", "0")
    if delay.rstrip("us") not in ("", "0"):
        meaning += f"; commit_delay {delay} delays each flush while other commits are active"
    return f"server settings: {said} ({meaning}; other values change c0)"


class _SqliteSettings(_Sqlite):
    """The SQLite backend, its ``journal_mode`` and ``synchronous`` kept as settings."""

    def __init__(self, base: _Sqlite, table: str) -> None:
        super().__init__(base._conn, table, base._memory)
        self.settings: list[tuple[str, str]] = []
        self.scratch = base.scratch
        self.notes.extend(base.notes)

    def create(self) -> None:
        super().create()
        journal = str(self._conn.execute("PRAGMA journal_mode").fetchone()[0])
        synchronous = int(self._conn.execute("PRAGMA synchronous").fetchone()[0])
        level = {0: "off", 1: "normal", 2: "full", 3: "extra"}.get(synchronous, str(synchronous))
        self.settings = [("journal_mode", journal), ("synchronous", level)]
        if not self._memory and (level == "off" or (level == "normal" and journal == "wal")):
            self.notes.append(
                f"synchronous = {level} with journal_mode = {journal}: commits do not wait for "
                "fsync (c0 is a lower bound for a connection with synchronous = full)"
            )


def _open(parsed: Dsn, table: str, budget_s: float) -> Backend:
    base = open_backend(parsed, table, budget_s)
    if isinstance(base, _Postgres):
        return _DurablePostgres(base, parsed, table)
    assert isinstance(base, _Sqlite)
    return _SqliteSettings(base, table)


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
    block_s: float = 0.0  # each block inserts back to back for at least this long
    spent: bool = False  # the deadline has passed: skip the rest without touching the database

    def sizes(self, backend: Backend, sizes: Sequence[int], methods: Sequence[str]) -> None:
        for index, size in enumerate(sizes):
            if index and not self.spent:
                backend.reset()
            # Cheapest first: when the budget runs short, the dearest method gives way.
            for method in sorted(methods, key=lambda m: self._expected(m, size) or 0.0):
                self._block(backend, method, size)

    def refine(self, backend: Backend, sizes: Sequence[int], methods: Sequence[str]) -> None:
        """Rounds of more repetitions (each sustained for ``block_s`` again) for the methods
        whose runs spread widely (other work on the machine preempted some, a commit waited
        behind the disk), while the budget lasts: more samples steady each size's mean. Each
        round revisits every size, so a burst of interference lands on all of them alike rather
        than bending one."""
        for _ in range(MAX_ROUNDS - 1):
            # Every size of a method with a wide block gets the round, so its sizes keep equal
            # shares of the time and of its conditions: no size's mean sees only a quiet spell.
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
        timed = self._time(backend.prepare(method, self.rows[:size]), runs, median, self.block_s)
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
            # once, and on for a block's time (a new session's first commits are slower)
            warmup = backend.prepare(method, self.rows[: max(size, WARMUP_ROWS)])
            self._time(warmup, 1, self._expected(method, size), self.block_s)
            self.warmed.add(method)
        timed = self._time(job, runs, self._expected(method, size), self.block_s)
        if len(timed) < self.repetitions:
            self.cut.append(f"{method} at b = {size}: {len(timed)} of {self.repetitions}")
        if not timed:
            return
        self.latencies[(method, size)] = timed
        self.medians.setdefault(method, {})[size] = statistics.median(timed)
        if self.on_progress is not None:
            mean = math.fsum(timed) / len(timed)
            self.on_progress(f"{method} b={size}: {len(timed)} x mean {mean * 1e3:.3g} ms")

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

    def _time(self, job: Job, runs: int, expected: float | None, sustain_s: float) -> list[float]:
        """At least ``runs`` calls of ``job`` back to back, and on until ``sustain_s`` has passed,
        while the deadline allows. Each call is timed from the end of the one before, so the
        times add up to the block's wall time: their mean is the sustained time per batch."""
        timed: list[float] = []
        begun = now = self.clock()
        while len(timed) < runs or now - begun < sustain_s:
            guess = timed[-1] if timed else (expected or 0.0)
            if now + guess > self.deadline:
                break
            job()
            end = self.clock()
            timed.append(end - now)
            now = end
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


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP held pending (delivered when the block ends) where this
    thread can hold them: the main thread on POSIX; elsewhere nothing is held."""
    import signal
    import threading

    held = {getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n)}
    if not hasattr(signal, "pthread_sigmask") or (
        threading.current_thread() is not threading.main_thread()
    ):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


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
    keep_on_interrupt: bool = False,
) -> BatchTrials:
    """Time inserting batches of each size with each method into ``dsn``, within the budget.

    ``dsn`` is ``postgresql://...`` (or ``postgres://``; psycopg 3) or ``sqlite:///path``.
    Raises ``InputError`` for a malformed DSN or arguments, ``MeasurementError`` when the
    database cannot be reached or fails; no message carries the DSN's password. Ctrl-C (a
    ``KeyboardInterrupt``, or ``errors.Interrupted`` for SIGTERM and SIGHUP under ``tpx``) is
    raised again once the trial table is dropped; with ``keep_on_interrupt`` it returns what was
    measured, ``interrupted=True``, instead. The trial table is dropped in every case, with
    further signals held off while it is (a second Ctrl-C does not leave it behind).
    """
    size_list, method_list = _checked(sizes, methods, time_budget_s, repetitions)
    parsed = parse_dsn(dsn)
    table = _TABLE_PREFIX + secrets.token_hex(6)
    start = clock()
    # Keep a little of the budget for dropping the table and closing the connection.
    deadline = start + time_budget_s - min(0.5, 0.1 * time_budget_s)
    run = _Run(clock, deadline, repetitions, on_progress, _rows(size_list[-1]))
    run.block_s = SUSTAIN_SHARE * time_budget_s / (len(size_list) * len(method_list) * MAX_ROUNDS)
    backend: Backend | None = None
    interrupted = False
    failed: Exception | None = None
    try:
        backend = _open(parsed, table, time_budget_s)
        backend.create()
        run.sizes(backend, size_list, method_list)
        run.refine(backend, size_list, method_list)
    except KeyboardInterrupt:
        if not keep_on_interrupt:
            raise  # after the finally below has dropped the table
        interrupted = True
    except Exception as exc:
        if backend is None or not isinstance(exc, backend.errors):
            raise
        failed = exc
    finally:
        if backend is not None:
            with _signals_held():
                backend.close()
            # Said at once when an interrupt ends the run (it carries no notes; a failure's
            # message says it below).
            left = getattr(backend, "left_behind", None)
            if left and failed is None and on_progress is not None:
                on_progress(left)
    if failed is not None:
        left = getattr(backend, "left_behind", None)
        raise MeasurementError(
            f"the database failed: {parsed.scrub(failed)}" + (f"; {left}" if left else ""),
            source=parsed.target,
        ) from None
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
        settings=tuple(getattr(backend, "settings", ())),
    )
