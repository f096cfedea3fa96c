"""Text sections of ``scaling-plan``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console

from throughput_expert.model.units import fmt_count
from throughput_expert.render.text_common import heading, line, table

__all__ = ["QUIET", "SECTIONS"]


def _components(out: Console, a: Mapping[str, Any]) -> None:
    heading(
        out,
        f"Plan for {a['system']}: {fmt_count(a['entry_rate_rps'])} -> "
        f"{fmt_count(a['target_rps'])} rps at the entry",
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
    for c in a["components"]:
        per = c.get("capacity_per_instance_rps")
        needed = c.get("instances_needed")
        rows.add_row(
            c["name"],
            c["kind"],
            f"{c['fanout']:g}",
            fmt_count(c["demand_at_target_rps"]),
            fmt_count(per) if per else "-",
            c.get("binding") or "-",
            str(c["instances_now"]),
            str(needed) if needed is not None else ("no" if c.get("feasible") is False else "-"),
            c.get("strategy") or _queue(c),
        )
    out.print(rows)
    for c in a["components"]:
        if c.get("why"):
            line(out, f"  - {c['name']}: {c['why']}")


def _queue(c: Mapping[str, Any]) -> str | None:
    if c.get("partitions_needed") is None:
        return None
    state = "enough" if c.get("partitions_enough") else "too few"
    return f"partitions {c.get('partitions')} for {c['partitions_needed']} consumers ({state})"


def _order(out: Console, a: Mapping[str, Any]) -> None:
    heading(out, "What breaks next (entry rate at which today's instances reach their targets)")
    for i, row in enumerate(a["saturation_order"], 1):
        mark = "" if row["before_target"] else " (beyond the target)"
        line(
            out,
            f"  {i}. {row['component']} at {fmt_count(row['saturates_at_entry_rps'])} rps, "
            f"{row['binding']}{mark}",
        )


def _totals(out: Console, a: Mapping[str, Any]) -> None:
    t = a["totals"]
    heading(out, "Totals")
    line(
        out,
        f"  instances {t['instances_now']} -> {t['instances_at_target'] or 'n/a'}; "
        f"first to saturate: {t['binding_component']}; "
        f"{'feasible' if t['feasible'] else 'NOT feasible as planned'}",
    )
    if t.get("cost_now") is not None:
        after = t.get("cost_at_target")
        line(
            out,
            f"  cost {t['cost_now']:.4g} -> {after:.4g}"
            if after is not None
            else f"  cost now {t['cost_now']:.4g}",
        )


SECTIONS = (("components", _components), ("saturation_order", _order), ("totals", _totals))
QUIET = ("system", "entry_rate_rps")
