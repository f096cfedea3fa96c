"""The human quantity parser: what a user types or a file gives, as an SI float.

Every public function takes text ("10K", "2.5M rps", "5ms", "45%", "2.5 GB/s") or a Python number
and returns one float in SI units: events per second, seconds, a fraction 0..1, bytes, bytes per
second, or a plain count. One regex (``_QUANTITY``) splits any text into a number and a unit; one
table per kind maps the unit to its SI factor. Anything unreadable, negative, not finite or of the
wrong type raises ``InputError`` carrying ``source`` and ``field``; nothing else escapes.

Percent rule (docs/formats.md §5.3): a string with ``%`` is a percent; a number under a key
ending in ``_pct`` is 0-100; a number under a bare key is a fraction 0-1, and a bare number above
1 is an input error that suggests the ``%`` form.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal, NoReturn

from throughput_expert.errors import InputError
from throughput_expert.redact import secret_key

__all__ = [
    "COUNT_BOUNDS",
    "DurationUnit",
    "Range",
    "check_count",
    "check_keys",
    "did_you_mean",
    "disagree",
    "echo",
    "gate",
    "gate_int",
    "in_range",
    "parse_bandwidth",
    "parse_bytes",
    "parse_count",
    "parse_duration",
    "parse_fraction",
    "parse_rate",
]

DurationUnit = Literal["ns", "us", "ms", "s", "min", "h"]

Quantity = str | int | float

# Thousands separators only in well-formed groups of three ("1,234,567", "1_000"; not "1,00").
_QUANTITY = re.compile(
    r"""
    (?P<sign>[-+\u2212]?)
    (?P<number>
        (?: (?:\d{1,3}(?:,\d{3})+ | \d{1,3}(?:_\d{3})+ | \d+) (?:\.\d*)? | \.\d+ )
        (?:[eE][-+]?\d+)?
    )
    \s*
    (?P<unit>.*)
    """,
    re.ASCII | re.DOTALL | re.VERBOSE,
)

_SHOWN_CHARS = 40


def _no_space(unit: str) -> str:
    return "".join(unit.split())


def _no_space_lower(unit: str) -> str:
    return _no_space(unit).lower()


@dataclass(frozen=True)
class _Kind:
    """One kind of quantity: its name in messages, examples, and its unit table."""

    name: str
    examples: str
    units: Mapping[str, Fraction]  # exact factors: results are correctly rounded
    fold: Callable[[str], str]


def _table(
    entries: Iterable[tuple[str, Fraction | int]], fold: Callable[[str], str]
) -> dict[str, Fraction]:
    return {fold(unit): Fraction(factor) for unit, factor in entries}


_MULTIPLIERS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9}
_RATE_NOUNS = (
    *("", "req", "reqs", "request", "requests", "msg", "msgs", "message", "messages"),
    *("event", "events", "op", "ops", "tx", "txn", "txns", "transaction", "transactions"),
    *("query", "queries", "call", "calls", "hit", "hits"),
)
_PERIODS = {
    **dict.fromkeys(("s", "sec", "second"), 1),
    **dict.fromkeys(("min", "minute"), 60),
    **dict.fromkeys(("h", "hr", "hour"), 3600),
}
_RATE_WORDS = {
    "": Fraction(1),
    "rps": Fraction(1),
    "qps": Fraction(1),
    "tps": Fraction(1),
    **{
        f"{noun}{per}{period}": Fraction(1, secs)
        for noun in _RATE_NOUNS
        for per in ("/", " per ")
        for period, secs in _PERIODS.items()
    },
}
_RATE = _Kind(
    "a rate",
    "10K, 2.5M rps, 5000/s",
    _table(
        ((m + word, mf * wf) for m, mf in _MULTIPLIERS.items() for word, wf in _RATE_WORDS.items()),
        _no_space_lower,
    ),
    _no_space_lower,
)

_DURATION = _Kind(
    "a duration",
    "5ms, 1.2s, 100us",
    _table(
        [
            *((u, Fraction(1, 10**9)) for u in ("ns", "nsec", "nanosecond", "nanoseconds")),
            *(
                (u, Fraction(1, 10**6))
                for u in ("us", "µs", "μs", "usec", "microsecond", "microseconds")
            ),
            *(
                (u, Fraction(1, 10**3))
                for u in ("ms", "msec", "msecs", "millisecond", "milliseconds")
            ),
            *((u, 1) for u in ("s", "sec", "secs", "second", "seconds")),
            *((u, 60) for u in ("m", "min", "mins", "minute", "minutes")),
            *((u, 3600) for u in ("h", "hr", "hrs", "hour", "hours")),
        ],
        _no_space_lower,
    ),
    _no_space_lower,
)

_FRACTION = _Kind("a utilization", '45%, "45 %", 0.45', {"%": Fraction(1, 100)}, _no_space)

_COUNT = _Kind(
    "a count", "10K, 2.5M, 1,000", _table(_MULTIPLIERS.items(), _no_space_lower), _no_space_lower
)

# Byte prefixes are case-sensitive: "b" is a bit, "B" a byte; "Ki" is 1024-based.
_BYTE_PREFIXES = {
    "": 1,
    "k": 10**3,
    "K": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
}
_BYTES = _Kind(
    "a byte size",
    "512MB, 4GiB, 1000",
    _table(
        [
            ("", 1),
            ("byte", 1),
            ("bytes", 1),
            *((p + "B", f) for p, f in _BYTE_PREFIXES.items()),
        ],
        _no_space,
    ),
    _no_space,
)
_BITS = Fraction(1, 8)
_BANDWIDTH_SUFFIXES = {
    "B/s": Fraction(1),
    "Bps": Fraction(1),
    "b/s": _BITS,
    "bps": _BITS,
    "bit/s": _BITS,
}
_BANDWIDTH = _Kind(
    "a bandwidth",
    "2.5 GB/s, 100 MiB/s, 1 Gbit/s, 100 Mbps",
    _table(
        [
            ("", 1),
            ("bytes/s", 1),
            *(
                (p + s, pf * sf)
                for p, pf in _BYTE_PREFIXES.items()
                for s, sf in _BANDWIDTH_SUFFIXES.items()
            ),
        ],
        _no_space,
    ),
    _no_space,
)


def parse_rate(value: Quantity, *, source: str = "input", field: str = "") -> float:
    """Events per second from "10K", "2.5M rps", "600/min", "3,600 per hour" or a number."""
    return in_range(_parse(value, _RATE, source, field), "rate", value, source=source, field=field)


def parse_count(value: Quantity, *, source: str = "input", field: str = "") -> float:
    """A plain count from "10K", "2.5M", "1,000", "1_000" or a number.

    A count of cores, workers or instances (by the last word of ``field``: ``cores``,
    ``components[2].max_instances``) is also held to its bound (``COUNT_BOUNDS``).
    """
    number = in_range(
        _parse(value, _COUNT, source, field), "count", value, source=source, field=field
    )
    return check_count(number, value, source=source, field=field)


# Counts that size work — a loop, a pool, a series, an array: above these a value is a typo or
# an attack, never a system, and refusing it keeps every law's work bounded. Keyed by the last
# word of a field (a flag passes ``kind="cores"`` or ``kind="workers"`` instead).
_CORE_BOUND = (100_000, "more than any one host has")
_WORKER_BOUND = (1 << 24, "more than any one service runs")
COUNT_BOUNDS: Mapping[str, tuple[int, str]] = {
    **dict.fromkeys(("cores", "cpu_cores"), _CORE_BOUND),
    **dict.fromkeys(
        ("workers", "threads", "consumers", "servers", "concurrency", "current_threads"),
        _WORKER_BOUND,
    ),
    **dict.fromkeys(("instances", "max_instances", "replicas", "partitions"), _WORKER_BOUND),
}


def check_count(
    number: float,
    value: object = None,
    *,
    source: str = "input",
    field: str = "",
    kind: str | None = None,
) -> float:
    """``number`` when it is within the bound of its kind of count (``kind``, else the last word
    of ``field``; see ``COUNT_BOUNDS``), else an ``InputError`` stating the bound and why.

    ``value`` is what the user wrote, shown in the message (``number`` when None).
    """
    word = kind or field.rsplit(".", 1)[-1].lower()
    bound = COUNT_BOUNDS.get(word)
    if bound is None or number <= bound[0]:
        return number
    limit, why = bound
    shown = _shown(number if value is None else value, field)
    raise InputError(f"{shown} is {why} (at most {limit:,})", source=source, field=field)


# -- the numeric gate: every raw number a reader takes in passes here once ---------------------
#
# A reader turns each raw value (a JSON number, a CSV cell, a word of a tool's output, a YAML
# scalar) into a model value with ``gate`` (a float) or ``gate_int`` (a whole number), naming the
# quantity's kind; the parse_* functions above hold their results to the same ranges. A value
# outside its kind's range is refused with the source, the field and the range, so nothing
# downstream of a reader can see inf, NaN, or a number no system has (a rate of 1e300/s, a
# duration of a million years), and no law or loop sized by input can be asked for unbounded
# work. The ranges are physical bounds with room to spare, not fits to any data.

_YEAR_S = 365.25 * 86_400
_COUNT_MAX = math.nextafter(2.0**63, 0.0)  # the largest float below 2**63: fits in an int64


@dataclass(frozen=True)
class Range:
    """The values a kind of quantity can take: ``low..high`` in SI units, and why."""

    low: float
    high: float
    unit: str = ""
    why: str = ""

    def text(self) -> str:
        """How the range reads in a message: ``0 to 1e+12 /s``."""
        return f"{_bound(self.low)} to {_bound(self.high)}{self.unit}"


RANGES: Mapping[str, Range] = {
    "rate": Range(0.0, 1e12, " /s", "a trillion events a second is beyond any one system"),
    "duration": Range(0.0, _YEAR_S, " s", "a year: no measurement or latency runs longer"),
    "percent": Range(0.0, 100.0, " %"),
    "fraction": Range(0.0, 1.0),
    "count": Range(0.0, _COUNT_MAX, "", "a count that fits in 64 bits"),
    "level": Range(1.0, float(1 << 24), "", "more concurrent clients than any load test runs"),
    "cores": Range(1.0, float(_CORE_BOUND[0]), "", "more than any one host has"),
    "batch": Range(1.0, float(1 << 24), "", "more items than any one batch holds"),
    "workers": Range(1.0, float(_WORKER_BOUND[0]), "", "more than any one service runs"),
    "bytes": Range(0.0, _COUNT_MAX, " B"),
    "bandwidth": Range(0.0, 1e15, " B/s", "8 Pbit/s is beyond any link"),
    "ratio": Range(0.0, 1e6, "", "a speedup or factor of a million is not a measurement"),
    "timestamp": Range(0.0, 32_503_680_000.0, " s", "unix seconds before the year 3000"),
}

# A number written out longer than this is refused before it is converted: int() of more than
# 4,300 digits raises ValueError, float() of a 1 MB digit string costs time, and no value in any
# range above needs more than 17 significant digits, a sign, a point and an exponent.
MAX_NUMBER_CHARS = 100


def gate(value: object, kind: str, *, source: str = "input", field: str = "") -> float:
    """A raw number (a JSON or YAML number, or text such as a CSV cell: "12.5", "1e3") as a
    float within ``RANGES[kind]``; anything else (not a number, a boolean, NaN, inf, a number
    too long or outside the range) is an ``InputError`` naming ``source``, ``field`` and the
    range. Units are the caller's: ``value`` is already in the kind's SI unit."""
    bound = RANGES[kind]
    if isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_NUMBER_CHARS:
            raise InputError(
                f"a number of {len(text):,} characters (at most {MAX_NUMBER_CHARS}; "
                f"allowed: {bound.text()})",
                source=source,
                field=field,
            )
        try:
            number = float(text)
        except ValueError:
            raise InputError(
                f"not a number: {_shown(value, field)}", source=source, field=field
            ) from None
    elif isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(
            f"expected a number, got {_shown(value, field)}", source=source, field=field
        )
    else:
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
    return in_range(number, kind, value, source=source, field=field)


def gate_int(value: object, kind: str, *, source: str = "input", field: str = "") -> int:
    """``gate``, and the value must be a whole number (``3`` or ``3.0``, not ``2.5``)."""
    number = gate(value, kind, source=source, field=field)
    if number != math.floor(number):
        raise InputError(
            f"expected a whole number, got {_number(number)}", source=source, field=field
        )
    return int(number)


def in_range(
    number: float, kind: str, value: object = None, *, source: str = "input", field: str = ""
) -> float:
    """``number`` when it is finite and within ``RANGES[kind]``, else an ``InputError`` naming the
    range (``value``: what the user wrote, shown in the message)."""
    bound = RANGES[kind]
    if math.isfinite(number) and bound.low <= number <= bound.high:
        return number + 0.0  # turns -0.0 into 0.0
    shown = _shown(number if value is None else value, field)
    if math.isnan(number):
        problem = "is not a number"
    elif number < bound.low:
        problem = "is below the range"
    else:
        problem = "is too large" if math.isinf(number) else "is above the range"
    why = f": {bound.why}" if bound.why and number > bound.high else ""
    raise InputError(
        f"{shown} {problem} (allowed: {bound.text()}{why})", source=source, field=field
    )


def parse_bytes(value: Quantity, *, source: str = "input", field: str = "") -> float:
    """Bytes from "512MB" (1000-based), "4GiB" (1024-based), "100 B" or a bare number of bytes."""
    return in_range(
        _parse(value, _BYTES, source, field), "bytes", value, source=source, field=field
    )


def parse_bandwidth(value: Quantity, *, source: str = "input", field: str = "") -> float:
    """Bytes per second from "2.5 GB/s", "100 MiB/s", "1 Gbit/s", "100 Mbps" (bits / 8)."""
    number = _parse(value, _BANDWIDTH, source, field)
    return in_range(number, "bandwidth", value, source=source, field=field)


def parse_duration(
    value: Quantity,
    *,
    source: str = "input",
    field: str = "",
    default_unit: DurationUnit | None = None,
) -> float:
    """Seconds from "5ms", "1.2s", "100 µs", "2 min" or a number.

    A Python number is in ``default_unit`` (seconds when None). Text without a unit needs
    ``default_unit``; without it the unit is ambiguous and the text an input error. An unknown
    ``default_unit`` is a programming error (``ValueError``), not an input error.
    """
    if default_unit is not None and default_unit not in _DURATION.units:
        raise ValueError(f"unknown default_unit {default_unit!r}")
    number, unit = _tokenize(value, _DURATION, source, field)
    if unit == "" and default_unit is None:
        raise InputError(
            f"a duration needs a unit, e.g. 5ms (got {_shown(value, field)})",
            source=source,
            field=field,
        )
    seconds = _scale(number, unit or default_unit or "s", _DURATION, value, source, field)
    return in_range(seconds, "duration", value, source=source, field=field)


def parse_fraction(value: Quantity, *, key: str, source: str = "input", field: str = "") -> float:
    """Utilization as a fraction 0..1, by the percent rule (see the module docstring).

    ``key`` is the bare key the value came under ("cpu", "cpu_pct"); ``field`` defaults to it.
    """
    field = field or key
    number, unit = _tokenize(value, _FRACTION, source, field)
    if unit:
        fraction = _scale(number, unit, _FRACTION, value, source, field)
    elif key.endswith("_pct"):
        fraction = number / 100.0
    elif number > 1.0 and secret_key(field):
        raise InputError(f"{_shown(value, field)} is above 1", source=source, field=field)
    elif number > 1.0:
        raise InputError(
            f'{_number(number)} is above 1: write "{_number(number)}%" or use {key}_pct',
            source=source,
            field=field,
        )
    else:
        fraction = number
    if fraction > 1.0:
        raise InputError(
            f"utilization above 100 %: {_shown(value, field)}", source=source, field=field
        )
    return fraction


def check_keys(doc: Mapping[Any, object], allowed: Collection[str], source: str, path: str) -> None:
    """Refuse the first key of ``doc`` not in ``allowed`` (usually a typo), naming the closest
    known one: ``SOURCE: PATHKEY: unknown key (did you mean 'x'?)``, else the known keys."""
    for key in doc:
        if key not in allowed:
            hint = did_you_mean(str(key)[:100], allowed)
            raise InputError(f"unknown key{hint}", source=source, field=path + _truncated(str(key)))


def disagree(a: float, b: float, tolerance: float) -> bool:
    """True when two values of one quantity (two measurements, or a measurement and a flag)
    differ by more than ``tolerance`` of the larger: |a − b| > tolerance · max(|a|, |b|).

    The one definition of "two measurements disagree": relative to the larger magnitude, so it
    is symmetric in ``a`` and ``b``, and two zeros agree. ``tolerance`` is a fraction (0.1 is
    10 %); advisors pass ``thresholds.conflict_tolerance`` of the defaults data.
    """
    return abs(a - b) > tolerance * max(abs(a), abs(b))


def did_you_mean(word: str, known: Collection[str]) -> str:
    """`` (did you mean 'x'?)`` with the known word closest to ``word``, else
    `` (known: a, b, c)``."""
    close = difflib.get_close_matches(word, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known)})"


def _parse(value: Quantity, kind: _Kind, source: str, field: str) -> float:
    number, unit = _tokenize(value, kind, source, field)
    return _scale(number, unit or "", kind, value, source, field)


def _tokenize(value: object, kind: _Kind, source: str, field: str) -> tuple[float, str | None]:
    """(number, folded unit) from text; (number, None) from a Python number. Checks the number."""
    if isinstance(value, str):
        return _split(value, kind, source, field)
    if isinstance(value, bool) or not isinstance(value, int | float):
        _unreadable(value, kind, source, field)
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    return _checked(number, value, kind, source, field), None


def _split(text: str, kind: _Kind, source: str, field: str) -> tuple[float, str]:
    if len(text) > 2 * MAX_NUMBER_CHARS and len(text.strip()) > 2 * MAX_NUMBER_CHARS:
        raise InputError(
            f"{_shown(text, field)} is {len(text.strip()):,} characters: too long for "
            f"{kind.name} (at most {2 * MAX_NUMBER_CHARS})",
            source=source,
            field=field,
        )
    match = _QUANTITY.fullmatch(text.strip())
    if match is None:
        _unreadable(text, kind, source, field)
    number = float(match["number"].replace(",", "").replace("_", ""))
    if match["sign"] in ("-", "\u2212") and number != 0.0:
        number = -number
    return _checked(number, text, kind, source, field), kind.fold(match["unit"])


def _checked(number: float, value: object, kind: _Kind, source: str, field: str) -> float:
    if math.isnan(number):
        raise InputError(f"{_shown(value, field)} is not a number", source=source, field=field)
    if math.isinf(number):
        raise InputError(f"{_shown(value, field)} is too large", source=source, field=field)
    if number < 0.0:
        raise InputError(
            f"{_shown(value, field)} is negative: {kind.name} must be at least 0",
            source=source,
            field=field,
        )
    return number + 0.0  # turns -0.0 into 0.0


def _scale(number: float, unit: str, kind: _Kind, value: object, source: str, field: str) -> float:
    factor = kind.units.get(unit)
    if factor is None:
        shown = "" if secret_key(field) else f': unknown unit "{_truncated(unit)}"'
        _unreadable(value, kind, source, field, shown)
    try:
        return float(Fraction(number) * factor)
    except OverflowError:
        shown = _shown(value, field)
        raise InputError(f"{shown} is too large", source=source, field=field) from None


def _unreadable(value: object, kind: _Kind, source: str, field: str, detail: str = "") -> NoReturn:
    raise InputError(
        f"cannot read {_shown(value, field)} as {kind.name}{detail} (examples: {kind.examples})",
        source=source,
        field=field,
    )


def echo(value: object, limit: int = _SHOWN_CHARS) -> str:
    """Outside text quoted for a message: control characters escaped, cut to ``limit``
    characters (a 2 MB key or name is not copied into an error line)."""
    from throughput_expert.safe_text import terminal_safe

    return repr(terminal_safe(str(value), limit))


def _shown(value: object, field: str = "") -> str:
    """The offending value for a message: quoted, truncated text, or what else it is; never
    the value of a key that looks secret (``db_password``, ``api_key``)."""
    if secret_key(field):
        return "the value (not shown: the key looks secret)"
    if isinstance(value, str):
        return f'"{_truncated(value)}"' if value.strip() else "an empty value"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an integer of {value.bit_length()} bits"
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    return f"a value of type {type(value).__name__}"


def _truncated(text: str) -> str:
    text = "".join(c if c.isprintable() else "\ufffd" for c in text[: _SHOWN_CHARS + 1])
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def _bound(x: float) -> str:
    """A range's end as people read it: ``100,000``, ``31,557,600``, ``1e+12``."""
    return f"{int(x):,}" if x == math.floor(x) and abs(x) < 1e10 else f"{x:.3g}"


def _number(x: float) -> str:
    return f"{x:.15g}"
