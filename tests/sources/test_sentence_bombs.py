"""The architecture sentence of a task on hostile text: linear time, bounded counts, and only
``InputError`` ever escapes. The sentence comes from a task file another program wrote."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support import run_tpx

from throughput_expert.errors import InputError
from throughput_expert.sources.sentence import read_sentence


def _task(tmp_path: Path, architecture: str) -> Path:
    folder = tmp_path / "tasks" / "t1"
    folder.mkdir(parents=True)
    path = folder / "input.json"
    context = {
        "currentThroughput": "10,000 msgs/sec",
        "resourceUtilization": {"cpu": "45%"},
        "architecture": architecture,
    }
    prompt = {"task": "Increase message processing from 10K to 50K msgs/sec", "context": context}
    path.write_text(json.dumps(prompt))
    return path


def test_a_task_whose_sentence_hides_200_kb_of_spaces(tmp_path: Path) -> None:
    """The split pattern had a \\s* on each side: 80 KB of spaces took 135 s."""
    task = _task(tmp_path, "Single consumer," + " " * 200_000 + "PostgreSQL sink")
    out = tmp_path / "result.json"
    started = time.monotonic()
    proc = run_tpx("task", str(task), "--output", str(out), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - started < 30
    understood = json.loads(out.read_text())["analysis"]["task"]["understood"]
    names = [(p["kind"], p["name"], p["count"]) for p in understood["architecture"]]
    assert names == [("worker", "consumer", 1), ("database", "PostgreSQL", None)]


def test_a_count_over_the_bound_refuses_the_task_in_one_line(tmp_path: Path) -> None:
    task = _task(tmp_path, "100000000 consumers, PostgreSQL sink")
    proc = run_tpx("task", str(task), timeout=60)
    assert proc.returncode == 2
    assert proc.stderr == (
        'context: architecture: "100000000 consumers" is more than any one service runs '
        "(at most 16,777,216)\n"
    )
    assert not (task.parent / "result.json").exists()


@pytest.mark.parametrize(
    "text",
    [
        " " * 1_000_000,
        "x" + " " * 1_000_000 + "x",
        " " * 500_000 + "to" + " " * 500_000,
        "\t\n " * 300_000 + "and",
        "a," * 300_000,
        "kafka consumer and " * 30_000,
        "in front " * 100_000 + "of",
        "sql " * 200_000 + "server",
    ],
    ids=[
        "spaces",
        "x-spaces-x",
        "spaces-to-spaces",
        "blanks",
        "commas",
        "clauses",
        "in-front",
        "sql",
    ],
)
def test_hostile_sentences_read_in_linear_time(text: str) -> None:
    started = time.monotonic()
    read_sentence(text)
    assert time.monotonic() - started < 10.0


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("9" * 6000 + " workers", '"' + "9" * 39 + '…"'),  # past int()'s 4,300 digits
        ("16777217 pods", '"16777217 pods"'),
        ("a cache and 20000000 consumers", '"20000000 consumers"'),
    ],
    ids=["6000-digits", "bound+1", "in-a-later-clause"],
)
def test_counts_over_the_bound_are_refused(text: str, shown: str) -> None:
    with pytest.raises(InputError) as caught:
        read_sentence(text)
    assert caught.value.one_line() == (
        f"context: architecture: {shown} is more than any one service runs (at most 16,777,216)"
    )


def test_counts_up_to_the_bound_are_read() -> None:
    parts, unread = read_sentence("16777216 pods -> Kafka -> 3 consumers")
    assert [(p.kind, p.count) for p in parts] == [
        ("service", 16_777_216),
        ("queue", None),
        ("worker", 3),
    ]
    assert unread == []


def test_products_are_read_as_before() -> None:
    parts, _ = read_sentence("postgresql and mongo db, sql server store; redis mysql cache")
    assert [(p.kind, p.name) for p in parts] == [
        ("database", "PostgreSQL"),
        ("database", "MongoDB"),
        ("database", "SQL Server"),
        ("database", "MySQL"),  # two products in a clause: the first in the table wins
    ]


words = st.sampled_from(
    [
        *("single", "two", "3", "0", "99999999999", "consumer", "workers", "PostgreSQL", "mongo"),
        *("sql server", "Kafka", "redis", "cache", "and", "with", "to", "from", "->", "→", "+"),
        *(",", ";", " ", "   ", "\t", "\n", "in front of", "writes to", "a", "x", "é", "\u2028"),
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(words, max_size=30).map(" ".join) | st.text(max_size=300))
def test_arbitrary_sentences_raise_only_input_error(text: str) -> None:
    with contextlib.suppress(InputError):
        parts, unread = read_sentence(text)
        assert all(p.count is None or 0 <= p.count <= 16_777_216 for p in parts)
        assert all(c == c.strip() and c for c in unread)
