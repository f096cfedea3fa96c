"""Records several commands share: a finding in the inputs, and the USL fit of a sweep."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from throughput_expert.model.record import item, measure

__all__ = ["Finding", "UslErrors", "UslFitRecord"]


@dataclass(frozen=True)
class Finding:
    """A contradiction or oddity in the inputs: both values, and which was used."""

    what: str
    values: Mapping[str, Any]
    used: str


@dataclass(frozen=True)
class UslErrors:
    """Standard errors of the USL coefficients."""

    sigma: float | None
    kappa: float | None
    lambda_: float | None = measure("rps", key="lambda_rps")


@dataclass(frozen=True)
class UslFitRecord:
    """The Universal Scalability Law fitted to a sweep, or why there is no fit
    (``available: false`` with ``why``, and null coefficients)."""

    available: bool
    points: int
    why: str | None = item(omit_none=True)
    sigma: float | None = None
    kappa: float | None = None
    lambda_: float | None = measure("rps", key="lambda_rps", default=None)
    shape: str | None = None
    peak_concurrency: float | None = None
    peak_throughput: float | None = measure("rps", default=None)
    asymptote: float | None = measure("rps", default=None)
    recommended_concurrency: int | None = None
    recommendation_basis: str | None = None
    levels: int | None = None
    max_level_measured: float | None = None
    r_squared: float | None = None
    residual_std_error: float | None = None
    std_errors: UslErrors | None = None
    evidence_ids: tuple[str, ...] = ()
    no_peak_reason: str | None = item(omit_none=True)
    warnings: tuple[str, ...] | None = item(omit_none=True)
