"""Amdahl's law: the overall speed-up when a fraction p of the time is made s times faster.

Source: G. M. Amdahl, "Validity of the single processor approach to achieving large scale
computing capabilities", AFIPS Conference Proceedings 30, 1967; Hennessy and Patterson,
"Computer Architecture: A Quantitative Approach", §1.9. The time per request falls from 1 to
(1 − p) + p/s, so the overall speed-up is S = 1 / ((1 − p) + p/s), bounded by 1 / (1 − p) however
fast the improved part becomes. For a closed system at fixed concurrency, throughput rises by the
same factor S (Little's law, X = N / R).
"""

from __future__ import annotations

import math

from throughput_expert.errors import InputError

__all__ = ["amdahl_improvement_pct", "amdahl_max_speedup", "amdahl_speedup"]

_SOURCE = "Amdahl's law"


def _fraction(value: float) -> float:
    if not math.isfinite(value) or not 0 <= value <= 1:
        raise InputError(
            f"must be a fraction of the time in [0, 1], got {value!r}",
            source=_SOURCE,
            field="fraction",
        )
    return float(value)


def _speedup(value: float) -> float:
    if math.isnan(value) or value <= 0:
        raise InputError(
            f"must be a speed-up factor > 0, got {value!r}", source=_SOURCE, field="speedup"
        )
    return float(value)


def amdahl_speedup(fraction: float, speedup: float) -> float:
    """Overall speed-up S = 1 / ((1 − p) + p/s) when a fraction p of the time runs s× faster.

    ``speedup`` may be ``math.inf`` (the part is removed) or below 1 (it is made slower).
    """
    p, s = _fraction(fraction), _speedup(speedup)
    return 1 / ((1 - p) + p / s)


def amdahl_improvement_pct(fraction: float, speedup: float) -> float:
    """Throughput gain in percent, (S − 1) × 100, with S = ``amdahl_speedup(fraction, speedup)``.

    The time per request falls by the factor S, so at the same concurrency throughput rises by S
    (X = N / R): the gain is (S − 1) × 100 %.
    """
    return (amdahl_speedup(fraction, speedup) - 1) * 100


def amdahl_max_speedup(fraction: float) -> float:
    """The ceiling 1 / (1 − p) as s → ∞; ``math.inf`` when p = 1 (all of the time sped up)."""
    p = _fraction(fraction)
    return math.inf if p == 1 else 1 / (1 - p)
