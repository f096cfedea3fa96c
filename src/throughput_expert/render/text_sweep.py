"""Text sections of ``sweep``: the levels measured (the USL section is shared)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console

from throughput_expert.model.units import fmt_count
from throughput_expert.render.text_common import heading, line, ms, table

__all__ = ["QUIET", "SECTIONS"]


def _levels(out: Console, a: Mapping[str, Any]) -> None:
    who = f" by {a['driver']} on {a['target']}" if a.get("driver") else ""
    heading(out, f"Levels ({a['mode']} loop{who})")
    open_loop = a.get("mode") == "open"
    cols = ["offered", "achieved", "sustained"] if open_loop else [a["level_kind"], "throughput"]
    rows = table(*cols, "p50", "p99", "max", "errors", "requests")
    for lv in a["levels"]:
        lat = lv.get("latency_ms") or {}
        first = (
            [
                fmt_count(lv.get("offered_rps")),
                fmt_count(lv["throughput_rps"]),
                "yes" if lv.get("sustained") else "no",
            ]
            if open_loop
            else [f"{lv['level']:g}", fmt_count(lv["throughput_rps"])]
        )
        rows.add_row(
            *first,
            ms(lat.get("p50")),
            ms(lat.get("p99")),
            ms(lat.get("max")),
            str(lv.get("errors") if lv.get("errors") is not None else "-"),
            str(lv.get("requests") if lv.get("requests") is not None else "-"),
        )
    out.print(rows)
    if open_loop:
        best = a.get("highest_sustained_rps")
        line(
            out,
            f"  highest rate sustained: {fmt_count(best)} rps"
            if best
            else "  no offered rate was sustained",
        )
    if peak := a.get("measured_peak"):
        low, high = peak["between"]
        line(
            out,
            f"  measured peak: {fmt_count(peak['throughput_rps'])} rps at {peak['level']:g} "
            f"(less at {low:g} and at {high:g})",
        )
    for note in a.get("notes") or []:
        line(out, f"  - {note}")


SECTIONS = (("levels", _levels),)
QUIET = (
    "mode",
    "level_kind",
    "driver",
    "target",
    "highest_sustained_rps",
    "slo_ms",
    "measured_peak",
)
