"""Batch trials: timed inserts of batches of rows into a real database, by method and size.

``measure.batch_trials`` produces them; the batching advisor fits T(b) = c0 + c1·b to each
method's latencies (``laws.batching.fit_cost_model``). Times are in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from throughput_expert.redact import redact_dsn

__all__ = ["BatchTrial", "BatchTrials", "CallCost", "Dialect"]

Dialect = Literal["postgresql", "sqlite"]


@dataclass(frozen=True)
class CallCost:
    """One timed call that carried ``batch_size`` items: its latency (the time a worker waits
    for it), and, where measured, the CPU time every process serving it spent (client and
    database) and the disk's busy time it took."""

    batch_size: float
    latency_s: float
    cpu_s: float | None = None
    disk_s: float | None = None


@dataclass(frozen=True)
class BatchTrial:
    """One method at one batch size: a latency per timed repetition of one batch, repetitions
    back to back (each timed from the end of the one before), so their mean is the sustained
    time per batch.

    Each latency covers inserting ``batch_size`` rows and the commit that ends the batch (the
    commit is part of the fixed cost per batch, c0).
    """

    method: str
    batch_size: int
    latencies_s: tuple[float, ...]


@dataclass(frozen=True)
class BatchTrials:
    """Every trial of one run against one database.

    ``target`` is the DSN with any password masked (masked again here, whoever built it).
    ``row_bytes`` is the data sent per row (an 8-byte id, the payload, an 8-byte timestamp).
    ``interrupted`` is True when Ctrl-C stopped a run asked to keep what it had measured
    (``run_batch_trials(keep_on_interrupt=True)``; by default the interrupt is raised again).
    ``notes`` say what was skipped and why. ``settings`` are the server's settings that decide
    what a commit waits for (PostgreSQL: ``synchronous_commit``, ``fsync``,
    ``wal_sync_method``, ``commit_delay``; SQLite: ``journal_mode``, ``synchronous``), as read
    during the run, in that order; empty when they could not be read.
    """

    target: str
    dialect: Dialect
    trials: tuple[BatchTrial, ...]
    row_bytes: int
    duration_s: float
    interrupted: bool
    notes: tuple[str, ...]
    settings: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.dialect != "sqlite":  # a file path may hold an '@' that is no password's end
            object.__setattr__(self, "target", redact_dsn(self.target))

    def by_method(self) -> dict[str, list[BatchTrial]]:
        """The trials grouped by method, in run order, each list sorted by batch size."""
        out: dict[str, list[BatchTrial]] = {}
        for trial in self.trials:
            out.setdefault(trial.method, []).append(trial)
        for trials in out.values():
            trials.sort(key=lambda t: t.batch_size)
        return out
