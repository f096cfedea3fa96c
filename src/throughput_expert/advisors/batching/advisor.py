"""The advisor of ``design-batching``: the smallest batch that meets a target rate within a
latency budget.

Cost model T(b) = c0 + c1·b (``laws.batching``), from, in order of trust (``cost_model``): a
real trial (``--measure``: one fit per method), measurements (``--measurements``), explicit
flags, or the current single-item latency split by the operation's default share
(``advisors/data/batching.yaml``). With ``k`` batches in flight X(b) = k·b / T(b), so no batch
size passes k / c1.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from throughput_expert.advisors.batching.cost_model import CostModel, cost_models
from throughput_expert.advisors.batching.inputs import BatchingInputs
from throughput_expert.advisors.ledger import Ledger
from throughput_expert.errors import InputError, Parameter
from throughput_expert.laws.batching import (
    added_latency,
    batch_throughput,
    fill_time,
    smallest_batch_for,
    throughput_limit,
)
from throughput_expert.laws.little import concurrency, response_time_from, throughput_from
from throughput_expert.model import Recommendation, Report, Series
from throughput_expert.model.analysis.batching import (
    AddedLatencyRecord,
    BatchingAnalysis,
    MethodRow,
)
from throughput_expert.model.settings import Settings
from throughput_expert.model.units import fmt_count, fmt_duration

__all__ = ["advise"]

_MAX_CONCURRENCY = 1024


@dataclass(frozen=True)
class Design:
    model: CostModel
    batch_size: int | None
    concurrency: int
    feasible: bool
    why: str | None


def advise(inputs: BatchingInputs, settings: Settings) -> Report:
    _check(inputs)
    ledger = Ledger()
    models = cost_models(inputs, settings, ledger)
    designs = [_design(inputs, m) for m in models]
    best = min(designs, key=_rank)
    rate = inputs.arrival_rps or inputs.target_rps
    analysis = _analysis(inputs, best, designs, rate, ledger)
    recs = _recommendations(inputs, best, designs, analysis, settings)
    return Report(
        command="design-batching",
        summary=_summary(inputs, best, analysis),
        analysis=analysis,
        series=_series(best, rate),
        recommendations=recs,
        implementation_plan={
            "immediate": [r.optimization for r in recs[:1]],
            "short_term": [r.optimization for r in recs[1:]],
            "long_term": [],
        },
        evidence=tuple(ledger.evidence),
        assumptions=tuple(ledger.assumptions),
        inputs=_inputs(inputs),
    )


def _check(i: BatchingInputs) -> None:
    checks = (
        (Parameter("current_latency"), i.current_latency_s),
        (Parameter("fixed_overhead"), i.fixed_overhead_s),
        (Parameter("per_item_cost"), i.per_item_s),
        (Parameter("max_latency"), i.max_latency_s),
        (Parameter("target_throughput"), i.target_rps),
        (Parameter("arrival_rate"), i.arrival_rps),
    )
    for flag, value in checks:
        if value is not None and not value > 0:
            raise InputError("must be above zero", source=flag)
    if i.concurrency < 1:
        raise InputError("must be at least 1", source=Parameter("concurrency"))
    if i.current_latency_s is not None:
        today = throughput_from(i.concurrency, i.current_latency_s)
        if i.target_rps <= today:
            raise InputError(
                f"{fmt_count(i.target_rps)} rps is not above today's {fmt_count(today)} rps "
                f"({i.concurrency} in flight at {fmt_duration(i.current_latency_s)} each): "
                "batching is not needed",
                source=Parameter("target_throughput"),
            )


def _design(i: BatchingInputs, m: CostModel) -> Design:
    """The smallest batch meeting the target at the given concurrency and latency budget; if
    none, the smallest concurrency (up to 1024) for which one exists."""
    for k in range(i.concurrency, _MAX_CONCURRENCY + 1):
        b = smallest_batch_for(i.target_rps, m.c0, m.c1, k)
        if b is not None and _within_budget(i, m, b):
            why = (
                None
                if k == i.concurrency
                else (f"needs {k} batches in flight instead of {i.concurrency}")
            )
            return Design(m, b, k, k == i.concurrency, why)
    return Design(
        m,
        None,
        i.concurrency,
        False,
        "no batch size and concurrency up to 1024 meet the target within the budget",
    )


def _within_budget(i: BatchingInputs, m: CostModel, b: int) -> bool:
    if i.max_latency_s is None:
        return True
    rate = i.arrival_rps or i.target_rps
    return added_latency(b, rate, m.c0, m.c1).max_s <= i.max_latency_s


def _rank(d: Design) -> tuple[int, int, float]:
    """Feasible first, then fewest in flight, then the cheapest per item."""
    return (0 if d.feasible else 1, d.concurrency if d.batch_size else 10**6, d.model.c1)


def _analysis(
    i: BatchingInputs, d: Design, designs: list[Design], rate: float, ledger: Ledger
) -> BatchingAnalysis:
    m = d.model
    current = _current(i, m, ledger)
    limit = throughput_limit(m.c1, i.concurrency)
    ledger.prove(
        "batch-limit",
        f"with {i.concurrency} in flight no batch passes {fmt_count(limit)} rps",
        "X(b) = k·b / (c0 + c1·b) → k / c1 as b grows",
        {"c1_ms": m.c1 * 1e3, "concurrency": i.concurrency},
        {"limit_rps": limit},
    )
    common = BatchingAnalysis(
        operation=i.operation,
        method=m.method,
        target=i.target_rps,
        concurrency=d.concurrency,
        feasible=d.feasible,
        why=d.why,
        limit=limit,
        current_throughput=current,
        cost_model=m.record(),
        methods=tuple(_method_row(x, i) for x in designs) if len(designs) > 1 else None,
        batch_size=None,
        what_else=_what_else(i, m),
    )
    if d.batch_size is None:
        return common
    b, k = d.batch_size, d.concurrency
    lat = added_latency(b, rate, m.c0, m.c1)
    expected = batch_throughput(b, m.c0, m.c1, k)
    ledger.prove(
        "batch-size",
        f"batches of {b} carry {fmt_count(expected)} rps with {k} in flight",
        "X(b) = k·b / (c0 + c1·b); smallest b with X(b) ≥ target",
        {"c0_ms": m.c0 * 1e3, "c1_ms": m.c1 * 1e3, "concurrency": k, "target_rps": i.target_rps},
        {"batch_size": b, "throughput_rps": expected},
    )
    ledger.prove(
        "batch-latency",
        f"batching adds {fmt_duration(lat.p50_s)} at the median and "
        f"{fmt_duration(lat.max_s)} at most",
        "fill (b − 1)/λ, then T(b)",
        {"batch_size": b, "arrival_rps": rate},
        {"p50_ms": lat.p50_s * 1e3, "max_ms": lat.max_s * 1e3},
    )
    return replace(
        common,
        batch_size=b,
        flush_interval=fill_time(b, rate),
        expected_throughput=expected,
        added_latency=AddedLatencyRecord(p50=lat.p50_s, max=lat.max_s),
        gain_vs_current=expected / current,
        what_else=common.what_else if not d.feasible else (),
    )


def _current(i: BatchingInputs, m: CostModel, ledger: Ledger) -> float:
    """Today's rate, one item per call: from --current-latency, else the measured single-row
    latency of a trial, else the model at b = 1."""
    if i.current_latency_s is not None:
        return throughput_from(i.concurrency, i.current_latency_s)
    single = i.trials.by_method().get("single", []) if i.trials is not None else []
    ones = [t for t in single if t.batch_size == 1 and t.latencies_s]
    if ones:
        t1 = statistics.median(ones[0].latencies_s)
        rate = throughput_from(i.concurrency, t1)
        ledger.prove(
            "current-rate",
            f"one row per call takes {fmt_duration(t1)} (measured)",
            "X = k / T(1)",
            {"median_latency_ms": t1 * 1e3, "concurrency": i.concurrency},
            {"rps": rate},
        )
        return rate
    return batch_throughput(1, m.c0, m.c1, i.concurrency)


def _method_row(d: Design, i: BatchingInputs) -> MethodRow:
    m = d.model
    return MethodRow(
        method=m.method or "",
        c0=m.c0,
        c1=m.c1,
        batch_size=d.batch_size,
        concurrency=d.concurrency,
        feasible=d.feasible,
        limit=throughput_limit(m.c1, i.concurrency),
    )


def _what_else(i: BatchingInputs, m: CostModel) -> tuple[str, ...]:
    # X ≤ k / c1 (throughput_limit), so k > X·c1: Little's law, items in flight at c1 each
    in_flight = concurrency(i.target_rps, m.c1)
    needed = math.floor(in_flight * (1 + 1e-9)) + 1  # rounding aside
    out = [f"more in flight: at least {needed} concurrent batches (k > X·c1 = {in_flight:.3g})"]
    if m.cheaper_method:
        out.append(f"a cheaper method per item: {m.cheaper_method}")
    out.append("partition the work so several writers (or instances) share the target")
    return tuple(out)


def _recommendations(
    i: BatchingInputs, d: Design, designs: list[Design], a: BatchingAnalysis, settings: Settings
) -> tuple[Recommendation, ...]:
    m = d.model
    if d.batch_size is None:
        text = "; ".join(a.what_else)
        return (
            Recommendation(
                "Batching alone cannot reach the target",
                None,
                "medium",
                "medium",
                f"{a.why}. What else is needed: {text}.",
                ("batch-limit",),
            ),
        )
    how = f" using {m.method}" if m.method else ""
    assert a.flush_interval is not None and a.gain_vs_current is not None
    rationale = (
        f"Flush every {d.batch_size} items or after {a.flush_interval * 1e3:.3g} ms, whichever "
        f"comes first, with {d.concurrency} batch(es) in flight: "
        f"{fmt_count(a.expected_throughput)} rps, {a.gain_vs_current:.3g}× "
        f"today's single-item rate."
    )
    if d.why:
        rationale += f" It {d.why}."
    recs = [
        Recommendation(
            f"Batch {d.batch_size} items per call{how}",
            (a.gain_vs_current - 1) * 100,
            "low",
            "low",
            rationale,
            ("batch-size", "batch-latency"),
            _example(i, d),
        )
    ]
    return tuple(recs)


def _example(i: BatchingInputs, d: Design) -> str:
    linger = response_time_from(d.batch_size or 1, i.arrival_rps or i.target_rps)
    return (
        f"batch, deadline = [], time.monotonic() + {linger:.3g}\n"
        "for item in source:\n"
        "    batch.append(item)\n"
        f"    if len(batch) >= {d.batch_size} or time.monotonic() >= deadline:\n"
        "        write_batch(batch)           # one call / one commit per batch\n"
        f"        batch, deadline = [], time.monotonic() + {linger:.3g}"
    )


def _series(d: Design, rate: float) -> dict[str, Series]:
    m = d.model
    top = max(8, 4 * (d.batch_size or 64))
    sizes = np.unique(np.geomspace(1, top, 40).round().astype(int))
    tp = tuple((float(b), batch_throughput(int(b), m.c0, m.c1, d.concurrency)) for b in sizes)
    lat = tuple((float(b), added_latency(int(b), rate, m.c0, m.c1).max_s * 1e3) for b in sizes)
    return {
        "throughput_vs_batch_size": Series("batch size", "throughput (rps)", tp),
        "latency_vs_batch_size": Series("batch size", "max added latency (ms)", lat),
    }


def _summary(i: BatchingInputs, d: Design, a: BatchingAnalysis) -> str:
    if d.batch_size is None:
        return (
            f"Batching alone cannot reach {fmt_count(i.target_rps)} rps: at most "
            f"{fmt_count(a.limit)} rps with {i.concurrency} in flight; "
            f"{a.what_else[0]}."
        )
    how = f" with {d.model.method}" if d.model.method else ""
    prefix = "B"
    if not d.feasible:
        prefix = (
            f"With {i.concurrency} in flight batching cannot reach {fmt_count(i.target_rps)} "
            f"rps (at most {fmt_count(a.limit)}: k / c1); b"
        )
    assert a.flush_interval is not None and a.added_latency is not None
    return prefix + (
        f"atch {d.batch_size} items{how} (flush after {a.flush_interval * 1e3:.3g} ms), "
        f"{d.concurrency} in flight: {fmt_count(a.expected_throughput)} rps, "
        f"{a.gain_vs_current:.3g}× today, adding at most "
        f"{a.added_latency.max * 1e3:.3g} ms."
    )


def _inputs(i: BatchingInputs) -> tuple[Any, ...]:
    from throughput_expert.model import InputRef

    out = []
    if i.measurements_source:
        out.append(
            InputRef(
                i.measurements_source, "batch-measurements", f"{len(i.measurements or ())} rows"
            )
        )
    if i.trials is not None:
        out.append(
            InputRef(
                i.trials.target,
                f"{i.trials.dialect}-trial",
                f"{len(i.trials.trials)} trials in {i.trials.duration_s:.3g} s",
            )
        )
    return tuple(out)
