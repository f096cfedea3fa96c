"""Verdicts for profiles that are not samples of running or waiting threads: a snapshot of
goroutine stacks, allocations (heap profiles), contention delay (Go mutex and block profiles) and
JVM thread dumps. Each is read for what it measures, and never priced as CPU time.

- **Goroutine profiles and thread dumps** (``snapshot``): a census of where goroutines or threads
  are (running, waiting on a lock, a channel, the network, sleeping, idle). Benign waits (an idle
  pool, a ``WaitGroup``, ``Thread.join``, ``time.Sleep``, a channel receive in a worker's idle
  loop, the runtime's own goroutines and threads) are set apart; a lock is the bottleneck when
  most of the rest waits on it. A thread dump names the monitor, where it is taken and who
  holds it. No CPU price: a snapshot counts goroutines, not time.
- **Mutex and block profiles** (delay): lock waits by the lock's call site (the caller of
  ``sync.(*Mutex).Lock``, or of ``Unlock`` in a mutex profile, which charges the delay to the
  holder), benign waits apart. No price: delay is not CPU time and its effect on throughput
  depends on the concurrency, which the profile does not record.
- **Heap and allocs profiles** (bytes): allocation hot spots, pointing at GC cost; not priced,
  as a heap profile has no time in it: the report says what to measure (a CPU profile's GC share).
- **Node/V8 and JVM CPU profiles** with a large GC share (V8's ``(garbage collector)``,
  HotSpot's GC threads): allocation churn (the GC works for the code that allocates), priced by
  Amdahl on the measured GC share when the samples are known to be time.

``kind_verdict`` returns None for other on-CPU and wall-clock sample profiles: ``advisor.advise``
reads them by thread state and category.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from throughput_expert.advisors.bottleneck.profile_stats import function_name
from throughput_expert.advisors.bottleneck.states import matches
from throughput_expert.advisors.ledger import Ledger
from throughput_expert.laws.amdahl import amdahl_improvement_pct
from throughput_expert.model import BottleneckType, Recommendation
from throughput_expert.model.analysis.bottleneck import Bottleneck, WaitCensus, WaitSite
from throughput_expert.model.profile import Frame, Profile
from throughput_expert.model.settings import Fix, Settings
from throughput_expert.model.units import fmt_pct

__all__ = ["KindVerdict", "kind_verdict", "profile_runtime"]

_PLAN = {"low": "immediate", "medium": "short_term", "high": "long_term"}
SITES_SHOWN = 15
# A JS profile whose GC share of active time reaches this is read as allocation churn: V8 logs
# GC as its own root, so the allocating code shows only as the JavaScript around it. 20 %: well
# above the few percent a steadily allocating service spends in a young-generation GC.
GC_CHURN_SHARE = 0.20

# --- Go: what a goroutine waits on, from its frames (the leaf's wait chain) ----------------------
# (state, frame name pattern, benign). The outermost match in the chain of runtime/sync frames
# above the leaf decides; the first frame above the chain is the call site.
GO_WAITS: tuple[tuple[str, re.Pattern[str], bool], ...] = tuple(
    (state, re.compile(pattern), benign)
    for state, pattern, benign in (
        ("idle", r"^sync\.\(\*WaitGroup\)\.Wait$", True),
        ("lock_wait", r"^sync\.\(\*(Mutex|RWMutex)\)\.(Lock|RLock|lockSlow|rLockSlow)$", False),
        ("lock_wait", r"^sync\.runtime_Semacquire(Mutex|RWMutex\w*)$", False),
        ("lock_wait", r"^sync\.\(\*(Mutex|RWMutex)\)\.(Unlock|RUnlock|unlockSlow)$", False),
        ("cond_wait", r"^sync\.\(\*Cond\)\.Wait$", False),
        ("sleep", r"^time\.Sleep$", True),
        ("chan_wait", r"^runtime\.(chanrecv[12]?|chansend1?|selectgo|block)$", False),
        ("io_network", r"^internal/poll\.|^net\.\(\*\w+\)\.(Read|Write|Accept)$", False),
        ("idle", r"^runtime\.(bgsweep|bgscavenge|forcegchelper|runfinq|gcBgMarkWorker)$", True),
        ("idle", r"^os/signal\.signal_recv$", True),
    )
)
GO_CHAIN = re.compile(r"^(runtime|sync|internal/\w+|time|os/signal|net)[./]")
GO_PROFILER = re.compile(r"^runtime/pprof\.|^runtime\.goroutineProfileWithLabels$")
GO_PARKED = re.compile(r"^runtime\.(gopark|goparkunlock)$")
GO_ENTRY = re.compile(r"^runtime\.(main|goexit)$")
GO_ALLOC_CHAIN = re.compile(r"^runtime\.|^reflect\.unsafe_New|^internal/")

# --- Java: the markers jstack.py writes and the frames of benign waits ---------------------------
JAVA_MARKER = re.compile(
    r"^\((?P<what>waiting to lock|parking to wait for|waiting on|holds) <(?P<addr>0x[0-9a-f]+)>"
    r"(?: \(a (?P<cls>[^()]+)\))?\)$"
)
JAVA_IDLE = re.compile(
    r"ThreadPoolExecutor\.getTask|(LinkedBlocking|ArrayBlocking|LinkedTransfer|PriorityBlocking)"
    r"(Queue|Deque)\.(take|poll)|SynchronousQueue\.(take|poll)|ForkJoinPool\.(awaitWork|runWorker)|"
    r"DelayedWorkQueue\.take|^java\.lang\.Thread\.join$|^java\.lang\.ref\.|^jdk\.internal\.ref\.|"
    r"^java\.lang\.ref\.Reference\.waitForReferencePendingList$"
)
JAVA_SLEEP = re.compile(r"^java\.lang\.Thread\.sleep\w*$")
JAVA_IO = re.compile(
    r"sun\.nio\.ch\.(SocketDispatcher\.read0|NioSocketImpl\.\w+|EPoll\.wait|EPollSelectorImpl\."
    r"doSelect)|java\.net\.SocketInputStream\.socketRead0|io\.netty\.channel\.epoll\.Native\."
    r"epollWait"
)
JAVA_LIBRARY = re.compile(r"^(java|javax|jdk|sun|com\.sun)\.")

STATE_LABELS = {
    "lock_wait": "waiting for a lock",
    "cond_wait": "waiting on a condition",
    "chan_wait": "waiting on a channel",
    "io_network": "waiting on the network",
    "running": "running or runnable",
    "parked": "parked (reason not in the frames)",
}
STATE_VERDICT: dict[str, tuple[BottleneckType, str]] = {
    "lock_wait": ("contention", "lock"),
    "cond_wait": ("contention", "lock"),
    "chan_wait": ("contention", "lock"),
    "parked": ("contention", "lock"),
    "io_network": ("downstream", "io_network"),
    "running": ("cpu", "compute"),
}


@dataclass(frozen=True)
class KindVerdict:
    """The verdict on a profile of a non-sampling kind, and what to do about it."""

    bottleneck: Bottleneck
    recommendations: tuple[tuple[Recommendation, str], ...]
    """Each with its horizon key: immediate, short_term or long_term."""
    census: WaitCensus | None = None
    """Where the goroutines or threads wait (or allocate): ``BottleneckAnalysis.waits``."""


@dataclass
class _Group:
    state: str
    site: str
    wait: str | None
    benign: bool
    weight: float = 0.0
    holders: tuple[str, ...] = ()
    holder_stack: str | None = None


def profile_runtime(p: Profile) -> str | None:
    """The runtime a profile is of (python, go, node, jvm, native), for choosing fixes."""
    if p.format == "jstack":
        return "jvm"
    if p.format == "cpuprofile":
        return "node"
    kinds: dict[str, int] = defaultdict(int)
    for frame in p.frames:
        kinds[frame.kind] += 1
    named = {"python": "python", "go": "go", "js": "node", "java": "jvm", "jit": "jvm"}
    counted = {named[k]: n for k, n in kinds.items() if k in named}
    if counted:
        return max(counted, key=lambda k: counted[k])
    return "go" if p.exporter == "go" else None


def kind_verdict(p: Profile, settings: Settings, ledger: Ledger) -> KindVerdict | None:
    """The verdict for a snapshot, allocation, delay or thread-dump profile (and a JS profile's
    GC churn); None for other on-CPU and wall-clock samples (read by thread state in
    ``advisor.advise``)."""
    if p.total() <= 0:
        return None
    if p.measures == "snapshot" and p.format == "jstack":
        return _waits_verdict(p, _java_groups(p), settings, ledger)
    if p.measures in ("snapshot", "mutex-delay", "block-delay", "contentions"):
        return _waits_verdict(p, _go_groups(p), settings, ledger)
    if p.measures == "alloc":
        return _alloc_verdict(p, settings, ledger)
    runtime = profile_runtime(p)
    if p.measures in ("cpu", "wall") and runtime == "node":
        return _gc_churn_verdict(p, settings, ledger, "node")
    if p.measures in ("cpu", "wall", "unknown") and runtime == "jvm":
        return _gc_churn_verdict(p, settings, ledger, "jvm")
    return None


# --- goroutines and delays -----------------------------------------------------------------------


def _go_groups(p: Profile) -> list[_Group]:
    groups: dict[tuple[str, str, str | None], _Group] = {}
    for stack, weight in zip(p.stacks, p.weights, strict=True):
        frames = [p.frames[i] for i in stack]
        state, site, wait, benign = _go_state(frames, p.measures)
        group = groups.setdefault((state, site, wait), _Group(state, site, wait, benign))
        group.weight += weight
    return list(groups.values())


def _go_state(frames: Sequence[Frame], measures: str) -> tuple[str, str, str | None, bool]:
    """(state, call site, wait frame, benign) of one goroutine stack, root first."""
    if any(GO_PROFILER.search(f.name) for f in frames):
        return "idle", "the profiler itself (runtime/pprof)", None, True
    top = len(frames)
    while top > 0 and GO_CHAIN.search(frames[top - 1].name):
        top -= 1
    chain = frames[top:]
    match = None
    for frame in chain:  # outermost first
        for state, pattern, benign in GO_WAITS:
            if pattern.search(frame.name):
                match = (state, frame.name, benign)
                break
        if match:
            break
    site = _name(frames[top - 1]) if top > 0 else (_name(frames[0]) if frames else "(empty)")
    if match is None:
        parked = bool(chain) and GO_PARKED.search(chain[-1].name) is not None
        if parked and measures == "snapshot":
            return "parked", site, chain[-1].name, False
        if top == 0 and chain:  # only runtime frames: the runtime's own goroutines
            return "idle", site, None, True
        return (
            ("running", site, None, False)
            if measures == "snapshot"
            else (
                "lock_wait" if measures == "mutex-delay" else "parked",
                site,
                chain[-1].name if chain else None,
                False,
            )
        )
    state, wait, benign = match
    if state == "chan_wait" and all(GO_ENTRY.search(f.name) for f in frames[: top - 1]):
        # a receive in the goroutine's own loop (for job := range jobs): an idle worker
        return "idle", site, wait, True
    return state, site, wait, benign


# --- Java thread dumps ---------------------------------------------------------------------------


def _java_groups(p: Profile) -> list[_Group]:
    holders: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for stack, thread in zip(p.stacks, p.threads, strict=True):
        frames = [p.frames[i] for i in stack]
        name = p.thread_names.get(thread or "", thread or "?")
        for frame in frames:
            marker = JAVA_MARKER.match(frame.name)
            if marker and marker.group("what") == "holds":
                path = ";".join(_name(f) for f in frames if not f.name.startswith("("))
                holders[marker.group("addr")].append((name, path))
    groups: dict[tuple[str, str, str | None], _Group] = {}
    for stack, weight in zip(p.stacks, p.weights, strict=True):
        frames = [p.frames[i] for i in stack]
        state, site, wait, benign, addr = _java_state(frames)
        group = groups.setdefault((state, site, wait), _Group(state, site, wait, benign))
        group.weight += weight
        held = holders.get(addr or "", [])
        if held and not group.holders:
            group.holders = tuple(dict.fromkeys(n for n, _ in held))
            group.holder_stack = max(
                {s for _, s in held}, key=lambda s: sum(1 for _, t in held if t == s)
            )
    return list(groups.values())


def _java_state(frames: Sequence[Frame]) -> tuple[str, str, str | None, bool, str | None]:
    """(state, call site, what it waits on, benign, lock address) of one thread, root first."""
    real = [f for f in frames if not f.name.startswith("(")]
    leaf = frames[-1] if frames else None
    marker = JAVA_MARKER.match(leaf.name) if leaf is not None else None
    site = _java_site(real)
    if any(JAVA_IDLE.search(f.name) for f in real):
        return "idle", site, real[-1].name if real else None, True, None
    if leaf is not None and leaf.name == "(BLOCKED)":
        return "lock_wait", site, "a monitor (not named in the dump)", False, None
    if marker is not None and marker.group("what") != "holds":
        what, addr, cls = marker.group("what"), marker.group("addr"), marker.group("cls") or "?"
        lock = f"<{addr}> (a {cls})"
        if what == "waiting to lock":
            return "lock_wait", site, lock, False, addr
        if what == "parking to wait for" and "ConditionObject" not in cls:
            return "lock_wait", site, lock, False, addr
        return "cond_wait", site, lock, False, addr
    if real and JAVA_SLEEP.search(real[-1].name):
        return "sleep", site, real[-1].name, True, None
    if any(JAVA_IO.search(f.name) for f in real[-3:]):
        return "io_network", site, real[-1].name, False, None
    return "running", site, None, False, None


def _java_site(real: Sequence[Frame]) -> str:
    """The first application frame from the leaf (JDK frames are the wait's machinery)."""
    for frame in reversed(real):
        if not JAVA_LIBRARY.search(frame.name):
            return _name(frame)
    return _name(real[-1]) if real else "(no frames)"


# --- the verdict on a census ---------------------------------------------------------------------


def _waits_verdict(
    p: Profile, groups: list[_Group], settings: Settings, ledger: Ledger
) -> KindVerdict:
    total = p.total()
    groups.sort(key=lambda g: -g.weight)
    benign = sum(g.weight for g in groups if g.benign)
    census = _census(p, groups, total, benign)
    what = _what(p)
    active = total - benign
    if active <= 0:
        eid = ledger.prove(
            "waits-benign",
            f"all {_amount(total, p)} {what} are idle or waiting benignly",
            "census of states from the frames",
            {"total": total, "benign": benign, "measures": p.measures},
            {"benign_share": 1.0},
        )
        why = (
            f"no bottleneck in this {_kind_label(p)}: every one of the {what} is idle or "
            "waiting benignly (an empty pool, a WaitGroup, a join, a sleep); profile the "
            "service under load"
        )
        return KindVerdict(Bottleneck(None, None, None, 0.0, why, (eid,)), (), census)
    by_state: dict[str, float] = defaultdict(float)
    for g in groups:
        if not g.benign:
            by_state[g.state] += g.weight
    state = max(by_state, key=lambda s: by_state[s])
    top = next(g for g in groups if not g.benign and g.state == state)
    kind, category = STATE_VERDICT.get(state, ("contention", "lock"))
    share = top.weight / active
    eid = ledger.prove(
        f"waits-{state}",
        f"{fmt_pct(by_state[state] / active)} of the non-benign {what} are "
        f"{STATE_LABELS.get(state, state)}; {fmt_pct(share)} at {top.site}",
        "census of states from the frames; benign waits set apart",
        {
            "total": total,
            "benign": benign,
            "state_weight": by_state[state],
            "site_weight": top.weight,
            "unit": p.unit,
            "measures": p.measures,
        },
        {"state": state, "share": share, "component": top.site},
    )
    reason = _reason(p, top, state, share, active, benign / total)
    recs = _recs(p, category, state, top, settings, ledger, eid)
    bottleneck = Bottleneck(
        kind,
        category,
        top.site,
        by_state[state] / active,
        reason,
        (eid,),
        state=state,
        component_share=share,
        basis=f"non-benign {what} (idle and benign waits left out)",
    )
    return KindVerdict(bottleneck, recs, census)


def _reason(p: Profile, top: _Group, state: str, share: float, active: float, idle: float) -> str:
    what = _what(p)
    head = (
        f"{fmt_pct(share)} of the non-benign {what} ({_amount(active, p)}) are "
        f"{STATE_LABELS.get(state, state)} at {top.site}"
    )
    if top.wait and state != "running":
        head += f" (on {top.wait})"
    if top.holders:
        head += f", held by {', '.join(top.holders[:3])}"
    tail = f"; {fmt_pct(idle)} idle or benign, set apart"
    if p.measures == "mutex-delay":
        tail += "; a mutex profile charges the delay to the unlocking call site (the holder)"
    if p.measures == "snapshot":
        tail += f"; a {_kind_label(p)} counts, it does not time: no CPU price"
    return head + tail


def _recs(
    p: Profile,
    category: str,
    state: str,
    top: _Group,
    settings: Settings,
    ledger: Ledger,
    eid: str,
) -> tuple[tuple[Recommendation, str], ...]:
    runtime = profile_runtime(p)
    fix = fix_for(settings, category, runtime)
    if fix is None:
        return ()
    if state == "running":
        rationale = (
            f"most of the non-benign {_what(p)} are running at {top.site}; a "
            f"{_kind_label(p)} does not time them: record a CPU profile to see where the "
            "CPU goes and to price a fix"
        )
    else:
        rationale = (
            f"{top.site} waits {STATE_LABELS.get(state, state)}"
            + (f" ({top.wait})" if top.wait else "")
            + f". Not priced: a {_kind_label(p)} measures {p.measures}, not the time per "
            "request; measure throughput before and after, or a wall-clock profile"
        )
    _assume_fix(ledger, fix, runtime)
    rec = Recommendation(
        fix.optimization, None, fix.effort, fix.risk, rationale, (eid,), fix.example
    )
    return ((rec, _PLAN[fix.effort]),)


def _census(p: Profile, groups: Sequence[_Group], total: float, benign: float) -> WaitCensus:
    sites = tuple(
        WaitSite(
            state=g.state,
            site=g.site,
            wait=g.wait,
            weight=g.weight,
            share=g.weight / total if total > 0 else 0.0,
            benign=g.benign,
            holders=g.holders,
            holder_stack=g.holder_stack,
        )
        for g in groups[:SITES_SHOWN]
    )
    return WaitCensus(
        measures=p.measures,
        unit=p.unit,
        total=total,
        benign_share=benign / total if total > 0 else 0.0,
        sites=sites,
    )


# --- allocations ---------------------------------------------------------------------------------


def _alloc_verdict(p: Profile, settings: Settings, ledger: Ledger) -> KindVerdict:
    total = p.total()
    groups: dict[str, _Group] = {}
    frames_by_site: dict[str, Frame] = {}
    for stack, weight in zip(p.stacks, p.weights, strict=True):
        frames = [p.frames[i] for i in stack]
        top = len(frames)
        while top > 1 and GO_ALLOC_CHAIN.search(frames[top - 1].name):
            top -= 1
        frame = frames[top - 1] if frames else Frame("(empty)")
        site = _name(frame)
        if len(frames) >= top >= 2 and frame.kind == "go" and "/" in frame.name.split(".")[0]:
            site += f" (from {frames[top - 2].name})"
        frames_by_site.setdefault(site, frame)
        group = groups.setdefault(site, _Group("alloc", site, None, False))
        group.weight += weight
    ordered = sorted(groups.values(), key=lambda g: -g.weight)
    top_group = ordered[0]
    share = top_group.weight / total
    census = _census(p, ordered, total, 0.0)
    eid = ledger.prove(
        "alloc-site",
        f"{fmt_pct(share)} of the {_amount(total, p)} allocated are at {top_group.site}",
        "allocation profile: bytes by allocation site",
        {"site_bytes": top_group.weight, "total_bytes": total, "measures": p.measures},
        {"share": share, "component": top_group.site},
    )
    reason = (
        f"{fmt_pct(share)} of the bytes allocated are at {top_group.site}: allocation drives "
        "the garbage collector's work. A heap profile has no time in it, so no CPU price: "
        "record a CPU profile of the same load and read its GC share (runtime.gcBgMarkWorker, "
        "runtime.mallocgc, runtime.gcAssistAlloc) to price allocating less"
    )
    runtime = profile_runtime(p)
    recs: list[tuple[Recommendation, str]] = []
    site_category = _frame_category(frames_by_site[top_group.site], settings)
    for category in dict.fromkeys(["gc_alloc", site_category]):
        fix = fix_for(settings, category, runtime) if category else None
        if fix is None:
            continue
        _assume_fix(ledger, fix, runtime)
        rationale = (
            f"{fmt_pct(share)} of the bytes are allocated at {top_group.site}. Not priced: "
            "the GC time this causes is not in a heap profile (measure a CPU profile's GC share)"
        )
        rec = Recommendation(
            fix.optimization, None, fix.effort, fix.risk, rationale, (eid,), fix.example
        )
        recs.append((rec, _PLAN[fix.effort]))
    return KindVerdict(
        Bottleneck(
            "memory",
            "gc_alloc",
            top_group.site,
            share,
            reason,
            (eid,),
            component_share=share,
            basis="bytes allocated",
        ),
        tuple(recs),
        census,
    )


def _frame_category(frame: Frame, settings: Settings) -> str | None:
    for rule in settings.rules:
        if rule.runtime is not None and frame.kind not in _RULE_KINDS.get(rule.runtime, ()):
            continue
        if rule.name is not None and not rule.name.search(frame.name):
            continue
        if rule.file is not None and not rule.file.search(frame.file or ""):
            continue
        if rule.name is None and rule.file is None:
            continue
        return rule.category
    return None


_RULE_KINDS = {
    "python": ("python",),
    "java": ("java", "jit"),
    "go": ("go",),
    "js": ("js",),
    "native": ("native", "unknown"),
    "kernel": ("kernel",),
}


# --- Node: GC churn ------------------------------------------------------------------------------


_Key = tuple[str, str | None]


def _js_gc_split(p: Profile) -> tuple[float, float, dict[_Key, float]]:
    """V8 logs GC as its own root ``(garbage collector)``; ``(idle)`` and ``(program)`` are not
    the program's work; the rest is charged to its deepest JavaScript frame."""
    gc = idle = 0.0
    self_by: dict[_Key, float] = defaultdict(float)
    for stack, weight in zip(p.stacks, p.weights, strict=True):
        leaf = p.frames[stack[-1]] if stack else None
        name = leaf.name if leaf is not None else ""
        if name == "(garbage collector)":
            gc += weight
        elif name in ("(idle)", "(program)") or leaf is None:
            idle += weight
        else:
            js = [p.frames[i] for i in stack if p.frames[i].file]
            frame = js[-1] if js else leaf
            self_by[(frame.name, frame.file)] += weight
    return gc, idle, dict(self_by)


def _jvm_gc_split(p: Profile, settings: Settings) -> tuple[float, float, dict[_Key, float]]:
    """HotSpot collects on its own GC threads (G1, Parallel, ZGC, Shenandoah: C++ frames the
    ``gc_alloc`` rules of categories.yaml name), and a Java thread pays the allocation slow path
    under the Java frame that allocates. GC time is every sample with such a frame; the Java
    time is charged to each sample's deepest application frame (not the JDK's), and where
    allocation slow paths were sampled, to the frames that called them."""
    rules = [r for r in settings.rules if r.category == "gc_alloc"]
    is_gc = [any(matches(r, f) for r in rules) for f in p.frames]
    own = [f.kind in ("java", "jit") and not JAVA_LIBRARY.search(f.name) for f in p.frames]
    gc = idle = 0.0
    running: dict[_Key, float] = defaultdict(float)
    allocating: dict[_Key, float] = defaultdict(float)
    for stack, weight in zip(p.stacks, p.weights, strict=True):
        caller = next((p.frames[i] for i in reversed(stack) if own[i]), None)
        gc_frame = any(is_gc[i] for i in stack)
        if gc_frame:
            gc += weight
        if caller is not None:
            (allocating if gc_frame else running)[(caller.name, caller.file)] += weight
    return gc, idle, dict(allocating or running)


def _gc_churn_verdict(
    p: Profile, settings: Settings, ledger: Ledger, runtime: str
) -> KindVerdict | None:
    gc, idle, self_by = _js_gc_split(p) if runtime == "node" else _jvm_gc_split(p, settings)
    active = p.total() - idle
    if active <= 0 or gc / active < GC_CHURN_SHARE or not self_by:
        return None
    share = gc / active
    caller = max(self_by, key=lambda k: self_by[k])
    component = function_name(caller)
    code = "JavaScript" if runtime == "node" else "Java code"
    eid = ledger.prove(
        "gc-churn",
        f"the garbage collector takes {fmt_pct(share)} of the active time; the {code} "
        f"around it runs mostly in {component}",
        "sampling: the share of samples estimates the share of time",
        {"gc_weight": gc, "active_weight": active, "unit": p.unit, "threshold": GC_CHURN_SHARE},
        {"share": share, "component": component},
    )
    ledger.assume(
        "GC share that means allocation churn",
        GC_CHURN_SHARE,
        (
            "V8 logs GC as its own root"
            if runtime == "node"
            else "the JVM collects on its own GC threads"
        )
        + ", so the allocating code is not on the GC's stack: at or above this share of "
        f"active time the {code} that runs (and allocates) is read as the cause; a steadily "
        "allocating service spends a few percent in young-generation GC",
    )
    reason = (
        f"allocation churn: {fmt_pct(share)} of the active time is the garbage collector, "
        f"collecting what the {code} allocates (most of its time in {component}); "
        "not compute"
    )
    recs: list[tuple[Recommendation, str]] = []
    fix = fix_for(settings, "gc_alloc", runtime)
    if p.measures == "unknown" and fix is not None and fix.speedup is not None:
        # collapsed stacks do not say whether a sample is CPU or wall-clock time: no price
        fix = replace(
            fix,
            speedup=None,
            source="the file does not say whether its samples are CPU time (async-profiler "
            "-e cpu, perf's cpu-clock are): GC's share is not priced",
        )
    if fix is not None and fix.speedup is None:
        rationale = (
            f"{fmt_pct(share)} of active time is GC, collecting what {component} allocates; how "
            f"much less it allocates depends on the change, so no gain is claimed ({fix.source})."
        )
        recs.append(
            (
                Recommendation(
                    fix.optimization, None, fix.effort, fix.risk, rationale, (eid,), fix.example
                ),
                _PLAN[fix.effort],
            )
        )
    elif fix is not None and fix.speedup is not None:
        gain = amdahl_improvement_pct(min(share, 1.0), fix.speedup)
        aid = ledger.prove(
            "amdahl-gc_alloc",
            f"cutting GC time {fix.speedup:g}x ({fmt_pct(share)} of active time) gives "
            f"{gain:.3g} % more throughput",
            "Amdahl's law: speedup = 1 / ((1 - p) + p / s)",
            {"p": share, "s": fix.speedup},
            {"improvement_pct": gain},
        )
        _assume_fix(ledger, fix, runtime)
        rationale = (
            f"{fmt_pct(share)} of active time is GC; allocating {fix.speedup:g}x less "
            f"in {component} cuts it about as much: +{gain:.3g} % by Amdahl's law."
        )
        recs.append(
            (
                Recommendation(
                    fix.optimization, gain, fix.effort, fix.risk, rationale, (eid, aid), fix.example
                ),
                _PLAN[fix.effort],
            )
        )
    bottleneck = Bottleneck(
        "memory",
        "gc_alloc",
        component,
        share,
        reason,
        (eid,),
        state="running",
        component_share=self_by[caller] / active,
        basis=(
            "active wall time ((idle) and (program) left out)"
            if runtime == "node"
            else "the samples of every thread"
        ),
    )
    return KindVerdict(bottleneck, tuple(recs))


# --- shared --------------------------------------------------------------------------------------


def fix_for(settings: Settings, category: str, runtime: str | None) -> Fix | None:
    """The fix for ``category`` in the profile's runtime: one naming the runtime first, then
    one for any runtime; None when there is none (a Python fix is never offered for Go)."""
    fixes = [f for f in settings.fixes.values() if f.category == category]
    own = [f for f in fixes if runtime is not None and runtime in _runtimes(f)]
    anyone = [f for f in fixes if not _runtimes(f)]
    chosen = own or anyone
    return chosen[0] if chosen else None


def _runtimes(fix: Fix) -> tuple[str, ...]:
    return tuple(getattr(fix, "runtimes", ()) or ())


def _assume_fix(ledger: Ledger, fix: Fix, runtime: str | None) -> None:
    ledger.assume(
        f"the {fix.category} fix for {runtime or 'any runtime'}",
        fix.speedup,
        f"{fix.source} (confidence: {fix.confidence})",
    )


def _name(frame: Frame) -> str:
    return function_name((frame.name, frame.file))


def _what(p: Profile) -> str:
    if p.format == "jstack":
        return "thread observations"
    if p.measures == "snapshot":
        return "goroutines"
    if p.measures in ("mutex-delay", "block-delay"):
        return "delay"
    if p.measures == "contentions":
        return "contention events"
    return "weight"


def _kind_label(p: Profile) -> str:
    return {
        "snapshot": "thread dump" if p.format == "jstack" else "goroutine profile",
        "mutex-delay": "mutex profile",
        "block-delay": "block profile",
        "contentions": "contention profile",
        "alloc": "heap profile",
    }.get(p.measures, "profile")


def _amount(weight: float, p: Profile) -> str:
    if p.unit == "nanoseconds":
        return f"{weight / 1e9:.3g} s"
    if p.unit == "bytes":
        return f"{weight / 1e6:.3g} MB"
    return f"{weight:.0f}"
