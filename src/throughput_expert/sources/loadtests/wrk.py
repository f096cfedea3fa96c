"""wrk and wrk2 text output (docs/formats.md §3.4, §3.5): one level per file, at the connections.

wrk is closed loop (its percentiles are prone to coordinated omission). wrk2 (recognised by its
``Thread calibration`` lines or its HdrHistogram blocks) is open loop: it does not print its
``-R`` rate, so the offered rate is read from a command line saved above the output
(``wrk -t2 -c64 -d60s -R2000 ...``) and left unknown otherwise. With ``-U`` the uncorrected
block is compared with the corrected one.

Errors are the ``Non-2xx or 3xx responses`` plus the ``Socket errors``; the requests sent are
those answered (``N requests in T``, non-2xx included) plus the connect, read and write errors.
wrk leaves a response slower than ``--timeout`` out of its latency (it counts it as a timeout),
so a run where every request timed out prints 0.00us latencies that measure nothing: its
latency is unknown. With some timeouts the latency is of the requests answered in time only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from throughput_expert.errors import InputError
from throughput_expert.model import Latency
from throughput_expert.model.sweep import SweepLevel, SweepMode
from throughput_expert.sources.loadtests._common import (
    CO_NOTE,
    Imported,
    check_level,
    finite,
    latency_ms,
    names,
    number,
    whole,
)

__all__ = ["looks_like", "parse"]

_TIME_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_COUNT_UNITS = {"": 1.0, "k": 1e3, "K": 1e3, "m": 1e6, "M": 1e6}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(us|ms|s|m|h)$")
_COUNT = re.compile(r"^(\d+(?:\.\d+)?)([kKmM]?)$")
_RUNNING = re.compile(r"^Running (\S+) test @ (\S+)")
_THREADS = re.compile(r"^(\d+) threads and (\d+) connections")
_LATENCY = re.compile(r"^Latency\s+(\S+)\s+(\S+)\s+(\S+)")
_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)%\s+(\S+)$")
_SPECTRUM = re.compile(r"^(\d+(?:\.\d+)?)\s+([01]\.\d+)\s+\d+\s+\S+$")
_HDR_MAX = re.compile(r"^#\[Max\s*=\s*(\d+(?:\.\d+)?)")
_REQUESTS = re.compile(r"^(\d+) requests in (\S+),")
_NON_2XX = re.compile(r"^Non-2xx or 3xx responses:\s*(\d+)")
_SOCKET = re.compile(r"^Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_RPS = re.compile(r"^Requests/sec:\s*(\S+)")
_RATE_FLAG = re.compile(r"(?:^|\s)(?:-R\s*|--rate[=\s]+)(\d+(?:\.\d+)?[kKmM]?)(?:\s|$)")
_PERCENTILES = {50.0: "p50", 90.0: "p90", 99.0: "p99", 99.9: "p999", 100.0: "max"}


def looks_like(text: str) -> bool:
    head = text[:4096]
    return bool(re.search(r"threads and \d+ connections", head)) and "test @" in head


@dataclass
class _Block:
    """One latency distribution: wrk's, wrk2's recorded one, or wrk2's uncorrected one."""

    percent: dict[float, float] = field(default_factory=dict)
    spectrum: list[tuple[float, float]] = field(default_factory=list)
    max_ms: float | None = None


@dataclass
class _Run:
    source: str
    wrk2: bool = False
    target: str | None = None
    connections: float | None = None
    mean_ms: float | None = None
    max_ms: float | None = None
    requests: int | None = None
    duration_s: float | None = None
    rps: float | None = None
    non_2xx: int = 0
    socket: tuple[int, ...] = (0, 0, 0, 0)
    offered: float | None = None
    blocks: dict[str, _Block] = field(default_factory=dict)


def parse(text: str, source: str) -> Imported:
    run = _Run(source)
    current = "recorded"
    for number_, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if "Latency Distribution" in line:
            current = "uncorrected" if "Uncorrected" in line else "recorded"
            run.wrk2 = run.wrk2 or "HdrHistogram" in line
            continue
        _line(run, run.blocks.setdefault(current, _Block()), line, f"line {number_}")
    return _imported(run)


def _line(run: _Run, block: _Block, line: str, where: str) -> None:
    if (m := _RUNNING.match(line)) is not None:
        run.target = m.group(2)
    elif (m := _RATE_FLAG.search(line)) is not None and run.target is None:
        run.offered = _count(m.group(1), run.source, where)
    elif (m := _THREADS.match(line)) is not None:
        run.connections = check_level(number(m.group(2), run.source, where), run.source, where)
    elif line.startswith("Thread calibration:"):
        run.wrk2 = True
    elif (m := _LATENCY.match(line)) is not None:
        run.mean_ms = _ms(m.group(1), run.source, where)
        run.max_ms = _ms(m.group(3), run.source, where)
    elif (m := _PERCENT.match(line)) is not None:
        block.percent[number(m.group(1), run.source, where, "percent")] = _ms(
            m.group(2), run.source, where
        )
    elif (m := _SPECTRUM.match(line)) is not None:
        block.spectrum.append(
            (
                number(m.group(2), run.source, where, "fraction"),
                number(m.group(1), run.source, where),
            )
        )
    elif (m := _HDR_MAX.match(line)) is not None:
        block.max_ms = number(m.group(1), run.source, where)
    else:
        _totals(run, line, where)


def _totals(run: _Run, line: str, where: str) -> None:
    if (m := _REQUESTS.match(line)) is not None:
        run.requests = whole(m.group(1), run.source, where)
        run.duration_s = _ms(m.group(2), run.source, where) / 1e3
    elif (m := _NON_2XX.match(line)) is not None:
        run.non_2xx = whole(m.group(1), run.source, where)
    elif (m := _SOCKET.match(line)) is not None:
        run.socket = tuple(whole(g, run.source, where) for g in m.groups())
    elif (m := _RPS.match(line)) is not None:
        run.rps = _count(m.group(1), run.source, where)


def _ms(text: str, source: str, where: str) -> float:
    m = _DURATION.match(text)
    if m is None:
        raise InputError(f"not a duration: {text[:20]!r}", source=source, field=where)
    return finite(number(m.group(1), source, where) * _TIME_UNITS[m.group(2)], source, where)


def _count(text: str, source: str, where: str) -> float:
    m = _COUNT.match(text)
    if m is None:
        raise InputError(f"not a count: {text[:20]!r}", source=source, field=where)
    return finite(number(m.group(1), source, where) * _COUNT_UNITS[m.group(2)], source, where)


def _imported(run: _Run) -> Imported:
    if run.connections is None:
        raise InputError(
            "no 'N threads and C connections' line: pass wrk's whole output", source=run.source
        )
    throughput = _throughput(run)
    errors = run.non_2xx + sum(run.socket)
    connect, read, write, _ = run.socket
    sent = None if run.requests is None else run.requests + connect + read + write
    recorded = run.blocks.get("recorded", _Block())
    latency = Latency() if _no_latency(run) else _latency(run, recorded)
    level = SweepLevel(
        run.connections,
        throughput,
        latency,
        errors,
        sent,
        run.duration_s,
        run.offered if run.wrk2 else None,
    )
    tool = "wrk2" if run.wrk2 else "wrk"
    notes = tuple(f"{tool}: {n}" for n in _notes(run, throughput, latency))
    mode: SweepMode = "open" if run.wrk2 else "closed"
    targets = names([run.target or ""])
    return Imported(tool, mode, (level,), not run.wrk2, notes, targets)


def _no_latency(run: _Run) -> bool:
    """No response was timed: none at all, or all slower than ``--timeout`` (wrk then prints
    0.00us for every latency figure)."""
    return run.requests == 0 or (run.max_ms == 0 and not run.mean_ms)


def _throughput(run: _Run) -> float:
    if run.rps is not None:
        return run.rps
    if run.requests is not None and run.duration_s:
        return run.requests / run.duration_s
    raise InputError("no 'Requests/sec:' line: pass wrk's whole output", source=run.source)


def _latency(run: _Run, block: _Block) -> Latency:
    values = {key: block.percent.get(pct) for pct, key in _PERCENTILES.items()}
    values["mean"] = run.mean_ms
    values["p95"] = _from_spectrum(block.spectrum, 0.95)
    if values["p999"] is None:
        values["p999"] = _from_spectrum(block.spectrum, 0.999)
    for candidate in (block.max_ms, run.max_ms):
        if values["max"] is None:
            values["max"] = candidate
    return latency_ms(values)


def _from_spectrum(spectrum: list[tuple[float, float]], q: float) -> float | None:
    """The first value whose cumulative fraction reaches q (HdrHistogram's percentile table)."""
    return next((value for frac, value in spectrum if frac >= q), None)


def _notes(run: _Run, throughput: float, latency: Latency) -> list[str]:
    notes: list[str] = [] if run.wrk2 else [CO_NOTE]
    if run.non_2xx:
        notes.append(
            f"{run.non_2xx} non-2xx/3xx responses (errors; wrk times them with the others)"
        )
    c, r, w, t = run.socket
    if sum(run.socket):
        notes.append(
            f"{sum(run.socket)} socket errors (connect {c}, read {r}, write {w}, timeout {t})"
        )
    if not latency.known():
        notes.append(
            f"latency unknown, not 0: no response was timed ({run.requests or 0} answered, "
            f"{t} timed out; wrk leaves responses slower than --timeout out of its latency)"
        )
    elif t or r:
        notes.append(
            f"latency of the requests answered within --timeout only: {t} timeouts and {r} read "
            "errors are not in it, so the percentiles understate the wait"
        )
    if run.wrk2:
        notes.extend(_wrk2_notes(run, throughput))
    return notes


def _wrk2_notes(run: _Run, throughput: float) -> list[str]:
    notes: list[str] = []
    if run.offered is None:
        notes.append(
            "offered rate unknown: wrk2 does not print -R; save the command line "
            "(wrk ... -R 2000 ...) above the output to record it"
        )
    elif throughput < 0.99 * run.offered:
        notes.append(f"achieved {throughput:.1f} rps of {run.offered:g} offered")
    corrected = run.blocks.get("recorded", _Block()).percent.get(99.0)
    uncorrected = run.blocks.get("uncorrected", _Block()).percent.get(99.0)
    if corrected is not None and uncorrected is not None:
        notes.append(f"corrected p99 {corrected:.1f} ms vs uncorrected {uncorrected:.1f} ms")
    return notes
