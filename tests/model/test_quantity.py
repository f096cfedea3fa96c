"""The human quantity parser: every documented example, the percent rule, hostile strings."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from throughput_expert.errors import InputError
from throughput_expert.model import quantity
from throughput_expert.model.quantity import (
    parse_bandwidth,
    parse_bytes,
    parse_count,
    parse_duration,
    parse_fraction,
    parse_rate,
)

Parser = Callable[..., float]


def _cpu(value: object) -> float:
    return parse_fraction(value, key="cpu")  # type: ignore[arg-type]


def _ms(value: object) -> float:
    return parse_duration(value, default_unit="ms")  # type: ignore[arg-type]


PARSERS: list[Parser] = [
    parse_rate,
    parse_duration,
    _ms,
    _cpu,
    parse_bytes,
    parse_bandwidth,
    parse_count,
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10,000 msgs/sec", 10_000),
        ("10K", 10_000),
        ("10k", 10_000),
        ("2.5M rps", 2_500_000),
        ("2.5m", 2_500_000),
        ("1G", 1e9),
        ("1e3", 1000),
        ("  12 ", 12),
        ("10k req/s", 10_000),
        ("600/min", 10),
        ("3,600 per hour", 1),
        ("1_000", 1000),
        ("1,234,567", 1_234_567),
        ("5000/s", 5000),
        ("5000 / s", 5000),
        ("100 qps", 100),
        ("100 tps", 100),
        ("100 reqs/s", 100),
        ("100 requests/sec", 100),
        ("100 msg/s", 100),
        ("100 messages/s", 100),
        ("100 events/s", 100),
        ("100 ops/s", 100),
        ("100 per second", 100),
        ("100/sec", 100),
        ("60 per minute", 1),
        ("7200/h", 2),
        ("7200/hr", 2),
        ("1.2K/min", 20),
        ("0", 0),
        ("0.5", 0.5),
        (".5", 0.5),
        (10_000, 10_000),
        (2.5, 2.5),
    ],
)
def test_parse_rate(text: str | float, expected: float) -> None:
    assert parse_rate(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5ms", 0.005),
        ("1.2s", 1.2),
        ("100us", 1e-4),
        ("100 µs", 1e-4),  # U+00B5 MICRO SIGN
        ("100 μs", 1e-4),  # U+03BC GREEK SMALL LETTER MU
        ("250ns", 2.5e-7),
        ("3 sec", 3),
        ("3 secs", 3),
        ("3 seconds", 3),
        ("2m", 120),
        ("2 min", 120),
        ("2 minutes", 120),
        ("1h", 3600),
        ("1.5 h", 5400),
        ("1e3ms", 1),
        ("0s", 0),
        (2, 2),
        (0.25, 0.25),
    ],
)
def test_parse_duration(text: str | float, expected: float) -> None:
    assert parse_duration(text) == pytest.approx(expected)


def test_duration_exact_for_decimal_units() -> None:
    # Exact unit factors give the correctly rounded result, not 9.999999999999999e-05.
    assert parse_duration("100 µs") == 1e-4
    assert parse_duration("5ms") == 0.005


def test_duration_default_unit() -> None:
    assert parse_duration("5", default_unit="ms") == pytest.approx(0.005)
    assert parse_duration(5, default_unit="ms") == pytest.approx(0.005)
    assert parse_duration("5s", default_unit="ms") == pytest.approx(5)
    assert parse_duration(5) == pytest.approx(5)


def test_duration_text_without_unit_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"a duration needs a unit, e\.g\. 5ms"):
        parse_duration("5", source="--timeout")


def test_duration_unknown_default_unit_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="default_unit"):
        parse_duration("5", default_unit="fortnights")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100", 100),
        (100, 100),
        ("100 B", 100),
        ("100 bytes", 100),
        ("1KB", 1000),
        ("1kB", 1000),
        ("1 MB", 1e6),
        ("1GB", 1e9),
        ("1TB", 1e12),
        ("1KiB", 1024),
        ("1MiB", 1024**2),
        ("4GiB", 4 * 1024**3),
        ("1TiB", 1024**4),
    ],
)
def test_parse_bytes(text: str | float, expected: float) -> None:
    assert parse_bytes(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2.5 GB/s", 2.5e9),
        ("100 MiB/s", 100 * 1024**2),
        ("1 Gbit/s", 1.25e8),
        ("1 Gbps", 1.25e8),
        ("100 Mbps", 1.25e7),
        ("10 Mb/s", 1.25e6),
        ("8 bit/s", 1),
        ("100 MBps", 1e8),
        ("500", 500),
        (500, 500),
    ],
)
def test_parse_bandwidth(text: str | float, expected: float) -> None:
    assert parse_bandwidth(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10K", 10_000), ("2.5M", 2.5e6), ("1G", 1e9), ("1,000", 1000), ("1_000", 1000), (7, 7)],
)
def test_parse_count(text: str | float, expected: float) -> None:
    assert parse_count(text) == pytest.approx(expected)


# The percent rule (docs/formats.md §5.3).


@pytest.mark.parametrize("text", ["45%", "45 %", " 45% "])
def test_percent_string_is_a_percent(text: str) -> None:
    assert parse_fraction(text, key="cpu") == pytest.approx(0.45)
    assert parse_fraction(text, key="cpu_pct") == pytest.approx(0.45)


@pytest.mark.parametrize("value", [45, 45.0, "45"])
def test_number_under_pct_key_is_0_to_100(value: float | str) -> None:
    assert parse_fraction(value, key="cpu_pct") == pytest.approx(0.45)


@pytest.mark.parametrize("value", [0.45, "0.45", 0, 1, "1"])
def test_number_under_bare_key_is_a_fraction(value: float | str) -> None:
    assert parse_fraction(value, key="cpu") == pytest.approx(float(value))


@pytest.mark.parametrize("value", [45, "45"])
def test_bare_number_above_one_suggests_percent(value: float | str) -> None:
    with pytest.raises(InputError) as caught:
        parse_fraction(value, key="cpu", source="metrics.yaml")
    assert caught.value.message == '45 is above 1: write "45%" or use cpu_pct'
    assert caught.value.field == "cpu"
    assert str(caught.value) == 'metrics.yaml: cpu: 45 is above 1: write "45%" or use cpu_pct'


def test_fraction_field_overrides_key() -> None:
    with pytest.raises(InputError) as caught:
        parse_fraction(2, key="disk_io", field="resources.disk_io")
    assert caught.value.field == "resources.disk_io"
    assert "disk_io_pct" in caught.value.message


@pytest.mark.parametrize(
    ("value", "key"), [("150%", "cpu"), (150, "cpu_pct"), ("100.5 %", "memory")]
)
def test_utilization_above_100_percent(value: float | str, key: str) -> None:
    with pytest.raises(InputError, match="utilization above 100 %"):
        parse_fraction(value, key=key)


@pytest.mark.parametrize("value", ["-5%", -0.1, "−5 %", "45 percent", "45%%"])
def test_fraction_bad_values(value: float | str) -> None:
    with pytest.raises(InputError):
        parse_fraction(value, key="cpu")


def test_fraction_bounds_are_allowed() -> None:
    assert parse_fraction("100%", key="cpu") == 1.0
    assert parse_fraction("0%", key="cpu") == 0.0
    assert parse_fraction(100, key="cpu_pct") == 1.0


# Errors: always InputError, with the source, the field and the offending text.


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "abc",
        "1,00",
        "10_00",
        "1,0000",
        "1,000_000",
        "nan",
        "inf",
        "-5",
        "−5",  # U+2212 MINUS SIGN
        "1e999",
        "5 parsecs",
        "5ms",  # a duration is not a rate
        "４５",  # fullwidth digits
        None,
        True,
        False,
        [1],
        {"rps": 1},
        b"10",
        float("nan"),
        float("inf"),
        -1,
        -0.5,
        10**400,
    ],
)
def test_rate_rejects(value: object) -> None:
    with pytest.raises(InputError) as caught:
        parse_rate(value, source="--rate", field="load")  # type: ignore[arg-type]
    assert caught.value.source == "--rate"
    assert caught.value.field == "load"


def test_message_shows_the_text_and_examples() -> None:
    with pytest.raises(InputError) as caught:
        parse_rate("abc")
    assert caught.value.message == 'cannot read "abc" as a rate (examples: 10K, 2.5M rps, 5000/s)'


def test_message_names_the_unknown_unit() -> None:
    with pytest.raises(InputError, match='unknown unit "parsecs"'):
        parse_duration("5 parsecs")


def test_message_truncates_long_text() -> None:
    with pytest.raises(InputError) as caught:
        parse_rate("x" * 500)
    assert "x" * 39 + "…" in caught.value.message
    assert "x" * 41 not in caught.value.message


def test_negative_message() -> None:
    with pytest.raises(InputError, match='"-5ms" is negative'):
        parse_duration("-5ms")


def test_message_is_one_line() -> None:
    with pytest.raises(InputError) as caught:
        parse_rate("1\n2\r3")
    assert "\n" not in str(caught.value) and "\r" not in str(caught.value)


def test_negative_zero_is_zero() -> None:
    assert str(parse_rate("-0")) == "0.0"
    assert str(parse_rate(-0.0)) == "0.0"


def test_overflow_after_unit_is_an_input_error() -> None:
    with pytest.raises(InputError, match="too large"):
        parse_duration("1e308 h")


def test_rate_multipliers_never_collide_with_unit_words() -> None:
    words = quantity._RATE_WORDS
    assert len(quantity._RATE.units) == len(quantity._MULTIPLIERS) * len(words)


def test_all_is_sorted_and_complete() -> None:
    assert quantity.__all__ == sorted(quantity.__all__)
    assert all(hasattr(quantity, name) for name in quantity.__all__)


# Hostile input: nothing but InputError ever escapes.

_UNITS = [
    "",
    " ",
    "K",
    "k",
    "M",
    "G",
    "ms",
    "µs",
    "μs",
    "us",
    "ns",
    "s",
    "m",
    "h",
    "%",
    " %",
    "rps",
    "/s",
    "/min",
    " per hour",
    "B",
    "KiB",
    "GB/s",
    "Gbps",
    "Mb/s",
    "bit/s",
    "\x00",
    "é",
    "‰",
]
_NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers().map(str),
    st.from_regex(r"[-+−]?[0-9,_.]{1,12}([eE][-+]?[0-9]{1,4})?", fullmatch=True),
    st.sampled_from(["４５", "٤٥", "1e999", "−5", "1e-400", "9" * 400, ".", "e5", "1,", "_1"]),
)
_CRAFTED = st.builds(
    lambda lead, number, unit, tail: lead + number + unit + tail,
    st.sampled_from(["", " ", "\t", "\u00a0", "\u3000"]),
    _NUMBERS,
    st.one_of(st.sampled_from(_UNITS), st.text(max_size=4)),
    st.sampled_from(["", " ", "\n", "\u2009"]),
)
_PYTHON_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.binary(max_size=4),
)


def _only_input_errors(value: object) -> None:
    for parse in PARSERS:
        try:
            result = parse(value)
        except InputError as error:
            assert "\n" not in str(error)
        else:
            assert isinstance(result, float)
            assert result >= 0.0 and result == result and result != float("inf")


@given(st.text())
def test_any_text_gives_a_float_or_input_error(text: str) -> None:
    _only_input_errors(text)


@given(_CRAFTED)
def test_crafted_text_gives_a_float_or_input_error(text: str) -> None:
    _only_input_errors(text)


@given(_PYTHON_VALUES)
def test_any_python_value_gives_a_float_or_input_error(value: object) -> None:
    _only_input_errors(value)


@given(st.floats(min_value=0.0, max_value=quantity.RANGES["duration"].high * 1000))
def test_milliseconds_round_trip(x: float) -> None:
    assert parse_duration(f"{x}ms") == pytest.approx(x / 1000)
    assert parse_duration(f"{x}ms") == x / 1000  # exact factors: correctly rounded


@given(st.integers(min_value=0, max_value=10**15))
def test_separated_integers_round_trip(n: int) -> None:
    assert parse_count(f"{n:,}") == float(n)
    assert parse_count(f"{n:_}") == float(n)


# The numeric gate: one range per kind of quantity, named in the message.


@pytest.mark.parametrize(
    ("parse", "text", "allowed"),
    [
        (parse_rate, "1e300", "0 to 1e+12 /s"),
        (parse_rate, "2T", None),  # not a unit: unreadable, not out of range
        (parse_duration, "1e300s", "0 to 31,557,600 s"),
        (parse_duration, "9000 h", "0 to 31,557,600 s"),
        (parse_duration, "400 days", None),
        (parse_bandwidth, "1e20 GB/s", "0 to 1e+15 B/s"),
        (parse_count, "1e19", "0 to 9.22e+18"),
    ],
)
def test_values_beyond_their_range_are_refused(parse: Parser, text: object, allowed: str) -> None:
    with pytest.raises(InputError) as caught:
        parse(text, source="m.json", field="f")
    line = str(caught.value)
    assert line.startswith("m.json: f: ")
    if allowed is not None:
        assert f"allowed: {allowed}" in line


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [("12.5", "rate", 12.5), (3, "cores", 3.0), ("  0 ", "duration", 0.0), (-0.0, "count", 0.0)],
)
def test_gate_reads_numbers_within_range(value: object, kind: str, expected: float) -> None:
    assert quantity.gate(value, kind, source="s", field="f") == expected


@pytest.mark.parametrize(
    ("value", "kind", "message"),
    [
        (float("inf"), "rate", "is too large (allowed: 0 to 1e+12 /s"),
        (1e400, "rate", "is too large"),
        ("1e400", "duration", "is too large"),
        (float("nan"), "count", "is not a number"),
        ("NaN", "count", "is not a number"),
        ("nan", "percent", "is not a number"),
        (-1, "rate", "is below the range (allowed: 0 to"),
        (0, "cores", "is below the range (allowed: 1 to 100,000)"),
        (100_001, "cores", "is above the range (allowed: 1 to 100,000: more than any one host"),
        (1e308, "cores", "is above the range"),
        (2**63, "count", "is above the range"),
        (10**400, "count", "is too large"),
        ("9" * 400, "count", "a number of 400 characters"),
        ("9" * 5000, "count", "a number of 5,000 characters"),
        ("12 apples", "count", "not a number"),
        (True, "count", "expected a number"),
        ([1], "count", "expected a number, got a value of type list"),
        ({"a": 1}, "rate", "expected a number, got a value of type dict"),
        (None, "rate", "expected a number, got None"),
        ("\ud800", "rate", "not a number"),
    ],
)
def test_gate_refuses_with_source_field_and_range(value: object, kind: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        quantity.gate(value, kind, source="run.csv", field="line 3: requests")
    line = str(caught.value)
    assert line.startswith("run.csv: line 3: requests: ")
    assert message in line
    assert "\n" not in line


def test_milliseconds_beyond_a_year_are_refused() -> None:
    with pytest.raises(InputError, match=r"allowed: 0 to 31,557,600 s"):
        parse_duration(1e13, default_unit="ms")


def test_gate_int_wants_whole_numbers() -> None:
    assert quantity.gate_int("12", "count") == 12
    assert quantity.gate_int(12.0, "workers") == 12
    with pytest.raises(InputError, match=r"expected a whole number, got 2\.5"):
        quantity.gate_int(2.5, "count")


@given(st.one_of(st.floats(), st.integers(), st.text(max_size=8), st.none(), st.booleans()))
def test_gate_gives_a_finite_value_in_range_or_an_input_error(value: object) -> None:
    for kind, bound in quantity.RANGES.items():
        try:
            number = quantity.gate(value, kind)
        except InputError as error:
            assert "\n" not in str(error)
        else:
            assert bound.low <= number <= bound.high


def test_a_long_quantity_text_is_refused_before_it_is_read() -> None:
    with pytest.raises(InputError, match="too long for a rate"):
        parse_rate("1" * 1_000_000)
