"""Model records: frozen dataclasses shared by every stage (stdlib only)."""

from __future__ import annotations

from throughput_expert.model.records import (
    RESOURCES,
    BottleneckType,
    InputRef,
    Latency,
    Level,
    Resource,
    Saturation,
    ServiceMetrics,
)
from throughput_expert.model.report import (
    SCHEMA_VERSION,
    Assumption,
    Command,
    Evidence,
    Recommendation,
    Report,
    Series,
)

__all__ = [
    "RESOURCES",
    "SCHEMA_VERSION",
    "Assumption",
    "BottleneckType",
    "Command",
    "Evidence",
    "InputRef",
    "Latency",
    "Level",
    "Recommendation",
    "Report",
    "Resource",
    "Saturation",
    "Series",
    "ServiceMetrics",
]
