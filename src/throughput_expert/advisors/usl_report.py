"""The USL fit of a sweep as Report pieces, shared by ``optimize-concurrency --sweep``,
``sweep`` and ``scaling-plan``: ``analysis.usl`` and the measured and fitted ``series``.

With fewer than 6 levels there are no coefficients: ``analysis.usl`` says how many more levels
to measure and where, instead of printing numbers the data cannot support.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from throughput_expert.advisors.ledger import Ledger
from throughput_expert.errors import FitError
from throughput_expert.laws.usl import (
    EXTRAPOLATION_FACTOR,
    UslFit,
    extrapolation_warning,
    fit_usl,
)
from throughput_expert.model import Series
from throughput_expert.model.analysis.common import UslErrors, UslFitRecord
from throughput_expert.model.sweep import Sweep

__all__ = ["UslReport", "usl_report"]


@dataclass(frozen=True)
class UslReport:
    fit: UslFit | None
    analysis: UslFitRecord
    series: dict[str, Series]


def usl_report(sweep: Sweep, ledger: Ledger, label: str = "concurrency") -> UslReport:
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
    return UslReport(fit, _analysis(fit), series)


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
