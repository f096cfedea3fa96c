"""Batching accuracy on a durable table: recommend a batch size for a target against the local
PostgreSQL (`design-batching --measure`), then measure the throughput at that batch size and method
independently of the tool; print predicted / measured per run (goal: within 15 % in every run).

The measurement is a plain psycopg loop written here, not the tool's trial code: its own regular
(WAL-logged) table, `tpx_bench_accuracy_<random>`, created at the start of each run and dropped at
its end; batches of the recommended size inserted back to back with the recommended method, one
commit each (so each pays the WAL flush), for `--seconds`; measured = rows / elapsed. The server's
synchronous_commit, fsync, wal_sync_method and commit_delay are printed: they decide what a commit
costs.

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
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql

from throughput_expert import design_batching

GOAL = 0.15
SETTINGS = ("synchronous_commit", "fsync", "wal_sync_method", "commit_delay")


def recommend(dsn: str, target: float) -> tuple[str, int, float, int]:
    report = design_batching(
        "database-insert", target_throughput=target, measure=dsn, measure_budget="15s"
    ).to_dict()
    a = report["analysis"]
    return a["method"], a["batch_size"], a["expected_throughput_rps"], a.get("concurrency", 1)


def rows(count: int) -> list[tuple[int, str, datetime]]:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    payload = "x" * 100
    return [(i, payload, start + timedelta(seconds=i)) for i in range(count)]


def measure(dsn: str, method: str, size: int, seconds: float) -> tuple[float, int]:
    """Rows per second inserting back-to-back batches of ``size`` with ``method`` into a durable
    table of our own, one commit per batch; and how many batches that was."""
    table = sql.Identifier(f"tpx_bench_accuracy_{secrets.token_hex(6)}")
    batch = rows(size)
    flat = [v for row in batch for v in row]
    insert = sql.SQL("INSERT INTO {} (id, payload, created) VALUES (%s, %s, %s)").format(table)
    values = sql.SQL(", ").join([sql.SQL("(%s, %s, %s)")] * size)
    multirow = sql.SQL("INSERT INTO {} (id, payload, created) VALUES {}").format(table, values)
    copy = sql.SQL("COPY {} (id, payload, created) FROM STDIN").format(table)
    with psycopg.connect(dsn, application_name="tpx-bench-accuracy") as conn:
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

            for _ in range(20):  # warm up: connection, prepared statements, the table's pages
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
        found = dict(
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
    for i in range(args.runs):
        method, size, predicted, workers = recommend(dsn, args.target)
        # the prediction is per writer: one connection here, as in the trial
        per_writer = predicted / max(1, workers)
        measured, batches = measure(dsn, method, size, args.seconds)
        ratio = per_writer / measured
        ratios.append(ratio)
        print(
            f"run {i + 1}: {method} batches of {size} (writers {workers}): predicted "
            f"{per_writer:,.0f} rows/s per writer, measured {measured:,.0f} rows/s "
            f"({batches} batches in {args.seconds:g} s, durable table), predicted/measured "
            f"{ratio:.3f} {'ok' if abs(ratio - 1) <= GOAL else 'OFF'}"
        )
    within = sum(abs(r - 1) <= GOAL for r in ratios)
    print(f"median predicted/measured: {statistics.median(ratios):.3f}")
    print(
        f"goal within {GOAL:.0%} in {len(ratios)} of {len(ratios)} runs: "
        f"{within} of {len(ratios)}: {'met' if within == len(ratios) else 'not met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
