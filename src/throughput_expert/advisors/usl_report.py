"""The USL fit of a sweep as Report pieces, shared by ``optimize-concurrency --sweep``,
``sweep`` and ``scaling-plan``: ``analysis.usl`` and the measured and fitted ``series``; and the
one decision of which level a sweep recommends (``choose_level``), so that ``sweep`` and
``optimize-concurrency --sweep`` give the same answer from one file.

With fewer than 6 levels there are no coefficients: ``analysis.usl`` says how many more levels
to measure and where, instead of printing numbers the data cannot support. A fit whose R² is
below ``thresholds.usl_min_r_squared`` is shown but marked unreliable and recommends nothing:
the measured best level decides instead (``measured_peak``).

A level may be measured more than once (``tpx sweep --concurrency auto`` reads the best level and
its neighbours again): each level is then its mean, with a confidence interval from the pooled
noise (``laws.significance``), and when the peak is bracketed the sweep recommends the smallest
level whose mean is not significantly below the best's (one-sided t-test at 5 %).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from throughput_expert.advisors.ledger import Ledger
from throughput_expert.errors import FitError
from throughput_expert.laws.significance import (
    CONFIDENCE,
    TEST_NAME,
    LevelMean,
    Noise,
    estimate_noise,
)
from throughput_expert.laws.usl import (
    EXTRAPOLATION_FACTOR,
    TARGET_SHARE,
    UslFit,
    extrapolation_warning,
    fit_usl,
    usl_throughput,
)
from throughput_expert.model import Series
from throughput_expert.model.analysis.common import UslErrors, UslFitRecord
from throughput_expert.model.analysis.sweep import MeasuredPeak, SweepNoise
from throughput_expert.model.sweep import Sweep
from throughput_expert.model.units import fmt_count

__all__ = [
    "NOISE_EVIDENCE",
    "SweepChoice",
    "UslReport",
    "choose_level",
    "measured_peak",
    "noise_record",
    "sweep_noise",
    "usl_report",
]

NOISE_EVIDENCE = "level-noise"


@dataclass(frozen=True)
class UslReport:
    fit: UslFit | None
    analysis: UslFitRecord
    series: dict[str, Series]

    @property
    def reliable_fit(self) -> UslFit | None:
        """The fit, when there is one and its R² passed the threshold it was checked against."""
        return self.fit if self.fit is not None and self.analysis.reliable is not False else None


def usl_report(
    sweep: Sweep,
    ledger: Ledger,
    label: str = "concurrency",
    *,
    min_r_squared: float | None = None,
) -> UslReport:
    """The fit of ``sweep`` and its record. With ``min_r_squared`` (``thresholds.
    usl_min_r_squared``) a fit below it is marked ``reliable: false``, warned about, and has no
    recommended concurrency."""
    levels, throughputs = sweep.points()
    measured = Series(label, "throughput (rps)", tuple(zip(levels, throughputs, strict=True)))
    series = {"usl_measured": measured}
    if sweep.mode == "open":
        why = "an open-loop sweep's levels are offered rates, not work in flight: no USL fit"
        return UslReport(None, UslFitRecord(False, len(levels), why=why), series)
    try:
        fit = fit_usl(levels, throughputs)
    except FitError as exc:
        why = exc.message
        ledger.assume("no USL fit", "not fitted", why)
        return UslReport(None, UslFitRecord(False, len(levels), why=why), series)
    series["usl_fit"] = Series(label, "throughput (rps)", _curve(fit))
    ledger.prove(
        "usl-fit",
        _claim(fit),
        "Universal Scalability Law: X(N) = λN / (1 + σ(N−1) + κN(N−1)), least squares",
        {"levels": levels, "throughputs_rps": throughputs},
        {
            "sigma": fit.sigma,
            "kappa": fit.kappa,
            "lambda_rps": fit.lambda_rps,
            "r_squared": fit.r_squared,
        },
    )
    record = _analysis(fit)
    if min_r_squared is not None:
        record = _checked(record, fit, min_r_squared, ledger)
    return UslReport(fit, record, series)


def unreliable_warning(r_squared: float, minimum: float) -> str:
    return (
        f"the fit is unreliable: R² {r_squared:.3g} is below {minimum:.3g} "
        "(thresholds.usl_min_r_squared), the curve explains too little of the measured "
        "throughput; no concurrency is recommended from it"
    )


def _checked(record: UslFitRecord, fit: UslFit, minimum: float, ledger: Ledger) -> UslFitRecord:
    if fit.r_squared >= minimum:
        return replace(record, reliable=True)
    warning = unreliable_warning(fit.r_squared, minimum)
    ledger.assume(
        "USL fit",
        "unreliable: not used for a recommendation",
        f"R² {fit.r_squared:.3g} is below thresholds.usl_min_r_squared = {minimum:.3g}",
    )
    return replace(
        record,
        reliable=False,
        recommended_concurrency=None,
        recommendation_basis=f"none: R² {fit.r_squared:.3g} is below {minimum:.3g}",
        warnings=(warning, *(record.warnings or ())),
    )


def _claim(fit: UslFit) -> str:
    if fit.peak_concurrency is not None and fit.peak_throughput_rps is not None:
        return (
            f"throughput peaks at {fit.peak_throughput_rps:.4g} rps near "
            f"{fit.peak_concurrency:.3g} and falls beyond it"
        )
    if fit.asymptote_rps is not None:
        return f"no retrograde region: throughput tends to {fit.asymptote_rps:.4g} rps"
    return "throughput grows about linearly over the measured range"


def _analysis(fit: UslFit) -> UslFitRecord:
    warnings = tuple(w for w in (fit.recommendation_warning, _peak_warning(fit)) if w)
    return UslFitRecord(
        available=True,
        points=fit.points,
        sigma=fit.sigma,
        kappa=fit.kappa,
        lambda_=fit.lambda_rps,
        shape=fit.shape,
        peak_concurrency=fit.peak_concurrency,
        peak_throughput=fit.peak_throughput_rps,
        asymptote=fit.asymptote_rps,
        recommended_concurrency=fit.recommended_concurrency,
        recommendation_basis=fit.recommendation_basis,
        levels=fit.levels,
        max_level_measured=fit.max_level_measured,
        r_squared=fit.r_squared,
        residual_std_error=fit.residual_std_error,
        std_errors=UslErrors(fit.sigma_std_error, fit.kappa_std_error, fit.lambda_std_error),
        evidence_ids=("usl-fit",),
        no_peak_reason="no retrograde region" if fit.peak_concurrency is None else None,
        warnings=warnings or None,
    )


def _peak_warning(fit: UslFit) -> str | None:
    if fit.peak_concurrency is None:
        return None
    return extrapolation_warning(fit, fit.peak_concurrency)


def _curve(fit: UslFit) -> tuple[tuple[float, float], ...]:
    """The fitted curve from 1 to 2× the highest level measured (no further: beyond it the
    curve would be extrapolation), 60 points."""
    top = fit.max_level_measured * EXTRAPOLATION_FACTOR
    n = np.linspace(1.0, max(top, 2.0), 60)
    return tuple((float(a), float(b)) for a, b in zip(n, fit.predict(n), strict=True))


def sweep_noise(sweep: Sweep) -> Noise:
    """Each level's mean over its readings and the pooled noise (repeats, and the sub-window
    rates of a reading when the runner gave them)."""
    readings = [(lv.level, lv.throughput_rps) for lv in sweep.levels]
    windows = {
        i: tuple(rates)
        for i, lv in enumerate(sweep.levels)
        if len(rates := getattr(lv, "window_rates", ()) or ()) > 1
    }
    return estimate_noise(readings, windows)


def measured_peak(sweep: Sweep, ledger: Ledger) -> MeasuredPeak | None:
    """The best level (by its mean over repeats) when both of its neighbours measured less: the
    peak is bracketed by measurements, whatever any fit says. None when throughput was still
    rising at the top."""
    if sweep.mode == "open":
        return None
    noise = sweep_noise(sweep)
    if noise.known:  # what choose_level decides by, once the peak is bracketed or flat
        _prove_noise(sweep, noise, ledger)
    levels = noise.levels
    if len(levels) < 3:  # none at all when the first level was stopped or interrupted
        return None
    i = levels.index(noise.best())
    if i == len(levels) - 1 or (i == 0 and levels[0].level > 1):
        return None  # still rising at the top, or nothing measured below a best above 1
    best, above = levels[i], levels[i + 1]
    below = levels[i - 1] if i > 0 else None
    repeated = any(m.readings > 1 for m in levels)
    eid = ledger.prove(
        "measured-peak",
        f"throughput peaked at {sweep.level_kind} {best.level:g} among the levels measured: "
        f"{fmt_count(best.mean)} rps, against {fmt_count(above.mean)} at {above.level:g}"
        + ("" if below is None else f" and {fmt_count(below.mean)} at {below.level:g}")
        + (" (means over each level's readings)" if repeated else ""),
        "measurement",
        {f"{m.level:g}": m.mean for m in levels},
        best.level,
    )
    return MeasuredPeak(
        level=float(best.level),
        throughput=best.mean,
        between=(1.0 if below is None else float(below.level), float(above.level)),
        evidence=eid,
    )


def noise_record(sweep: Sweep, ledger: Ledger) -> SweepNoise | None:
    """The closed-loop sweep's noise and the level it recommends (None in open loop)."""
    if sweep.mode == "open" or not sweep.levels:
        return None
    noise = sweep_noise(sweep)
    chosen = noise.smallest_not_below()
    return SweepNoise(
        relative_sd=noise.relative_sd,
        df=noise.df,
        confidence=CONFIDENCE,
        test=TEST_NAME,
        best=noise.best().level,
        smallest_not_below=None if chosen is None else chosen.level,
        evidence=_prove_noise(sweep, noise, ledger) if noise.known else None,
    )


def _prove_noise(sweep: Sweep, noise: Noise, ledger: Ledger) -> str:
    best = noise.best()
    chosen = noise.smallest_not_below() or best
    assert noise.relative_sd is not None
    return ledger.prove(
        NOISE_EVIDENCE,
        f"the smallest {sweep.level_kind} whose throughput is not significantly below the best "
        f"({best.level:g}: {fmt_count(best.mean)} rps) is {chosen.level:g}: "
        f"{fmt_count(chosen.mean)} rps; one reading's noise is ±{noise.relative_sd:.1%} "
        f"(pooled, {noise.df} degrees of freedom)",
        TEST_NAME,
        {
            f"{m.level:g}": {"mean_rps": m.mean, "readings": m.readings, "se_rps": m.se}
            for m in noise.levels
        },
        {
            "smallest_not_below": chosen.level,
            "best": best.level,
            "relative_sd": noise.relative_sd,
            "df": noise.df,
        },
    )


@dataclass(frozen=True)
class SweepChoice:
    """The level a sweep recommends (``level`` None: none, and ``why``), how it was chosen and
    the throughput expected there: the USL's X(N), or the throughput measured at that level."""

    level: int | None
    basis: Literal["usl", "measured"] | None
    throughput: float | None
    why: str
    evidence_ids: tuple[str, ...]


def choose_level(sweep: Sweep, usl: UslFitRecord, peak: MeasuredPeak | None) -> SweepChoice:
    """The one decision both ``sweep`` and ``optimize-concurrency --sweep`` make: the USL's
    recommended level when the fit is available, reliable and does not underestimate a peak
    the measurements bracket; else the measured best level (``peak``); else none. When the
    measurements bracket the peak and the noise is known (a level read twice), the measurement
    decides: the smallest level not significantly below the best."""
    noise = sweep_noise(sweep)
    chosen = noise.smallest_not_below()
    if chosen is not None and (peak is not None or chosen.level < noise.levels[-1].level):
        return _not_below(noise, chosen, peak)
    if not usl.available or usl.reliable is False or usl.recommended_concurrency is None:
        if not usl.available:
            why = f"No USL fit: {usl.why or 'no USL fit'}"
        elif usl.reliable is False:
            why = f"The USL fit is unreliable (R² {usl.r_squared:.3g}): it decides nothing."
        else:
            why = f"The USL fit recommends no level: {usl.recommendation_basis}."
        if peak is not None:  # the measurements bracket the peak: run at the best
            return _at_measured_peak(sweep, peak, why)
        return SweepChoice(None, None, None, usl.why or why, ())
    n = usl.recommended_concurrency
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
        return _at_measured_peak(sweep, peak, why)
    return SweepChoice(n, "usl", predicted, basis + ".", ("usl-fit",))


def _at_measured_peak(sweep: Sweep, peak: MeasuredPeak, more: str) -> SweepChoice:
    low, high = peak.between
    sides = (
        f"throughput fell above it ({high:g}) and there is no lower level"
        if low == peak.level
        else f"throughput fell on both sides ({low:g} and {high:g}), so the peak lies between them"
    )
    why = f"the best level measured; {sides}. {more}"
    return SweepChoice(int(peak.level), "measured", peak.throughput, why, (peak.evidence,))


def _not_below(noise: Noise, chosen: LevelMean, peak: MeasuredPeak | None) -> SweepChoice:
    """The smallest level not significantly below the best, once the peak is bracketed or the
    curve has flattened (a level below the top is within the noise of the best)."""
    best = noise.best()
    if chosen is best:
        more = "every lower level measured is significantly below it"
    else:
        more = (
            f"{chosen.level:g} measured {fmt_count(chosen.mean)} rps, not significantly below "
            f"{fmt_count(best.mean)} at {best.level:g}"
        )
    if peak is not None:
        shape = f"the best is bracketed: {peak.between[0]:g} and {peak.between[1]:g} measured less"
    else:
        shape = (
            f"no peak is bracketed, but throughput is flat from {chosen.level:g} to the highest "
            f"level measured ({noise.levels[-1].level:g}) within the noise"
        )
    why = (
        f"The smallest level whose throughput is not significantly below the best ({TEST_NAME}): "
        f"{more}; {shape}."
    )
    ids = (peak.evidence, NOISE_EVIDENCE) if peak is not None else (NOISE_EVIDENCE,)
    return SweepChoice(int(chosen.level), "measured", chosen.mean, why, ids)


def measured_at(sweep: Sweep, level: float) -> float | None:
    """The mean throughput measured at ``level`` over its readings (None when that level was not
    measured)."""
    found = [lv.throughput_rps for lv in sweep.levels if lv.level == level]
    return sum(found) / len(found) if found else None
