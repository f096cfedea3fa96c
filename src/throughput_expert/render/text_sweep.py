"""Text sections and page figures of ``sweep``: the USL fit (the section is shared with
``optimize-concurrency``), then the levels measured."""

from __future__ import annotations

from rich.console import Console

from throughput_expert.model.analysis.sweep import LevelRecord, SweepAnalysis
from throughput_expert.model.units import fmt_count, fmt_duration, fmt_rate
from throughput_expert.render.html_common import Figure
from throughput_expert.render.text_common import KEEP, Col, bullets, grid, heading, line
from throughput_expert.render.text_concurrency import (
    asymptote_note,
    recommended_note,
    usl_section,
)

__all__ = ["SECTIONS", "figures"]


def _usl(out: Console, a: SweepAnalysis) -> None:
    if a.usl is not None:
        usl_section(out, a.usl)


def _optional(value: int | None) -> str:
    return "-" if value is None else str(value)


def _levels(out: Console, a: SweepAnalysis) -> None:
    who = f" by {a.driver}" if a.driver else ""
    if a.driver and a.target:
        who += f" on {a.target}"
    heading(out, f"Levels ({a.mode} loop{who})")
    open_loop = a.mode == "open"
    cols = ["offered", "achieved", "sustained"] if open_loop else [a.level_kind, "throughput"]
    ci = any(lv.ci_low is not None for lv in a.levels)
    cols += ["mean (95 % CI)"] if ci else []
    names = [*cols, "p50", "p99", "max", "errors", "requests"]
    rows = [
        [*_first(lv, open_loop), *([_ci(lv)] if ci else []), *_latency(lv), *_counts(lv)]
        for lv in a.levels
    ]
    shown = [Col(name, keep=1 if name == "requests" else KEEP) for name in names]
    grid(out, shown, rows, what="levels")
    if open_loop:
        best = a.highest_sustained
        line(
            out,
            f"  highest rate sustained: {fmt_count(best)} rps"
            if best
            else "  no offered rate was sustained",
        )
    if (peak := a.measured_peak) is not None:
        low, high = peak.between
        line(
            out,
            f"  measured peak: {fmt_count(peak.throughput)} rps at {peak.level:g} "
            f"(less at {low:g} and at {high:g})",
        )
    if (noise := a.noise) is not None and noise.relative_sd is not None:
        chosen = "-" if noise.smallest_not_below is None else f"{noise.smallest_not_below:g}"
        line(
            out,
            f"  noise: ±{noise.relative_sd:.1%} a reading ({noise.df} degrees of freedom); "
            f"smallest level not significantly below the best ({noise.best:g}): {chosen}",
        )
    bullets(out, a.notes, "notes")


def _ci(lv: LevelRecord) -> str:
    if lv.mean is None or lv.ci_low is None or lv.ci_high is None:
        return "-"
    return f"{fmt_count(lv.mean)} ({fmt_count(lv.ci_low)}–{fmt_count(lv.ci_high)})"


def _first(lv: LevelRecord, open_loop: bool) -> list[str]:
    if open_loop:
        return [
            fmt_count(lv.offered),
            fmt_count(lv.throughput),
            "yes" if lv.sustained else "no",
        ]
    return [f"{lv.level:g}", fmt_count(lv.throughput)]


def _latency(lv: LevelRecord) -> list[str]:
    lat = lv.latency
    return [fmt_duration(lat.p50), fmt_duration(lat.p99), fmt_duration(lat.max)]


def _counts(lv: LevelRecord) -> list[str]:
    return [_optional(lv.errors), _optional(lv.requests)]


SECTIONS = (_usl, _levels)


def figures(a: SweepAnalysis) -> list[Figure]:
    """The page's key figures: the USL peak (or asymptote) of a closed-loop sweep."""
    u = a.usl
    if u is None or not u.available:
        return []
    if u.peak_throughput is not None and u.peak_concurrency is not None:
        return [
            (
                "USL peak",
                fmt_rate(u.peak_throughput),
                f"at N = {u.peak_concurrency:.3g}; {recommended_note(u)}",
            )
        ]
    return [("USL asymptote", fmt_rate(u.asymptote), asymptote_note(u))]
