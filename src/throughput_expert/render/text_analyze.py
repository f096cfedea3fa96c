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
from throughput_expert.render.text_common import (
    BAD,
    GOOD,
    KEEP,
    Col,
    findings,
    grid,
    heading,
    label,
    line,
    num,
    over,
)

__all__ = ["SECTIONS", "figures"]


def _current(out: Console, r: AnalyzeAnalysis) -> None:
    c = r.current_throughput
    heading(out, "Current throughput")
    source = f" ({c.processing_time_source})" if c.processing_time_source else ""
    line(out, f"  throughput        {fmt_count(c.rate)} rps")
    line(out, f"  processing time   {fmt_duration(c.avg_processing_time)}{source}", hang=18)
    line(
        out,
        f"  concurrency       {num(c.concurrency)}   workers {num(c.workers)}"
        f"   cores {num(c.cores)}",
    )
    for name, seconds in c.latency.items():
        line(out, f"  latency {name:<9} {fmt_duration(seconds)}")
    targets = {k: v.target for k, v in r.headroom.resources.items()}
    for resource, busy in c.utilization.items():
        style = over(busy, targets.get(resource))
        line(out, f"  {label(resource):<17} {fmt_pct(busy)} busy", style=style)


def _verdict(kind: str | None, resource: str | None) -> str:
    """The bottleneck in words: its kind, and the resource when it says more."""
    if kind is None:
        return "none found"
    what = label(kind)
    if resource and label(resource) != what:
        what += f" ({label(resource)})"
    return what


def _bottleneck(out: Console, r: AnalyzeAnalysis) -> None:
    b = r.bottleneck
    heading(out, "Bottleneck")
    style = BAD if b.type else GOOD
    line(out, f"  {_verdict(b.type, b.resource)} in {b.component}", style=style)
    line(out, f"  {b.reason}", hang=2)
    for s in b.signals:
        line(out, f"  signal {label(s.signal)} {num(s.value)} (threshold {num(s.threshold)})")


def _headroom(out: Console, r: AnalyzeAnalysis) -> None:
    h = r.headroom
    if not h.resources:
        return
    heading(out, "Headroom (utilization law, at each saturation target)")
    at = f"at {fmt_count(r.target)}" if r.target is not None else None
    cols = [
        Col("resource", "left", KEEP),
        Col("busy", keep=KEEP),
        Col("target", keep=KEEP),
        Col("demand", keep=1),
        Col("max rps", keep=KEEP),
        Col("headroom", keep=KEEP),
    ]
    if at is not None:
        cols += [Col(at, keep=3), Col("cut by", keep=2)]
    rows = []
    fixed = []
    for name, v in h.resources.items():
        if v.headroom is None and not v.scales_with_rate:
            fixed.append(label(name))
        row: list[str | tuple[str, str | None]] = [
            label(name),
            (fmt_pct(v.utilization), over(v.utilization, v.target)),
            fmt_pct(v.target),
            fmt_duration(v.service_demand) if v.service_demand is not None else "-",
            fmt_count(v.max_rate_at_target) if v.max_rate_at_target else "-",
            _headroom_cell(v),
        ]
        if at is not None:
            row += list(_at_target(v.at_target))
        rows.append(row)
    grid(out, cols, rows)
    if fixed:
        line(
            out,
            f"  {', '.join(fixed)}: not rate-bound (does not grow with the rate), no ceiling",
            hang=2,
        )
    if h.ceiling:
        bound = label(h.binding_resource or "")
        line(out, f"  ceiling {fmt_count(h.ceiling)} rps, bound by {bound}")
    w = h.workers
    if w is not None:
        line(
            out,
            f"  workers: {w.workers} at {fmt_duration(w.time_per_item)} per item, busy at most "
            f"{fmt_pct(w.busy_target)}, cap it at {fmt_count(w.max_rate)} rps ({w.law})",
            hang=2,
        )


def _headroom_cell(v: ResourceHeadroom) -> str | tuple[str, str | None]:
    if v.headroom is not None:
        return (fmt_pct(v.headroom), BAD if v.headroom < 0 else None)
    return "-" if not v.scales_with_rate else "idle"


def _at_target(at: AtTargetRate | None) -> tuple[tuple[str, str | None], str]:
    if at is None:
        return ("-", None), "-"
    cut = "-" if at.meets_target else fmt_factor(at.demand_reduction_factor)
    return (fmt_pct(at.utilization), None if at.meets_target else BAD), cut


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
    for where, seconds in rows:
        value = fmt_duration(seconds) if seconds is not None else "at or beyond saturation"
        line(out, f"  {where:<20} {value}", style=None if seconds is not None else BAD)
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
        note = f"at {label(h.binding_resource)}'s saturation target" if h.binding_resource else ""
        out.append(("Ceiling", fmt_rate(h.ceiling), note))
    if r.target is not None:
        out.append(("Target", fmt_rate(r.target), ""))
    return out
