"""Human forms of quantities ("12.3 ms", "45 %", "10.2K rps"): the one place units are formatted.

Used by report summaries and by the text and HTML renderers; the JSON form never holds these.
"""

from __future__ import annotations

import math

__all__ = ["fmt_bytes", "fmt_count", "fmt_duration", "fmt_factor", "fmt_pct", "fmt_rate"]

_SI = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K"))


def _sig(value: float, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits, without a trailing ``.0``."""
    if value == 0:
        return "0"  # -0.0 too: "-0 %" reads as a sign that means nothing
    if not math.isfinite(value):
        return f"{value:g}"
    text = f"{value:.{digits}g}"
    if "e" in text:
        # written out: a large count keeps its digits (up to a thousand trillion, past every
        # physical range the readers allow), a tiny one its first significant digits
        if abs(value) < 1e-9:
            return "0"  # float noise (1.1e-14 of a share summed from parts): zero to the eye
        if abs(value) >= 1e15:
            return text  # beyond any rate or count tpx reads: only from a bug
        if abs(value) >= 1:
            return f"{value:.0f}"
        decimals = digits - 1 - math.floor(math.log10(abs(value)))
        return f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return text


def fmt_count(value: float | None) -> str:
    """10200 -> "10.2K"; 950 -> "950"."""
    if value is None:
        return "n/a"
    for scale, suffix in _SI:
        if abs(value) >= scale:
            return _sig(value / scale) + suffix
    return _sig(value)


def fmt_rate(value: float | None, unit: str = "rps") -> str:
    """10200 -> "10.2K rps"."""
    return "n/a" if value is None else f"{fmt_count(value)} {unit}"


def fmt_duration(seconds: float | None) -> str:
    """0.0123 -> "12.3 ms"; 1.5e-5 -> "15 µs"; 2.5 -> "2.5 s"."""
    if seconds is None:
        return "n/a"
    if seconds == 0:
        return "0 ms"
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if abs(seconds) >= scale:
            return f"{_sig(seconds / scale)} {unit}"
    return f"{_sig(seconds / 1e-9)} ns"


def fmt_pct(fraction: float | None, digits: int = 3) -> str:
    """0.4512 -> "45.1 %" (the argument is a fraction)."""
    if fraction is None:
        return "n/a"
    return f"{_sig(fraction * 100, digits)} %"


def fmt_factor(value: float | None) -> str:
    """5.714 -> "5.71×"."""
    return "n/a" if value is None else f"{_sig(value)}×"


def fmt_bytes(value: float | None) -> str:
    """1536 -> "1.5 KiB"."""
    if value is None:
        return "n/a"
    for power, unit in ((3, "GiB"), (2, "MiB"), (1, "KiB")):
        if abs(value) >= 1024**power:
            return f"{_sig(value / 1024**power)} {unit}"
    return f"{_sig(value)} B"
