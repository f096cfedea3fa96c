"""The lower half of the HTML page: the analysis in sections, the evidence, the assumptions and
the inputs, each a ``<details>`` closed by default and labelled in words.

Each top-level analysis key is a section of its own, titled in words (``html_common.label``);
the plain values of the analysis are one "Key numbers" section. The sections every advisor shares
have a designed form: the headroom table (busy now, target, the rate at the target, headroom,
demand per request, what the target rate asks of each resource) and the evidence (claim, law,
inputs, result). Every other key renders by its shape, so a key a later issue adds still shows:
a mapping of scalars is a two-column table, a list of records a table with one row each (or, past
``WIDE`` columns, one card per record, so nothing scrolls sideways), anything deeper a
sub-heading. Keys are words, names of resources are words, numbers are in the unit their key
names, and outside text is escaped.

Bounded work: a table, a list or a row of cards shows its first ``MAX_ROWS`` entries (as the text
does) and says how many more the embedded JSON holds, so a plan of 1,000 components renders in
about the time of one of 60.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from throughput_expert.model.units import fmt_factor, fmt_rate
from throughput_expert.render.html_common import (
    MAX_ROWS,
    esc,
    has_unit,
    label,
    more_rows,
    prose,
    value_html,
    words,
)

__all__ = ["WIDE", "analysis", "assumptions", "evidence", "inputs"]

JSON = Any

#: a table of records with more columns than this is shown as one card per record
WIDE = 9


def analysis(a: Mapping[str, JSON]) -> str:
    """The analysis as sections: the key numbers first, then one section per structure."""
    a = {k: v for k, v in a.items() if v is not None and v != [] and v != {}}
    flat = {k: v for k, v in a.items() if not _deep(v) and not _records(v)}
    parts = [_details("a-figures", "Key numbers", _kv_table("", flat))] if flat else []
    for key, value in a.items():
        if key in flat:
            continue
        body = _DESIGNED.get(key, _generic)(key, value)
        parts.append(_details(f"a-{key}", _title(key, value), body))
    if not parts:
        return ""
    return f'<section id="analysis"><h2>Analysis in detail</h2>{"".join(parts)}</section>'


def _title(key: str, value: JSON) -> str:
    if isinstance(value, list | Mapping) and _records(value):
        return f"{label(key)} ({len(value)})"
    return label(key)


def _generic(key: str, value: JSON) -> str:
    return _tree(key, value, 3)


# -- designed sections ----------------------------------------------------------------------------


def _headroom(key: str, h: JSON) -> str:
    """Per resource: busy now against its target, the rate at the target and the headroom, the
    demand per request, and what the target rate asks of it; then the ceiling and the pool."""
    if not isinstance(h, Mapping):
        return _generic(key, h)
    resources: Mapping[str, Mapping[str, JSON]] = h.get("resources") or {}
    rows = ""
    for name, r in resources.items():
        at = r.get("at_target") or {}
        asks = ""
        if at:
            busy = value_html("utilization_pct", at.get("utilization_pct"))
            factor = at.get("demand_reduction_factor")
            if at.get("meets_target"):
                asks = f"{busy} busy: within its target"
            elif isinstance(factor, int | float):
                asks = f"{busy} busy: its demand must fall {esc(fmt_factor(factor))}"
            else:
                asks = f"{busy} busy"
        over = ' class="over"' if r.get("over_target") else ""
        rows += (
            f"<tr{over}><th>{esc(words(name))}</th>"
            f"<td>{value_html('utilization_pct', r.get('utilization_pct'))}</td>"
            f"<td>{value_html('target_pct', r.get('target_pct'))}</td>"
            f"<td>{_rate_or_why(r)}</td>"
            f"<td>{value_html('headroom_pct', r.get('headroom_pct'))}</td>"
            f"<td>{value_html('service_demand_ms', r.get('service_demand_ms'))}</td>"
            f"<td>{value_html('servers', r.get('servers'))}</td>"
            f"<td>{asks or '–'}</td>"
            f"<td>{value_html('evidence_ids', r.get('evidence_ids') or [])}</td></tr>"
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "Resource",
            "Busy now",
            "Target",
            "Rate at the target",
            "Headroom",
            "Demand per request",
            "Servers",
            "At the target rate",
            "Evidence",
        )
    )
    out = f'<table class="grid"><tr>{head}</tr>{rows}</table>' if rows else ""
    ceiling, binding = h.get("ceiling_rps"), h.get("binding_resource")
    if ceiling is not None:
        out += (
            f"<p>Ceiling {esc(fmt_rate(ceiling))}, set by "
            f"{esc(words(binding) if binding else 'no resource')}'s saturation target.</p>"
        )
    rest = {k: v for k, v in h.items() if k not in ("resources", "ceiling_rps", "binding_resource")}
    for k, v in rest.items():
        if v is None:
            continue
        out += f"<h4>{esc(label(k))}</h4>{_tree(k, v, 5)}"
    return out


def _rate_or_why(r: Mapping[str, JSON]) -> str:
    if r.get("max_rps_at_target") is not None:
        return value_html("max_rps_at_target", r["max_rps_at_target"])
    if r.get("scales_with_rate") is False:
        return '<span class="na">does not grow with load</span>'
    return value_html("max_rps_at_target", None)


def _current(key: str, c: JSON) -> str:
    """Today's throughput: the figures, with the utilization per resource in words."""
    if not isinstance(c, Mapping):
        return _generic(key, c)
    return _kv_table(key, {k: v for k, v in c.items() if v is not None and v != {}})


_DESIGNED: dict[str, Callable[[str, JSON], str]] = {
    "headroom": _headroom,
    "current_throughput": _current,
}


# -- by shape -------------------------------------------------------------------------------------


def _tree(key: str, value: JSON, depth: int) -> str:
    if _records(value):
        return _record_table(key, value)
    if isinstance(value, Mapping) and value:
        value = {k: v for k, v in value.items() if v is not None}
        flat = {k: v for k, v in value.items() if not _deep(v)}
        deep = {k: v for k, v in value.items() if _deep(v)}
        out = _kv_table(key, flat) if flat else ""
        h = f"h{min(depth, 6)}"
        for k, v in deep.items():
            out += f"<{h}>{esc(label(k))}</{h}>{_tree(k, v, depth + 1)}"
        return out
    if isinstance(value, list) and value and not all(_scalar(v) for v in value):
        items = "".join(f"<li>{_tree(key, v, depth + 1)}</li>" for v in value[:MAX_ROWS])
        return f"<ul>{items}</ul>{more_rows(min(len(value), MAX_ROWS), len(value), 'items')}"
    if isinstance(value, list) and len(value) > 1 and key != "evidence_ids":
        items = "".join(f"<li>{_cell(key, v)}</li>" for v in value[:MAX_ROWS])
        return f"<ul>{items}</ul>{more_rows(min(len(value), MAX_ROWS), len(value), 'items')}"
    return f"<p>{_cell(key, value)}</p>"


def _scalar(v: JSON) -> bool:
    return not isinstance(v, Mapping | list) or (isinstance(v, list) and all(map(_scalar, v)))


def _deep(v: JSON) -> bool:
    """Whether ``v`` needs its own sub-heading rather than one table cell."""
    if isinstance(v, Mapping):
        return bool(v) and (len(v) > 3 or not all(_scalar(x) for x in v.values()))
    return isinstance(v, list) and not all(_scalar(x) for x in v)


def _records(v: JSON) -> bool:
    """A non-empty list of mappings, or a mapping whose values are all mappings: one row each."""
    if isinstance(v, list):
        return bool(v) and all(isinstance(x, Mapping) for x in v)
    return isinstance(v, Mapping) and bool(v) and all(isinstance(x, Mapping) for x in v.values())


def _unit_key(parent: str, key: str) -> str:
    """The key whose suffix gives the unit: ``utilization_pct: {cpu: 45}`` shows cpu in %."""
    return key if has_unit(key) or not has_unit(parent) else parent


def _cell(key: str, value: JSON) -> str:
    if isinstance(value, Mapping):
        shown = {k: v for k, v in value.items() if v is not None}
        if not shown:
            return "–"
        return "; ".join(
            f'<span class="pair">{esc(label(k))} {_cell(_unit_key(key, k), v)}</span>'
            for k, v in shown.items()
        )
    if isinstance(value, list) and not value:
        return "–"
    if isinstance(value, list) and not all(_scalar(v) for v in value):
        return "; ".join(_cell(key, v) for v in value)
    return value_html(key, value)


def _kv_table(parent: str, flat: Mapping[str, JSON]) -> str:
    shown = list(flat.items())[:MAX_ROWS]
    rows = "".join(
        f"<tr><th>{esc(label(k))}</th><td>{_cell(_unit_key(parent, k), v)}</td></tr>"
        for k, v in shown
    )
    return f'<table class="kv">{rows}</table>{more_rows(len(shown), len(flat), "entries")}'


def _record_table(parent: str, records: Mapping[str, JSON] | Sequence[JSON]) -> str:
    """One row per record; past ``WIDE`` columns, one card per record (nothing scrolls)."""
    named = isinstance(records, Mapping)
    rows: list[tuple[str, Mapping[str, JSON]]] = (
        [(str(k), v) for k, v in list(records.items())[:MAX_ROWS]]
        if isinstance(records, Mapping)
        else [("", r) for r in records[:MAX_ROWS]]
    )
    more = more_rows(len(rows), len(records), "rows")
    columns: list[str] = []
    for _, r in rows:
        columns += [k for k in r if k not in columns and _shown(r.get(k))]
    columns = [c for c in columns if any(_shown(r.get(c)) for _, r in rows)]
    if len(columns) + named > WIDE:
        cards = "".join(
            "<div>"
            + (f"<h5>{esc(words(name))}</h5>" if named else "")
            + _kv_table(parent, {c: r[c] for c in columns if _shown(r.get(c))})
            + "</div>"
            for name, r in rows
        )
        return f'<div class="cards">{cards}</div>{more}'
    head = ("<th></th>" if named else "") + "".join(f"<th>{esc(label(c))}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + (f"<th>{esc(words(name))}</th>" if named else "")
        + "".join(f"<td>{_cell(_unit_key(parent, c), r.get(c))}</td>" for c in columns)
        + "</tr>"
        for name, r in rows
    )
    return f'<table class="grid"><tr>{head}</tr>{body}</table>{more}'


def _shown(v: JSON) -> bool:
    return v is not None and v != [] and v != {}


# -- evidence, assumptions, inputs ----------------------------------------------------------------


def evidence(items: Sequence[Mapping[str, JSON]]) -> str:
    """Every law applied: the claim, the law, its inputs and its result, one row each."""
    if not items:
        return ""
    rows = "".join(
        f'<tr class="ev" id="ev-{esc(e["id"])}"><td><code>{esc(e["id"])}</code></td>'
        f"<td>{prose(e['claim'])}</td>"
        f'<td class="law">{prose(e["law"])}</td>'
        f"<td>{_pairs('inputs', e.get('inputs'))}</td>"
        f"<td>{_pairs('result', e.get('result'))}</td></tr>"
        for e in items[:MAX_ROWS]
    )
    head = "<tr><th>Id</th><th>Claim</th><th>Law</th><th>Inputs</th><th>Result</th></tr>"
    more = more_rows(min(len(items), MAX_ROWS), len(items), "pieces of evidence")
    table = f'<table class="grid evidence">{head}{rows}</table>{more}'
    return _details("evidence", f"Evidence: the laws applied ({len(items)})", table)


def _pairs(parent: str, value: JSON) -> str:
    """A law's inputs or result, one per line: "Throughput 10K rps"."""
    if isinstance(value, Mapping):
        if not value:
            return "–"
        shown = list(value.items())[:MAX_ROWS]
        return "".join(
            f'<div class="pair">{esc(label(k))} {_cell(_unit_key(parent, k), v)}</div>'
            for k, v in shown
        ) + more_rows(len(shown), len(value), "entries")
    return _cell(parent, value)


def assumptions(items: Sequence[Mapping[str, JSON]]) -> str:
    if not items:
        return ""
    rows = "".join(
        f"<tr><th>{prose(a['what'])}</th><td>{_cell('value', a.get('value'))}</td>"
        f"<td>{prose(a['why'])}</td></tr>"
        for a in items[:MAX_ROWS]
    )
    more = more_rows(min(len(items), MAX_ROWS), len(items), "assumptions")
    table = (
        f'<table class="grid"><tr><th>What</th><th>Value</th><th>Why</th></tr>{rows}</table>{more}'
    )
    return _details("assumptions", f"Assumptions ({len(items)})", table)


def inputs(items: Sequence[Mapping[str, JSON]]) -> str:
    if not items:
        return ""
    rows = "".join(
        f"<tr><td><code>{esc(i['source'])}</code></td><td>{esc(words(i['kind']))}</td>"
        f"<td>{prose(i.get('detail', ''))}</td></tr>"
        for i in items[:MAX_ROWS]
    )
    more = more_rows(min(len(items), MAX_ROWS), len(items), "inputs")
    table = (
        f'<table class="grid"><tr><th>Source</th><th>Kind</th><th>Detail</th></tr>{rows}</table>'
        + more
    )
    return _details("inputs", f"Inputs read ({len(items)})", table)


def _details(anchor: str, title: str, body: str) -> str:
    """A section one click away: closed by default, titled in words."""
    return f'<details id="{esc(anchor)}"><summary>{esc(title)}</summary>{body}</details>'
