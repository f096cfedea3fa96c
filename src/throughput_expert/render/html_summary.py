"""The top of the HTML page: the verdict, the key figures, the first action; then the
recommendations and the implementation plan.

Key figures come from each command's registered ``figures`` function over its typed record
(``render/text_*.py``); a task's merged analysis (no record) shows the figures whose keys it has.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from throughput_expert import registry
from throughput_expert.model.analysis.common import PlanRecord
from throughput_expert.model.report_json import plan_from_dict
from throughput_expert.model.units import fmt_duration, fmt_factor, fmt_pct, fmt_rate
from throughput_expert.render.base import analysis_record
from throughput_expert.render.html_common import (
    MAX_ROWS,
    Figure,
    bottleneck_figure,
    dig,
    esc,
    evidence_links,
    more_rows,
    prose,
    words,
)

__all__ = ["first_action", "key_figures", "plan", "recommendations"]

JSON = Any


def key_figures(doc: Mapping[str, JSON]) -> str:
    """The command's key figures (its registered ``figures`` of its typed record; a task's
    merged analysis: the figures whose keys are there), as a row of cards (empty when none)."""
    record = analysis_record(doc)
    found: list[Figure]
    if record is not None:
        unit = registry.unit(str(doc["command"]))
        figures = registry.resolve(unit.figures) if unit is not None and unit.figures else None
        found = list(figures(record)) if figures is not None else []
    else:
        a = doc.get("analysis") or {}
        found = [f for fact in _FACTS if (f := fact(a)) is not None]
    if not found:
        return ""
    cards = "".join(
        f'<div class="card"><div class="k">{esc(k)}</div><div class="v">{prose(v)}</div>'
        + (f'<div class="n">{prose(n)}</div>' if n else "")
        + "</div>"
        for k, v, n in found
    )
    return f'<section class="figures">{cards}</section>'


def _bottleneck(a: Mapping[str, JSON]) -> Figure | None:
    b = a.get("bottleneck")
    if not isinstance(b, Mapping):
        return None
    place = b.get("resource") or b.get("category")
    return bottleneck_figure(b.get("type"), place, b.get("component"))


def _now(a: Mapping[str, JSON]) -> Figure | None:
    rps = dig(a, "current_throughput", "rps")
    rps = a.get("current_throughput_rps") if rps is None else rps
    rps = a.get("entry_rate_rps") if rps is None else rps
    return None if rps is None else ("Throughput now", fmt_rate(rps), "")


def _ceiling(a: Mapping[str, JSON]) -> Figure | None:
    ceiling = dig(a, "headroom", "ceiling_rps")
    if ceiling is None:
        return None
    binding = dig(a, "headroom", "binding_resource")
    note = f"at {words(binding)}'s saturation target" if binding else ""
    return "Ceiling", fmt_rate(ceiling), note


def _first_to_saturate(a: Mapping[str, JSON]) -> Figure | None:
    order: Sequence[Mapping[str, JSON]] = a.get("saturation_order") or []
    if not order:
        return None
    first = order[0]
    return (
        "Saturates first",
        str(first.get("component")),
        f"at {fmt_rate(first.get('saturates_at_entry_rps'))} ({words(first.get('binding'))})",
    )


def _cpu_ceiling(a: Mapping[str, JSON]) -> Figure | None:
    value = a.get("cpu_ceiling_rps")
    return None if value is None else ("CPU ceiling", fmt_rate(value), "")


def _target(a: Mapping[str, JSON]) -> Figure | None:
    value = a.get("target_rps")
    if value is None:
        return None
    reach = a.get("target_reachable", a.get("feasible"))
    note = (
        {True: "reachable", False: "not reachable as is"}.get(reach, "")
        if reach is not None
        else ""
    )
    return "Target", fmt_rate(value), note


def _pools(a: Mapping[str, JSON]) -> Figure | None:
    pools: Sequence[Mapping[str, JSON]] = a.get("pools") or []
    if not pools:
        return None
    sizes = " · ".join(f"{p.get('pool')} {p.get('threads')}" for p in pools)
    given = [p.get("current_threads") for p in pools]
    now = " · ".join(
        f"{p.get('pool')} {n if n is not None else 'not given'}"
        for p, n in zip(pools, given, strict=True)
    )
    return "Pools (threads)", sizes, f"now: {now}"


def _usl(a: Mapping[str, JSON]) -> Figure | None:
    u = a.get("usl")
    if not isinstance(u, Mapping) or not u.get("available"):
        return None
    peak, n = u.get("peak_throughput_rps"), u.get("peak_concurrency")
    if peak is not None and n is not None:
        return (
            "USL peak",
            fmt_rate(peak),
            f"at N = {n:.3g}; recommended N = {u.get('recommended_concurrency')}",
        )
    return "USL asymptote", fmt_rate(u.get("asymptote_rps")), "no retrograde region"


def _batch(a: Mapping[str, JSON]) -> Figure | None:
    size = a.get("batch_size")
    if size is None:
        return None
    flush = a.get("flush_interval_ms")
    note = f"flush after {fmt_duration(flush / 1e3)}" if flush is not None else ""
    if a.get("concurrency") is not None:
        note += f", {a['concurrency']} in flight"
    return "Batch", f"{size} items", note


def _expected(a: Mapping[str, JSON]) -> Figure | None:
    value = a.get("expected_throughput_rps")
    if value is None:
        return None
    gain = a.get("gain_vs_current")
    return "Expected", fmt_rate(value), f"{fmt_factor(gain)} today" if gain is not None else ""


def _on_cpu(a: Mapping[str, JSON]) -> Figure | None:
    value = a.get("on_cpu_pct")
    return None if value is None else ("On CPU", fmt_pct(value / 100), "of profiled samples")


_FACTS: tuple[Callable[[Mapping[str, JSON]], Figure | None], ...] = (
    _bottleneck,
    _now,
    _ceiling,
    _first_to_saturate,
    _cpu_ceiling,
    _usl,
    _pools,
    _batch,
    _expected,
    _target,
    _on_cpu,
)


def first_action(doc: Mapping[str, JSON]) -> str:
    """The first recommendation (or the first immediate step), highlighted."""
    recs: Sequence[Mapping[str, JSON]] = doc.get("recommendations") or []
    if recs:
        text, gain = recs[0]["optimization"], _gain(recs[0].get("expected_improvement_pct"))
    else:
        steps = dig(doc, "implementation_plan", "immediate") or []
        if not steps:
            return ""
        text, gain = steps[0], ""
    extra = f' <span class="gain">{esc(gain)}</span>' if gain else ""
    return f'<p class="first"><span class="k">First action</span> {prose(text)}{extra}</p>'


def _gain(pct: float | None) -> str:
    if pct is None:
        return ""
    sign = "+" if pct > 0 else ""
    return f"{sign}{fmt_pct(pct / 100)} throughput"


def recommendations(recs: Sequence[Mapping[str, JSON]]) -> str:
    if not recs:
        return ""
    items = "".join(_recommendation(r) for r in recs[:MAX_ROWS])
    more = more_rows(min(len(recs), MAX_ROWS), len(recs), "recommendations")
    return f'<section><h2>Recommendations</h2><ol class="recs">{items}</ol>{more}</section>'


def _recommendation(r: Mapping[str, JSON]) -> str:
    gain = _gain(r.get("expected_improvement_pct")) or "gain not quantified"
    chips = (
        f'<span class="chip gain">{esc(gain)}</span>'
        f'<span class="chip lvl-{esc(r["effort"])}">effort {esc(r["effort"])}</span>'
        f'<span class="chip lvl-{esc(r["risk"])}">risk {esc(r["risk"])}</span>'
    )
    ids = r.get("evidence_ids") or []
    evidence = f'<span class="ev-links">evidence: {evidence_links(ids)}</span>' if ids else ""
    example = r.get("example")
    code = f"<pre><code>{esc(example)}</code></pre>" if example else ""
    return (
        f'<li><div class="rec-title">{prose(r["optimization"])}</div>'
        f'<div class="chips">{chips}{evidence}</div>'
        f"<p>{prose(r['rationale'])}</p>{code}</li>"
    )


def plan(doc: Mapping[str, Any]) -> str:
    """The verdict of the steps to the target (when the command planned) and their table, one
    click away; then the horizons (immediate, short term, long term)."""
    horizons = (("immediate", "Now"), ("short_term", "Short term"), ("long_term", "Long term"))
    found = plan_from_dict(doc)
    if found is None and not any(doc.get(key) for key, _ in horizons):
        return ""
    cols = "".join(
        f"<div><h3>{esc(title)}</h3><ul>"
        + "".join(f"<li>{prose(s)}</li>" for s in doc[key][:MAX_ROWS])
        + "</ul>"
        + more_rows(min(len(doc[key]), MAX_ROWS), len(doc[key]), "steps")
        + "</div>"
        for key, title in horizons
        if doc.get(key)
    )
    steps = _steps(found) if found is not None else ""
    return f'<section><h2>Implementation plan</h2>{steps}<div class="plan">{cols}</div></section>'


def _steps(p: PlanRecord) -> str:
    """The plan as a table: step, change, projected throughput (the ceiling at the saturation
    targets, and at 100 %), binding resource, gain, and how busy each station is after it."""
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "Step",
            "Change",
            "Projected throughput",
            "Binding resource",
            "Gain",
            "Busy after the step",
        )
    )

    def projected(ceiling: float, full: float | None) -> str:
        at_full = f'<div class="sub">{esc(fmt_rate(full))} at 100 %</div>' if full else ""
        return f"<td>{esc(fmt_rate(ceiling))}{at_full}</td>"

    body = (
        f"<tr><td>today</td><td>–</td>{projected(p.ceiling_today, p.capacity_today)}"
        f"<td>{esc(words(p.binding_today))}</td><td>–</td><td></td></tr>"
    )
    for i, s in enumerate(p.steps, 1):
        used = ", ".join(f"{words(k)} {fmt_pct(v)}" for k, v in s.utilization.items())
        body += (
            f"<tr><td>{i}</td><td>{prose(s.what)}</td>{projected(s.ceiling, s.capacity)}"
            f"<td>{esc(words(s.binding))}</td><td>{esc(_step_gain(s.gain))}</td>"
            f"<td>{esc(used)} at {esc(fmt_rate(s.rate))}</td></tr>"
        )
    if p.reaches_target:
        verdict = f"Reaches {fmt_rate(p.target)} with every station at or under its target."
    else:
        verdict = f"Does not reach {fmt_rate(p.target)}: capped by {p.cap}."
        if p.lift:
            verdict += f" To lift it: {p.lift}."
    table = f'<table class="grid steps"><tr>{head}</tr>{body}</table>'
    return (
        f'<p class="verdict">{prose(verdict)}</p>'
        f'<details id="plan-steps"><summary>The plan step by step ({len(p.steps)} '
        f"step{'' if len(p.steps) == 1 else 's'})</summary>{table}</details>"
    )


def _step_gain(gain: float) -> str:
    return f"+{fmt_pct(gain)}" if gain > 0 else fmt_pct(gain)
