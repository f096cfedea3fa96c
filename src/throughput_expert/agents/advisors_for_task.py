"""Each advisor's inputs as a task supplies them: from the understood context, the architecture
sentence and quantities derived by a law (listed as assumptions by the caller)."""

from __future__ import annotations

import os
from typing import Any

from throughput_expert.agents.context import Understood
from throughput_expert.agents.sentence import Part
from throughput_expert.model import Assumption, Report, ServiceMetrics

__all__ = ["analyze", "batching", "concurrency", "find_bottleneck", "scaling"]

_OPERATION = {"database": "database-insert", "queue": "message-publish", "cache": "api-call"}


def _settings() -> Any:
    from throughput_expert.sources.settings import load_settings

    return load_settings()


def analyze(m: ServiceMetrics) -> Report:
    from throughput_expert.advisors.analyze import AnalyzeInputs, advise

    return advise(AnalyzeInputs(metrics=m), _settings())


def find_bottleneck(u: Understood, m: ServiceMetrics) -> Report:
    from throughput_expert.advisors.bottleneck import FindBottleneckInputs, advise
    from throughput_expert.model.profile import merge
    from throughput_expert.sources.profiles import load_profile

    profile = merge([load_profile(p) for p in u.files["profile"]])
    host = m if m.utilization else None
    return advise(FindBottleneckInputs(profile, None, host), _settings())


def _sink(parts: list[Part]) -> Part | None:
    return next((p for p in parts if p.kind in ("database", "queue", "cache")), None)


def concurrency(
    u: Understood,
    parts: list[Part],
    m: ServiceMetrics,
    per_item: float | None,
    derived: list[Assumption],
) -> Report | None:
    from throughput_expert.advisors.concurrency import ConcurrencyInputs, WorkloadType, advise

    if per_item is None and m.workers is None:
        return None
    cpu = m.utilization.get("cpu", 0.0)
    waits = _sink(parts) is not None
    kind: WorkloadType = "mixed" if waits and cpu >= 0.3 else "io" if waits else "cpu"
    cores = int(m.cores) if m.cores else os.cpu_count() or 1
    if not m.cores:
        derived.append(
            Assumption(
                "CPU cores",
                cores,
                "not in the task: the worker machine's "
                "cores were used for the CPU pool; give cores in the context",
            )
        )
    if per_item is not None:
        derived.append(
            Assumption(
                "time a message holds a worker",
                f"{per_item * 1e6:.4g} µs",
                "the split between waiting and computing is unknown: the "
                "whole time per item is used in Little's law (N = X · R)",
            )
        )
    inputs = ConcurrencyInputs(
        kind,
        m.workers or 1,
        cores,
        "task" if m.cores else "this machine",
        wait_s=per_item,
        target_rps=m.target_rps,
    )
    return advise(inputs, _settings())


def batching(
    u: Understood,
    parts: list[Part],
    m: ServiceMetrics,
    per_item: float | None,
    derived: list[Assumption],
) -> Report | None:
    from throughput_expert.advisors.batching import BatchingInputs, advise

    if per_item is None or m.target_rps is None:
        return None
    sink = _sink(parts)
    operation = _OPERATION.get(sink.kind, "api-call") if sink else "database-insert"
    concurrency = m.workers or 1
    if m.target_rps <= concurrency / per_item:
        return None
    inputs = BatchingInputs(
        operation, m.target_rps, current_latency_s=per_item, concurrency=concurrency
    )
    return advise(inputs, _settings())


def scaling(
    u: Understood,
    parts: list[Part],
    m: ServiceMetrics,
    per_item: float | None,
    derived: list[Assumption],
) -> Report | None:
    from throughput_expert.advisors.scaling import ScalingInputs, advise
    from throughput_expert.sources.architecture import architecture_from_doc, load_architecture

    if m.target_rps is None or m.throughput_rps is None or m.target_rps <= m.throughput_rps:
        return None
    if u.architecture_file is not None:
        arch = load_architecture(u.architecture_file)
    else:
        doc = dict(u.architecture_doc) if u.architecture_doc else _from_parts(parts, m)
        doc.setdefault("entry_rate", m.throughput_rps)
        arch = architecture_from_doc(doc, "task: architecture", u.architecture_file or _here())
    return advise(ScalingInputs(arch, m.target_rps), _settings())


def _here() -> Any:
    from pathlib import Path

    return Path.cwd()


def _from_parts(parts: list[Part], m: ServiceMetrics) -> dict[str, Any]:
    """A scaling-plan architecture from the sentence: the measured utilization belongs to the
    first service or worker (the one the metrics describe); stores are listed, not planned."""
    components: list[dict[str, Any]] = []
    measured = False
    for p in parts or [Part("service", m.service or "service", 1, "")]:
        c: dict[str, Any] = {"name": _unique(p.name, components), "kind": p.kind}
        if p.kind in ("service", "worker") and not measured:
            c["instances"] = p.count or m.workers or 1
            c["utilization"] = {r: v for r, v in m.utilization.items() if r != "memory"}
            measured = True
        components.append(c)
    return {
        "system": m.service or "system",
        "entry_rate": m.throughput_rps,
        "components": components,
    }


def _unique(name: str, components: list[dict[str, Any]]) -> str:
    taken = {c["name"] for c in components}
    out, i = name, 2
    while out in taken:
        out, i = f"{name}-{i}", i + 1
    return out
