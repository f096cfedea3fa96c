"""Text sections and page figures of ``scaling-plan``."""

from __future__ import annotations

from rich.console import Console

from throughput_expert.model.analysis.scaling import ComponentRecord, ScalingAnalysis
from throughput_expert.model.units import fmt_count, fmt_rate
from throughput_expert.render.html_common import Figure
from throughput_expert.render.text_common import (
    BAD,
    DIM,
    GOOD,
    KEEP,
    MAX_ROWS,
    Cell,
    Col,
    findings,
    grid,
    heading,
    label,
    line,
    more_line,
    num,
)

__all__ = ["SECTIONS", "figures"]


def _findings(out: Console, a: ScalingAnalysis) -> None:
    findings(out, a.findings)


def _components(out: Console, a: ScalingAnalysis) -> None:
    heading(out, f"Components of {a.system}: {fmt_count(a.entry_rate)} → {fmt_count(a.target)} rps")
    line(
        out,
        "  load: rps a component gets at the target; capacity: rps one instance carries "
        "at its saturation targets",
        style=DIM,
    )
    cols = (
        Col("component", "left", KEEP, wrap=True, min_width=8),
        Col("kind", "left", keep=1),
        Col("fan-out", keep=2),
        Col("load", keep=KEEP),
        Col("capacity", keep=3),
        Col("binding", "left", KEEP, wrap=True, min_width=7),
        Col("instances", keep=KEEP),
        Col("strategy", "left", KEEP, wrap=True, min_width=14),
    )
    rows: list[list[Cell]] = []
    shown = a.components[:MAX_ROWS]
    for c in shown:
        per = c.capacity_per_instance
        rows.append(
            [
                c.name,
                c.kind,
                f"{c.fanout:g}",
                fmt_count(c.demand_at_target),
                fmt_count(per) if per else "-",
                label(c.binding) if c.binding else "-",
                _instances(c),
                c.strategy or _queue(c) or "-",
            ]
        )
    grid(out, cols, rows)
    more_line(out, len(shown), len(a.components), "components")
    for c in shown:
        if c.why:
            line(out, f"  - {c.name}: {c.why}")


def _instances(c: ComponentRecord) -> Cell:
    needed = c.instances_needed
    if needed is not None:
        return f"{c.instances_now} → {needed}"
    if c.feasible is False:
        return (f"{c.instances_now} → no", BAD)
    return str(c.instances_now)


def _queue(c: ComponentRecord) -> Cell | None:
    if c.partitions_needed is None:
        return None
    if c.partitions is None:  # not in the architecture: what the consumers need, said
        return f"partitions not given, at least {c.partitions_needed} needed"
    if c.partitions_enough:
        return (f"{c.partitions} partitions, {c.partitions_needed} needed", GOOD)
    return (f"{c.partitions} partitions, too few: {c.partitions_needed} needed", BAD)


def _order(out: Console, a: ScalingAnalysis) -> None:
    heading(out, "What breaks next")
    line(out, "  the entry rate at which today's instances reach their targets", style=DIM)
    for i, row in enumerate(a.saturation_order[:MAX_ROWS], 1):
        mark = "" if row.before_target else " (beyond the target)"
        line(
            out,
            f"  {i}. {row.component} at {fmt_count(row.saturates_at_entry)} rps, "
            f"{label(row.binding or 'no binding limit')}{mark}",
            style=BAD if row.before_target else None,
        )
    shown = min(len(a.saturation_order), MAX_ROWS)
    more_line(out, shown, len(a.saturation_order), "components")


def _totals(out: Console, a: ScalingAnalysis) -> None:
    t = a.totals
    heading(out, "Totals")
    line(
        out,
        f"  instances {t.instances_now} → {t.instances_at_target or 'not planned'}; "
        f"first to saturate: {t.binding_component}",
    )
    if t.feasible:
        line(out, "  feasible as planned", style=GOOD)
    else:
        line(out, "  NOT feasible as planned", style=BAD)
    if t.cost_now is not None:
        after = t.cost_at_target
        line(
            out,
            f"  cost {num(t.cost_now)} → {num(after)}"
            if after is not None
            else f"  cost now {num(t.cost_now)}",
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
