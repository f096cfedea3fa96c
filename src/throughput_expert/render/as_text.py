"""The terminal renderer: the Report as readable text (rich tables; colour only on a terminal).

It reads the Report's JSON form, so a saved report renders the same as a fresh one: the analysis
is loaded back into the command's typed record, and the command's text sections (registered with
it, ``render/text_*.py``) print it. Then come the plan as a numbered table, the recommendations,
and the evidence, assumptions and inputs, compact. A task's merged analysis has no record and
shows as a tree.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from throughput_expert import registry
from throughput_expert.errors import InputError
from throughput_expert.model import Report
from throughput_expert.model.analysis.common import PlanRecord
from throughput_expert.model.report_json import plan_from_dict
from throughput_expert.model.units import fmt_count, fmt_duration, fmt_pct
from throughput_expert.render.base import Renderer, analysis_record
from throughput_expert.render.text_common import (
    BAD,
    DIM,
    GOOD,
    KEEP,
    MAX_ROWS,
    WIDTH,
    Col,
    console,
    gain,
    grid,
    heading,
    humanize,
    label,
    line,
    more_line,
    num,
    safe,
    text_width,
    tree,
    width,
)

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["FOOTER", "TextRenderer"]

FOOTER = "tpx prints text to a terminal, JSON to a pipe or file, unless given a format."

_HORIZONS = {"immediate": "immediate", "short_term": "short term", "long_term": "long term"}


class TextRenderer(Renderer):
    """Text at ``width`` columns (80 when not given); ``color``: ANSI colours for a terminal
    (see ``text_common.color_wanted``), never into a pipe or a file."""

    name = "text"

    def __init__(self, width: int | None = None, color: bool = False) -> None:
        self.width = width or WIDTH
        self.color = color

    def render(self, report: Report) -> str:
        with text_width(self.width):
            return self._render(report)

    def _render(self, report: Report) -> str:
        from rich.text import Text

        doc = report.to_dict()
        buf = io.StringIO()
        out = console(buf, self.color)
        out.print(Text(f"tpx {doc['command']}", style="bold"))
        line(out, doc["summary"])
        record = analysis_record(doc)
        if record is not None:
            for section in registry.text_sections(doc["command"]):
                section(out, record)
        else:  # a task's merged analysis: each advisor's part as its command shows it
            _task(out, doc["analysis"])
        numbers = {e["id"]: i for i, e in enumerate(doc["evidence"], 1)}
        plan = doc["implementation_plan"]
        _plan(out, plan)
        _recommendations(out, doc["recommendations"], plan, numbers)
        _evidence(out, doc["evidence"])
        _assumptions(out, doc["assumptions"])
        _inputs(out, doc["inputs"])
        if record is not None or doc["analysis"]:
            out.print()
            line(out, FOOTER, style=DIM)
        return "\n".join(ln.rstrip() for ln in buf.getvalue().splitlines()) + "\n"


def _plan(out: Console, plan: Mapping[str, Any]) -> None:
    steps = plan_from_dict(plan)
    if steps is not None:
        _steps(out, steps)


def _steps(out: Console, p: PlanRecord) -> None:
    heading(out, f"Plan to {fmt_count(p.target)} rps")
    line(
        out,
        "  each step a change to the system model; rps at targets: every limit at its "
        "saturation target; at 100 %: every limit saturated",
        style=DIM,
    )
    cols = (
        Col("step", "left", KEEP),
        Col("change", "left", KEEP, wrap=True, min_width=16),
        Col("rps at targets", keep=KEEP),
        Col("at 100 %", keep=1),
        Col("binding", "left", keep=KEEP),
        Col("gain", keep=2),
    )
    at_full = fmt_count(p.capacity_today) if p.capacity_today is not None else "-"
    rows: list[list[Any]] = [
        ["today", "-", fmt_count(p.ceiling_today), at_full, label(p.binding_today), "-"]
    ]
    for i, s in enumerate(p.steps, 1):
        full = fmt_count(s.capacity) if s.capacity is not None else "-"
        reaches = s.ceiling >= p.target
        rows.append(
            [
                f"{i}",
                s.what,
                (fmt_count(s.ceiling), GOOD if reaches else None),
                full,
                label(s.binding),
                gain(s.gain),
            ]
        )
    grid(out, cols, rows)
    for i, s in enumerate(p.steps, 1):
        used = ", ".join(f"{label(k)} {fmt_pct(v)}" for k, v in s.utilization.items())
        delay = (
            f"; the batch adds up to {fmt_duration(s.batch_delay)} to an item's latency"
            if s.batch_delay is not None
            else ""
        )
        line(out, f"  after step {i}, at {fmt_count(s.rate)} rps: {used}{delay}", hang=2)
    if p.reaches_target:
        line(
            out,
            f"  reaches {fmt_count(p.target)} rps with every limit at or under its target",
            style=GOOD,
        )
    else:
        line(out, f"  does not reach {fmt_count(p.target)} rps: capped by {p.cap}", style=BAD)
        if p.lift:
            line(out, f"  to lift it: {p.lift}", hang=2)


def _horizon_of(title: str, plan: Mapping[str, Any], used: set[tuple[str, int]]) -> str | None:
    """The plan's horizon that lists this recommendation (its items start with its title)."""
    for key in _HORIZONS:
        for n, item in enumerate(plan.get(key) or ()):
            if (key, n) not in used and str(item).startswith(title):
                used.add((key, n))
                return _HORIZONS[key]
    return None


def _recommendations(
    out: Console,
    recs: Sequence[Mapping[str, Any]],
    plan: Mapping[str, Any],
    numbers: Mapping[str, int],
) -> None:
    used: set[tuple[str, int]] = set()
    planned = "steps" in plan
    if recs:
        heading(out, "Recommendations")
    for i, r in enumerate(recs[:MAX_ROWS], 1):
        if i > 1:
            out.print()
        pct = r.get("expected_improvement_pct")
        step, rationale = _rationale(r["rationale"], planned)
        facts = [
            _HORIZONS.get(h, h) if (h := _horizon_of(r["optimization"], plan, used)) else None,
            step,
            gain(pct / 100) if pct is not None else "gain not quantified",
            f"effort {r['effort']}",
            f"risk {r['risk']}",
            _cited(r["evidence_ids"], numbers),
        ]
        line(out, f"{i:>2}. {r['optimization']}", style="bold")
        line(out, "    " + " · ".join(f for f in facts if f), hang=2)
        line(out, f"    {rationale}")
        for code in (r.get("example") or "").splitlines():
            _code(out, code)
    more_line(out, min(len(recs), MAX_ROWS), len(recs), "recommendations")
    rest = [
        (_HORIZONS[key], item)
        for key in _HORIZONS
        for n, item in enumerate(plan.get(key) or ())
        if (key, n) not in used
    ]
    if rest:
        heading(out, "Also in the plan")
        for when, item in rest[:MAX_ROWS]:
            line(out, f"  - {when}: {item}")
        more_line(out, min(len(rest), MAX_ROWS), len(rest), "steps")


# a plan step's rationale repeats the plan table's row before its reason: "Step 1 of the plan:
# WHAT. The model with it: ceiling ... rps: UTILIZATIONS %. REASON"
_STEP_STATE = re.compile(r"^Step (\d+) of the plan: .*? The model with it: .*? %\. (?=[A-Z])")


def _rationale(text: str, planned: bool) -> tuple[str | None, str]:
    """A recommendation's plan step (when it is one) and its rationale, without what the plan
    table above already shows."""
    found = _STEP_STATE.match(text) if planned else None
    if found is None:
        return None, text
    return f"plan step {found.group(1)}", text[found.end() :]


def _cited(ids: Sequence[str], numbers: Mapping[str, int]) -> str | None:
    found = [str(n) for n in sorted(numbers[i] for i in ids if i in numbers)]
    if not found:
        return None
    return "evidence " + ", ".join(found)


def _code(out: Console, code: str) -> None:
    """A line of an example, folded at the width under a ``│`` gutter (``↪`` marks the fold)."""
    from rich.text import Text

    first, rest = "      │ ", "      │   ↪ "
    code = safe(code)
    pieces = []
    room = width() - len(first)
    while len(code) > room:
        cut = code.rfind(" ", room // 2, room + 1)  # at a space when one is near the end
        cut = cut if cut > 0 else room
        pieces.append(code[:cut].rstrip())
        code = code[cut:].lstrip()
        room = width() - len(rest)
    pieces.append(code)
    for n, piece in enumerate(pieces):
        out.print(Text((rest if n else first) + piece, style="cyan"), overflow="ignore", crop=False)


def _evidence(out: Console, evidence: Sequence[Mapping[str, Any]]) -> None:
    if not evidence:
        return
    heading(out, "Evidence (claim; law, from its inputs)")
    before = None
    for n, e in enumerate(evidence[:MAX_ROWS], 1):
        line(out, f"{n:>2}. {e['claim']}")
        inputs = e.get("inputs") or {}
        source = humanize(inputs) if isinstance(inputs, Mapping) else ""
        law = "the same law" if e["law"] == before else e["law"]
        before = e["law"]
        line(out, f"    {law}" + (f"; from {source}" if source else ""), style=DIM, hang=2)
    more_line(out, min(len(evidence), MAX_ROWS), len(evidence), "pieces of evidence")


def _assumptions(out: Console, assumptions: Sequence[Mapping[str, Any]]) -> None:
    if not assumptions:
        return
    heading(out, "Assumptions")
    for a in assumptions:
        line(out, f"  - {a['what']}: {num(a['value'])} ({a['why']})")


def _inputs(out: Console, inputs: Sequence[Mapping[str, Any]]) -> None:
    if not inputs:
        return
    heading(out, "Inputs")
    for i in inputs:
        detail = f": {i['detail']}" if i.get("detail") else ""
        line(out, f"  - {i['source']} ({i['kind']}){detail}")


# a task's analysis: analyze's keys at the top, the other advisors' analyses under these keys
_PARTS = {
    "concurrency": "optimize-concurrency",
    "batching": "design-batching",
    "scaling": "scaling-plan",
}


def _task(out: Console, analysis: Mapping[str, Any]) -> None:
    """A task's merged analysis: each advisor's part through its command's sections (analyze's
    part read at the task's understood target), the rest, and any part that does not load as
    its command's record, as a tree."""
    task = analysis.get("task")
    understood = task.get("understood") if isinstance(task, Mapping) else None
    top = {k: v for k, v in analysis.items() if k not in _PARTS and k != "task"}
    if top:
        target = understood.get("target_rps") if isinstance(understood, Mapping) else None
        _part(out, "analyze", {"target_rps": target, "notes": [], **top}, "analysis")
    for key, command in _PARTS.items():
        part = analysis.get(key)
        if isinstance(part, Mapping):
            _part(out, command, part, key)
    if task is not None:
        _other(out, {"task": task})


def _part(out: Console, command: str, part: Mapping[str, Any], key: str) -> None:
    summary = part.get("summary")
    try:
        record = analysis_record(
            {"command": command, "analysis": {k: v for k, v in part.items() if k != "summary"}}
        )
    except InputError:  # not the shape of the command's record: shown as it is
        _other(out, {key: part})
        return
    if isinstance(summary, str) and summary:
        heading(out, f"tpx {command}")
        line(out, summary)
    for section in registry.text_sections(command):
        section(out, record)


def _other(out: Console, rest: Mapping[str, Any]) -> None:
    for key, value in rest.items():
        if value is None:
            continue
        heading(out, label(key).capitalize())
        tree(out, value, "  ")
