"""One result from several advisors' Reports (``command: "task"``, docs/architecture.md): the
analyze findings at the top of ``analysis`` (bottleneck, current_throughput, headroom) and one
sub-object per other advisor; evidence ids are prefixed by advisor so recommendations still cite
them."""

from __future__ import annotations

from typing import Any

from throughput_expert.agents.context import Understood
from throughput_expert.agents.sentence import Part
from throughput_expert.model import SCHEMA_VERSION, Assumption, Report

__all__ = ["merge"]

_KEYS = {
    "find-bottleneck": "profile",
    "concurrency": "concurrency",
    "batching": "batching",
    "scaling": "scaling",
}
_TOP = ("bottleneck", "current_throughput", "headroom", "latency", "rating", "findings")


def merge(
    reports: dict[str, Report],
    u: Understood,
    parts: list[Part],
    asked: list[str],
    derived: list[Assumption],
) -> dict[str, Any]:
    docs = {name: r.to_dict() for name, r in reports.items()}
    analysis: dict[str, Any] = {}
    main = docs.get("analyze")
    if main is not None:
        analysis.update({k: main["analysis"][k] for k in _TOP if k in main["analysis"]})
    for name, doc in docs.items():
        if name != "analyze":
            analysis[_KEYS.get(name, name)] = doc["analysis"] | {"summary": doc["summary"]}
    analysis["task"] = _task(u, parts, asked, docs)
    return {
        "schema_version": SCHEMA_VERSION,
        "command": "task",
        "summary": " ".join(_first_sentence(d["summary"]) for d in docs.values()),
        "analysis": analysis,
        "series": {f"{_prefix(n)}{k}": v for n, d in docs.items() for k, v in d["series"].items()},
        "recommendations": _recommendations(docs),
        "implementation_plan": _plan(docs),
        "evidence": [
            e | {"id": _prefix(n) + e["id"]} for n, d in docs.items() for e in d["evidence"]
        ],
        "assumptions": [a.to_dict() for a in derived]
        + _unique([a for d in docs.values() for a in d["assumptions"]], "what"),
        "inputs": [{"source": "task", "kind": "agent-prompt", "detail": ", ".join(u.read)}]
        + [i for d in docs.values() for i in d["inputs"]],
    }


def _prefix(name: str) -> str:
    return "" if name == "analyze" else f"{_KEYS.get(name, name)}/"


def _first_sentence(text: str) -> str:
    return text if text.endswith(".") else text + "."


def _task(
    u: Understood, parts: list[Part], asked: list[str], docs: dict[str, Any]
) -> dict[str, Any]:
    return {
        "understood": {
            k: v
            for k, v in {
                "current_rps": u.current_rps,
                "target_rps": u.target_rps,
                "utilization_pct": {r: v * 100 for r, v in u.utilization.items()} or None,
                "service": u.service,
                "workers": u.workers,
                "cores": u.cores,
                "architecture": [{"kind": p.kind, "name": p.name, "count": p.count} for p in parts]
                or None,
                "files": {k: [str(p) for p in v] for k, v in u.files.items()} or None,
            }.items()
            if v is not None
        },
        "unread": u.unread,
        "advisors_asked": asked,
        "advisors_run": list(docs),
        "advisors_skipped": [a for a in asked if a not in docs and _key(a) not in docs],
    }


def _key(name: str) -> str:
    return name


def _recommendations(docs: dict[str, Any]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for name, doc in docs.items():
        for rec in doc["recommendations"]:
            if rec["optimization"] in seen:
                continue
            seen.add(rec["optimization"])
            out.append(
                rec
                | {
                    "advisor": name,
                    "evidence_ids": [_prefix(name) + e for e in rec["evidence_ids"]],
                }
            )
    return out


def _plan(docs: dict[str, Any]) -> dict[str, list[str]]:
    plan: dict[str, list[str]] = {"immediate": [], "short_term": [], "long_term": []}
    for doc in docs.values():
        for key, items in doc["implementation_plan"].items():
            plan[key].extend(i for i in items if i not in plan[key])
    return plan


def _unique(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    seen: set[Any] = set()
    out = []
    for row in rows:
        if row[key] not in seen:
            seen.add(row[key])
            out.append(row)
    return out
