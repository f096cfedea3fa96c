"""The analysis of ``find-bottleneck``: where a profile's time goes and the bottleneck it shows.

Shares are fractions of the profile's total weight (``share_pct`` in JSON) unless said to be of
the *active* weight: the samples that are not sleep or idle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from throughput_expert.model.profile import Measures, ProfileUnit
from throughput_expert.model.record import item, measure
from throughput_expert.model.records import BottleneckType

__all__ = [
    "Bottleneck",
    "BottleneckAnalysis",
    "CategoryShare",
    "FunctionShare",
    "GilFunction",
    "GilRecord",
    "HotPath",
    "ProfileInfo",
    "ThreadShare",
]

GIL_LAW = "GIL wait ≈ 1 − gil samples / idle samples, per function (rates)"


@dataclass(frozen=True)
class ProfileInfo:
    """The profile read: its format and exporter, what its weights measure and in which unit
    (``total`` is their sum), its unique stacks, and whether idle threads were sampled."""

    format: str
    exporter: str | None
    measures: Measures
    unit: ProfileUnit
    total: float = item(doc="the sum of all weights, in unit")
    stacks: int = item(doc="unique stacks")
    idle_included: bool = item(doc="idle and waiting threads were sampled too (wall clock)")
    duration: float | None = measure("s", doc="how long the recording ran, when the file says")
    notes: tuple[str, ...] = item(doc="what the reader noticed or assumed")


@dataclass(frozen=True)
class Bottleneck:
    """The verdict: the bottleneck type (null when the profile is empty or only idle), the
    profile category and the function behind it."""

    type: BottleneckType | None
    category: str | None
    component: str | None
    share: float = measure("pct", doc="the category's share of active samples")
    reason: str = item()
    evidence_ids: tuple[str, ...] = item()


@dataclass(frozen=True)
class CategoryShare:
    """One category of work in the profile and its share of the samples."""

    category: str
    label: str
    share: float = measure("pct", doc="of all samples")
    share_of_active: float | None = measure(
        "pct", doc="of active samples; null for sleep and idle, which are not a bottleneck"
    )
    waiting: bool = item(doc="samples in it wait (off CPU) rather than run")
    bottleneck_type: BottleneckType | None = item(doc="what it points to")
    top_function: str | None = item(doc="the function that decides most of its samples")


@dataclass(frozen=True)
class FunctionShare:
    """A function's self and total share of the samples."""

    function: str = item(doc="name (pkg/module.py)")
    name: str = item()
    file: str | None = item()
    self_share: float = measure("pct", key="self_pct", doc="samples where it is the leaf")
    total_share: float = measure("pct", key="total_pct", doc="samples where it is on the stack")


@dataclass(frozen=True)
class HotPath:
    """One of the heaviest stacks (threads merged), its last frames."""

    path: str = item(doc="frame names, root to leaf, ';'-separated; '…;' when cut")
    share: float = measure("pct", doc="of all samples")
    category: str = item()


@dataclass(frozen=True)
class ThreadShare:
    """One thread's share of the samples and what it mostly does."""

    thread: str | None = item(doc="the thread id (null: the profile has no threads)")
    name: str = item()
    share: float = measure("pct", doc="of all samples")
    top_category: str = item(doc="its heaviest active category (sleep_idle when none)")
    on_cpu: float | None = measure("pct", doc="of its samples that are not waiting")


@dataclass(frozen=True)
class GilFunction:
    """A GIL-holding function: how often it held the GIL when the idle recording saw it."""

    function: str
    idle_samples: float = item(doc="its self weight in the --idle recording")
    gil_samples: float = item(doc="its self weight in the --gil recording")
    gil_held: float = measure("pct", doc="of its samples it holds the GIL")
    read_as: Literal["GIL wait", "blocked in a C call"] = item()


@dataclass(frozen=True)
class GilRecord:
    """GIL waiting estimated from a py-spy --gil recording against an --idle one."""

    law: str = item(doc="how the wait is estimated")
    gil_recording_scale: float = item(doc="weight of the --gil recording per --idle unit")
    waiting_share: float = measure("pct", doc="of all samples waiting for the GIL")
    functions: tuple[GilFunction, ...] = item(doc="the heaviest functions first (15 at most)")


@dataclass(frozen=True)
class BottleneckAnalysis:
    """find-bottleneck: the profile's categories, functions, hot paths and the verdict."""

    profile: ProfileInfo
    bottleneck: Bottleneck
    categories: tuple[CategoryShare, ...] = item(doc="heaviest first")
    functions: tuple[FunctionShare, ...] = item(doc="the heaviest by self time (15 at most)")
    hot_paths: tuple[HotPath, ...] = item(doc="the heaviest stacks (10 at most)")
    on_cpu: float | None = measure(
        "pct", doc="share of the samples on CPU (not waiting); null unless idle ones are included"
    )
    gil: GilRecord | None = item(omit_none=True, doc="with a GIL recording of the same run")
    threads: tuple[ThreadShare, ...] | None = item(
        omit_none=True, doc="when a per-thread breakdown was asked for"
    )
    utilization: Mapping[str, float] | None = measure(
        "pct", omit_none=True, doc="the host's utilization per resource, with host metrics"
    )
