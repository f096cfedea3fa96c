"""Settings: the defaults data (saturation targets, thresholds, benchmarks, the playbook) that
advisors read. Loaded from ``advisors/data/*.yaml`` and overridden with ``--defaults FILE``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from throughput_expert.model.records import BottleneckType, Level, Resource

__all__ = ["SIGNAL_TRIGGERS", "Benchmark", "Category", "Fix", "Play", "Rule", "Settings"]

Quantify = Literal["halve_binding", "scale_out", "parallelism", "none"]
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
    with its source and confidence)."""

    category: str
    optimization: str
    effort: Level
    risk: Level
    speedup: float
    source: str
    confidence: Level
    example: str | None = None


@dataclass(frozen=True)
class Settings:
    saturation_targets: Mapping[Resource, float]
    thresholds: Mapping[str, float]
    benchmarks: Mapping[str, Benchmark]
    plays: tuple[Play, ...]
    demand_reduction_factor: float
    demand_reduction_source: str
    latency_curve_points: int = 40
    latency_curve_max_utilization: float = 0.97
    categories: Mapping[str, Category] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    fixes: Mapping[str, Fix] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
