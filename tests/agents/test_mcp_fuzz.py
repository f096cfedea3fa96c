"""Hostile arguments to every MCP tool (issue #19): whatever JSON an agent sends, a tool answers
with a result valid against its declared output schema, or a tool error of one clean line.

One in-process server (``build_server``) and the official ``mcp`` client serve the module. For
each tool the server lists, hypothesis draws arguments from the tool's ``inputSchema`` (the
right keys, values of every shape and size: 400-digit integers, 1e308, NaN, negative numbers,
strings where numbers go, lists and objects 1,000 deep, megabyte strings, lone surrogates,
control characters, half a CSV) and mutations of the known-good argument sets the other MCP
tests send. Each call ends in one of:

- ``ok``: a structured result that validates against the tool's output schema;
- ``clean``: ``isError`` and one line that names what is wrong (no traceback, no exception
  repr, no "internal error");
- ``schema``: refused by the SDK's own validation of the arguments against the input schema
  (pydantic), before the tool runs: acceptable, counted apart;

and never in ``crash`` (the SDK's bare "Error executing tool NAME": an exception escaped the
tool), ``messy`` (an error that is not one clean line), ``bad-output`` (a result its schema
refuses, or one no UTF-8 JSON text can carry) or ``protocol`` (the call itself failed).

Arguments go through the client when it can send them as they are; what a JSON text may hold
but the client will not send (NaN, Infinity, lone surrogates, nesting deeper than the SDK's
parser) goes straight to the server's tool call; what no JSON text holds is "unsendable" and
counted apart, as are calls over 2 MB. ``TPX_FUZZ_LONG=1`` (with ``-s``) runs a long campaign,
2,500 calls per tool (``TPX_FUZZ_EXAMPLES=N``), and prints the tally and the slowest calls.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import sys
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.from_thread
import jsonschema
import pydantic_core
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent, Tool
from tests.agents import test_mcp_inline, test_mcp_server

import throughput_expert
from throughput_expert.agents.mcp_server import build_server

EXAMPLES = Path(throughput_expert.__file__).parent / "examples"
LONG = os.environ.get("TPX_FUZZ_LONG") == "1"
EXAMPLES_PER_TOOL = int(os.environ.get("TPX_FUZZ_EXAMPLES", "2500" if LONG else "25"))
MAX_CALL_BYTES = 2 << 20  # calls larger than this are not sent (the issue bounds 1 MB)
SLOW_CPU_S = 2.0  # the bound for an input of at most 1 MB (reported, never asserted)
ACCEPTED = ("ok", "clean", "schema", "unsendable")
TOOLS = sorted(test_mcp_server.REQUIRED)

# --- hostile values -------------------------------------------------------------------------


def _deep_list(n: int) -> Any:
    value: Any = 1
    for _ in range(n):
        value = [value]
    return value


def _deep_dict(n: int, key: str = "a") -> Any:
    value: Any = 1
    for _ in range(n):
        value = {key: value}
    return value


MB = 1 << 20
HUGE_INTS = [10**400, -(10**400), 2**63, 2**64, -(2**63), 10**20, 0, -1, 1, 2, 2**31, 10**4000]
FLOATS = [1e308, -1e308, 5e-324, -0.0, 0.0, 1e-300, 0.5, -2.5, math.nan, math.inf, -math.inf]
WORDS = [
    "",
    " ",
    "\ud800",
    "\udfff",
    "a\x00b",
    "\x1b[31mred",
    "\u2028",
    "10K",
    "-5ms",
    "1e400",
    "1e-400",
    "-1e400 rps",
    "1e308%",
    "p99=",
    "p99=1e999ms",
    "p99=-1ms",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "9" * 5_000,
    "0." + "0" * 5_000 + "1",
    "1," * 2_000 + "0 rps",
    "0",
    "-0",
    "0s",
    "100%",
    "-45%",
    "5e-324s",
    "1e308s",
    "10,000 msgs/sec",
    "2.5M rps",
    "auto",
    "AUTO ",
    "1,2,4",
    "0,-1,1e400",
    "..",
    "/",
    ".",
    "/etc/passwd",
    "../outside",
    "does-not-exist.json",
    "usl.csv",
    "rows.csv",
    "demo.json",
    "three-tier.yaml",
    "tiny.collapsed.txt",
    "\n",
    "a;b;c 1",
    "a;b 1e400",
    "a;b 99999999999999999999999999999999",
    "a;b -5",
    "a;b nan",
    ";;; 1",
    "concurrency,throughput_rps\n1,",
    "concurrency,throughput_rps\n1,1e400\n2,5\n",
    "concurrency,throughput_rps\n0,0\n-1,-1\n",
    "batch_size,latency_ms\n1,5\n2,",
    "batch_size,latency_ms\n0,0\n1e400,1\n",
    "batch_size,latency_ms\n" + "1,5\n" * 3 + "9" * 400 + ",1\n",
    '{"levels": [',
    "{",
    "[",
    "{}",
    "system: x\nentry_rate: 1e400\ncomponents: []\n",
    "system: x\nentry_rate: 10\ncomponents:\n  - name: a\n    instances: -1\n",
    "a: &a [*a]\n",
    "- [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n",
    "# HELP x\n# TYPE x counter\nx 1e400\n",
    'node_cpu_seconds_total{cpu="0",mode="idle"} NaN 1\n',
    "x{" + 'a="b",' * 5_000 + "} 1\n",
]
BIG: list[Any] = [
    "x" * MB,
    "a;b;c 1\n" * (MB // 8),
    "concurrency,throughput_rps\n" + "1,1\n" * (MB // 4),
    "batch_size,latency_ms\n" + "".join(f"{i},{i}\n" for i in range(1, 100_000)),
    "node_load1 1\n" * (MB // 13),
    {f"k{i}": i for i in range(50_000)},
    list(range(100_000)),
    [{"concurrency": i, "throughput_rps": i} for i in range(1, 20_000)],
    [{"batch_size": i, "latency_ms": i} for i in range(1, 20_000)],
]
DEEP: list[Any] = [
    _deep_list(900),
    _deep_dict(900),
    _deep_list(1_000),
    _deep_list(50),
    _deep_dict(200, "levels"),
]


def _with_surrogate(text: str, at: int) -> str:
    at = min(at, len(text))
    return text[:at] + "\ud800" + text[at:]


texts = st.text(max_size=40) | st.builds(_with_surrogate, st.text(max_size=20), st.integers(0, 20))
numbers = (
    st.sampled_from(HUGE_INTS)
    | st.sampled_from(FLOATS)
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
)
words = st.sampled_from(WORDS) | texts
leaves = numbers | words | st.booleans() | st.none()
shallow = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(words, inner, max_size=4),
    max_leaves=12,
)
hostile = shallow | st.sampled_from(DEEP) | st.sampled_from(BIG)


# --- arguments from a tool's input schema -----------------------------------------------------


def _arms(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for arm in schema.get("anyOf", [schema]):
        if "anyOf" in arm:
            yield from _arms(arm)
        else:
            yield arm


def _for_arm(arm: dict[str, Any], good: list[Any]) -> st.SearchStrategy[Any]:
    kind = arm.get("type")
    if "enum" in arm or "const" in arm:  # a wrong word: from the one hostile key
        return st.sampled_from(arm.get("enum", [arm.get("const")]))
    if kind == "string":
        return words
    if kind == "number":
        return numbers
    if kind == "integer":  # within the schema's bounds (out of them: the SDK's to refuse)
        low, high = arm.get("minimum"), arm.get("maximum")
        inside = [n for n in HUGE_INTS if (low is None or n >= low) and (high is None or n <= high)]
        return st.sampled_from(inside) | st.integers(low, high if high is not None else 2**70)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        item = _for_arm(arm.get("items", {}), good) if arm.get("items") else leaves
        return st.lists(item | leaves, max_size=6)
    if kind == "object":
        objects = [g for g in good if isinstance(g, dict)]
        mutated = st.sampled_from(objects).flatmap(mutation) if objects else st.nothing()
        return mutated | st.dictionaries(words, shallow, max_size=5)
    return leaves


def value_for(schema: dict[str, Any], good: list[Any]) -> st.SearchStrategy[Any]:
    """A value for one argument of a type its schema allows (extreme, empty, wrong in
    substance), or a known-good value changed."""
    arms = [_for_arm(arm, good) for arm in _arms(schema)]
    data = [g for g in good if isinstance(g, dict | list | str)]
    known = [st.sampled_from(good)] if good else []
    changed = [st.sampled_from(data).flatmap(mutation)] if data else []
    return st.one_of(*arms, *known, *changed)


@st.composite
def from_schema(draw: st.DrawFn, tool: Tool, seeds: list[dict[str, Any]]) -> dict[str, Any]:
    """Arguments with the tool's keys, each of a type its schema allows; the required ones
    nearly always; sometimes one of any shape at all, or a key the tool does not have."""
    props: dict[str, Any] = tool.input_schema.get("properties", {})
    required = set(tool.input_schema.get("required", []))
    out: dict[str, Any] = {}
    for key, schema in props.items():
        wanted = draw(st.integers(0, 9)) > 0 if key in required else draw(st.booleans())
        if wanted:
            out[key] = draw(value_for(schema, [s[key] for s in seeds if key in s]))
    if props and draw(st.integers(0, 3)) == 0:
        out[draw(st.sampled_from(sorted(props)))] = draw(hostile)
    if draw(st.integers(0, 9)) == 0:
        out[draw(words)] = draw(leaves)
    return out


@st.composite
def _mutated(draw: st.DrawFn, value: Any, depth: int = 0) -> Any:
    """``value`` with one change somewhere inside: a value replaced by a hostile one, a key
    dropped or added, an item dropped or repeated."""
    if isinstance(value, dict) and value and depth < 8:
        key = draw(st.sampled_from(sorted(value, key=str)))
        how = draw(st.sampled_from(["inside", "inside", "drop", "add", "replace"]))
        out = dict(value)
        if how == "inside":
            out[key] = draw(_mutated(value[key], depth + 1))
        elif how == "drop":
            del out[key]
        elif how == "add":
            out[draw(words)] = draw(hostile)
        else:
            out[key] = draw(hostile)
        return out
    if isinstance(value, list) and value and depth < 8:
        i = draw(st.integers(0, len(value) - 1))
        how = draw(st.sampled_from(["inside", "inside", "drop", "repeat", "replace"]))
        items = list(value)
        if how == "inside":
            items[i] = draw(_mutated(value[i], depth + 1))
        elif how == "drop":
            del items[i]
        elif how == "repeat":
            times = [1, 2, 1_000] if _size(items[i]) < 1_000 else [1, 2]
            items[i:i] = [items[i]] * draw(st.sampled_from(times))
        else:
            items[i] = draw(hostile)
        return items
    if isinstance(value, str) and value and draw(st.booleans()):
        at = draw(st.integers(0, len(value)))
        cut = draw(st.booleans())
        return value[:at] if cut else value[:at] + draw(words) + value[at:]
    return draw(hostile)


def _size(value: Any) -> int:
    """Characters of ``value`` as JSON (what JSON cannot hold counts as large)."""
    try:
        return len(json.dumps(value))
    except (ValueError, RecursionError):
        return MB


def mutation(value: Any) -> st.SearchStrategy[Any]:
    return _mutated(value)


def arguments(tool: Tool, seeds: list[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Schema-derived arguments, or a known-good set with one thing changed."""
    drawn = from_schema(tool, seeds)
    if not seeds:
        return drawn
    mutated = st.sampled_from(seeds).flatmap(mutation).filter(lambda a: isinstance(a, dict))
    twice = mutated.flatmap(mutation).filter(lambda a: isinstance(a, dict))
    return st.one_of(drawn, mutated.map(dict), mutated.map(dict), twice.map(dict))


# --- the server, the calls, the verdicts ------------------------------------------------------

_LOOPBACK = re.compile(r"(?i)(127\.|localhost|\[::1?\]|::1|0\.0\.0\.0|//0[:/]|//0$|//\[|//2130)")


def _remote_only(args: dict[str, Any]) -> dict[str, Any]:
    """A sweep of a loopback target would really measure (seconds a level): keep it remote."""
    url = args.get("url")
    if isinstance(url, str) and (_LOOPBACK.search(url) or "://" not in url):
        return {**args, "url": "http://192.0.2.1:9/"}
    return args


@dataclass
class Verdict:
    kind: str
    text: str
    cpu_s: float
    logged: str = ""
    answer: Any = None


@dataclass
class Fuzz:
    portal: anyio.from_thread.BlockingPortal
    server: MCPServer
    client: Client
    tools: dict[str, Tool]
    seeds: dict[str, list[dict[str, Any]]]
    crashes: list[str]
    tally: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    slowest: dict[str, list[tuple[float, str]]] = field(default_factory=lambda: defaultdict(list))
    found: dict[str, list[tuple[str, dict[str, Any], str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    root: Path = Path()

    def call(self, name: str, args: dict[str, Any]) -> Verdict:
        """The call as a JSON text carries it: through the client when the client can send it,
        else (NaN, Infinity, lone surrogates, deep nesting: what JSON texts may hold and a
        server's parser may accept) straight to the server's tool call."""
        if name == "sweep":
            args = _remote_only(args)
        self.crashes.clear()
        try:
            text = json.dumps(args)
            sent = json.loads(text)  # as over the wire: the tool gets its own objects
        except (ValueError, RecursionError) as exc:
            self.tally[name]["unsendable"] += 1
            return Verdict("unsendable", f"{type(exc).__name__}: {exc}", 0.0)
        if len(text) > MAX_CALL_BYTES:  # past the bound, and slow to generate
            self.tally[name]["oversized"] += 1
            return Verdict("unsendable", f"{len(text):,} bytes", 0.0)
        start = time.process_time()
        try:
            if _client_sends(sent):
                result = self.portal.call(self.client.call_tool, name, sent)
            else:
                self.tally[name]["direct"] += 1
                result = self.portal.call(_direct, self.server, name, sent, self.crashes)
        except Exception as exc:  # the call itself failed: a protocol error or a bad result
            kind = "bad-output" if "structured content" in str(exc) else "protocol"
            verdict = Verdict(kind, f"{type(exc).__name__}: {exc}", time.process_time() - start)
        else:
            verdict = judge(self.tools[name], result, time.process_time() - start)
        verdict.logged = "\n".join(self.crashes)
        self._record(name, args, verdict)
        return verdict

    def _record(self, name: str, args: dict[str, Any], verdict: Verdict) -> None:
        self.tally[name][verdict.kind] += 1
        if verdict.cpu_s > SLOW_CPU_S:
            self.tally[name]["slow"] += 1
        slow = self.slowest[name]
        slow.append((verdict.cpu_s, _short(args)))
        slow.sort(reverse=True)
        del slow[3:]
        if verdict.kind not in ACCEPTED or verdict.cpu_s > SLOW_CPU_S:
            self.found[name].append((verdict.kind, args, verdict.logged or verdict.text))


def _client_sends(args: Any) -> bool:
    """The SDK's client encodes it as it is (it writes NaN as null and refuses surrogates),
    and a stdio server's parser reads it back."""
    try:
        return pydantic_core.from_json(pydantic_core.to_json(args)) == args
    except ValueError:
        return False


async def _direct(server: MCPServer, name: str, args: dict[str, Any], crashes: list[str]) -> Any:
    """What the server answers a ``tools/call`` of these arguments (its request handler's
    error handling, without the client's encoding of them)."""
    from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError

    try:
        return await server.call_tool(name, args)
    except ToolError as exc:
        if isinstance(exc, UnexpectedToolError) and exc.__cause__ is not None:
            cause = exc.__cause__
            crashes.append("".join(traceback.format_exception(cause)))
        return CallToolResult(content=[TextContent(type="text", text=str(exc))], is_error=True)


def _short(args: object, limit: int = 300) -> str:
    try:
        text = repr(args)
    except ValueError:  # an integer of more digits than str() writes
        text = "(an argument holding an integer too long to print)"
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


_REPR = re.compile(r"\b[A-Z]\w*(Error|Exception|Warning)\b(\(|:)|<class '|object at 0x")


def judge(tool: Tool, result: CallToolResult, cpu_s: float) -> Verdict:
    try:
        result.model_dump_json(by_alias=True)  # what a server writes to the wire
    except ValueError as exc:
        return Verdict("bad-output", f"the answer cannot be written as JSON: {exc}", cpu_s)
    if not result.is_error:
        if not _finite(result.structured_content):
            return Verdict("bad-output", "a number in the result is NaN or infinite", cpu_s)
        try:
            assert tool.output_schema is not None
            jsonschema.Draft202012Validator(tool.output_schema).validate(result.structured_content)
        except jsonschema.ValidationError as exc:
            return Verdict("bad-output", exc.message, cpu_s)
        return Verdict("ok", "", cpu_s, answer=result.structured_content)
    blocks = [b.text for b in result.content if isinstance(b, TextContent)]
    text = blocks[0] if len(blocks) == 1 == len(result.content) else repr(result.content)
    prefix = f"Error executing tool {tool.name}"
    if text.startswith(prefix + ": ") and "validation error" in text:
        return Verdict("schema", text, cpu_s)
    if text.startswith(prefix):
        return Verdict("crash", text, cpu_s)
    bad = (
        len(blocks) != 1
        or not text.strip()
        or "\n" in text
        or "Traceback" in text
        or "internal error" in text.lower()
        or _REPR.search(text) is not None
    )
    return Verdict("messy" if bad else "clean", text, cpu_s)


def _finite(value: Any) -> bool:
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return False
        if isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
    return True


class _Crashes(logging.Handler):
    """The tracebacks the SDK logs when an exception escapes a tool."""

    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.ERROR)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.into.append(logging.Formatter().formatException(record.exc_info))


def _seeds(root: Path) -> dict[str, list[dict[str, Any]]]:
    """The argument sets the other MCP tests send, by tool (their files written into root)."""
    outside = root.parent / "outside"
    outside.mkdir(exist_ok=True)
    seeds: dict[str, list[dict[str, Any]]] = defaultdict(list)
    todo = {**test_mcp_server.calls(root), **test_mcp_inline.calls(root, outside)}
    for name, args in todo.values():
        seeds[name].append(_remote_only(args))
    seeds["task"].append(dict(test_mcp_inline.SEED_PROMPT))
    return seeds


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzz]:
    root = tmp_path_factory.mktemp("fuzz") / "root"
    root.mkdir()
    seeds = _seeds(root)
    crashes: list[str] = []
    handler = _Crashes(crashes)
    logging.getLogger().addHandler(handler)
    try:
        with anyio.from_thread.start_blocking_portal() as portal:
            server = build_server([root, EXAMPLES])
            client = Client(server)
            with portal.wrap_async_context_manager(client):
                listed = portal.call(client.list_tools)
                tools = {t.name: t for t in listed.tools}
                made = Fuzz(portal, server, client, tools, seeds, crashes, root=root)
                yield made
                _report(made)
    finally:
        logging.getLogger().removeHandler(handler)


def _report(fuzz: Fuzz) -> None:
    if not LONG:
        return
    out = sys.stderr
    kinds = ("ok", "clean", "schema", "crash", "messy", "bad-output", "protocol", "slow")
    print("\ntool: calls (direct) unsendable " + " ".join(kinds), file=out)
    for name, count in sorted(fuzz.tally.items()):
        calls = sum(count[k] for k in kinds[:-1])
        head = f"{name}: {calls} ({count['direct']}) {count['unsendable']}+{count['oversized']} "
        print(head + " ".join(str(count[k]) for k in kinds), file=out)
        for cpu, args in fuzz.slowest[name]:
            print(f"   {cpu:.2f} s CPU: {args}", file=out)
        for kind, args, why in fuzz.found[name][:5]:
            print(f"   {kind}: {_short(args)}\n{why[-2000:]}", file=out)


def test_the_server_lists_every_tool_the_fuzz_covers(fuzz: Fuzz) -> None:
    assert sorted(fuzz.tools) == TOOLS
    assert all(fuzz.seeds[name] or name == "sweep" for name in TOOLS)


def test_the_known_good_arguments_still_give_results(fuzz: Fuzz) -> None:
    """The verdicts can tell a result from an error: the seeds the fuzz mutates mostly work."""
    verdicts = Counter(fuzz.call("fit_usl", args).kind for args in fuzz.seeds["fit_usl"])
    assert verdicts["ok"] >= 4 and set(verdicts) <= set(ACCEPTED), verdicts


@pytest.mark.parametrize("name", TOOLS)
@settings(
    max_examples=EXAMPLES_PER_TOOL,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
def test_hostile_arguments_get_a_result_or_one_clean_line(
    fuzz: Fuzz, name: str, data: st.DataObject
) -> None:
    args = data.draw(arguments(fuzz.tools[name], fuzz.seeds[name]), label="arguments")
    verdict = fuzz.call(name, args)
    assert verdict.kind in ACCEPTED, (verdict.kind, verdict.text, verdict.logged)


def test_the_verdicts_catch_what_they_must() -> None:
    tool = Tool(name="t", input_schema={"type": "object"}, output_schema={"type": "object"})

    def error(text: str) -> str:
        result = CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)
        return judge(tool, result, 0.0).kind

    assert error("Error executing tool t") == "crash"
    assert error("Error executing tool t: 1 validation error for tArguments\nx") == "schema"
    assert error("metrics: throughput: unknown key") == "clean"
    assert error("metrics: ValueError('x')") == "messy"
    assert error("metrics: two\nlines") == "messy"
    assert error("an internal error: x") == "messy"
    bad = CallToolResult(content=[], structured_content=[1], is_error=False)  # type: ignore[arg-type]
    assert judge(tool, bad, 0.0).kind == "bad-output"
    assert json.dumps(_short({"a": "x" * 1000})).endswith('chars)"')
    assert error("service: '\ud800' unknown") == "bad-output"  # no UTF-8 answer carries it


# --- what the fuzz found, as plain examples ---------------------------------------------------


def test_a_list_past_its_limit_is_refused_at_once_by_the_schema(fuzz: Fuzz) -> None:
    """A megabyte list of wrong items was one error per item (200,001 lines, seconds of CPU):
    the schema's maxItems refuses it with one error per arm."""
    many = list(range(100_000))
    for name, args in (
        ("analyze", {"metrics": many}),
        ("find_bottleneck", {"profiles": many}),
        ("fit_usl", {"sweep": many}),
        ("sweep", {"from_files": many}),
        ("design_batching", {"operation": "x", "target_throughput": 1, "measurements": many * 2}),
        ("task", {"task": "x", "instructions": many}),
    ):
        verdict = fuzz.call(name, args)
        assert verdict.kind == "schema", (name, verdict)
        assert "at most" in verdict.text and len(verdict.text) < 5_000, (name, verdict.text)


def test_the_schema_says_how_many_documents_a_list_may_hold(fuzz: Fuzz) -> None:
    from throughput_expert.agents.inline import MAX_DOCUMENTS

    metrics = fuzz.tools["analyze"].input_schema["properties"]["metrics"]
    assert {"maxItems": MAX_DOCUMENTS} in [
        {"maxItems": arm.get("maxItems")} for arm in metrics["anyOf"]
    ]
    profiles = fuzz.tools["find_bottleneck"].input_schema["properties"]["profiles"]
    assert profiles["maxItems"] == MAX_DOCUMENTS and profiles["minItems"] == 1


def test_a_megabyte_of_tiny_metrics_objects_is_refused_before_any_is_read() -> None:
    """20,000 metrics objects of 50 bytes each were read and merged one by one (12 s of CPU);
    the tool itself (its SDK schema aside) refuses more than MAX_DOCUMENTS documents."""
    from throughput_expert.agents.inline import MAX_DOCUMENTS
    from throughput_expert.agents.mcp_server import one_line_errors, tools

    analyze = one_line_errors(next(t for t in tools() if t.__name__ == "analyze"))
    objects = [{"concurrency": i, "throughput_rps": i} for i in range(1, 20_001)]
    result = analyze(metrics=objects)
    assert isinstance(result, CallToolResult) and result.is_error
    line = judge_line(result)
    assert line == (
        f"metrics: 20,000 documents: at most {MAX_DOCUMENTS} (merge them into fewer files)"
    )
    assert not isinstance(analyze(metrics=objects[:MAX_DOCUMENTS]), CallToolResult)


def test_a_task_naming_too_many_files_notes_it_and_reads_none(tmp_path: Path) -> None:
    from throughput_expert.agents.context import understand

    (tmp_path / "m.json").write_text('{"throughput_rps": 5}', encoding="utf-8")
    u = understand({"task": "x", "context": {"metrics": ["m.json"] * 101}}, tmp_path)
    assert u.files == {}
    assert u.unread == ["metrics: 101 documents: at most 100 (merge them into fewer files)"]


def judge_line(result: CallToolResult) -> str:
    (block,) = result.content
    assert isinstance(block, TextContent)
    return block.text


@pytest.mark.parametrize("direct", [False, True])
def test_a_lone_surrogate_echoed_into_the_answer_is_replaced(fuzz: Fuzz, direct: bool) -> None:
    """A service name holding "\\ud800" (valid JSON, in a file or an argument) came back in the
    report, which no UTF-8 answer can carry: the SDK's encoder raised after the tool had
    succeeded ("Error executing tool analyze"). It is now U+FFFD."""
    demo = json.loads((EXAMPLES / "message-consumer.json").read_text(encoding="utf-8"))
    if direct:  # in the argument: a transport whose parser keeps it
        args: dict[str, Any] = {"metrics": {**demo, "service": "orders\ud800"}}
    else:  # in a file inside the roots, over the client
        (fuzz.root / "lone.json").write_text(
            json.dumps({**demo, "service": "orders\ud800"}), encoding="utf-8"
        )
        args = {"metrics": ["lone.json"]}
    before = fuzz.tally["analyze"]["direct"]
    verdict = fuzz.call("analyze", args)
    assert verdict.kind == "ok", verdict
    assert fuzz.tally["analyze"]["direct"] == before + direct  # the route meant
    assert "orders\ufffd" in json.dumps(verdict.answer, ensure_ascii=False)


def test_the_answer_keeps_the_replacement_character() -> None:
    from throughput_expert.agents.mcp_server import writable

    assert writable({"a\ud800": ["x\udfffy", 1, None]}) == {"a\ufffd": ["x\ufffdy", 1, None]}
    same = {"service": "orders ✓ 😀"}
    assert writable(same) is same


@pytest.mark.parametrize("host", ["a" * 64 + ".example", "x..y", "19\x86.0.2.1"])
def test_a_url_whose_host_is_no_host_name_is_one_line(fuzz: Fuzz, host: str) -> None:
    """The resolver's IDNA encoding raised UnicodeError ("label too long", "label empty"),
    an internal error; it is the url argument's error now."""
    verdict = fuzz.call("sweep", {"url": f"http://{host}/", "concurrency": [1]})
    assert verdict.kind == "clean", verdict
    assert verdict.text == f"url: {host!r} is not a host name"


def test_a_context_file_name_too_long_for_the_system_is_one_line(fuzz: Fuzz) -> None:
    """The task tool's context reader asked Path.exists(), which raises ENAMETOOLONG."""
    verdict = fuzz.call("task", {"task": "Analyze throughput", "context": {"metrics": "x" * 300}})
    assert verdict.kind == "clean", verdict
    assert verdict.text.endswith(": File name too long")
