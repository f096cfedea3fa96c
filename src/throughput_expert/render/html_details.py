"""The lower half of the HTML page, each part one click away in a ``<details>``: the whole
analysis as tables, the evidence, the assumptions and the inputs.

The analysis is shown generically, so every command (and every key a later issue adds) renders:
a mapping of scalars is a two-column table, a list of records or a mapping of records is a table
with one row each, anything deeper is a sub-heading. Numbers are shown in the unit their key names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from throughput_expert.render.html_common import esc, has_unit, label, value_html

__all__ = ["analysis", "assumptions", "evidence", "inputs"]

JSON = Any


def analysis(a: Mapping[str, JSON]) -> str:
    """Every analysis key: the plain values in one table first, then a section per structure."""
    a = {k: v for k, v in a.items() if v is not None}  # as the text renderer: absent, not n/a
    flat = {k: v for k, v in a.items() if not _deep(v) and not _records(v)}
    parts = [_kv_table("", flat)] if flat else []
    parts += [
        f'<section class="akey" id="a-{esc(k)}"><h3>{esc(label(k))}</h3>{_tree(k, v, 4)}</section>'
        for k, v in a.items()
        if k not in flat
    ]
    if not parts:
        return ""
    return _details("analysis", "Analysis in detail", "".join(parts), opened=True)


def _tree(key: str, value: JSON, depth: int) -> str:
    if _records(value):
        return _record_table(key, value)
    if isinstance(value, Mapping) and value:
        flat = {k: v for k, v in value.items() if not _deep(v)}
        deep = {k: v for k, v in value.items() if _deep(v)}
        out = _kv_table(key, flat) if flat else ""
        h = f"h{min(depth, 6)}"
        for k, v in deep.items():
            out += f"<{h}>{esc(label(k))}</{h}>{_tree(k, v, depth + 1)}"
        return out
    if isinstance(value, list) and value and not all(_scalar(v) for v in value):
        return "<ul>" + "".join(f"<li>{_tree(key, v, depth + 1)}</li>" for v in value) + "</ul>"
    if isinstance(value, list) and len(value) > 1 and key != "evidence_ids":
        return "<ul>" + "".join(f"<li>{_cell(key, v)}</li>" for v in value) + "</ul>"
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
        if not value:
            return "–"
        pairs = "; ".join(f"{esc(k)} {_cell(_unit_key(key, k), v)}" for k, v in value.items())
        return f'<span class="map">{pairs}</span>' if len(value) > 2 else pairs
    if isinstance(value, list) and not value:
        return "–"
    if isinstance(value, list) and not all(_scalar(v) for v in value):
        return "; ".join(_cell(key, v) for v in value)
    return value_html(key, value)


def _kv_table(parent: str, flat: Mapping[str, JSON]) -> str:
    rows = "".join(
        f"<tr><th>{esc(label(k))}</th><td>{_cell(_unit_key(parent, k), v)}</td></tr>"
        for k, v in flat.items()
    )
    return f'<table class="kv">{rows}</table>'


def _record_table(parent: str, records: Mapping[str, JSON] | Sequence[JSON]) -> str:
    named = isinstance(records, Mapping)
    rows: list[tuple[str, Mapping[str, JSON]]] = (
        [(str(k), v) for k, v in records.items()]
        if isinstance(records, Mapping)
        else [("", r) for r in records]
    )
    columns: list[str] = []
    for _, r in rows:
        columns += [k for k in r if k not in columns]
    head = ("<th></th>" if named else "") + "".join(f"<th>{esc(label(c))}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + (f"<th>{esc(name)}</th>" if named else "")
        + "".join(f"<td>{_cell(_unit_key(parent, c), r.get(c))}</td>" for c in columns)
        + "</tr>"
        for name, r in rows
    )
    return f'<div class="scroll"><table class="grid"><tr>{head}</tr>{body}</table></div>'


def evidence(items: Sequence[Mapping[str, JSON]]) -> str:
    if not items:
        return ""
    body = "".join(
        f'<div class="ev" id="ev-{esc(e["id"])}"><div class="ev-head"><code>{esc(e["id"])}</code>'
        f' {esc(e["claim"])}</div><div class="law">{esc(e["law"])}</div>'
        f'<div class="io"><div><h5>Inputs</h5>{_tree("inputs", e.get("inputs"), 6)}</div>'
        f"<div><h5>Result</h5>{_tree('result', e.get('result'), 6)}</div></div></div>"
        for e in items
    )
    return _details("evidence", f"Evidence ({len(items)})", body)


def assumptions(items: Sequence[Mapping[str, JSON]]) -> str:
    if not items:
        return ""
    rows = "".join(
        f"<tr><th>{esc(a['what'])}</th><td>{_cell('value', a.get('value'))}</td>"
        f"<td>{esc(a['why'])}</td></tr>"
        for a in items
    )
    table = f'<table class="grid"><tr><th>What</th><th>Value</th><th>Why</th></tr>{rows}</table>'
    return _details("assumptions", f"Assumptions ({len(items)})", table)


def inputs(items: Sequence[Mapping[str, JSON]]) -> str:
    if not items:
        return ""
    rows = "".join(
        f"<tr><td><code>{esc(i['source'])}</code></td><td>{esc(i['kind'])}</td>"
        f"<td>{esc(i.get('detail', ''))}</td></tr>"
        for i in items
    )
    table = (
        f'<table class="grid"><tr><th>Source</th><th>Kind</th><th>Detail</th></tr>{rows}</table>'
    )
    return _details("inputs", f"Inputs ({len(items)})", table)


def _details(anchor: str, title: str, body: str, opened: bool = False) -> str:
    attr = " open" if opened else ""
    return f'<details id="{anchor}"{attr}><summary>{esc(title)}</summary>{body}</details>'
