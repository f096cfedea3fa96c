"""Asymptotic bounds of a closed system of N users with think time Z.

Source: Lazowska et al., "Quantitative System Performance", 1984, §5.2 (asymptotic bounds);
Muntz and Wong, 1974. With service demands D_i at each resource, total demand D = Σ D_i and
bottleneck demand D_max = max D_i:

    X(N) ≤ min(N / (D + Z), 1 / D_max)
    R(N) ≥ max(D, N·D_max − Z)
    N*   = (D + Z) / D_max          the population at which the two throughput bounds cross

Below N* the users themselves limit throughput; above it the bottleneck does.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass

from throughput_expert.errors import InputError, ModelError

__all__ = ["ClosedBounds", "closed_bounds"]

_SOURCE = "asymptotic bounds"


@dataclass(frozen=True)
class ClosedBounds:
    """Bounds for one population: throughput per second, response time in seconds, N*."""

    throughput_upper: float
    response_time_lower: float
    saturation_users: float


def _check_demands(demands: Sequence[float]) -> None:
    if not demands:
        raise InputError("needs at least one service demand", source=_SOURCE, field="demands")
    for i, demand in enumerate(demands):
        if not math.isfinite(demand) or demand < 0:
            raise InputError(
                f"must be a finite number >= 0, got {demand!r}",
                source=_SOURCE,
                field=f"demands[{i}]",
            )
    if max(demands) == 0:
        raise ModelError(
            "are all 0: no resource bounds the system", source=_SOURCE, field="demands"
        )


def closed_bounds(users: int, demands: Sequence[float], think_time: float = 0.0) -> ClosedBounds:
    """Asymptotic bounds X(N) ≤ min(N/(D+Z), 1/D_max), R(N) ≥ max(D, N·D_max − Z), N* (§5.2)."""
    try:
        population = operator.index(users)
    except TypeError:
        population = 0
    if population < 1:
        raise InputError(
            f"must be a whole number >= 1, got {users!r}", source=_SOURCE, field="users"
        )
    if not math.isfinite(think_time) or think_time < 0:
        raise InputError(
            f"must be a finite number >= 0, got {think_time!r}", source=_SOURCE, field="think_time"
        )
    _check_demands(demands)
    total, bottleneck = math.fsum(demands), max(demands)
    return ClosedBounds(
        throughput_upper=min(population / (total + think_time), 1 / bottleneck),
        response_time_lower=max(total, population * bottleneck - think_time),
        saturation_users=(total + think_time) / bottleneck,
    )
