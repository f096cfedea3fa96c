"""``find-bottleneck``: from a profile (and optionally host metrics) to a verdict with evidence.

Sampling law: the share of samples in a category estimates the share of time spent there. Each
sample gets a thread state from its frames (``states``, ``thread_states.yaml``: running, lock
wait, GIL wait, network or disk wait, sleep, idle); only states that limit throughput count
(idle pools, joins, sleeps do not). The largest counting category names the bottleneck type
(``categories.yaml``), its heaviest site (the program's own line) the component. What a sample
means (on-CPU, wall clock) decides what a share is of: a CPU fix is priced by Amdahl's law on
CPU time only, and not at all when the process's measured CPU says CPU is not what limits.
Profiles that are not samples of threads (snapshots, allocations, delays) get their verdict from
``kinds.kind_verdict``. Host metrics, when given, weigh in: a resource over its target or
saturated wins; an idle CPU turns a CPU verdict into the waiting category the profile shows;
another resource that reaches its target first (analyze's binding one) is the verdict, with the
profile's finding beside it; and each fix is priced on the system model of those metrics
(``on_model``) instead of by Amdahl's law alone.
Fixes are offered in the profile's language (``runtimes`` in fixes.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from throughput_expert.advisors.bottleneck.gil import gil_estimate
from throughput_expert.advisors.bottleneck.kinds import kind_verdict
from throughput_expert.advisors.bottleneck.on_model import (
    HostModel,
    host_model,
    price_off_model,
    price_speedup,
)
from throughput_expert.advisors.bottleneck.profile_stats import (
    FunctionKey,
    ProfileStats,
    function_name,
    hot_paths,
    profile_stats,
)
from throughput_expert.advisors.bottleneck.states import (
    RUNNING,
    SampleStates,
    frame_site,
    profile_runtime,
    sample_states,
)
from throughput_expert.advisors.ledger import Ledger
from throughput_expert.advisors.resources import (
    Headroom,
    ResourceView,
    bottleneck_type,
    headroom,
)
from throughput_expert.laws.amdahl import amdahl_improvement_pct
from throughput_expert.model import BottleneckType, Recommendation, Report, ServiceMetrics
from throughput_expert.model.analysis.bottleneck import (
    Bottleneck,
    BottleneckAnalysis,
    CategoryShare,
    FunctionShare,
    ProfileInfo,
    StateShare,
    ThreadShare,
)
from throughput_expert.model.profile import Profile
from throughput_expert.model.settings import Fix, Settings
from throughput_expert.model.units import fmt_pct, fmt_rate

__all__ = ["FindBottleneckInputs", "advise"]

_PLAN = {"low": "immediate", "medium": "short_term", "high": "long_term"}
# Samples that did not run Python, read from an --idle profile without native frames, get the
# fix of waits in a C call: find what they wait on (--native), then shorten it.
_FIX_OF = {"hidden_wait": "blocked"}


@dataclass(frozen=True)
class FindBottleneckInputs:
    profile: Profile
    gil_profile: Profile | None = None
    metrics: ServiceMetrics | None = None
    threads: bool = False


@dataclass
class _Weights:
    """Where the time goes after the GIL and hidden-wait estimates: weight per category, per
    state, and the sites (frame indices) or functions that decide each category."""

    by_category: dict[str, float]
    by_state: dict[str, float]
    sites: dict[str, dict[int, float]]
    components: dict[str, dict[FunctionKey, float]]


def advise(inputs: FindBottleneckInputs, settings: Settings) -> Report:
    ledger = Ledger()
    p = inputs.profile
    runtime = profile_runtime(p)
    states = sample_states(p, settings)
    p = _mode_from_frames(p, states, settings)
    stats = profile_stats(p, settings, states)
    w = _Weights(dict(stats.by_category), _by_state(stats, states), stats.sites_by_category, {})
    gil = None
    if inputs.gil_profile is not None:
        ratio = settings.threshold("gil_blocked_ratio")
        gil = gil_estimate(p, inputs.gil_profile, stats, ratio, ledger)
        _apply_gil(w, gil.by_category, stats)
        w.components = gil.components
    elif p.idle_included and not states.native and runtime == "python":
        _hidden_waits(p, stats, w, ledger)
    active = _active(w.by_category, settings)
    kind = kind_verdict(p, settings, ledger)
    h = None
    if kind is not None:
        verdict = kind.bottleneck
        recs = list(kind.recommendations)
    else:
        verdict = _profile_verdict(p, stats, w, active, settings, ledger)
        host = None
        if inputs.metrics is not None:
            m = inputs.metrics
            h = headroom(m, m.throughput_rps, settings, ledger)
            verdict = _combine(verdict, h, w.by_category, active, settings, ledger)
            host = host_model(m, settings)
        recs = _recommendations(p, w.by_category, active, runtime, h, host, settings, ledger)
    if h is None and inputs.metrics is not None:
        h = headroom(inputs.metrics, inputs.metrics.throughput_rps, settings, ledger)
    analysis = BottleneckAnalysis(
        profile=_profile_info(p, runtime),
        bottleneck=verdict,
        categories=_categories(stats, w, active, settings),
        functions=_functions(stats),
        hot_paths=hot_paths(p, stats),
        on_cpu=_on_cpu(w.by_category, stats.total, settings) if p.idle_included else None,
        gil=gil.record() if gil is not None else None,
        threads=_threads(p, stats, settings) if inputs.threads else None,
        utilization={v.resource: v.utilization for v in h.views} if h is not None else None,
        states=_states(p, stats, states, w, settings),
        waits=kind.census if kind is not None else None,
    )
    return Report(
        command="find-bottleneck",
        summary=_summary(verdict, recs, h),
        analysis=analysis,
        recommendations=tuple(r for r, _ in recs),
        implementation_plan=_plan(recs, horizons=kind is not None),
        evidence=tuple(ledger.evidence),
        assumptions=tuple(ledger.assumptions),
        inputs=(p.source,)
        + ((inputs.gil_profile.source,) if inputs.gil_profile else ())
        + (inputs.metrics.inputs if inputs.metrics else ()),
    )


def _mode_from_frames(p: Profile, states: SampleStates, settings: Settings) -> Profile:
    """A py-spy file does not record --idle: the reader reads it from the threads' sample
    counts; where that says on-CPU, the frames may still show many waiting threads, which
    py-spy without --idle drops. Then the profile is wall clock, and the notes say why."""
    if p.idle_included or p.measures != "cpu" or not (p.exporter or "").startswith("py-spy"):
        return p
    total = p.total()
    waiting = {s: x for s, x in states.by_state.items() if s != RUNNING and x > 0}
    share = sum(waiting.values()) / total if total > 0 else 0.0
    if share < settings.threshold("idle_wait_share"):
        return p
    named = ", ".join(
        f"{s} {fmt_pct(x / total)}" for s, x in sorted(waiting.items(), key=lambda kv: -kv[1])
    )
    note = (
        f"py-spy: read as --idle (wall clock) from its frames: {fmt_pct(share)} of the samples "
        f"are threads waiting or idle ({named}), which py-spy without --idle drops"
    )
    notes = tuple(n for n in p.notes if not n.startswith("py-spy: assumed recorded without"))
    return replace(p, measures="wall", idle_included=True, notes=(*notes, note))


def _by_state(stats: ProfileStats, states: SampleStates) -> dict[str, float]:
    out: dict[str, float] = {}
    if not stats.stack_states:
        return dict(states.by_state)
    for state, weight in zip(stats.stack_states, stats.stack_weights, strict=True):
        out[state] = out.get(state, 0.0) + weight
    return out


def _apply_gil(w: _Weights, by_category: dict[str, float], stats: ProfileStats) -> None:
    """The GIL estimate moved weight between categories: the states follow (gil -> gil_wait,
    blocked -> blocked), taken from the running state."""
    w.by_category = dict(by_category)
    for category, state in (("gil", "gil_wait"), ("blocked", "blocked")):
        moved = by_category.get(category, 0.0) - stats.by_category.get(category, 0.0)
        if moved > 0:
            w.by_state[RUNNING] = max(0.0, w.by_state.get(RUNNING, 0.0) - moved)
            w.by_state[state] = w.by_state.get(state, 0.0) + moved


def _hidden_waits(p: Profile, stats: ProfileStats, w: _Weights, ledger: Ledger) -> None:
    """CPython runs one thread's bytecode at a time: in an --idle profile without native frames,
    samples of running Python beyond one thread's worth per tick were waiting (for the GIL, or
    in a C call the frames do not show). Each running sample is taken as equally likely to be the
    one running: the excess moves to ``hidden_wait`` in proportion, site by site."""
    per_thread: dict[str | None, float] = {}
    for weight, thread in zip(p.weights, p.threads, strict=True):
        per_thread[thread] = per_thread.get(thread, 0.0) + weight
    ticks = max(per_thread.values(), default=0.0)
    running = {
        c: x
        for c, x in w.by_category.items()
        if c not in ("sleep_idle", "hidden_wait") and _running_weight(stats, c) > 0
    }
    python_running = sum(_running_weight(stats, c) for c in running)
    if len(per_thread) < 2 or ticks <= 0 or python_running <= ticks * 1.1:
        return
    keep = ticks / python_running
    moved = 0.0
    hidden_sites: dict[int, float] = {}
    for category in running:
        part = _running_weight(stats, category) * (1 - keep)
        w.by_category[category] -= part
        moved += part
        for site, x in stats.sites_by_category.get(category, {}).items():
            share = x / max(stats.by_category.get(category, 0.0), 1e-300)
            hidden_sites[site] = hidden_sites.get(site, 0.0) + part * share
            w.sites[category] = {
                k: v * (1 - part / max(stats.by_category[category], 1e-300))
                for k, v in w.sites.get(category, {}).items()
            }
    w.by_category["hidden_wait"] = w.by_category.get("hidden_wait", 0.0) + moved
    w.sites["hidden_wait"] = hidden_sites
    w.by_state[RUNNING] = max(0.0, w.by_state.get(RUNNING, 0.0) - moved)
    w.by_state["blocked"] = w.by_state.get("blocked", 0.0) + moved
    ledger.prove(
        "hidden-waits",
        f"{fmt_pct(moved / max(stats.total, 1e-300))} of the samples are at Python lines beyond "
        "one thread's worth per tick: they were not running Python (waiting for the GIL or in a "
        "C call: a lock, a sleep, I/O, or native work without the GIL)",
        "CPython runs one thread's bytecode at a time: running-Python samples <= ticks",
        {"running_python_weight": python_running, "ticks_weight": ticks},
        {"moved_weight": moved, "kept_share": keep},
    )
    ledger.assume(
        "which of the Python-line samples were running",
        "each equally likely",
        "py-spy --idle without --native shows a thread blocked in a C call at its Python line; "
        "record with --native (take_gil, PyThread_acquire_lock_timed, recv) or add a --gil "
        "recording of the same run to tell GIL waits from lock, sleep and I/O waits",
    )


def _running_weight(stats: ProfileStats, category: str) -> float:
    """The weight of ``category``'s running samples whose leaf is a Python line."""
    return stats.python_running.get(category, 0.0)


def _active(by_category: dict[str, float], settings: Settings) -> float:
    """Time that is not sleep or idle: the denominator of every share."""
    return sum(w for c, w in by_category.items() if _counts(c, settings))


def _counts(category: str, settings: Settings) -> bool:
    cat = settings.categories.get(category)
    return cat is None or cat.bottleneck is not None


def _basis(p: Profile) -> str:
    """What the verdict's shares are of, from what the profile measures."""
    if p.measures == "cpu":
        return "on-CPU samples"
    if p.measures == "wall" or p.idle_included:
        return "active wall time (idle and sleeping threads left out)"
    if p.measures == "gil":
        return "GIL-holding samples"
    if p.measures == "unknown":
        return "the samples (the file does not say whether on-CPU or wall-clock)"
    return f"{p.measures} samples"


def _profile_verdict(
    p: Profile,
    stats: ProfileStats,
    w: _Weights,
    active: float,
    settings: Settings,
    ledger: Ledger,
) -> Bottleneck:
    candidates = {c: x for c, x in w.by_category.items() if _counts(c, settings) and x > 0}
    if active <= 0 or not candidates:
        return _nothing(p, w, stats, settings, ledger)
    top = max(candidates, key=lambda c: candidates[c])
    share = candidates[top] / active
    component, component_weight = _component(p, stats, w, top)
    label = settings.categories[top].label if top in settings.categories else top
    state = _state_of(top, stats, settings)
    basis = _basis(p)
    eid = ledger.prove(
        f"share-{top}",
        f"{fmt_pct(share)} of {basis} are {label}, most at {component} "
        f"({fmt_pct(component_weight / active)})",
        "sampling: the share of samples estimates the share of time",
        {
            "category_weight": candidates[top],
            "component_weight": component_weight,
            "active_weight": active,
            "unit": p.unit,
            "measures": p.measures,
        },
        {"share": share, "component": component, "state": state},
    )
    kind: BottleneckType | None = (
        settings.categories[top].bottleneck if top in settings.categories else "cpu"
    )
    if p.measures in ("mutex-delay", "block-delay", "contentions"):
        kind = "contention"
    elif p.measures == "alloc":
        kind = "memory"
    reason = (
        f"{label}: {fmt_pct(share)} of {basis}, mostly at {component} "
        f"({fmt_pct(component_weight / active)})"
    )
    return Bottleneck(
        kind, top, component, share, reason, (eid,), state, component_weight / active, basis
    )


def _nothing(
    p: Profile, w: _Weights, stats: ProfileStats, settings: Settings, ledger: Ledger
) -> Bottleneck:
    idle = w.by_category.get("sleep_idle", 0.0)
    if stats.total <= 0:
        why = "no bottleneck in this profile: it is empty"
    else:
        why = (
            f"no bottleneck in this profile: {fmt_pct(idle / stats.total)} of its samples are "
            "idle or sleeping threads (empty pools, joins, event loops with nothing ready). "
            "Measure next: record while the service is under load, and check the load reaches "
            "it (the load generator's rate, the queue in front of it)"
        )
    eid = ledger.prove(
        "share-idle",
        why,
        "sampling: the share of samples estimates the share of time",
        {"idle_weight": idle, "total_weight": stats.total, "measures": p.measures},
        {"bottleneck": None},
    )
    del settings
    return Bottleneck(None, None, None, 0.0, why, (eid,), "idle", None, _basis(p))


def _component(p: Profile, stats: ProfileStats, w: _Weights, category: str) -> tuple[str, float]:
    """The site (the program's own line) with most of the category's weight, or the function
    the GIL estimate moved most of it from; and that weight."""
    moved = w.components.get(category, {})
    if moved:
        key = max(moved, key=lambda k: moved[k])
        return function_name(key), moved[key]
    sites = w.sites.get(category, {})
    if sites:
        site = max(sites, key=lambda k: sites[k])
        return frame_site(p.frames[site]), sites[site]
    func = stats.top_function(category)
    weight = stats.deciding_by_category.get(category, {}).get(func, 0.0) if func else 0.0
    return (function_name(func) if func else category), weight


def _state_of(category: str, stats: ProfileStats, settings: Settings) -> str | None:
    weights: dict[str, float] = {}
    for cat, state, weight in zip(
        stats.stack_categories, stats.stack_states, stats.stack_weights, strict=True
    ):
        if cat == category:
            weights[state] = weights.get(state, 0.0) + weight
    if category == "hidden_wait":
        return "blocked"
    if category == "gil":
        return "gil_wait"
    if category == "blocked":
        return "blocked"
    del settings
    return max(weights, key=lambda s: weights[s]) if weights else None


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
        return replace(v, type=kind, reason=reason, evidence_ids=(*v.evidence_ids, eid))
    cpu = h.view("cpu")
    busy = settings.threshold("busy_utilization")
    if v.type == "cpu" and cpu is not None and cpu.utilization < busy:
        return _idle_cpu(v, cpu.utilization, by_category, active, settings, ledger)
    b = h.binding
    if (
        v.type == "cpu"
        and cpu is not None
        and cpu.utilization > 0
        and b is not None
        and b.resource != "cpu"
    ):
        return _elsewhere(v, b, cpu, ledger)
    return v


def _elsewhere(v: Bottleneck, b: ResourceView, cpu: ResourceView, ledger: Ledger) -> Bottleneck:
    """The profile's work is CPU, but by the utilization law another resource reaches its
    saturation target first (what ``analyze`` calls binding): the verdict is that resource,
    and says what the profile found."""
    cap = b.max_rps_at_target
    caps = f"caps the rate at {fmt_rate(cap)}" if cap else "reaches its target first"
    eid = ledger.prove(
        "combined-binding",
        f"{b.resource} binds: at {fmt_pct(b.utilization)} of its {fmt_pct(b.target)} target it "
        f"{caps}; the CPU ({fmt_pct(cpu.utilization)} of {fmt_pct(cpu.target)}) is not the "
        "binding limit",
        "utilization law: X_target = X·t / U; the lowest rate binds",
        {
            "binding": b.resource,
            "utilization": b.utilization,
            "target": b.target,
            "cpu_utilization": cpu.utilization,
            "cpu_target": cpu.target,
        },
        {"type": bottleneck_type(b.resource), "ceiling_rps": cap},
    )
    reason = (
        f"{b.resource} at {fmt_pct(b.utilization)} of its {fmt_pct(b.target)} target binds"
        + (f" (ceiling {fmt_rate(cap)})" if cap else "")
        + ", not the CPU "
        f"({fmt_pct(cpu.utilization)} busy); the profile's top work: {v.reason}"
    )
    return replace(
        v, type=bottleneck_type(b.resource), reason=reason, evidence_ids=(*v.evidence_ids, eid)
    )


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
            f"{v.reason}; but the CPU is {fmt_pct(cpu)} busy: throughput is limited "
            "by concurrency (too few threads or processes), not by CPU"
        )
        return replace(v, type="contention", reason=reason, evidence_ids=(*v.evidence_ids, eid))
    kind = settings.categories[top].bottleneck
    reason = (
        f"the CPU is {fmt_pct(cpu)} busy and {fmt_pct(waits[top] / active)} of the "
        f"profile is {settings.categories[top].label}"
    )
    return replace(
        v,
        type=kind,
        category=top,
        share=waits[top] / active,
        reason=reason,
        evidence_ids=(*v.evidence_ids, eid),
        state=None,
        component_share=None,
    )


def _recommendations(
    p: Profile,
    by_category: dict[str, float],
    active: float,
    runtime: str | None,
    h: Headroom | None,
    host: HostModel | None,
    settings: Settings,
    ledger: Ledger,
) -> list[tuple[Recommendation, str]]:
    """One fix per category over the floor, in the profile's language, priced by Amdahl's law
    on the share the profile measures: CPU time for an on-CPU profile, the serving threads'
    active wall time for a wall-clock one (time per request at fixed concurrency). With the
    host's metrics the price is the system model's answer instead (``on_model``): the CPU's
    demand sped up, the ceiling after against today's. A CPU fix is not priced when the
    measured CPU says CPU is not what limits."""
    floor = settings.threshold("profile_min_share")
    cpu = h.view("cpu") if h is not None else None
    idle_cpu = cpu is not None and cpu.utilization < settings.threshold("busy_utilization")
    basis = _basis(p)
    wall = p.idle_included or p.measures == "wall"
    # the CPU time the profile measured: every active sample of an on-CPU profile, the
    # running (not waiting) categories of a wall-clock one
    cpu_weight = (
        sum(
            x
            for c, x in by_category.items()
            if _counts(c, settings)
            and not (c in settings.categories and settings.categories[c].waiting)
        )
        if wall
        else active
    )
    out = []
    for category, weight in by_category.items():
        fix = fix_for(settings, category, runtime)
        share = min(1.0, max(0.0, weight / active)) if active > 0 else 0.0
        if fix is None or share < floor:
            continue
        waiting = (
            settings.categories[category].waiting if category in settings.categories else False
        )
        if not waiting and idle_cpu and cpu is not None:
            eid = ledger.prove(
                f"unpriced-{category}",
                f"{category} is {fmt_pct(share)} of {basis}, but the CPU is only "
                f"{fmt_pct(cpu.utilization)} busy: making it faster does not raise throughput "
                "until CPU limits it",
                "utilization law: a resource far from saturation does not bound throughput",
                {"p": share, "cpu_utilization": cpu.utilization},
                {"improvement_pct": None},
            )
            rationale = (
                f"{fmt_pct(share)} of {basis} is {category}, but the CPU is "
                f"{fmt_pct(cpu.utilization)} busy: this lowers latency and CPU, not a throughput "
                "limit; no gain is claimed."
            )
            out.append((_rec(fix, None, rationale, eid), category))
            continue
        if fix.speedup is None:
            rationale = (
                f"{fmt_pct(share)} of {basis} is {category}; how much faster the fix makes it "
                f"depends on the change, so no gain is claimed ({fix.source})."
            )
            out.append((_rec(fix, None, rationale, None), category))
            continue
        if host is not None:
            on_cpu = not (waiting and wall) and host.has_cpu
            f = min(1.0, weight / cpu_weight) if on_cpu and cpu_weight > 0 else share
            out.append((_on_model(fix, category, share, f, on_cpu, basis, host, ledger), category))
            continue
        gain = amdahl_improvement_pct(min(share, 1.0), fix.speedup)  # a float sum may pass 1
        eid = ledger.prove(
            f"amdahl-{category}",
            f"speeding {category} ({fmt_pct(share)} of {basis}) up {fix.speedup:g}x gives "
            f"{gain:.3g} % more throughput",
            "Amdahl's law: speedup = 1 / ((1 - p) + p / s)",
            {"p": share, "s": fix.speedup, "of": basis},
            {"improvement_pct": gain},
        )
        ledger.assume(
            f"speed-up of the {category} fix",
            fix.speedup,
            f"{fix.source} (confidence: {fix.confidence})",
        )
        rationale = (
            f"{fmt_pct(share)} of {basis} is {category}; a {fix.speedup:g}x faster "
            f"{category} gives +{gain:.3g} % by Amdahl's law."
        )
        out.append((_rec(fix, gain, rationale, eid), category))
    out.sort(key=lambda rc: -(rc[0].expected_improvement_pct or 0.0))
    if host is None and any(r.expected_improvement_pct is not None for r, _ in out):
        ledger.assume(
            "throughput follows time per request on the profiled path",
            "Amdahl",
            "without the host's metrics the model is the CPU alone: on-CPU samples: the "
            "process is CPU-bound (check its CPU: give the host's metrics); wall-clock "
            "samples: the serving threads' number is fixed, so a request's time sets the rate",
        )
    return out


def _on_model(
    fix: Fix,
    category: str,
    share: float,
    f: float,
    on_cpu: bool,
    basis: str,
    host: HostModel,
    ledger: Ledger,
) -> Recommendation:
    """``fix`` priced on the host's system model: the CPU station's demand sped up by Amdahl's
    law with ``f`` (the category's share of the CPU time), or, for a fix no station carries, the
    rate at fixed concurrency up to the model's ceiling."""
    assert fix.speedup is not None
    s = fix.speedup
    price = (price_speedup if on_cpu else price_off_model)(host.model, f, s)
    gain = price.gain_pct

    def rate(x: float) -> str:
        return f"{x:.3g}× today's rate" if host.unit_rate else fmt_rate(x)

    unit = (
        " (the metrics give no throughput: modelled at a unit rate; the ratio of ceilings "
        "does not depend on it)"
        if host.unit_rate
        else ""
    )
    if on_cpu:
        law = (
            "system model: the CPU's demand D' = D / S, S = 1 / ((1 - f) + f / s) (Amdahl); "
            "ceiling = the lowest station rate at its saturation target (utilization law); "
            "gain = ceiling after / ceiling today - 1"
        )
        moved = (
            f"the ceiling goes from {rate(price.ceiling_before)} to "
            f"{rate(price.ceiling_after)} ({price.binding_after} binds after)"
        )
        still = (
            f"it does not lift the binding limit ({price.binding_before}: ceiling "
            f"{rate(price.ceiling_before)} at its target)"
        )
        of = f"{fmt_pct(f)} of the CPU time"
    else:
        law = (
            "at fixed concurrency the rate follows the time per request: X' = min(X·S, X_max), "
            "S = 1 / ((1 - f) + f / s) (Amdahl), X_max the system model's ceiling"
        )
        moved = (
            f"the rate goes from {rate(price.ceiling_before)} to "
            f"{rate(price.ceiling_after)}"
            + (
                f" ({price.binding_after} binds)"
                if price.binding_after != "the serving threads"
                else ""
            )
        )
        still = (
            f"today's rate is at the model's ceiling ({price.binding_after} binds at "
            f"{rate(price.ceiling_after)})"
        )
        of = f"{fmt_pct(f)} of {basis}" + (
            "" if host.has_cpu else "; the metrics do not measure the CPU"
        )
    eid = ledger.prove(
        f"model-{category}",
        f"speeding {category} ({of}) up {s:g}x on the host's system model: "
        + (moved + f": {gain:+.3g} %" if gain is not None else still + ": no gain")
        + unit,
        law,
        {
            "f": f,
            "s": s,
            "of": "CPU time the profile measured" if on_cpu else basis,
            "ceiling_before_rps" if on_cpu else "rate_before_rps": price.ceiling_before,
            "binding_before": price.binding_before,
            "rate_rps": host.model.rate,
            "unit_rate": host.unit_rate,
        },
        {
            "improvement_pct": gain,
            "ceiling_after_rps" if on_cpu else "rate_after_rps": price.ceiling_after,
            "binding_after": price.binding_after,
            "amdahl_alone_pct": price.amdahl_pct,
        },
    )
    ledger.assume(
        f"speed-up of the {category} fix", s, f"{fix.source} (confidence: {fix.confidence})"
    )
    aside = f" ({of})" if on_cpu and abs(f - share) > 1e-9 else ""
    if not host.has_cpu:
        aside = " (the metrics do not measure the CPU)"
    head = f"{fmt_pct(share)} of {basis} is {category}{aside}; a {s:g}x faster {category}"
    if gain is not None:
        rationale = (
            f"{head}: on the host's system model {moved}: +{gain:.3g} % "
            f"(Amdahl alone: +{price.amdahl_pct:.3g} %)."
        )
    else:
        x = host.model.rate
        spare = (
            f"; today's {fmt_rate(x)} has {fmt_pct(price.ceiling_before / x - 1)} of "
            "headroom to that ceiling with or without it"
            if on_cpu and x and not host.unit_rate and price.ceiling_before > x
            else ""
        )
        saves = "it saves CPU time and latency" if on_cpu else "it lowers latency"
        rationale = (
            f"{head}: on the host's system model {still}{spare}; no throughput gain is claimed "
            f"({saves})."
        )
    rec = _rec(fix, gain, rationale, eid)
    return replace(rec, change="speedup") if on_cpu else rec


def fix_for(settings: Settings, category: str, runtime: str | None) -> Fix | None:
    """The fix for ``category`` in ``runtime``'s language: one naming the runtime first, then
    one for any runtime; None when only other runtimes' fixes exist."""
    category = _FIX_OF.get(category, category)
    fixes = [f for f in settings.fixes.values() if f.category == category]
    own = [f for f in fixes if runtime is not None and runtime in f.runtimes]
    chosen = own or [f for f in fixes if not f.runtimes]
    return chosen[0] if chosen else None


def _rec(fix: Fix, gain: float | None, rationale: str, eid: str | None) -> Recommendation:
    ids = (eid,) if eid is not None else ()
    return Recommendation(fix.optimization, gain, fix.effort, fix.risk, rationale, ids, fix.example)


def _plan(recs: list[tuple[Recommendation, str]], horizons: bool = False) -> dict[str, list[str]]:
    """The plan by horizon: a recommendation's effort picks it, or (``horizons``) the key it
    came with."""
    plan: dict[str, list[str]] = {"immediate": [], "short_term": [], "long_term": []}
    for rec, key in recs:
        gain = rec.expected_improvement_pct
        horizon = key if horizons and key in plan else _PLAN[rec.effort]
        plan[horizon].append(rec.optimization + (f" (+{gain:.0f} %)" if gain else ""))
    return plan


def _categories(
    stats: ProfileStats, w: _Weights, active: float, settings: Settings
) -> tuple[CategoryShare, ...]:
    rows = []
    for name in sorted(w.by_category, key=lambda c: -w.by_category[c]):
        weight = w.by_category[name]
        if weight <= 0 and name not in stats.by_category:
            continue
        cat = settings.categories.get(name)
        moved = w.components.get(name, {})
        top = max(moved, key=lambda k: moved[k]) if moved else stats.top_function(name)
        rows.append(
            CategoryShare(
                category=name,
                label=cat.label if cat else name,
                share=stats.share(weight),
                share_of_active=(
                    weight / active if active > 0 and _counts(name, settings) else None
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


def _states(
    p: Profile, stats: ProfileStats, states: SampleStates, w: _Weights, settings: Settings
) -> tuple[StateShare, ...]:
    limiting = sum(x for s, x in w.by_state.items() if _limits(s, settings))
    sites: dict[str, dict[int, float]] = {}
    for state, site, weight in zip(stats.stack_states, states.sites, p.weights, strict=True):
        if site is not None:
            into = sites.setdefault(state, {})
            into[site] = into.get(site, 0.0) + weight
    if "blocked" in w.by_state and "blocked" not in sites:
        sites["blocked"] = w.sites.get("hidden_wait", {})
    rows = []
    for state in sorted(w.by_state, key=lambda s: -w.by_state[s]):
        weight = w.by_state[state]
        if weight <= 0:
            continue
        info = settings.states.get(state)
        top = sites.get(state, {})
        site = max(top, key=lambda k: top[k]) if top else None
        rows.append(
            StateShare(
                state=state,
                label=info.label if info else state,
                share=stats.share(weight),
                share_of_active=(
                    weight / limiting if limiting > 0 and _limits(state, settings) else None
                ),
                limits=_limits(state, settings),
                top_site=frame_site(p.frames[site]) if site is not None else None,
            )
        )
    return tuple(rows)


def _limits(state: str, settings: Settings) -> bool:
    info = settings.states.get(state)
    return info is None or info.limits


def _threads(p: Profile, stats: ProfileStats, settings: Settings) -> tuple[ThreadShare, ...]:
    by_state: dict[str | None, dict[str, float]] = {}
    for thread, state, weight in zip(p.threads, stats.stack_states, p.weights, strict=True):
        into = by_state.setdefault(thread, {})
        into[state] = into.get(state, 0.0) + weight
    rows = []
    for thread, cats in stats.by_thread.items():
        weight = sum(cats.values())
        busy = {c: w for c, w in cats.items() if _counts(c, settings)}
        mine = by_state.get(thread, {})
        shares = {s: x / weight for s, x in mine.items()} if weight > 0 else {}
        rows.append(
            ThreadShare(
                thread=thread,
                name=p.thread_names.get(thread or "", "") if thread else "",
                share=stats.share(weight),
                top_category=max(busy, key=lambda c: busy[c]) if busy else "sleep_idle",
                on_cpu=shares.get(RUNNING, 0.0) if p.idle_included and shares else None,
                state=max(mine, key=lambda s: mine[s]) if mine else None,
                states=shares or None,
            )
        )
    return tuple(sorted(rows, key=lambda r: -r.share))


SAMPLE_MEANS = {
    "cpu": "on-CPU time: a sample of a thread running (waiting threads leave no sample: a "
    "pprof CPU profile, perf, py-spy without --idle); shares are of CPU time",
    "wall": "wall-clock time: every thread at every tick, running or waiting (py-spy --idle); "
    "shares are of the threads' time, and only running samples are CPU",
    "gil": "GIL-holding time: only the thread holding the GIL at each tick (py-spy --gil)",
    "mutex-delay": "time goroutines waited for a mutex another held (Go mutex profile)",
    "block-delay": "time goroutines blocked (Go block profile): lock, channel and select waits",
    "contentions": "how many times a lock was contended",
    "alloc": "allocations (bytes or objects), not time: never priced as CPU",
    "unknown": "what the file does not say: collapsed stacks do not tell on-CPU from "
    "wall-clock samples",
    "snapshot": "one goroutine or thread at one instant (a Go goroutine profile, a Java thread "
    "dump): a count of who waits where, not time; never priced as CPU",
}


def _profile_info(p: Profile, runtime: str | None) -> ProfileInfo:
    means = SAMPLE_MEANS.get(p.measures, f"{p.measures}: the file does not say what it measures")
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
        sample_means=means,
        runtime=runtime,
    )


def _summary(
    v: Bottleneck, recs: list[tuple[Recommendation, str]], h: Headroom | None = None
) -> str:
    cpu = h.view("cpu") if h is not None else None
    elsewhere = (
        bool({"combined-binding", "combined-resource"} & set(v.evidence_ids))
        and h is not None
        and h.binding is not None
        and h.binding.resource != "cpu"
    )
    measured = (
        f" (the CPU measured over the same time: {fmt_pct(cpu.utilization)} busy)"
        if cpu is not None and not elsewhere
        else ""
    )
    if v.type is None:
        return v.reason[0].upper() + v.reason[1:] + measured + "."
    text = f"Bottleneck: {v.type} — {v.reason}{measured}"
    if recs:
        rec = recs[0][0]
        first = rec.optimization[0].lower() + rec.optimization[1:]
        gain = rec.expected_improvement_pct
        if elsewhere and gain is None and h is not None and h.binding is not None:
            # the profile's fixes save CPU time; none lifts the limit that binds
            return (
                f"{text}. The profile's first fix, to {first}, "
                + ("saves CPU time but " if rec.change == "speedup" else "")
                + f"lifts no ceiling while {h.binding.resource} binds: tpx analyze on the same "
                "metrics says what lifts it."
            )
        text += f". First: {first}" + (f" (+{gain:.0f} %)" if gain is not None else "")
    return text + "."
