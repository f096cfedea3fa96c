"""Where the batching cost model T(b) = c0 + c1·b comes from, in order of trust: a trial against
the real database (one fit per method), measurements, explicit flags, or the single-item latency
split by the operation's default share (``advisors/data/batching.yaml``, listed under
assumptions)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from throughput_expert.advisors.batching.inputs import BatchingInputs
from throughput_expert.advisors.ledger import Ledger
from throughput_expert.errors import FitError, InputError, Parameter
from throughput_expert.laws.batching import (
    CostFit,
    fit_call_cost,
    fit_cost_model,
    split_single_item,
)
from throughput_expert.model.analysis.batching import CostFitRecord, CostModelRecord
from throughput_expert.model.settings import Settings
from throughput_expert.model.trials import BatchTrial

__all__ = ["CostModel", "cost_models"]


@dataclass(frozen=True)
class CostModel:
    c0: float
    c1: float
    source: str
    method: str | None = None
    fit: CostFit | None = None
    cheaper_method: str | None = None

    def record(self) -> CostModelRecord:
        """The model as ``analysis.cost_model``."""
        fit = None
        if self.fit is not None:
            fit = CostFitRecord(
                points=self.fit.points,
                r_squared=self.fit.r_squared,
                residual_std_error=self.fit.residual_std_error_s,
                residuals=tuple(float(r) for r in self.fit.residuals_s[:SHOWN_POINTS]),
                note=self.fit.note,
            )
        return CostModelRecord(c0=self.c0, c1=self.c1, source=self.source, fit=fit)


# Points of a fit written into the report (residuals, the evidence's inputs): a measurements
# file of 70,000 rows made a 4 MB report of them; the fit uses every point, ``points`` counts them.
SHOWN_POINTS = 1_000


def cost_models(i: BatchingInputs, settings: Settings, ledger: Ledger) -> list[CostModel]:
    op = settings.batching_operation(i.operation)
    cheaper = str(op["cheaper_method"]) or None
    if i.trials is not None:
        return _from_trials(i, cheaper, ledger)
    if i.measurements:
        limit = settings.threshold("trial_max_relative_error")
        return [_from_measurements(i, cheaper, ledger, limit)]
    if i.fixed_overhead_s is not None or i.per_item_s is not None:
        return [_from_flags(i, cheaper, ledger)]
    if i.current_latency_s is None:
        raise InputError(
            "give {current_latency}, {fixed_overhead} and {per_item_cost}, "
            "{measurements} FILE or {measure} DSN",
            source="design-batching",
            mentions=(
                "current_latency",
                "fixed_overhead",
                "per_item_cost",
                "measurements",
                "measure",
            ),
        )
    return [_from_split(i, op, cheaper, ledger)]


def _from_trials(i: BatchingInputs, cheaper: str | None, ledger: Ledger) -> list[CostModel]:
    assert i.trials is not None
    # one entry per note (the ledger keeps one value per name)
    for n, note in enumerate(i.trials.notes):
        ledger.assume(
            "trial" if n == 0 else f"trial ({n + 1})",
            note,
            f"from the {i.trials.dialect} trial run",
        )
    if i.trials.settings:
        ledger.assume(
            "trial server settings",
            dict(i.trials.settings),
            "what each commit waits for (they change c0): read from the server during the trial",
        )
    models = []
    for method, trials in i.trials.by_method().items():
        measured = [t for t in trials if t.latencies_s]
        sizes = [float(t.batch_size) for t in measured]
        fitted = _fit_trials(method, measured, ledger)
        if fitted is None:
            continue
        fit, latencies = fitted
        _prove_fit(
            f"cost-{method}", f"{method} on {i.trials.target}", fit, sizes, latencies, ledger
        )
        models.append(
            CostModel(
                fit.c0_s, fit.c1_s, f"trial: {i.trials.dialect} {method}", method, fit, cheaper
            )
        )
    if not models:
        raise InputError("no method gave a usable cost model", source=i.trials.target)
    return models


def _fit_trials(
    method: str, trials: list[BatchTrial], ledger: Ledger
) -> tuple[CostFit, list[float]] | None:
    """Fit the mean time per batch of each size: a writer inserting back to back pays the mean,
    slow commits included (X = b / mean T(b)), and the trial's blocks are long enough for it to
    hold them in their proportion (``measure.batch_trials``). Not the median, which misses the
    slow commits (right-skewed: a flush behind the disk's other work), nor the fastest run,
    which is the cost without them: both overstate what production carries.

    If other work on the machine bent the means off a line, the best line through them is kept
    and the report says how far the means stray from it (the model is that uncertain)."""
    sizes = [float(t.batch_size) for t in trials]
    means = [math.fsum(t.latencies_s) / len(t.latencies_s) for t in trials]
    try:
        return fit_cost_model(sizes, means), means
    except FitError:
        pass
    try:
        fit = fit_cost_model(sizes, means, require_line=False)
    except FitError as exc:
        ledger.assume(f"{method}: no cost model", "skipped", exc.message)
        return None
    stray = math.sqrt(
        math.fsum((r / t) ** 2 for r, t in zip(fit.residuals_s, means, strict=True)) / len(means)
    )
    ledger.assume(
        f"{method}: means off a line",
        f"±{stray:.0%}",
        f"R² = {fit.r_squared:.2f} (nearly flat, or other work on the machine disturbed the "
        f"trial): the mean times stray {stray:.0%} (root mean square) from the best line, kept; "
        "its predictions are about as uncertain (a trial on a quieter machine narrows it)",
    )
    return fit, means


def _from_measurements(
    i: BatchingInputs, cheaper: str | None, ledger: Ledger, max_error: float
) -> CostModel:
    """The line through the measured latencies. One whose R² is low is still kept when it is
    within ``max_error`` of the points (relative error: the criterion ``analyze
    --batch-trials`` applies to the same file, so the two commands take the same trials); the
    report says how far off it is."""
    assert i.measurements
    sizes = [s for s, _ in i.measurements]
    latencies = [t for _, t in i.measurements]
    source = i.measurements_source or Parameter("measurements")
    try:
        fit = fit_cost_model(sizes, latencies)
    except FitError as exc:
        try:
            loose = fit_cost_model(sizes, latencies, require_line=False)
            error = fit_call_cost(sizes, latencies).relative_error
        except FitError:
            raise InputError(exc.message, source=source) from None
        if error > max_error:
            raise InputError(
                f"{exc.message}; {error:.0%} from the best line, over "
                f"thresholds.trial_max_relative_error ({max_error:.0%})",
                source=source,
            ) from None
        ledger.assume(
            "measurements off a line",
            f"±{error:.0%}",
            f"R² = {loose.r_squared:.2f}, but the latencies stray {error:.0%} (root mean square "
            f"of the relative residuals) from the best line, within "
            f"thresholds.trial_max_relative_error ({max_error:.0%}): kept, as analyze's batch "
            "trials keep it; its predictions are about as uncertain",
        )
        fit = loose
    _prove_fit("cost-model", "the measurements", fit, sizes, latencies, ledger)
    return CostModel(fit.c0_s, fit.c1_s, "measurements", None, fit, cheaper)


def _prove_fit(
    eid: str, what: str, fit: CostFit, sizes: list[float], latencies: list[float], ledger: Ledger
) -> None:
    ledger.prove(
        eid,
        f"{what}: each batch costs {fit.c0_s * 1e3:.3g} ms plus {fit.c1_s * 1e3:.3g} ms per item",
        "least squares: T(b) = c0 + c1·b",
        {
            "batch_sizes": sizes[:SHOWN_POINTS],
            "latencies_ms": [t * 1e3 for t in latencies[:SHOWN_POINTS]],
        }
        | ({"points": len(sizes)} if len(sizes) > SHOWN_POINTS else {}),  # said when cut
        {"c0_ms": fit.c0_s * 1e3, "c1_ms": fit.c1_s * 1e3, "r_squared": fit.r_squared},
    )


def _from_flags(i: BatchingInputs, cheaper: str | None, ledger: Ledger) -> CostModel:
    c0, c1, t = i.fixed_overhead_s, i.per_item_s, i.current_latency_s
    if c0 is None or c1 is None:
        if t is None:
            raise InputError(
                "give both {fixed_overhead} and {per_item_cost}, or one of them "
                "with {current_latency}",
                source="design-batching",
                mentions=("fixed_overhead", "per_item_cost", "current_latency"),
            )
        c0 = c0 if c0 is not None else t - (c1 or 0.0)
        c1 = c1 if c1 is not None else t - c0
        if c0 < 0 or c1 <= 0:
            raise InputError(
                "the split of {current_latency} leaves a negative or zero part",
                source=Parameter("current_latency"),
                mentions=("current_latency",),
            )
        ledger.prove(
            "cost-split",
            "the other part of the single-item latency",
            "T(1) = c0 + c1",
            {"current_latency_ms": t * 1e3},
            {"c0_ms": c0 * 1e3, "c1_ms": c1 * 1e3},
        )
    return CostModel(c0, c1, "flags", None, None, cheaper)


def _from_split(
    i: BatchingInputs, op: Mapping[str, Any], cheaper: str | None, ledger: Ledger
) -> CostModel:
    t = i.current_latency_s
    assert t is not None
    share = float(op["fixed_share"])
    c0, c1 = split_single_item(t, share)
    ledger.assume(
        f"fixed share of a single {i.operation}",
        share,
        f"{op['source']} (confidence: {op['confidence']}); measure with measure or "
        "measurements to replace it",
    )
    ledger.prove(
        "cost-split",
        f"of the {t * 1e3:.3g} ms per item, {c0 * 1e3:.3g} ms is fixed per call",
        "T(1) = c0 + c1 with the operation's default split",
        {"current_latency_ms": t * 1e3, "fixed_share": share},
        {"c0_ms": c0 * 1e3, "c1_ms": c1 * 1e3},
    )
    return CostModel(c0, c1, f"default split for {i.operation}", None, None, cheaper)
