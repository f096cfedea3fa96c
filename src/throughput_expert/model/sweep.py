"""A load sweep: throughput (and latency) measured at rising load levels; a level may be measured
more than once (its readings are repeats: the noise is estimated from them).

``level`` is ``concurrency`` (work in flight: threads, connections, virtual users) or
``instances`` (scale-out units). Its file forms are in docs/formats.md §5.1 (``sources/sweep.py``).

A level whose error share passed the error threshold is no throughput: an import keeps it in
``Sweep.failed``, out of ``levels``, so no fit, peak or best level is taken from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from throughput_expert.model.records import InputRef, Latency

__all__ = ["FailedLevel", "LevelKind", "Sweep", "SweepLevel", "SweepMode"]

LevelKind = Literal["concurrency", "instances"]
SweepMode = Literal["closed", "open"]


@dataclass(frozen=True)
class SweepLevel:
    level: float
    throughput_rps: float
    latency: Latency = field(default_factory=Latency)
    errors: int | None = None
    requests: int | None = None
    duration_s: float | None = None
    offered_rps: float | None = None
    # the throughput of k equal sub-windows of the measured window, when the runner gives them:
    # a noise estimate from one reading (laws/significance.py)
    window_rates: tuple[float, ...] = ()


@dataclass(frozen=True)
class FailedLevel:
    """A level measured but failed: its error share passed ``threshold`` (``--error-threshold``),
    so its rate is not throughput. ``why`` says how many requests failed and how."""

    level: SweepLevel
    error_share: float
    threshold: float
    why: str
    source: str | None = None


@dataclass(frozen=True)
class Sweep:
    level_kind: LevelKind
    mode: SweepMode
    levels: tuple[SweepLevel, ...]
    closed_loop_percentiles: bool = False
    source: InputRef | None = None
    driver: str | None = None
    target: str | None = None
    started_at: str | None = None
    notes: tuple[str, ...] = ()
    failed: tuple[FailedLevel, ...] = ()

    def points(self) -> tuple[list[float], list[float]]:
        """Levels and throughputs, in level order (repeated levels kept)."""
        ordered = sorted(self.levels, key=lambda lv: lv.level)
        return [lv.level for lv in ordered], [lv.throughput_rps for lv in ordered]
