"""The Report: the one contract shared by the CLI, the task worker, the MCP server and HTML.

Its JSON form (``to_dict``) is versioned by ``SCHEMA_VERSION``: keys are extended freely, and a
renamed key bumps the version. Each command's JSON Schema is shipped in ``schemas/``.
Numbers in the JSON form are numbers, with the unit in the key (``_rps``, ``_ms``, ``_pct``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from throughput_expert.model.analysis.common import PlanRecord
from throughput_expert.model.records import InputRef, Level
from throughput_expert.model.system import ChangeKind

__all__ = [
    "SCHEMA_VERSION",
    "Assumption",
    "Command",
    "Evidence",
    "Recommendation",
    "Report",
    "Series",
    "jsonable",
]

# 2: the typed records (model/analysis/); renamed pool_utilization -> pool_utilization_pct,
#    erlang.p99_response_ms -> percentile_response_ms, autoscaling.target -> target_pct/target_rps
SCHEMA_VERSION = "2"

# The built-in commands; a command registered later (``registry.register``) may add its own.
Command = str
BUILT_IN: tuple[str, ...] = (
    "analyze",
    "find-bottleneck",
    "scaling-plan",
    "optimize-concurrency",
    "design-batching",
    "sweep",
    "task",
)

JSON = Any


@dataclass(frozen=True)
class Evidence:
    """A claim, the law or model that gives it, its inputs and its result."""

    id: str
    claim: str
    law: str
    inputs: Mapping[str, JSON]
    result: JSON

    def to_dict(self) -> dict[str, JSON]:
        return {
            "id": self.id,
            "claim": self.claim,
            "law": self.law,
            "inputs": jsonable(dict(self.inputs)),
            "result": jsonable(self.result),
        }


@dataclass(frozen=True)
class Recommendation:
    optimization: str
    expected_improvement_pct: float | None
    effort: Level
    risk: Level
    rationale: str
    evidence_ids: tuple[str, ...] = ()
    example: str | None = None
    change: ChangeKind | None = None
    """The change to the system it makes, when it makes one the model can express (``batch``,
    ``instances``, ``workers``, ``servers``, ``speedup``): no two recommendations of a report
    make the same change."""

    def to_dict(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {
            "optimization": self.optimization,
            "expected_improvement_pct": jsonable(self.expected_improvement_pct),
            "effort": self.effort,
            "risk": self.risk,
            "rationale": self.rationale,
            "evidence_ids": list(self.evidence_ids),
        }
        if self.example:
            out["example"] = self.example
        if self.change is not None:
            out["change"] = self.change
        return out


@dataclass(frozen=True)
class Assumption:
    what: str
    value: JSON
    why: str

    def to_dict(self) -> dict[str, JSON]:
        return {"what": self.what, "value": jsonable(self.value), "why": self.why}


@dataclass(frozen=True)
class Series:
    """A curve a renderer may plot: ``points`` are ``(x, y)`` pairs."""

    x_label: str
    y_label: str
    points: tuple[tuple[float, float], ...]

    def to_dict(self) -> dict[str, JSON]:
        return {
            "x_label": self.x_label,
            "y_label": self.y_label,
            "points": [[jsonable(x), jsonable(y)] for x, y in self.points],
        }


@dataclass(frozen=True)
class Report:
    command: Command
    summary: str
    # the command's analysis record (``model/analysis/``); a plain mapping only for ``task``
    analysis: Any = field(default_factory=dict)
    series: Mapping[str, Series] = field(default_factory=dict)
    recommendations: tuple[Recommendation, ...] = ()
    implementation_plan: Mapping[str, Sequence[str]] = field(default_factory=dict)
    evidence: tuple[Evidence, ...] = ()
    assumptions: tuple[Assumption, ...] = ()
    inputs: tuple[InputRef, ...] = ()
    plan: PlanRecord | None = None
    """The steps to the target on the system model, when the command planned; written into
    ``implementation_plan`` beside the horizons (``steps``, ``reaches_target``, ...)."""

    def to_dict(self) -> dict[str, JSON]:
        plan: dict[str, JSON] = {k: list(self.implementation_plan.get(k, ())) for k in _PLAN_KEYS}
        if self.plan is not None:
            plan.update(cast(dict[str, JSON], jsonable(self.plan)))
        return {
            "schema_version": SCHEMA_VERSION,
            "command": self.command,
            "summary": self.summary,
            "analysis": jsonable(self.analysis),
            "series": {name: s.to_dict() for name, s in self.series.items()},
            "recommendations": [r.to_dict() for r in self.recommendations],
            "implementation_plan": plan,
            "evidence": [e.to_dict() for e in self.evidence],
            "assumptions": [a.to_dict() for a in self.assumptions],
            "inputs": [
                {"source": i.source, "kind": i.kind, "detail": i.detail} for i in self.inputs
            ],
        }


_PLAN_KEYS = ("immediate", "short_term", "long_term")


def jsonable(value: JSON) -> JSON:
    """Plain JSON data: tuples become lists, non-finite floats become None, floats are rounded
    to 6 significant digits (measurements carry no more)."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return float(f"{value:.6g}")
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # a record
        from throughput_expert.model.record import dump

        return dump(value)
    if hasattr(value, "item"):  # numpy scalar
        return jsonable(value.item())
    raise TypeError(f"not JSON data: {type(value).__name__}")
