"""The terminal renderer: the Report as readable text (rich tables, no colour in files).

It reads the Report's JSON form, so a saved report renders the same as a fresh one: the analysis
is loaded back into the command's typed record, and the command's text sections (registered with
it, ``render/text_*.py``) print it. A task's merged analysis has no record and shows as a tree.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console

from throughput_expert import registry
from throughput_expert.model import Report
from throughput_expert.model.analysis.common import PlanRecord
from throughput_expert.model.report_json import plan_from_dict
from throughput_expert.model.units import fmt_count, fmt_duration, fmt_pct
from throughput_expert.render.base import Renderer, analysis_record
from throughput_expert.render.text_common import (
    WIDTH,
    heading,
    line,
    num,
    table,
    text_width,
    tree,
    width,
)

__all__ = ["TextRenderer"]


class TextRenderer(Renderer):
    name = "text"

    def __init__(self, width: int | None = None) -> None:
        self.width = width or WIDTH

    def render(self, report: Report) -> str:
        with text_width(self.width):
            return self._render(report)

    def _render(self, report: Report) -> str:
        doc = report.to_dict()
        buf = io.StringIO()
        out = Console(
            file=buf,
            width=max(60, self.width),
            no_color=True,
            highlight=False,
            emoji=False,
            force_terminal=False,
            force_jupyter=False,
            legacy_windows=False,
        )
        out.print(f"tpx {doc['command']}", markup=False)
        out.print(doc["summary"], markup=False)
        record = analysis_record(doc)
        if record is not None:
            for section in registry.text_sections(doc["command"]):
                section(out, record)
        else:  # a task's merged analysis: shown as a tree
            _other(out, {k: v for k, v in doc["analysis"].items() if v is not None})
        _recommendations(out, doc["recommendations"])
        _plan(out, doc["implementation_plan"])
        _evidence(out, doc["evidence"], doc["assumptions"], doc["inputs"])
        return "\n".join(ln.rstrip() for ln in buf.getvalue().splitlines()) + "\n"


def _recommendations(out: Console, recs: Sequence[Mapping[str, Any]]) -> None:
    if not recs:
        return
    heading(out, "Recommendations")
    for i, r in enumerate(recs, 1):
        gain = r.get("expected_improvement_pct")
        gain_text = f"{gain:+.0f} %" if gain is not None else "not quantified"
        line(out, f"{i:>2}. {r['optimization']}")
        line(
            out,
            f"    {gain_text} · effort {r['effort']} · risk {r['risk']}"
            + (f" · evidence {', '.join(r['evidence_ids'])}" if r["evidence_ids"] else ""),
        )
        line(out, f"    {r['rationale']}")
        for code in (r.get("example") or "").splitlines():
            _code(out, code)


def _code(out: Console, code: str) -> None:
    """A line of an example, folded at the width under a ``|`` gutter (``↪`` marks the fold)."""
    first, rest = "      | ", "      |   ↪ "
    room = width() - len(first)
    pieces = [code[:room]]
    code = code[room:]
    while code:
        pieces.append(code[: width() - len(rest)])
        code = code[width() - len(rest) :]
    out.print(first + pieces[0], markup=False, overflow="ignore", crop=False)
    for piece in pieces[1:]:
        out.print(rest + piece, markup=False, overflow="ignore", crop=False)


def _plan(out: Console, plan: Mapping[str, Any]) -> None:
    steps = plan_from_dict(plan)
    horizons = ("immediate", "short_term", "long_term")
    if steps is None and not any(plan.get(key) for key in horizons):
        return
    heading(out, "Implementation plan")
    if steps is not None:
        _steps(out, steps)
    for key in horizons:
        for item in plan.get(key, []):
            line(out, f"  [{key.replace('_', ' ')}] {item}")


def _steps(out: Console, p: PlanRecord) -> None:
    line(
        out,
        f"  Steps to {fmt_count(p.target)} rps, each a change to the system model (ceiling: "
        "every limit at its saturation target; at 100 %: every limit saturated)",
    )
    rows = table("step", "change", "ceiling", "at 100 %", "binding", "gain")
    at_full = fmt_count(p.capacity_today) if p.capacity_today is not None else "-"
    rows.add_row("today", "-", fmt_count(p.ceiling_today), at_full, p.binding_today, "-")
    for i, s in enumerate(p.steps, 1):
        full = fmt_count(s.capacity) if s.capacity is not None else "-"
        rows.add_row(str(i), s.what, fmt_count(s.ceiling), full, s.binding, fmt_pct(s.gain))
    out.print(rows)
    for i, s in enumerate(p.steps, 1):
        used = ", ".join(f"{k} {fmt_pct(v)}" for k, v in s.utilization.items())
        line(out, f"  after step {i}, at {fmt_count(s.rate)} rps: {used}")
        if s.batch_delay is not None:
            line(
                out,
                f"    the batch adds up to {fmt_duration(s.batch_delay)} to an item's latency "
                "there (filling it, then writing it)",
            )
    if p.reaches_target:
        line(out, f"  reaches {fmt_count(p.target)} rps with every station at or under its target")
    else:
        line(out, f"  does not reach {fmt_count(p.target)} rps: capped by {p.cap}")
        if p.lift:
            line(out, f"  to lift it: {p.lift}")
    out.print()


def _evidence(
    out: Console,
    evidence: Sequence[Mapping[str, Any]],
    assumptions: Sequence[Mapping[str, Any]],
    inputs: Sequence[Mapping[str, Any]],
) -> None:
    if evidence:
        heading(out, "Evidence")
        for e in evidence:
            line(out, f"  [{e['id']}] {e['claim']}")
            line(out, f"      {e['law']}")
    if assumptions:
        heading(out, "Assumptions")
        for a in assumptions:
            line(out, f"  - {a['what']}: {num(a['value'])} ({a['why']})")
    if inputs:
        heading(out, "Inputs")
        for i in inputs:
            line(out, f"  {i['source']} ({i['kind']}) {i.get('detail', '')}")


def _other(out: Console, rest: Mapping[str, Any]) -> None:
    for key, value in rest.items():
        heading(out, key.replace("_", " ").capitalize())
        tree(out, value, "  ")
