"""Where a profile's time goes: categories, functions (self and total), hot paths, threads.

A stack's category is that of its deepest frame matching a rule (``categories.yaml``); a category
that absorbs others claims a stack when any of its frames matches it (a socket read under a
database driver is a database wait). Frames that match no rule are ``compute``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from throughput_expert.advisors.bottleneck.states import RUNNING, SampleStates, matches
from throughput_expert.model.analysis.bottleneck import HotPath
from throughput_expert.model.profile import Frame, Profile
from throughput_expert.model.settings import Rule, Settings

__all__ = ["FunctionKey", "ProfileStats", "function_name", "hot_paths", "profile_stats"]

DEFAULT_CATEGORY = "compute"
FunctionKey = tuple[str, str | None]  # (name, file): lines of one function aggregate together


@dataclass(frozen=True)
class ProfileStats:
    total: float
    by_category: dict[str, float]
    self_by_function: dict[FunctionKey, float]
    total_by_function: dict[FunctionKey, float]
    deciding_by_category: dict[str, dict[FunctionKey, float]]
    leaf_categories: dict[FunctionKey, dict[str, float]]
    stack_categories: tuple[str, ...]
    by_thread: dict[str | None, dict[str, float]]
    sites_by_category: dict[str, dict[int, float]] = field(default_factory=dict)
    """Per category, the weight at each site (an index into the profile's frames)."""
    stack_states: tuple[str, ...] = ()
    stack_weights: tuple[float, ...] = ()
    python_running: dict[str, float] = field(default_factory=dict)
    """Per category, the weight of running samples whose leaf is a Python line."""

    def share(self, weight: float) -> float:
        return weight / self.total if self.total > 0 else 0.0

    def top_function(self, category: str) -> FunctionKey | None:
        funcs = self.deciding_by_category.get(category, {})
        return max(funcs, key=lambda k: funcs[k], default=None)


def function_name(key: FunctionKey) -> str:
    """``name (pkg/module.py)``: the file shortened to its last two path parts."""
    name, file = key
    if not file:
        return name
    short = "/".join(file.replace("\\", "/").split("/")[-2:])
    return f"{name} ({short})"


def profile_stats(
    profile: Profile, settings: Settings, states: SampleStates | None = None
) -> ProfileStats:
    """Where the time goes; with ``states``, each stack's category agrees with its thread
    state (an idle or sleeping thread is ``sleep_idle``, a lock wait is not compute)."""
    by_state = _state_of_category(settings)
    frame_cats = [_frame_category(f, settings.rules) for f in profile.frames]
    keys = [(f.name, f.file) for f in profile.frames]
    by_category: dict[str, float] = defaultdict(float)
    deciding: dict[str, dict[FunctionKey, float]] = defaultdict(lambda: defaultdict(float))
    self_fn: dict[FunctionKey, float] = defaultdict(float)
    total_fn: dict[FunctionKey, float] = defaultdict(float)
    threads: dict[str | None, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    leaves: dict[FunctionKey, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    sites: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    python_running: dict[str, float] = defaultdict(float)
    cats, stack_states = [], []
    rows = zip(profile.stacks, profile.weights, profile.threads, strict=True)
    for n, (stack, weight, thread) in enumerate(rows):
        category, frame = _stack_category(stack, frame_cats, settings)
        if states is not None:
            category, state = _reconcile(category, states.states[n], settings, by_state)
            stack_states.append(state)
            site = states.sites[n]
            if site is not None:
                sites[category][site] += weight
            if state == RUNNING and stack and profile.frames[stack[-1]].kind == "python":
                python_running[category] += weight
        cats.append(category)
        by_category[category] += weight
        threads[thread][category] += weight
        if stack:
            self_fn[keys[stack[-1]]] += weight
            leaves[keys[stack[-1]]][category] += weight
            deciding[category][keys[frame if frame is not None else stack[-1]]] += weight
        for key in {keys[i] for i in stack}:
            total_fn[key] += weight
    return ProfileStats(
        total=profile.total(),
        by_category=dict(by_category),
        self_by_function=dict(self_fn),
        total_by_function=dict(total_fn),
        deciding_by_category={c: dict(f) for c, f in deciding.items()},
        leaf_categories={k: dict(v) for k, v in leaves.items()},
        stack_categories=tuple(cats),
        by_thread={t: dict(c) for t, c in threads.items()},
        sites_by_category={c: dict(f) for c, f in sites.items()},
        stack_states=tuple(stack_states),
        stack_weights=tuple(profile.weights),
        python_running=dict(python_running),
    )


def _state_of_category(settings: Settings) -> dict[str, str]:
    """The thread state a waiting category implies (lock -> lock_wait), from the states."""
    out = {s.category: name for name, s in settings.states.items() if s.category and s.waiting}
    for name, cat in settings.categories.items():
        if cat.waiting and name not in out and cat.bottleneck == "downstream":
            out[name] = "io_network"  # a database driver's wait is a wait on the network
    out["sleep_idle"] = "idle"
    return out


def _reconcile(
    category: str, state: str, settings: Settings, by_state: dict[str, str]
) -> tuple[str, str]:
    """One category and one state per stack: a waiting state wins over a running category; a
    waiting category whose frames the state table does not know gives its state."""
    cat = settings.categories.get(category)
    waiting = cat is not None and cat.waiting
    info = settings.states.get(state)
    if info is None:
        return category, state
    if not info.limits:  # idle or sleep: whatever the frames are, not a bottleneck
        return "sleep_idle", state
    if info.waiting:
        absorber = cat is not None and bool(cat.absorbs)
        if waiting and absorber:
            return category, state  # e.g. a socket read under a database driver: database
        return info.category or category, state
    if waiting:  # running by the state table, but a waiting category's rule matched
        return category, by_state.get(category, RUNNING)
    return category, state


def _frame_category(frame: Frame, rules: Iterable[Rule]) -> str | None:
    return next((rule.category for rule in rules if matches(rule, frame)), None)


def _stack_category(
    stack: tuple[int, ...], frame_cats: list[str | None], settings: Settings
) -> tuple[str, int | None]:
    """The deepest matching frame's category, unless an absorbing category is in the stack."""
    category, deciding = DEFAULT_CATEGORY, None
    for i in reversed(stack):
        if frame_cats[i] is not None:
            category, deciding = frame_cats[i] or DEFAULT_CATEGORY, i
            break
    for i in stack:
        absorber = settings.categories.get(frame_cats[i] or "")
        if absorber is not None and category in absorber.absorbs:
            return absorber.name, i
    return category, deciding


def hot_paths(
    profile: Profile, stats: ProfileStats, limit: int = 10, depth: int = 8
) -> tuple[HotPath, ...]:
    """The heaviest stacks (threads merged), the last ``depth`` frames of each."""
    merged: dict[tuple[int, ...], float] = defaultdict(float)
    category: dict[tuple[int, ...], str] = {}
    for stack, weight, cat in zip(
        profile.stacks, profile.weights, stats.stack_categories, strict=True
    ):
        merged[stack] += weight
        category[stack] = cat
    top = sorted(merged, key=lambda s: merged[s], reverse=True)[:limit]
    return tuple(
        HotPath(
            path=_path(profile, stack, depth),
            share=stats.share(merged[stack]),
            category=category[stack],
        )
        for stack in top
    )


def _path(profile: Profile, stack: tuple[int, ...], depth: int) -> str:
    names = [profile.frames[i].name for i in stack]
    if not names:
        return "(empty stack)"
    return ("…;" if len(names) > depth else "") + ";".join(names[-depth:])
