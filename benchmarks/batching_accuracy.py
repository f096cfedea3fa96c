"""Batching accuracy on a durable table: recommend a batch size for a target against the local
PostgreSQL (`design-batching --measure`), then measure the throughput at that batch size and method
independently of the tool; print predicted / measured per run (goal: within 15 % in every run).

The measurement is a plain psycopg loop written here, not the tool's trial code: one connection
kept for the whole benchmark (a production writer's is long-lived), its own regular (WAL-logged)
table, `tpx_bench_accuracy_<random>`, created for each measurement and dropped at its end; batches
of the recommended size inserted back to back with the recommended method, one commit each (so
each pays the WAL flush), the first 0.5 s not counted; measured = rows / elapsed. The server's
synchronous_commit, fsync, wal_sync_method and commit_delay are printed: they decide what a commit
costs.

Side by side: on a shared machine what a commit costs drifts by multiples within a minute (other
work's disk flushes), so the measurement straddles the trial whose prediction it checks — half of
`--seconds` just before the trial, half just after — and both see the same conditions to first
order. The batch size and method measured are the tool's recommendation from the run before (the
first run's from a warm-up trial, not scored); the prediction is the trial's own cost model of that
method at that size, X(b) = b / (c0 + c1·b), per writer.

Needs a PostgreSQL: `TPX_POSTGRES_DSN` (scripts/services start writes it to .services/env), e.g.
    bash scripts/services start && . .services/env && python benchmarks/batching_accuracy.py
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

from throughput_expert import design_batching

GOAL = 0.15
WARMUP_S = 0.5  # of batches before each measurement starts counting
SETTINGS = ("synchronous_commit", "fsync", "wal_sync_method", "commit_delay")


@dataclass(frozen=True)
class Trial:
    """A trial's recommendation and its cost model of every method (c0, c1 in seconds)."""

    method: str
    size: int | None  # None: no batch size meets the target
    models: dict[str, tuple[float, float]]

    def predict(self, method: str, size: int) -> float:
        """Rows per second per writer the trial predicts for ``method`` at ``size``."""
        c0, c1 = self.models[method]
        return size / (c0 + c1 * size)


def trial(dsn: str, target: float) -> Trial:
    # the trial as a user runs it: the default --measure-budget
    report = design_batching("database-insert", target_throughput=target, measure=dsn).to_dict()
    a = report["analysis"]
    models = {m["method"]: (m["c0_ms"] / 1e3, m["c1_ms"] / 1e3) for m in a["methods"] or ()}
    return Trial(a["method"], a["batch_size"], models)


def rows(count: int) -> list[tuple[int, str, datetime]]:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    payload = "x" * 100
    return [(i, payload, start + timedelta(seconds=i)) for i in range(count)]


def measure(
    conn: psycopg.Connection[Any], method: str, size: int, seconds: float
) -> tuple[float, int]:
    """Rows per second inserting back-to-back batches of ``size`` with ``method`` into a durable
    table of our own, one commit per batch, over ``conn`` (the benchmark's one writer, as a
    production writer keeps its connection); and how many batches that was. The first
    ``WARMUP_S`` of batches are not counted (the new table's first pages, prepared statements)."""
    table = sql.Identifier(f"tpx_bench_accuracy_{secrets.token_hex(6)}")
    batch = rows(size)
    flat = [v for row in batch for v in row]
    insert = sql.SQL("INSERT INTO {} (id, payload, created) VALUES (%s, %s, %s)").format(table)
    values = sql.SQL(", ").join([sql.SQL("(%s, %s, %s)")] * size)
    multirow = sql.SQL("INSERT INTO {} (id, payload, created) VALUES {}").format(table, values)
    copy = sql.SQL("COPY {} (id, payload, created) FROM STDIN").format(table)
    conn.execute(
        sql.SQL("CREATE TABLE {} (id bigint, payload text, created timestamptz)").format(table)
    )
    conn.commit()
    try:
        cur = conn.cursor()

        def one() -> None:
            if method == "copy":
                with cur.copy(copy) as out:
                    for row in batch:
                        out.write_row(row)
            elif method == "multirow":
                cur.execute(multirow, flat)
            elif method == "executemany":
                cur.executemany(insert, batch)
            else:  # single
                for row in batch:
                    cur.execute(insert, row)
            conn.commit()

        warm = time.perf_counter() + WARMUP_S
        while time.perf_counter() < warm:
            one()
        done = 0
        start = time.perf_counter()
        end = start + seconds
        while (now := time.perf_counter()) < end:
            one()
            done += 1
        return done * size / (now - start), done
    finally:
        conn.rollback()
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
        conn.commit()


def server_settings(dsn: str) -> str:
    with psycopg.connect(dsn) as conn:
        found: dict[str, str] = dict(
            conn.execute(
                "SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name = ANY(%s)",
                [list(SETTINGS)],
            ).fetchall()
        )
    return ", ".join(f"{name} = {found.get(name, '?')}" for name in SETTINGS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", type=float, default=50_000, help="rows per second")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0, help="of each measurement")
    args = parser.parse_args()
    dsn = os.environ.get("TPX_POSTGRES_DSN")
    if not dsn:
        print(
            "TPX_POSTGRES_DSN is not set: run `bash scripts/services start && "
            ". .services/env` first",
            file=sys.stderr,
        )
        return 2
    print(f"server: {server_settings(dsn)}")
    ratios = []
    previous = trial(dsn, args.target)  # warm-up: the first run's batch size and method
    writer = psycopg.connect(dsn, application_name="tpx-bench-accuracy")
    for i in range(args.runs):
        method, size = previous.method, previous.size
        if size is None:
            print(f"run {i + 1}: the trial before recommended no batch size: OFF")
            ratios.append(float("nan"))
            previous = trial(dsn, args.target)
            continue
        before, n_before = measure(writer, method, size, args.seconds / 2)
        current = trial(dsn, args.target)
        after, n_after = measure(writer, method, size, args.seconds / 2)
        # the prediction is per writer: one connection here, as in the trial
        if method not in current.models:
            print(f"run {i + 1}: the trial gave no cost model of {method}: OFF")
            ratios.append(float("nan"))
            previous = current
            continue
        predicted = current.predict(method, size)
        batches = n_before + n_after
        measured = batches * size / (n_before * size / before + n_after * size / after)
        ratio = predicted / measured
        ratios.append(ratio)
        print(
            f"run {i + 1}: {method} batches of {size}: predicted {predicted:,.0f} rows/s per "
            f"writer, measured {measured:,.0f} rows/s ({before:,.0f} before the trial, "
            f"{after:,.0f} after; {batches} batches in {args.seconds:g} s, durable table), "
            f"predicted/measured {ratio:.3f} {'ok' if abs(ratio - 1) <= GOAL else 'OFF'} "
            f"(this trial recommends {current.method} batches of {current.size})"
        )
        previous = current
    writer.close()
    within = sum(abs(r - 1) <= GOAL for r in ratios)  # NaN (no model) is never within
    print(f"median predicted/measured: {statistics.median(ratios):.3f}")
    print(
        f"goal within {GOAL:.0%} in {len(ratios)} of {len(ratios)} runs: "
        f"{within} of {len(ratios)}: {'met' if within == len(ratios) else 'not met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
