"""A Report rebuilt from its JSON form (stdlib only): ``report_from_dict(r.to_dict())`` gives a
Report whose ``to_dict()`` is identical, so a saved report renders as the fresh one did.

The document is trusted to be a Report's JSON form of this ``SCHEMA_VERSION`` (checking it is
``render.report_file``'s job); a missing key raises ``KeyError``, a wrong type ``TypeError`` or
``ValueError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from throughput_expert.model.analysis.common import PlanRecord
from throughput_expert.model.record import load
from throughput_expert.model.records import InputRef, Level
from throughput_expert.model.report import (
    Assumption,
    Command,
    Evidence,
    Recommendation,
    Report,
    Series,
)

__all__ = ["plan_from_dict", "report_from_dict"]

JSON = Any


def report_from_dict(doc: Mapping[str, JSON], source: str = "report") -> Report:
    """The Report whose JSON form is ``doc`` (see ``Report.to_dict``); a plan of the wrong shape
    is an ``InputError`` from ``source``."""
    return Report(
        command=cast(Command, doc["command"]),
        summary=str(doc["summary"]),
        analysis=dict(doc.get("analysis") or {}),
        series={str(k): _series(v) for k, v in (doc.get("series") or {}).items()},
        recommendations=tuple(_recommendation(r) for r in doc.get("recommendations") or ()),
        implementation_plan={
            k: tuple(str(s) for s in v)
            for k, v in (doc.get("implementation_plan") or {}).items()
            if k in _HORIZONS
        },
        plan=plan_from_dict(doc.get("implementation_plan") or {}, source),
        evidence=tuple(_evidence(e) for e in doc.get("evidence") or ()),
        assumptions=tuple(
            Assumption(str(a["what"]), a["value"], str(a["why"]))
            for a in doc.get("assumptions") or ()
        ),
        inputs=tuple(
            InputRef(str(i["source"]), str(i["kind"]), str(i.get("detail", "")))
            for i in doc.get("inputs") or ()
        ),
    )


_HORIZONS = ("immediate", "short_term", "long_term")


def plan_from_dict(doc: Mapping[str, JSON], source: str = "report") -> PlanRecord | None:
    """The plan's steps beside the horizons, when the command planned."""
    if "steps" not in doc:
        return None
    steps = {k: v for k, v in doc.items() if k not in _HORIZONS}
    found: PlanRecord = load(PlanRecord, steps, source=source, path="implementation_plan")
    return found


def _series(s: Mapping[str, JSON]) -> Series:
    points = tuple((p[0], p[1]) for p in s["points"])
    return Series(str(s["x_label"]), str(s["y_label"]), points)


def _recommendation(r: Mapping[str, JSON]) -> Recommendation:
    return Recommendation(
        optimization=str(r["optimization"]),
        expected_improvement_pct=r.get("expected_improvement_pct"),
        effort=cast(Level, r["effort"]),
        risk=cast(Level, r["risk"]),
        rationale=str(r["rationale"]),
        evidence_ids=tuple(str(i) for i in r.get("evidence_ids") or ()),
        example=r.get("example"),
        change=r.get("change"),
    )


def _evidence(e: Mapping[str, JSON]) -> Evidence:
    return Evidence(
        id=str(e["id"]),
        claim=str(e["claim"]),
        law=str(e["law"]),
        inputs=dict(e.get("inputs") or {}),
        result=e.get("result"),
    )
