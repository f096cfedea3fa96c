"""A task's outputSchema is trusted for nothing: its $refs are never fetched (a loopback server
on 127.0.0.2, "another host", counts the requests), its regular expressions are never run, and
no shape of it makes the worker raise."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support import json_values, run_tpx

from throughput_expert.agents.schema import fit_to_schema

PROMPT = {
    "task": "Increase throughput from 10K to 50K msgs/sec",
    "context": {"currentThroughput": "10,000 msgs/sec", "cpu": "45%"},
}


class Counting(ThreadingHTTPServer):
    requests: list[str]


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        server = self.server
        assert isinstance(server, Counting)
        server.requests.append(self.path)
        body = json.dumps({"type": "number"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def other_host() -> Iterator[Counting]:
    server = Counting(("127.0.0.2", 0), Handler)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_remote_refs_are_never_fetched(tmp_path: Path, other_host: Counting) -> None:
    base = f"http://127.0.0.2:{other_host.server_address[1]}"
    schema = {
        "$schema": f"{base}/meta.json",
        "type": "object",
        "required": ["summary", "analysis"],
        "properties": {
            "summary": {"$ref": f"{base}/summary.json"},
            "analysis": {"$ref": "#/$defs/object"},
        },
        "$defs": {"object": {"type": "object"}},
    }
    path = tmp_path / "tasks" / "e1" / "input.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"prompt": PROMPT, "outputSchema": schema}))
    proc = run_tpx("task", str(path), timeout=90)
    assert proc.returncode == 0, proc.stderr
    assert other_host.requests == []
    result = json.loads((path.parent / "result.json").read_text())
    assert result["command"] == "task"
    assert result["schema_violations"] == [
        f"(schema): $ref '{base}/summary.json' not followed: references outside the schema are "
        "never fetched (validation stopped there)"
    ]


def test_relative_refs_against_a_remote_id_are_not_fetched_either(other_host: Counting) -> None:
    base = f"http://127.0.0.2:{other_host.server_address[1]}"
    schema = {"$id": f"{base}/root.json", "properties": {"summary": {"$ref": "other.json"}}}
    out = fit_to_schema({"summary": "s"}, schema, Path("r.json"))
    assert other_host.requests == []
    assert "$ref 'other.json' not followed" in out["schema_violations"][0]


def test_internal_refs_still_resolve() -> None:
    schema = {
        "$id": "https://example.org/task.json",
        "$defs": {"n": {"type": "number"}},
        "properties": {"summary": {"$ref": "#/$defs/n"}, "x": {"$ref": "task.json#/$defs/n"}},
    }
    out = fit_to_schema({"summary": "text", "x": "y"}, schema, Path("r.json"))
    assert out["schema_violations"] == [
        "summary: 'text' is not of type 'number'",
        "x: 'y' is not of type 'number'",
    ]


def test_a_long_value_is_cut_so_what_is_wrong_with_it_stays_in_the_line() -> None:
    summary = "Bottleneck: disk I/O at 80 %; today's ceiling " + "and more words " * 40
    schema = {"properties": {"summary": {"type": "number"}, "n": {"enum": [1, 2]}}}
    out = fit_to_schema({"summary": summary, "n": "x" * 500}, schema, Path("r.json"))
    second, first = out["schema_violations"]  # sorted by path: n, summary
    assert first.startswith('summary: "Bottleneck: disk I/O at 80 %; today')
    assert first.endswith("… is not of type 'number'") and len(first) < 120
    assert second.startswith("n: 'xxx") and second.endswith("… is not one of [1, 2]")
    short = fit_to_schema({"summary": "text"}, schema, Path("r.json"))
    assert short["schema_violations"] == ["summary: 'text' is not of type 'number'"]


def test_credentials_in_a_ref_are_not_echoed() -> None:
    schema = {"properties": {"summary": {"$ref": "http://me:pa55word@127.0.0.2:9/s.json"}}}
    out = fit_to_schema({"summary": "s"}, schema, Path("r.json"))
    assert "pa55word" not in json.dumps(out)


def test_regular_expressions_of_the_schema_are_never_run() -> None:
    hostile = "^(.|.)*x$"  # 2^n steps on a string without an x: hours on a summary
    schema = {
        "properties": {"summary": {"pattern": hostile}},
        "patternProperties": {hostile: {"type": "number"}},
        "additionalProperties": False,
        "required": ["summary", "files"],
    }
    result = {"summary": "b" * 200, "analysis": {}}
    start = time.monotonic()
    out = fit_to_schema(result, schema, Path("r.json"))
    assert time.monotonic() - start < 10  # milliseconds when no pattern runs
    notes = out["schema_violations"]
    for keyword in ("additionalProperties", "pattern", "patternProperties"):
        assert any(f"'{keyword}' not checked" in n for n in notes), notes


@pytest.mark.parametrize(
    ("schema", "words"),
    [
        ({"allOf": [{"$ref": "#"}]}, "refers to itself without end"),
        ({"type": 5}, "not a valid JSON Schema"),
        ({"required": 5}, "not a valid JSON Schema"),
        ({"required": [{"a": 1}]}, "not a valid JSON Schema"),
    ],
)
def test_a_broken_schema_is_a_violation_not_a_crash(schema: dict[str, Any], words: str) -> None:
    out = fit_to_schema({"summary": "s"}, schema, Path("r.json"))
    assert any(words in v for v in out["schema_violations"]), out


_json = json_values(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10), key_size=6, max_leaves=12
)
_keywords = st.sampled_from(
    [
        "type",
        "required",
        "properties",
        "$ref",
        "allOf",
        "anyOf",
        "items",
        "$defs",
        "$id",
        "additionalProperties",
        "pattern",
        "patternProperties",
        "unevaluatedProperties",
        "enum",
    ]
)
_schemas = st.recursive(
    st.dictionaries(_keywords, _json, max_size=3),
    lambda inner: st.dictionaries(_keywords, inner | st.lists(inner, max_size=2), max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(_schemas)
def test_no_schema_makes_fitting_raise(schema: dict[str, Any]) -> None:
    out = fit_to_schema({"summary": "s", "analysis": {}}, schema, Path("r.json"))
    assert out["summary"] == "s"
    assert all(isinstance(v, str) and "\n" not in v for v in out.get("schema_violations", []))


def test_the_mcp_task_tool_never_fetches_a_ref_either(tmp_path: Path, other_host: Counting) -> None:
    """The ``task`` tool takes an outputSchema from an MCP client: trusted for nothing, as a
    task file's (its $ref not fetched; the result that cannot be checked is an error)."""
    import sys

    import anyio
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client
    from mcp.types import TextContent

    base = f"http://127.0.0.2:{other_host.server_address[1]}"
    schema = {"type": "object", "properties": {"summary": {"$ref": f"{base}/summary.json"}}}
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "throughput_expert.cli", "mcp", "--root", str(tmp_path)],
    )

    async def call(errlog: Any) -> Any:
        with anyio.fail_after(90):
            async with (
                stdio_client(params, errlog=errlog) as (read, write),
                ClientSession(read, write) as client,
            ):
                await client.initialize()
                return await client.call_tool("task", {**PROMPT, "outputSchema": schema})

    with (tmp_path / "stderr").open("w") as errlog:
        result = anyio.run(call, errlog)
    assert other_host.requests == []
    assert result.is_error
    block = result.content[0]
    assert isinstance(block, TextContent)
    assert block.text == (
        f"task: outputSchema: the result does not satisfy it: (schema): $ref "
        f"'{base}/summary.json' not followed: references outside the schema are never fetched "
        "(validation stopped there)"
    )
