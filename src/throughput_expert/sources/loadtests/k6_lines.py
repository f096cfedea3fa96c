"""k6 JSON lines (``--out json``, docs/formats.md §3.2): one level per step of the ``vus`` gauge.

A step is a run of equal ``vus`` samples (k6 samples the gauge about once a second); it spans
from its first sample to the next step's first sample (the first step also from the first
request, the last one to its last request or sample). Steps shorter than two samples are ramps
and are skipped, unless no step is longer. Requests are the ``http_reqs`` points by time;
percentiles are of the step's ``http_req_duration`` points (nearest rank), leaving out those
tagged ``expected_response: "false"`` (failed requests: a timeout's whole wait, a refused
connection's 0 ms); a step whose requests all failed has no latency. The target is the set of
the ``http_reqs`` points' ``name`` tags (the URL unless the script names it).
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, field

from throughput_expert.errors import InputError
from throughput_expert.model.sweep import SweepLevel, SweepMode
from throughput_expert.sources.loadtests._common import (
    CO_NOTE,
    Imported,
    epoch_s,
    json_number,
    names,
    summarize_ms,
)

__all__ = ["looks_like_lines", "parse_lines"]

_WANTED = (
    "vus",
    "http_reqs",
    "http_req_duration",
    "http_req_failed",
    "dropped_iterations",
    "iterations",
)
_FAILED_DURATION = "http_req_duration:failed"  # the points tagged expected_response "false"
_MAX_NAMES = 10_000


def looks_like_lines(text: str) -> bool:
    first = next((line for line in text.splitlines() if line.strip()), "")
    try:
        doc = json.loads(first)
    except (ValueError, RecursionError):
        return False
    return isinstance(doc, dict) and doc.get("type") in ("Metric", "Point") and "metric" in doc


@dataclass
class _Step:
    vus: float
    samples: list[float]
    start: float = 0.0
    end: float = 0.0
    requests: int = 0
    failed: int = 0
    dropped: float = 0.0
    durations: list[float] = field(default_factory=list)
    failed_durations: int = 0


def parse_lines(text: str, source: str) -> Imported:
    points: dict[str, list[tuple[float, float]]] = {n: [] for n in (*_WANTED, _FAILED_DURATION)}
    targets: set[str] = set()
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            _point(line, points, targets, source, f"line {number}")
    steps = _steps(points, source)
    kept = [s for s in steps if len(s.samples) >= 2 and s.requests] or [
        max(steps, key=lambda s: s.requests)
    ]
    dropped = sum(s.dropped for s in steps)
    iterations = sum(v for _, v in points["iterations"])
    requests = sum(v for _, v in points["http_reqs"])
    reqs_per_iteration = requests / iterations if requests and iterations else 1.0
    levels = tuple(_level(s, dropped > 0, reqs_per_iteration) for s in kept)
    notes = _notes(steps, kept, dropped)
    mode: SweepMode = "open" if dropped > 0 else "closed"
    return Imported(
        "k6", mode, levels, dropped == 0, tuple(f"k6: {n}" for n in notes), names(targets)
    )


def _point(
    line: str,
    points: dict[str, list[tuple[float, float]]],
    targets: set[str],
    source: str,
    where: str,
) -> None:
    try:
        doc = json.loads(line, parse_constant=_refuse)
    except (ValueError, RecursionError):
        raise InputError("not a JSON object", source=source, field=where) from None
    if not isinstance(doc, dict) or doc.get("type") != "Point":
        return
    metric, data = doc.get("metric"), doc.get("data")
    if metric not in points:
        return
    if not isinstance(data, dict) or not isinstance(data.get("time"), str):
        raise InputError("a Point needs data.time and data.value", source=source, field=where)
    value = json_number(data.get("value"), source, f"{where}: data.value")
    if value is None:
        raise InputError("a Point needs data.value", source=source, field=where)
    tags = data.get("tags")
    tags = tags if isinstance(tags, dict) else {}
    if metric == "http_req_duration" and tags.get("expected_response") == "false":
        metric = _FAILED_DURATION
    name = tags.get("name", tags.get("url"))
    if metric == "http_reqs" and isinstance(name, str) and len(targets) < _MAX_NAMES:
        targets.add(name[:2000])
    points[str(metric)].append((epoch_s(data["time"], source, f"{where}: data.time"), value))


def _refuse(name: str) -> object:
    raise ValueError(name)


def _steps(points: dict[str, list[tuple[float, float]]], source: str) -> list[_Step]:
    vus = sorted(points["vus"])
    if not vus:
        raise InputError("no vus points: the level needs k6's vus gauge", source=source)
    steps: list[_Step] = []
    for t, value in vus:
        if steps and steps[-1].vus == value:
            steps[-1].samples.append(t)
        else:
            steps.append(_Step(value, [t]))
    steps = [s for s in steps if s.vus >= 1]
    if not steps:
        raise InputError("the vus gauge never reached 1", source=source)
    _bound(steps, points)
    _assign(steps, points)
    return steps


def _bound(steps: list[_Step], points: dict[str, list[tuple[float, float]]]) -> None:
    times = [t for t, _ in points["http_reqs"]]
    for here, after in zip(steps, [*steps[1:], None], strict=True):
        here.start = here.samples[0]
        here.end = after.samples[0] if after is not None else here.samples[-1]
    if times:
        steps[0].start = min(steps[0].start, min(times))
        steps[-1].end = max(steps[-1].end, max(times))


def _assign(steps: list[_Step], points: dict[str, list[tuple[float, float]]]) -> None:
    starts = [s.start for s in steps]

    def step_at(t: float) -> _Step:
        return steps[max(0, bisect.bisect_right(starts, t) - 1)]

    for t, value in points["http_reqs"]:
        step_at(t).requests += round(value)
    for t, value in points["http_req_duration"]:
        step_at(t).durations.append(value)
    for t, _ in points[_FAILED_DURATION]:
        step_at(t).failed_durations += 1
    for t, value in points["http_req_failed"]:
        step_at(t).failed += value != 0
    for t, value in points["dropped_iterations"]:
        step_at(t).dropped += value


def _level(step: _Step, open_loop: bool, per_iteration: float) -> SweepLevel:
    duration = step.end - step.start
    throughput = step.requests / duration if duration > 0 else 0.0
    offered = None
    if open_loop and duration > 0:
        offered = (step.requests + step.dropped * per_iteration) / duration
    return SweepLevel(
        step.vus,
        throughput,
        summarize_ms(step.durations),
        step.failed,
        step.requests,
        duration if duration > 0 else None,
        offered,
    )


def _notes(steps: list[_Step], kept: list[_Step], dropped: float) -> list[str]:
    notes = [] if dropped else [CO_NOTE]
    if len(kept) < len(steps):
        notes.append(f"{len(steps) - len(kept)} short VU steps (ramps) skipped")
    if dropped:
        notes.append(
            f"{dropped:g} dropped iterations: the generator or the system could not keep up"
        )
    failed = sum(s.failed for s in kept)
    if failed:
        notes.append(f"{failed} failed requests (http_req_failed)")
    for s in kept:
        if s.failed_durations and not s.durations:
            notes.append(
                f"level {s.vus:g}: latency unknown, not 0: all its timed requests failed "
                "(a failure's duration times the failure, not a response)"
            )
        elif s.failed_durations:
            notes.append(
                f"level {s.vus:g}: latency of the successful requests only: "
                f"{s.failed_durations} failed ones (expected_response false) are left out"
            )
    return notes
