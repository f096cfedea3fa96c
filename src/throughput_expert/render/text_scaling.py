"""Text sections and page figures of ``scaling-plan``."""

from __future__ import annotations

from rich.console import Console

from throughput_expert.model.analysis.scaling import ComponentRecord, ScalingAnalysis
from throughput_expert.model.units import fmt_count, fmt_rate
from throughput_expert.render.html_common import Figure
from throughput_expert.render.text_common import findings, heading, line, table

__all__ = ["SECTIONS", "figures"]


def _findings(out: Console, a: ScalingAnalysis) -> None:
    findings(out, a.findings)


def _components(out: Console, a: ScalingAnalysis) -> None:
    heading(
        out,
        f"Plan for {a.system}: {fmt_count(a.entry_rate)} -> {fmt_count(a.target)} rps at the entry",
    )
    rows = table(
        "component",
        "kind",
        "fan-out",
        "demand at target",
        "per instance",
        "binding",
        "now",
        "needed",
        "strategy",
    )
    for c in a.components:
        per = c.capacity_per_instance
        needed = c.instances_needed
        rows.add_row(
            c.name,
            c.kind,
            f"{c.fanout:g}",
            fmt_count(c.demand_at_target),
            fmt_count(per) if per else "-",
            c.binding or "-",
            str(c.instances_now),
            str(needed) if needed is not None else ("no" if c.feasible is False else "-"),
            c.strategy or _queue(c),
        )
    out.print(rows)
    for c in a.components:
        if c.why:
            line(out, f"  - {c.name}: {c.why}")


def _queue(c: ComponentRecord) -> str | None:
    if c.partitions_needed is None:
        return None
    state = "enough" if c.partitions_enough else "too few"
    return f"partitions {c.partitions} for {c.partitions_needed} consumers ({state})"


def _order(out: Console, a: ScalingAnalysis) -> None:
    heading(out, "What breaks next (entry rate at which today's instances reach their targets)")
    for i, row in enumerate(a.saturation_order, 1):
        mark = "" if row.before_target else " (beyond the target)"
        line(
            out,
            f"  {i}. {row.component} at {fmt_count(row.saturates_at_entry)} rps, "
            f"{row.binding}{mark}",
        )


def _totals(out: Console, a: ScalingAnalysis) -> None:
    t = a.totals
    heading(out, "Totals")
    line(
        out,
        f"  instances {t.instances_now} -> {t.instances_at_target or 'n/a'}; "
        f"first to saturate: {t.binding_component}; "
        f"{'feasible' if t.feasible else 'NOT feasible as planned'}",
    )
    if t.cost_now is not None:
        after = t.cost_at_target
        line(
            out,
            f"  cost {t.cost_now:.4g} -> {after:.4g}"
            if after is not None
            else f"  cost now {t.cost_now:.4g}",
        )


SECTIONS = (_findings, _components, _order, _totals)


def figures(r: ScalingAnalysis) -> list[Figure]:
    """The page's key figures: today's entry rate, the first to saturate, the target."""
    out: list[Figure] = [("Throughput now", fmt_rate(r.entry_rate), "")]
    if r.saturation_order:
        first = r.saturation_order[0]
        note = f"at {fmt_rate(first.saturates_at_entry)} ({first.binding})"
        out.append(("Saturates first", first.component, note))
    out.append(("Target", fmt_rate(r.target), ""))
    return out
