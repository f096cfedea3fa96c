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
from throughput_expert.render.base import Renderer, analysis_record
from throughput_expert.render.text_common import WIDTH, heading, line, num, tree

__all__ = ["TextRenderer"]


class TextRenderer(Renderer):
    name = "text"

    def render(self, report: Report) -> str:
        doc = report.to_dict()
        buf = io.StringIO()
        out = Console(
            file=buf,
            width=WIDTH,
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
            out.print(f"      | {code}", markup=False, overflow="ignore", crop=False)


def _plan(out: Console, plan: Mapping[str, Sequence[str]]) -> None:
    if not any(plan.values()):
        return
    heading(out, "Implementation plan")
    for key in ("immediate", "short_term", "long_term"):
        for item in plan.get(key, []):
            line(out, f"  [{key.replace('_', ' ')}] {item}")


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
