"""Text sections and page figures of an ``analyze`` report."""

from __future__ import annotations

from rich.console import Console

from throughput_expert.model.analysis.analyze import (
    AnalyzeAnalysis,
    AtTargetRate,
    ResourceHeadroom,
)
from throughput_expert.model.units import fmt_count, fmt_duration, fmt_factor, fmt_pct, fmt_rate
from throughput_expert.render.html_common import Figure, bottleneck_figure
from throughput_expert.render.text_common import findings, heading, line, num, table

__all__ = ["SECTIONS", "figures"]


def _current(out: Console, r: AnalyzeAnalysis) -> None:
    c = r.current_throughput
    heading(out, "Current throughput")
    source = f" ({c.processing_time_source})" if c.processing_time_source else ""
    line(out, f"  throughput        {fmt_count(c.rate)} rps")
    line(out, f"  processing time   {fmt_duration(c.avg_processing_time)}{source}")
    line(
        out,
        f"  concurrency       {num(c.concurrency)}   workers {num(c.workers)}"
        f"   cores {num(c.cores)}",
    )
    for name, seconds in c.latency.items():
        line(out, f"  latency {name:<9} {fmt_duration(seconds)}")
    for resource, busy in c.utilization.items():
        line(out, f"  {resource:<17} {fmt_pct(busy)} busy")


def _bottleneck(out: Console, r: AnalyzeAnalysis) -> None:
    b = r.bottleneck
    heading(out, "Bottleneck")
    what = b.type or "none found"
    where = f" ({b.resource})" if b.resource else ""
    line(out, f"  {what}{where} in {b.component}: {b.reason}")
    for s in b.signals:
        line(out, f"  signal {s.signal} = {s.value:.4g} (threshold {s.threshold:g})")


def _headroom(out: Console, r: AnalyzeAnalysis) -> None:
    h = r.headroom
    if not h.resources:
        return
    heading(out, "Headroom (utilization law, at each resource's saturation target)")
    rows = table(
        "resource", "busy", "target", "demand/req", "rps at target", "headroom", "at target rate"
    )
    for name, v in h.resources.items():
        rows.add_row(
            name,
            fmt_pct(v.utilization),
            fmt_pct(v.target),
            fmt_duration(v.service_demand) if v.service_demand is not None else "-",
            fmt_count(v.max_rate_at_target) if v.max_rate_at_target else "-",
            _headroom_cell(v),
            _at_target(v.at_target),
        )
    out.print(rows)
    if h.ceiling:
        line(out, f"  ceiling {fmt_count(h.ceiling)} rps, bound by {h.binding_resource}")
    w = h.workers
    if w is not None:
        line(
            out,
            f"  workers: {w.workers} at {fmt_duration(w.time_per_item)} per item, busy at most "
            f"{fmt_pct(w.busy_target)}, cap it at {fmt_count(w.max_rate)} rps ({w.law})",
        )


def _headroom_cell(v: ResourceHeadroom) -> str:
    if v.headroom is not None:
        return fmt_pct(v.headroom)
    return "not rate-bound" if not v.scales_with_rate else "idle"


def _at_target(at: AtTargetRate | None) -> str:
    if at is None:
        return "-"
    text = fmt_pct(at.utilization)
    if not at.meets_target:
        text += f", cut {fmt_factor(at.demand_reduction_factor)}"
    return text


def _latency(out: Console, r: AnalyzeAnalysis) -> None:
    lat = r.latency
    heading(out, "Latency as load grows")
    if not lat.available:
        line(out, f"  not available: {lat.why}")
        return
    line(out, f"  model: {lat.model}")
    if lat.unexplained is not None:
        line(out, f"  {'not at any resource':<20} {fmt_duration(lat.unexplained)}")
    rows = [("now", lat.current), ("at the ceiling", lat.at_ceiling)]
    if r.target is not None:
        rows.append(("at the target", lat.at_target))
    for label, seconds in rows:
        value = fmt_duration(seconds) if seconds is not None else "at or beyond saturation"
        line(out, f"  {label:<20} {value}")
    parts = []
    if lat.knee is not None:
        parts.append(f"doubles by {fmt_count(lat.knee)} rps")
    if lat.saturation is not None:
        parts.append(f"saturates at {fmt_count(lat.saturation)} rps")
    if parts:
        line(out, f"  {'; '.join(parts)}")


def _rating(out: Console, r: AnalyzeAnalysis) -> None:
    g = r.rating
    if g is None:
        return
    heading(out, "Rating (seed benchmarks)")
    if not g.available:
        line(out, f"  {g.system_type}: {g.why}")
        return
    line(
        out,
        f"  {g.system_type}: {fmt_count(g.measured)} {g.unit} is {g.rating} "
        f"(good {fmt_count(g.good)}, excellent {fmt_count(g.excellent)})",
    )
    if g.ceiling is not None:
        line(out, f"  ceiling {fmt_count(g.ceiling)} {g.unit} is {g.ceiling_rating}")


def _findings(out: Console, r: AnalyzeAnalysis) -> None:
    findings(out, r.findings, r.notes)


SECTIONS = (_current, _bottleneck, _headroom, _latency, _rating, _findings)


def figures(r: AnalyzeAnalysis) -> list[Figure]:
    """The page's key figures: the bottleneck, today's rate, the ceiling, the target."""
    b = r.bottleneck
    out: list[Figure] = [bottleneck_figure(b.type, b.resource, b.component)]
    if r.current_throughput.rate is not None:
        out.append(("Throughput now", fmt_rate(r.current_throughput.rate), ""))
    h = r.headroom
    if h.ceiling is not None:
        note = f"at {h.binding_resource}'s saturation target" if h.binding_resource else ""
        out.append(("Ceiling", fmt_rate(h.ceiling), note))
    if r.target is not None:
        out.append(("Target", fmt_rate(r.target), ""))
    return out
