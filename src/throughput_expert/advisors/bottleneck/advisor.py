"""``find-bottleneck``: from a profile (and optionally host metrics) to a verdict with evidence.

Sampling law: the share of samples in a category estimates the share of time spent there. The
largest non-idle category names the bottleneck type (``categories.yaml``), its heaviest function
the component. Host metrics, when given, weigh in: a resource over its target or saturated wins;
an idle CPU turns a CPU verdict into the waiting category the profile shows, if it shows one.
Each fix's expected improvement is Amdahl's law on the measured share and the fix's speed-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from throughput_expert.advisors.bottleneck.gil import gil_estimate
from throughput_expert.advisors.bottleneck.profile_stats import (
    FunctionKey,
    ProfileStats,
    function_name,
    hot_paths,
    profile_stats,
)
from throughput_expert.advisors.ledger import Ledger
from throughput_expert.advisors.resources import Headroom, bottleneck_type, headroom
from throughput_expert.laws.amdahl import amdahl_improvement_pct
from throughput_expert.model import BottleneckType, Recommendation, Report, ServiceMetrics
from throughput_expert.model.analysis.bottleneck import (
    Bottleneck,
    BottleneckAnalysis,
    CategoryShare,
    FunctionShare,
    ProfileInfo,
    ThreadShare,
)
from throughput_expert.model.profile import Profile
from throughput_expert.model.settings import Settings
from throughput_expert.model.units import fmt_pct

__all__ = ["FindBottleneckInputs", "advise"]

_PLAN = {"low": "immediate", "medium": "short_term", "high": "long_term"}


@dataclass(frozen=True)
class FindBottleneckInputs:
    profile: Profile
    gil_profile: Profile | None = None
    metrics: ServiceMetrics | None = None
    threads: bool = False


def advise(inputs: FindBottleneckInputs, settings: Settings) -> Report:
    ledger = Ledger()
    p = inputs.profile
    stats = profile_stats(p, settings)
    gil = None
    if inputs.gil_profile is not None:
        ratio = settings.threshold("gil_blocked_ratio")
        gil = gil_estimate(p, inputs.gil_profile, stats, ratio, ledger)
    by_category = gil.by_category if gil else stats.by_category
    active = _active(by_category, settings)
    components = gil.components if gil else {}
    verdict = _profile_verdict(p, stats, by_category, components, active, settings, ledger)
    h = None
    if inputs.metrics is not None:
        m = inputs.metrics
        h = headroom(m, m.throughput_rps, settings, ledger)
        verdict = _combine(verdict, h, by_category, active, settings, ledger)
    recs = _recommendations(by_category, active, settings, ledger)
    analysis = BottleneckAnalysis(
        profile=_profile_info(p),
        bottleneck=verdict,
        categories=_categories(stats, by_category, components, active, settings),
        functions=_functions(stats),
        hot_paths=hot_paths(p, stats),
        on_cpu=_on_cpu(by_category, stats.total, settings) if p.idle_included else None,
        gil=gil.record() if gil is not None else None,
        threads=_threads(p, stats, settings) if inputs.threads else None,
        utilization={v.resource: v.utilization for v in h.views} if h is not None else None,
    )
    return Report(
        command="find-bottleneck",
        summary=_summary(verdict, recs),
        analysis=analysis,
        recommendations=tuple(r for r, _ in recs),
        implementation_plan=_plan(recs),
        evidence=tuple(ledger.evidence),
        assumptions=tuple(ledger.assumptions),
        inputs=(p.source,)
        + ((inputs.gil_profile.source,) if inputs.gil_profile else ())
        + (inputs.metrics.inputs if inputs.metrics else ()),
    )


def _active(by_category: dict[str, float], settings: Settings) -> float:
    """Time that is not sleep or idle: the denominator of every share."""
    return sum(w for c, w in by_category.items() if _counts(c, settings))


def _counts(category: str, settings: Settings) -> bool:
    cat = settings.categories.get(category)
    return cat is None or cat.bottleneck is not None


def _profile_verdict(
    p: Profile,
    stats: ProfileStats,
    by_category: dict[str, float],
    components: dict[str, dict[FunctionKey, float]],
    active: float,
    settings: Settings,
    ledger: Ledger,
) -> Bottleneck:
    candidates = {c: w for c, w in by_category.items() if _counts(c, settings) and w > 0}
    if active <= 0 or not candidates:
        why = "no CPU bottleneck in this profile: it is empty or only idle"
        return Bottleneck(None, None, None, 0.0, why, ())
    top = max(candidates, key=lambda c: candidates[c])
    share = candidates[top] / active
    moved = components.get(top, {})
    func = max(moved, key=lambda k: moved[k]) if moved else stats.top_function(top)
    component = function_name(func) if func else top
    label = settings.categories[top].label if top in settings.categories else top
    eid = ledger.prove(
        f"share-{top}",
        f"{fmt_pct(share)} of active samples are {label}, most in {component}",
        "sampling: the share of samples estimates the share of time",
        {
            "category_weight": candidates[top],
            "active_weight": active,
            "unit": p.unit,
            "measures": p.measures,
        },
        {"share": share, "component": component},
    )
    kind: BottleneckType | None = (
        settings.categories[top].bottleneck if top in settings.categories else "cpu"
    )
    if p.measures in ("mutex-delay", "block-delay", "contentions"):
        kind = "contention"
    elif p.measures == "alloc":
        kind = "memory"
    reason = f"{fmt_pct(share)} of {p.measures} samples in {component}, {label}"
    if top == "compute" and p.idle_included and any(f.kind == "python" for f in p.frames):
        ledger.assume(
            "compute in an --idle Python profile is running code",
            "not verified",
            "py-spy --idle shows a thread blocked in a C call (lock, sleep, socket) at its "
            "caller's line, which reads as compute; add gil_profile (a --gil recording of the "
            "same run) or record with --native to tell them apart",
        )
    return Bottleneck(kind, top, component, share, reason, (eid,))


def _combine(
    v: Bottleneck,
    h: Headroom,
    by_category: dict[str, float],
    active: float,
    settings: Settings,
    ledger: Ledger,
) -> Bottleneck:
    hot = [x for x in h.views if x.scales_with_rate and _is_hot(x, h)]
    if hot:
        top = max(hot, key=lambda x: x.utilization / x.target)
        kind = bottleneck_type(top.resource)
        eid = ledger.prove(
            "combined-resource",
            f"the host's {top.resource} is at {fmt_pct(top.utilization)} (target "
            f"{fmt_pct(top.target)}): the profile shows what drives it",
            "utilization law with saturation targets",
            {"utilization": top.utilization, "target": top.target},
            {"type": kind},
        )
        reason = f"{top.resource} is saturated on the host; the profile's top work: {v.reason}"
        return Bottleneck(kind, v.category, v.component, v.share, reason, (*v.evidence_ids, eid))
    cpu = h.view("cpu")
    busy = settings.threshold("busy_utilization")
    if v.type == "cpu" and cpu is not None and cpu.utilization < busy:
        return _idle_cpu(v, cpu.utilization, by_category, active, settings, ledger)
    return v


def _is_hot(view: Any, h: Headroom) -> bool:
    own = any(s.resource == view.resource for s in h.signals)
    return bool(view.utilization > view.target or own)


def _idle_cpu(
    v: Bottleneck,
    cpu: float,
    by_category: dict[str, float],
    active: float,
    settings: Settings,
    ledger: Ledger,
) -> Bottleneck:
    waits = {
        c: w
        for c, w in by_category.items()
        if c in settings.categories and settings.categories[c].waiting and _counts(c, settings)
    }
    top = max(waits, key=lambda c: waits[c], default=None)
    eid = ledger.prove(
        "combined-idle-cpu",
        f"the host's CPU is only {fmt_pct(cpu)} busy: the profiled CPU work is not what limits "
        "throughput",
        "utilization law: a resource far from saturation does not bound throughput",
        {"cpu_utilization": cpu, "waiting_weights": waits},
        {"waiting_category": top},
    )
    if top is None or waits[top] <= 0:
        reason = (
            f"{v.reason}; but the host CPU is {fmt_pct(cpu)} busy: throughput is limited "
            "by concurrency (too few threads or processes), not by CPU"
        )
        return Bottleneck(
            "contention", v.category, v.component, v.share, reason, (*v.evidence_ids, eid)
        )
    kind = settings.categories[top].bottleneck
    reason = (
        f"the host CPU is {fmt_pct(cpu)} busy and {fmt_pct(waits[top] / active)} of the "
        f"profile is {settings.categories[top].label}"
    )
    return Bottleneck(kind, top, v.component, waits[top] / active, reason, (*v.evidence_ids, eid))


def _recommendations(
    by_category: dict[str, float], active: float, settings: Settings, ledger: Ledger
) -> list[tuple[Recommendation, str]]:
    floor = settings.threshold("profile_min_share")
    out = []
    for category, weight in by_category.items():
        fix = settings.fixes.get(category)
        share = weight / active if active > 0 else 0.0
        if fix is None or share < floor:
            continue
        gain = amdahl_improvement_pct(share, fix.speedup)
        eid = ledger.prove(
            f"amdahl-{category}",
            f"speeding {category} ({fmt_pct(share)} of active time) up {fix.speedup:g}x gives "
            f"{gain:.3g} % more throughput",
            "Amdahl's law: speedup = 1 / ((1 - p) + p / s)",
            {"p": share, "s": fix.speedup},
            {"improvement_pct": gain},
        )
        ledger.assume(
            f"speed-up of the {category} fix",
            fix.speedup,
            f"{fix.source} (confidence: {fix.confidence})",
        )
        rationale = (
            f"{fmt_pct(share)} of active time is {category}; a {fix.speedup:g}x faster "
            f"{category} gives +{gain:.3g} % by Amdahl's law."
        )
        rec = Recommendation(
            fix.optimization, gain, fix.effort, fix.risk, rationale, (eid,), fix.example
        )
        out.append((rec, category))
    out.sort(key=lambda rc: -(rc[0].expected_improvement_pct or 0.0))
    if out:
        ledger.assume(
            "throughput follows time per request on the profiled path",
            "Amdahl",
            "the profiled work is what limits throughput (CPU-bound for a cpu profile; "
            "fixed concurrency for a wall-clock one)",
        )
    return out


def _plan(recs: list[tuple[Recommendation, str]]) -> dict[str, list[str]]:
    plan: dict[str, list[str]] = {"immediate": [], "short_term": [], "long_term": []}
    for rec, _ in recs:
        gain = rec.expected_improvement_pct
        plan[_PLAN[rec.effort]].append(rec.optimization + (f" (+{gain:.0f} %)" if gain else ""))
    return plan


def _categories(
    stats: ProfileStats,
    by_category: dict[str, float],
    components: dict[str, dict[FunctionKey, float]],
    active: float,
    settings: Settings,
) -> tuple[CategoryShare, ...]:
    rows = []
    for name in sorted(by_category, key=lambda c: -by_category[c]):
        cat = settings.categories.get(name)
        moved = components.get(name, {})
        top = max(moved, key=lambda k: moved[k]) if moved else stats.top_function(name)
        rows.append(
            CategoryShare(
                category=name,
                label=cat.label if cat else name,
                share=stats.share(by_category[name]),
                share_of_active=(
                    by_category[name] / active if active > 0 and _counts(name, settings) else None
                ),
                waiting=cat.waiting if cat else False,
                bottleneck_type=cat.bottleneck if cat else "cpu",
                top_function=function_name(top) if top else None,
            )
        )
    return tuple(rows)


def _functions(stats: ProfileStats, limit: int = 15) -> tuple[FunctionShare, ...]:
    top = sorted(stats.self_by_function, key=lambda k: -stats.self_by_function[k])[:limit]
    return tuple(
        FunctionShare(
            function=function_name(k),
            name=k[0],
            file=k[1],
            self_share=stats.share(stats.self_by_function[k]),
            total_share=stats.share(stats.total_by_function.get(k, 0.0)),
        )
        for k in top
    )


def _on_cpu(by_category: dict[str, float], total: float, settings: Settings) -> float | None:
    if total <= 0:
        return None
    waiting = sum(
        w
        for c, w in by_category.items()
        if c in settings.categories and settings.categories[c].waiting
    )
    return 1 - waiting / total


def _threads(p: Profile, stats: ProfileStats, settings: Settings) -> tuple[ThreadShare, ...]:
    rows = []
    for thread, cats in stats.by_thread.items():
        weight = sum(cats.values())
        busy = {c: w for c, w in cats.items() if _counts(c, settings)}
        rows.append(
            ThreadShare(
                thread=thread,
                name=p.thread_names.get(thread or "", "") if thread else "",
                share=stats.share(weight),
                top_category=max(busy, key=lambda c: busy[c]) if busy else "sleep_idle",
                on_cpu=_on_cpu(cats, weight, settings),
            )
        )
    return tuple(sorted(rows, key=lambda r: -r.share))


def _profile_info(p: Profile) -> ProfileInfo:
    return ProfileInfo(
        format=p.format,
        exporter=p.exporter,
        measures=p.measures,
        unit=p.unit,
        total=p.total(),
        stacks=len(p.stacks),
        idle_included=p.idle_included,
        duration=p.duration_s,
        notes=tuple(p.notes),
    )


def _summary(v: Bottleneck, recs: list[tuple[Recommendation, str]]) -> str:
    if v.type is None:
        return "No CPU bottleneck in this profile: it is empty or only idle."
    text = f"Bottleneck: {v.type} — {v.reason}"
    if recs:
        rec = recs[0][0]
        first = rec.optimization[0].lower() + rec.optimization[1:]
        text += f". First: {first} (+{rec.expected_improvement_pct:.0f} %)"
    return text + "."
