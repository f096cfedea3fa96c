"""Every MCP tool takes its data inline as well as a path: the real ``tpx mcp`` over stdio,
driven by the official mcp client.

Each inline call has a twin that passes the same data as a file inside the roots: both must
give the same analysis (the data is read by the same reader). Errors in inline data name the
tool's argument; every result validates against the output schema its tool declares.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import jsonschema
import pytest
import yaml
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.types import CallToolResult, TextContent, Tool

import throughput_expert
from throughput_expert.agents.task import run_task

EXAMPLES = Path(throughput_expert.__file__).parent / "examples"
TESTS = Path(__file__).parents[1]
PROM = TESTS / "sources" / "fixtures" / "prometheus"
PROFILES = TESTS / "sources" / "profiles" / "fixtures"

SPECSDM91 = ((1, 64.9), (18, 995.9), (36, 1652.4), (72, 1853.2), (108, 1828.9), (144, 1775.0))
SPECSDM91 += ((216, 1702.2),)
SWEEP_CSV = "concurrency,throughput_rps\n" + "".join(f"{n},{x}\n" for n, x in SPECSDM91)
LEVELS = [{"concurrency": n, "throughput_rps": x} for n, x in SPECSDM91]
ROWS = [(1, 5.0), (10, 9.5), (50, 27.0), (100, 52.0)]
ROWS_CSV = "batch_size,latency_ms\n" + "".join(f"{b},{ms}\n" for b, ms in ROWS)
SEED_PROMPT = {
    "role": "Throughput Engineering Specialist",
    "task": "Increase message processing from 10K to 50K msgs/sec",
    "context": {
        "currentThroughput": "10,000 msgs/sec",
        "resourceUtilization": {"cpu": "45%", "memory": "60%", "diskIO": "80%"},
        "architecture": "Single consumer, PostgreSQL sink",
    },
    "instructions": [
        "Identify throughput bottlenecks",
        "Recommend parallelization strategy",
        "Design batching approach",
        "Estimate scaling requirements",
    ],
    "outputFormat": "JSON",
}

Calls = dict[str, tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class Served:
    root: Path
    tools: dict[str, Tool]
    results: dict[str, CallToolResult]


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def calls(root: Path, outside: Path) -> Calls:
    """Pairs ``NAME.inline`` / ``NAME.file`` holding the same data, and error cases."""
    demo = json.loads(_text(EXAMPLES / "message-consumer.json"))
    export = json.loads(_text(PROM / "export_node_app.json"))
    speedscope = json.loads(_text(PROFILES / "tiny.speedscope.json"))
    arch = yaml.safe_load(_text(EXAMPLES / "three-tier.yaml"))
    for name, text in (
        ("usl.csv", SWEEP_CSV),
        ("rows.csv", ROWS_CSV),
        ("scrape1.prom", _text(PROM / "node_scrape_1.prom")),
        ("scrape2.prom", _text(PROM / "node_scrape_2.prom")),
        ("tiny.collapsed.txt", _text(PROFILES / "tiny.collapsed.txt")),
        ("tiny.speedscope.json", _text(PROFILES / "tiny.speedscope.json")),
        ("three-tier.yaml", _text(EXAMPLES / "three-tier.yaml")),
        ("demo.json", _text(EXAMPLES / "message-consumer.json")),
        ("export.json", _text(PROM / "export_node_app.json")),
        ("host.json", json.dumps({"cores": 4, "utilization": {"cpu": 0.9}})),
    ):
        (root / name).write_text(text, encoding="utf-8")
    concurrency = {"workload_type": "io", "current_thread_pool": 10, "cpu_cores": 8}
    batching = {"operation": "database-insert", "target_throughput": 10000}
    collapsed = _text(PROFILES / "tiny.collapsed.txt")
    sneaky = {**arch, "components": [*arch["components"]]}
    sneaky["components"][0] = {**arch["components"][0], "sweep": "../outside/trap"}
    return {
        "analyze.inline": ("analyze", {"metrics": demo}),
        "analyze.file": ("analyze", {"metrics": ["demo.json"]}),
        "analyze-export.inline": ("analyze", {"metrics": [export]}),
        "analyze-export.file": ("analyze", {"metrics": ["export.json"]}),
        "analyze-scrapes.inline": (
            "analyze",
            {
                "metrics": [_text(root / "scrape1.prom"), _text(root / "scrape2.prom")],
                "interval": "15s",
            },
        ),
        "analyze-scrapes.file": (
            "analyze",
            {"metrics": ["scrape1.prom", "scrape2.prom"], "interval": "15s"},
        ),
        "analyze-mixed": ("analyze", {"metrics": ["demo.json", {"cores": 8}]}),
        "bottleneck.inline": (
            "find_bottleneck",
            {"profiles": [collapsed], "utilization": {"cores": 4, "utilization": {"cpu": 0.9}}},
        ),
        "bottleneck.file": (
            "find_bottleneck",
            {"profiles": ["tiny.collapsed.txt"], "utilization": "host.json"},
        ),
        "bottleneck-speedscope.inline": ("find_bottleneck", {"profiles": [speedscope]}),
        "bottleneck-speedscope.file": ("find_bottleneck", {"profiles": ["tiny.speedscope.json"]}),
        "bottleneck-one-line": ("find_bottleneck", {"profiles": ["main;work;parse 10"]}),
        "concurrency.inline": ("optimize_concurrency", {**concurrency, "sweep": LEVELS}),
        "concurrency.file": ("optimize_concurrency", {**concurrency, "sweep": "usl.csv"}),
        "no-cores": (
            "optimize_concurrency",
            {"workload_type": "io", "current_thread_pool": 10, "sweep": LEVELS},
        ),
        "batching.inline": (
            "design_batching",
            {**batching, "measurements": [{"batch_size": b, "latency_ms": ms} for b, ms in ROWS]},
        ),
        "batching.file": ("design_batching", {**batching, "measurements": "rows.csv"}),
        "batching-csv.inline": ("design_batching", {**batching, "measurements": ROWS_CSV}),
        "batching-csv.file": ("design_batching", {**batching, "measurements": "rows.csv"}),
        "batching-bad-row": (
            "design_batching",
            {**batching, "measurements": [{"batch_size": 1, "latency_ms": 5}, {"batch_size": "x"}]},
        ),
        "batching-typo": (
            "design_batching",
            {**batching, "measurements": [{"batch_size": 1, "latency": 5}]},
        ),
        "batching-nothing": ("design_batching", batching),
        "scaling.inline": ("scaling_plan", {"current_architecture": arch, "target_rps": 6000}),
        "scaling.file": (
            "scaling_plan",
            {"current_architecture": "three-tier.yaml", "target_rps": 6000},
        ),
        "scaling-yaml.inline": (
            "scaling_plan",
            {"current_architecture": _text(EXAMPLES / "three-tier.yaml"), "target_rps": 6000},
        ),
        "scaling-yaml.file": (
            "scaling_plan",
            {"current_architecture": "three-tier.yaml", "target_rps": 6000},
        ),
        "scaling-outside": ("scaling_plan", {"current_architecture": sneaky, "target_rps": 6000}),
        "scaling-too-big": (
            "scaling_plan",
            {"current_architecture": {**arch, "system": "x" * (1 << 20)}, "target_rps": 6000},
        ),
        "usl.inline": ("fit_usl", {"sweep": LEVELS}),
        "usl.file": ("fit_usl", {"sweep": "usl.csv"}),
        "usl-csv.inline": ("fit_usl", {"sweep": SWEEP_CSV}),
        "usl-csv.file": ("fit_usl", {"sweep": "usl.csv"}),
        "usl-object.inline": (
            "fit_usl",
            {"sweep": {"levels": [{"level": n, "throughput_rps": x} for n, x in SPECSDM91]}},
        ),
        "usl-object.file": ("fit_usl", {"sweep": "usl.csv"}),
        "usl-nan": ("fit_usl", {"sweep": [{"concurrency": 1, "throughput_rps": "fast"}]}),
        "sweep.inline": ("sweep", {"from_files": LEVELS}),
        "sweep.file": ("sweep", {"from_files": ["usl.csv"]}),
        "metrics-typo": ("analyze", {"metrics": {"throughput": 5}}),
        "task": ("task", SEED_PROMPT),
        "task-schema": (
            "task",
            {
                **SEED_PROMPT,
                "outputSchema": {
                    "type": "object",
                    "required": ["summary", "recommendations"],
                    "properties": {"summary": {"type": "string"}},
                },
            },
        ),
        "task-violated": (
            "task",
            {
                **SEED_PROMPT,
                "outputSchema": {
                    "type": "object",
                    "required": ["summary"],
                    "properties": {"summary": {"type": "number"}},
                },
            },
        ),
        "task-outside": (
            "task",
            {"task": "Analyze throughput", "context": {"metrics": str(outside / "trap")}},
        ),
    }


async def exchange(params: StdioServerParameters, todo: Calls, errlog: Any) -> Any:
    with anyio.fail_after(180):
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as client,
        ):
            await client.initialize()
            listed = await client.list_tools()
            results = {k: await client.call_tool(n, a) for k, (n, a) in todo.items()}
    return listed.tools, results


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Served:
    tmp = tmp_path_factory.mktemp("inline")
    root, outside = tmp / "root", tmp / "outside"
    root.mkdir()
    outside.mkdir()
    os.mkfifo(outside / "trap")  # opening it would block the server: an answer shows it was not
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "throughput_expert.cli", "mcp", "--root", str(root)],
        cwd=str(tmp),
    )
    with (tmp / "stderr").open("w") as errlog:
        tools, results = anyio.run(exchange, params, calls(root, outside), errlog)
    return Served(root, {t.name: t for t in tools}, results)


def line_of(result: CallToolResult) -> str:
    assert len(result.content) == 1
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def doc(served: Served, key: str) -> dict[str, Any]:
    result = served.results[key]
    assert not result.is_error, line_of(result)
    assert isinstance(result.structured_content, dict)
    return result.structured_content


PAIRS = [
    "analyze",
    "analyze-export",
    "analyze-scrapes",
    "bottleneck",
    "bottleneck-speedscope",
    "concurrency",
    "batching",
    "batching-csv",
    "scaling",
    "scaling-yaml",
    "usl",
    "usl-csv",
    "usl-object",
    "sweep",
]


def _without_sources(value: Any) -> Any:
    """The analysis with the names of what was read left out (a file's path, an argument)."""
    if isinstance(value, dict):
        return {k: _without_sources(v) for k, v in value.items() if k not in ("source", "sources")}
    if isinstance(value, list):
        return [_without_sources(v) for v in value]
    return value


@pytest.mark.parametrize("pair", PAIRS)
def test_inline_data_gives_what_the_same_file_gives(served: Served, pair: str) -> None:
    inline, file = doc(served, f"{pair}.inline"), doc(served, f"{pair}.file")
    if "command" not in inline:  # fit_usl: the fit itself
        assert _without_sources(inline) == _without_sources(file)
        return
    assert _without_sources(inline["analysis"]) == _without_sources(file["analysis"])
    assert inline["recommendations"] == file["recommendations"]
    assert inline["summary"] == file["summary"]


def test_every_result_validates_against_its_tools_output_schema(served: Served) -> None:
    names = {key: name for key, (name, _) in calls(served.root, served.root).items()}
    checked = 0
    for key, result in served.results.items():
        if result.is_error:
            continue
        schema = served.tools[names[key]].output_schema
        assert schema is not None
        jsonschema.Draft202012Validator(schema).validate(result.structured_content)
        checked += 1
    assert checked >= 2 * len(PAIRS)


def test_inline_metrics_merge_with_files(served: Served) -> None:
    analysis = doc(served, "analyze-mixed")["analysis"]
    assert analysis["current_throughput"]["cores"] == 8  # from the object, beside the file's


def test_a_single_line_of_collapsed_stacks_is_a_profile_not_a_path(served: Served) -> None:
    assert doc(served, "bottleneck-one-line")["command"] == "find-bottleneck"


def test_without_cpu_cores_no_pool_is_sized_for_the_servers_cores(served: Served) -> None:
    result = served.results["no-cores"]
    assert result.is_error
    assert line_of(result).startswith("cpu_cores: needed to size a pool")


@pytest.mark.parametrize(
    ("key", "line"),
    [
        ("batching-bad-row", "measurements: [1]: batch_size: expected a number"),
        ("batching-typo", "measurements: [0].latency: unknown key (did you mean 'latency_ms'?)"),
        ("metrics-typo", "metrics: throughput: unknown key (did you mean 'throughput_rps'?)"),
        ("usl-nan", "sweep: levels[0].throughput_rps: "),
        ("scaling-too-big", "current_architecture: larger than 1 MiB: pass a file path instead"),
        (
            "batching-nothing",
            "design_batching: give current_latency, fixed_overhead and per_item_cost, "
            "measurements FILE or measure (not a tool argument: tpx command line only) DSN",
        ),
    ],
)
def test_errors_in_inline_data_name_the_tools_argument(served: Served, key: str, line: str) -> None:
    result = served.results[key]
    assert result.is_error
    assert line_of(result).startswith(line), line_of(result)
    assert "--" not in line_of(result)


def test_an_inline_architecture_cannot_name_a_sweep_outside_the_roots(served: Served) -> None:
    result = served.results["scaling-outside"]
    assert result.is_error
    line = line_of(result)
    assert line.startswith("scaling_plan: current_architecture: components[0].sweep: ")
    assert "is outside the server's roots" in line


def test_the_task_tool_answers_the_seed_prompt_as_tpx_task_does(
    served: Served, tmp_path: Path
) -> None:
    got = doc(served, "task")
    assert got["command"] == "task"
    path = tmp_path / "tasks" / "e1" / "input.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"agent": {"prompt": SEED_PROMPT}}), encoding="utf-8")
    _, expected = run_task(path)
    assert got["summary"] == expected["summary"]
    assert _without_sources(got["analysis"]) == _without_sources(expected["analysis"])
    assert got["recommendations"] == expected["recommendations"]
    assert "bottleneck" in got["analysis"] and "task" in got["analysis"]


def test_the_task_tool_fills_and_checks_the_output_schema(served: Served) -> None:
    assert "schema_violations" not in doc(served, "task-schema")
    result = served.results["task-violated"]
    assert result.is_error
    assert line_of(result).startswith("task: outputSchema: the result does not satisfy it: ")
    assert line_of(result).startswith(
        "task: outputSchema: the result does not satisfy it: summary: "
    )


def test_the_task_tool_reads_files_only_inside_the_roots(served: Served) -> None:
    result = served.results["task-outside"]  # an answer at all: the FIFO was never opened
    assert result.is_error
    assert "is outside the server's roots" in line_of(result)
