"""k6 results (docs/formats.md §3.1, §3.2): the end-of-test summary and the JSON lines output.

The summary (``--summary-export``'s legacy shape, or ``handleSummary``'s with ``type`` and
``values`` per metric) gives one level at the peak VUs. JSON lines (``--out json``, possibly
gzipped) give one level per step of the ``vus`` gauge: a run of equal samples, at least two
long (shorter runs are ramps and are skipped). Trend values are ms.

VU executors are closed loop. A run with ``dropped_iterations`` (or a summary whose
``options.scenarios`` name an arrival-rate executor) is open loop; its offered rate is the
completed plus dropped iterations, in requests: ``http_reqs`` + ``dropped_iterations`` × the
requests per iteration (``http_reqs / iterations``, 1 when unknown).

Failed requests (``http_req_failed``) are timed too (a timeout its whole wait, a refused
connection about 0 ms), so with failures the latency is the ``http_req_duration{expected_response:
true}`` submetric k6 adds to its summary when present; with every request failed it is unknown.
A summary names no URL: its target is unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from throughput_expert.errors import InputError
from throughput_expert.model import Latency
from throughput_expert.model.sweep import SweepLevel
from throughput_expert.sources.loadtests._common import (
    CO_NOTE,
    Imported,
    check_level,
    json_number,
    latency_ms,
)
from throughput_expert.sources.loadtests.k6_lines import looks_like_lines, parse_lines

__all__ = ["looks_like_lines", "looks_like_summary", "parse_lines", "parse_summary"]

_Num = Callable[[str, str], float | None]
_DURATION = "http_req_duration"
_OK_DURATION = "http_req_duration{expected_response:true}"
_TREND_KEYS = {
    "avg": "mean",
    "med": "p50",
    "p(90)": "p90",
    "p(95)": "p95",
    "p(99)": "p99",
    "p(99.9)": "p999",
    "max": "max",
}


def looks_like_summary(doc: object) -> bool:
    if not isinstance(doc, dict) or not isinstance(doc.get("metrics"), dict):
        return False
    return "root_group" in doc or any(k in doc["metrics"] for k in ("http_reqs", "vus"))


def parse_summary(doc: Mapping[str, Any], source: str) -> Imported:
    metrics: Mapping[str, Any] = doc["metrics"]

    def values(name: str) -> Mapping[str, Any]:
        raw = metrics.get(name)
        if not isinstance(raw, dict):
            return {}
        inner = raw.get("values")
        return inner if isinstance(inner, dict) else raw

    def num(name: str, key: str) -> float | None:
        return json_number(values(name).get(key), source, f"metrics.{name}.{key}")

    level, vus_note = _vus(num, source)
    throughput, requests = num("http_reqs", "rate"), num("http_reqs", "count")
    if throughput is None:
        raise InputError("no http_reqs rate in the summary", source=source, field="metrics")
    dropped = num("dropped_iterations", "count") or 0.0
    open_loop = dropped > 0 or _arrival_rate(doc.get("options"))
    offered = _offered(num, throughput) if open_loop else None
    duration = _duration(doc, num, source)
    errors = num("http_req_failed", "passes")
    answered = num("http_req_failed", "fails")
    latency, latency_note = _answered_latency(values, errors, answered, requests, source)
    lv = SweepLevel(
        level,
        throughput,
        latency,
        None if errors is None else int(errors),
        None if requests is None else int(requests),
        duration,
        offered,
    )
    notes = _summary_notes(open_loop, dropped, errors, _failed_checks(doc.get("root_group")))
    return Imported(
        "k6",
        "open" if open_loop else "closed",
        (lv,),
        closed_loop=not open_loop,
        notes=tuple(f"k6: {n}" for n in [*notes, *latency_note, *vus_note]),
    )


def _answered_latency(
    values: Callable[[str], Mapping[str, Any]],
    errors: float | None,
    answered: float | None,
    requests: float | None,
    source: str,
) -> tuple[Latency, list[str]]:
    """The latency of the requests that did not fail, and a note when it is partial or none."""
    if not errors:
        return _latency(values(_DURATION), source, _DURATION), []
    if answered == 0 or (answered is None and requests is not None and errors >= requests):
        return Latency(), [
            f"latency unknown, not 0: all {errors:g} requests failed (http_req_failed); their "
            "durations time the failures (a timeout's whole wait, a refused connection's 0 ms)"
        ]
    ok = values(_OK_DURATION)
    if ok:
        return _latency(ok, source, _OK_DURATION), [
            f"latency of the successful requests only ({_OK_DURATION}): the {errors:g} failed "
            "ones are left out"
        ]
    return _latency(values(_DURATION), source, _DURATION), [
        f"latency includes the {errors:g} failed requests (a timeout counts its whole wait, a "
        f"refused connection about 0 ms): the summary has no {_OK_DURATION} to leave them out"
    ]


def _vus(num: _Num, source: str) -> tuple[float, list[str]]:
    peak = num("vus", "max")
    if peak is None:
        peak = num("vus_max", "max") or num("vus_max", "value") or num("vus", "value")
    if peak is None:
        raise InputError(
            'no vus metric: k6 reports it unless the summary was edited; add "vus": {"max": N}',
            source=source,
            field="metrics",
        )
    low = num("vus", "min")
    note = [] if low in (None, peak) else [f"VUs ranged {low:g}-{peak:g}; the level is the peak"]
    return check_level(peak, source, "metrics.vus"), note


def _arrival_rate(options: object) -> bool:
    scenarios = options.get("scenarios") if isinstance(options, dict) else None
    if not isinstance(scenarios, dict):
        return False
    return any(
        isinstance(s, dict) and "arrival-rate" in str(s.get("executor", ""))
        for s in scenarios.values()
    )


def _offered(num: _Num, throughput: float) -> float:
    reqs, iterations = num("http_reqs", "count"), num("iterations", "count")
    per_iteration = reqs / iterations if reqs and iterations else 1.0
    dropped_rate = num("dropped_iterations", "rate") or 0.0
    return float(throughput + dropped_rate * per_iteration)


def _duration(doc: Mapping[str, Any], num: _Num, source: str) -> float | None:
    state = doc.get("state")
    if isinstance(state, dict):
        ms = json_number(state.get("testRunDurationMs"), source, "state.testRunDurationMs")
        if ms is not None:
            return ms / 1e3
    count, rate = num("http_reqs", "count"), num("http_reqs", "rate")
    return float(count / rate) if count is not None and rate else None


def _latency(trend: Mapping[str, Any], source: str, metric: str) -> Latency:
    values = {
        name: json_number(trend.get(key), source, f"metrics.{metric}.{key}")
        for key, name in _TREND_KEYS.items()
    }
    return latency_ms(values)


def _failed_checks(group: object, depth: int = 0) -> int:
    """Failed checks in a group and its subgroups (objects keyed by name, or lists)."""
    if not isinstance(group, dict) or depth > 50:
        return 0
    total = 0
    for check in _members(group.get("checks")):
        fails = check.get("fails")
        if isinstance(fails, int) and not isinstance(fails, bool) and fails > 0:
            total += fails
    return total + sum(_failed_checks(g, depth + 1) for g in _members(group.get("groups")))


def _members(raw: object) -> list[dict[str, Any]]:
    items = raw.values() if isinstance(raw, dict) else raw if isinstance(raw, list) else []
    return [x for x in items if isinstance(x, dict)]


def _summary_notes(open_loop: bool, dropped: float, errors: float | None, checks: int) -> list[str]:
    notes = [] if open_loop else [CO_NOTE]
    if dropped:
        notes.append(
            f"{dropped:g} dropped iterations: the generator or the system could not keep up"
        )
    if errors:
        notes.append(f"{errors:g} failed requests (http_req_failed)")
    if checks:
        notes.append(f"{checks} failed checks")
    return notes
