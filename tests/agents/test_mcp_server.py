"""The MCP server as an agent meets it: the real process over stdio, driven by the mcp client.

One server process serves the whole module (starting one costs about a second): the fixture
lists the tools and makes every call once; the tests assert on what came back.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import anyio
import jsonschema
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.types import CallToolResult, GetPromptResult, Prompt, TextContent, Tool
from tests.support import http_server

import throughput_expert
from throughput_expert import api
from throughput_expert.agents.mcp_server import output_schema
from throughput_expert.errors import ThroughputError

EXAMPLES = Path(throughput_expert.__file__).parent / "examples"
DEMO = EXAMPLES / "message-consumer.json"


def server(*roots: Path) -> StdioServerParameters:
    """``tpx mcp`` reading files only inside ``roots``."""
    args = ["-m", "throughput_expert.cli", "mcp"]
    for root in roots:
        args += ["--root", str(root)]
    return StdioServerParameters(command=sys.executable, args=args)


# R package usl, data set specsdm91 (SPEC SDM 91 benchmark), 7 of its load levels.
SPECSDM91 = ((1, 64.9), (18, 995.9), (36, 1652.4), (72, 1853.2), (108, 1828.9), (144, 1775.0))
SPECSDM91 += ((216, 1702.2),)

REQUIRED = {
    "analyze": {"metrics"},
    "find_bottleneck": {"profiles"},
    "optimize_concurrency": {"workload_type"},
    "design_batching": {"operation", "target_throughput"},
    "scaling_plan": {"current_architecture", "target_rps"},
    "fit_usl": {"sweep"},
    "sweep": set(),
    "task": {"task"},
}

Calls = dict[str, tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class Served:
    tools: dict[str, Tool]
    results: dict[str, CallToolResult]
    stderr: str
    missing: Path
    prompts: list[Prompt]
    prompt: GetPromptResult


def calls(tmp: Path) -> Calls:
    sweep = tmp / "specsdm91.csv"
    rows = "".join(f"{n},{x}\n" for n, x in SPECSDM91)
    sweep.write_text("concurrency,throughput_rps\n" + rows, encoding="utf-8")
    return {
        "analyze": ("analyze", {"metrics": [str(DEMO)]}),
        "concurrency": (
            "optimize_concurrency",
            {
                "workload_type": "io",
                "current_thread_pool": 20,
                "cpu_cores": 8,
                "wait_time": "100ms",
                "compute_time": 0.01,  # a bare number is seconds, everywhere
            },
        ),
        "scaling": (
            "scaling_plan",
            {"current_architecture": str(EXAMPLES / "three-tier.yaml"), "target_rps": 6000},
        ),
        "batching": (
            "design_batching",
            {"operation": "database-insert", "current_latency": "5ms", "target_throughput": 10000},
        ),
        "usl": ("fit_usl", {"sweep": str(sweep)}),
        "sweep_from": ("sweep", {"from_files": [str(sweep)]}),
        "sweep_remote": ("sweep", {"url": "http://192.0.2.1:9/", "concurrency": [1]}),
        "sweep_auto": (
            "sweep",
            {"url": "http://192.0.2.1:9/", "concurrency": "auto", "max_levels": 3},
        ),
        "missing": ("analyze", {"metrics": [str(tmp / "missing.json")]}),
    }


def live_sweep(url: str) -> Calls:
    """A real sweep of a loopback server: 2 levels of 2 s each ("2s": a quantity string)."""
    return {"sweep_live": ("sweep", {"url": url, "concurrency": [1, 2], "duration": "2s"})}


async def exchange(
    todo: Calls, errlog: IO[str], params: StdioServerParameters
) -> tuple[list[Tool], dict[str, CallToolResult], list[Prompt], GetPromptResult]:
    with anyio.fail_after(120):
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as client,
        ):
            await client.initialize()
            listed = await client.list_tools()
            results = {
                key: await client.call_tool(name, args) for key, (name, args) in todo.items()
            }
            prompts = await client.list_prompts()
            prompt = await client.get_prompt(
                "throughput-optimization-expert", {"task": "Reach 50K msgs/sec"}
            )
    return listed.tools, results, prompts.prompts, prompt


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Served:
    tmp = tmp_path_factory.mktemp("mcp")
    todo = calls(tmp)
    log = tmp / "server.stderr"
    with log.open("w", encoding="utf-8") as errlog, http_server() as url:
        todo.update(live_sweep(url))
        tools, results, prompts, prompt = anyio.run(exchange, todo, errlog, server(tmp, EXAMPLES))
    return Served(
        {t.name: t for t in tools},
        results,
        log.read_text("utf-8"),
        tmp / "missing.json",
        prompts,
        prompt,
    )


def text_of(result: CallToolResult) -> str:
    assert len(result.content) == 1
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def report(served: Served, key: str) -> dict[str, Any]:
    result = served.results[key]
    assert not result.is_error, text_of(result)
    assert isinstance(result.structured_content, dict)
    assert json.loads(text_of(result)) == result.structured_content  # one document, two forms
    return result.structured_content


def test_lists_exactly_the_tools(served: Served) -> None:
    assert set(served.tools) == set(REQUIRED)


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_each_tool_has_a_schema_of_its_arguments_and_says_what_it_does(
    served: Served, name: str
) -> None:
    tool = served.tools[name]
    schema = tool.input_schema
    assert schema["type"] == "object"
    assert set(schema.get("required", [])) == REQUIRED[name]
    assert all(prop.get("description") for prop in schema["properties"].values())
    assert tool.description and len(tool.description) > 200
    assert tool.output_schema is not None and tool.output_schema["type"] == "object"
    assert tool.output_schema == output_schema(name)  # the command's report schema
    jsonschema.Draft202012Validator.check_schema(tool.output_schema)
    assert len(tool.output_schema["properties"]) > 1 or name == "fit_usl"


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_each_tool_declares_annotations(served: Served, name: str) -> None:
    hints = served.tools[name].annotations
    assert hints is not None and hints.title
    assert hints.read_only_hint is True and hints.destructive_hint is False
    measures = name == "sweep"  # the one tool that drives load: open world, measures anew
    assert hints.open_world_hint is measures
    assert hints.idempotent_hint is not measures


def test_the_report_tools_declare_their_commands_report_schema(served: Served) -> None:
    from throughput_expert.model.report_schema import report_schema

    schema = served.tools["analyze"].output_schema
    assert schema == report_schema("analyze")
    assert schema is not None and schema["properties"]["command"] == {"const": "analyze"}
    assert served.tools["fit_usl"].output_schema is not None
    assert "sigma" in served.tools["fit_usl"].output_schema["properties"]


def test_every_result_validates_against_its_declared_output_schema(
    served: Served, tmp_path: Path
) -> None:
    names = {key: name for key, (name, _) in calls(tmp_path).items()}
    names["sweep_live"] = "sweep"
    ok = [k for k, r in served.results.items() if not r.is_error]
    assert len(ok) >= 6
    for key in ok:
        schema = served.tools[names[key]].output_schema
        assert schema is not None
        jsonschema.Draft202012Validator(schema).validate(served.results[key].structured_content)


def test_the_expert_prompt_says_which_tool_answers_what(served: Served) -> None:
    assert [p.name for p in served.prompts] == ["throughput-optimization-expert"]
    assert served.prompts[0].description
    (message,) = served.prompt.messages
    assert message.role == "user" and isinstance(message.content, TextContent)
    text = message.content.text
    for tool in REQUIRED:
        assert f"`{tool}`" in text, tool
    assert "cpu_cores" in text and "cores × (1 + W / C)" in text
    assert text.rstrip().endswith("Reach 50K msgs/sec")  # the task argument, appended
    assert "shared" not in text and "/work" not in text


def test_analyze_returns_the_report_of_the_bundled_demo(served: Served) -> None:
    doc = report(served, "analyze")
    assert doc["command"] == "analyze"
    assert doc["analysis"]["bottleneck"]["type"] == "io_disk"
    assert doc["analysis"]["headroom"]["ceiling_rps"] == pytest.approx(8750)
    assert doc == json.loads(json.dumps(api.analyze([DEMO]).to_dict()))  # what the CLI prints


def test_optimize_concurrency_sizes_the_seed_io_pool(served: Served) -> None:
    doc = report(served, "concurrency")
    pools = {p["pool"]: p["threads"] for p in doc["analysis"]["pools"]}
    assert pools == {"io": 88}  # 8 × (1 + 100 ms / 10 ms)
    assert doc["analysis"]["cpu_ceiling_rps"] == pytest.approx(800)  # 8 cores / 10 ms


def test_scaling_plan_to_6000(served: Served) -> None:
    doc = report(served, "scaling")
    analysis = doc["analysis"]
    assert analysis["target_rps"] == pytest.approx(6000)
    needed = {c["name"]: c.get("instances_needed") for c in analysis["components"]}
    assert needed["api"] == 10 and needed["workers"] == 18 and needed["db"] == 4
    assert analysis["saturation_order"][0]["component"] == "workers"


def test_design_batching_from_the_current_latency(served: Served) -> None:
    analysis = report(served, "batching")["analysis"]
    # 5 ms split 90/10 (database-insert's default share): c0 = 4.5 ms, c1 = 0.5 ms
    assert analysis["cost_model"]["c0_ms"] == pytest.approx(4.5)
    assert analysis["cost_model"]["c1_ms"] == pytest.approx(0.5)
    assert analysis["limit_rps"] == pytest.approx(2000)  # k / c1 with one batch in flight
    assert analysis["feasible"] is False
    # sized so the writer is busy at most 70 % at 10K: 8 in flight carry 10K / 0.7 at batch 75
    assert (analysis["concurrency"], analysis["batch_size"]) == (8, 75)
    assert analysis["expected_throughput_rps"] == pytest.approx(10000 / 0.7, rel=1e-5)
    assert analysis["utilization_at_target_pct"] == pytest.approx(70)


def test_fit_usl_on_specsdm91(served: Served) -> None:
    fit = report(served, "usl")
    assert fit["available"] is True
    assert fit["points"] == 7
    assert fit["sigma"] == pytest.approx(0.0277, abs=5e-4)


def test_bad_input_is_a_tool_error_of_one_line(served: Served) -> None:
    result = served.results["missing"]
    assert result.is_error
    line = text_of(result)
    with pytest.raises(ThroughputError) as raised:
        api.analyze([served.missing])
    assert line == raised.value.one_line()  # SOURCE: FIELD: what is wrong, and nothing else
    assert str(served.missing) in line
    assert "\n" not in line and "Traceback" not in line
    assert "Traceback" not in served.stderr


def test_importing_the_server_module_leaves_mcp_unloaded() -> None:
    code = (
        "import sys, throughput_expert.agents.mcp_server; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mcp', 'numpy', 'scipy')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_sweep_measures_each_level_for_the_seconds_asked(served: Served) -> None:
    doc = report(served, "sweep_live")
    assert doc["command"] == "sweep"
    durations = [lv["duration_s"] for lv in _levels(doc)]
    assert len(durations) == 2, durations
    assert all(1.9 <= d <= 2.8 for d in durations), durations  # 2 s asked, 2 s measured


def _levels(doc: dict[str, Any]) -> list[dict[str, Any]]:
    found = doc["analysis"].get("levels")
    assert isinstance(found, list), sorted(doc["analysis"])
    return found


def test_sweep_reads_a_sweep_file_and_refuses_a_remote_target(served: Served) -> None:
    result = served.results["sweep_from"]
    assert not result.is_error
    doc = json.loads(text_of(result))
    assert doc["command"] == "sweep"
    assert doc["analysis"]["usl"]["sigma"] == pytest.approx(0.0277, abs=1e-3)
    remote = served.results["sweep_remote"]
    assert remote.is_error
    assert "not a loopback address" in text_of(remote)
    # "auto" passes the tool's schema: what stops it is the same loopback rule
    auto = served.results["sweep_auto"]
    assert auto.is_error and "not a loopback address" in text_of(auto)
