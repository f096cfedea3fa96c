"""The Universal Scalability Law, X(N) = λN / (1 + σ(N − 1) + κN(N − 1)), and its fit.

Source: N. J. Gunther, "Guerrilla Capacity Planning", Springer, 2007, ch. 4–5; the fit follows
the R ``usl`` package (S. Möding, methods ``nls``/``nlxb``): unweighted nonlinear least squares
on throughput with λ free and bounds 0 ≤ σ ≤ 1, κ ≥ 0, λ > 0. N is the concurrency (load level,
N ≥ 1), X(N) its throughput per second, λ the throughput of one unit of concurrency without
contention, σ the contention (serial) share and κ the coherency (crosstalk) cost. With κ > 0 the
throughput peaks at N* = √((1 − σ) / κ) and then falls (the retrograde region); with κ = 0 it
rises to the Amdahl asymptote λ/σ; with σ = κ = 0 it is linear.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, overload

import numpy as np
import numpy.typing as npt

from throughput_expert.errors import FitError, InputError

__all__ = [
    "EXTRAPOLATION_FACTOR",
    "MIN_USL_LEVELS",
    "TARGET_SHARE",
    "UslFit",
    "UslShape",
    "extrapolation_warning",
    "fit_usl",
    "provisional_peak",
    "usl_peak_concurrency",
    "usl_throughput",
]

_SOURCE = "USL"
MIN_USL_LEVELS = 6
"""Distinct load levels a fit needs: three coefficients, and three more to check the curve."""
MIN_PROVISIONAL_LEVELS = 3
"""Distinct levels ``provisional_peak`` needs: as many as coefficients, nothing left to check."""
TARGET_SHARE = 0.95
"""The recommended concurrency is the smallest N reaching this share of the peak (or asymptote)."""
EXTRAPOLATION_FACTOR = 2.0
"""Predictions past this multiple of the highest measured level are flagged as extrapolation."""
_NEGLIGIBLE_SHARE = 1e-6  # a term below this share of the denominator at the top level is 0
_MAX_CONCURRENCY = 1e6  # a peak or a recommendation beyond this is no answer
_BOUND_TOLERANCE = 1e-6  # a coefficient this close to its bound (at the top level) sits on it

UslShape = Literal["retrograde", "asymptotic", "linear"]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class UslFit:
    """A least-squares USL fit; rates per second, concurrency in units of the levels.

    ``shape`` says which regime the coefficients describe: ``retrograde`` (κ > 0, a peak at N*),
    ``asymptotic`` (κ ≈ 0, σ > 0: no retrograde region, throughput tends to λ/σ) or ``linear``
    (σ ≈ κ ≈ 0: no ceiling the data can see). Standard errors are None where the coefficient sits
    on a bound or the Jacobian is singular. ``recommendation_basis`` says how
    ``recommended_concurrency`` was found, or why there is none; ``recommendation_warning`` is
    the ``extrapolation_warning`` for it (None when it lies within 2× the highest level).
    """

    sigma: float
    kappa: float
    lambda_rps: float
    points: int
    levels: int
    r_squared: float
    residual_std_error: float
    sigma_std_error: float | None
    kappa_std_error: float | None
    lambda_std_error: float | None
    shape: UslShape
    peak_concurrency: float | None
    peak_throughput_rps: float | None
    asymptote_rps: float | None
    recommended_concurrency: int | None
    recommendation_basis: str
    recommendation_warning: str | None
    max_level_measured: float

    @property
    def retrograde(self) -> bool:
        """True when the fitted curve has a peak and falls after it (κ not negligible)."""
        return self.shape == "retrograde"

    @overload
    def predict(self, n: float) -> float: ...
    @overload
    def predict(self, n: npt.NDArray[Any]) -> FloatArray: ...
    def predict(self, n: float | npt.NDArray[Any]) -> float | FloatArray:
        """Fitted throughput X(N) per second at concurrency ``n`` (a number or an array)."""
        return usl_throughput(n, self.sigma, self.kappa, self.lambda_rps)


def _check_coefficients(sigma: float, kappa: float, lam: float) -> None:
    if not (math.isfinite(sigma) and 0 <= sigma <= 1):
        raise InputError(f"must be in [0, 1], got {sigma!r}", source=_SOURCE, field="sigma")
    if not (math.isfinite(kappa) and kappa >= 0):
        raise InputError(
            f"must be a finite number >= 0, got {kappa!r}", source=_SOURCE, field="kappa"
        )
    if not (math.isfinite(lam) and lam > 0):
        raise InputError(f"must be a finite number > 0, got {lam!r}", source=_SOURCE, field="lam")


def _curve(n: FloatArray, sigma: float, kappa: float, lam: float) -> FloatArray:
    # λN / (1 + σ(N − 1) + κN(N − 1)); the denominator is ≥ 1 for N ≥ 1 and σ, κ ≥ 0.
    result: FloatArray = lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))
    return result


@overload
def usl_throughput(n: float, sigma: float, kappa: float, lam: float) -> float: ...
@overload
def usl_throughput(n: npt.NDArray[Any], sigma: float, kappa: float, lam: float) -> FloatArray: ...
def usl_throughput(
    n: float | npt.NDArray[Any], sigma: float, kappa: float, lam: float
) -> float | FloatArray:
    """Throughput X(N) = λN / (1 + σ(N − 1) + κN(N − 1)) (Gunther 2007, ch. 4).

    ``n`` is the concurrency, N ≥ 1 (a number or a numpy array); ``lam`` (λ) the throughput per
    second of N = 1 without contention; 0 ≤ ``sigma`` ≤ 1 and ``kappa`` ≥ 0.
    """
    _check_coefficients(sigma, kappa, lam)
    levels = np.asarray(n, dtype=np.float64)
    if not (np.all(np.isfinite(levels)) and np.all(levels >= 1)):
        raise InputError(f"must be finite and >= 1, got {n!r}", source=_SOURCE, field="n")
    curve = _curve(levels, sigma, kappa, lam)
    return float(curve) if np.ndim(n) == 0 else curve


def _extrapolation_message(n: float, highest: float) -> str | None:
    limit = EXTRAPOLATION_FACTOR * highest
    if n <= limit:
        return None
    return (
        f"N = {n:g} is {n / highest:.1f}x the highest level measured ({highest:g}): the USL is "
        f"extrapolated past {EXTRAPOLATION_FACTOR:g}x (up to {limit:g}); measure near "
        f"N = {n:g} before relying on it"
    )


def extrapolation_warning(fit: UslFit, n: float) -> str | None:
    """A warning when ``n`` lies past 2× the highest level measured, else None.

    The fit only constrains the curve where it has points; past 2× the top level the shape
    (especially κ, which acts as N²) is a guess the data cannot check.
    """
    return _extrapolation_message(n, fit.max_level_measured)


# --- fitting ------------------------------------------------------------------------------------


def _as_data(
    levels: Sequence[float], throughputs: Sequence[float]
) -> tuple[FloatArray, FloatArray]:
    try:
        n = np.asarray(levels, dtype=np.float64).ravel()
        x = np.asarray(throughputs, dtype=np.float64).ravel()
    except (TypeError, ValueError) as exc:
        raise FitError(f"levels and throughputs must be numbers: {exc}", source=_SOURCE) from None
    if n.size != x.size:
        raise FitError(
            f"{n.size} levels but {x.size} throughputs: one throughput per level",
            source=_SOURCE,
            field="throughputs",
        )
    if not (np.all(np.isfinite(n)) and np.all(n >= 1)):
        raise FitError(
            "every level must be a finite concurrency >= 1 (N is a count of workers in flight)",
            source=_SOURCE,
            field="levels",
        )
    if not (np.all(np.isfinite(x)) and np.all(x > 0)):
        raise FitError(
            "every throughput must be a finite number > 0", source=_SOURCE, field="throughputs"
        )
    return n, x


def _suggested_levels(highest: float, count: int) -> str:
    # Doubling past the top level is the cheapest way to see the curve bend (Gunther ch. 5).
    suggestions = [highest * 2**k for k in range(1, count + 1)]
    return ", ".join(f"{level:g}" for level in suggestions)


def _levels(count: int) -> str:
    return "level" if count == 1 else "levels"


def _check_levels(n: FloatArray) -> None:
    distinct = int(np.unique(n).size)
    if distinct >= MIN_USL_LEVELS:
        return
    missing, highest = MIN_USL_LEVELS - distinct, float(n.max()) if n.size else 1.0
    where = _suggested_levels(highest, missing)
    raise FitError(
        f"{distinct} {_levels(distinct)} cannot support a USL fit (it needs {MIN_USL_LEVELS} "
        f"distinct ones): measure {missing} more {_levels(missing)}, e.g. at {where} "
        f"(beyond the highest measured, {highest:g})",
        source=_SOURCE,
        field="levels",
    )


def _jacobian(p: FloatArray, n: FloatArray) -> FloatArray:
    # ∂X/∂σ = −λN(N − 1)/D², ∂X/∂κ = −λN²(N − 1)/D², ∂X/∂λ = N/D.
    sigma, kappa, lam = p
    d = 1 + sigma * (n - 1) + kappa * n * (n - 1)
    common = -lam * n * (n - 1) / d**2
    return np.column_stack([common, common * n, n / d])


def _starts(n: FloatArray, x: FloatArray) -> list[FloatArray]:
    # λ0: the best per-unit rate at the smallest level. σ0, κ0: Gunther's linearisation with λ0
    # fixed, λ0·N/X − 1 = σ(N − 1) + κN(N − 1), solved by non-negative least squares; then a
    # few spread-out starts so a poor linearisation cannot trap the fit in a local minimum.
    from scipy.optimize import nnls  # type: ignore[import-untyped]  # 0.5 s: only when fitting

    lam0 = float(np.max(x[n == n.min()] / n.min()))
    design = np.column_stack([n - 1, n * (n - 1)])
    (sigma0, kappa0), _ = nnls(design, lam0 * n / x - 1)
    top = float(n.max())
    starts = [(min(float(sigma0), 1.0), float(kappa0))]
    starts += [(s, k / top**2) for s in (0.01, 0.1, 0.5) for k in (0.0, 0.1, 1.0)]
    return [np.array([s, k, lam0]) for s, k in starts]


def _least_squares(n: FloatArray, x: FloatArray, start: FloatArray) -> FloatArray:
    from scipy.optimize import least_squares

    result = least_squares(
        lambda p: _curve(n, p[0], p[1], p[2]) - x,
        start,
        jac=lambda p: _jacobian(p, n),
        bounds=([0.0, 0.0, 0.0], [1.0, np.inf, np.inf]),
        x_scale="jac",
        ftol=1e-12,
        xtol=1e-12,
        gtol=1e-12,
        max_nfev=2000,
    )
    return np.asarray(result.x, dtype=np.float64)


def _best_coefficients(n: FloatArray, unit: FloatArray) -> FloatArray:
    best: tuple[float, FloatArray] | None = None
    with np.errstate(all="ignore"):
        for start in _starts(n, unit):
            p = _least_squares(n, unit, start)
            rss = float(np.sum((_curve(n, *p) - unit) ** 2))
            usable = bool(np.all(np.isfinite(p))) and p[2] > 0 and math.isfinite(rss)
            if usable and (best is None or rss < best[0]):
                best = (rss, p)
    if best is None:
        raise FitError("the least-squares fit did not converge on these data", source=_SOURCE)
    return best[1]


def _at_bounds(p: FloatArray, top: float) -> list[bool]:
    # σ on 0 or 1, κ with no effect even at the top level; λ > 0 is never on its bound.
    sigma, kappa, _ = p
    at_sigma = sigma * top <= _BOUND_TOLERANCE or 1 - sigma <= _BOUND_TOLERANCE
    return [at_sigma, kappa * top * top <= _BOUND_TOLERANCE, False]


def _standard_errors(
    p: FloatArray, n: FloatArray, s2: float, at_bound: list[bool]
) -> list[float | None]:
    # cov = s²(JᵀJ)⁻¹ with the full Jacobian, as R's nls summary does (this reproduces the usl
    # package's standard errors); columns are scaled first so κ's tiny units do not look singular.
    jac = _jacobian(p, n)
    norms = np.linalg.norm(jac, axis=0)
    if not np.all(norms > 0):
        return [None, None, None]
    singular = np.linalg.svd(jac / norms, compute_uv=False)
    if singular[-1] <= 1e-10 * singular[0]:
        return [None, None, None]
    scaled = np.linalg.inv((jac / norms).T @ (jac / norms))
    errors = np.sqrt(np.maximum(np.diag(scaled), 0.0) * s2) / norms
    return [None if bound else float(e) for e, bound in zip(errors, at_bound, strict=True)]


def _negligible(term_at_top: float, sigma: float, top: float) -> bool:
    return term_at_top <= _NEGLIGIBLE_SHARE * (1 + sigma * (top - 1))


def _shape(sigma: float, kappa: float, top: float) -> UslShape:
    coherent = not _negligible(kappa * top * (top - 1), sigma, top)
    if coherent and math.sqrt((1 - sigma) / kappa) <= _MAX_CONCURRENCY:
        return "retrograde"
    if not _negligible(sigma * (top - 1), sigma, top):
        return "asymptotic"
    return "linear"


def _smallest_n_reaching(share: float, sigma: float, kappa: float) -> int:
    # In units of λ (the answer does not depend on it), X(N)/λ ≥ t  ⇔
    # tκN² + (tσ − tκ − 1)N + t(1 − σ) ≤ 0: take the smaller root (stable form), then step to
    # the exact integer, since rounding can put the root one side or the other.
    a, b, c = share * kappa, share * (sigma - kappa) - 1, share * (1 - sigma)
    if a == 0:
        root = c / -b
    else:
        q = -0.5 * (b - math.sqrt(max(b * b - 4 * a * c, 0.0)))
        root = c / q
    # The root is only a first guess (rounding, or coefficients at the edge of float range can put
    # it far off): the exact integer is found by bisection, X(N) rising up to the peak N*, so the
    # work stays bounded (~60 evaluations) whatever the coefficients.
    top = max(1, math.ceil(min(_peak(sigma, kappa), 2.0**62)))

    def reaches(n: int) -> bool:
        return usl_throughput(n, sigma, kappa, 1.0) >= share

    guess = min(max(1, math.ceil(root)) if math.isfinite(root) else top, top)
    if reaches(guess):
        low, high = 0, guess  # low fails (or is 0), high reaches
    elif reaches(top):
        low, high = guess, top
    else:
        return top  # the share is not reached below the peak: the peak itself
    while high - low > 1:
        mid = (low + high) // 2
        if mid >= 1 and reaches(mid):
            high = mid
        else:
            low = mid
    return max(1, high)


def usl_peak_concurrency(sigma: float, kappa: float) -> float:
    """Where X(N) peaks, N* = √((1 − σ)/κ) (Gunther 2007, ch. 4); ``math.inf`` when κ = 0
    (no retrograde region). Not clamped: below N = 1 (σ near 1, κ large) the curve only falls."""
    _check_coefficients(sigma, kappa, 1.0)
    return math.inf if kappa == 0 else math.sqrt((1 - sigma) / kappa)


def _peak(sigma: float, kappa: float) -> float:
    # N* ≥ 1: below N = 1 the curve only falls.
    return max(1.0, usl_peak_concurrency(sigma, kappa))


def _recommendation(shape: UslShape, sigma: float, kappa: float) -> tuple[int | None, str]:
    if shape == "linear":
        return None, "linear: no contention or coherency cost is visible, so no ceiling to approach"
    if shape == "retrograde":
        peak_share = usl_throughput(_peak(sigma, kappa), sigma, kappa, 1.0)
        count = _smallest_n_reaching(TARGET_SHARE * peak_share, sigma, kappa)
        return count, f"smallest N reaching {TARGET_SHARE:.0%} of the peak X(N*)"
    # κ ≈ 0: X(N) ≥ share·λ/σ  ⇔  N ≥ share/(1 − share)·(1 − σ)/σ (19(1 − σ)/σ at 95 %).
    needed = TARGET_SHARE / (1 - TARGET_SHARE) * (1 - sigma) / sigma
    if needed > _MAX_CONCURRENCY:
        return None, (
            f"{TARGET_SHARE:.0%} of the asymptote λ/σ lies beyond N = {_MAX_CONCURRENCY:g}"
        )
    count = _smallest_n_reaching(TARGET_SHARE / sigma, sigma, 0.0)
    return count, f"smallest N reaching {TARGET_SHARE:.0%} of the asymptote λ/σ"


def _r_squared(rss: float, x: FloatArray) -> float:
    # 1 − RSS/TSS; with every throughput equal (TSS = 0) a perfect fit scores 1, any other 0.
    tss = float(np.sum((x - x.mean()) ** 2))
    if tss > 0:
        return 1 - rss / tss
    return 1.0 if rss <= 1e-12 * float(x @ x) else 0.0


MAX_SPAN = 1e12  # highest over lowest throughput of one sweep: more is no system's curve


def _check_span(n: FloatArray, x: FloatArray, scale: float) -> None:
    """Refuse throughputs spanning more than ``MAX_SPAN``: the least squares (on X / max X)
    would divide by a value that rounds to zero."""
    low = int(np.argmin(x))
    if not x[low] * MAX_SPAN >= scale:
        raise FitError(
            f"throughputs span more than {MAX_SPAN:.0e} ({float(x[low]):.3g} rps at level "
            f"{float(n[low]):g}, {scale:.3g} at the highest): not one system's curve; check "
            "the units and the levels",
            source=_SOURCE,
        )


def _solve(n: FloatArray, unit: FloatArray) -> FloatArray:
    try:
        return _best_coefficients(n, unit)
    except (ValueError, RuntimeError, ArithmeticError, np.linalg.LinAlgError) as exc:
        raise FitError(
            f"the least-squares fit failed on these data: {exc}", source=_SOURCE
        ) from None


def _quality(
    n: FloatArray, unit: FloatArray, p: FloatArray
) -> tuple[float, float, list[float | None]]:
    # R², residual standard error √(RSS/(n − 3)) and standard errors, in units of max X.
    residuals = _curve(n, p[0], p[1], p[2]) - unit
    rss = float(residuals @ residuals)
    s2 = rss / (n.size - 3)
    errors = _standard_errors(p, n, s2, _at_bounds(p, float(n.max())))
    return _r_squared(rss, unit), math.sqrt(s2), errors


def fit_usl(levels: Sequence[float], throughputs: Sequence[float]) -> UslFit:
    """Fit X(N) = λN / (1 + σ(N − 1) + κN(N − 1)) by unweighted least squares on throughput.

    λ free, 0 ≤ σ ≤ 1, κ ≥ 0 (scipy's trust-region reflective least squares from several
    starts, keeping the lowest residual sum of squares): the R ``usl`` package's fit. Repeated
    levels (repeated runs) are allowed; at least ``MIN_USL_LEVELS`` distinct ones are needed.
    Raises ``FitError`` with too few levels (naming how many more to measure, and where), for
    levels < 1, throughputs ≤ 0 or non-finite numbers.
    """
    n, x = _as_data(levels, throughputs)
    _check_levels(n)
    # Fitted on X / max X, so λ is of order 1 and the tolerances are relative; dividing every
    # residual by one constant leaves the least-squares minimiser unchanged.
    scale, top = float(x.max()), float(n.max())
    _check_span(n, x, scale)
    p = _solve(n, x / scale)
    sigma, kappa, lam = float(p[0]), float(p[1]), float(p[2]) * scale
    r_squared, rse, errors = _quality(n, x / scale, p)
    shape = _shape(sigma, kappa, top)
    peak_n = _peak(sigma, kappa) if shape == "retrograde" else None
    peak_x = None if peak_n is None else usl_throughput(peak_n, sigma, kappa, 1.0) * lam
    recommended, basis = _recommendation(shape, sigma, kappa)
    warning = None if recommended is None else _extrapolation_message(recommended, top)
    return UslFit(
        sigma=sigma,
        kappa=kappa,
        lambda_rps=lam,
        points=int(n.size),
        levels=int(np.unique(n).size),
        r_squared=r_squared,
        residual_std_error=rse * scale,
        sigma_std_error=errors[0],
        kappa_std_error=errors[1],
        lambda_std_error=None if errors[2] is None else errors[2] * scale,
        shape=shape,
        peak_concurrency=peak_n,
        peak_throughput_rps=peak_x,
        asymptote_rps=lam / sigma if shape == "asymptotic" else None,
        recommended_concurrency=recommended,
        recommendation_basis=basis,
        recommendation_warning=warning,
        max_level_measured=top,
    )


def provisional_peak(levels: Sequence[float], throughputs: Sequence[float]) -> float | None:
    """Where the USL through these points peaks, N* = √((1 − σ)/κ), to decide where to measure
    next — never a result: with fewer than ``MIN_USL_LEVELS`` levels nothing checks the curve,
    so no coefficient is reported (``fit_usl`` refuses them). Same least squares as ``fit_usl``
    from ``MIN_PROVISIONAL_LEVELS`` distinct levels; None with fewer, when the fit fails, or
    when the fitted curve has no peak (κ ≈ 0: still rising, or flat)."""
    try:
        n, x = _as_data(levels, throughputs)
    except FitError:
        return None
    if np.unique(n).size < MIN_PROVISIONAL_LEVELS:
        return None
    try:
        p = _solve(n, x / float(x.max()))
    except FitError:
        return None
    sigma, kappa = float(p[0]), float(p[1])
    if _shape(sigma, kappa, float(n.max())) != "retrograde":
        return None
    peak = _peak(sigma, kappa)
    return peak if math.isfinite(peak) and peak <= _MAX_CONCURRENCY else None
