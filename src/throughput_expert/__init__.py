"""throughput-expert: throughput engineering advice from measurements.

Every number in a report comes from a measurement or a law (Little's law, the utilization and
service-demand laws, Erlang C, the USL, Amdahl) and says which.

    >>> from throughput_expert import analyze
    >>> report = analyze(["metrics.json"], target_rps="50K")   # doctest: +SKIP
    >>> report.summary                                          # doctest: +SKIP
"""

from __future__ import annotations

from throughput_expert.api import (
    PrometheusOptions,
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
