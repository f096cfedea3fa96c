"""Text sections of ``design-batching``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console

from throughput_expert.model.units import fmt_count
from throughput_expert.render.text_common import heading, line, ms, num, table

__all__ = ["SECTIONS"]


def _design(out: Console, a: Mapping[str, Any]) -> None:
    heading(out, f"Batching design: {a['operation']}")
    m = a["cost_model"]
    line(out, f"  cost model T(b) = {ms(m['c0_ms'])} + {ms(m['c1_ms'])} · b ({m['source']})")
    fit = m.get("fit")
    if fit:
        residuals = ", ".join(f"{r:.3g}" for r in fit["residuals_ms"])
        line(
            out,
            f"  fit: R² {num(fit['r_squared'])} over {fit['points']} points; residuals "
            f"(ms): {residuals}" + (f"; {fit['note']}" if fit.get("note") else ""),
        )
    line(
        out,
        f"  today (one item per call): {fmt_count(a['current_throughput_rps'])} rps; no "
        f"batch passes {fmt_count(a['limit_rps'])} rps with the given concurrency (k / c1)",
    )
    if a.get("batch_size") is None:
        line(out, f"  no batch size meets {fmt_count(a['target_rps'])} rps: {a.get('why')}")
    else:
        lat = a["added_latency_ms"]
        line(
            out,
            f"  batch {a['batch_size']}, flush after {ms(a['flush_interval_ms'])}, "
            f"{a['concurrency']} in flight: {fmt_count(a['expected_throughput_rps'])} rps "
            f"({num(a['gain_vs_current'])}× today)",
        )
        line(out, f"  added latency: median {ms(lat['p50'])}, max {ms(lat['max'])}")
        if a.get("why"):
            line(out, f"  note: it {a['why']}")
    for item in a.get("what_else") or []:
        line(out, f"  - {item}")


def _methods(out: Console, a: Mapping[str, Any]) -> None:
    heading(out, "Methods measured")
    rows = table("method", "c0", "c1 per item", "limit", "batch", "in flight")
    for m in a["methods"]:
        rows.add_row(
            m["method"],
            ms(m["c0_ms"]),
            ms(m["c1_ms"]),
            fmt_count(m["limit_rps"]),
            str(m["batch_size"] or "-"),
            str(m["concurrency"]),
        )
    out.print(rows)


SECTIONS = (("cost_model", _design), ("methods", _methods))
QUIET = (
    "operation",
    "method",
    "target_rps",
    "concurrency",
    "feasible",
    "why",
    "limit_rps",
    "current_throughput_rps",
    "batch_size",
    "flush_interval_ms",
    "expected_throughput_rps",
    "added_latency_ms",
    "gain_vs_current",
    "what_else",
)
