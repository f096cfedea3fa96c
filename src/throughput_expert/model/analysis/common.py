"""Records several commands share: a finding in the inputs, and the USL fit of a sweep."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from throughput_expert.model.record import item, measure

__all__ = ["Finding", "PlanRecord", "PlanStepRecord", "UslErrors", "UslFitRecord"]


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
    reliable: bool | None = item(
        omit_none=True,
        doc="false when R² is below thresholds.usl_min_r_squared: the fit is shown but "
        "recommends nothing (absent when not checked, or without a fit)",
    )


@dataclass(frozen=True, kw_only=True)
class PlanStepRecord:
    """One step of the plan: a change to the system model and the model's state after it."""

    change: str = item(doc="batch, instances, workers, servers or speedup")
    station: str | None = item(doc="the station changed (null: the whole system)")
    value: float = item(doc="the new batch size, instance count, workers or servers")
    what: str
    ceiling: float = measure("rps", doc="the rate every limit carries at its saturation target")
    binding: str = item(doc="the limit that sets the ceiling after this step")
    rate: float = measure(
        "rps",
        doc="the rate the utilizations are given at: the target, or "
        "the ceiling when the target is beyond it",
    )
    utilization: Mapping[str, float] = measure(
        "pct", doc="every station's utilization at rate, and the workers' busy share"
    )
    capacity: float | None = measure(
        "rps",
        doc="the most the model carries with every limit at 100 % (the workers always busy); "
        "null when nothing bounds it",
    )
    gain: float = measure("pct", doc="cumulative: the ceiling over today's, minus 100 %")
    batch_delay: float | None = measure(
        "ms",
        doc="a batch step: what the batch adds to an item's latency at rate, the wait for it "
        "to fill (b·N / X, N every worker) plus the call that writes it (b·R(b)); else null",
    )
    evidence_ids: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class PlanRecord:
    """The plan: the changes, in order, that take the system model to the target at its
    saturation targets, each priced by the solver on the model with it applied. In a report it is
    part of ``implementation_plan``, beside the horizons derived from it."""

    target: float = measure("rps")
    ceiling_today: float = measure("rps", doc="today's model: the ceiling at the targets")
    capacity_today: float | None = measure(
        "rps", doc="today's model with every limit at 100 %; null when nothing bounds it"
    )
    binding_today: str
    steps: tuple[PlanStepRecord, ...]
    reaches_target: bool
    cap: str | None = item(doc="when the target is not reached: the limit that caps the plan")
    lift: str | None = item(doc="what kind of change would lift that cap")
