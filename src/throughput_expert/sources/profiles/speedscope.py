"""speedscope JSON (docs/formats.md §2.2): sampled and evented profiles over one shared frame table.

py-spy writes one sampled profile per thread, named ``Thread <tid> "<name>"``, with weights of
1/rate seconds; evented profiles (open/close events) give each stack the time its leaf spent on
top. Several profiles in one file become threads of one ``Profile``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from throughput_expert.errors import InputError
from throughput_expert.model.profile import (
    SECONDS_PER_UNIT,
    Frame,
    Measures,
    Profile,
    ProfileUnit,
)
from throughput_expert.model.records import InputRef
from throughput_expert.sources.profiles import (
    check_stacks,
    check_weights,
    kind_from_file,
    pyspy_mode,
)

__all__ = ["read_speedscope"]

UNITS: Mapping[str, ProfileUnit] = {
    "none": "samples",
    "nanoseconds": "nanoseconds",
    "microseconds": "microseconds",
    "milliseconds": "milliseconds",
    "seconds": "seconds",
    "bytes": "bytes",
}
PYSPY_THREAD = re.compile(r'Thread (\d+) "(.*)"', re.DOTALL)
# py-spy --threads puts a root frame "thread (TID): NAME" on every stack: a thread, not a frame
PYSPY_THREAD_FRAME = re.compile(r"thread \(\d+\)(?:: .*)?", re.DOTALL)
Totals = dict[tuple[int, ...], float]


@dataclass
class _Part:
    """One profile of the file, read: its unique stacks and what it says about itself."""

    key: str | None
    name: str
    unit: ProfileUnit
    totals: Totals
    evented: bool
    span: float | None = None
    periods: set[float] = field(default_factory=set)


def read_speedscope(doc: Mapping[str, object], source: str) -> Profile:
    """A ``Profile`` from a parsed speedscope document."""
    frames = _frames(doc, source)
    raw = doc.get("profiles")
    if not isinstance(raw, list):
        raise InputError("profiles must be a list", source=source, field="profiles")
    parts = [_part(p, i, len(raw), len(frames), source) for i, p in enumerate(raw)]
    unit = _common_unit(parts, source)
    exporter = doc.get("exporter")
    return _profile(frames, parts, unit, exporter if isinstance(exporter, str) else None, source)


def _frames(doc: Mapping[str, object], source: str) -> tuple[Frame, ...]:
    shared = doc.get("shared")
    raw = shared.get("frames") if isinstance(shared, dict) else None
    if not isinstance(raw, list):
        raise InputError("shared.frames must be a list", source=source, field="shared.frames")
    return tuple(_frame(f, i, source) for i, f in enumerate(raw))


def _frame(raw: object, index: int, source: str) -> Frame:
    where = f"shared.frames[{index}]"
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise InputError("a frame needs a name (a string)", source=source, field=where)
    file, line = raw.get("file"), raw.get("line")
    if file is not None and not isinstance(file, str):
        raise InputError("file must be a string or null", source=source, field=f"{where}.file")
    if line is not None and type(line) is not int:
        raise InputError("line must be an integer or null", source=source, field=f"{where}.line")
    return Frame(raw["name"], file, line, kind_from_file(file))


def _part(raw: object, index: int, count: int, size: int, source: str) -> _Part:
    where = f"profiles[{index}]"
    if not isinstance(raw, dict):
        raise InputError("a profile must be an object", source=source, field=where)
    name = raw.get("name") if isinstance(raw.get("name"), str) else ""
    assert isinstance(name, str)
    key, thread_name = _thread(name, index, count)
    unit = UNITS.get(str(raw.get("unit", "none")))
    if unit is None:
        raise InputError(f"unknown unit {raw.get('unit')!r}", source=source, field=f"{where}.unit")
    kind = raw.get("type")
    if kind == "sampled":
        totals, periods = _sampled(raw, size, source, where)
        return _Part(key, thread_name, unit, totals, False, _span(raw), periods)
    if kind == "evented":
        return _Part(key, thread_name, unit, _evented(raw, size, source, where), True, _span(raw))
    raise InputError(f"unknown profile type {kind!r}", source=source, field=f"{where}.type")


def _thread(name: str, index: int, count: int) -> tuple[str | None, str]:
    match = PYSPY_THREAD.fullmatch(name)
    if match:
        return match.group(1), match.group(2)
    return (f"#{index}", name) if count > 1 else (None, name)


def _span(raw: Mapping[str, object]) -> float | None:
    start, end = raw.get("startValue"), raw.get("endValue")
    if type(start) in (int, float) and type(end) in (int, float):
        span = float(end) - float(start)  # type: ignore[arg-type]
        return span if math.isfinite(span) and span >= 0 else None
    return None


def _sampled(
    raw: Mapping[str, object], size: int, source: str, where: str
) -> tuple[Totals, set[float]]:
    samples, weights = raw.get("samples"), raw.get("weights")
    if not isinstance(samples, list):
        raise InputError("samples must be a list", source=source, field=f"{where}.samples")
    if weights is None:
        weights = [1] * len(samples)
    if not isinstance(weights, list) or len(weights) != len(samples):
        raise InputError(
            "weights must be a list as long as samples", source=source, field=f"{where}.weights"
        )
    check_weights(weights, source, f"{where}.weights")
    totals = _aggregate(samples, weights, source, where)
    check_stacks(totals, size, source, f"{where}.samples")
    periods = {float(weights[0])} if weights and min(weights) == max(weights) else set()
    return totals, periods


def _aggregate(samples: list[object], weights: list[object], source: str, where: str) -> Totals:
    """Sum the weight of identical stacks (keyed by tuple: one pass, no per-sample objects)."""
    stacks = map(tuple, cast(list[list[int]], samples))
    numbers = cast(list[float], weights)
    try:
        if numbers and min(numbers) == max(numbers):
            each = float(numbers[0])
            return {stack: n * each for stack, n in Counter(stacks).items()}
        totals: Totals = {}
        for stack, weight in zip(stacks, numbers, strict=True):
            totals[stack] = totals.get(stack, 0.0) + weight
        return totals
    except TypeError:
        raise InputError(
            "each sample must be a list of frame indices", source=source, field=f"{where}.samples"
        ) from None


def _evented(raw: Mapping[str, object], size: int, source: str, where: str) -> Totals:
    """Self time per stack: each interval between events goes to the stack open during it."""
    events = raw.get("events")
    if not isinstance(events, list):
        raise InputError("events must be a list", source=source, field=f"{where}.events")
    totals: Totals = {}
    stack: list[int] = []
    last: float | None = None
    for n, event in enumerate(events):
        at, frame, kind = _event(event, size, source, f"{where}.events[{n}]")
        if last is not None and at < last:
            raise InputError(
                "event times go backwards", source=source, field=f"{where}.events[{n}]"
            )
        if stack and last is not None and at > last:
            key = tuple(stack)
            totals[key] = totals.get(key, 0.0) + (at - last)
        last = at
        _apply(stack, kind, frame, source, f"{where}.events[{n}]")
    if stack:
        raise InputError(
            f"{len(stack)} frames opened and never closed", source=source, field=f"{where}.events"
        )
    return totals


def _event(event: object, size: int, source: str, where: str) -> tuple[float, int, str]:
    if not isinstance(event, dict):
        raise InputError("an event must be an object", source=source, field=where)
    at, frame, kind = event.get("at"), event.get("frame"), event.get("type")
    if type(at) not in (int, float) or not math.isfinite(at):  # type: ignore[arg-type]
        raise InputError("at must be a finite number", source=source, field=f"{where}.at")
    if type(frame) is not int or not 0 <= frame < size:
        raise InputError(
            f"frame {frame!r} is outside the frame table ({size} frames)",
            source=source,
            field=f"{where}.frame",
        )
    if kind not in ("O", "C"):
        raise InputError("type must be 'O' or 'C'", source=source, field=f"{where}.type")
    return float(at), frame, kind  # type: ignore[arg-type]


def _apply(stack: list[int], kind: str, frame: int, source: str, where: str) -> None:
    if kind == "O":
        stack.append(frame)
    elif stack and stack[-1] == frame:
        stack.pop()
    else:
        raise InputError(
            f"close of frame {frame} does not match the open frame", source=source, field=where
        )


def _common_unit(parts: list[_Part], source: str) -> ProfileUnit:
    units = {p.unit for p in parts}
    if len(units) <= 1:
        return units.pop() if units else "samples"
    if all(u in SECONDS_PER_UNIT for u in units):
        for part in parts:
            scale = SECONDS_PER_UNIT[part.unit]
            part.totals = {k: v * scale for k, v in part.totals.items()}
            part.span = None if part.span is None else part.span * scale
            part.periods = {p * scale for p in part.periods}
            part.unit = "seconds"
        return "seconds"
    raise InputError(f"profiles in different units: {sorted(units)}", source=source)


def _profile(
    frames: tuple[Frame, ...],
    parts: list[_Part],
    unit: ProfileUnit,
    exporter: str | None,
    source: str,
) -> Profile:
    totals: dict[tuple[tuple[int, ...], str | None], float] = {}
    names: dict[str, str] = {}
    marks = {i for i, f in enumerate(frames) if not f.file and PYSPY_THREAD_FRAME.fullmatch(f.name)}
    for part in parts:
        for stack, weight in part.totals.items():
            if marks and stack and stack[0] in marks:
                stack = stack[1:]
            key = (stack, part.key)
            totals[key] = totals.get(key, 0.0) + weight
        if part.key is not None and (part.name or part.key not in names):
            names[part.key] = part.name
    measures, idle, notes = _mode(parts, exporter)
    return Profile(
        frames=frames,
        stacks=tuple(stack for stack, _ in totals),
        weights=tuple(totals.values()),
        threads=tuple(thread for _, thread in totals),
        unit=unit,
        measures=measures,
        format="speedscope",
        source=InputRef(source=source, kind="profile", detail=f"speedscope, {len(parts)} profiles"),
        thread_names=names,
        idle_included=idle,
        exporter=exporter,
        sample_period_s=_period(parts, unit),
        duration_s=_duration(parts, unit, exporter, idle),
        notes=notes,
    )


def _mode(parts: list[_Part], exporter: str | None) -> tuple[Measures, bool, tuple[str, ...]]:
    if exporter is not None and exporter.startswith("py-spy"):
        per_thread = {p.key: math.fsum(p.totals.values()) for p in parts}
        measures, idle, note = pyspy_mode(per_thread)
        return measures, idle, (note,)
    if parts and all(p.evented for p in parts):
        return "wall", False, ("evented (traced) profile: self time on a wall clock",)
    return "unknown", False, ("speedscope files do not say what their values measure",)


def _period(parts: list[_Part], unit: ProfileUnit) -> float | None:
    periods = set().union(*(p.periods for p in parts)) if parts else set()
    scale = SECONDS_PER_UNIT.get(unit)
    if len(periods) != 1 or scale is None or any(p.evented for p in parts):
        return None
    return periods.pop() * scale


def _duration(
    parts: list[_Part], unit: ProfileUnit, exporter: str | None, idle: bool
) -> float | None:
    scale = SECONDS_PER_UNIT.get(unit)
    spans = [p.span for p in parts if p.span is not None]
    # py-spy's endValue is the thread's sampled time: a duration only when every tick counted.
    pyspy = exporter is not None and exporter.startswith("py-spy")
    if scale is None or not spans or (pyspy and not idle):
        return None
    return max(spans) * scale
