"""Ask a running Prometheus: the USE-method queries, evaluated by the server, kept as an export.

The outside world is one narrow ``PrometheusSource`` (``query(promql, at) -> API JSON``):
``HttpPrometheus`` speaks ``GET /api/v1/query`` over ``http.client`` (``http``);
``StaticPrometheus`` answers from a dict and ships for tests and offline use. ``collect`` runs
the queries of ``sources/data/prometheus_queries.yaml`` (docs/formats.md §1.4) at one instant, so
Prometheus (or Thanos, Mimir) does the ``rate()`` work and only small vectors travel, and returns an
``Export``: the docs/formats.md §5.2 document plus what is missing and why. A query that fails,
times out or returns nothing is *missing*, with the query named: never a zero.

Secrets (bearer token, basic-auth password) live only in request headers: the export's
``server`` is the URL without userinfo, and error messages are scrubbed of them.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
import math
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any, Protocol

from throughput_expert.errors import InputError, MeasurementError, Parameter
from throughput_expert.model import ServiceMetrics
from throughput_expert.outputs import write_atomically
from throughput_expert.safe_text import terminal_safe
from throughput_expert.sources.prometheus.api import EXPORT_FORMAT, load_api_document
from throughput_expert.sources.prometheus.http import SHOWN_CHARS, HttpPrometheus

__all__ = [
    "Export",
    "HttpPrometheus",
    "PrometheusSource",
    "QueryResult",
    "StaticPrometheus",
    "collect",
    "default_queries",
    "export_to_metrics",
    "parse_at",
    "plan_queries",
    "queries_from_mapping",
    "save_export",
    "scrape_interval",
    "window_seconds",
]

EMPTY: Mapping[str, Any] = {"status": "success", "data": {"resultType": "vector", "result": []}}
MIN_SAMPLES = 4  # docs/formats.md §1.4: a range of at least 4 scrape intervals
_DURATION = re.compile(r"(?:[0-9]+(?:ms|s|m|h|d|w|y))+")
_UNIT_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_QUANTILE = re.compile(r"^\s*(?:histogram_quantile|quantile_over_time)\s*\(\s*([0-9.]+)")
_LATENCY_BY_Q = {0.5: "p50", 0.9: "p90", 0.95: "p95", 0.99: "p99"}
_ONLY_NAN = "only NaN values (0/0: no events in the window)"
MAX_WINDOW_CHARS = 40  # a duration, a time or a quantile longer than this is not read
MAX_WINDOW_S = 365 * 86400.0  # Prometheus's 1y
MAX_AT_S = 1e10


class PrometheusSource(Protocol):
    """Anything that answers an instant PromQL query with the API's JSON (docs/formats.md §1.1).

    An answer from the server, an error envelope included, is returned as is; no usable answer
    (unreachable, timed out, not the API) raises ``MeasurementError``.
    """

    server: str

    def query(self, promql: str, at: float | None) -> object: ...


# --- the static source ----------------------------------------------------------------------


@dataclass
class StaticPrometheus:
    """Answers from a dict ``promql -> response``; a query it does not know gets an empty vector.

    A response that is an exception is raised instead (to play a timeout or a dead server).
    ``asked`` records every query with its time.
    """

    responses: Mapping[str, object]
    server: str = "static://prometheus"
    asked: list[tuple[str, float | None]] = field(default_factory=list)

    @classmethod
    def from_export(cls, doc: Mapping[str, Any]) -> StaticPrometheus:
        """Replays a saved export's answers (offline use)."""
        queries = doc.get("queries") or {}
        answers = {q["promql"]: q["response"] for q in queries.values() if isinstance(q, dict)}
        return cls(answers, server=str(doc.get("server", cls.server)))

    def query(self, promql: str, at: float | None) -> object:
        self.asked.append((promql, at))
        answer = self.responses.get(promql, EMPTY)
        if isinstance(answer, BaseException):
            raise answer
        return copy.deepcopy(answer)


# --- the queries ----------------------------------------------------------------------------


_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def default_queries() -> dict[str, tuple[str, ...]]:
    """The packaged ``prometheus_queries.yaml``: signal name -> PromQL templates, in order."""
    path = resources.files("throughput_expert.sources").joinpath("data", "prometheus_queries.yaml")
    source = "throughput_expert/sources/data/prometheus_queries.yaml"
    from throughput_expert.sources.yaml_safe import load_yaml

    return queries_from_mapping(load_yaml(path.read_text("utf-8"), source), source=source)


def queries_from_mapping(raw: object, *, source: str) -> dict[str, tuple[str, ...]]:
    """Name -> templates from ``{node: {...}, service: {...}}`` or a flat mapping."""
    if not isinstance(raw, Mapping):
        raise InputError("expected a mapping of name: PromQL", source=source)
    out: dict[str, tuple[str, ...]] = {}
    for key, value in raw.items():
        if key in ("node", "service") and isinstance(value, Mapping):
            out.update(queries_from_mapping(value, source=source))
        elif isinstance(value, str) and value.strip():
            out[str(key)] = (value,)
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            out[str(key)] = tuple(value)
        else:
            raise InputError("expected PromQL or a list of PromQL", source=source, field=str(key))
    return out


def plan_queries(
    window: str,
    *,
    instance: str | None = None,
    service_query: str | None = None,
    latency_query: str | None = None,
    queries: Mapping[str, str | Sequence[str]] | None = None,
    labels: Mapping[str, str] | None = None,
) -> dict[str, tuple[str, ...]]:
    """The PromQL to run per signal, placeholders filled (``{window}``, ``{selector}``)."""
    templates = default_queries()
    for name, value in (queries or {}).items():
        templates[name] = (value,) if isinstance(value, str) else tuple(value)
    if service_query:
        templates["service_rps"] = (service_query,)
    if latency_query:
        templates = {k: v for k, v in templates.items() if not k.startswith("service_latency_")}
        templates[_latency_name(latency_query)] = (latency_query,)
    selector = label_selector(instance, labels)

    def fill(text: str) -> str:
        return " ".join(text.replace("{window}", window).replace("{selector}", selector).split())

    return {name: tuple(fill(t) for t in ts) for name, ts in templates.items()}


def label_selector(instance: str | None, labels: Mapping[str, str] | None = None) -> str:
    """``instance="x",job="y"``: the matchers that go inside a query's braces."""
    pairs = dict(labels or {})
    if instance:
        pairs["instance"] = instance
    for key in pairs:
        if not _LABEL.fullmatch(key):
            raise InputError("not a Prometheus label name", source="prometheus", field=key)
    return ",".join(f'{k}="{_escape(v)}"' for k, v in pairs.items())


def _latency_name(promql: str) -> str:
    """A quantile query names its percentile; anything else is the mean latency."""
    found = _QUANTILE.match(promql)
    if not found:
        return "service_latency_mean_s"
    try:
        quantile = float(found.group(1)) if len(found.group(1)) <= MAX_WINDOW_CHARS else None
    except ValueError:
        quantile = None
    key = _LATENCY_BY_Q.get(quantile) if quantile is not None else None
    if key is None:
        raise InputError(
            f"quantile {terminal_safe(found.group(1), 40)} has no signal: use 0.5, 0.9, 0.95 "
            "or 0.99",
            source=Parameter("latency_query"),
        )
    return f"service_latency_{key}_s"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def window_seconds(window: str) -> float:
    """A Prometheus duration (``5m``, ``1h30m``) in seconds, from 1 ms to a year (``1y``); the
    text's length is checked before its numbers are read."""
    if len(window) > MAX_WINDOW_CHARS or not _DURATION.fullmatch(window):
        raise InputError(
            f"{terminal_safe(repr(window), 40)} is not a Prometheus duration such as 5m",
            source=Parameter("window"),
        )
    seconds = math.fsum(
        int(n) * _UNIT_S[u] for n, u in re.findall(r"([0-9]+)(ms|s|m|h|d|w|y)", window)
    )
    if not 0 < seconds <= MAX_WINDOW_S:
        raise InputError(
            f"{window} is not a positive duration up to 1y (365d)", source=Parameter("window")
        )
    return seconds


def parse_at(text: str) -> float:
    """``--at``: Unix seconds, or an ISO 8601 / RFC 3339 time (without an offset: UTC); from
    0 to ``MAX_AT_S`` (the year 2286)."""
    shown = terminal_safe(repr(text), 40)
    try:
        at = float(text) if len(text) <= MAX_WINDOW_CHARS else math.nan
    except ValueError:
        try:
            moment = dt.datetime.fromisoformat(text.strip())
        except ValueError:
            raise InputError(
                f"{shown} is neither Unix seconds nor an ISO 8601 time", source=Parameter("at")
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        at = moment.timestamp()
    if not 0 <= at <= MAX_AT_S:  # NaN fails too
        raise InputError(
            f"{shown} is not a time from 1970 to 2286 (Unix seconds 0 to {MAX_AT_S:.0e})",
            source=Parameter("at"),
        )
    return at


# --- the export -----------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryResult:
    """One signal's query and the server's answer; ``missing`` says why it gave no data."""

    promql: str
    response: object | None
    missing: str | None = None
    warnings: tuple[str, ...] = ()
    tried: tuple[tuple[str, str], ...] = ()  # earlier candidates: (promql, why not used)

    @property
    def answered(self) -> bool:
        """The server answered with series data (possibly empty), usable in an export."""
        return _is_series(self.response)


@dataclass(frozen=True)
class Export:
    """What ``collect`` asked and got: docs/formats.md §5.2 plus the missing queries."""

    server: str
    window: str
    at: float
    queries: Mapping[str, QueryResult]
    scrape_interval_s: float | None = None
    scrape_interval_from: str = ""

    @property
    def missing(self) -> dict[str, QueryResult]:
        return {n: r for n, r in self.queries.items() if r.missing is not None}

    @property
    def partial(self) -> bool:
        """Some signal is missing, or the server warned (e.g. a partial response)."""
        return bool(self.missing) or any(r.warnings for r in self.queries.values())

    def to_json(self) -> dict[str, Any]:
        missing = [_missing_json(name, r) for name, r in sorted(self.missing.items())]
        warnings = [{"name": n, "warning": w} for n, r in self.queries.items() for w in r.warnings]
        return {
            "format": EXPORT_FORMAT,
            "version": 1,
            "server": self.server,
            "window": self.window,
            "at": self.at,
            "scrape_interval_s": self.scrape_interval_s,
            "scrape_interval_from": self.scrape_interval_from,
            "partial": self.partial,
            "queries": {
                name: {"promql": r.promql, "response": r.response}
                for name, r in self.queries.items()
                if r.answered
            },
            "missing": missing,
            "warnings": warnings,
        }

    def notes(self) -> tuple[str, ...]:
        """One line per missing signal, naming its query."""
        return tuple(
            f"{name}: not measured ({r.missing}); query: {r.promql}"
            for name, r in sorted(self.missing.items())
        )


def _missing_json(name: str, r: QueryResult) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "promql": r.promql, "reason": r.missing}
    if isinstance(r.response, dict) and r.response.get("status") == "error":
        out["response"] = r.response
    if r.tried:
        out["tried"] = [{"promql": q, "reason": why} for q, why in r.tried]
    return out


def save_export(export: Export, path: str | os.PathLike[str]) -> None:
    """Write the export (docs/formats.md §5.2) atomically; ``--metrics`` reads it back."""
    text = json.dumps(export.to_json(), indent=1, allow_nan=False) + "\n"
    write_atomically(path, text, source=Parameter("save"))


def export_to_metrics(export: Export, *, service: str | None = None) -> ServiceMetrics:
    """The export read as ``--metrics`` reads its saved file, plus a note per missing signal."""
    metrics = load_api_document(export.to_json(), source=export.server, service=service)
    noted = {n.partition(":")[0] for n in metrics.notes}
    extra = tuple(n for n in export.notes() if n.partition(":")[0] not in noted)
    return metrics.with_(notes=metrics.notes + extra)


# --- collect --------------------------------------------------------------------------------


def collect(
    source: PrometheusSource,
    *,
    window: str = "5m",
    at: float | None = None,
    instance: str | None = None,
    service_query: str | None = None,
    latency_query: str | None = None,
    queries: Mapping[str, str | Sequence[str]] | None = None,
    clock: Callable[[], float] = time.time,
    labels: Mapping[str, str] | None = None,
) -> Export:
    """Run every signal's query at one instant ``at`` (default: now) over ``window``; a source
    with a total deadline (``HttpPrometheus.deadline``) gives all of them one."""
    deadline = getattr(source, "deadline", None)
    with deadline() if callable(deadline) else contextlib.nullcontext():
        return _collect(
            source,
            window=window,
            at=at,
            instance=instance,
            service_query=service_query,
            latency_query=latency_query,
            queries=queries,
            clock=clock,
            labels=labels,
        )


def _collect(
    source: PrometheusSource,
    *,
    window: str,
    at: float | None,
    instance: str | None,
    service_query: str | None,
    latency_query: str | None,
    queries: Mapping[str, str | Sequence[str]] | None,
    clock: Callable[[], float],
    labels: Mapping[str, str] | None,
) -> Export:
    window_s = window_seconds(window)
    at_s = clock() if at is None else at
    plan = plan_queries(
        window,
        instance=instance,
        service_query=service_query,
        latency_query=latency_query,
        queries=queries,
        labels=labels,
    )
    selector = label_selector(instance, labels)
    interval, how = scrape_interval(source, window, window_s, at_s, selector)
    flags = {"service_rps": Parameter("service_query")} if service_query else {}
    if latency_query:
        flags[_latency_name(latency_query)] = Parameter("latency_query")
    results = {name: _ask(source, ps, at_s, flags.get(name)) for name, ps in plan.items()}
    if not any(r.missing is None for r in results.values()):
        first = next(iter(results.items()), None)
        why = f"; first: {first[0]}: {first[1].missing}" if first else ""
        raise MeasurementError(f"no query returned data{why}", source=source.server)
    return Export(source.server, window, at_s, results, interval, how)


def scrape_interval(
    source: PrometheusSource, window: str, window_s: float, at: float, selector: str
) -> tuple[float | None, str]:
    """The scrape interval from the spacing of ``up`` samples; a window under 4 is refused.

    ``count_over_time(up[W])`` counts each target's samples in the window: the interval is
    about W / count. Fewer than 4 samples means ``rate()`` over W has too little to go on.
    """
    promql = f"min(count_over_time(up{{{selector}}}[{window}]))"
    doc = source.query(promql, at)
    if isinstance(doc, dict) and doc.get("status") == "error":
        raise MeasurementError(_server_error(doc), source=source.server, field=promql)
    values = [v for v in _values(doc) if math.isfinite(v) and v >= 0]
    if not values:
        return None, f"unknown: {promql} returned no samples, so the window was not checked"
    count = min(values)
    interval = window_s / count if count > 0 else math.inf
    how = f"about {interval:.3g} s: {count:g} samples of up in {window} ({promql})"
    if count < MIN_SAMPLES:
        need = math.ceil(MIN_SAMPLES * interval) if math.isfinite(interval) else None
        hint = f": use at least {need}s" if need else ""
        raise InputError(
            f"{window} holds {count:g} samples per target (scrape interval {how}); rate() "
            f"needs at least {MIN_SAMPLES} scrape intervals{hint}",
            source=Parameter("window"),
        )
    return interval, how


def _ask(
    source: PrometheusSource, candidates: Sequence[str], at: float, flag: str | None
) -> QueryResult:
    """The first candidate with data; else the last answer, missing with the reason."""
    results: list[QueryResult] = []
    for promql in candidates:
        results.append(_one(source, promql, at, flag))
        if results[-1].missing in (None, _ONLY_NAN):  # NaN: the metric exists, stop here
            break
    earlier = tuple((r.promql, r.missing or "") for r in results[:-1])
    return replace(results[-1], tried=earlier)


def _one(source: PrometheusSource, promql: str, at: float, flag: str | None) -> QueryResult:
    try:
        doc = source.query(promql, at)
    except MeasurementError as exc:
        return QueryResult(promql, None, exc.message)
    warnings = _warnings(doc)
    if isinstance(doc, dict) and doc.get("status") == "error":
        if flag:
            raise InputError(_server_error(doc), source=flag, field=promql)
        return QueryResult(promql, doc, _server_error(doc), warnings)
    if not _is_series(doc):
        if flag:
            raise InputError("the query must give a vector or a matrix", source=flag, field=promql)
        return QueryResult(promql, doc, "not a vector or matrix answer", warnings)
    values = _values(doc)
    if not values:
        return QueryResult(promql, doc, "the query returned no series", warnings)
    if all(math.isnan(v) for v in values):
        return QueryResult(promql, doc, _ONLY_NAN, warnings)
    return QueryResult(promql, doc, None, warnings)


def _server_error(doc: Mapping[str, Any]) -> str:
    """The server's error, its text escaped and cut (``terminal_safe``): a carriage return in
    it shows as ``\\r`` and cannot overwrite the line a user reads."""
    kind = terminal_safe(str(doc.get("errorType", "error")), 40)
    text = terminal_safe(str(doc.get("error", "no error text")), SHOWN_CHARS)
    return f"the server answered {kind}: {text}"


def _warnings(doc: object) -> tuple[str, ...]:
    """The server's warnings (a partial answer, say), escaped and cut, at most ten."""
    raw = doc.get("warnings") if isinstance(doc, dict) else None
    if not isinstance(raw, list):
        return ()
    return tuple(terminal_safe(str(w), SHOWN_CHARS) for w in raw[:10])


def _is_series(doc: object) -> bool:
    if not isinstance(doc, dict) or doc.get("status") != "success":
        return False
    data = doc.get("data")
    return isinstance(data, dict) and data.get("resultType") in ("vector", "matrix")


def _values(doc: object) -> list[float]:
    """Every sample value of a vector or matrix answer (unparsable ones skipped: a wrong shape
    or a value out of range is the reader's to name, when the export is read)."""
    if not _is_series(doc):
        return []
    assert isinstance(doc, dict)
    result = doc["data"].get("result")
    out: list[float] = []
    for item in result if isinstance(result, list) else ():
        if not isinstance(item, dict):
            continue
        pairs = [item.get("value")] if "value" in item else item.get("values")
        for pair in pairs if isinstance(pairs, list) else ():
            try:
                text = pair[1]
                # a number longer than a float needs is out of range: the export's reader says so
                out.append(float(text) if len(text) <= 40 else math.inf)
            except (TypeError, ValueError, IndexError, KeyError):
                continue
    return out
