"""Text sections and page figures of ``optimize-concurrency`` (``usl_section`` shows any
command's USL fit)."""

from __future__ import annotations

from rich.console import Console

from throughput_expert.model.analysis.common import UslFitRecord
from throughput_expert.model.analysis.concurrency import ConcurrencyAnalysis, PoolLoad
from throughput_expert.model.units import fmt_count, fmt_duration, fmt_pct, fmt_rate
from throughput_expert.render.html_common import Figure
from throughput_expert.render.text_common import (
    BAD,
    GOOD,
    KEEP,
    WARN,
    Cell,
    Col,
    grid,
    heading,
    label,
    line,
    num,
    over,
)

__all__ = ["SECTIONS", "asymptote_note", "figures", "recommended_note", "usl_section"]


def _pools(out: Console, a: ConcurrencyAnalysis) -> None:
    heading(out, "Pools")
    cols = (
        Col("pool", "left", KEEP, wrap=True, min_width=8),
        Col("threads", keep=KEEP),
        Col("now", keep=KEEP),
        Col("kind", "left", keep=1, wrap=True, min_width=6),
        Col("formula", "left", KEEP, wrap=True, min_width=20),
    )
    grid(
        out,
        cols,
        [[p.pool, str(p.threads), _given(p.current_threads), p.kind, p.formula] for p in a.pools],
    )
    w = a.workload
    parts = [
        f"wait {fmt_duration(w.wait)}" if w.wait is not None else None,
        f"compute {fmt_duration(w.compute)}" if w.compute is not None else None,
        f"runtime {w.runtime}" if w.runtime else None,
    ]
    line(
        out,
        f"  {w.type} workload on {w.cores} cores ({label(w.cores_source)})"
        + "".join(f", {p}" for p in parts if p),
    )
    if a.cpu_ceiling is not None:
        line(out, f"  CPU ceiling: {fmt_count(a.cpu_ceiling)} rps")
    if a.threads_for_target is not None:
        line(
            out,
            f"  the target {fmt_count(a.target)} rps needs "
            f"{a.threads_for_target} in flight (Little's law)",
        )


def _given(threads: int | None) -> str:
    """A pool size, or what stands in for today's when it was not given."""
    return "not given" if threads is None else str(threads)


def _load_row(e: PoolLoad) -> tuple[Cell, ...]:
    latency: Cell
    if e.mean_latency is not None:
        latency = fmt_duration(e.mean_latency)
    else:
        latency = ("unstable", BAD) if e.stable is False else "-"
    return (
        _given(e.threads),
        fmt_count(e.max_throughput),
        latency,
        num(e.p_wait) if e.p_wait is not None else "-",
        (fmt_pct(e.pool_utilization), over(e.pool_utilization, 1.0))
        if e.pool_utilization is not None
        else "-",
    )


def _expected(out: Console, a: ConcurrencyAnalysis) -> None:
    heading(out, "Expected")
    cols: tuple[Col, ...] = (
        Col("pool", "left", KEEP),
        Col("threads", keep=KEEP),
        Col("max rps", keep=KEEP),
        Col("mean latency", keep=KEEP),
        Col("P(wait)", keep=2),
        Col("pool busy", keep=3),
    )
    rows = [
        ["current", *_load_row(a.expected.current)],
        ["recommended", *_load_row(a.expected.recommended)],
    ]
    loads = (a.expected.current, a.expected.recommended)
    if any(e.mva_throughput is not None for e in loads):
        # the closed loop beside the bound: what the threads carry, queueing included
        cols = (*cols[:3], Col("MVA rps", keep=1), *cols[3:])
        for row, e in zip(rows, loads, strict=True):
            mva = fmt_count(e.mva_throughput) if e.mva_throughput is not None else "-"
            row.insert(3, mva)
    grid(out, cols, rows)
    if any(e.mva_throughput is not None for e in loads):
        line(
            out,
            "  MVA rps: the threads as a closed loop, always holding a request (Mean Value "
            "Analysis): what they carry with the CPU's queueing; max rps is the bound",
            hang=4,
        )


def _erlang(out: Console, a: ConcurrencyAnalysis) -> None:
    e = a.erlang
    if e is None:
        return
    heading(out, "Pool for the latency SLO (Erlang C)")
    if not e.feasible:
        line(out, f"  none: {e.why}", style=BAD, hang=2)
        return
    line(
        out,
        f"  {e.threads} threads meet {e.slo} at {fmt_count(e.arrival)} rps: "
        f"P(wait) {num(e.p_wait)}, mean wait {fmt_duration(e.mean_wait)}, mean response "
        f"{fmt_duration(e.mean_response)}",
    )


def _queue(out: Console, a: ConcurrencyAnalysis) -> None:
    q = a.queue
    if q is None:
        return
    heading(out, "Waiting queue (Little's law)")
    line(out, f"  capacity at most {q.capacity}; {q.policy}")


def _async(out: Console, a: ConcurrencyAnalysis) -> None:
    if a.async_ is None:
        return
    heading(out, "Async")
    for why in a.async_.why:
        line(out, f"  - {why}")


def usl_section(out: Console, u: UslFitRecord) -> None:
    """The USL fit of a sweep, or why there is none."""
    heading(out, "Universal Scalability Law fit")
    if not u.available:
        line(out, f"  no fit: {u.why}", hang=2)
        return
    se = u.std_errors
    line(
        out,
        f"  σ = {num(u.sigma)} (± {num(se.sigma if se else None)}), κ = {num(u.kappa)} "
        f"(± {num(se.kappa if se else None)}), λ = {num(u.lambda_)} rps; R² "
        f"{num(u.r_squared)}, {u.points} points at {u.levels} levels",
    )
    if u.peak_concurrency is not None:
        line(
            out,
            f"  peak {fmt_count(u.peak_throughput)} rps at N = {num(u.peak_concurrency)}",
        )
    elif u.asymptote is not None:
        line(out, f"  no retrograde region: tends to {fmt_count(u.asymptote)} rps")
    if u.recommended_concurrency is not None:
        line(
            out,
            f"  recommended: {u.recommended_concurrency} ({u.recommendation_basis})",
            style=GOOD if u.reliable is not False else None,
            hang=2,
        )
    for w in u.warnings or ():
        line(out, f"  ! {w}", style=WARN)


def recommended_note(u: UslFitRecord) -> str:
    """The fit's recommended N for a page figure, or why it recommends none."""
    if u.reliable is False:
        return f"unreliable fit (R² {num(u.r_squared)}): no N recommended"
    return f"recommended N = {u.recommended_concurrency}"


def asymptote_note(u: UslFitRecord) -> str:
    return "no retrograde region" + (
        f"; unreliable fit (R² {num(u.r_squared)})" if u.reliable is False else ""
    )


def _usl(out: Console, a: ConcurrencyAnalysis) -> None:
    if a.usl is not None:
        usl_section(out, a.usl)


SECTIONS = (_pools, _expected, _erlang, _queue, _async, _usl)


def figures(r: ConcurrencyAnalysis) -> list[Figure]:
    """The page's key figures: the CPU ceiling, the USL peak, the pools, the target."""
    out: list[Figure] = []
    if r.cpu_ceiling is not None:
        out.append(("CPU ceiling", fmt_rate(r.cpu_ceiling), ""))
    u = r.usl
    if u is not None and u.available:
        if u.peak_throughput is not None and u.peak_concurrency is not None:
            out.append(
                (
                    "USL peak",
                    fmt_rate(u.peak_throughput),
                    f"at N = {u.peak_concurrency:.3g}; {recommended_note(u)}",
                )
            )
        else:
            out.append(("USL asymptote", fmt_rate(u.asymptote), asymptote_note(u)))
    if r.pools:
        sizes = " · ".join(f"{p.pool} {p.threads}" for p in r.pools)
        now = " · ".join(f"{p.pool} {_given(p.current_threads)}" for p in r.pools)
        out.append(("Pools (threads)", sizes, f"now: {now}"))
    if r.target is not None:
        reach = {True: "reachable", False: "not reachable as is", None: ""}[r.target_reachable]
        out.append(("Target", fmt_rate(r.target), reach))
    return out
