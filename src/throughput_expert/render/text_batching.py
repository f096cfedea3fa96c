"""Text sections and page figures of ``design-batching``."""

from __future__ import annotations

from rich.console import Console

from throughput_expert.model.analysis.batching import BatchingAnalysis
from throughput_expert.model.units import fmt_count, fmt_duration, fmt_factor, fmt_pct, fmt_rate
from throughput_expert.render.html_common import Figure
from throughput_expert.render.text_common import (
    BAD,
    GOOD,
    KEEP,
    MAX_VALUES,
    Col,
    grid,
    heading,
    line,
    num,
)

__all__ = ["SECTIONS", "figures"]


def _design(out: Console, a: BatchingAnalysis) -> None:
    heading(out, f"Batching design: {a.operation}")
    m = a.cost_model
    line(
        out,
        f"  cost model T(b) = {fmt_duration(m.c0)} + {fmt_duration(m.c1)} · b ({m.source})",
    )
    if m.fit is not None:
        fit = m.fit
        # below a nanosecond a residual is rounding noise of an exact line: shown as 0
        residuals = ", ".join(
            fmt_duration(r if abs(r) >= 1e-9 else 0.0) for r in fit.residuals[:MAX_VALUES]
        )
        if len(fit.residuals) > MAX_VALUES:
            residuals += f", … {len(fit.residuals) - MAX_VALUES:,} more"
        line(
            out,
            f"  fit: R² {num(fit.r_squared)} over {fit.points} points; residuals: {residuals}"
            + (f"; {fit.note}" if fit.note else ""),
        )
    line(
        out,
        f"  today (one item per call): {fmt_count(a.current_throughput)} rps; no "
        f"batch passes {fmt_count(a.limit)} rps with the given concurrency (k / c1)",
    )
    line(
        out,
        f"  sized for {fmt_count(a.sized_for)} rps: {fmt_count(a.target)} rps with the writer "
        f"at or under its {fmt_pct(a.saturation_target)} target",
    )
    if a.met_today:
        line(
            out,
            f"  the target is met today: one item per call, the writer "
            f"{fmt_pct(a.utilization_at_target)} busy at {fmt_count(a.target)} rps; no change",
            style=GOOD,
        )
    elif a.batch_size is None:
        line(out, f"  no batch size meets {fmt_count(a.target)} rps: {a.why}", style=BAD, hang=2)
    else:
        line(
            out,
            f"  batch {a.batch_size}, flush after {fmt_duration(a.flush_interval)}, "
            f"{a.concurrency} in flight: {fmt_count(a.expected_throughput)} rps "
            f"({num(a.gain_vs_current)}× today; the writer "
            f"{fmt_pct(a.utilization_at_target)} busy at the target)",
        )
        if a.added_latency is not None:
            lat = a.added_latency
            line(
                out,
                f"  added latency: median {fmt_duration(lat.p50)}, max {fmt_duration(lat.max)}",
            )
        if a.why:
            line(out, f"  note: it {a.why}")
    for item in a.what_else:
        line(out, f"  - {item}")


def _methods(out: Console, a: BatchingAnalysis) -> None:
    if not a.methods:
        return
    heading(out, "Methods measured")
    cols = (
        Col("method", "left", KEEP, wrap=True, min_width=12),
        Col("per call", keep=KEEP),
        Col("per item", keep=KEEP),
        Col("limit rps", keep=KEEP),
        Col("batch", keep=KEEP),
        Col("in flight", keep=2),
    )
    rows = [
        [
            m.method,
            fmt_duration(m.c0),
            fmt_duration(m.c1),
            fmt_count(m.limit),
            str(m.batch_size or "-"),
            str(m.concurrency),
        ]
        for m in a.methods
    ]
    grid(out, cols, rows)
    line(out, "  per call c0 and per item c1 of T(b) = c0 + c1·b; limit: k / c1", style="dim")


SECTIONS = (_design, _methods)


def figures(a: BatchingAnalysis) -> list[Figure]:
    """The page's key figures: today's rate, the batch, the rate expected, the target."""
    out: list[Figure] = [("Throughput now", fmt_rate(a.current_throughput), "")]
    if a.met_today:
        out.append(("Batch", "no change", "one item per call meets the target"))
    elif a.batch_size is not None:
        note = (
            f"flush after {fmt_duration(a.flush_interval)}" if a.flush_interval is not None else ""
        )
        out.append(("Batch", f"{a.batch_size} items", note + f", {a.concurrency} in flight"))
    if a.expected_throughput is not None:
        gain = a.gain_vs_current
        out.append(
            (
                "Expected",
                fmt_rate(a.expected_throughput),
                f"{fmt_factor(gain)} today" if gain is not None else "",
            )
        )
    note = "reachable" if a.feasible else "not reachable as is"
    out.append(("Target", fmt_rate(a.target), note))
    return out
