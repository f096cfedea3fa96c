"""One typed unit per command (issue 13): a toy command — inputs declared once in its function's
signature, its advise, its typed record, its text section and page figures — registered once,
gets a CLI subcommand, an MCP tool with a schema, a task-worker route and text/JSON/HTML output,
with no edit anywhere else. Also: the registry's built-in commands are generated the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import anyio
import jsonschema
import pytest
from rich.console import Console

from throughput_expert import cli, registry
from throughput_expert.errors import InputError, Parameter
from throughput_expert.model import Evidence, Report
from throughput_expert.model.record import measure
from throughput_expert.model.report_schema import report_schema
from throughput_expert.model.units import fmt_duration, fmt_rate
from throughput_expert.params import Arg
from throughput_expert.render.html_common import Figure


@dataclass(frozen=True)
class ToyRecord:
    """What the toy command found: Little's law on its inputs."""

    items: int
    latency: float = measure("ms")
    throughput: float = measure("rps")


def toy(
    *,
    items: Annotated[int, Arg("items in flight", metavar="N", tool_bounds={"ge": 1})],
    latency: Annotated[str | float, Arg("time per item", kind="duration", metavar="T")] = "100ms",
) -> Report:
    """Little's law: throughput = items in flight / time per item."""
    from throughput_expert.model.quantity import parse_duration

    if items < 1:
        raise InputError("must be at least 1", source=Parameter("items"))
    seconds = parse_duration(latency, source=Parameter("latency"), default_unit="s")
    rate = items / seconds
    return Report(
        command="toy",
        summary=f"{items} in flight at {fmt_duration(seconds)} each: {fmt_rate(rate)}",
        analysis=ToyRecord(items, seconds, rate),
        evidence=(Evidence("little", "throughput", "Little's law X = N / R", {"n": items}, rate),),
    )


def toy_section(out: Console, r: ToyRecord) -> None:
    out.print(f"Toy: {r.items} items, {fmt_duration(r.latency)} each, {fmt_rate(r.throughput)}")


def toy_figures(r: ToyRecord) -> list[Figure]:
    return [("Toy throughput", fmt_rate(r.throughput), "Little's law")]


@pytest.fixture
def registered() -> Iterator[registry.CommandUnit]:
    unit = registry.register(
        registry.CommandUnit(
            name="toy",
            help="a toy command: Little's law on two numbers",
            run=toy,
            record=ToyRecord,
            text=(toy_section,),
            figures=toy_figures,
            tool="toy",
        )
    )
    yield unit
    registry.unregister("toy")


def test_cli_json_text_html(
    registered: registry.CommandUnit, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.json"
    assert cli.main(["toy", "--items", "4", "--latency", "20ms", "--output", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["command"] == "toy"
    assert doc["analysis"] == {"items": 4, "latency_ms": 20.0, "throughput_rps": 200.0}
    jsonschema.Draft202012Validator(report_schema("toy")).validate(doc)

    assert cli.main(["toy", "--items", "4", "--latency", "0.02", "--format", "text"]) == 0
    text = capsys.readouterr().out
    assert "Toy: 4 items, 20 ms each, 200 rps" in text  # a bare number is seconds

    page = tmp_path / "r.html"
    assert cli.main(["toy", "--items", "4", "--format", "html", "--output", str(page)]) == 0
    html = page.read_text()
    assert "Toy throughput" in html and "40 rps" in html

    assert cli.main(["report", str(out), "--format", "text"]) == 0
    assert "Toy: 4 items, 20 ms each, 200 rps" in capsys.readouterr().out


def test_cli_help_and_errors(
    registered: registry.CommandUnit, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        cli.main(["toy", "--help"])
    help_text = capsys.readouterr().out
    assert "--items N" in help_text and "items in flight" in help_text
    assert "a number of seconds" in help_text  # the duration kind's help, from one place
    # the declaration's floor is checked as the flag is read, before the advisor runs
    with pytest.raises(SystemExit) as info:
        cli.main(["toy", "--items", "0"])
    assert info.value.code == 2
    assert "--items: '0' is out of range (at least 1)" in capsys.readouterr().err


def test_mcp_tool(registered: registry.CommandUnit, tmp_path: Path) -> None:
    from mcp import Client

    from throughput_expert.agents.mcp_server import build_server

    async def talk() -> tuple[Any, Any, Any]:
        async with Client(build_server([tmp_path])) as client:
            tools = await client.list_tools()
            ok = await client.call_tool("toy", {"items": 3, "latency": "1s"})
            bad = await client.call_tool("toy", {"items": 2, "latency": "soon"})
            return tools, ok, bad

    tools, ok, bad = anyio.run(talk)
    tool = next(t for t in tools.tools if t.name == "toy")
    assert tool.description.startswith("Little's law")
    props = tool.input_schema["properties"]
    assert set(props) == {"items", "latency"}
    assert props["items"]["minimum"] == 1 and "items in flight" in props["items"]["description"]
    assert tool.input_schema["required"] == ["items"]
    doc = json.loads(ok.content[0].text)
    assert doc["analysis"]["throughput_rps"] == 3.0
    assert bad.is_error and bad.content[0].text.startswith("latency:")


def test_task_route(registered: registry.CommandUnit, tmp_path: Path) -> None:
    from throughput_expert.agents.task import run_task

    task = tmp_path / "tasks" / "t1" / "input.json"
    task.parent.mkdir(parents=True)
    task.write_text(
        json.dumps({"prompt": {"command": "toy", "arguments": {"items": 5, "latency": 0.5}}})
    )
    path, result = run_task(task)
    assert path == task.parent / "result.json"
    assert result["command"] == "toy" and result["analysis"]["throughput_rps"] == 10.0
    task.write_text(json.dumps({"prompt": {"command": "toy", "arguments": {"item": 5}}}))
    with pytest.raises(InputError, match="did you mean 'items'"):
        run_task(task)


def test_a_name_is_registered_once(registered: registry.CommandUnit) -> None:
    with pytest.raises(ValueError, match="registered already"):
        registry.register(registered)


@pytest.mark.parametrize("name", [u.name for u in registry.units()])
def test_built_in_commands_are_generated(name: str) -> None:
    """Every built-in command's flags and tool come from its API signature: no parameter is
    declared a second time (cli_flags and the MCP server hold no per-command tables)."""
    from throughput_expert.agents.mcp_server import tool_for
    from throughput_expert.params import parameters

    unit = registry.unit(name)
    assert unit is not None
    fn = registry.resolve(unit.run)
    declared = {p.name for p in parameters(fn)}
    parser = cli.build_parser()
    spell = cli.flag_spelling(parser, name)
    for p in parameters(fn):
        if p.arg.cli:
            assert spell(p.name).startswith("--"), (name, p.name)
    tool = tool_for(unit)
    offered = set(tool.__signature__.parameters)  # type: ignore[attr-defined]
    assert offered <= declared
    assert registry.resolve(unit.record) is not None
