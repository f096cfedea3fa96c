"""Locust ``--csv`` output (docs/formats.md §3.3), mapped by header names; closed loop.

``PREFIX_stats_history.csv`` gives one level per ``User Count`` step: a run of consecutive
``Aggregated`` rows with the same user count (rows with 0 users are skipped). Locust's
``Requests/s`` column is a lagging window (the mean of up to 10 s ending 2 s before the row), so
a step's throughput is the growth of ``Total Request Count`` over the step's rows divided by the
seconds between them; the mean ``Requests/s`` is used only when a step has a single row. The
step's mean latency comes from the cumulative averages the same way; its percentiles are those
of the step's last row.

``PREFIX_stats.csv`` gives one level from its ``Aggregated`` row, at the user count held
longest in the history file beside it (``parse_stats`` takes that file's text).

Locust times its failures with its successes (a timeout counts its timeout), and its CSVs do
not keep them apart: a level with failures says its percentiles include them, and a level
whose requests all failed has no latency. The target is the request names of the rows other
than ``Aggregated`` (in a history file, only with ``--csv-full-history``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from throughput_expert.errors import InputError
from throughput_expert.model import Latency
from throughput_expert.model.sweep import SweepLevel
from throughput_expert.sources.loadtests._common import (
    CO_NOTE,
    Imported,
    check_level,
    csv_table,
    latency_ms,
    names,
    number,
)

__all__ = ["is_history", "is_stats", "parse_history", "parse_stats"]

_PERCENTILES = {"50%": "p50", "90%": "p90", "95%": "p95", "99%": "p99", "99.9%": "p999"}
_HISTORY = ("Timestamp", "User Count", "Name", "Total Request Count")
_STATS = ("Name", "Request Count", "Failure Count", "Requests/s")

Row = Mapping[str, str]


def _header(text: str) -> list[str]:
    first = text.lstrip().split("\n", 1)[0]
    return [cell.strip().strip('"') for cell in first.split(",")]


def is_history(text: str) -> bool:
    return all(col in _header(text) for col in _HISTORY)


def is_stats(text: str) -> bool:
    header = _header(text)
    return all(col in header for col in _STATS) and "Timestamp" not in header


@dataclass
class _Step:
    users: float
    rows: list[Row]


def parse_history(text: str, source: str) -> Imported:
    steps = _history_steps(text, source)
    if not steps:
        raise InputError("no Aggregated rows with users > 0", source=source)
    levels = tuple(_step_level(s, source) for s in steps)
    errors = sum(lv.errors or 0 for lv in levels)
    notes = [CO_NOTE] + ([f"{errors} failures"] if errors else [])
    notes += [n for lv in levels for n in _failure_notes(lv)]
    targets = names(r.get("Name") or "" for r in _rows(text, source, _HISTORY))
    return Imported(
        "locust",
        "closed",
        levels,
        True,
        tuple(f"locust: {n}" for n in notes),
        tuple(n for n in targets if n != "Aggregated"),
    )


def _failure_notes(lv: SweepLevel) -> list[str]:
    if not lv.errors:
        return []
    if not lv.latency.known():
        return [
            f"level {lv.level:g}: latency unknown, not 0: all its {lv.errors} requests failed "
            "(Locust times a failure, not a response)"
        ]
    return [
        f"level {lv.level:g}: the percentiles include the {lv.errors} failed requests' times "
        "(Locust does not keep them apart; a timeout counts as its timeout)"
    ]


def _answered(latency: Latency, errors: float | None, requests: float | None) -> Latency:
    """No latency when every request failed: Locust's times are then the failures'."""
    return Latency() if errors and requests is not None and errors >= requests else latency


def _rows(text: str, source: str, needed: Sequence[str]) -> list[Row]:
    header, rows = csv_table(text, source)
    missing = [col for col in needed if col not in header]
    if missing:
        raise InputError(f"missing columns: {', '.join(missing)}", source=source, field="header")
    return [dict(zip(header, r, strict=False)) for r in rows]


def _history_steps(text: str, source: str) -> list[_Step]:
    steps: list[_Step] = []
    for i, row in enumerate(_rows(text, source, _HISTORY)):
        if row.get("Name") != "Aggregated":
            continue
        users = number(row.get("User Count") or "", source, f"row {i + 2}: User Count")
        if users < 1:
            continue
        if steps and steps[-1].users == users:
            steps[-1].rows.append(row)
        else:
            steps.append(_Step(check_level(users, source, f"row {i + 2}"), [row]))
    return steps


def _step_level(step: _Step, source: str) -> SweepLevel:
    first, last = step.rows[0], step.rows[-1]

    def cell(row: Row, col: str) -> float | None:
        return _cell(row, col, source)

    t0, t1 = cell(first, "Timestamp"), cell(last, "Timestamp")
    n0, n1 = cell(first, "Total Request Count"), cell(last, "Total Request Count")
    f0, f1 = cell(first, "Total Failure Count"), cell(last, "Total Failure Count")
    if t0 is not None and t1 is not None and n0 is not None and n1 is not None and t1 > t0:
        requests, duration = max(0.0, n1 - n0), t1 - t0
        throughput = requests / duration
        mean = _interval_mean(first, last, source)
    else:
        rates = [r for r in (cell(row, "Requests/s") for row in step.rows) if r is not None]
        throughput = sum(rates) / len(rates) if rates else 0.0
        requests, duration, mean = None, None, None
    errors = None if f0 is None or f1 is None or requests is None else max(0.0, f1 - f0)
    latency = _answered(_percentiles(last, source, mean, cell(last, "100%")), errors, requests)
    return SweepLevel(
        step.users,
        throughput,
        latency,
        None if errors is None else int(errors),
        None if requests is None else int(requests),
        duration,
    )


def _interval_mean(first: Row, last: Row, source: str) -> float | None:
    """Mean response time of the requests between two rows, from the cumulative averages."""
    col_n, col_avg = "Total Request Count", "Total Average Response Time"
    n0, n1 = _cell(first, col_n, source), _cell(last, col_n, source)
    a0, a1 = _cell(first, col_avg, source), _cell(last, col_avg, source)
    if n0 is None or n1 is None or a0 is None or a1 is None or n1 <= n0:
        return a1
    return max(0.0, (a1 * n1 - a0 * n0) / (n1 - n0))


def _percentiles(row: Row, source: str, mean: float | None, peak: float | None) -> Latency:
    values: dict[str, float | None] = {
        key: _cell(row, col, source) for col, key in _PERCENTILES.items()
    }
    values["mean"], values["max"] = mean, peak
    return latency_ms(values)


def _cell(row: Row, col: str, source: str) -> float | None:
    text = (row.get(col) or "").strip()
    if text in ("", "N/A"):
        return None
    return number(text, source, col)


def parse_stats(text: str, source: str, history: str | None) -> Imported:
    every = _rows(text, source, _STATS)
    rows = [r for r in every if r.get("Name") == "Aggregated"]
    if not rows:
        raise InputError("no Aggregated row", source=source)
    row = rows[-1]
    users, notes = _users(history, source)
    count = _cell(row, "Request Count", source)
    rps = _cell(row, "Requests/s", source) or 0.0
    failures = _cell(row, "Failure Count", source)
    latency = _answered(
        _percentiles(
            row,
            source,
            _cell(row, "Average Response Time", source),
            _cell(row, "Max Response Time", source),
        ),
        failures,
        count,
    )
    duration = count / rps if count is not None and rps > 0 else None
    lv = SweepLevel(
        users,
        rps,
        latency,
        None if failures is None else int(failures),
        None if count is None else int(count),
        duration,
    )
    if failures:
        notes.append(f"{failures:g} failures")
    notes += _failure_notes(lv)
    targets = names(r.get("Name") or "" for r in every if r.get("Name") != "Aggregated")
    return Imported("locust", "closed", (lv,), True, tuple(f"locust: {n}" for n in notes), targets)


def _users(history: str | None, source: str) -> tuple[float, list[str]]:
    if history is None:
        raise InputError(
            "no user count: pass PREFIX_stats_history.csv (written beside it by --csv) "
            "instead, or keep it beside this file",
            source=source,
        )
    steps = _history_steps(history, source)
    if not steps:
        raise InputError("the stats history beside it has no rows with users", source=source)
    longest = max(steps, key=lambda s: len(s.rows))
    notes = [CO_NOTE]
    counts = sorted({s.users for s in steps})
    if len(counts) > 1:
        notes.append(
            f"user counts {', '.join(f'{c:g}' for c in counts)} in one run; the level is "
            f"{longest.users:g}, held longest (import PREFIX_stats_history.csv for one level "
            "per step)"
        )
    return longest.users, notes
