"""Argument checks shared by the laws: each names the law (``source``) and the argument."""

from __future__ import annotations

import math
import operator

from throughput_expert.errors import InputError

__all__ = ["fraction", "non_negative", "positive", "servers"]


def non_negative(value: float, field: str, source: str) -> float:
    if not math.isfinite(value) or value < 0:
        raise InputError(f"must be a finite number >= 0, got {value!r}", source=source, field=field)
    return float(value)


def positive(value: float, field: str, source: str) -> float:
    number = non_negative(value, field, source)
    if number == 0:
        raise InputError("must be > 0, got 0", source=source, field=field)
    return number


def fraction(value: float, field: str, source: str) -> float:
    if not math.isfinite(value) or not 0 <= value <= 1:
        raise InputError(f"must be a fraction in [0, 1], got {value!r}", source=source, field=field)
    return float(value)


def servers(count: int, source: str) -> int:
    try:
        whole = operator.index(count)
    except TypeError:
        whole = 0
    if whole < 1:
        raise InputError(
            f"must be a whole number >= 1, got {count!r}", source=source, field="servers"
        )
    return whole
