"""``sweep``: what a load sweep says — the USL fit of closed-loop levels (shared with
``optimize-concurrency --sweep``), or, in open loop, the highest rate sustained and the latency
against offered load. No USL in open loop: its levels are rates, not work in flight.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from throughput_expert.advisors.ledger import Ledger
from throughput_expert.advisors.usl_report import usl_report
from throughput_expert.errors import InputError
from throughput_expert.laws.usl import TARGET_SHARE, usl_throughput
from throughput_expert.model import Recommendation, Report, Series
from throughput_expert.model.analysis.common import UslFitRecord
from throughput_expert.model.analysis.sweep import (
    LevelLatency,
    LevelRecord,
    MeasuredPeak,
    SweepAnalysis,
)
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
    levels = tuple(_level(lv, inputs.slo_s) for lv in sorted(sweep.levels, key=lambda x: x.level))
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
        fitted = usl_report(sweep, ledger, label=sweep.level_kind)
        peak = _measured_peak(sweep, ledger)
        analysis = replace(analysis, usl=fitted.analysis, measured_peak=peak)
        series = fitted.series | _latency_series(sweep)
        recs = _closed_recs(sweep, fitted.analysis, peak)
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


def _level(lv: SweepLevel, slo_s: float | None) -> LevelRecord:
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


def _measured_peak(sweep: Sweep, ledger: Ledger) -> MeasuredPeak | None:
    """The best level when both of its neighbours measured less: the peak is bracketed by
    measurements, whatever any fit says. None when throughput was still rising at the top."""
    levels = sorted(sweep.levels, key=lambda lv: lv.level)
    if len(levels) < 3:  # none at all when the first level was stopped or interrupted
        return None
    i = max(range(len(levels)), key=lambda k: levels[k].throughput_rps)
    if i == len(levels) - 1 or (i == 0 and levels[0].level > 1):
        return None  # still rising at the top, or nothing measured below a best above 1
    best, above = levels[i], levels[i + 1]
    below = levels[i - 1] if i > 0 else None
    eid = ledger.prove(
        "measured-peak",
        f"throughput peaked at {sweep.level_kind} {best.level:g} among the levels measured: "
        f"{fmt_count(best.throughput_rps)} rps, against {fmt_count(above.throughput_rps)} at "
        f"{above.level:g}"
        + ("" if below is None else f" and {fmt_count(below.throughput_rps)} at {below.level:g}"),
        "measurement",
        {f"{lv.level:g}": lv.throughput_rps for lv in levels},
        best.level,
    )
    return MeasuredPeak(
        level=float(best.level),
        throughput=best.throughput_rps,
        between=(1.0 if below is None else float(below.level), float(above.level)),
        evidence=eid,
    )


def _closed_recs(
    sweep: Sweep, usl: UslFitRecord, peak: MeasuredPeak | None
) -> list[Recommendation]:
    if not usl.available:
        why = usl.why or "no USL fit"
        if peak is not None:  # no fit, but the measurements bracket the peak: run at the best
            return [_at_measured_peak(sweep, peak, f"No USL fit: {why}")]
        return [
            Recommendation("Measure more load levels before sizing", None, "low", "low", why, ())
        ]
    n = usl.recommended_concurrency
    if n is None:
        return []
    assert usl.sigma is not None and usl.kappa is not None and usl.lambda_ is not None
    best = max(sweep.levels, key=lambda lv: lv.throughput_rps)
    predicted = usl_throughput(float(n), usl.sigma, usl.kappa, usl.lambda_)
    basis = (
        f"{usl.recommendation_basis}: {fmt_count(predicted)} rps predicted at {n}, against "
        f"the best measured {fmt_count(best.throughput_rps)} rps at {best.level:g}"
    )
    if peak is not None and predicted < TARGET_SHARE * best.throughput_rps:
        # The curve is sharper than the USL can bend (a lock that saturates at once): its
        # 95 %-of-peak level would give up more than 5 % of a throughput measured on the peak.
        why = (
            f"The USL fit (R² {usl.r_squared:.3g}) underestimates this peak: {basis}, below "
            f"{TARGET_SHARE:.0%} of it, so the measurement decides."
        )
        return [_at_measured_peak(sweep, peak, why)]
    gain = (predicted / best.throughput_rps - 1) * 100
    return [
        Recommendation(
            f"Run at {sweep.level_kind} {n}", gain, "low", "low", basis + ".", ("usl-fit",)
        )
    ]


def _at_measured_peak(sweep: Sweep, peak: MeasuredPeak, more: str) -> Recommendation:
    low, high = peak.between
    sides = (
        f"throughput fell above it ({high:g}) and there is no lower level"
        if low == peak.level
        else f"throughput fell on both sides ({low:g} and {high:g}), so the peak lies between them"
    )
    why = f"the best level measured; {sides}. {more}"
    opt = f"Run at {sweep.level_kind} {int(peak.level)}"
    return Recommendation(opt, None, "low", "low", why, (peak.evidence,))


def _summary(sweep: Sweep, a: SweepAnalysis, recs: list[Recommendation]) -> str:
    best = max(sweep.levels, key=lambda lv: lv.throughput_rps)
    text = (
        f"{len(sweep.levels)} levels ({sweep.mode} loop): best measured "
        f"{fmt_count(best.throughput_rps)} rps at {best.level:g}"
    )
    if sweep.mode == "open":
        hs = a.highest_sustained
        text += f"; highest rate sustained {fmt_count(hs)} rps" if hs else "; no rate sustained"
    elif (u := a.usl) is not None:
        if not u.available:
            text += f"; no USL fit: {u.why}"
        elif u.peak_concurrency is not None:
            text += (
                f"; the USL peaks at {fmt_count(u.peak_throughput)} rps near "
                f"{u.peak_concurrency:.3g}"
            )
        if recs and (u.available or a.measured_peak):
            text += f"; {recs[0].optimization[0].lower()}{recs[0].optimization[1:]}"
    return text + "."
