"""The one exception tree of throughput-expert.

::

    ThroughputError                    anything the tool reports to a user (exit 2)
    ├── InputError                     bad input: carries the source and the field path
    ├── ModelError                     the data cannot support what a law needs
    │   ├── UnstableSystem             utilization >= 1 in a queueing formula
    │   └── FitError                   a fit the data cannot support
    └── MeasurementError               a measurement that could not be made

Every error renders as one line, ``SOURCE: FIELD: what is wrong``; the command line prints that
line on stderr and exits 2. Anything else reaching the user is a bug (exit 1).
"""

from __future__ import annotations

__all__ = [
    "FitError",
    "InputError",
    "MeasurementError",
    "ModelError",
    "ThroughputError",
    "UnstableSystem",
]


class ThroughputError(Exception):
    """Base of every error the tool reports to a user as one line."""

    def __init__(self, message: str, *, source: str = "tpx", field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.field = field

    def one_line(self) -> str:
        """``SOURCE: FIELD: what is wrong`` (FIELD omitted when there is none), on one line."""
        parts = [self.source]
        if self.field:
            parts.append(self.field)
        parts.append(self.message)
        return ": ".join(p.replace("\n", " ") for p in parts)

    def __str__(self) -> str:
        return self.one_line()


class InputError(ThroughputError):
    """The input is malformed, contradictory or impossible (source = file or flag)."""


class ModelError(ThroughputError):
    """A law or model cannot give an answer from these numbers."""


class UnstableSystem(ModelError):
    """Utilization >= 1 where a queueing formula needs a stable queue."""


class FitError(ModelError):
    """A fit the data cannot support (too few points, degenerate, or a poor fit)."""


class MeasurementError(ThroughputError):
    """A measurement could not be made (a driver failed, a service was unreachable)."""
