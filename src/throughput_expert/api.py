"""The public API: friendly keyword arguments around the advisors' one call shape.

The CLI and the agent front doors call these functions; heavy modules (numpy, scipy) are imported
inside them so that importing the package stays cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from throughput_expert.model import Report

__all__ = ["analyze"]

Quantity = str | float | int
PathArg = str | PathLike[str]


def analyze(
    metrics: Sequence[PathArg] = (),
    *,
    current_rps: Quantity | None = None,
    target_rps: Quantity | None = None,
    system_type: str | None = None,
    service: str | None = None,
    interval: Quantity | None = None,
    defaults: PathArg | None = None,
) -> Report:
    """Analyze measured metrics: bottleneck, headroom, latency growth and recommendations.

    ``metrics`` are files: tpx metrics JSON, Prometheus API responses or tpx exports, or
    Prometheus text-exposition scrapes (two or more, ``interval`` apart when they carry no
    timestamps). Rates and durations may be human strings ("10K", "2.5M rps", "15s").
    """
    from throughput_expert.advisors.analyze import AnalyzeInputs, advise
    from throughput_expert.model.quantity import parse_duration, parse_rate
    from throughput_expert.sources import load_metrics
    from throughput_expert.sources.settings import load_settings

    settings = load_settings(defaults)
    interval_s = None
    if interval is not None:
        interval_s = parse_duration(interval, source="--interval", default_unit="s")
    loaded = load_metrics([str(p) for p in metrics], interval_s=interval_s, service=service)
    inputs = AnalyzeInputs(
        metrics=loaded,
        current_rps=None
        if current_rps is None
        else parse_rate(current_rps, source="--current-rps"),
        target_rps=None if target_rps is None else parse_rate(target_rps, source="--target-rps"),
        system_type=system_type,
        service=service,
    )
    return advise(inputs, settings)
