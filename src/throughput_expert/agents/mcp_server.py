"""The MCP server (``tpx mcp``): the public API as Model Context Protocol tools over stdio.

Each registered command (``registry.py``) with a tool name is a tool generated from its public
API function (``tool_for``): the arguments are the function's parameters offered to agents,
typed and described from their one declaration (``params.Arg``), so the SDK's JSON Schema of the
tool is the signature's; it returns the Report's JSON form, the one contract every front door
shares. ``fit_usl`` (no Report: its ``analysis.usl`` dictionary) is written here.

Files: every file argument of every tool must resolve (links followed, ``..`` removed) inside
the server's roots, ``tpx mcp --root DIR`` (repeatable; default: the folder the server started
in); relative paths are read from the first root. A path outside is a tool error of one line
and the file is never opened. An architecture file's component ``sweep`` files obey the same
rule. See ``agents/confine.py``.

Errors: a ``ThroughputError`` becomes a tool error (``isError``) whose text is its one line
naming the tool's arguments (they are the API's parameters, by name),
``SOURCE: FIELD: what is wrong`` (scrubbed of remembered secrets). Anything else is a bug: the
SDK answers ``Error executing tool NAME`` and logs the traceback on the server's stderr, never
to the client.

Imports: the ``mcp`` SDK (~1 s) is imported only in ``build_server`` and on the error path, so
importing this module stays cheap. The SDK reads a tool's ``inspect.signature``: generated
tools carry a ``__signature__`` of real annotations; ``fit_usl``'s are postponed and resolved in
this module's globals, so every name they use is imported at run time here.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, ParamSpec, overload

from pydantic import Field

from throughput_expert import __version__, api, registry
from throughput_expert.agents.confine import Confine, real_folders
from throughput_expert.errors import ThroughputError
from throughput_expert.params import DURATION_HELP, RATE_HELP, UNSET, Param, parameters

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer
    from mcp.types import CallToolResult

__all__ = ["build_server", "main", "tool_for", "tools"]

P = ParamSpec("P")

FILE = "a path inside the server's roots"

INSTRUCTIONS = """\
Throughput engineering advice from measurements: where the bottleneck is, how far the system can
go, how to size pools and batches, how to scale to a target rate. Every number in a result comes
from a measurement or a law and says which: see `evidence` (law, inputs, result), `assumptions`
(what had to be assumed, and why) and `inputs` (what was read). Files are paths inside the
server's roots (tpx mcp --root DIR; by default the folder it started in); relative paths are read
from the first root, and a path outside them (links followed) is refused. Numbers in results are
plain numbers; the unit is in the key (_rps, _ms, _pct, _s)."""

WIDEN = "tpx mcp --root DIR widens them"
_roots: tuple[Path, ...] = ()


def set_roots(roots: Sequence[str | os.PathLike[str]] = ()) -> tuple[Path, ...]:
    """The folders the tools read from (real paths; default: the working directory now)."""
    global _roots
    _roots = tuple(real_folders(roots or [os.getcwd()], source="tpx mcp", flag="--root"))
    return _roots


def _confine(tool: str) -> Confine:
    roots = _roots or set_roots()
    shown = ", ".join(map(str, roots))
    return Confine.of(roots, described=f"the server's roots {shown}", widen=WIDEN, source=tool)


@overload
def _inside(tool: str, field: str, value: str) -> str: ...
@overload
def _inside(tool: str, field: str, value: str | None) -> str | None: ...
def _inside(tool: str, field: str, value: str | None) -> str | None:
    """``value`` as a real path inside the roots (relative: from the first), or refused."""
    if value is None:
        return None
    return str(_confine(tool).resolve(value, field=field))


def _all_inside(tool: str, field: str, values: Sequence[str] | None) -> list[str]:
    return [_inside(tool, f"{field}[{i}]", v) for i, v in enumerate(values or ())]


def _tool_type(param: Param) -> Any:
    """The tool argument's type: what an agent sends as JSON."""
    kind = param.arg.kind
    base: Any
    if kind in ("rate", "duration"):
        base = str | float
    elif kind == "file":
        base = str
    elif kind == "files":
        base = list[str]
    elif kind == "levels":
        base = list[int] | Literal["auto"]
    elif kind == "rates":
        base = list[float]
    else:
        base = param.base
    optional = param.optional or (not param.required and param.default == ())
    return base | None if optional and not param.arg.tool_required else base


def _tool_help(param: Param) -> str:
    arg = param.arg
    notes = {"rate": RATE_HELP, "duration": DURATION_HELP, "file": FILE, "files": FILE}
    note = notes.get(arg.kind)
    return f"{arg.help} ({note})" if note else arg.help


def tool_for(found: registry.CommandUnit) -> Callable[..., dict[str, Any]]:
    """The MCP tool of a registered command: its arguments are the API function's parameters
    offered to agents (``Arg.tool``), typed and described from the one declaration; file
    arguments resolve inside the roots; the command's ``tool_check`` adds its limits."""
    fn = registry.resolve(found.run)
    name = found.tool or found.name.replace("-", "_")
    offered = [p for p in parameters(fn) if p.arg.tool]
    signature = []
    for p in offered:
        default = p.arg.tool_default if p.arg.tool_default is not UNSET else p.default
        if default == ():
            default = None
        if p.arg.tool_required:
            default = inspect.Parameter.empty
        field = Field(description=_tool_help(p), **dict(p.arg.tool_bounds))
        annotation: Any = Annotated.__class_getitem__((_tool_type(p), field))  # type: ignore[attr-defined]
        signature.append(
            inspect.Parameter(
                p.name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
            )
        )
    check = registry.resolve(found.tool_check, optional=True) if found.tool_check else None
    files = {p.name: p.arg.kind for p in offered if p.arg.kind in ("file", "files")}

    def tool(**arguments: Any) -> dict[str, Any]:
        for key, kind in files.items():
            value = arguments.get(key)
            if value is None:
                continue
            arguments[key] = (
                _inside(name, key, value) if kind == "file" else _all_inside(name, key, value)
            )
        arguments = {k: v for k, v in arguments.items() if v is not None}
        if check is not None:
            arguments = check(arguments, _confine(name))
        report: Any = fn(**arguments)
        return dict(report.to_dict())

    tool.__name__ = tool.__qualname__ = name
    tool.__doc__ = found.tool_doc or fn.__doc__
    tool.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        signature, return_annotation=dict[str, Any]
    )
    return tool


def fit_usl(
    sweep: Annotated[
        str,
        Field(
            description=f"a sweep file ({FILE}): CSV concurrency,throughput_rps,... or tpx sweep "
            "JSON, one row per load level"
        ),
    ],
) -> dict[str, Any]:
    """Fit the Universal Scalability Law X(N) = λN / (1 + σ(N−1) + κN(N−1)) to a sweep.

    Returns the fit: sigma (contention: the serial share), kappa (coherency: the cost of
    keeping N workers consistent), lambda_rps (throughput of one worker), the shape, the peak
    (peak_concurrency, peak_throughput_rps), recommended_concurrency (the smallest N reaching
    95 % of the peak), the points and levels fitted, r_squared and the standard errors. With too
    few levels it says how many more to measure rather than inventing a fit.
    """
    return dict(api.fit_usl(_inside("fit_usl", "sweep", sweep)))


def tools() -> tuple[Callable[..., dict[str, Any]], ...]:
    """Every registered command that is a tool, then ``fit_usl``."""
    made = [tool_for(found) for found in registry.units() if found.tool]
    return (*made, fit_usl)


def one_line_errors(tool: Callable[P, dict[str, Any]]) -> Callable[P, Any]:
    """``tool``, answering a ``ThroughputError`` with a tool error holding its one line.

    Returned rather than raised: the SDK prefixes a raised error's text with "Error executing
    tool NAME: "; the line alone is the contract. ``functools.wraps`` keeps the signature the
    SDK reads.
    """

    def spell(parameter: str) -> str:
        return parameter  # the tools' arguments are the API's parameters, by name

    @functools.wraps(tool)
    def call(*args: P.args, **kwargs: P.kwargs) -> dict[str, Any] | CallToolResult:
        try:
            return tool(*args, **kwargs)
        except ThroughputError as err:
            from throughput_expert.redact import scrub

            return error_result(scrub(err.spelled(spell)))

    return call


def error_result(line: str) -> CallToolResult:
    """A tool result with ``isError`` set and ``line`` as its only text."""
    from mcp.types import CallToolResult, TextContent

    return CallToolResult(content=[TextContent(type="text", text=line)], is_error=True)


def build_server(roots: Sequence[str | os.PathLike[str]] = ()) -> MCPServer:
    """The server with every tool registered (stdio, HTTP or in-memory: the caller's choice);
    its tools read files only inside ``roots`` (default: the working directory now)."""
    chosen = set_roots(roots)  # a bad --root fails before the SDK loads
    from mcp.server.mcpserver import MCPServer

    instructions = f"{INSTRUCTIONS}\nThe server's roots: {', '.join(map(str, chosen))}."
    server: MCPServer = MCPServer(
        "throughput-expert", instructions=instructions, version=__version__, log_level="WARNING"
    )
    for tool in tools():
        server.add_tool(one_line_errors(tool))
    return server


def main(roots: Sequence[str | os.PathLike[str]] = ()) -> None:
    """Serve the tools over stdio until the client closes the stream."""
    build_server(roots).run("stdio")


if __name__ == "__main__":
    main()
