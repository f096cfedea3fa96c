"""Gatling ``simulation.log``, text form of 3.2 to 3.11 (docs/formats.md §3.7).

Fields are tab-separated. Rather than trusting a version, a REQUEST's times are the two
epoch-ms fields just before its ``OK``/``KO`` field, and a USER's time the field after its
``START``/``END`` (so 3.2-3.3's extra ``userId`` field shifts nothing). Binary logs (3.12+) are
refused before parsing (``loadtests/__init__.py``).

Users in flight come from USER START/END over time: each whole second from the first event
gets its time-weighted mean number of users, rounded; a step is a run of seconds with the same
value, at least two long (shorter runs are ramps). Requests count in the second they end.
The injection profile is not in the log, so the levels are treated as closed loop. A KO
request is an error and its time (a timeout's wait, an error page's time) is left out of the
latency: a step with no OK request has none. The target is the set of request names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from throughput_expert.errors import InputError
from throughput_expert.model.sweep import SweepLevel
from throughput_expert.sources.loadtests._common import CO_NOTE, Imported, names, summarize_ms

__all__ = ["looks_like", "parse"]

_RECORDS = ("RUN\t", "USER\t", "REQUEST\t", "GROUP\t", "ERROR\t")
_MAX_SECONDS = 7 * 24 * 3600
_MAX_NAMES = 10_000


def looks_like(text: str) -> bool:
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    return bool(lines) and any(line.startswith(_RECORDS) for line in lines[:5])


@dataclass
class _Log:
    users: list[tuple[float, int]] = field(default_factory=list)
    requests: list[tuple[float, float, bool]] = field(default_factory=list)
    version: str = ""
    names: set[str] = field(default_factory=set)


@dataclass
class _Step:
    users: int
    first: int
    last: int
    durations: list[float] = field(default_factory=list)
    ok_durations: list[float] = field(default_factory=list)
    errors: int = 0


def parse(text: str, source: str) -> Imported:
    log = _read(text, source)
    if not log.users:
        raise InputError("no USER records: the users in flight are unknown", source=source)
    if not log.requests:
        raise InputError("no REQUEST records", source=source)
    origin = min(t for t, _ in log.users)
    end = max(max(t for t, _ in log.users), max(e for _, e, _ in log.requests))
    seconds = _users_per_second(sorted(log.users), origin, end, source)
    steps = _steps(seconds, source)
    _assign(steps, log.requests, origin)
    kept = [s for s in steps if s.last > s.first and s.durations] or [
        max(steps, key=lambda s: len(s.durations))
    ]
    levels = tuple(_level(s, (end - origin) / 1e3) for s in kept)
    return Imported("gatling", "closed", levels, True, _notes(steps, kept, log), names(log.names))


def _read(text: str, source: str) -> _Log:
    log = _Log()
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.rstrip("\r\n").split("\t")
        kind = fields[0]
        if kind == "RUN":
            log.version = fields[-1].strip()
        elif kind == "USER":
            log.users.append(_user(fields, source, f"line {number}"))
        elif kind == "REQUEST":
            log.requests.append(_request(fields, source, f"line {number}", log.names))
    return log


def _user(fields: list[str], source: str, where: str) -> tuple[float, int]:
    for i, value in enumerate(fields[2:-1], 2):
        if value in ("START", "END") and _is_ms(fields[i + 1]):
            return float(fields[i + 1]), 1 if value == "START" else -1
    raise InputError(
        "a USER record needs START|END and an epoch-ms time", source=source, field=where
    )


def _request(
    fields: list[str], source: str, where: str, names: set[str]
) -> tuple[float, float, bool]:
    for i in range(3, len(fields)):
        if fields[i] in ("OK", "KO") and _is_ms(fields[i - 2]) and _is_ms(fields[i - 1]):
            start, end = float(fields[i - 2]), float(fields[i - 1])
            if end < start:
                raise InputError("a request ends before it starts", source=source, field=where)
            if len(names) < _MAX_NAMES:
                names.add(fields[i - 3][:2000])
            return start, end, fields[i] == "OK"
    raise InputError(
        "a REQUEST record needs start and end epoch-ms times before OK|KO",
        source=source,
        field=where,
    )


def _is_ms(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 16


def _users_per_second(
    events: list[tuple[float, int]], origin: float, end: float, source: str
) -> list[int]:
    """The time-weighted mean users in flight of each second from ``origin``, rounded."""
    span_s = (end - origin) / 1e3
    if span_s > _MAX_SECONDS:
        raise InputError("the run spans more than 7 days", source=source)
    weight = [0.0] * (int(span_s) + 1)
    users = 0
    for (t, delta), (t_next, _) in zip(events, [*events[1:], (end, 0)], strict=True):
        users += delta
        _spread(weight, (t - origin) / 1e3, (t_next - origin) / 1e3, max(users, 0))
    lengths = [1.0] * len(weight)
    lengths[-1] = max(span_s - int(span_s), 1e-9)
    return [round(w / length) for w, length in zip(weight, lengths, strict=True)]


def _spread(weight: list[float], a: float, b: float, users: int) -> None:
    """Add ``users`` × the time between a and b (seconds) to the seconds it covers."""
    while a < b:
        second = min(int(a), len(weight) - 1)
        edge = min(b, second + 1.0) if second < len(weight) - 1 else b
        weight[second] += users * (edge - a)
        a = edge


def _steps(seconds: list[int], source: str) -> list[_Step]:
    steps: list[_Step] = []
    for i, users in enumerate(seconds):
        if steps and steps[-1].users == users and steps[-1].last == i - 1:
            steps[-1].last = i
        elif users >= 1:
            steps.append(_Step(users, i, i))
    if not steps:
        raise InputError("users in flight never reached 1", source=source)
    return steps


def _assign(steps: list[_Step], requests: list[tuple[float, float, bool]], origin: float) -> None:
    by_second = {i: s for s in steps for i in range(s.first, s.last + 1)}
    for start, end, ok in requests:
        step = by_second.get(int((end - origin) / 1e3))
        if step is not None:
            step.durations.append(end - start)
            step.errors += not ok
            if ok:
                step.ok_durations.append(end - start)


def _level(step: _Step, span_s: float) -> SweepLevel:
    # The step's span: its whole seconds, the last one cut at the end of the log.
    end_s = min(step.last + 1.0, span_s)
    duration = max(end_s - step.first, 1e-3)
    count = len(step.durations)
    return SweepLevel(
        float(step.users),
        count / duration,
        summarize_ms(step.ok_durations),
        step.errors,
        count,
        duration,
    )


def _notes(steps: list[_Step], kept: list[_Step], log: _Log) -> tuple[str, ...]:
    notes = [
        CO_NOTE,
        "the injection profile is not in simulation.log: levels are users in flight",
    ]
    if len(kept) < len(steps):
        notes.append(f"{len(steps) - len(kept)} brief user counts (ramps) skipped")
    errors = sum(s.errors for s in kept)
    if errors:
        notes.append(f"{errors} KO requests")
    for s in kept:
        if s.errors and s.ok_durations:
            notes.append(
                f"level {s.users}: latency of the {len(s.ok_durations)} OK requests only: the "
                f"{s.errors} KO ones are left out"
            )
        elif s.errors:
            notes.append(f"level {s.users}: latency unknown, not 0: every request was KO")
    return tuple(f"gatling: {n}" for n in notes)
