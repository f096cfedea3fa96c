"""One result from several advisors' Reports (``command: "task"``, docs/architecture.md): the
analyze findings at the top of ``analysis`` (bottleneck, current_throughput, headroom) and one
sub-object per other advisor; evidence ids are prefixed by advisor so recommendations still cite
them. The result is a ``Report``, serialized like every other (``Report.to_dict``); its analysis
is still a plain mapping (the advisors' records dumped), not a typed record of its own."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from throughput_expert.agents.context import Understood
from throughput_expert.model import Assumption, InputRef, Recommendation, Report, Series
from throughput_expert.model.report import jsonable
from throughput_expert.sources.sentence import Part

__all__ = ["TaskRecommendation", "TaskReport", "merge"]

_KEYS = {
    "find-bottleneck": "profile",
    "concurrency": "concurrency",
    "batching": "batching",
    "scaling": "scaling",
}
_TOP = ("bottleneck", "current_throughput", "headroom", "latency", "rating", "findings")


@dataclass(frozen=True)
class TaskRecommendation(Recommendation):
    """A recommendation in a task's result, naming the advisor that gave it."""

    advisor: str = ""

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"advisor": self.advisor}


@dataclass(frozen=True)
class TaskReport(Report):
    """A task's result: a Report, and the keys the task's ``outputSchema`` requires beyond the
    Report's own, each filled with real content (``agents/no_data.fill_required``)."""

    answers: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = super().to_dict()
        out.update({k: v for k, v in self.answers.items() if k not in out})
        return out


def merge(
    reports: Mapping[str, Report],
    u: Understood,
    parts: list[Part],
    asked: list[str],
    derived: list[Assumption],
    skipped: Mapping[str, str] | None = None,
    parameterized: Mapping[str, Any] | None = None,
) -> TaskReport:
    """The task's Report; ``skipped`` says why an advisor asked for did not run (listed under
    ``analysis.task.why_skipped`` when there is a reason to give). ``parameterized`` is the
    answer without data (``agents/no_data.py``) for what could not be measured: it goes under
    ``analysis.parameterized``, its sentence into the summary (first when nothing ran), its
    measurement plan into the recommendations and the immediate steps."""
    from throughput_expert.agents import no_data

    analysis: dict[str, Any] = {}
    main = reports.get("analyze")
    if main is not None:
        top = jsonable(main.analysis)
        analysis.update({k: top[k] for k in _TOP if k in top})
    for name, r in reports.items():
        if name != "analyze":
            analysis[_KEYS.get(name, name)] = jsonable(r.analysis) | {"summary": r.summary}
    recommendations = _recommendations(reports)
    sentences = _sentences(reports, main)
    plan = _plan(reports, recommendations)
    if parameterized is not None:
        analysis["parameterized"] = dict(parameterized)
        sentence = no_data.summary(parameterized)
        sentences = [*sentences, sentence] if main is not None else [sentence, *sentences]
        measure = tuple(
            TaskRecommendation(**_fields(r), advisor="parameterized")
            for r in no_data.recommendations(parameterized, first=main is None)
        )
        steps = [r.optimization for r in measure]
        if main is None:
            recommendations = measure + recommendations
            plan["immediate"] = [*steps, *plan["immediate"]]
        else:
            recommendations = recommendations + measure
            plan["immediate"] = [*plan["immediate"], *steps]
    analysis["task"] = _task(u, parts, asked, list(reports), skipped or {})
    series: dict[str, Series] = {
        f"{_prefix(n)}{k}": s for n, r in reports.items() for k, s in r.series.items()
    }
    return TaskReport(
        command="task",
        summary=" ".join(sentences),
        analysis=analysis,
        series=series,
        recommendations=recommendations,
        implementation_plan=plan,
        plan=main.plan if main is not None else None,
        evidence=tuple(
            dataclasses.replace(e, id=_prefix(n) + e.id)
            for n, r in reports.items()
            for e in r.evidence
        ),
        assumptions=(
            *derived,
            *_unique_what([a for r in reports.values() for a in r.assumptions]),
        ),
        inputs=(
            InputRef("task", "agent-prompt", ", ".join(u.read)),
            *[i for r in reports.values() for i in r.inputs],
        ),
    )


def _prefix(name: str) -> str:
    return "" if name == "analyze" else f"{_KEYS.get(name, name)}/"


def _first_sentence(text: str) -> str:
    return text if text.endswith(".") else text + "."


def _task(
    u: Understood, parts: list[Part], asked: list[str], run: list[str], skipped: Mapping[str, str]
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "understood": {
            k: v
            for k, v in {
                "current_rps": u.current_rps,
                "target_rps": u.target_rps,
                "utilization_pct": {r: v * 100 for r, v in u.utilization.items()} or None,
                "service": u.service,
                "workers": u.workers,
                "cores": u.cores,
                "project": u.project,
                "codebase": u.codebase,
                "runtime": u.runtime,
                "reported_issues": u.issues or None,
                "architecture": [{"kind": p.kind, "name": p.name, "count": p.count} for p in parts]
                or None,
                "files": {k: [str(p) for p in v] for k, v in u.files.items()} or None,
            }.items()
            if v is not None
        },
        "unread": u.unread,
        "advisors_asked": asked,
        "advisors_run": run,
        "advisors_skipped": [a for a in asked if a not in run],
    }
    if skipped:
        out["why_skipped"] = dict(skipped)
    return out


def _recommendations(reports: Mapping[str, Report]) -> tuple[TaskRecommendation, ...]:
    """Every advisor's recommendations, analyze's first; a change already recommended (the
    plan's batch, its instances) is not recommended again by another advisor with another
    price: that advisor's numbers stay in its part of the analysis."""
    seen: set[str] = set()
    changes: set[str] = set()
    out = []
    for name, r in reports.items():
        for rec in r.recommendations:
            if rec.optimization in seen or (rec.change is not None and rec.change in changes):
                continue
            seen.add(rec.optimization)
            if rec.change is not None:
                changes.add(rec.change)
            fields = _fields(rec)
            fields["evidence_ids"] = tuple(_prefix(name) + e for e in rec.evidence_ids)
            out.append(TaskRecommendation(**fields, advisor=name))
    return tuple(out)


def _fields(rec: Recommendation) -> dict[str, Any]:
    return {f.name: getattr(rec, f.name) for f in dataclasses.fields(Recommendation)}


def _plan(
    reports: Mapping[str, Report], kept: Iterable[TaskRecommendation]
) -> dict[str, list[str]]:
    """The horizons of every advisor, analyze's first, without the steps of a recommendation
    left out as a repeat of a change already recommended (the plan's batch, its instances)."""
    shown = {r.optimization for r in kept}
    dropped = {
        rec.optimization
        for r in reports.values()
        for rec in r.recommendations
        if rec.optimization not in shown
    }
    plan: dict[str, list[str]] = {"immediate": [], "short_term": [], "long_term": []}
    for r in reports.values():
        for key, items in r.implementation_plan.items():
            plan[key].extend(
                i for i in items if i not in plan[key] and not any(i.startswith(d) for d in dropped)
            )
    return plan


# the change each advisor's headline is about: when analyze's plan makes it, the plan's
# sentence says it (priced on the whole system) and the advisor's own figure (the writer's or
# the pool's alone) stays in its part of the analysis
_HEADLINE_CHANGE = {"batching": "batch", "scaling": "instances", "concurrency": "workers"}


def _sentences(reports: Mapping[str, Report], main: Report | None) -> list[str]:
    """The summary: analyze's first; each other advisor's without its own "First: ..." (the
    report has one first action: analyze's), and none for a change analyze's plan makes."""
    planned = {s.change for s in main.plan.steps} if main is not None and main.plan else set()
    out = []
    for name, r in reports.items():
        text = r.summary
        if main is not None and name != "analyze":
            if _HEADLINE_CHANGE.get(name) in planned:
                continue
            text = " ".join(
                s for s in re.split(r"(?<=\.) (?=First: )", text) if not s.startswith("First: ")
            )
        if text.strip():
            out.append(_first_sentence(text.strip()))
    return out


def _unique_what(rows: list[Assumption]) -> list[Assumption]:
    seen: set[str] = set()
    out = []
    for row in rows:
        if row.what not in seen:
            seen.add(row.what)
            out.append(row)
    return out
