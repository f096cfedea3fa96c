"""Progress of a sweep: the events the runner (``measure.runner``) emits.

The runner calls its ``on_progress`` callback with a ``ProgressEvent``: ``level_start`` before a
level, ``tick`` about four times a second while it runs (closed- and open-loop drivers; a
``LevelDriver`` such as Locust reports only start and end), ``level_end`` with the level's
figures, and ``sweep_end`` once at the end, whatever happened. Showing them is the renderers'
job: ``render.progress.progress_printer``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from throughput_expert.model.sweep import SweepMode

__all__ = ["ProgressEvent", "ProgressKind"]

ProgressKind = Literal["level_start", "tick", "level_end", "sweep_end"]


@dataclass(frozen=True)
class ProgressEvent:
    """Where a sweep stands. ``index`` counts levels from 1; rates are per second."""

    kind: ProgressKind
    index: int
    total: int
    level: float
    mode: SweepMode
    elapsed_s: float = 0.0
    planned_s: float = 0.0
    completed: int = 0
    errors: int = 0
    rate_rps: float = 0.0
    warming_up: bool = False
    p99_s: float | None = None
    message: str = ""
