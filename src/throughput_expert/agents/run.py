"""Which advisors a task asks for, the inputs each gets from the prompt, and the merged result.

Missing quantities are derived where a law allows and listed as assumptions: e.g. a single
consumer at 10,000 msg/s spends at most 100 µs per message (Little's law with one in flight),
which bounds the batching cost model and sizes the consumers for the target.

Every advisor is called through the public API (``api.py``); the operator's settings file
(``tpx task --defaults FILE``) reaches every call. A task may not replace it: a task naming a
command whose ``arguments`` hold ``defaults`` is refused when the operator gave ``--defaults``
(without it, the task's own ``defaults`` file is read, inside its workspace).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from throughput_expert.agents.confine import Confine
from throughput_expert.agents.context import Understood, understand
from throughput_expert.errors import InputError
from throughput_expert.laws.little import response_time_from
from throughput_expert.model import Assumption, Report, ServiceMetrics
from throughput_expert.sources.sentence import Part, read_sentence

if TYPE_CHECKING:
    from throughput_expert.agents.advisors_for_task import Given

__all__ = ["choose", "run_advisors", "run_command"]

_WANTS = (
    ("concurrency", r"parallel|thread|pool|concurren|consumer count|async"),
    ("batching", r"batch"),
    ("scaling", r"scal|capacity plan|instances|horizontal"),
    ("bottleneck", r"bottleneck|profile|hot ?spot|contention|\block|mutex|synchroni"),
)


def choose(prompt: Mapping[str, Any], u: Understood) -> list[str]:
    """Advisors to run: analyze always (when there is data), then what the task asks for."""
    wanted = topics(prompt, u)
    if not _instructed(prompt):  # no instructions: run what the data allows
        wanted = [w for w in ("concurrency", "batching", "scaling") if u.target_rps]
    return ["analyze", *[w for w in wanted if w != "bottleneck"]] + (
        ["find-bottleneck"] if "profile" in u.files else []
    )


def topics(prompt: Mapping[str, Any], u: Understood) -> list[str]:
    """What the task asks about (concurrency, batching, scaling, bottleneck), from the words of
    its task and instructions; a profile in the context asks about the bottleneck too."""
    words = _instruction_words(prompt)
    wanted = [name for name, pattern in _WANTS if re.search(pattern, words)]
    if "profile" in u.files and "bottleneck" not in wanted:
        wanted.append("bottleneck")
    return wanted


def _instruction_words(prompt: Mapping[str, Any]) -> str:
    return " ".join([_words(prompt.get("task")), _words(prompt.get("instructions"))]).lower()


def _instructed(prompt: Mapping[str, Any]) -> bool:
    return bool(re.sub(r"\W", "", _instruction_words(prompt)))


def _words(value: Any) -> str:
    """The text of a task or its instructions: a string, or a list of strings (others skipped)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(i for i in value if isinstance(i, str))
    return ""


def run_advisors(
    prompt: Mapping[str, Any],
    base: Path,
    confine: Confine | None = None,
    *,
    defaults: str | None = None,
    output_schema: Mapping[str, Any] | None = None,
) -> Report:
    """The merged result (``command: "task"``), or the Report of the command the task names;
    files the prompt names must lie inside ``confine`` (default: ``base``); ``defaults`` is the
    operator's settings file, passed to every API call.

    A task without measurements gets the parameterized answer (``agents/no_data.py``). The
    top-level keys ``output_schema`` requires (default: the prompt's own ``outputSchema``) are
    filled with real content only: ``no_data.Unanswerable`` (an ``InputError`` naming the keys)
    when nothing in the task can fill one."""
    from throughput_expert.agents.advisors_for_task import Given
    from throughput_expert.agents.merge import merge

    confine = confine or _folder(base)
    direct = run_command(prompt, base, confine, defaults=defaults)
    if direct is not None:
        return direct
    schema = output_schema if output_schema is not None else prompt.get("outputSchema")
    u = understand(prompt, base, confine)
    _previous(u, prompt)
    parts, unread = read_sentence(u.architecture_text) if u.architecture_text else ([], [])
    u.unread.extend(
        f"architecture: {c!r} (no component word or product this worker knows)" for c in unread
    )
    metrics = _metrics(u, parts, prompt)
    if metrics is None:
        bare = _without_data(prompt, u, parts, confine, base, defaults)
        measured = isinstance(bare.analysis, Mapping) and "profile" in bare.analysis
        return _answered(bare, schema, measured=measured)
    given = Given(u, parts, metrics, confine, base, defaults)
    advisors = choose(prompt, u)
    per_item = None
    if {"concurrency", "batching"} & set(advisors):  # derived once, listed once
        per_item = _per_item(given.metrics, given.derived)
    reports: dict[str, Report] = {}
    for name in advisors:
        report = _run(name, given, per_item)
        if report is not None:
            reports[name] = report
    section = None
    if "concurrency" in given.skipped and "cpu_cores" in given.skipped["concurrency"]:
        section = _parameterized(u, parts, ["concurrency"], defaults, "the task gives no cores")
    merged = merge(reports, u, parts, advisors, given.derived, given.skipped, section)
    return _answered(merged, schema, measured=True)


_RUNTIMES = ("python", "jvm", "go", "node", "native")


def _previous(u: Understood, prompt: Mapping[str, Any]) -> None:
    """A process passes an earlier result of this worker back in the context (the babysitter
    library's concurrency process hands phase 1's result to phase 2): the project, codebase,
    runtime and cores it understood are read from it when this task does not say them."""
    from throughput_expert.agents.context import normalize_key

    context = prompt.get("context")
    for key, value in context.items() if isinstance(context, Mapping) else ():
        task = value.get("analysis") if isinstance(value, Mapping) else None
        task = task.get("task") if isinstance(task, Mapping) else None
        seen = task.get("understood") if isinstance(task, Mapping) else None
        if not isinstance(seen, Mapping):
            continue
        took = []
        for name in ("project", "codebase", "service"):
            text = seen.get(name)
            if getattr(u, name) is None and isinstance(text, str) and text.strip():
                setattr(u, name, text[:200])
                took.append(name)
        if u.runtime is None and seen.get("runtime") in _RUNTIMES:
            u.runtime = seen["runtime"]
            took.append("runtime")
        cores = seen.get("cores")
        if u.cores is None and isinstance(cores, int | float) and 0 < cores < 1e6:
            u.cores = float(cores)
            took.append("cores")
        norm = normalize_key(str(key))
        note = f"{norm}: not a key this worker reads"
        if took and note in u.unread:
            u.unread.remove(note)
            u.unread.append(f"{norm}: an earlier result of this worker: {', '.join(took)} read")


def _parameterized(
    u: Understood, parts: list[Part], wanted: list[str], defaults: str | None, why: str
) -> dict[str, Any]:
    from throughput_expert.agents.no_data import parameterized
    from throughput_expert.sources.settings import load_settings

    return parameterized(u, wanted, load_settings(defaults), why=why, parts=parts)


def _without_data(
    prompt: Mapping[str, Any],
    u: Understood,
    parts: list[Part],
    confine: Confine,
    base: Path,
    defaults: str | None,
) -> Report:
    """A task with context but no numbers: the formulas with their unknowns, the checks and the
    measurement plan (``analysis.parameterized``); a profile it names is still read."""
    from throughput_expert.agents.advisors_for_task import Given, find_bottleneck
    from throughput_expert.agents.merge import merge
    from throughput_expert.agents.no_data import TOPICS

    wanted = topics(prompt, u) or list(TOPICS[1:])  # nothing specific: every topic
    why = "the task holds no measurements (no throughput, utilization or metrics file)"
    if u.refused:  # it held some, in words no reader takes: said, not passed over
        names = [k if len(k) <= 40 else k[:39] + "…" for k in u.refused[:3]]
        more = f" and {len(u.refused) - 3} more" if len(u.refused) > 3 else ""
        why = (
            f"the task holds no measurements tpx can read ({', '.join(names)}{more}: "
            "not read, see analysis.task.unread)"
        )
    section = _parameterized(u, parts, ["analyze", *wanted], defaults, why)
    given = Given(u, parts, ServiceMetrics(service=u.service), confine, base, defaults)
    asked = ["analyze", *[w for w in wanted if w != "bottleneck"]]
    reports: dict[str, Report] = {}
    if "profile" in u.files:
        asked.append("find-bottleneck")
        reports["find-bottleneck"] = find_bottleneck(given)
    skipped = {
        a: "no measurements in the task: see analysis.parameterized"
        for a in asked
        if a not in reports
    }
    return merge(reports, u, parts, asked, [], skipped, section)


def _answered(report: Report, schema: Any, *, measured: bool) -> Report:
    """The report with the schema's required keys filled from its own content (or
    ``Unanswerable``); ``measured``: the report rests on measurements."""
    from throughput_expert.agents.merge import TaskReport
    from throughput_expert.agents.no_data import fill_required

    if not isinstance(schema, Mapping):
        return report
    answers = fill_required(report.to_dict(), schema, measured=measured)
    if not answers:
        return report
    if isinstance(report, TaskReport):
        return dataclasses.replace(report, answers={**report.answers, **answers})
    return report


def _folder(base: Path) -> Confine:
    return Confine.of([base], described=f"the folder {base}", widen="", source="task")


def run_command(
    prompt: Mapping[str, Any],
    base: Path,
    confine: Confine | None = None,
    *,
    defaults: str | None = None,
) -> Report | None:
    """A task naming a registered command, ``{"command": NAME, "arguments": {...}}``: that
    command's Report, its arguments checked against the API's parameters offered to agents (as
    over MCP, with the same limits); None when the task names no command. The operator's
    ``defaults`` is passed when the command takes one; a task's own ``defaults`` argument is
    refused when the operator gave one (a task may not replace the operator's settings)."""
    from throughput_expert import registry
    from throughput_expert.model.quantity import check_keys, did_you_mean
    from throughput_expert.params import parameters

    name = prompt.get("command")
    if name is None:
        return None
    names = [u.name for u in registry.units()]
    found = registry.unit(name) if isinstance(name, str) else None
    if found is None:
        hint = did_you_mean(str(name)[:60], names)
        raise InputError(f"unknown command{hint}", source="task", field="command")
    arguments = prompt.get("arguments") or {}
    if not isinstance(arguments, Mapping):
        raise InputError("expected an object", source="task", field="arguments")
    fn = registry.resolve(found.run)
    offered = {p.name: p for p in parameters(fn) if p.arg.tool}
    check_keys(arguments, offered, "task", "arguments.")
    if defaults is not None and "defaults" in arguments:
        raise InputError(
            "the operator gave the settings file: a task may not replace it",
            source="task",
            field="arguments.defaults",
        )
    confine = confine or _folder(base)
    given: dict[str, Any] = {}
    for key, value in arguments.items():
        kind = offered[key].arg.kind
        if kind == "file" and value is not None:
            value = str(confine.resolve(value, field=f"arguments.{key}", base=base))
        elif kind == "files" and value is not None:
            if not isinstance(value, list):
                raise InputError(
                    "expected a list of paths", source="task", field=f"arguments.{key}"
                )
            value = [
                str(confine.resolve(v, field=f"arguments.{key}[{i}]", base=base))
                for i, v in enumerate(value)
            ]
        given[key] = value
    check = registry.resolve(found.tool_check, optional=True) if found.tool_check else None
    if check is not None:
        given = check(given, confine)
    if defaults is not None and any(p.name == "defaults" for p in parameters(fn)):
        given["defaults"] = defaults
    report: Report = fn(**given)
    return report


def _metrics(u: Understood, parts: list[Part], prompt: Mapping[str, Any]) -> ServiceMetrics | None:
    """What the task measured; None when it holds no measurement (no rate, no utilization,
    no metrics file)."""
    from throughput_expert.sources import load_metrics
    from throughput_expert.sources.merge import merge_metrics

    workers = u.workers
    if workers is None:
        workers = next((p.count for p in parts if p.kind == "worker" and p.count), None)
    text = " ".join(_words(v) for v in (prompt.get("task"), u.read.get("current_throughput")))
    system = "message-processing" if re.search(r"\bmsgs?\b|message", text, re.I) else None
    own = ServiceMetrics(
        service=u.service,
        throughput_rps=u.current_rps,
        target_rps=u.target_rps,
        utilization=dict(u.utilization),
        cores=u.cores,
        workers=workers,
        system_type=system,
        architecture=u.architecture_text,
    )
    files = [str(p) for p in u.files.get("metrics", [])]
    if not files:
        if own.throughput_rps is None and not own.utilization:
            return None
        return own
    return merge_metrics([load_metrics(files), own])


def _per_item(metrics: ServiceMetrics, derived: list[Assumption]) -> float | None:
    """Little's law: W workers at X items/s spend at most W / X per item."""
    if metrics.latency.mean_s is not None:
        return metrics.latency.mean_s
    if not metrics.workers or not metrics.throughput_rps:
        return None
    per_item = response_time_from(metrics.workers, metrics.throughput_rps)  # Little: R = N / X
    derived.append(
        Assumption(
            "time per item",
            f"≤ {per_item * 1e6:.4g} µs",
            f"{metrics.workers} worker(s) at {metrics.throughput_rps:g} items/s, each always busy: "
            "Little's law R = L / X with L = workers (less if they idle); it bounds the batching "
            "cost model and sizes the pool for the target",
        )
    )
    return per_item


def _run(name: str, g: Given, per_item: float | None) -> Report | None:
    from throughput_expert.agents import advisors_for_task as a

    if name == "analyze":
        return a.analyze(g)
    if name == "find-bottleneck":
        return a.find_bottleneck(g)
    if name == "scaling":
        return a.scaling(g)
    if name == "concurrency":
        return a.concurrency(g, per_item)
    if name == "batching":
        return a.batching(g, per_item)
    return None
