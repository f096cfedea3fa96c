"""The MCP server reads files only inside its roots: the real ``tpx mcp`` process over stdio,
driven by the mcp package's own client.

Every file parameter of every tool is handed a FIFO outside the roots: opening it would block
the tool for ever (and the call would time out), so an answer at all shows that the tool refused
the path without opening it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.types import CallToolResult, TextContent, Tool
from tests.support import run_tpx

import throughput_expert

EXAMPLES = Path(throughput_expert.__file__).parent / "examples"
SWEEP = (
    "concurrency,throughput_rps\n"
    + "".join(
        f"{n},{x}\n" for n, x in ((1, 64.9), (18, 995.9), (36, 1652.4), (72, 1853.2), (108, 1828.9))
    )
    + "144,1775.0\n216,1702.2\n"
)

# each tool's required arguments that are not files
BASE: dict[str, dict[str, Any]] = {
    "analyze": {},
    "find_bottleneck": {},
    "optimize_concurrency": {"workload_type": "io", "current_thread_pool": 4},
    "design_batching": {"operation": "database-insert", "target_throughput": 1000},
    "scaling_plan": {"target_rps": 6000},
    "fit_usl": {},
    "sweep": {},
}
# every file parameter: (tool, parameter, a list?, required files the call also needs)
FILE_PARAMS: list[tuple[str, str, bool, dict[str, Any]]] = [
    ("analyze", "metrics", True, {}),
    ("analyze", "defaults", False, {"metrics": ["in-root.json"]}),
    ("find_bottleneck", "profiles", True, {}),
    ("find_bottleneck", "gil_profile", False, {"profiles": ["in-root.txt"]}),
    ("find_bottleneck", "utilization", False, {"profiles": ["in-root.txt"]}),
    ("find_bottleneck", "metrics", True, {"profiles": ["in-root.txt"]}),
    ("find_bottleneck", "rules", False, {"profiles": ["in-root.txt"]}),
    ("find_bottleneck", "defaults", False, {"profiles": ["in-root.txt"]}),
    ("optimize_concurrency", "sweep", False, {}),
    ("optimize_concurrency", "defaults", False, {}),
    ("design_batching", "measurements", False, {}),
    ("design_batching", "defaults", False, {}),
    ("scaling_plan", "current_architecture", False, {}),
    ("scaling_plan", "defaults", False, {"current_architecture": "three-tier.yaml"}),
    ("fit_usl", "sweep", False, {}),
    ("sweep", "from_files", True, {}),
]


@dataclass(frozen=True)
class Served:
    root: Path
    outside: Path
    tools: dict[str, Tool]
    instructions: str
    results: dict[str, CallToolResult]


def server(cwd: Path, *roots: Path) -> StdioServerParameters:
    args = ["-m", "throughput_expert.cli", "mcp"]
    for root in roots:
        args += ["--root", str(root)]
    return StdioServerParameters(command=sys.executable, args=args, cwd=str(cwd))


async def exchange(
    params: StdioServerParameters, calls: dict[str, tuple[str, dict[str, Any]]], errlog: Any
) -> tuple[list[Tool], str, dict[str, CallToolResult]]:
    with anyio.fail_after(90):
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as client,
        ):
            init = await client.initialize()
            listed = await client.list_tools()
            results = {key: await client.call_tool(n, a) for key, (n, a) in calls.items()}
    return listed.tools, init.instructions or "", results


def refusal_calls(outside: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    trap = str(outside / "trap")
    calls = {}
    for tool, param, many, extra in FILE_PARAMS:
        calls[f"{tool}.{param}"] = (
            tool,
            {**BASE[tool], **extra, param: [trap] if many else trap},
        )
    return calls


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Served:
    tmp = tmp_path_factory.mktemp("roots")
    root, second, outside = tmp / "root", tmp / "second", tmp / "outside"
    for folder in (root, second, outside):
        folder.mkdir()
    os.mkfifo(outside / "trap")
    (outside / "secret.csv").write_text("db_password,hunter2\n")
    (root / "usl.csv").write_text(SWEEP)
    os.mkfifo(root / "inner-trap")  # inside a root, but opening it would block the server
    (second / "usl.csv").write_text("not a sweep\n")
    (root / "escape").symlink_to(outside, target_is_directory=True)
    (root / "three-tier.yaml").write_text((EXAMPLES / "three-tier.yaml").read_text())
    arch = (EXAMPLES / "three-tier.yaml").read_text()
    (root / "sneaky.yaml").write_text(
        arch.replace("- name: db", "- name: db\n    sweep: ../outside/trap", 1)
    )
    calls = refusal_calls(outside)
    calls |= {
        "relative": ("fit_usl", {"sweep": "usl.csv"}),
        "fifo-inside": ("analyze", {"metrics": ["inner-trap"]}),
        "dotdot": ("fit_usl", {"sweep": "../outside/secret.csv"}),
        "link": ("fit_usl", {"sweep": "escape/secret.csv"}),
        "second-root": ("fit_usl", {"sweep": str(second / "usl.csv")}),
        "nested-sweep": (
            "scaling_plan",
            {"current_architecture": "sneaky.yaml", "target_rps": 6000},
        ),
        "scaling": (
            "scaling_plan",
            {"current_architecture": "three-tier.yaml", "target_rps": 6000},
        ),
    }
    with (tmp / "stderr").open("w") as errlog:
        tools, instructions, results = anyio.run(exchange, server(tmp, root, second), calls, errlog)
    return Served(root, outside, {t.name: t for t in tools}, instructions, results)


def line_of(result: CallToolResult) -> str:
    assert len(result.content) == 1
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


@pytest.mark.parametrize(("tool", "param"), [(t, p) for t, p, _, _ in FILE_PARAMS])
def test_every_file_parameter_outside_the_roots_is_refused_unopened(
    served: Served, tool: str, param: str
) -> None:
    result = served.results[f"{tool}.{param}"]
    assert result.is_error
    line = line_of(result)
    many = next(m for t, p, m, _ in FILE_PARAMS if (t, p) == (tool, param))
    field = f"{param}[0]" if many else param
    trap = served.outside / "trap"
    assert line == (
        f"{tool}: {field}: {str(trap)!r} is outside the server's roots {served.root}, "
        f"{served.root.parent / 'second'} (tpx mcp --root DIR widens them)"
    )


def test_a_fifo_inside_a_root_is_refused_unopened(served: Served) -> None:
    result = served.results["fifo-inside"]  # an answer at all shows it was never opened
    assert result.is_error
    assert line_of(result) == "analyze: metrics[0]: 'inner-trap' is not a regular file"


def test_dotdot_and_links_out_of_a_root_are_outside(served: Served) -> None:
    for key in ("dotdot", "link"):
        line = line_of(served.results[key])
        assert served.results[key].is_error and "is outside the server's roots" in line
        assert "hunter2" not in line


def test_relative_paths_read_from_the_first_root_and_other_roots_work(served: Served) -> None:
    fit = served.results["relative"]
    assert not fit.is_error, line_of(fit)
    assert isinstance(fit.structured_content, dict) and fit.structured_content["available"]
    second = served.results["second-root"]  # inside the second root: read (and not a sweep)
    assert second.is_error and "outside" not in line_of(second)
    assert not served.results["scaling"].is_error


def test_an_architecture_cannot_name_a_sweep_outside_the_roots(served: Served) -> None:
    result = served.results["nested-sweep"]
    assert result.is_error
    line = line_of(result)
    assert line.startswith("scaling_plan: current_architecture: components[3].sweep: ")
    assert "is outside the server's roots" in line


def test_the_client_is_told_where_files_may_be(served: Served) -> None:
    assert f"The server's roots: {served.root}, " in served.instructions
    assert "inside the server's roots" in " ".join(served.instructions.split())
    for tool, param, _, _ in FILE_PARAMS:
        description = served.tools[tool].input_schema["properties"][param]["description"]
        assert "inside the server's roots" in description, (tool, param)
    for tool in served.tools.values():
        assert "server's machine" not in str(tool.input_schema)


def test_the_default_root_is_the_folder_the_server_started_in(tmp_path: Path) -> None:
    (tmp_path / "usl.csv").write_text(SWEEP)
    calls = {
        "inside": ("fit_usl", {"sweep": "usl.csv"}),
        "outside": ("fit_usl", {"sweep": str(EXAMPLES / "three-tier.yaml")}),
    }
    with (tmp_path / "stderr").open("w") as errlog:
        _, instructions, results = anyio.run(exchange, server(tmp_path), calls, errlog)
    assert not results["inside"].is_error, line_of(results["inside"])
    assert results["outside"].is_error
    assert f"is outside the server's roots {tmp_path} " in line_of(results["outside"])
    assert f"The server's roots: {tmp_path}." in instructions


def test_a_root_that_is_not_a_folder_stops_the_server_with_one_line(tmp_path: Path) -> None:
    proc = run_tpx("mcp", "--root", str(tmp_path / "no"))
    assert proc.returncode == 2
    assert proc.stderr == f"tpx mcp: --root: {str(tmp_path / 'no')!r} is not a folder\n"
