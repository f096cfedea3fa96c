"""vegeta ``report -type=json`` (docs/formats.md §3.8): one open-loop level per file.

Durations are integer nanoseconds. ``throughput`` (successful requests per second) is the
level's throughput and ``rate`` its offered rate. The report has no concurrency: a ``workers``
or ``connections`` key added to the file is used when present; otherwise the level is the mean
number of requests in flight by Little's law, L = rate × mean latency, rounded up to a whole
request (at least 1), and a note says so.

vegeta's latencies time every request, failed ones too (a timeout its whole wait): with
failures a note says so, and with none successful (``success`` 0) the latency is unknown. The
report names no URL: its target is unknown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from throughput_expert.errors import InputError
from throughput_expert.model import Latency
from throughput_expert.model.sweep import SweepLevel
from throughput_expert.sources.loadtests._common import (
    Imported,
    check_level,
    json_number,
    latency_ms,
)

__all__ = ["looks_like", "parse"]

_LATENCY_KEYS = {"mean": "mean", "50th": "p50", "90th": "p90", "95th": "p95", "99th": "p99"}


def looks_like(doc: object) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get("latencies"), dict) and "requests" in doc


def parse(doc: Mapping[str, Any], source: str) -> Imported:
    def num(key: str) -> float | None:
        return json_number(doc.get(key), source, key)

    requests, rate, throughput = num("requests"), num("rate"), num("throughput")
    if requests is None or rate is None or throughput is None:
        raise InputError("a vegeta report needs requests, rate and throughput", source=source)
    latency = _latency(doc["latencies"], source)
    level, notes = _level(doc, rate, latency, source)
    success = num("success")
    errors = None if success is None else round(requests * (1 - min(success, 1.0)))
    duration = num("duration")
    notes += _notes(doc, errors, rate, throughput)
    if errors and requests and errors >= requests:
        latency = Latency()
        notes.append(
            f"latency unknown, not 0: all {errors} requests failed (vegeta times the failures)"
        )
    elif errors:
        notes.append(
            f"the latencies include the {errors} failed requests' times (vegeta does not keep "
            "them apart; a timeout counts its whole wait)"
        )
    lv = SweepLevel(
        level,
        throughput,
        latency,
        errors,
        int(requests),
        None if duration is None else duration / 1e9,
        rate,
    )
    started = doc.get("earliest")
    return Imported(
        "vegeta",
        "open",
        (lv,),
        closed_loop=False,
        notes=tuple(f"vegeta: {n}" for n in notes),
        started_at=started if isinstance(started, str) else None,
    )


def _latency(raw: Mapping[str, Any], source: str) -> Latency:
    ns = {
        key: json_number(raw.get(key), source, f"latencies.{key}")
        for key in (*_LATENCY_KEYS, "max")
    }
    values = {_LATENCY_KEYS.get(k, k): None if v is None else v / 1e6 for k, v in ns.items()}
    return latency_ms(values)


def _level(
    doc: Mapping[str, Any], rate: float, latency: Latency, source: str
) -> tuple[float, list[str]]:
    for key in ("connections", "workers"):
        given = json_number(doc.get(key), source, key)
        if given is not None:
            return check_level(given, source, key), []
    if latency.mean_s is None:
        raise InputError(
            'no concurrency: add "workers": N (vegeta -workers) to the report', source=source
        )
    in_flight = rate * latency.mean_s
    level = max(1.0, float(math.ceil(in_flight)))
    note = (
        f"level {level:g} = mean requests in flight by Little's law, rate {rate:g}/s × mean "
        f"{latency.mean_s * 1e3:.3g} ms = {in_flight:.3g}, rounded up "
        '(add "workers": N to the report to set it)'
    )
    return level, [note]


def _notes(doc: Mapping[str, Any], errors: int | None, rate: float, throughput: float) -> list[str]:
    notes: list[str] = []
    if errors:
        notes.append(f"{errors} failed requests{_first_error(doc.get('errors'))}")
    if throughput < 0.99 * rate:
        notes.append(f"achieved {throughput:.1f} successful rps of {rate:g} offered")
    return notes


def _first_error(raw: object) -> str:
    if isinstance(raw, list) and raw and isinstance(raw[0], str):
        return f" (first: {raw[0][:120]})"
    return ""
