"""A real pipeline on this machine: one producer, a bounded queue, N consumer processes writing
to PostgreSQL.

- The **producer** puts id ranges ``(first, count)`` on a bounded ``multiprocessing.Queue``: a
  chunk of ``count`` items per put, so it is never the bottleneck at full load. Unbounded (the
  queue stays full, the consumers are always busy) or open loop at ``rate`` items/s (chunk k is
  due at start + k·count / rate; it falls behind only when the queue is full).
- Each **consumer** is a process with its own connection (psycopg 3, TCP to the DSN's host). It
  takes up to ``batch`` items (waiting at most ``linger_s`` after the first for the rest), gives
  each its pre-generated payload (a few hundred bytes), and writes them with one statement and
  one commit per batch into a durable table (logged, not TEMP or UNLOGGED; synchronous_commit as
  the server has it). The same statement serves every batch size (``INSERT ... SELECT FROM
  unnest(ids, payloads)``), so batch size is the only thing a batch change changes.
- **Counters** live in shared memory, one row per consumer (one writer each): items committed,
  calls (commits), nanoseconds in the statement and in the commit, and its backend's pid.
- Everything stops by itself: each process exits at ``deadline`` (monotonic) at the latest.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import queue as queue_mod
import random
import string
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.sharedctypes import RawArray
from multiprocessing.synchronize import Event
from typing import Any

__all__ = [
    "FIELDS",
    "Config",
    "Pipeline",
    "Totals",
    "create_table",
    "drop_table",
    "other_clients",
]

# one row of counters per consumer
FIELDS = ("items", "calls", "statement_ns", "commit_ns", "backend_pid")
_N = len(FIELDS)
_FULL_LOAD_CHUNK = 16  # items per put when unbounded
_PAYLOADS = 64


@dataclass(frozen=True)
class Config:
    workers: int
    batch: int
    rate: float | None = None
    """Items per second offered (open loop); None: unbounded, the consumers always busy."""

    @property
    def linger_s(self) -> float:
        """How long a consumer waits after its first item for a full batch: at full load the
        queue is never empty; in open loop, long enough for ``batch`` arrivals per consumer."""
        if self.rate is None or self.batch == 1:
            return 0.05
        return min(1.0, max(0.02, 1.5 * self.batch * self.workers / self.rate))

    @property
    def chunk(self) -> int:
        if self.rate is None:
            return _FULL_LOAD_CHUNK
        return max(1, min(_FULL_LOAD_CHUNK, round(self.rate / 500)))

    def __str__(self) -> str:
        load = "full load" if self.rate is None else f"open loop at {self.rate:,.0f} items/s"
        return f"{self.workers} consumer(s), batch {self.batch}, {load}"


@dataclass(frozen=True)
class Totals:
    """The counters summed over the consumers."""

    items: int
    calls: int
    statement_s: float
    commit_s: float


def create_table(dsn: str, table: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.execute(
            f"CREATE TABLE {table} (id bigint PRIMARY KEY, worker integer NOT NULL, "
            "payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
        )
        row = conn.execute(
            "SELECT relpersistence FROM pg_class WHERE oid = %s::regclass", (table,)
        ).fetchone()
        if row is None or row[0] != "p":  # p: permanent (logged); u: unlogged; t: temporary
            raise RuntimeError(f"{table} is not a durable table (relpersistence {row})")


def drop_table(dsn: str, table: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}")


def other_clients(dsn: str, ours: list[int]) -> list[int]:
    """The server's client backends that are not ``ours`` (other programs' sessions, and this
    query's own): their CPU serves other calls."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' "
            "AND NOT (pid = ANY(%s))",
            (ours,),
        ).fetchall()
    return [int(r[0]) for r in rows]


def _payloads(seed: int) -> list[str]:
    rng = random.Random(seed)
    letters = string.ascii_letters + string.digits + " "
    return ["".join(rng.choices(letters, k=rng.randint(200, 400))) for _ in range(_PAYLOADS)]


def _producer(
    q: Any, config: Config, first_id: int, stop: Event, deadline: float
) -> None:  # pragma: no cover - runs in a child process
    q.cancel_join_thread()  # never hang at exit on items left in the queue
    chunk, rate = config.chunk, config.rate
    start = time.monotonic()
    sent = 0
    while not stop.is_set() and time.monotonic() < deadline:
        if rate is not None:
            wait = start + sent / rate - time.monotonic()
            if wait > 0:
                time.sleep(min(wait, 0.1))
                continue
        try:
            q.put((first_id + sent, chunk), timeout=0.1)
        except queue_mod.Full:
            continue
        sent += chunk


def _take(
    buffer: deque[int], q: Any, batch: int, linger: float, stop: Event
) -> list[int]:  # pragma: no cover - runs in a child process
    """Up to ``batch`` items: wait for the first, then at most ``linger`` for the rest."""
    due: float | None = None
    while len(buffer) < batch:
        now = time.monotonic()
        if buffer and due is None:
            due = now + linger
        wait = 0.1 if due is None else due - now
        if wait <= 0:
            break
        try:
            first, count = q.get(timeout=min(wait, 0.1))
        except queue_mod.Empty:
            if stop.is_set():
                break
            continue
        buffer.extend(range(first, first + count))
    return [buffer.popleft() for _ in range(min(batch, len(buffer)))]


def _consumer(
    index: int,
    dsn: str,
    table: str,
    config: Config,
    q: Any,
    counters: Any,
    stop: Event,
    deadline: float,
) -> None:  # pragma: no cover - runs in a child process
    import psycopg

    payloads = _payloads(index)
    row = index * _N
    sql = (
        f"INSERT INTO {table} (id, worker, payload) "
        "SELECT i, %s, p FROM unnest(%s::bigint[], %s::text[]) AS t(i, p)"
    )
    with psycopg.connect(dsn, autocommit=False, connect_timeout=10) as conn:
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()
        conn.commit()
        counters[row + 4] = pid[0] if pid else 0
        buffer: deque[int] = deque()
        while not stop.is_set() and time.monotonic() < deadline:
            ids = _take(buffer, q, config.batch, config.linger_s, stop)
            if not ids:
                continue
            texts = [payloads[i % _PAYLOADS] for i in ids]
            t0 = time.perf_counter_ns()
            conn.execute(sql, (index, ids, texts))
            t1 = time.perf_counter_ns()
            conn.commit()
            t2 = time.perf_counter_ns()
            counters[row] += len(ids)
            counters[row + 1] += 1
            counters[row + 2] += t1 - t0
            counters[row + 3] += t2 - t1


class Pipeline:
    """Producer, queue and consumers for one configuration; a context manager."""

    def __init__(
        self, dsn: str, table: str, config: Config, first_id: int, max_runtime_s: float = 120
    ) -> None:
        self.dsn, self.table, self.config = dsn, table, config
        ctx = mp.get_context("fork")
        self._ctx = ctx
        self._queue: Any = ctx.Queue(maxsize=max(8, 4 * config.workers))
        self._stop = ctx.Event()
        self._counters: Any = RawArray("q", _N * config.workers)
        deadline = time.monotonic() + max_runtime_s
        self.producer = ctx.Process(
            target=_producer,
            args=(self._queue, config, first_id, self._stop, deadline),
            daemon=True,
        )
        self.consumers = [
            ctx.Process(
                target=_consumer,
                args=(i, dsn, table, config, self._queue, self._counters, self._stop, deadline),
                daemon=True,
            )
            for i in range(config.workers)
        ]

    def __enter__(self) -> Pipeline:
        for p in self.consumers:
            p.start()
        until = time.monotonic() + 20
        while not all(self.backend_pids()):
            if time.monotonic() > until or any(p.exitcode is not None for p in self.consumers):
                self.close()
                raise RuntimeError("the consumers could not connect to PostgreSQL")
            time.sleep(0.02)
        self.producer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        procs = [self.producer, *self.consumers]
        until = time.monotonic() + 10
        for p in procs:
            if p.pid is not None:
                p.join(max(0.0, until - time.monotonic()))
        for p in procs:
            if p.pid is not None and p.exitcode is None:
                p.terminate()
                p.join(2)
        with contextlib.suppress(Exception):
            self._queue.close()
            self._queue.cancel_join_thread()

    def backend_pids(self) -> list[int]:
        return [int(self._counters[i * _N + 4]) for i in range(self.config.workers)]

    def pids(self) -> dict[str, list[int]]:
        """Our processes: the producer's and the consumers'."""
        return {
            "producer": [p for p in [self.producer.pid] if p is not None],
            "consumers": [p.pid for p in self.consumers if p.pid is not None],
        }

    def alive(self) -> bool:
        return all(p.exitcode is None for p in self.consumers)

    def totals(self) -> Totals:
        c = self._counters
        rows = range(self.config.workers)
        return Totals(
            items=sum(int(c[i * _N]) for i in rows),
            calls=sum(int(c[i * _N + 1]) for i in rows),
            statement_s=sum(int(c[i * _N + 2]) for i in rows) / 1e9,
            commit_s=sum(int(c[i * _N + 3]) for i in rows) / 1e9,
        )
