"""throughput-expert: throughput engineering advice from measurements.

Every number in a report comes from a measurement or a law (Little's law, the utilization and
service-demand laws, Erlang C, the USL, Amdahl) and says which.

    >>> from throughput_expert import analyze
    >>> report = analyze(["metrics.json"], target_rps="50K")   # doctest: +SKIP
    >>> report.summary                                          # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from throughput_expert.api import (
    analyze,
    design_batching,
    find_bottleneck,
    fit_usl,
    optimize_concurrency,
    scaling_plan,
    sweep,
)
from throughput_expert.errors import (
    FitError,
    InputError,
    MeasurementError,
    ModelError,
    ThroughputError,
    UnstableSystem,
)

if TYPE_CHECKING:
    from throughput_expert.live import PrometheusOptions

__version__ = "0.1.0"

__all__ = [
    "FitError",
    "InputError",
    "MeasurementError",
    "ModelError",
    "PrometheusOptions",
    "ThroughputError",
    "UnstableSystem",
    "__version__",
    "analyze",
    "design_batching",
    "find_bottleneck",
    "fit_usl",
    "optimize_concurrency",
    "scaling_plan",
    "sweep",
]


def __getattr__(name: str) -> object:
    """``PrometheusOptions`` is imported on first use (keeps ``import throughput_expert`` cheap)."""
    if name == "PrometheusOptions":
        from throughput_expert.live import PrometheusOptions

        return PrometheusOptions
    raise AttributeError(f"module 'throughput_expert' has no attribute {name!r}")
