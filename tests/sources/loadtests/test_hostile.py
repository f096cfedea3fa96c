"""Hostile input for every importer: random bytes, text and JSON-like values; only InputError."""

from __future__ import annotations

import contextlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from throughput_expert.errors import InputError
from throughput_expert.sources.loadtests import parse_result

from .conftest import FIXTURES

HEADS = [
    (FIXTURES / name).read_text()[:400]
    for name in (
        "k6-out.json",
        "locust-2.47.0_stats.csv",
        "locust-2.47.0_stats_history.csv",
        "wrk-timeouts.txt",
        "wrk2-corrected-uncorrected.txt",
        "jmeter-5.6.jtl",
        "gatling-3.9-simulation.log",
    )
]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
METRIC_NAMES = st.sampled_from(
    ["http_reqs", "http_req_duration", "vus", "vus_max", "iterations", "dropped_iterations"]
)
FAST = settings(max_examples=120, deadline=None)


def survives(data: bytes, history: str | None = None) -> None:
    with contextlib.suppress(InputError):
        parse_result(data, "hostile", history)


@FAST
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    survives(data)


@FAST
@given(st.sampled_from(HEADS), st.text(max_size=300), st.integers(0, 400))
def test_tool_output_with_random_tails(head: str, tail: str, cut: int) -> None:
    survives((head[:cut] + tail).encode())


@FAST
@given(
    st.sampled_from(HEADS),
    st.lists(
        st.sampled_from(
            [
                "\t",
                ",",
                "\n",
                "OK",
                "KO",
                "START",
                "END",
                "1717000000000",
                "N/A",
                "-nan%",
                "1.5k",
                "3s",
                "99.000%",
                "0",
                "-1",
                "1e308",
            ]
        ),
        max_size=60,
    ),
)
def test_tool_output_with_shuffled_tokens(head: str, tokens: list[str]) -> None:
    survives((head.split("\n", 1)[0] + "\n" + "".join(tokens)).encode())


@FAST
@given(st.dictionaries(METRIC_NAMES, JSON_VALUES, max_size=6), JSON_VALUES)
def test_k6_summary_like_json(metrics: dict[str, object], extra: object) -> None:
    doc = {"root_group": extra, "metrics": metrics, "state": extra, "options": extra}
    survives(json.dumps(doc).encode())


@FAST
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "latencies",
                "requests",
                "rate",
                "throughput",
                "success",
                "duration",
                "workers",
                "errors",
                "earliest",
            ]
        ),
        JSON_VALUES,
        max_size=9,
    )
)
def test_vegeta_like_json(doc: dict[str, object]) -> None:
    doc.setdefault("latencies", {})
    doc.setdefault("requests", 1)
    survives(json.dumps(doc).encode())


@FAST
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "type": st.sampled_from(["Point", "Metric"]),
                "metric": METRIC_NAMES,
                "data": JSON_VALUES,
            }
        ),
        min_size=1,
        max_size=6,
    )
)
def test_k6_lines_like_json(points: list[dict[str, object]]) -> None:
    survives("\n".join(json.dumps(p) for p in points).encode())


@FAST
@given(st.text(max_size=300))
def test_locust_stats_with_hostile_history(history: str) -> None:
    head = (FIXTURES / "locust-2.47.0_stats.csv").read_bytes()
    survives(head, HEADS[2][:60] + history)
