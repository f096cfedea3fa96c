"""Hostile input for every importer: random bytes, text and JSON-like values; only InputError.
And the merge of many files (error threshold, targets) on arbitrary levels and targets."""

from __future__ import annotations

import contextlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from throughput_expert.errors import InputError
from throughput_expert.model.sweep import SweepLevel
from throughput_expert.sources.loadtests import _merge, _same_targets, parse_result
from throughput_expert.sources.loadtests._common import Imported, error_share

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


# --- issue 15: failed levels, unknown latency, targets ------------------------------------------

WRK_LINES = st.sampled_from(
    [
        "Running 2s test @ http://127.0.0.1:1/a\n",
        "Running 2s test @ \n",
        "  4 threads and 0 connections\n",
        "  4 threads and 8 connections\n",
        "    Latency     0.00us    0.00us   0.00us    -nan%\n",
        "    Latency     1.00ms    0.10ms   9.00ms    90%\n",
        "     99%    0.00us\n",
        "  0 requests in 1.00s, 0.00B read\n",
        "  7 requests in 0.00s, 0.00B read\n",
        "  Non-2xx or 3xx responses: 99999999999999999999\n",
        "  Socket errors: connect 1, read 2, write 3, timeout 4\n",
        "Requests/sec:      0.00\n",
        "Requests/sec:   1.5k\n",
    ]
)


@FAST
@given(st.lists(WRK_LINES, max_size=12))
def test_wrk_error_and_latency_lines_in_any_order(lines: list[str]) -> None:
    survives(
        ("Running 1s test @ http://h/\n  1 threads and 2 connections\n" + "".join(lines)).encode()
    )


TAGS = st.dictionaries(
    st.sampled_from(["expected_response", "name", "url", "status"]),
    st.sampled_from(["true", "false", "", "http://h/a", "/b"]) | JSON_VALUES,
    max_size=4,
)


@FAST
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["vus", "http_reqs", "http_req_duration", "http_req_failed"]),
            st.integers(0, 5),
            st.floats(0, 1e6) | st.just(-1.0),
            TAGS | JSON_VALUES,
        ),
        min_size=1,
        max_size=12,
    )
)
def test_k6_lines_with_hostile_tags(points: list[tuple[str, int, float, object]]) -> None:
    lines = [
        json.dumps(
            {
                "type": "Point",
                "metric": metric,
                "data": {"time": f"2024-01-01T00:00:0{t}Z", "value": value, "tags": tags},
            }
        )
        for metric, t, value, tags in points
    ]
    survives("\n".join(lines).encode())


LEVELS = st.builds(
    SweepLevel,
    level=st.floats(1, 1e6),
    throughput_rps=st.floats(0, 1e9),
    errors=st.none() | st.integers(0, 10**12),
    requests=st.none() | st.integers(0, 10**12),
)
TARGETS = st.lists(
    st.sampled_from(
        [
            "http://h/a",
            "http://h/a?x=1",
            "https://u:pw@h/b",
            "http://[x/a",
            "/a",
            "a",
            "",
            "é" * 300,
        ]
    ),
    max_size=3,
).map(lambda xs: tuple(sorted(set(xs))))


@FAST
@given(
    st.lists(st.tuples(st.lists(LEVELS, min_size=1, max_size=3), TARGETS), min_size=1, max_size=4),
    st.floats(0, 1),
    st.booleans(),
)
def test_merge_keeps_every_level_once_and_fails_only_in_one_line(
    files: list[tuple[list[SweepLevel], tuple[str, ...]]], threshold: float, merge: bool
) -> None:
    results = [
        (f"f{i}.txt", Imported("wrk", "closed", tuple(levels), True, (), targets))
        for i, (levels, targets) in enumerate(files)
    ]
    try:
        sweep = _merge(results, threshold, merge)
    except InputError as exc:
        assert "\n" not in exc.one_line()
        assert "pw" not in exc.one_line()  # a URL's password is masked
        return
    assert len(sweep.levels) + len(sweep.failed) == sum(len(lv) for lv, _ in files)
    for f in sweep.failed:
        assert f.level.requests == 0 or f.error_share > threshold
        assert 0 <= f.error_share <= 1
    for lv in sweep.levels:
        share = error_share(lv)
        assert share is None or (share <= threshold and lv.requests)


@FAST
@given(TARGETS, TARGETS)
def test_same_targets_is_symmetric_and_reflexive(a: tuple[str, ...], b: tuple[str, ...]) -> None:
    assert _same_targets(a, a)
    assert _same_targets(a, b) == _same_targets(b, a)
