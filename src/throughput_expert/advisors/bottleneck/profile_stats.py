"""Where a profile's time goes: categories, functions (self and total), hot paths, threads.

A stack's category is that of its deepest frame matching a rule (``categories.yaml``); a category
that absorbs others claims a stack when any of its frames matches it (a socket read under a
database driver is a database wait). Frames that match no rule are ``compute``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from throughput_expert.model.analysis.bottleneck import HotPath
from throughput_expert.model.profile import Frame, Profile
from throughput_expert.model.settings import Rule, Settings

__all__ = ["FunctionKey", "ProfileStats", "function_name", "hot_paths", "profile_stats"]

DEFAULT_CATEGORY = "compute"
FunctionKey = tuple[str, str | None]  # (name, file): lines of one function aggregate together

_RUNTIME_KINDS = {
    "python": {"python"},
    "java": {"java", "jit"},
    "go": {"go"},
    "js": {"js"},
    "native": {"native", "unknown"},
    "kernel": {"kernel"},
}


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


def profile_stats(profile: Profile, settings: Settings) -> ProfileStats:
    frame_cats = [_frame_category(f, settings.rules) for f in profile.frames]
    keys = [(f.name, f.file) for f in profile.frames]
    by_category: dict[str, float] = defaultdict(float)
    deciding: dict[str, dict[FunctionKey, float]] = defaultdict(lambda: defaultdict(float))
    self_fn: dict[FunctionKey, float] = defaultdict(float)
    total_fn: dict[FunctionKey, float] = defaultdict(float)
    threads: dict[str | None, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    leaves: dict[FunctionKey, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    cats = []
    for stack, weight, thread in zip(profile.stacks, profile.weights, profile.threads, strict=True):
        category, frame = _stack_category(stack, frame_cats, settings)
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
    )


def _frame_category(frame: Frame, rules: Iterable[Rule]) -> str | None:
    for rule in rules:
        if rule.runtime and frame.kind not in _RUNTIME_KINDS.get(rule.runtime, {rule.runtime}):
            continue
        if rule.name is not None and not rule.name.search(frame.name):
            continue
        if rule.file is not None and not (frame.file and rule.file.search(frame.file)):
            continue
        return rule.category
    return None


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
