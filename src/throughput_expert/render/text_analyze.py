"""Text sections of an ``analyze`` report (also used by reports sharing its analysis keys)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console

from throughput_expert.model.units import fmt_count, fmt_factor
from throughput_expert.render.text_common import heading, line, ms, num, pct, table

__all__ = ["SECTIONS"]


def _current(out: Console, a: Mapping[str, Any]) -> None:
    c = a.get("current_throughput")
    if not c:
        return
    heading(out, "Current throughput")
    source = f" ({c['processing_time_source']})" if c.get("processing_time_source") else ""
    line(out, f"  throughput        {fmt_count(c.get('rps'))} rps")
    line(out, f"  processing time   {ms(c.get('avg_processing_time_ms'))}{source}")
    line(
        out,
        f"  concurrency       {num(c.get('concurrency'))}   workers {num(c.get('workers'))}"
        f"   cores {num(c.get('cores'))}",
    )
    for name, value in (c.get("latency_ms") or {}).items():
        line(out, f"  latency {name:<9} {ms(value)}")
    for resource, value in (c.get("utilization_pct") or {}).items():
        line(out, f"  {resource:<17} {pct(value)} busy")


def _bottleneck(out: Console, a: Mapping[str, Any]) -> None:
    b = a.get("bottleneck")
    if not b:
        return
    heading(out, "Bottleneck")
    what = b.get("type") or "none found"
    place = b.get("resource") or b.get("category")
    where = f" ({place})" if place else ""
    line(out, f"  {what}{where} in {b.get('component')}: {b.get('reason')}")
    for s in b.get("signals", []):
        line(out, f"  signal {s['signal']} = {s['value']:.4g} (threshold {s['threshold']:g})")


def _headroom(out: Console, a: Mapping[str, Any]) -> None:
    h = a.get("headroom")
    if not h or not h.get("resources"):
        return
    heading(out, "Headroom (utilization law, at each resource's saturation target)")
    rows = table(
        "resource", "busy", "target", "demand/req", "rps at target", "headroom", "at target rate"
    )
    for name, r in h["resources"].items():
        at = r.get("at_target") or {}
        rows.add_row(
            name,
            pct(r["utilization_pct"]),
            pct(r["target_pct"]),
            ms(r.get("service_demand_ms")) if r.get("service_demand_ms") is not None else "-",
            fmt_count(r["max_rps_at_target"]) if r.get("max_rps_at_target") else "-",
            _headroom_cell(r),
            _at_target(at),
        )
    out.print(rows)
    if h.get("ceiling_rps"):
        line(out, f"  ceiling {fmt_count(h['ceiling_rps'])} rps, bound by {h['binding_resource']}")
    w = h.get("workers")
    if w:
        line(
            out,
            f"  workers: {w['workers']} at {ms(w['time_per_item_ms'])} per item cap it at "
            f"{fmt_count(w['max_rps'])} rps ({w['law']})",
        )


def _headroom_cell(r: Mapping[str, Any]) -> str:
    if r.get("headroom_pct") is not None:
        return pct(r["headroom_pct"])
    return "not rate-bound" if not r.get("scales_with_rate") else "idle"


def _at_target(at: Mapping[str, Any]) -> str:
    if not at:
        return "-"
    text = pct(at["utilization_pct"])
    if not at.get("meets_target"):
        text += f", cut {fmt_factor(at['demand_reduction_factor'])}"
    return text


def _latency(out: Console, a: Mapping[str, Any]) -> None:
    lat = a.get("latency")
    if not lat:
        return
    heading(out, "Latency as load grows")
    if not lat.get("available"):
        line(out, f"  not available: {lat.get('why')}")
        return
    line(out, f"  model: {lat['model']}")
    if lat.get("unexplained_ms") is not None:
        line(out, f"  {'not at any resource':<20} {ms(lat['unexplained_ms'])}")
    for key, label in (
        ("current_ms", "now"),
        ("at_ceiling_ms", "at the ceiling"),
        ("at_target_ms", "at the target"),
    ):
        if key not in lat:
            continue
        value = ms(lat[key]) if lat.get(key) is not None else "at or beyond saturation"
        line(out, f"  {label:<20} {value}")
    line(
        out,
        f"  doubles by          {fmt_count(lat.get('knee_rps'))} rps; saturates at "
        f"{fmt_count(lat.get('saturation_rps'))} rps",
    )


def _rating(out: Console, a: Mapping[str, Any]) -> None:
    r = a.get("rating")
    if not r:
        return
    heading(out, "Rating (seed benchmarks)")
    if not r.get("available"):
        line(out, f"  {r.get('system_type')}: {r.get('why')}")
        return
    line(
        out,
        f"  {r['system_type']}: {fmt_count(r['measured'])} {r['unit']} is {r['rating']} "
        f"(good {fmt_count(r['good'])}, excellent {fmt_count(r['excellent'])})",
    )
    if r.get("ceiling") is not None:
        line(out, f"  ceiling {fmt_count(r['ceiling'])} {r['unit']} is {r['ceiling_rating']}")


def _findings(out: Console, a: Mapping[str, Any]) -> None:
    items = list(a.get("findings") or []) + [{"what": n} for n in a.get("notes") or []]
    if not items:
        return
    heading(out, "Findings")
    for f in items:
        values = ", ".join(f"{k} = {num(v)}" for k, v in (f.get("values") or {}).items())
        used = f"; used {f['used']}" if f.get("used") else ""
        line(out, f"  - {f['what']}" + (f" ({values})" if values else "") + used)


SECTIONS = (
    ("current_throughput", _current),
    ("bottleneck", _bottleneck),
    ("headroom", _headroom),
    ("latency", _latency),
    ("rating", _rating),
    ("findings", _findings),
)
