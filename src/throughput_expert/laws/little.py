"""Little's law, L = λ·W.

Source: J. D. C. Little, "A Proof for the Queuing Formula: L = λW", Operations Research 9(3),
1961; Lazowska et al., "Quantitative System Performance", 1984, ch. 3. It holds for any stable
system in steady state, whatever the arrival or service distributions: L is the mean number in
the system (concurrency), λ its throughput (per second) and W the mean time spent in it (seconds).
"""

from __future__ import annotations

from throughput_expert.errors import ModelError
from throughput_expert.laws._checks import non_negative

__all__ = ["concurrency", "response_time_from", "throughput_from"]

_SOURCE = "Little's law"


def _non_negative(value: float, field: str) -> float:
    return non_negative(value, field, _SOURCE)


def _positive(value: float, field: str) -> float:
    number = _non_negative(value, field)
    if number == 0:
        raise ModelError("is 0: Little's law divides by it", source=_SOURCE, field=field)
    return number


def concurrency(throughput: float, response_time: float) -> float:
    """Mean number in the system, L = X·W (throughput per second × response time in seconds)."""
    return _non_negative(throughput, "throughput") * _non_negative(response_time, "response_time")


def throughput_from(concurrency: float, response_time: float) -> float:
    """Throughput per second, X = L / W; ``response_time`` must be > 0."""
    return _non_negative(concurrency, "concurrency") / _positive(response_time, "response_time")


def response_time_from(concurrency: float, throughput: float) -> float:
    """Mean response time in seconds, W = L / X; ``throughput`` must be > 0."""
    return _non_negative(concurrency, "concurrency") / _positive(throughput, "throughput")
