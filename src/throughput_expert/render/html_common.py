"""Shared pieces of the HTML renderer: escaping, words for keys, values shown by their unit.

The JSON form carries the unit in the key (``_rps``, ``_ms``, ``_pct``, ``_bytes``, ``_s``); the
page shows each number in its human form through ``model.units``, the one place units are
formatted, and each key as words (``label``: a table of the report's keys, the unit suffix
dropped because the value shows it; an unknown key humanised). Resource and bottleneck names
(``disk_io``, ``io_disk``) are shown in words wherever they occur (``words``, ``prose``); other
identifiers in outside text (``io_uring``, an input key) are set as code. Outside text is made
UTF-8 safe (lone surrogates) and escaped. Nothing here computes a finding.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from typing import Any

from throughput_expert.model.units import fmt_bytes, fmt_count, fmt_duration, fmt_pct, fmt_rate
from throughput_expert.render.text_common import MAX_ROWS, MAX_VALUES
from throughput_expert.safe_text import page_safe

__all__ = [
    "MAX_ROWS",
    "Figure",
    "bottleneck_figure",
    "dig",
    "esc",
    "evidence_links",
    "has_unit",
    "label",
    "more_rows",
    "prose",
    "value_html",
    "words",
]

Figure = tuple[str, str, str]  # a key figure of the page: label, value, note (plain text)


def more_rows(shown: int, total: int, what: str) -> str:
    """The line under a table or list cut at ``shown`` of ``total`` (``MAX_ROWS``, as the text
    shows): how many more the report's JSON, embedded in the page, holds; empty when none."""
    if total <= shown:
        return ""
    return (
        f'<p class="more">… {total - shown:,} more {esc(what)} in the report\'s JSON '
        "(embedded in this page)</p>"
    )


def esc(text: object) -> str:
    """Text made safe for HTML content and attribute values (lone surrogates replaced)."""
    return html.escape(page_safe(str(text)), quote=True)


#: resources, bottleneck types and other names the reports use as values, in words
WORDS: dict[str, str] = {
    "cpu": "CPU",
    "memory": "Memory",
    "disk_io": "Disk I/O",
    "io_disk": "Disk I/O",
    "network": "Network",
    "io_network": "Network I/O",
    "network_io": "Network I/O",
    "workers": "Worker pool",
    "pool": "Worker pool",
    "contention": "Lock contention",
    "downstream": "Downstream",
    "gil": "GIL",
    "io": "I/O",
    "mixed": "Mixed",
    "none": "None found",
}

#: the report's keys in words, without the unit the value shows; other keys are humanised
LABELS: dict[str, str] = {
    "avg_processing_time_ms": "Mean processing time",
    "processing_time_source": "Processing time from",
    "utilization_pct": "Busy",
    "target_pct": "Saturation target",
    "max_rps_at_target": "Rate at the target",
    "headroom_pct": "Headroom",
    "over_target": "Over its target",
    "scales_with_rate": "Grows with load",
    "service_demand_ms": "Demand per request",
    "demand_ms": "Demand per request",
    "demand_reduction_factor": "Demand must fall by",
    "meets_target": "Meets its target",
    "at_target": "At the target rate",
    "evidence_ids": "Evidence",
    "ceiling_rps": "Ceiling",
    "binding_resource": "Binding resource",
    "binding": "Binding resource",
    "binding_today": "Binding today",
    "busy_target_pct": "Busy target",
    "time_per_item_ms": "Time per item",
    "sum_of_demands_ms": "Sum of the demands per item",
    "throughput_rps": "Throughput",
    "rps": "Throughput",
    "knee_rps": "Latency doubles at",
    "saturation_rps": "Saturates at",
    "at_ceiling_ms": "Latency at the ceiling",
    "at_target_ms": "Latency at the target",
    "current_ms": "Latency now",
    "includes_unexplained_ms": "Includes unexplained time",
    "unexplained_ms": "Unexplained time",
    "unexplained_share_pct": "Unexplained share",
    "available": "Available",
    "r_squared": "R²",
    "sigma": "σ (contention)",
    "kappa": "κ (coherency)",
    "p_wait": "P(wait)",
    "c0_ms": "Fixed cost per call",
    "c1_ms": "Cost per item",
    "lambda_rps": "Arrival rate",
    "psi_cpu": "CPU pressure (PSI)",
    "psi_memory": "Memory pressure (PSI)",
    "psi_io": "I/O pressure (PSI)",
    "run_queue_per_core": "Run queue per core",
    "iowait_pct": "I/O wait",
    "cpu_steal": "CPU steal",
    "min_replicas": "Min replicas",
    "max_replicas": "Max replicas",
    "usl": "Universal Scalability Law",
    "erlang": "Erlang C",
    "async": "Async I/O",
    "gil": "GIL",
    "slo_ms": "Latency SLO",
    "hot_paths": "Hot paths",
    "on_cpu_pct": "On CPU",
    "gain_vs_current": "Gain over today",
    "what_else": "What else is needed",
    "why": "Why",
    "fanout": "Fan-out",
    "cpu_cores": "CPU cores",
    "wait_time": "Wait time",
    "compute_time": "Compute time",
    "id": "Id",
    "workers": "Workers",
    "max_rps": "Max rate",
    "rps_per_instance": "Rate per instance",
    "law": "Law",
}

_UNITS = ("_rps", "_ms", "_pct", "_bytes", "_s")
_IDENT = re.compile(r"(?<![\w./:-])([A-Za-z][\w./:-]*_[\w./:-]*[\w/])")


def label(key: str) -> str:
    """A JSON key in words: ``max_rps_at_target`` -> "Rate at the target", an unknown
    ``queue_depth_vs_time`` -> "Queue depth vs time" (the unit suffix dropped: the value shows it).
    """
    key = str(key)
    if key.startswith("signal:"):
        key = key.removeprefix("signal:")
    if key in LABELS:
        return LABELS[key]
    if key in WORDS:
        return WORDS[key]
    for suffix in _UNITS:
        if key.endswith(suffix) and len(key) > len(suffix):
            key = key.removesuffix(suffix)
            break
    if key in LABELS:
        return LABELS[key]
    text = " ".join(WORDS.get(w, w) if w in ("cpu", "gil", "io") else w for w in key.split("_"))
    text = text.replace("  ", " ").strip()
    return text[:1].upper() + text[1:]


def words(name: object) -> str:
    """A resource, bottleneck type or other named value in words ("Disk I/O"); any other
    snake_case token humanised; a name written by the user (with no underscore) unchanged."""
    text = str(name)
    if text in WORDS:
        return WORDS[text]
    if re.fullmatch(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+", text):
        return label(text)
    return text


_IN_PROSE = {k: v for k, v in WORDS.items() if "_" in k}
_IN_PROSE_RE = re.compile(r"(?<![\w./:-])(" + "|".join(map(re.escape, _IN_PROSE)) + r")(?![\w/:-])")


def prose(text: object) -> str:
    """Outside text as HTML: escaped, resource keys in words (``disk_io`` -> "disk I/O"),
    every other identifier (``io_uring``, ``memory_grows_with_rate``) set as code."""
    plain = _IN_PROSE_RE.sub(lambda m: _lower_first(_IN_PROSE[m.group(1)]), page_safe(str(text)))
    out: list[str] = []
    last = 0
    for m in _IDENT.finditer(plain):
        out += [esc(plain[last : m.start()]), f"<code>{esc(m.group(1))}</code>"]
        last = m.end()
    out.append(esc(plain[last:]))
    return "".join(out)


def _lower_first(text: str) -> str:
    """ "Disk I/O" -> "disk I/O" inside a sentence; an acronym ("CPU", "GIL") stays."""
    return text if text[:2].isupper() else text[:1].lower() + text[1:]


def dig(doc: Any, *path: str) -> Any:
    """``doc[path[0]][path[1]]...``, or None where any step is missing."""
    for key in path:
        if not isinstance(doc, Mapping):
            return None
        doc = doc.get(key)
    return doc


_BY_SUFFIX: tuple[tuple[str, Callable[[float], str]], ...] = (
    ("_rps", fmt_rate),
    ("_ms", lambda v: fmt_duration(v / 1e3)),
    ("_pct", lambda v: fmt_pct(v / 100)),
    ("_bytes", fmt_bytes),
    ("_s", fmt_duration),
)


#: keys that are a unit alone (``current_throughput.rps``)
_BARE = frozenset(("rps", "ms", "pct"))


def has_unit(key: str) -> bool:
    """Whether the key names a unit (``_rps``, ``_ms``, ``_pct``, ``_bytes``, ``_s``)."""
    return any(
        key.endswith(suffix) or (key in _BARE and key == suffix[1:]) for suffix, _ in _BY_SUFFIX
    )


def value_html(key: str, value: Any) -> str:
    """One scalar (or a list of scalars) as escaped HTML, in the unit its key names."""
    if value is None:
        return '<span class="na">n/a</span>'
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key in ("evidence_ids", "evidence_id"):
        return evidence_links(value if isinstance(value, list) else [value])
    if isinstance(value, int | float):
        return esc(_number(key, value))
    if isinstance(value, list):
        shown = ", ".join(
            esc(_number(key, v)) if isinstance(v, int | float) else prose(v)
            for v in value[:MAX_VALUES]
        )
        return shown + _more_values(len(value))
    if key in _NAMED:
        return esc(words(value))
    if key in _CODE:
        return f"<code>{esc(value)}</code>"
    return prose(value)


#: keys whose value is code: a file, a path, a function, a query
_CODE = frozenset(("file", "path", "function", "top_function", "top_site", "query", "selector"))


#: keys whose string value is a resource, a type or a kind: shown in words
_NAMED = frozenset(
    (
        "type",
        "resource",
        "binding",
        "binding_resource",
        "binding_today",
        "bottleneck_type",
        "bottleneck",
        "kind",
        "workload",
        "station",
        "signal",
        "resource_type",
        "category",
        "state",
        "basis",
        "mode",
        "level_kind",
        "driver_kind",
    )
)


def _number(key: str, value: float) -> str:
    """The number in its unit, kept on one line ("88.9\u00a0%"); -0 is 0."""
    return _unit_of(key, 0 if value == 0 else value).replace(" ", "\u00a0")


def _unit_of(key: str, value: float) -> str:
    for suffix, fmt in _BY_SUFFIX:
        if key.endswith(suffix) or (key in _BARE and key == suffix[1:]):
            return fmt(value)
    if "_rps_" in key:  # max_rps_at_target
        return fmt_rate(value)
    if isinstance(value, int):
        return str(value)
    return fmt_count(value) if abs(value) >= 1000 else f"{value:.4g}"


def evidence_links(ids: list[Any]) -> str:
    """Links to the evidence entries (a closed ``<details>`` opens on the link)."""
    shown = ", ".join(f'<a href="#ev-{esc(i)}"><code>{esc(i)}</code></a>' for i in ids[:MAX_VALUES])
    return shown + _more_values(len(ids))


def _more_values(total: int) -> str:
    """ ", … N more" after a list of values cut at ``MAX_VALUES`` (as the text view cuts it)."""
    return f", … {total - MAX_VALUES:,} more" if total > MAX_VALUES else ""


def bottleneck_figure(kind: str | None, place: str | None, component: str | None) -> Figure:
    """The page's "Bottleneck" card in words: its type ("Disk I/O"), where it is when that says
    more ("CPU (serialization)"), the component as the user named it."""
    what = words(kind) if kind else "None found"
    where = words(place) if place else ""
    if where and where.lower() != what.lower():
        what += f" ({_lower_first(where)})"
    return "Bottleneck", what, f"in {component}" if component else ""
