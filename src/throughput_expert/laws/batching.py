"""The batching cost model: a batch of b items takes T(b) = c0 + c1·b seconds.

Source: the linear (fixed + per-item) cost model of batched work, fitted by simple linear
regression (R. Jain, "The Art of Computer Systems Performance Analysis", 1991, ch. 14), with
Little's law for the throughput of batches in flight. c0 is the fixed cost of one batch (a round
trip, a commit, a syscall), c1 the cost of each item in it. With ``concurrency`` batches in flight,
throughput is X(b) = concurrency·b / (c0 + c1·b), which rises with b towards concurrency / c1 and
never reaches it: batching amortises c0, never c1. Items arriving at rate λ wait for their batch
to fill, (b − 1)/λ for the first item of a batch, before the batch takes T(b).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from throughput_expert.errors import FitError, InputError, ModelError
from throughput_expert.laws._checks import fraction, non_negative, positive

__all__ = [
    "MIN_R_SQUARED",
    "AddedLatency",
    "CallCostFit",
    "CostFit",
    "added_latency",
    "batch_throughput",
    "batch_time",
    "fill_time",
    "fit_call_cost",
    "fit_cost_model",
    "smallest_batch_for",
    "split_single_item",
    "throughput_limit",
]

_SOURCE = "batching cost model"
MIN_R_SQUARED = 0.9
"""Below this R² (with at least 3 points) the measurements do not follow a line."""

if TYPE_CHECKING:  # numpy costs ~60 ms to import: only the fits below load it
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class AddedLatency:
    """Latency batching adds to an item, in seconds, for items arriving evenly at rate λ.

    The k-th of b items waits (b − k)/λ for the batch to fill, so waits are spread evenly from 0
    to (b − 1)/λ: their mean and median are (b − 1)/(2λ). Every item then waits T(b) for the batch.
    """

    fill_s: float
    batch_time_s: float
    p50_s: float
    max_s: float


@dataclass(frozen=True)
class CostFit:
    """Least-squares line T(b) = c0 + c1·b through measured batch latencies, in seconds.

    ``through_origin`` is True when the free line had a negative intercept and the model was
    refitted with c0 = 0 (``note`` says so). ``residual_std_error_s`` is √(RSS/df), df = points − 2
    (points − 1 through the origin); None with no degrees of freedom left.
    """

    c0_s: float
    c1_s: float
    points: int
    sizes: int
    residuals_s: tuple[float, ...]
    r_squared: float
    residual_std_error_s: float | None
    through_origin: bool
    note: str | None


def _non_negative(value: float, field: str) -> float:
    return non_negative(value, field, _SOURCE)


def _positive(value: float, field: str) -> float:
    return positive(value, field, _SOURCE)


def _batch_size(b: float) -> float:
    if not math.isfinite(b) or b < 1:
        raise InputError(f"must be a batch size >= 1, got {b!r}", source=_SOURCE, field="b")
    return float(b)


def batch_time(b: float, c0: float, c1: float) -> float:
    """Time for one batch of ``b`` items, T(b) = c0 + c1·b (seconds)."""
    return _non_negative(c0, "c0") + _non_negative(c1, "c1") * _batch_size(b)


def split_single_item(time_1: float, fixed_share: float) -> tuple[float, float]:
    """(c0, c1) from the time of a batch of one, T(1) = c0 + c1, and the share of it that is
    fixed per batch: c0 = share·T(1), c1 = (1 − share)·T(1) (seconds)."""
    time, share = _non_negative(time_1, "time_1"), fraction(fixed_share, "fixed_share", _SOURCE)
    return time * share, time * (1 - share)


def batch_throughput(b: float, c0: float, c1: float, concurrency: float = 1) -> float:
    """Items/s with ``concurrency`` batches of ``b`` in flight, X = concurrency·b / T(b)."""
    time = batch_time(b, c0, c1)
    if time == 0:
        raise ModelError("c0 = c1 = 0: a batch that takes no time", source=_SOURCE, field="c0")
    return _positive(concurrency, "concurrency") * b / time


def throughput_limit(c1: float, concurrency: float = 1) -> float:
    """The asymptote concurrency / c1 that no batch size reaches (``math.inf`` when c1 = 0)."""
    per_item, in_flight = _non_negative(c1, "c1"), _positive(concurrency, "concurrency")
    return math.inf if per_item == 0 else in_flight / per_item


def smallest_batch_for(
    target_rps: float, c0: float, c1: float, concurrency: float = 1
) -> int | None:
    """The smallest batch size b with X(b) ≥ ``target_rps``, or None when batching cannot.

    X(b) ≥ t  ⇔  concurrency·b ≥ t(c0 + c1·b)  ⇔  b ≥ t·c0 / (concurrency − t·c1), which has a
    solution only while t < concurrency / c1 (``throughput_limit``).
    """
    target = _positive(target_rps, "target_rps")
    c0, c1 = _non_negative(c0, "c0"), _non_negative(c1, "c1")
    in_flight = _positive(concurrency, "concurrency")
    # at the limit itself (within rounding) the batch would be astronomically large: none
    if target >= throughput_limit(c1, in_flight) * (1 - 1e-9):
        return None
    if c0 == 0:
        return 1  # no fixed cost to amortise: X(b) = concurrency / c1 at every size
    size = max(1, math.ceil(target * c0 / (in_flight - target * c1)))
    # The quotient can land a rounding error off a whole number: settle on the exact integer,
    # counting X(b) within 1e-12 of the target as meeting it.
    for _ in range(3):  # at most a step or two: the quotient is off by rounding only
        if size > 1 and _meets(size - 1, target, c0, c1, in_flight):
            size -= 1
        elif not _meets(size, target, c0, c1, in_flight):
            size += 1
    return size


def _meets(size: int, target: float, c0: float, c1: float, concurrency: float) -> bool:
    return batch_throughput(size, c0, c1, concurrency) >= target * (1 - 1e-12)


def fill_time(b: float, arrival_rate: float) -> float:
    """Time for a batch of ``b`` to fill at ``arrival_rate`` items/s, (b − 1)/λ (seconds).

    The first item of the batch waits this long for the last.
    """
    return (_batch_size(b) - 1) / _positive(arrival_rate, "arrival_rate")


def added_latency(b: float, arrival_rate: float, c0: float, c1: float) -> AddedLatency:
    """Latency batching adds: p50 = (b − 1)/(2λ) + T(b), max = (b − 1)/λ + T(b) (seconds)."""
    fill, time = fill_time(b, arrival_rate), batch_time(b, c0, c1)
    return AddedLatency(fill_s=fill, batch_time_s=time, p50_s=fill / 2 + time, max_s=fill + time)


# --- fitting ------------------------------------------------------------------------------------


def _as_data(sizes: Sequence[float], latencies_s: Sequence[float]) -> tuple[FloatArray, FloatArray]:
    import numpy as np  # lazy: only fitting needs arrays

    try:
        b = np.asarray(sizes, dtype=np.float64).ravel()
        t = np.asarray(latencies_s, dtype=np.float64).ravel()
    except (TypeError, ValueError) as exc:
        raise FitError(f"sizes and latencies must be numbers: {exc}", source=_SOURCE) from None
    if b.size != t.size:
        raise FitError(
            f"{b.size} batch sizes but {t.size} latencies: one latency per size",
            source=_SOURCE,
            field="latencies",
        )
    if not (np.all(np.isfinite(b)) and np.all(b >= 1)):
        raise FitError(
            "every batch size must be a finite number >= 1", source=_SOURCE, field="sizes"
        )
    if not (np.all(np.isfinite(t)) and np.all(t > 0)):
        raise FitError("every latency must be a finite time > 0", source=_SOURCE, field="latencies")
    distinct = int(np.unique(b).size)
    if distinct < 2:
        raise FitError(
            f"{distinct} distinct batch size{'' if distinct == 1 else 's'} cannot fix a line "
            "T(b) = c0 + c1·b: measure at least 2 (better 4 or more, spread over the range "
            "of interest)",
            source=_SOURCE,
            field="sizes",
        )
    return b, t


def _r_squared(residuals: FloatArray, t: FloatArray) -> float:
    # Judged on the errors the fit minimises, the relative ones (weights w = 1/T²): R² = 1 −
    # Σw·r² / Σw·(T − T̄w)², T̄w the weighted mean (centred, also through the origin, so the two
    # fits compare). Plain R² would let the largest batch alone fail a line that is within a few
    # per cent everywhere else. With every latency equal (TSS = 0) a perfect line scores 1.
    w = 1.0 / (t * t)
    mean = float(w @ t) / float(w.sum())
    rss, tss = float(w @ (residuals * residuals)), float(w @ ((t - mean) ** 2))
    if tss > 0:
        return 1 - rss / tss
    return 1.0 if rss <= 1e-12 * float(w @ (t * t)) else 0.0


def _line(b: FloatArray, t: FloatArray) -> tuple[float, float, str | None]:
    # Least squares on *relative* errors, weights w = 1/T²: minimise Σ((T − c0 − c1·b) / T)².
    # Unweighted, the largest batches (the longest times) decide the line and c0 — what small
    # batches pay, the size a recommendation lands on — is poorly determined; relative errors
    # give every size its say (benchmarks/batching_accuracy: median predicted/measured 1.00 this
    # way, 0.77 unweighted, on the local PostgreSQL).
    # Normal equations: [Σw Σwb; Σwb Σwb²]·[c0 c1] = [ΣwT ΣwbT]. A negative c0 is not a cost,
    # so refit through the origin: c1 = ΣwbT / Σwb², c0 = 0.
    w = 1.0 / (t * t)
    sw, swb, swbb = float(w.sum()), float(w @ b), float(w @ (b * b))
    swt, swbt = float(w @ t), float(w @ (b * t))
    c1 = (sw * swbt - swb * swt) / (sw * swbb - swb * swb)
    c0 = (swt - c1 * swb) / sw
    if c0 >= 0:
        return c0, c1, None
    note = (
        f"the free line's intercept was negative ({c0 * 1e3:.3g} ms): refitted through the "
        "origin with c0 = 0 (no fixed cost per batch is visible in these data)"
    )
    return 0.0, swbt / swbb, note


@dataclass(frozen=True)
class CallCostFit:
    """T(b) = c0 + c1·b fitted to one measured quantity per call (a latency, a CPU time, a
    disk's busy time), and how far the data stray from it: the root mean square of the relative
    residuals (T − fit) / T."""

    c0_s: float
    c1_s: float
    relative_error: float
    note: str | None = None


def fit_call_cost(sizes: Sequence[float], values_s: Sequence[float]) -> CallCostFit:
    """The cost line of any per-call quantity, judged by its relative error rather than R²: a
    flat line (all the cost paid per call, the commit's flush) explains almost none of the
    variation between sizes, so its R² is near 0 however well it fits, while its relative error
    says how well it does. A falling line (noise around a flat one) becomes the flat line
    c1 = 0, c0 = Σ(1/T) / Σ(1/T²), its least squares on relative errors. Needs two distinct
    sizes and positive values (``FitError`` otherwise)."""
    import numpy as np  # lazy: only fitting needs arrays

    b, t = _as_data(sizes, values_s)
    c0, c1, note = _line(b, t)
    if c1 < 0:
        w = 1.0 / (t * t)
        c0, c1 = float((w * t).sum() / w.sum()), 0.0
        note = "the line fell with the batch size: fitted flat (all of it paid per call)"
    relative = (t - (c0 + c1 * b)) / t
    return CallCostFit(c0, c1, float(np.sqrt(np.mean(relative * relative))), note)


def _rounded_ms(residuals: FloatArray, shown: int = 10) -> str:
    """The residuals in ms for a message: the first ``shown``, then how many more."""
    text = ", ".join(f"{r * 1e3:+.3g}" for r in residuals[:shown])
    return text if len(residuals) <= shown else f"{text}, … ({len(residuals) - shown} more)"


def fit_cost_model(
    sizes: Sequence[float], latencies_s: Sequence[float], *, require_line: bool = True
) -> CostFit:
    """Fit T(b) = c0 + c1·b (seconds) to measured batch latencies by least squares on relative
    errors (weights 1/T²: small batches count as much as large ones). Residuals are of the plain
    times; R² is weighted like the fit (of the relative errors).

    c0 ≥ 0: a negative free intercept is replaced by a fit through the origin (said in ``note``).
    Raises ``FitError`` with fewer than 2 distinct sizes or bad numbers; and, with
    ``require_line``, for a slope < 0 (latency that falls with size is no cost line) or R² <
    ``MIN_R_SQUARED`` with 3 or more points (the message lists the residuals in ms). Without it,
    the best line is returned whatever its R² (the caller says how far the data stray from it), a
    falling one replaced by the flat line c1 = 0 that is least squares on relative errors.
    """
    import numpy as np  # lazy: only fitting needs arrays

    b, t = _as_data(sizes, latencies_s)
    c0, c1, note = _line(b, t)
    through_origin = note is not None
    if c1 < 0 and not require_line:
        w = 1.0 / (t * t)
        c0, c1 = float((w * t).sum() / w.sum()), 0.0
        note = "the line fell with the batch size: fitted flat (all of it paid per batch)"
    residuals = t - (c0 + c1 * b)
    r_squared = _r_squared(residuals, t)
    if c1 < 0:
        raise FitError(
            f"latency falls as the batch grows (c1 = {c1 * 1e3:.3g} ms per item): the data do not "
            f"follow T(b) = c0 + c1·b; residuals (ms): {_rounded_ms(residuals)}",
            source=_SOURCE,
            field="latencies",
        )
    if require_line and b.size >= 3 and r_squared < MIN_R_SQUARED:
        raise FitError(
            f"the measurements do not follow a line T(b) = c0 + c1·b (R² = {r_squared:.3f} < "
            f"{MIN_R_SQUARED}); residuals (ms): {_rounded_ms(residuals)}",
            source=_SOURCE,
            field="latencies",
        )
    dof = b.size - (1 if note else 2)  # through the origin or flat: one parameter
    rse = math.sqrt(float(residuals @ residuals) / dof) if dof > 0 else None
    return CostFit(
        c0_s=c0,
        c1_s=c1,
        points=int(b.size),
        sizes=int(np.unique(b).size),
        residuals_s=tuple(float(r) for r in residuals),
        r_squared=r_squared,
        residual_std_error_s=rse,
        through_origin=through_origin,
        note=note,
    )
