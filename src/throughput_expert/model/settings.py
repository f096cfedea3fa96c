"""Settings: the defaults data (saturation targets, thresholds, benchmarks, the playbook) that
advisors read. Loaded from ``advisors/data/*.yaml`` and overridden with ``--defaults FILE``.

Every default lives in that data, never in code: advisors read a key with ``threshold(key)`` or
``setting(section, key)``, which raise ``MissingSetting`` naming the key when the packaged data
lacks it (a user file can change a key, never remove one), instead of falling back to a number
of their own that could drift from the data. ``tests/model/test_settings_keys_used.py`` checks
that every key the code reads is packaged."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from throughput_expert.model.records import BottleneckType, Level, Resource
from throughput_expert.model.system import ChangeKind

__all__ = [
    "SIGNAL_TRIGGERS",
    "Benchmark",
    "Category",
    "Fix",
    "MissingSetting",
    "Play",
    "Rule",
    "Settings",
    "StateRule",
    "ThreadState",
]

# "model": the play is a change to the system model (``change``), priced by the solver; "none":
# the model cannot express it, so it carries no number.
Quantify = Literal["model", "none"]
Horizon = Literal["quick", "short", "long"]

# The triggers a play's ``when`` may name besides ``bottleneck:TYPE`` and ``system:TYPE``: the
# signals the analyze advisor computes (``advisors/resources.py``, ``advisors/analyze.py``; the
# header of ``advisors/data/playbook.yaml`` documents them). A play with any other trigger would
# never be chosen, so ``--defaults`` refuses one.
SIGNAL_TRIGGERS = (
    "single_worker", "run_queue", "cpu_steal", "iowait", "disk_queue", "swap", "major_faults",
    "psi_memory", "network_drops", "retransmits", "over_target", "target_beyond_ceiling",
    "context_switches", "unexplained_wait",
)  # fmt: skip


@dataclass(frozen=True)
class Benchmark:
    """A row of the seed's benchmark table: good and excellent rates for a system type."""

    unit: str
    per_core: bool
    good: float
    excellent: float


@dataclass(frozen=True)
class Play:
    """One playbook entry: what to do, when (triggers), at what effort and risk."""

    id: str
    when: tuple[str, ...]
    optimization: str
    horizon: Horizon
    effort: Level
    risk: Level
    quantify: Quantify
    rationale: str
    example: str | None = None
    change: ChangeKind | None = None
    """With ``quantify: model``: the kind of change to the system model it makes."""


@dataclass(frozen=True)
class Category:
    """A kind of work seen in a profile, the bottleneck type it points to, and whether samples
    in it are waiting (off CPU) rather than running."""

    name: str
    label: str
    bottleneck: BottleneckType | None
    waiting: bool
    absorbs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    """Frames whose name (and/or file) match these patterns belong to ``category``."""

    category: str
    name: re.Pattern[str] | None
    file: re.Pattern[str] | None
    runtime: str | None = None
    source: str = ""


@dataclass(frozen=True)
class Fix:
    """What to do about a category, and the speed-up of that part of the work (a rule of thumb
    with its source and confidence; None when no figure can be given: the fix is then offered
    without a number)."""

    category: str
    optimization: str
    effort: Level
    risk: Level
    speedup: float | None
    source: str
    confidence: Level
    example: str | None = None
    runtimes: tuple[str, ...] = ()
    """The runtimes it applies to (python, go, node, jvm, native); empty: any."""


@dataclass(frozen=True)
class ThreadState:
    """A state a sampled thread can be in (``thread_states.yaml``): whether time in it limits
    throughput, whether it waits, the profile category and bottleneck type it points to."""

    name: str
    label: str
    limits: bool
    waiting: bool
    category: str | None
    bottleneck: BottleneckType | None


@dataclass(frozen=True)
class StateRule:
    """Frames matching these patterns put a sample in ``state`` (``thread_states.yaml``);
    ``called_from``: only when the frame's caller is a frame of that kind (e.g. python)."""

    state: str
    name: re.Pattern[str] | None
    file: re.Pattern[str] | None
    runtime: str | None = None
    called_from: str | None = None


class MissingSetting(LookupError):
    """A key the code reads is not in the defaults data: a bug in the packaged YAML (a user's
    ``--defaults`` file merges over it and cannot remove a key), never a user's mistake."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path

    def __str__(self) -> str:
        return (
            f"{self.path} is not in the defaults data (throughput_expert/advisors/data/*.yaml): "
            "the code reads it, so the packaged data must define it"
        )


@dataclass(frozen=True)
class Settings:
    saturation_targets: Mapping[Resource, float]
    thresholds: Mapping[str, float]
    benchmarks: Mapping[str, Benchmark]
    plays: tuple[Play, ...]
    latency_curve_points: int
    latency_curve_max_utilization: float
    categories: Mapping[str, Category] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    fixes: Mapping[str, Fix] = field(default_factory=dict)
    states: Mapping[str, ThreadState] = field(default_factory=dict)
    state_rules: tuple[StateRule, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    def threshold(self, key: str) -> float:
        """``thresholds.<key>`` of the defaults data; ``MissingSetting`` when it is not there."""
        if key not in self.thresholds:
            raise MissingSetting(f"thresholds.{key}")
        return self.thresholds[key]

    def target(self, resource: Resource) -> float:
        """``saturation_targets.<resource>``: the utilization the resource should stay under."""
        if resource not in self.saturation_targets:
            raise MissingSetting(f"saturation_targets.{resource}")
        return self.saturation_targets[resource]

    def setting(self, section: str, key: str) -> Any:
        """``<section>.<key>`` of the defaults data (``thread_pools.async_pool_threshold``);
        ``MissingSetting`` when either is not there."""
        entries = self._section(section)
        if key not in entries:
            raise MissingSetting(f"{section}.{key}")
        return entries[key]

    def runtime(self, name: str | None) -> Mapping[str, Any]:
        """``runtimes.<name>`` (keys ``cpu``, ``io``, ``gil``); empty when no runtime is named
        or the data describes none of that name (the advice is then runtime-neutral)."""
        entry = self._section("runtimes").get(name or "")
        return cast(Mapping[str, Any], entry) if isinstance(entry, Mapping) else {}

    def batching_operation(self, name: str) -> Mapping[str, Any]:
        """``batching_operations.<name>`` (keys ``fixed_share``, ``source``, ``confidence``,
        ``cheaper_method``), or the ``default`` entry for an operation the data does not list."""
        entries = self._section("batching_operations")
        if entries.get(name):
            return cast(Mapping[str, Any], entries[name])
        if "default" not in entries:
            raise MissingSetting("batching_operations.default")
        return cast(Mapping[str, Any], entries["default"])

    def _section(self, name: str) -> Mapping[str, Any]:
        entries = self.raw.get(name)
        if not isinstance(entries, Mapping):
            raise MissingSetting(name)
        return entries
