"""Timed trial inserts into a real database, by batch size and method (``tpx design-batching
--measure DSN``).

Each timed repetition inserts one batch of ``b`` small rows and commits, so its latency is one
sample of T(b) = c0 + c1·b (``laws.batching``): the commit and round trips are the fixed cost c0,
the rows the per-item cost c1. The trials write only to a table of their own,
``tpx_batch_trial_<random>``: a TEMPORARY table in PostgreSQL (it dies with the session), a real
table in the SQLite file; it is dropped at the end whatever happens. The run stays within its time
budget by estimating each block from the sizes already measured and skipping what would not fit
(said in the notes); Ctrl-C stops it at once and returns what was measured, ``interrupted=True``.

Methods: ``single`` (one INSERT per row, one commit per batch), ``executemany``, ``multirow`` (one
INSERT with a VALUES list) and, in PostgreSQL only, ``copy`` (COPY FROM STDIN).
"""

from __future__ import annotations

import math
import random
import re
import secrets
import sqlite3
import statistics
import string
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol
from urllib.parse import parse_qsl, quote, unquote, urlencode

from throughput_expert.errors import InputError, MeasurementError
from throughput_expert.model.trials import BatchTrial, BatchTrials, Dialect

if TYPE_CHECKING:
    import psycopg
    from psycopg.rows import TupleRow

__all__ = ["DEFAULT_METHODS", "DEFAULT_SIZES", "METHODS", "PAYLOAD_BYTES", "run_batch_trials"]

METHODS = ("single", "executemany", "multirow", "copy")
DEFAULT_METHODS = METHODS
DEFAULT_SIZES = (1, 10, 50, 100, 500, 1000)
PAYLOAD_BYTES = 100
ROW_BYTES = 8 + PAYLOAD_BYTES + 8  # bigint id, text payload, timestamptz
SEED = 1729  # fixed: every run inserts the same rows
WARMUP_ROWS = 10  # enough executions for psycopg to prepare a repeated statement (threshold 5)
SAFETY = 1.25  # estimates of a block's time are stretched by this before checking the budget

_SOURCE = "--measure"
_TABLE_PREFIX = "tpx_batch_trial_"
_COLUMNS = "(id, payload, created)"
_PG_CREATE = "CREATE TEMPORARY TABLE {} (id bigint, payload text, created timestamptz)"

Row = tuple[int, str, datetime]
Job = Callable[[], None]


class _Backend(Protocol):
    """One open database with the trial table created: what the runner needs of it."""

    dialect: Dialect
    errors: tuple[type[Exception], ...]
    notes: list[str]

    def create(self) -> None:
        """Create the trial table."""

    def supports(self, method: str, size: int) -> str | None:
        """None when ``method`` can insert ``size`` rows at once, else why not."""

    def prepare(self, method: str, rows: Sequence[Row]) -> Job:
        """A job that inserts ``rows`` with ``method`` and commits (the part that is timed)."""

    def reset(self) -> None:
        """Empty the trial table (between sizes)."""

    def close(self) -> None:
        """Drop the trial table and close the connection; never raises a database error."""


# --- the DSN ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Dsn:
    dsn: str
    target: str  # the DSN without its password
    dialect: Dialect
    hidden: tuple[str, ...]  # strings that must never reach a message
    path: str = ""  # SQLite only

    def scrub(self, text: object) -> str:
        """``text`` on one line with every hidden string masked."""
        out = str(text)
        for secret in self.hidden:
            out = out.replace(secret, "***")
        return " ".join(out.split())


def _parse_dsn(dsn: str) -> _Dsn:
    scheme, sep, rest = dsn.partition("://")
    # SQLAlchemy's forms: sqlite:///relative.db, sqlite:////absolute.db, sqlite:///:memory:
    if scheme.lower() == "sqlite" and rest.startswith("/") and len(rest) > 1:
        return _Dsn(dsn=dsn, target=dsn, dialect="sqlite", hidden=(), path=rest[1:])
    if sep and scheme.lower() in ("postgresql", "postgres"):
        return _parse_postgres(dsn, scheme, rest)
    # Name the scheme only when it is one: a malformed DSN may hold a password anywhere.
    named = f"{scheme}://" if sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme) else "this"
    raise InputError(
        f"cannot measure {named} DSN: expected postgresql://user@host:port/dbname, "
        "sqlite:///path or sqlite:///:memory:",
        source=_SOURCE,
        field="dsn",
    )


def _parse_postgres(dsn: str, scheme: str, rest: str) -> _Dsn:
    netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
    tail = rest[len(netloc) :]
    userinfo, at, hosts = netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    path, question, query = tail.partition("?")
    params = parse_qsl(query, keep_blank_values=True)
    hidden = [password] + [v for k, v in params if k == "password"]
    kept = [(k, v) for k, v in params if k != "password"]
    target = f"{scheme}://{user + '@' if at else ''}{hosts}{path}"
    target += f"?{urlencode(kept)}" if question and kept else ""
    hidden += [unquote(s) for s in hidden] + [quote(s, safe="") for s in hidden]
    # Longest first, so a secret is masked whole before any shorter form inside it.
    masks = tuple(sorted({s for s in hidden if s}, key=len, reverse=True))
    return _Dsn(dsn=dsn, target=target, dialect="postgresql", hidden=masks)


# --- PostgreSQL (psycopg 3) ---------------------------------------------------------------------


class _Postgres:
    dialect: Dialect = "postgresql"

    def __init__(self, conn: psycopg.Connection[TupleRow], table: str) -> None:
        import psycopg
        from psycopg import sql

        self.errors: tuple[type[Exception], ...] = (psycopg.Error,)
        self._conn, self._sql = conn, sql
        self._table = sql.Identifier("pg_temp", table)  # never a permanent table of that name
        self._insert = sql.SQL("INSERT INTO {} " + _COLUMNS + " VALUES (%s, %s, %s)").format(
            self._table
        )
        version = conn.info.server_version
        self.notes = [
            f"PostgreSQL {version // 10000}.{version % 10000} at {conn.info.host}; a TEMPORARY "
            "table: its rows are not WAL-logged, so its commits skip the WAL flush that a "
            "permanent table's commit waits for (c0 here is a lower bound)"
        ]

    def create(self) -> None:
        self._conn.execute(self._sql.SQL(_PG_CREATE).format(self._table))
        self._conn.commit()

    def supports(self, method: str, size: int) -> str | None:
        if method == "multirow" and 3 * size > 65535:  # the protocol's limit on parameters
            return "PostgreSQL takes at most 65535 parameters in one statement"
        return None

    def prepare(self, method: str, rows: Sequence[Row]) -> Job:
        conn, cur = self._conn, self._conn.cursor()

        def single() -> None:
            for row in rows:
                cur.execute(self._insert, row)
            conn.commit()

        def executemany() -> None:
            cur.executemany(self._insert, rows)  # psycopg 3 pipelines it
            conn.commit()

        values = self._sql.SQL(", ").join([self._sql.SQL("(%s, %s, %s)")] * len(rows))
        multirow_sql = self._sql.SQL("INSERT INTO {} " + _COLUMNS + " VALUES {}")
        multirow_query = multirow_sql.format(self._table, values)
        flat = [value for row in rows for value in row]

        def multirow() -> None:
            cur.execute(multirow_query, flat)
            conn.commit()

        copy_sql = self._sql.SQL("COPY {} " + _COLUMNS + " FROM STDIN").format(self._table)

        def copy() -> None:
            with cur.copy(copy_sql) as out:
                for row in rows:
                    out.write_row(row)
            conn.commit()

        jobs = {"single": single, "executemany": executemany, "multirow": multirow, "copy": copy}
        return jobs[method]

    def reset(self) -> None:
        self._conn.execute(self._sql.SQL("TRUNCATE {}").format(self._table))
        self._conn.commit()

    def close(self) -> None:
        try:
            self._conn.rollback()
            self._conn.execute(self._sql.SQL("DROP TABLE IF EXISTS {}").format(self._table))
            self._conn.commit()
        except self.errors:
            pass  # closing the session drops a temporary table anyway
        finally:
            self._conn.close()


def _open_postgres(dsn: _Dsn, table: str, budget_s: float) -> _Postgres:
    try:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict
    except ImportError:
        raise MeasurementError(
            "psycopg is not installed: pip install 'throughput-expert[postgres]'", source=dsn.target
        ) from None
    try:
        given = conninfo_to_dict(dsn.dsn)
    except psycopg.Error as exc:
        raise InputError(dsn.scrub(exc), source=_SOURCE, field="dsn") from None
    timeout = given.get("connect_timeout", max(2, int(budget_s / 5)))  # the DSN's own wins
    try:
        conn = psycopg.connect(
            dsn.dsn, application_name="tpx-batch-trials", connect_timeout=timeout
        )
    except psycopg.Error as exc:
        raise MeasurementError(f"cannot connect: {dsn.scrub(exc)}", source=dsn.target) from None
    return _Postgres(conn, table)


# --- SQLite (stdlib sqlite3) --------------------------------------------------------------------


class _Sqlite:
    dialect: Dialect = "sqlite"
    errors: tuple[type[Exception], ...] = (sqlite3.Error,)

    def __init__(self, conn: sqlite3.Connection, table: str, memory: bool) -> None:
        self._conn, self._table = conn, f'"{table}"'  # our own name: hex digits, no quoting issue
        self._insert = f"INSERT INTO {self._table} {_COLUMNS} VALUES (?, ?, ?)"
        self._max_rows = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // 3
        self._memory = memory
        self.notes: list[str] = []

    def create(self) -> None:
        # The first statements: a file that is not a database fails here, as a MeasurementError.
        journal = self._conn.execute("PRAGMA journal_mode").fetchone()[0]
        synchronous = self._conn.execute("PRAGMA synchronous").fetchone()[0]
        self.notes.append(
            f"SQLite {sqlite3.sqlite_version}, journal_mode = {journal}, synchronous = "
            f"{synchronous}" + (" (in memory: commits touch no disk)" if self._memory else "")
        )
        self._conn.execute(f"CREATE TABLE {self._table} (id INTEGER, payload TEXT, created TEXT)")

    def supports(self, method: str, size: int) -> str | None:
        if method == "copy":
            return "SQLite has no COPY"
        if method == "multirow" and size > self._max_rows:
            return f"SQLite takes at most {3 * self._max_rows} parameters in one statement"
        return None

    def prepare(self, method: str, rows: Sequence[Row]) -> Job:
        conn = self._conn
        params = [(i, payload, created.isoformat()) for i, payload, created in rows]

        def single() -> None:
            conn.execute("BEGIN")
            for row in params:
                conn.execute(self._insert, row)
            conn.execute("COMMIT")

        def executemany() -> None:
            conn.execute("BEGIN")
            conn.executemany(self._insert, params)
            conn.execute("COMMIT")

        query = f"INSERT INTO {self._table} {_COLUMNS} VALUES " + ", ".join(
            ["(?, ?, ?)"] * len(rows)
        )
        flat = [value for row in params for value in row]

        def multirow() -> None:
            conn.execute("BEGIN")
            conn.execute(query, flat)
            conn.execute("COMMIT")

        return {"single": single, "executemany": executemany, "multirow": multirow}[method]

    def reset(self) -> None:
        self._conn.execute(f"DELETE FROM {self._table}")

    def close(self) -> None:
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            self._conn.execute(f"DROP TABLE IF EXISTS {self._table}")
        except sqlite3.Error:
            pass
        finally:
            self._conn.close()


def _open_sqlite(dsn: _Dsn, table: str) -> _Sqlite:
    memory = dsn.path == ":memory:"
    # mode=rw: measure an existing database file, never create one from a typo.
    uri = "file::memory:" if memory else f"file:{quote(dsn.path)}?mode=rw"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=5.0)
    except sqlite3.Error as exc:
        raise MeasurementError(f"cannot open the database file: {exc}", source=dsn.target) from None
    return _Sqlite(conn, table, memory)


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
    spent: bool = False  # the deadline has passed: skip the rest without touching the database

    def sizes(self, backend: _Backend, sizes: Sequence[int], methods: Sequence[str]) -> None:
        for index, size in enumerate(sizes):
            if index and not self.spent:
                backend.reset()
            # Cheapest first: when the budget runs short, the dearest method gives way.
            for method in sorted(methods, key=lambda m: self._expected(m, size) or 0.0):
                self._block(backend, method, size)

    def _expected(self, method: str, size: int) -> float | None:
        return _estimate(self.medians.get(method, {}), size)

    def _block(self, backend: _Backend, method: str, size: int) -> None:
        if why := backend.supports(method, size):
            self.unsupported.setdefault(f"{method} ({why})", []).append(size)
            return
        runs = self._runs_that_fit(method, size)
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

    def _runs_that_fit(self, method: str, size: int) -> int:
        """How many timed repetitions fit before the deadline (a warm-up counts as one)."""
        left = 0.0 if self.spent else self.deadline - self.clock()
        self.spent = left <= 0
        expected = self._expected(method, size)
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
        return notes


def _sizes(sizes: list[int]) -> str:
    return ", ".join(str(b) for b in sizes)


def _checked(
    sizes: Sequence[int], methods: Sequence[str], time_budget_s: float, repetitions: int
) -> tuple[list[int], list[str]]:
    if not sizes or any(isinstance(b, bool) or not isinstance(b, int) or b < 1 for b in sizes):
        raise InputError(
            f"batch sizes must be whole numbers >= 1, got {list(sizes)!r}",
            source=_SOURCE,
            field="sizes",
        )
    if not methods or (unknown := [m for m in methods if m not in METHODS]):
        raise InputError(
            f"unknown method(s) {unknown if methods else []!r}: choose from {', '.join(METHODS)}",
            source=_SOURCE,
            field="methods",
        )
    if not math.isfinite(time_budget_s) or time_budget_s <= 0:
        raise InputError(
            f"must be a time > 0 s, got {time_budget_s!r}", source=_SOURCE, field="time_budget_s"
        )
    if isinstance(repetitions, bool) or not isinstance(repetitions, int) or repetitions < 1:
        raise InputError(
            f"must be a whole number >= 1, got {repetitions!r}", source=_SOURCE, field="repetitions"
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
    parsed = _parse_dsn(dsn)
    table = _TABLE_PREFIX + secrets.token_hex(6)
    start = clock()
    # Keep a little of the budget for dropping the table and closing the connection.
    deadline = start + time_budget_s - min(0.5, 0.1 * time_budget_s)
    run = _Run(clock, deadline, repetitions, on_progress, _rows(size_list[-1]))
    backend: _Backend | None = None
    interrupted = False
    try:
        if parsed.dialect == "postgresql":
            backend = _open_postgres(parsed, table, time_budget_s)
        else:
            backend = _open_sqlite(parsed, table)
        backend.create()
        run.sizes(backend, size_list, method_list)
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
