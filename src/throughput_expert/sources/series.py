"""Time series of one metric, and the few PromQL functions the sources need.

A ``Series`` is one labelled metric sampled over time: timestamps in seconds and float values,
both numpy arrays. The functions follow PromQL's semantics where PromQL has them:

- ``counter_increase`` is ``increase()`` without the extrapolation to the window edges: a
  decrease between two samples is a counter reset, so the value before the reset is added back
  (Prometheus ``promql/functions.go``, ``extrapolatedRate``).
- ``counter_rate`` is that increase divided by the time the samples span.
- ``histogram_quantile`` interpolates linearly inside the bucket holding the rank, as
  Prometheus's ``bucketQuantile`` does (``promql/quantile.go``).

NaN samples of a counter are staleness markers or gaps: they are dropped before a rate.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from throughput_expert.errors import InputError

__all__ = [
    "RATE_HINT",
    "FloatArray",
    "Labels",
    "MetricKind",
    "Series",
    "SeriesIndex",
    "can_rate",
    "counter_increase",
    "counter_rate",
    "gauge_last",
    "gauge_mean",
    "histogram_quantile",
    "make_labels",
]

if TYPE_CHECKING:  # numpy costs ~60 ms to import: the functions that build arrays load it
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]
else:
    FloatArray = Any
MetricKind = Literal["counter", "gauge", "histogram", "summary", "untyped"]
Labels = tuple[tuple[str, str], ...]

RATE_HINT = (
    "a rate needs two scrapes: give at least two metrics files of the same target, or a range query"
)


def make_labels(labels: Mapping[str, str] | Labels) -> Labels:
    """Labels as a sorted tuple of (name, value) pairs, whatever form they came in."""
    pairs = labels.items() if isinstance(labels, Mapping) else labels
    return tuple(sorted((str(k), str(v)) for k, v in pairs))


@dataclass(frozen=True)
class Series:
    """One labelled metric over time: ``t`` in Unix seconds, ``v`` its values (same length)."""

    name: str
    labels: Labels
    t: FloatArray
    v: FloatArray
    kind: MetricKind = "untyped"

    @classmethod
    def of(
        cls,
        name: str,
        labels: Mapping[str, str] | Labels,
        t: Sequence[float] | FloatArray,
        v: Sequence[float] | FloatArray,
        kind: MetricKind = "untyped",
    ) -> Series:
        """Build a series, converting labels and arrays to their canonical forms."""
        import numpy as np  # lazy: see FloatArray

        ts = np.asarray(t, dtype=np.float64)
        vs = np.asarray(v, dtype=np.float64)
        if ts.shape != vs.shape or ts.ndim != 1:
            raise InputError(f"{name}: timestamps and values differ in shape", field=name)
        return cls(name, make_labels(labels), ts, vs, kind)

    def label(self, key: str, default: str = "") -> str:
        """The value of one label ('' when absent, as in PromQL)."""
        for k, v in self.labels:
            if k == key:
                return v
        return default


class SeriesIndex:
    """Series grouped by metric name (``*_created`` dropped), remembering what it rated.

    ``span`` is the longest time a rate covered; ``unrated`` the names too short to rate.
    """

    def __init__(self, series: Iterable[Series]) -> None:
        self.by_name: dict[str, list[Series]] = defaultdict(list)
        for s in series:
            if not s.name.endswith("_created"):
                self.by_name[s.name].append(s)
        self.unrated: set[str] = set()
        self.span = 0.0

    def get(self, name: str) -> list[Series]:
        return self.by_name.get(name, [])

    def rates(self, series: Iterable[Series]) -> list[tuple[Series, float]]:
        """Each series' counter rate; series too short to rate are remembered, not rated."""
        out = []
        for s in series:
            if can_rate(s):
                out.append((s, counter_rate(s)))
                self.span = max(self.span, float(s.t[-1] - s.t[0]))
            else:
                self.unrated.add(s.name)
        return out

    def rate_sum(self, series: Iterable[Series]) -> float | None:
        """Σ rate over the series; None when none can be rated."""
        rated = self.rates(series)
        return sum(r for _, r in rated) if rated else None


def _finite_points(series: Series) -> tuple[FloatArray, FloatArray]:
    import numpy as np  # lazy: see FloatArray

    keep = ~np.isnan(series.v)
    return series.t[keep], series.v[keep]


def can_rate(series: Series) -> bool:
    """True when the series has two non-NaN samples over a positive time span."""
    t, _ = _finite_points(series)
    return len(t) >= 2 and float(t[-1] - t[0]) > 0.0


def counter_increase(series: Series) -> float:
    """How much a counter grew over its samples, counting resets as PromQL does.

    A sample lower than the one before it means the counter restarted from zero, so the value
    before the reset is added back: ``v[-1] - v[0] + Σ v[i-1] for every v[i] < v[i-1]``.
    """
    _, v = _finite_points(series)
    if len(v) < 2:
        raise InputError(RATE_HINT, field=series.name)
    drops = v[1:] < v[:-1]
    return float(v[-1] - v[0] + v[:-1][drops].sum())


def counter_rate(series: Series) -> float:
    """Per-second increase of a counter: ``increase / (t_last - t_first)``."""
    t, _ = _finite_points(series)
    if len(t) < 2 or not float(t[-1] - t[0]) > 0.0:
        raise InputError(RATE_HINT, field=series.name)
    return counter_increase(series) / float(t[-1] - t[0])


def gauge_mean(series: Series) -> float:
    """Mean of a gauge's non-NaN samples (NaN when it has none: not measured)."""
    if series.v.size == 0:
        raise InputError("the series has no samples", field=series.name)
    _, v = _finite_points(series)
    return float(v.mean()) if v.size else math.nan


def gauge_last(series: Series) -> float:
    """The last non-NaN sample of a gauge (NaN when it has none)."""
    if series.v.size == 0:
        raise InputError("the series has no samples", field=series.name)
    _, v = _finite_points(series)
    return float(v[-1]) if v.size else math.nan


def histogram_quantile(q: float, bounds: Sequence[float], counts: Sequence[float]) -> float:
    """The q-quantile of a cumulative histogram, as PromQL's ``histogram_quantile``.

    ``bounds`` are the buckets' upper bounds (``le``), ``counts`` their cumulative counts (or
    rates). With rank ``r = q · total``, the first bucket b whose count reaches r holds it and
    the result is ``lo_b + (hi_b - lo_b) · (r - count_{b-1}) / (count_b - count_{b-1})``, with
    ``lo = 0`` for the first bucket. A rank in the ``+Inf`` bucket gives the upper bound of the
    last finite bucket. NaN when the histogram is empty or lacks its ``+Inf`` bucket.
    """
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    pairs = sorted(zip(bounds, counts, strict=True))
    if len(pairs) < 2 or not math.isinf(pairs[-1][0]):
        return math.nan
    ubs = [b for b, _ in pairs]
    import numpy as np  # lazy: see FloatArray

    cum = np.maximum.accumulate(np.array([c for _, c in pairs], dtype=np.float64))
    total = float(cum[-1])
    if not total > 0:
        return math.nan
    rank = q * total
    b = int(np.searchsorted(cum, rank, side="left"))
    if b == len(ubs) - 1:
        return ubs[-2]
    if b == 0 and ubs[0] <= 0:
        return ubs[0]
    start, below = (0.0, 0.0) if b == 0 else (ubs[b - 1], float(cum[b - 1]))
    in_bucket = float(cum[b]) - below
    if not in_bucket > 0:  # q = 0 on an empty first bucket: 0/0 in PromQL too
        return math.nan
    return start + (ubs[b] - start) * (rank - below) / in_bucket
