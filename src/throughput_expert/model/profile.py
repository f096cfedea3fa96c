"""A CPU (or wait, lock, allocation) profile read from any supported format.

A ``Profile`` is a frame table plus its unique stacks: ``stacks[i]`` holds indices into ``frames``,
root first and leaf last, and ``weights[i]`` is everything recorded for that stack on thread
``threads[i]``, in ``unit``. What the values measure (on-CPU time, wall time, GIL holding, lock
delay, ...) is ``measures``; readers say what they read and assumed in ``notes``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

from throughput_expert.errors import InputError
from throughput_expert.model.records import InputRef

__all__ = [
    "FRAME_KINDS",
    "Frame",
    "FrameKind",
    "Measures",
    "Profile",
    "ProfileUnit",
    "merge",
]

FrameKind = Literal["python", "native", "kernel", "jit", "java", "go", "js", "unknown"]
ProfileUnit = Literal[
    "samples", "seconds", "milliseconds", "microseconds", "nanoseconds", "bytes", "count"
]
Measures = Literal[
    "cpu",
    "wall",
    "gil",
    "mutex-delay",
    "block-delay",
    "contentions",
    "alloc",
    "snapshot",  # goroutine profiles and thread dumps: what each thread is doing at one instant
    "unknown",
]

FRAME_KINDS: tuple[FrameKind, ...] = get_args(FrameKind)

# Seconds per unit for the time units; two profiles in different time units still merge.
SECONDS_PER_UNIT: Mapping[str, float] = {
    "seconds": 1.0,
    "milliseconds": 1e-3,
    "microseconds": 1e-6,
    "nanoseconds": 1e-9,
}


@dataclass(frozen=True)
class Frame:
    """One function (or line) in a stack; ``file`` and ``line`` where the format gives them."""

    name: str
    file: str | None = None
    line: int | None = None
    kind: FrameKind = "unknown"


@dataclass(frozen=True)
class Profile:
    """Unique stacks (root -> leaf indices into ``frames``) with their aggregated weights."""

    frames: tuple[Frame, ...]
    stacks: tuple[tuple[int, ...], ...]
    weights: tuple[float, ...]
    threads: tuple[str | None, ...]
    unit: ProfileUnit
    measures: Measures
    format: str
    source: InputRef
    thread_names: Mapping[str, str] = field(default_factory=dict)
    idle_included: bool = False
    exporter: str | None = None
    sample_period_s: float | None = None
    duration_s: float | None = None
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not len(self.stacks) == len(self.weights) == len(self.threads):
            raise ValueError("stacks, weights and threads must have the same length")

    def total(self) -> float:
        """The sum of all weights, in ``unit``."""
        return math.fsum(self.weights)

    def seconds_per_unit(self) -> float | None:
        """How many seconds one unit is, for time units (None for samples, bytes, counts)."""
        return SECONDS_PER_UNIT.get(self.unit)


def merge(profiles: Sequence[Profile]) -> Profile:
    """One profile from several (e.g. one per process): frames shared, equal stacks summed.

    Time units convert to the first profile's unit; other units and what the values measure
    must agree, or the merge is refused with an ``InputError`` naming both files.
    """
    if not profiles:
        raise InputError(
            "no profile given: pass {profiles} FILE", field="profile", mentions=("profiles",)
        )
    if len(profiles) == 1:
        return profiles[0]
    first = profiles[0]
    for other in profiles[1:]:
        _check_mergeable(first, other)
    frames: dict[Frame, int] = {}
    totals: dict[tuple[tuple[int, ...], str | None], float] = {}
    for profile in profiles:
        _merge_into(profile, _scale(first, profile), frames, totals)
    return _merged(profiles, frames, totals)


def _check_mergeable(first: Profile, other: Profile) -> None:
    both = f"{first.source.source} and {other.source.source}"
    if first.measures != other.measures:
        raise InputError(
            f"cannot merge profiles that measure different things: {first.measures} "
            f"({first.source.source}) and {other.measures} ({other.source.source})",
            source=both,
        )
    if first.unit != other.unit and (
        first.seconds_per_unit() is None or other.seconds_per_unit() is None
    ):
        raise InputError(
            f"cannot merge profiles in different units: {first.unit} ({first.source.source}) "
            f"and {other.unit} ({other.source.source})",
            source=both,
        )


def _scale(first: Profile, other: Profile) -> float:
    if first.unit == other.unit:
        return 1.0
    return (other.seconds_per_unit() or 1.0) / (first.seconds_per_unit() or 1.0)


def _merge_into(
    profile: Profile,
    scale: float,
    frames: dict[Frame, int],
    totals: dict[tuple[tuple[int, ...], str | None], float],
) -> None:
    remap = [frames.setdefault(frame, len(frames)) for frame in profile.frames]
    for stack, weight, thread in zip(profile.stacks, profile.weights, profile.threads, strict=True):
        key = (tuple(remap[i] for i in stack), thread)
        totals[key] = totals.get(key, 0.0) + weight * scale


def _merged(
    profiles: Sequence[Profile],
    frames: dict[Frame, int],
    totals: dict[tuple[tuple[int, ...], str | None], float],
) -> Profile:
    first = profiles[0]
    names: dict[str, str] = {}
    for profile in profiles:
        for key, name in profile.thread_names.items():
            if name or key not in names:
                names[key] = name
    formats = sorted({p.format for p in profiles})
    exporters = {p.exporter for p in profiles}
    periods = {p.sample_period_s for p in profiles}
    durations = [p.duration_s for p in profiles if p.duration_s is not None]
    return Profile(
        frames=tuple(frames),
        stacks=tuple(stack for stack, _ in totals),
        weights=tuple(totals.values()),
        threads=tuple(thread for _, thread in totals),
        unit=first.unit,
        measures=first.measures,
        format="+".join(formats),
        source=InputRef(
            source=", ".join(p.source.source for p in profiles),
            kind="profile",
            detail=f"{len(profiles)} profiles merged",
        ),
        thread_names=names,
        idle_included=any(p.idle_included for p in profiles),
        exporter=exporters.pop() if len(exporters) == 1 else None,
        sample_period_s=periods.pop() if len(periods) == 1 else None,
        duration_s=max(durations) if durations else None,
        notes=tuple(f"{p.source.source}: {note}" for p in profiles for note in p.notes),
    )
