"""``sweep``: what a load sweep says — the USL fit of closed-loop levels (shared with
``optimize-concurrency --sweep``), or, in open loop, the highest rate sustained and the latency
against offered load. No USL in open loop: its levels are rates, not work in flight.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from throughput_expert.advisors.ledger import Ledger
from throughput_expert.advisors.usl_report import (
    SweepChoice,
    choose_level,
    measured_peak,
    noise_record,
    sweep_noise,
    usl_report,
)
from throughput_expert.errors import InputError
from throughput_expert.laws.significance import LevelMean
from throughput_expert.model import Recommendation, Report, Series
from throughput_expert.model.analysis.sweep import LevelLatency, LevelRecord, SweepAnalysis
from throughput_expert.model.settings import Settings
from throughput_expert.model.sweep import Sweep, SweepLevel
from throughput_expert.model.units import fmt_count, fmt_duration
from throughput_expert.redact import redact_text

__all__ = ["SUSTAINED_SHARE", "SweepInputs", "advise"]

SUSTAINED_SHARE = 0.99


@dataclass(frozen=True)
class SweepInputs:
    sweep: Sweep
    slo_s: float | None = None


def advise(inputs: SweepInputs, settings: Settings) -> Report:
    ledger = Ledger()
    sweep = inputs.sweep
    if not sweep.levels:
        source = sweep.source.source if sweep.source else "sweep"
        raise InputError("no level was measured: nothing to advise on", source=source)
    if sweep.closed_loop_percentiles:
        ledger.assume(
            "percentiles from a closed loop",
            "prone to coordinated omission",
            "a closed-loop generator stops sending while the server stalls, so the "
            "stall is one slow sample instead of many: percentiles are understated "
            "(docs/formats.md §3.9); use an open-loop sweep (rates) for tail latency",
        )
    means = {} if sweep.mode == "open" else {m.level: m for m in sweep_noise(sweep).levels}
    levels = tuple(
        _level(lv, inputs.slo_s, means.get(lv.level))
        for lv in sorted(sweep.levels, key=lambda x: x.level)
    )
    # a Sweep built by a caller may hold a raw URL or command: masked here too
    analysis = SweepAnalysis(
        mode=sweep.mode,
        level_kind=sweep.level_kind,
        driver=sweep.driver,
        target=None if sweep.target is None else redact_text(sweep.target),
        levels=levels,
        notes=tuple(redact_text(n) for n in sweep.notes),
    )
    if sweep.mode == "open":
        best, series, recs = _open(sweep, inputs.slo_s, ledger)
        analysis = replace(analysis, highest_sustained=best, slo=inputs.slo_s or None)
    else:
        fitted = usl_report(
            sweep,
            ledger,
            label=sweep.level_kind,
            min_r_squared=settings.threshold("usl_min_r_squared"),
        )
        peak = measured_peak(sweep, ledger)
        noise = noise_record(sweep, ledger)
        analysis = replace(analysis, usl=fitted.analysis, measured_peak=peak, noise=noise)
        series = fitted.series | _latency_series(sweep)
        recs = _closed_recs(sweep, choose_level(sweep, fitted.analysis, peak))
    return Report(
        command="sweep",
        summary=_summary(sweep, analysis, recs),
        analysis=analysis,
        series=series,
        recommendations=tuple(recs),
        implementation_plan={
            "immediate": [r.optimization for r in recs],
            "short_term": [],
            "long_term": [],
        },
        evidence=tuple(ledger.evidence),
        assumptions=tuple(ledger.assumptions),
        inputs=(sweep.source,) if sweep.source else (),
    )


def _sustained(lv: SweepLevel, slo_s: float | None) -> bool | None:
    if lv.offered_rps is None:
        return None
    ok = lv.throughput_rps >= SUSTAINED_SHARE * lv.offered_rps
    if ok and slo_s is not None and lv.latency.p99_s is not None:
        ok = lv.latency.p99_s <= slo_s
    return ok


def _level(lv: SweepLevel, slo_s: float | None, mean: LevelMean | None) -> LevelRecord:
    lat = lv.latency
    return LevelRecord(
        level=float(lv.level),
        throughput=lv.throughput_rps,
        latency=LevelLatency(
            mean=lat.mean_s,
            p50=lat.p50_s,
            p90=lat.p90_s,
            p95=lat.p95_s,
            p99=lat.p99_s,
            p999=lat.p999_s,
            max=lat.max_s,
        ),
        errors=lv.errors,
        requests=lv.requests,
        duration=lv.duration_s,
        offered=lv.offered_rps,
        sustained=_sustained(lv, slo_s),
        readings=None if mean is None else mean.readings,
        mean=None if mean is None else mean.mean,
        ci_low=None if mean is None else mean.low,
        ci_high=None if mean is None else mean.high,
    )


def _open(
    sweep: Sweep, slo_s: float | None, ledger: Ledger
) -> tuple[float | None, dict[str, Series], list[Recommendation]]:
    levels = sorted((lv for lv in sweep.levels if lv.offered_rps), key=lambda x: x.offered_rps or 0)
    ok = [lv for lv in levels if _sustained(lv, slo_s)]
    best = max((lv.offered_rps or 0.0 for lv in ok), default=None)
    ledger.prove(
        "sustained",
        f"the highest offered rate sustained is {fmt_count(best)} rps"
        if best
        else "no offered rate was sustained",
        f"achieved ≥ {SUSTAINED_SHARE:.0%} of offered"
        + (f" and p99 ≤ {fmt_duration(slo_s)}" if slo_s else ""),
        {"levels": [[lv.offered_rps, lv.throughput_rps] for lv in levels]},
        {"highest_sustained_rps": best},
    )
    series = {
        "achieved_vs_offered": Series(
            "offered (rps)",
            "achieved (rps)",
            tuple((lv.offered_rps or 0.0, lv.throughput_rps) for lv in levels),
        )
    }
    p99 = tuple(
        (lv.offered_rps or 0.0, lv.latency.p99_s * 1e3)
        for lv in levels
        if lv.latency.p99_s is not None
    )
    if p99:
        series["latency_vs_offered"] = Series("offered (rps)", "p99 from intended start (ms)", p99)
    recs = []
    if best:
        recs.append(
            Recommendation(
                f"Keep the offered load under {fmt_count(best)} rps, with backpressure beyond it",
                None,
                "low",
                "low",
                "Past the highest sustained rate the queue grows and latency "
                "measured from the intended start climbs without bound.",
                ("sustained",),
            )
        )
    return best, series, recs


def _latency_series(sweep: Sweep) -> dict[str, Series]:
    points = tuple(
        (lv.level, lv.latency.p99_s * 1e3)
        for lv in sorted(sweep.levels, key=lambda x: x.level)
        if lv.latency.p99_s is not None
    )
    if not points:
        return {}
    return {"p99_vs_level": Series(sweep.level_kind, "p99 latency (ms)", points)}


def _closed_recs(sweep: Sweep, choice: SweepChoice) -> list[Recommendation]:
    """The level ``choose_level`` chose (the same decision ``optimize-concurrency --sweep``
    makes). A sweep knows no level run today, so the recommendation carries no gain: its
    rationale gives the throughput expected there."""
    if choice.level is None:
        return [
            Recommendation(
                "Measure more load levels before sizing", None, "low", "low", choice.why, ()
            )
        ]
    return [
        Recommendation(
            f"Run at {sweep.level_kind} {choice.level}",
            None,
            "low",
            "low",
            choice.why,
            choice.evidence_ids,
        )
    ]


def _summary(sweep: Sweep, a: SweepAnalysis, recs: list[Recommendation]) -> str:
    means = sweep_noise(sweep)
    best = means.best()
    count = f"{len(means.levels)} levels"
    if len(means.levels) < len(sweep.levels):
        count += f" ({len(sweep.levels)} readings)"
    text = (
        f"{count} ({sweep.mode} loop): best measured {fmt_count(best.mean)} rps at {best.level:g}"
    )
    if sweep.mode == "open":
        hs = a.highest_sustained
        text += f"; highest rate sustained {fmt_count(hs)} rps" if hs else "; no rate sustained"
    elif (u := a.usl) is not None:
        if not u.available:
            text += f"; no USL fit: {u.why}"
        elif u.reliable is False:
            text += f"; the USL fit is unreliable (R² {u.r_squared:.3g}) and decides nothing"
        elif u.peak_concurrency is not None:
            text += (
                f"; the USL peaks at {fmt_count(u.peak_throughput)} rps near "
                f"{u.peak_concurrency:.3g}"
            )
        if recs and (u.available or a.measured_peak):
            text += f"; {recs[0].optimization[0].lower()}{recs[0].optimization[1:]}"
    return text + "."
