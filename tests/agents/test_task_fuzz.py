"""Hostile task documents for the babysitter task worker (issue #19), read in-process by
``run_task``: the real task files (the example, the test fixtures, an SDK ``task.json``
wrapping one) with one or two things changed anywhere inside (a number made 400 digits long,
1e308, NaN or negative, text where an object goes, a list 900 deep, a megabyte of text, lone
surrogates, control characters, a key dropped or added). Each ends in a result that is valid
JSON of finite numbers and validates against the task result's schema, or in one
``ThroughputError`` of one clean line; never another exception.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.agents.test_mcp_fuzz import _REPR, LONG, SLOW_CPU_S, _finite, _short, mutation

from throughput_expert.agents.mcp_server import task_schema
from throughput_expert.agents.task import run_task
from throughput_expert.errors import ThroughputError

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLE = ROOT / "examples" / "babysitter" / "task.json"
EXAMPLES_PER_SHAPE = int(os.environ.get("TPX_FUZZ_EXAMPLES", "2500" if LONG else "15"))
TALLY: Counter[str] = Counter()


def _documents() -> list[dict[str, Any]]:
    docs = [json.loads(EXAMPLE.read_text(encoding="utf-8"))]
    docs += [json.loads(p.read_text(encoding="utf-8")) for p in sorted(FIXTURES.glob("*.json"))]
    docs = [d for d in docs if "throughput_rps" not in d]  # the metrics file is no task
    sdk = {
        "kind": "agent",
        "schemaVersion": "2026.01.tasks-v1",
        "effectId": "e1",
        "invocationKey": "p:S1:t",
        "inputs": docs[0],
    }
    return [*docs, sdk]


DOCUMENTS = _documents()


@dataclass(frozen=True)
class Run:
    folder: Path
    task: Path
    result: Path


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    folder = tmp_path_factory.mktemp("task-fuzz") / "run"
    task = folder / "tasks" / "e1" / "input.json"
    task.parent.mkdir(parents=True)
    for name in ("metrics.json", "profile.collapsed", "blocked_workers.jstack.txt"):
        shutil.copy(FIXTURES / name, task.parent / name)
    yield Run(folder, task, folder / "result.json")
    if LONG:
        print(f"\ntask documents: {dict(TALLY)}", file=sys.stderr)


def _write(path: Path, doc: object) -> bool:
    """The document as a task file (NaN and Infinity as JSON's extensions write them, lone
    surrogates escaped); False when JSON cannot hold it at all."""
    try:
        text = json.dumps(doc)
    except (ValueError, RecursionError):
        return False
    path.write_text(text, encoding="utf-8")
    return True


def check_task(run: Run, doc: object) -> str:
    """The verdict of the worker on ``doc``: "ok", "error" or "unwritable"; anything else
    fails the test."""
    if not _write(run.task, doc):
        return "unwritable"
    try:
        _, result = run_task(run.task, str(run.result))
    except ThroughputError as err:
        line = err.one_line()
        assert line.strip() and "\n" not in line and "Traceback" not in line, line
        assert "internal error" not in line.lower() and not _REPR.search(line), line
        return "error"
    assert _finite(result), _short(result)
    written = json.loads(run.result.read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(result))
    jsonschema.Draft202012Validator(task_schema()).validate(result)
    return "ok"


def test_the_real_task_documents_are_answered(run: Run) -> None:
    """The verdicts can tell a result from an error: most of the documents mutated work (two
    ask for what only a measurement holds, and say so)."""
    verdicts = [check_task(run, doc) for doc in DOCUMENTS]
    assert verdicts.count("ok") >= len(DOCUMENTS) - 2 and "unwritable" not in verdicts, verdicts


@settings(
    max_examples=EXAMPLES_PER_SHAPE,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
def test_hostile_task_documents_get_a_result_or_one_line(run: Run, data: st.DataObject) -> None:
    doc = data.draw(st.sampled_from(DOCUMENTS).flatmap(mutation), label="task")
    if data.draw(st.booleans(), label="twice"):
        doc = data.draw(mutation(doc), label="task, changed again")
    start = time.process_time()
    TALLY[check_task(run, doc)] += 1
    TALLY["slow"] += time.process_time() - start > SLOW_CPU_S


# --- what the fuzz found, as plain examples ---------------------------------------------------

ROWS = [{"batch_size": i, "latency_ms": i} for i in range(1, 20_000)]


@pytest.mark.parametrize(
    ("schema", "line"),
    [
        # the metaschema's uniqueItems compared every pair of the list: 330 s of CPU
        (
            {"type": ROWS},
            "(schema): not a valid JSON Schema (draft 2020-12): type: a list of 19,999 items "
            "(there are 7 types: array, boolean, integer, null, number, object, string)",
        ),
        # 20,000 subschemas, each checked against the metaschema: 4 s
        ({"allOf": ROWS}, "(schema): more than 5,000 values: too large to check"),
    ],
)
def test_an_output_schema_too_costly_to_check_is_a_violation(
    schema: dict[str, Any], line: str
) -> None:
    from throughput_expert.agents.schema import fit_to_schema

    out = fit_to_schema({"summary": "x"}, schema, Path("result.json"))
    assert [v[: len(line)] for v in out["schema_violations"]] == [line]


def test_a_file_name_longer_than_the_system_allows_is_one_line(run: Run) -> None:
    """Path.exists() raised ENAMETOOLONG ("File name too long") out of the context's reader."""
    doc = {"task": "Find the bottleneck", "context": {"metrics": "x" * 300}}
    assert check_task(run, doc) == "error"
    with pytest.raises(ThroughputError) as raised:
        run_task(run.task, str(run.result))
    assert raised.value.one_line().endswith(": File name too long")


def test_an_architecture_sentence_of_a_megabyte_is_noted_not_read(tmp_path: Path) -> None:
    """Read clause by clause it took 2 s; past MAX_SENTENCE it is a note."""
    from throughput_expert.agents.context import MAX_SENTENCE, understand

    u = understand({"task": "x", "context": {"architecture": "a;b;c 1\n" * (1 << 17)}}, tmp_path)
    assert u.architecture_text is None
    assert u.unread == [  # counted with each run of whitespace as one space
        f"architecture: a sentence of 1,048,575 characters: at most {MAX_SENTENCE:,} are read "
        "(describe a larger system in an architecture file)"
    ]
    short = understand({"task": "x", "context": {"architecture": "Single consumer"}}, tmp_path)
    assert short.architecture_text == "Single consumer"
