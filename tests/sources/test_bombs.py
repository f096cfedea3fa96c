"""Small inputs that must not cost large resources: Prometheus text exposition on hostile text.

A scrape is written by whatever answers on /metrics; these are the shapes that used to cost
gigabytes or minutes (a 10 MB label value, a million labels on one line, a megabyte of digits),
each run against a bound 10-20 times what the parser now takes, so a regression fails instead
of eating the machine.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support import address_space_cap, run_tpx

from throughput_expert.errors import InputError
from throughput_expert.sources.prometheus.text import (
    load_scrapes,
    looks_like_exposition,
    parse_exposition,
)

ADDRESS_SPACE = 1536 << 20  # 1.5 GiB: the old parser needed 1.8 GB for one 10 MB label value


def _cpu(idle: float, user: float) -> str:
    return (
        "# TYPE node_cpu_seconds_total counter\n"
        f'node_cpu_seconds_total{{cpu="0",mode="idle"}} {idle}\n'
        f'node_cpu_seconds_total{{cpu="0",mode="user"}} {user}\n'
    )


def _escape(value: str) -> str:
    """A label value as the exposition format writes it."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def test_a_ten_megabyte_label_value_parses_in_bounded_memory(tmp_path: Path) -> None:
    """`tpx analyze` on two scrapes each holding a 10 MB label value (and 3 MB of escapes),
    under a 1.5 GiB address-space limit: the answer comes, in seconds."""
    big, escapes = "x" * 10_000_000, '\\n\\\\\\"' * 500_000
    paths = []
    for i, (idle, user) in enumerate([(100, 50), (106, 54)]):
        path = tmp_path / f"scrape{i}.prom"
        path.write_text(
            _cpu(idle, user)
            + f'# TYPE build_info gauge\nbuild_info{{version="{big}",path="{escapes}"}} 1\n'
        )
        paths += ["--metrics", str(path)]
    started = time.monotonic()
    proc = run_tpx(
        "analyze", *paths, "--interval", "10s", "--format", "json",
        timeout=120, preexec_fn=address_space_cap(ADDRESS_SPACE),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert time.monotonic() - started < 60
    report = json.loads(proc.stdout)
    assert report["command"] == "analyze"
    assert len(proc.stdout) < 1_000_000  # the label value is not copied into the report


def test_the_label_value_survives_whole() -> None:
    value = "x" * 3_000_000 + '\\"q\\"' + "\\n" * 1_000_000 + "\\\\"
    scrape = parse_exposition(f'm{{a="{value}"}} 1\n', source="s")
    ((key, parsed),) = scrape.samples[0].labels
    assert key == "a"
    assert parsed == "x" * 3_000_000 + '"q"' + "\n" * 1_000_000 + "\\"


@pytest.mark.parametrize(
    ("line", "bound_s"),
    [
        # 300,000 labels on one line: each one used to copy the rest of the line (quadratic)
        ("m{" + 'ab="x",' * 300_000 + "} 1", 20.0),
        # the same with spaces around every name, '=' and value
        ("m{" + ' ab = "x" ,' * 200_000 + "} 1", 20.0),
        # 2 MB of spaces inside the braces
        ("m{" + " " * 2_000_000 + "} 1", 10.0),
    ],
)
def test_long_label_sets_parse_in_linear_time(line: str, bound_s: float) -> None:
    started = time.monotonic()
    scrape = parse_exposition(line + "\n", source="s")
    assert time.monotonic() - started < bound_s
    assert scrape.samples[0].value == 1.0


@pytest.mark.parametrize(
    "line",
    [
        "m " + "1" * 2_000_000 + "x",  # digits then junk: [0-9]+\.?[0-9]* retried every split
        "m " + "1" * 2_000_000 + "e" + "1" * 1_000_000 + "e",
        "m 1 " + "1" * 2_000_000 + "x",  # a timestamp that is not one
        'm{a="' + "x" * 2_000_000,  # an unterminated value
        'm{a="' + "\\x" * 1_000_000 + "\\",  # a value ending in a lone backslash
        "m{" + "a" * 2_000_000 + "}",  # a label name without a value
        "m{" + 'a="b" ' * 300_000 + "} 1",  # labels without commas
        "# TYPE m " + "x" * 2_000_000,  # an unknown type, 2 MB long
        "m" * 2_000_000 + " nan1",
    ],
)
def test_hostile_lines_fail_fast_with_a_short_message(line: str) -> None:
    started = time.monotonic()
    with pytest.raises(InputError) as caught:
        parse_exposition("# TYPE ok gauge\nok 1\n" + line + "\n", source="scrape.prom")
    assert time.monotonic() - started < 10.0
    message = caught.value.one_line()
    assert message.startswith("scrape.prom: line 3: ")
    assert len(message) < 300  # names the line, does not echo megabytes


def test_the_sniff_is_linear_on_a_hostile_first_line() -> None:
    started = time.monotonic()
    for text in ("a{" + "} " * 100_000, "{" + "}\t" * 100_000, "a" * 1_000_000 + "{"):
        looks_like_exposition(text)
    assert time.monotonic() - started < 5.0


def test_an_eof_line_anywhere_marks_openmetrics_as_before() -> None:
    text = "# TYPE m gauge\nm 1 1700000000.5\n# EOF\r\r\nafter nonsense {\n"
    scrape = parse_exposition(text, source="s")
    assert scrape.openmetrics
    assert scrape.samples[0].timestamp_s == 1700000000.5


# --- properties ------------------------------------------------------------------------------


def _reference_unescape(text: str) -> str:
    # the decoder the parser used before, one re.sub callback per escape
    table = {"n": "\n", "\\": "\\", '"': '"'}
    return re.sub(r"\\(.)", lambda m: table.get(m[1], m[0]), text)


label_text = st.text(alphabet=st.sampled_from(list('ab"\\n\n x{}=,é')), max_size=60)


@settings(max_examples=400, deadline=None)
@given(label_text, label_text)
def test_label_values_round_trip(first: str, second: str) -> None:
    line = f'm{{a="{_escape(first)}", b = "{_escape(second)}" }} 2\n'
    sample = parse_exposition(line, source="s").samples[0]
    assert dict(sample.labels) == {"a": first, "b": second}


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab"\\nx')), max_size=60))
def test_decoding_matches_the_reference(raw: str) -> None:
    # any written value (escapes the format does not define are kept as written)
    written = re.sub(r"\\(?=$)", "", raw).replace("\n", "")
    valid = re.fullmatch(r'(?:[^"\\]|\\.)*', written)
    if valid is None:
        return
    line = f'm{{a="{written}"}} 1\n'
    ((_, value),) = parse_exposition(line, source="s").samples[0].labels
    assert value == _reference_unescape(written)


hostile = st.text(
    alphabet=st.sampled_from(list('ab_:{}=",.#\\ \n\r\t+-eE019InfNa\x85\u2028é')), max_size=400
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile | st.text(max_size=200))
def test_arbitrary_text_raises_only_input_error(text: str) -> None:
    looks_like_exposition(text)
    with contextlib.suppress(InputError):
        parse_exposition(text, source="fuzz")
    with contextlib.suppress(InputError):
        load_scrapes([("a", text), ("b", text)], interval_s=1.0, service="a")
