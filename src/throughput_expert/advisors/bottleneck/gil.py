"""GIL waiting from two py-spy recordings of one run: ``--idle`` (every sample of every thread)
and ``--gil`` (only the thread holding the GIL).

Per function f: GIL wait ≈ 1 − rate_gil(f) / rate_idle(f), rates being samples per second of
each recording (py-spy#175; docs/formats.md §2.3). The waiting part of f's samples moves from its
category to ``gil``; functions already waiting (locks, I/O, sleep) do not hold the GIL anyway.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from throughput_expert.advisors.bottleneck.profile_stats import (
    FunctionKey,
    ProfileStats,
    function_name,
)
from throughput_expert.advisors.ledger import Ledger
from throughput_expert.errors import InputError
from throughput_expert.model.analysis.bottleneck import GIL_LAW, GilFunction, GilRecord
from throughput_expert.model.profile import Profile
from throughput_expert.model.units import fmt_pct

__all__ = ["GilEstimate", "gil_estimate"]

_HOLDING = ("compute", "serialization", "regex", "logging", "gc_alloc", "database")


@dataclass(frozen=True)
class GilEstimate:
    by_category: dict[str, float]
    components: dict[str, dict[FunctionKey, float]]
    waiting_weight: float
    per_function: tuple[GilFunction, ...]
    scale: float

    def record(self) -> GilRecord:
        return GilRecord(
            law=GIL_LAW,
            gil_recording_scale=self.scale,
            waiting_share=self.waiting_weight / max(sum(self.by_category.values()), 1e-300),
            functions=self.per_function,
        )


def gil_estimate(
    idle: Profile, gil: Profile | None, stats: ProfileStats, blocked_ratio: float, ledger: Ledger
) -> GilEstimate:
    """Split each GIL-holding function's samples into running, waiting for the GIL, and
    ``blocked`` (it almost never holds the GIL: a C call, not GIL contention)."""
    held = _self_by_function(gil) if gil is not None else {}
    scale = _scale(idle, gil, ledger)
    busy = _gil_busy(idle, gil, scale, ledger)
    by_category = dict(stats.by_category)
    rows: list[GilFunction] = []
    moved, blocked = 0.0, 0.0
    components: dict[str, dict[FunctionKey, float]] = {}
    for key, idle_weight in sorted(stats.self_by_function.items(), key=lambda kv: -kv[1]):
        cats = stats.leaf_categories.get(key, {})
        holding = sum(w for c, w in cats.items() if c in _HOLDING)
        if holding <= 0:
            continue
        ratio = min(1.0, held.get(key, 0.0) * scale / holding)
        to = "blocked" if ratio < blocked_ratio else "gil"
        if to == "gil":
            # a thread waits for the GIL only while another holds it: at most the share of the
            # time the GIL is held; the rest of its time off the GIL is a wait of another kind
            waiting = holding * min(1 - ratio, busy)
            rest = holding * max(0.0, (1 - ratio) - busy)
        else:
            waiting, rest = 0.0, holding
        if waiting > 0:
            _move(by_category, cats, holding, waiting, "gil")
            components.setdefault("gil", {})[key] = waiting
        if rest > 0:
            _move(by_category, cats, holding, rest, "blocked")
            components.setdefault("blocked", {})[key] = rest
        moved, blocked = moved + waiting, blocked + rest
        read_as: Literal["GIL wait", "blocked in a C call", "holding the GIL"] = (
            "holding the GIL"
            if waiting <= 0 and rest <= 0
            else "GIL wait"
            if waiting >= rest and waiting > 0
            else "blocked in a C call"
        )
        rows.append(
            GilFunction(
                function=function_name(key),
                idle_samples=idle_weight,
                gil_samples=held.get(key, 0.0),
                gil_held=ratio,
                read_as=read_as,
            )
        )
    _explain(stats, gil, scale, moved, blocked, blocked_ratio, ledger)
    return GilEstimate(by_category, components, moved, tuple(rows[:15]), scale)


def _explain(
    stats: ProfileStats,
    gil: Profile | None,
    scale: float,
    moved: float,
    blocked: float,
    blocked_ratio: float,
    ledger: Ledger,
) -> None:
    total = max(stats.total, 1e-300)
    ledger.prove(
        "gil-wait",
        f"about {fmt_pct(moved / total)} of the sampled time is threads waiting for the GIL",
        "py-spy sampling: GIL wait = 1 − gil/idle samples per function",
        {"idle_total": stats.total, "gil_total": gil.total() if gil else 0.0, "scale": scale},
        {"gil_wait_weight": moved, "blocked_weight": blocked},
    )
    if blocked > 0:
        ledger.assume(
            "functions that almost never hold the GIL are blocked in C calls",
            f"held < {fmt_pct(blocked_ratio)} of their samples",
            "py-spy shows a thread blocked in a C call (a lock, a sleep, a socket) at its Python "
            "caller's line; such a function is not running Python, so its samples are waits of "
            "another kind. A --native recording tells GIL waits (take_gil) from lock waits.",
        )


def _gil_busy(idle: Profile, gil: Profile | None, scale: float, ledger: Ledger) -> float:
    """The share of the time some thread holds the GIL: the --gil recording samples the holder
    at each tick, the --idle one every thread, so a thread alive all along has one --idle sample
    per tick (ticks = the most samples of any one thread)."""
    if gil is None or gil.total() <= 0:
        return 0.0
    per_thread: dict[str | None, float] = defaultdict(float)
    for thread, weight in zip(idle.threads, idle.weights, strict=True):
        per_thread[thread] += weight
    ticks = max(per_thread.values(), default=0.0)
    if ticks <= 0 or None in per_thread:
        return 1.0  # no threads in the file: no bound from it
    busy = min(1.0, gil.total() * scale / ticks)
    ledger.prove(
        "gil-busy",
        f"some thread holds the GIL {fmt_pct(busy)} of the time",
        "py-spy sampling: --gil samples the holder each tick, --idle every thread; a thread can "
        "wait for the GIL only while another holds it",
        {"gil_samples": gil.total(), "scale": scale, "ticks": ticks},
        {"gil_busy": busy},
    )
    return busy


def _move(
    by_category: dict[str, float], cats: dict[str, float], holding: float, amount: float, to: str
) -> None:
    """Move ``amount`` of a function's GIL-holding categories' weight to category ``to``."""
    for c, w in cats.items():
        if c in _HOLDING:
            by_category[c] -= amount * w / holding
    by_category[to] = by_category.get(to, 0.0) + amount


def _self_by_function(p: Profile) -> dict[FunctionKey, float]:
    out: dict[FunctionKey, float] = defaultdict(float)
    for stack, weight in zip(p.stacks, p.weights, strict=True):
        if stack:
            f = p.frames[stack[-1]]
            out[(f.name, f.file)] += weight
    return dict(out)


def _seconds(p: Profile) -> float:
    """Seconds per unit of ``p``'s weights (samples convert by the sampling period)."""
    per_unit = p.seconds_per_unit()
    if per_unit is None and p.unit == "samples" and p.sample_period_s:
        per_unit = p.sample_period_s
    if per_unit is None:
        raise InputError(
            f"cannot compare a --gil profile in {p.unit} with the --idle one",
            source=p.source.source,
        )
    return per_unit


def _scale(idle: Profile, gil: Profile | None, ledger: Ledger) -> float:
    """Weight of the gil recording per unit of the idle one: equal durations unless known."""
    if gil is None or gil.total() <= 0:
        return 1.0  # no sample held the GIL: every function reads as blocked, whatever the scale
    units = _seconds(gil) / _seconds(idle) if gil.unit != idle.unit else 1.0
    if idle.duration_s and gil.duration_s:
        return units * idle.duration_s / gil.duration_s
    ledger.assume(
        "the --idle and --gil recordings last as long as each other",
        1.0,
        "their durations are not in the files; record both with the same -d",
    )
    return units
