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
from throughput_expert.model.units import fmt_count, fmt_duration, fmt_factor, fmt_pct, fmt_rate
from throughput_expert.render.base import analysis_record
from throughput_expert.render.html_common import Figure, dig, esc, evidence_links

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
        f'<div class="card"><div class="k">{esc(k)}</div><div class="v">{esc(v)}</div>'
        + (f'<div class="n">{esc(n)}</div>' if n else "")
        + "</div>"
        for k, v, n in found
    )
    return f'<section class="figures">{cards}</section>'


def _bottleneck(a: Mapping[str, JSON]) -> Figure | None:
    b = a.get("bottleneck")
    if not isinstance(b, Mapping):
        return None
    what = str(b.get("type") or "none found")
    place = b.get("resource") or b.get("category")
    if place and place != what:
        what += f" ({place})"
    where = f"in {b['component']}" if b.get("component") else ""
    return "Bottleneck", what, where


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
    return "Ceiling", fmt_rate(ceiling), f"at {binding}'s saturation target" if binding else ""


def _first_to_saturate(a: Mapping[str, JSON]) -> Figure | None:
    order: Sequence[Mapping[str, JSON]] = a.get("saturation_order") or []
    if not order:
        return None
    first = order[0]
    return (
        "Saturates first",
        str(first.get("component")),
        f"at {fmt_rate(first.get('saturates_at_entry_rps'))} ({first.get('binding')})",
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
    now = " · ".join(f"{p.get('pool')} {p.get('current_threads')}" for p in pools)
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
    return f'<p class="first"><span class="k">First action</span> {esc(text)}{extra}</p>'


def _gain(pct: float | None) -> str:
    if pct is None:
        return ""
    sign = "+" if pct > 0 else ""
    return f"{sign}{fmt_pct(pct / 100)} throughput"


def recommendations(recs: Sequence[Mapping[str, JSON]]) -> str:
    if not recs:
        return ""
    items = "".join(_recommendation(r) for r in recs)
    return f'<section><h2>Recommendations</h2><ol class="recs">{items}</ol></section>'


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
        f'<li><div class="rec-title">{esc(r["optimization"])}</div>'
        f'<div class="chips">{chips}{evidence}</div>'
        f"<p>{esc(r['rationale'])}</p>{code}</li>"
    )


def plan(doc: Mapping[str, Any]) -> str:
    """The steps to the target (when the command planned), then the horizons."""
    horizons = ("immediate", "short_term", "long_term")
    found = plan_from_dict(doc)
    if found is None and not any(doc.get(key) for key in horizons):
        return ""
    cols = "".join(
        f"<div><h3>{esc(key.replace('_', ' ').capitalize())}</h3><ul>"
        + "".join(f"<li>{esc(s)}</li>" for s in doc.get(key, []))
        + "</ul></div>"
        for key in horizons
        if doc.get(key)
    )
    steps = _steps(found) if found is not None else ""
    return f'<section><h2>Implementation plan</h2>{steps}<div class="plan">{cols}</div></section>'


def _steps(p: PlanRecord) -> str:
    head = "".join(
        f"<th>{h}</th>"
        for h in ("Step", "Change", "Ceiling", "At 100 %", "Binding", "Gain", "Utilization")
    )

    def row(step: str, what: str, ceiling: float, full: float | None, binding: str) -> str:
        at_full = fmt_count(full) if full is not None else "-"
        return (
            f"<td>{esc(step)}</td><td>{esc(what)}</td><td>{esc(fmt_count(ceiling))} rps</td>"
            f"<td>{esc(at_full)}</td><td>{esc(binding)}</td>"
        )

    body = f"<tr>{row('today', '-', p.ceiling_today, p.capacity_today, p.binding_today)}"
    body += "<td>-</td><td></td></tr>"
    for i, s in enumerate(p.steps, 1):
        used = ", ".join(f"{k} {fmt_pct(v)}" for k, v in s.utilization.items())
        body += (
            f"<tr>{row(str(i), s.what, s.ceiling, s.capacity, s.binding)}"
            f"<td>{esc(fmt_pct(s.gain))}</td>"
            f"<td>{esc(used)} at {esc(fmt_count(s.rate))} rps</td></tr>"
        )
    if p.reaches_target:
        verdict = f"Reaches {fmt_count(p.target)} rps with every station at or under its target."
    else:
        verdict = f"Does not reach {fmt_count(p.target)} rps: capped by {p.cap}."
        if p.lift:
            verdict += f" To lift it: {p.lift}."
    return (
        f'<div class="scroll"><table class="grid"><tr>{head}</tr>{body}</table></div>'
        f"<p>{esc(verdict)}</p>"
    )
