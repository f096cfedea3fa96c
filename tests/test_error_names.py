"""Errors name the parameter, and each front door spells it its own way (issue 13).

The library names its public API parameters (``cpu_cores``); the command line spells them as its
flags (``--cpu-cores``); the MCP server as its tools' arguments. No string the library can show a
user holds one of tpx's own flags.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.types import CallToolResult, TextContent

import throughput_expert
from throughput_expert import api
from throughput_expert.cli import build_parser, flag_spelling, main
from throughput_expert.errors import InputError, Parameter, ThroughputError
from throughput_expert.live import observe_metrics

PACKAGE = Path(throughput_expert.__file__).parent
EXAMPLES = PACKAGE / "examples"
DEMO = EXAMPLES / "message-consumer.json"
ARCH = EXAMPLES / "three-tier.yaml"


# --- the error itself -----------------------------------------------------------------------------


def test_a_parameter_is_the_source_when_no_source_is_given() -> None:
    err = InputError("must be at least 1", parameter="cpu_cores")
    assert err.one_line() == "cpu_cores: must be at least 1"
    assert err.parameter == "cpu_cores" and err.names_parameter
    assert err.spelled(lambda p: "--" + p.replace("_", "-")) == "--cpu-cores: must be at least 1"


def test_the_parameter_mark_is_the_type_never_the_text() -> None:
    marked = InputError("bad", source=Parameter("metrics"), field="x")
    assert marked.parameter == "metrics" and marked.one_line() == "metrics: x: bad"
    a_file = InputError("bad", source="metrics", field="x")  # a file named metrics
    assert a_file.parameter is None
    assert a_file.spelled(lambda p: "--" + p) == "metrics: x: bad"


def test_a_given_source_stays_and_mentions_are_spelled_by_the_front_door() -> None:
    err = InputError("pass {allow_remote} to load it", source="sweep", mentions=("allow_remote",))
    assert err.one_line() == "sweep: pass allow_remote to load it"
    assert err.message == "pass allow_remote to load it"
    assert err.spelled(lambda p: "--allow-remote") == "sweep: pass --allow-remote to load it"
    assert not InputError("x", source="tpx").names_parameter


# --- (a) the library, (b) the command line --------------------------------------------------------

CONCURRENCY = ["optimize-concurrency", "--workload-type", "io", "--current-thread-pool", "4"]

# (library call, its parameter, the same through the command line, its flag)
CASES: list[tuple[Callable[[], object], str, list[str], str]] = [
    (
        lambda: api.analyze([DEMO], target_rps="lots"),
        "target_rps",
        ["analyze", "--metrics", str(DEMO), "--target-rps", "lots"],
        "--target-rps",
    ),
    (
        lambda: api.optimize_concurrency("io", 4, cpu_cores=0),
        "cpu_cores",
        [*CONCURRENCY, "--cpu-cores", "0"],
        "--cpu-cores",
    ),
    (
        lambda: api.optimize_concurrency("io", 4, latency_slo="p99=lots"),
        "latency_slo",
        [*CONCURRENCY, "--latency-slo", "p99=lots"],
        "--latency-slo",
    ),
    (
        lambda: api.design_batching("database-insert", target_throughput="lots"),
        "target_throughput",
        ["design-batching", "--operation", "database-insert", "--target-throughput", "lots"],
        "--target-throughput",
    ),
    (
        lambda: api.scaling_plan(ARCH, target_rps="lots"),
        "target_rps",
        ["scaling-plan", "--current-architecture", str(ARCH), "--target-rps", "lots"],
        "--target-rps",
    ),
    (
        lambda: api.sweep(url="http://127.0.0.1:9/", from_files=[DEMO]),
        "from_files",
        ["sweep", "--url", "http://127.0.0.1:9/", "--from", str(DEMO)],
        "--from",
    ),
    (
        lambda: api.sweep(command="true", concurrency=[1], duration="lots"),
        "duration",
        ["sweep", "--command", "true", "--concurrency", "1", "--duration", "lots"],
        "--duration",
    ),
    (
        lambda: observe_metrics("lots"),
        "duration",
        ["observe", "--duration", "lots"],
        "--duration",
    ),
]


@pytest.mark.parametrize(("call", "parameter", "argv", "flag"), CASES)
def test_the_library_names_the_parameter(
    call: Callable[[], object], parameter: str, argv: list[str], flag: str
) -> None:
    with pytest.raises(ThroughputError) as raised:
        call()
    line = raised.value.one_line()
    assert line.startswith(f"{parameter}: "), line
    assert raised.value.parameter == parameter
    assert "--" not in line, line


@pytest.mark.parametrize(("call", "parameter", "argv", "flag"), CASES)
def test_the_command_line_names_the_flag(
    capsys: pytest.CaptureFixture[str],
    call: Callable[[], object],
    parameter: str,
    argv: list[str],
    flag: str,
) -> None:
    try:
        code = main(argv)
    except SystemExit as refused:  # outside the flag's declared range: argparse names it
        code = refused.code
        assert f": argument {flag}: " in capsys.readouterr().err
        assert code == 2
        return
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{flag}: "), err
    assert not err.startswith(f"{parameter}:"), err


def test_find_bottleneck_names_the_profiles_parameter() -> None:
    with pytest.raises(InputError) as raised:
        api.find_bottleneck([])
    assert "pass profiles FILE" in raised.value.one_line()
    assert flag_spelling(build_parser(), "find-bottleneck")("profiles") == "--profile"


def test_a_mentioned_parameter_is_spelled_in_the_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(InputError) as raised:
        api.sweep()
    assert "give exactly one of url, command, callable, locustfile, or from_files FILE" in str(
        raised.value
    )
    assert main(["sweep"]) == 2
    err = capsys.readouterr().err
    assert "give exactly one of --url, --command, --callable, --locustfile, or --from FILE" in err


def test_a_remote_target_names_allow_remote_in_the_library_and_the_flag_on_the_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = "http://192.0.2.1:9/"
    with pytest.raises(InputError) as raised:
        api.sweep(url=url, concurrency=[1])
    assert raised.value.one_line().endswith("pass allow_remote to load it")
    assert main(["sweep", "--url", url, "--concurrency", "1"]) == 2
    assert capsys.readouterr().err.rstrip().endswith("pass --allow-remote to load it")


def test_a_file_named_like_a_flag_is_not_spelled_as_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "metrics").write_text("{not json", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["analyze", "--metrics", "metrics"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("metrics"), err
    assert not err.startswith("--"), err


def test_the_command_line_reads_flags_from_argparse() -> None:
    parser = build_parser()
    spell = flag_spelling(parser, "sweep")
    assert spell("from_files") == "--from"
    assert spell("allow_remote") == "--allow-remote"
    assert flag_spelling(parser, "find-bottleneck")("profiles") == "--profile"
    assert flag_spelling(parser, "analyze")("token_env") == "--prometheus-token-env"
    assert flag_spelling(parser, "task")("cpu_cores") == "cpu_cores"  # no such flag: its name


# --- (c) the MCP server ---------------------------------------------------------------------------

MCP_CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "wait_time": (
        "optimize_concurrency",
        {"workload_type": "io", "current_thread_pool": 4, "wait_time": "lots"},
    ),
    "target_rps": (
        "scaling_plan",
        {"current_architecture": str(ARCH), "target_rps": "lots"},
    ),
    "batching": ("design_batching", {"operation": "database-insert", "target_throughput": 100}),
    "remote": ("sweep", {"url": "http://192.0.2.1:9/", "concurrency": [1]}),
    "nothing": ("sweep", {}),
}


async def _exchange(params: StdioServerParameters) -> dict[str, CallToolResult]:
    with anyio.fail_after(120):
        async with (
            stdio_client(params) as (read, write),
            ClientSession(read, write) as client,
        ):
            await client.initialize()
            return {key: await client.call_tool(n, a) for key, (n, a) in MCP_CALLS.items()}


@pytest.fixture(scope="module")
def mcp_errors() -> dict[str, str]:
    args = ["-m", "throughput_expert.cli", "mcp", "--root", str(EXAMPLES)]
    results = anyio.run(_exchange, StdioServerParameters(command=sys.executable, args=args))
    texts = {}
    for key, result in results.items():
        assert result.is_error, key
        (block,) = result.content
        assert isinstance(block, TextContent)
        texts[key] = block.text
    return texts


def test_mcp_errors_name_the_tool_arguments_and_no_flag(mcp_errors: dict[str, str]) -> None:
    for key, text in mcp_errors.items():
        assert "--" not in text, (key, text)
    assert mcp_errors["wait_time"].startswith("wait_time: ")
    assert mcp_errors["target_rps"].startswith("target_rps: ")
    assert "give current_latency, fixed_overhead and per_item_cost" in mcp_errors["batching"]
    assert "give exactly one of url," in mcp_errors["nothing"]


def test_mcp_sweep_refuses_a_remote_target_without_naming_allow_remote(
    mcp_errors: dict[str, str],
) -> None:
    text = mcp_errors["remote"]
    assert text.startswith("url: ") and "not a loopback address" in text
    assert "loopback targets only" in text and "allow_remote" not in text


# --- (d) no string the library shows names one of tpx's own flags --------------------------------

# Files whose strings really are about a command line, with the reason.
ALLOWED = {
    "cli.py": "the command line itself",
    "cli_flags.py": "the command line's flags",
    "agents/mcp_server.py": "`tpx mcp --root DIR`: the server's own command line, not a tool's",
    "agents/task.py": "`tpx task --allow-root DIR`: the task worker's own command line",
    "agents/watch.py": "`tpx task --watch DIR --allow-root DIR`: the task worker's command line",
    "agents/babysitter.py": "`tpx task --babysitter CMD`: the task worker's command line",
}
_FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")


def _tpx_flags() -> set[str]:
    found: set[str] = set()

    def walk(parser: argparse.ArgumentParser) -> None:
        for action in parser._actions:
            found.update(o for o in action.option_strings if o.startswith("--"))
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    walk(sub)

    walk(build_parser())
    return found - {"--help", "--version"}


def _docstrings(tree: ast.AST) -> set[int]:
    """Strings that are statements of their own (docstrings, attribute docs): never shown."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }


def test_no_library_string_names_a_tpx_flag() -> None:
    flags = _tpx_flags()
    assert {"--cpu-cores", "--from", "--allow-remote"} <= flags
    hits = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        if name in ALLOWED:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = _docstrings(tree)
        # ``Arg(flag="--from")``: the one declaration names the command line's spelling
        docs |= {
            id(k.value) for k in ast.walk(tree) if isinstance(k, ast.keyword) and k.arg == "flag"
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if id(node) in docs:
                    continue
                named = [f for f in _FLAG.findall(node.value) if f in flags]
                if named:
                    hits.append(f"{name}:{node.lineno}: {named}")
    assert hits == []
