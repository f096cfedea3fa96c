"""The terminal renderer: the Report as readable text (rich tables, no colour in files).

It reads the Report's JSON form, so a saved report renders the same as a fresh one. Sections it
does not know are shown as indented key/value lines, so every command renders.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from throughput_expert.model import Report
from throughput_expert.model.units import fmt_count, fmt_duration, fmt_factor, fmt_pct
from throughput_expert.render.base import Renderer

__all__ = ["TextRenderer"]

WIDTH = 100
_KNOWN = (
    "current_throughput",
    "bottleneck",
    "headroom",
    "latency",
    "rating",
    "findings",
    "notes",
    "target_rps",
)


class TextRenderer(Renderer):
    name = "text"

    def render(self, report: Report) -> str:
        doc = report.to_dict()
        buf = io.StringIO()
        out = Console(
            file=buf,
            width=WIDTH,
            no_color=True,
            highlight=False,
            emoji=False,
            force_terminal=False,
            force_jupyter=False,
            legacy_windows=False,
        )
        out.print(f"tpx {doc['command']}", markup=False)
        out.print(doc["summary"], markup=False)
        analysis = doc["analysis"]
        for section in (_current, _bottleneck, _headroom, _latency, _rating, _findings):
            section(out, analysis)
        _other(out, {k: v for k, v in analysis.items() if k not in _KNOWN})
        _recommendations(out, doc["recommendations"])
        _plan(out, doc["implementation_plan"])
        _evidence(out, doc["evidence"], doc["assumptions"], doc["inputs"])
        return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"


def _heading(out: Console, title: str) -> None:
    out.print()
    out.print(title, markup=False)
    out.print("-" * len(title), markup=False)


def _line(out: Console, text: str) -> None:
    """One logical line, wrapped at the width with continuation lines under its text."""
    body = text.lstrip(" ")
    indent = " " * (len(text) - len(body))
    hang = indent + ("  " if body.startswith(("- ", "[")) else "")
    wrapped = textwrap.fill(
        body,
        width=WIDTH,
        initial_indent=indent,
        subsequent_indent=hang,
        break_long_words=False,
        break_on_hyphens=False,
    )
    out.print(wrapped, markup=False, overflow="ignore", crop=False)


def _ms(value: float | None) -> str:
    return fmt_duration(None if value is None else value / 1e3)


def _pct(value: float | None) -> str:
    return fmt_pct(None if value is None else value / 100)


def _current(out: Console, a: Mapping[str, Any]) -> None:
    c = a.get("current_throughput")
    if not c:
        return
    _heading(out, "Current throughput")
    source = f" ({c['processing_time_source']})" if c.get("processing_time_source") else ""
    _line(out, f"  throughput        {fmt_count(c.get('rps'))} rps")
    _line(out, f"  processing time   {_ms(c.get('avg_processing_time_ms'))}{source}")
    _line(
        out,
        f"  concurrency       {_num(c.get('concurrency'))}   workers {_num(c.get('workers'))}"
        f"   cores {_num(c.get('cores'))}",
    )
    for name, value in (c.get("latency_ms") or {}).items():
        _line(out, f"  latency {name:<9} {_ms(value)}")
    for resource, value in (c.get("utilization_pct") or {}).items():
        _line(out, f"  {resource:<17} {_pct(value)} busy")


def _bottleneck(out: Console, a: Mapping[str, Any]) -> None:
    b = a.get("bottleneck")
    if not b:
        return
    _heading(out, "Bottleneck")
    what = b.get("type") or "none found"
    where = f" ({b['resource']})" if b.get("resource") else ""
    _line(out, f"  {what}{where} in {b.get('component')}: {b.get('reason')}")
    for s in b.get("signals", []):
        _line(out, f"  signal {s['signal']} = {s['value']:.4g} (threshold {s['threshold']:g})")


def _headroom(out: Console, a: Mapping[str, Any]) -> None:
    h = a.get("headroom")
    if not h or not h.get("resources"):
        return
    _heading(out, "Headroom (utilization law, at each resource's saturation target)")
    table = Table(box=None, pad_edge=False, show_edge=False)
    for col in (
        "resource",
        "busy",
        "target",
        "demand/req",
        "rps at target",
        "headroom",
        "at target rate",
    ):
        table.add_column(col, justify="left" if col == "resource" else "right")
    for name, r in h["resources"].items():
        at = r.get("at_target") or {}
        table.add_row(
            name,
            _pct(r["utilization_pct"]),
            _pct(r["target_pct"]),
            _ms(r.get("service_demand_ms")) if r.get("service_demand_ms") is not None else "-",
            fmt_count(r["max_rps_at_target"]) if r.get("max_rps_at_target") else "-",
            _headroom_cell(r),
            _at_target(at),
        )
    out.print(table)
    if h.get("ceiling_rps"):
        _line(out, f"  ceiling {fmt_count(h['ceiling_rps'])} rps, bound by {h['binding_resource']}")
    w = h.get("workers")
    if w:
        _line(
            out,
            f"  workers: {w['workers']} at {_ms(w['time_per_item_ms'])} per item cap it at "
            f"{fmt_count(w['max_rps'])} rps ({w['law']})",
        )


def _headroom_cell(r: Mapping[str, Any]) -> str:
    if r.get("headroom_pct") is not None:
        return _pct(r["headroom_pct"])
    return "not rate-bound" if not r.get("scales_with_rate") else "idle"


def _at_target(at: Mapping[str, Any]) -> str:
    if not at:
        return "-"
    text = _pct(at["utilization_pct"])
    if not at.get("meets_target"):
        text += f", cut {fmt_factor(at['demand_reduction_factor'])}"
    return text


def _latency(out: Console, a: Mapping[str, Any]) -> None:
    lat = a.get("latency")
    if not lat:
        return
    _heading(out, "Latency as load grows")
    if not lat.get("available"):
        _line(out, f"  not available: {lat.get('why')}")
        return
    _line(out, f"  model: {lat['model']}")
    if lat.get("unexplained_ms") is not None:
        _line(out, f"  {'not at any resource':<20} {_ms(lat['unexplained_ms'])}")
    for key, label in (
        ("current_ms", "now"),
        ("at_ceiling_ms", "at the ceiling"),
        ("at_target_ms", "at the target"),
    ):
        if key not in lat:
            continue
        value = _ms(lat[key]) if lat.get(key) is not None else "at or beyond saturation"
        _line(out, f"  {label:<20} {value}")
    _line(
        out,
        f"  doubles by          {fmt_count(lat.get('knee_rps'))} rps; saturates at "
        f"{fmt_count(lat.get('saturation_rps'))} rps",
    )


def _rating(out: Console, a: Mapping[str, Any]) -> None:
    r = a.get("rating")
    if not r:
        return
    _heading(out, "Rating (seed benchmarks)")
    if not r.get("available"):
        _line(out, f"  {r.get('system_type')}: {r.get('why')}")
        return
    _line(
        out,
        f"  {r['system_type']}: {fmt_count(r['measured'])} {r['unit']} is {r['rating']} "
        f"(good {fmt_count(r['good'])}, excellent {fmt_count(r['excellent'])})",
    )
    if r.get("ceiling") is not None:
        _line(out, f"  ceiling {fmt_count(r['ceiling'])} {r['unit']} is {r['ceiling_rating']}")


def _findings(out: Console, a: Mapping[str, Any]) -> None:
    items = list(a.get("findings") or []) + [{"what": n} for n in a.get("notes") or []]
    if not items:
        return
    _heading(out, "Findings")
    for f in items:
        values = ", ".join(f"{k} = {_num(v)}" for k, v in (f.get("values") or {}).items())
        used = f"; used {f['used']}" if f.get("used") else ""
        _line(out, f"  - {f['what']}" + (f" ({values})" if values else "") + used)


def _other(out: Console, rest: Mapping[str, Any]) -> None:
    for key, value in rest.items():
        _heading(out, key.replace("_", " ").capitalize())
        _tree(out, value, "  ")


def _tree(out: Console, value: Any, indent: str) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            if isinstance(v, Mapping | list) and v:
                _line(out, f"{indent}{k}:")
                _tree(out, v, indent + "  ")
            else:
                _line(out, f"{indent}{k}: {_num(v)}")
    elif isinstance(value, list):
        for v in value:
            _line(out, f"{indent}- {_num(v)}") if not isinstance(v, Mapping) else _tree(
                out, v, indent
            )
    else:
        _line(out, f"{indent}{_num(value)}")


def _recommendations(out: Console, recs: Sequence[Mapping[str, Any]]) -> None:
    if not recs:
        return
    _heading(out, "Recommendations")
    for i, r in enumerate(recs, 1):
        gain = r.get("expected_improvement_pct")
        gain_text = f"+{gain:.0f} %" if gain is not None else "not quantified"
        _line(out, f"{i:>2}. {r['optimization']}")
        _line(
            out,
            f"    {gain_text} · effort {r['effort']} · risk {r['risk']}"
            + (f" · evidence {', '.join(r['evidence_ids'])}" if r["evidence_ids"] else ""),
        )
        _line(out, f"    {r['rationale']}")
        for code in (r.get("example") or "").splitlines():
            out.print(f"      | {code}", markup=False, overflow="ignore", crop=False)


def _plan(out: Console, plan: Mapping[str, Sequence[str]]) -> None:
    if not any(plan.values()):
        return
    _heading(out, "Implementation plan")
    for key in ("immediate", "short_term", "long_term"):
        for item in plan.get(key, []):
            _line(out, f"  [{key.replace('_', ' ')}] {item}")


def _evidence(
    out: Console,
    evidence: Sequence[Mapping[str, Any]],
    assumptions: Sequence[Mapping[str, Any]],
    inputs: Sequence[Mapping[str, Any]],
) -> None:
    if evidence:
        _heading(out, "Evidence")
        for e in evidence:
            _line(out, f"  [{e['id']}] {e['claim']}")
            _line(out, f"      {e['law']}")
    if assumptions:
        _heading(out, "Assumptions")
        for a in assumptions:
            _line(out, f"  - {a['what']}: {_num(a['value'])} ({a['why']})")
    if inputs:
        _heading(out, "Inputs")
        for i in inputs:
            _line(out, f"  {i['source']} ({i['kind']}) {i.get('detail', '')}")


def _num(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {_num(v)}" for k, v in value.items())
    return str(value)
