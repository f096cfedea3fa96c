"""Reading a prompt's text costs linear time whatever it holds, and raises nothing but
InputError (a path outside the workspace) on any prompt."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support import json_values

from throughput_expert.agents.context import normalize_key, understand
from throughput_expert.errors import InputError

N = 200_000  # characters of hostile text
BOUND_S = 5.0  # the fixed code takes milliseconds; the quadratic one took minutes

HOSTILE = {
    "spaces after 'to N'": "to 1" + " " * N + "x",
    "spaces after 'from N'": "from 1" + " " * N + "x",
    "spaces after 'from N to N'": "from 1 to 1" + " " * N + "x",
    "spaces between a number and its unit": "from 1 to 1" + " " * N + "k" + " " * N + "x",
    "digits": "to " + "1" * N + " x",
    "digits after from": "from " + "1" * N + " to",
    "repeated to": "to 1 " * (N // 5),
    "repeated from": "from 1 " * (N // 7),
    "letters after a unit": "to 5 " + "a" * N,
    "tabs and newlines": "from 10K\t\n" + "\n" * N + "to 50K msgs/sec",
    "a long word per word": "to 5 " + "ab/" * (N // 3),
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=list(HOSTILE))
def test_hostile_task_text_is_read_in_linear_time(text: str) -> None:
    prompt = {
        "task": text,
        "context": {"currentThroughput": text, "target": text, text[:50_000]: text},
    }
    start = time.monotonic()
    understand(prompt, Path("."))
    assert time.monotonic() - start < BOUND_S


def test_a_huge_key_is_normalized_in_linear_time() -> None:
    key = ("aB -" * (N // 4)) + "x"
    start = time.monotonic()
    assert normalize_key(key).startswith("a_b_")
    assert time.monotonic() - start < BOUND_S


@pytest.mark.parametrize(
    ("task", "current", "target"),
    [
        ("Increase message processing from 10K to 50K msgs/sec", 10_000, 50_000),
        ("scale from 2,000 to 8,000 rps", 2_000, 8_000),
        ("from 10 K  to\n\t 50 K rps, please", 10_000, 50_000),
        ("get us to 12K rps", None, 12_000),
        ("get us to 12 k requests per second", None, None),
        ("from 5 to 7 messages per second", 5, 7),
    ],
)
def test_rates_in_the_task_text_still_read(
    task: str, current: float | None, target: float | None
) -> None:
    u = understand({"task": task}, Path("."))
    assert (u.current_rps, u.target_rps) == (current, target)


_leaf = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
_json = json_values(_leaf, key_size=12, max_leaves=10)
_keys = st.sampled_from(
    [
        "currentThroughput",
        "target",
        "resourceUtilization",
        "cpu",
        "diskIO",
        "service",
        "cores",
        "workers",
        "architecture",
        "metrics",
        "profile",
        "sweep",
        "currentMetrics",
        "dbPassword",
        "name",
    ]
) | st.text(max_size=12)
_rates = st.from_regex(
    r"(from|to) ?[\d.,_ ]{0,12} ?[kKmMgG]? ?(to)? ?[\d.,_]{0,8} ?\w{0,5}/?\w{0,4}"
)


@settings(max_examples=400, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "task": _rates | st.text(max_size=60) | _json,
            "context": st.dictionaries(_keys, _json | _rates, max_size=6) | _json,
            "instructions": _json,
        },
    )
)
def test_understand_raises_nothing_but_input_errors(prompt: dict[str, Any]) -> None:
    with contextlib.suppress(InputError):
        u = understand(prompt, Path("."))
        assert all(isinstance(line, str) for line in u.unread)
