"""Text sections of ``optimize-concurrency`` (and the USL section ``sweep`` shares)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console

from throughput_expert.model.units import fmt_count
from throughput_expert.render.text_common import heading, line, ms, num, table

__all__ = ["SECTIONS"]


def _pools(out: Console, a: Mapping[str, Any]) -> None:
    heading(out, "Pools")
    rows = table("pool", "size", "now", "kind", "formula")
    for p in a["pools"]:
        rows.add_row(
            p["pool"], str(p["threads"]), str(p["current_threads"]), p["kind"], p["formula"]
        )
    out.print(rows)
    w = a.get("workload") or {}
    if w:
        line(
            out,
            f"  {w['type']} workload on {w['cores']} cores ({w['cores_source']}); wait "
            f"{ms(w.get('wait_ms'))}, compute {ms(w.get('compute_ms'))}"
            + (f", runtime {w['runtime']}" if w.get("runtime") else ""),
        )
    if a.get("cpu_ceiling_rps") is not None:
        line(out, f"  CPU ceiling: {fmt_count(a['cpu_ceiling_rps'])} rps")
    if a.get("threads_for_target") is not None:
        line(
            out,
            f"  the target {fmt_count(a['target_rps'])} rps needs "
            f"{a['threads_for_target']} in flight (Little's law)",
        )


def _expected(out: Console, a: Mapping[str, Any]) -> None:
    heading(out, "Expected")
    rows = table("", "threads", "max rps", "mean latency", "P(wait)", "pool busy")
    for key in ("current", "recommended"):
        e = a["expected"][key]
        stable = e.get("stable")
        latency = (
            ms(e["mean_latency_ms"])
            if e.get("mean_latency_ms") is not None
            else ("unstable" if stable is False else "-")
        )
        busy = e.get("pool_utilization")
        rows.add_row(
            key,
            str(e["threads"]),
            fmt_count(e.get("max_throughput_rps")),
            latency,
            num(e.get("p_wait")) if e.get("p_wait") is not None else "-",
            f"{busy * 100:.3g} %" if busy is not None else "-",
        )
    out.print(rows)


def _erlang(out: Console, a: Mapping[str, Any]) -> None:
    e = a["erlang"]
    heading(out, "Pool for the latency SLO (Erlang C)")
    if not e.get("feasible"):
        line(out, f"  none: {e.get('why')}")
        return
    line(
        out,
        f"  {e['threads']} threads meet {e['slo']} at {fmt_count(e['arrival_rps'])} rps: "
        f"P(wait) {num(e['p_wait'])}, mean wait {ms(e['mean_wait_ms'])}, mean response "
        f"{ms(e['mean_response_ms'])}",
    )


def _queue(out: Console, a: Mapping[str, Any]) -> None:
    q = a["queue"]
    heading(out, "Waiting queue (Little's law)")
    line(out, f"  capacity at most {q['capacity']}; {q['policy']}")


def _async(out: Console, a: Mapping[str, Any]) -> None:
    heading(out, "Async")
    for why in a["async"]["why"]:
        line(out, f"  - {why}")


def _usl(out: Console, a: Mapping[str, Any]) -> None:
    u = a["usl"]
    heading(out, "Universal Scalability Law fit")
    if not u.get("available"):
        line(out, f"  no fit: {u.get('why')}")
        return
    se = u.get("std_errors") or {}
    line(
        out,
        f"  σ = {num(u['sigma'])} (± {num(se.get('sigma'))}), κ = {num(u['kappa'])} "
        f"(± {num(se.get('kappa'))}), λ = {num(u['lambda_rps'])} rps; R² {num(u['r_squared'])}"
        f", {u['points']} points at {u['levels']} levels",
    )
    if u.get("peak_concurrency") is not None:
        line(
            out,
            f"  peak {fmt_count(u['peak_throughput_rps'])} rps at N = {num(u['peak_concurrency'])}",
        )
    elif u.get("asymptote_rps") is not None:
        line(out, f"  no retrograde region: tends to {fmt_count(u['asymptote_rps'])} rps")
    if u.get("recommended_concurrency") is not None:
        line(out, f"  recommended: {u['recommended_concurrency']} ({u['recommendation_basis']})")
    for w in u.get("warnings") or []:
        line(out, f"  ! {w}")


SECTIONS = (
    ("pools", _pools),
    ("expected", _expected),
    ("erlang", _erlang),
    ("queue", _queue),
    ("async", _async),
    ("usl", _usl),
)
