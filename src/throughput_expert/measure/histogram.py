"""Latency histograms: a thin wrapper over HdrHistogram (the ``hdrhistogram`` package).

Latencies are recorded in seconds and kept as integer microseconds from 1 µs to 1 h with three
significant digits (G. Tene's HdrHistogram: every value is stored within 0.1 % of itself, in a
fixed amount of memory, so a level of millions of requests costs a few tens of kilobytes).
Values outside the range are clamped to it, and the clamping is counted. ``record`` only appends
to a buffer; every ``FLUSH_EVERY`` values the buffer goes into the histogram at once (one
``record_value(v, count)`` per distinct microsecond value), which keeps a recording off the hot
path of a fast driver (a few hundred nanoseconds instead of a few microseconds).

Each worker of a level records into a histogram of its own, merged after the level (``add``);
a worker process sends its histogram to the runner as bytes (``to_bytes``/``from_bytes``:
HdrHistogram's compressed encoding, a few kilobytes whatever the count).
"""

from __future__ import annotations

import numpy as np
from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]

from throughput_expert.model.records import Latency

__all__ = ["FLUSH_EVERY", "HIGHEST_S", "LOWEST_S", "SIGNIFICANT_DIGITS", "LatencyHistogram"]

LOWEST_S = 1e-6
HIGHEST_S = 3600.0
SIGNIFICANT_DIGITS = 3
_LOWEST_US = 1
_HIGHEST_US = int(HIGHEST_S * 1e6)
FLUSH_EVERY = 4096


class LatencyHistogram:
    """Latencies in seconds, summarised as mean, p50, p90, p99, p99.9 and max."""

    def __init__(self) -> None:
        self._hist = HdrHistogram(_LOWEST_US, _HIGHEST_US, SIGNIFICANT_DIGITS)
        self._pending: list[float] = []
        self._clamped = 0

    def record(self, seconds: float) -> None:
        """Record one latency; values outside 1 µs .. 1 h are clamped (and counted)."""
        self._pending.append(seconds)
        if len(self._pending) >= FLUSH_EVERY:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        micros = np.rint(np.asarray(self._pending, dtype=np.float64) * 1e6)
        self._pending.clear()
        outside = (micros < _LOWEST_US) | (micros > _HIGHEST_US)
        self._clamped += int(np.count_nonzero(outside))
        values, counts = np.unique(np.clip(micros, _LOWEST_US, _HIGHEST_US), return_counts=True)
        for value, count in zip(values.tolist(), counts.tolist(), strict=True):
            self._hist.record_value(int(value), int(count))

    def add(self, other: LatencyHistogram) -> None:
        """Merge ``other``'s values into this histogram."""
        self._flush()
        other._flush()
        self._hist.add(other._hist)
        self._clamped += other._clamped

    def to_bytes(self) -> bytes:
        """The histogram (and its clamped count) as bytes, for another process."""
        self._flush()
        encoded: bytes = self._hist.encode()
        return f"{self._clamped}:".encode() + encoded

    @classmethod
    def from_bytes(cls, data: bytes) -> LatencyHistogram:
        """The histogram ``to_bytes`` encoded."""
        clamped, _, encoded = data.partition(b":")
        made = cls()
        made._clamped = int(clamped)
        if made._clamped < 0:
            raise ValueError("negative clamped count")
        made._hist.add(HdrHistogram.decode(encoded))
        return made

    @property
    def clamped(self) -> int:
        """How many values fell outside 1 µs .. 1 h and were clamped to it."""
        self._flush()
        return self._clamped

    @property
    def count(self) -> int:
        self._flush()
        return int(self._hist.get_total_count())

    def percentile_s(self, percent: float) -> float:
        """The latency at ``percent`` (0–100), in seconds; 0 when nothing was recorded."""
        self._flush()
        return float(self._hist.get_value_at_percentile(percent)) / 1e6

    def latency(self) -> Latency:
        """The summary as a ``Latency`` record; every field None when nothing was recorded."""
        if self.count == 0:
            return Latency()
        return Latency(
            mean_s=float(self._hist.get_mean_value()) / 1e6,
            p50_s=self.percentile_s(50),
            p90_s=self.percentile_s(90),
            p95_s=self.percentile_s(95),
            p99_s=self.percentile_s(99),
            p999_s=self.percentile_s(99.9),
            max_s=float(self._hist.get_max_value()) / 1e6,
        )
