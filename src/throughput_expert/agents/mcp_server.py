"""The MCP server (``tpx mcp``): the public API as Model Context Protocol tools over stdio.

Each registered command (``registry.py``) with a tool name is a tool generated from its public
API function (``tool_for``): the arguments are the function's parameters offered to agents,
typed and described from their one declaration (``params.Arg``), so the SDK's JSON Schema of the
tool is the signature's; it returns the Report's JSON form, the one contract every front door
shares, and declares it: its output schema is the command's report schema
(``schemas/report-NAME.schema.json``). ``fit_usl`` (no Report: its ``analysis.usl``
dictionary) and ``task`` (the seed's prompt object, answered as ``tpx task`` answers it) are
written here. Every tool carries annotations: read-only, idempotent and closed-world, except
``sweep``, which measures (open world, not idempotent).

Data: every data argument takes a path or the data itself (``agents/inline.py``): a metrics
object or Prometheus query result, a profile's text, sweep levels, batch measurements, an
architecture object; inline data is read by the same readers as files, with a size cap. A
list argument's schema carries its reader's limit (``maxItems``: 100 documents, 1,000 sweep
levels, 100,000 batch rows, 1,000 instructions), so the SDK refuses a longer list with one
error before checking its items; the tool itself refuses more than 100 documents too.

Files: every path argument of every tool must resolve (links followed, ``..`` removed) inside
the server's roots, ``tpx mcp --root DIR`` (repeatable; default: the folder the server started
in); relative paths are read from the first root. A path outside is a tool error of one line
and the file is never opened. An architecture's component ``sweep`` files and the files a
task's context names obey the same rule. See ``agents/confine.py``.

Errors: a ``ThroughputError`` becomes a tool error (``isError``) whose text is its one line
``SOURCE: FIELD: what is wrong`` (scrubbed of remembered secrets), naming the tool's arguments:
they are the API's parameters, by name; a parameter the tool does not offer is marked "not a
tool argument" (never a command-line flag). Anything else is a bug: the SDK answers
``Error executing tool NAME`` and logs the traceback on the server's stderr, never to the
client. Text the input carried into an answer (a service's name, a task's key) is written with
any lone surrogate in it as U+FFFD: no UTF-8 answer can hold one (``writable``).

The prompt ``throughput-optimization-expert`` (``agents/data/prompt.md``) tells an LLM when to
call which tool: with it, any MCP client becomes the seed's agent backed by these tools.

Imports: the ``mcp`` SDK (~1 s) is imported only in ``build_server`` and on the error path, so
importing this module stays cheap. The SDK reads a tool's ``inspect.signature``: generated
tools carry a ``__signature__`` of real annotations; ``fit_usl``'s and ``task``'s are postponed
and resolved in this module's globals, so every name they use is imported at run time here.
"""

from __future__ import annotations

import functools
import inspect
import json
import operator
import os
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, ParamSpec, overload

from pydantic import Field

from throughput_expert import __version__, api, registry
from throughput_expert.agents import inline
from throughput_expert.agents.confine import Confine, real_folders
from throughput_expert.errors import InputError, Parameter, ThroughputError
from throughput_expert.params import DURATION_HELP, RATE_HELP, UNSET, Param, parameters
from throughput_expert.sources.batch_measurements import MAX_ROWS
from throughput_expert.sources.sweep import MAX_LEVELS

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer
    from mcp.types import CallToolResult, ToolAnnotations

__all__ = ["PROMPT_NAME", "build_server", "main", "output_schema", "tool_for", "tools"]

P = ParamSpec("P")

FILE = "a path inside the server's roots"
PROMPT_NAME = "throughput-optimization-expert"
MEASURES = frozenset({"sweep"})  # tools that drive load: open world, never idempotent

INSTRUCTIONS = """\
Throughput engineering advice from measurements: where the bottleneck is, how far the system can
go, how to size pools and batches, how to scale to a target rate. Every number in a result comes
from a measurement or a law and says which: see `evidence` (law, inputs, result), `assumptions`
(what had to be assumed, and why) and `inputs` (what was read). Data goes in inline (a metrics
object, a Prometheus query result, a profile's text, sweep levels, batch measurements, an
architecture object) or as a path inside the server's roots (tpx mcp --root DIR; by default the
folder it started in); relative paths are read from the first root, and a path outside them
(links followed) is refused. The `task` tool takes a free-form task (role, task, context,
instructions, outputSchema) and runs the advisors it asks for; the prompt
`throughput-optimization-expert` says which tool answers what. Numbers in results are plain
numbers; the unit is in the key (_rps, _ms, _pct, _s)."""

WIDEN = "tpx mcp --root DIR widens them"
_roots: tuple[Path, ...] = ()

# How each data argument takes its data inline: the JSON type an agent sends, and what it is.
_METRICS_DOC = (
    "a metrics object (tpx metrics JSON: throughput_rps, latency_ms, cores, utilization, ...), "
    "a Prometheus /api/v1/query(_range) response, or a text-exposition scrape (text)"
)
_PROFILE_DOC = (
    "a profile's text (collapsed stacks 'main;handler;parse 120', one stack per line, or a "
    "jstack dump) or JSON object (speedscope, .cpuprofile)"
)
_SWEEP_DOC = (
    "the levels: [{concurrency, throughput_rps, latency_ms: {p99, ...}, errors, requests}], "
    "a tpx sweep object, or the sweep CSV's text"
)
_ROWS_DOC = "rows [{batch_size, latency_ms, cpu_ms?, disk_ms?}] or the CSV's text"
# Lists carry their readers' limits in the schema: the SDK refuses a longer one at once, one
# error, instead of checking every item of it (a megabyte of wrong items is seconds of errors).
_DOCUMENTS = Annotated[list[str | dict[str, Any]], Field(max_length=inline.MAX_DOCUMENTS)]
_PATHS = Annotated[list[str], Field(max_length=inline.MAX_DOCUMENTS)]
_LEVELS = Annotated[list[dict[str, Any]], Field(max_length=MAX_LEVELS)]
_ROWS = Annotated[list[dict[str, Any]], Field(max_length=MAX_ROWS)]
MAX_INSTRUCTIONS = 1_000  # sentences a person wrote for one task: far past any real one
_INLINE: Mapping[str, tuple[Any, str]] = {
    "metrics": (_DOCUMENTS | dict[str, Any], _METRICS_DOC),
    "utilization": (str | dict[str, Any], "a tpx metrics JSON object"),
    "profiles": (_DOCUMENTS, _PROFILE_DOC),
    "gil_profile": (str | dict[str, Any], _PROFILE_DOC),
    "sweep": (str | _LEVELS | dict[str, Any], _SWEEP_DOC),
    "from_files": (_PATHS | _LEVELS | dict[str, Any], _SWEEP_DOC),
    "measurements": (str | _ROWS, _ROWS_DOC),
    "batch_trials": (str | _ROWS, _ROWS_DOC),
    "current_architecture": (
        str | dict[str, Any],
        "an architecture object {system, entry_rate, components: [{name, kind, instances, "
        "utilization, ...}]} (the shape of examples/three-tier.yaml), or its YAML text",
    ),
}


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


def _tool_type(param: Param) -> Any:
    """The tool argument's type: what an agent sends as JSON."""
    kind = param.arg.kind
    base: Any
    if param.name in _INLINE and kind in ("file", "files"):
        base = _INLINE[param.name][0]
        if param.arg.tool_bounds and kind == "files":  # a list's bounds, on the list arm
            first, *rest = typing.get_args(base) if _is_union(base) else (base,)
            bounded = Annotated.__class_getitem__((first, Field(**param.arg.tool_bounds)))  # type: ignore[attr-defined]
            base = functools.reduce(operator.or_, rest, bounded) if rest else bounded
    elif kind in ("rate", "duration"):
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


def _is_union(tp: Any) -> bool:
    return isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union


def _tool_help(param: Param) -> str:
    arg = param.arg
    if param.name in _INLINE and arg.kind in ("file", "files"):
        many = "paths" if arg.kind == "files" else "a path"
        data = _INLINE[param.name][1]
        return f"{arg.help}: {many} inside the server's roots, or the data inline: {data}"
    notes = {"rate": RATE_HELP, "duration": DURATION_HELP, "file": FILE, "files": FILE}
    note = notes.get(arg.kind)
    return f"{arg.help} ({note})" if note else arg.help


def tool_for(found: registry.CommandUnit) -> Callable[..., dict[str, Any]]:
    """The MCP tool of a registered command: its arguments are the API function's parameters
    offered to agents (``Arg.tool``), typed and described from the one declaration; data
    arguments take a path inside the roots or the data inline; the command's ``tool_check``
    adds its limits."""
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
        field = Field(description=_tool_help(p), **_bounds(p))
        annotation: Any = Annotated.__class_getitem__((_tool_type(p), field))  # type: ignore[attr-defined]
        signature.append(
            inspect.Parameter(
                p.name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
            )
        )
    check = registry.resolve(found.tool_check, optional=True) if found.tool_check else None
    files = {p.name: p.arg.kind for p in offered if p.arg.kind in ("file", "files")}

    def tool(**arguments: Any) -> dict[str, Any]:
        arguments = {k: v for k, v in arguments.items() if v is not None}
        arguments = _read_data(name, arguments, files)
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


def _bounds(p: Param) -> dict[str, Any]:
    """pydantic constraints of the argument (a data argument's are on its list arm)."""
    if p.name in _INLINE and p.arg.kind == "files":
        return {}
    return dict(p.arg.tool_bounds)


def _read_data(tool: str, arguments: dict[str, Any], files: Mapping[str, str]) -> dict[str, Any]:
    """Paths confined to the roots; inline data read into the records the API takes."""
    out = dict(arguments)
    host = None
    for key, kind in files.items():
        value = out.get(key)
        if value is None:
            continue
        _few_documents(key, kind, value)
        if key not in _INLINE:
            out[key] = _paths(tool, key, kind, value)
        elif key == "metrics":
            out[key] = _metrics(tool, value, out)
        elif key == "utilization":
            if _is_data(value):  # the host's metrics: read, and merged with metrics (below)
                host = inline.metrics(value, key)
                del out[key]
            else:
                out[key] = _inside(tool, key, value)
        elif key == "profiles":
            out[key] = _each(tool, key, kind, value, inline.profile)
        elif key == "gil_profile":
            out[key] = _each(tool, key, kind, value, _gil_profile)
        elif key in ("sweep", "from_files"):
            if _is_data(value) and not (key == "from_files" and _paths_only(value)):
                out[key] = inline.sweep(value, key)
            else:
                out[key] = _paths(tool, key, kind, value)
        elif key in ("measurements", "batch_trials"):
            if _is_data(value):
                out[key] = inline.call_costs(value, key)
            else:
                out[key] = _inside(tool, key, value)
        elif key == "current_architecture":
            if _is_data(value):
                out[key] = inline.architecture(value, key, _confine(tool).roots[0])
            else:
                out[key] = _inside(tool, key, value)
    if host is not None:
        out["metrics"] = [*out.get("metrics", []), host]
    return out


def _few_documents(key: str, kind: str, value: object) -> None:
    """A list of documents (files, objects, texts) holds at most ``inline.MAX_DOCUMENTS``;
    inline sweep levels are one document."""
    if kind != "files" or not isinstance(value, list):
        return
    if key in ("sweep", "from_files") and not _paths_only(value):
        return
    inline.few_documents(value, Parameter(key))


def _is_data(value: object) -> bool:
    """Data sent inline, not a path: anything but a string, or text ``inline`` reads as data."""
    return not isinstance(value, str) or inline.is_inline(value)


def _gil_profile(value: Any, argument: str) -> Any:
    return inline.profile(value, argument, measures="gil")


def _paths_only(value: object) -> bool:
    """``from_files`` as a list of paths (an empty one too): load-test result files."""
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _paths(tool: str, key: str, kind: str, value: Any) -> Any:
    if kind == "file":
        return _inside(tool, key, value)
    return [_inside(tool, f"{key}[{i}]", v) for i, v in enumerate(value)]


def _each(tool: str, key: str, kind: str, value: Any, read: Callable[[Any, str], Any]) -> Any:
    """Each item of a data argument: a path confined to the roots, or inline data read."""
    if kind == "file":
        return read(value, key) if inline.is_inline(value) else _inside(tool, key, value)
    return [
        read(v, f"{key}[{i}]") if inline.is_inline(v) else _inside(tool, f"{key}[{i}]", v)
        for i, v in enumerate(value)
    ]


def _metrics(tool: str, value: Any, arguments: Mapping[str, Any]) -> list[Any]:
    """Metrics: paths, objects and text scrapes (read together: a rate needs two)."""
    items = value if isinstance(value, list) else [value]
    single = not isinstance(value, list)
    service = arguments.get("service")
    interval_s = None
    if arguments.get("interval") is not None:
        interval_s = api.parse_duration(
            arguments["interval"], source=Parameter("interval"), default_unit="s"
        )
    out: list[Any] = []
    scrapes: list[tuple[str, str]] = []
    for i, item in enumerate(items):
        field = "metrics" if single else f"metrics[{i}]"
        if isinstance(item, str) and inline.is_inline(item):
            scrapes.append((field, item))
        elif inline.is_inline(item):
            out.append(inline.metrics(item, field, service=service))
        else:
            out.append(_inside(tool, field, item))
    if scrapes:
        out.append(inline.scrapes(scrapes, service=service, interval_s=interval_s))
    return out


def output_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of a tool's result: the command's report schema; ``fit_usl``'s is the
    USL fit (the sweep report's ``analysis.usl``); ``task``'s the task result's."""
    from throughput_expert.model.report_schema import report_schema

    if name == "fit_usl":
        sweep = report_schema("sweep")
        defs = sweep.get("$defs", {})
        return {"title": "tpx USL fit", **defs["UslFitRecord"], "$defs": defs}
    if name == "task":
        return task_schema()
    found = next((u for u in registry.units() if u.tool == name), None)
    if found is None:
        raise KeyError(name)
    return report_schema(found.name)


def task_schema() -> dict[str, Any]:
    """The task result: a report envelope (``command: "task"``) whose ``analysis`` holds the
    analyze findings and one object per other advisor run, recommendations naming their
    advisor, plus the keys the task's ``outputSchema`` requires."""
    from throughput_expert.model.report_schema import report_schema

    schema = report_schema("analyze")
    schema["$id"] = "https://throughput-expert.invalid/schemas/task-result.schema.json"
    schema["title"] = "tpx task result"
    schema["additionalProperties"] = True  # the keys the task's outputSchema asks for
    props = schema["properties"]
    props["command"] = {"enum": ["task", *(u.name for u in registry.units())]}
    props["analysis"] = {
        "type": "object",
        "description": "the analyze findings (bottleneck, current_throughput, headroom, "
        "latency) at the top, one object per other advisor run (concurrency, batching, "
        "scaling, profile) and task: what was understood, asked, run and skipped",
    }
    rec = props["recommendations"]["items"]
    rec["properties"]["advisor"] = {"type": "string", "description": "the advisor that gave it"}
    return schema


def fit_usl(
    sweep: Annotated[
        str | _LEVELS | dict[str, Any],
        Field(
            description=f"the sweep: {FILE} (CSV concurrency,throughput_rps,... or tpx sweep "
            f"JSON, one row per load level), or the data inline: {_SWEEP_DOC}"
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
    if isinstance(sweep, str) and not inline.is_inline(sweep):
        return dict(api.fit_usl(_inside("fit_usl", "sweep", sweep)))
    return dict(api.fit_usl(inline.sweep(sweep, "sweep")))


def task(
    task: Annotated[
        str,
        Field(
            description="what to achieve, in words: 'Increase message processing from 10K to "
            "50K msgs/sec' (rates, targets and the advice wanted are read from it)"
        ),
    ],
    role: Annotated[
        str | None, Field(description="who answers: 'Throughput Engineering Specialist'")
    ] = None,
    context: Annotated[
        dict[str, Any] | str | None,
        Field(
            description="what is known: currentThroughput ('10,000 msgs/sec'), "
            "targetThroughput, resourceUtilization ({cpu: '45%', memory: '60%', diskIO: '80%'}), "
            "architecture ('Single consumer, PostgreSQL sink'), cores, workers, latency; files "
            f"by name (metrics, profile, sweep, measurements, architecture: {FILE})"
        ),
    ] = None,
    instructions: Annotated[
        Annotated[list[str], Field(max_length=MAX_INSTRUCTIONS)] | str | None,
        Field(
            description="what to do: 'Identify throughput bottlenecks', 'Recommend "
            "parallelization strategy', 'Design batching approach', 'Estimate scaling "
            "requirements' (they choose the advisors run)"
        ),
    ] = None,
    outputFormat: Annotated[str | None, Field(description="'JSON' (the only one)")] = None,
    outputSchema: Annotated[
        dict[str, Any] | None,
        Field(
            description="a JSON Schema the result must satisfy: its required keys are filled "
            "from the advisors' findings; a result that still violates it is an error "
            "(its $refs are never fetched, its patterns never run)"
        ),
    ] = None,
) -> dict[str, Any]:
    """Answer a free-form throughput task as the seed's agent does: the babysitter prompt
    object (role, task, context, instructions, outputSchema), as `tpx task` answers it.

    The task and its instructions choose the advisors (analyze always when there are
    measurements; concurrency, batching, scaling, find-bottleneck when asked or when the data
    allows); their reports merge into one result, command "task": the analyze findings at the
    top of analysis, one object per other advisor, recommendations naming their advisor, the
    evidence, assumptions (every quantity derived from the context, e.g. time per item by
    Little's law) and inputs. With an outputSchema its required keys are filled from the
    findings. Files the context names must lie inside the server's roots.
    """
    from throughput_expert.agents.run import run_advisors
    from throughput_expert.agents.schema import fit_to_schema

    prompt: dict[str, Any] = {"task": task}
    for key, value in (
        ("role", role),
        ("context", context),
        ("instructions", instructions),
        ("outputFormat", outputFormat),
    ):
        if value is not None:
            prompt[key] = value
    confine = _confine("task")
    report = run_advisors(prompt, confine.roots[0], confine, output_schema=outputSchema)
    returned = Path("(the task tool's result: returned to the client, not written)")
    result = fit_to_schema(report.to_dict(), outputSchema, returned)
    violations = result.get("schema_violations") or []
    if violations:
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        raise InputError(
            f"the result does not satisfy it: {violations[0]}{more}",
            source="task",
            field="outputSchema",
        )
    return result


def tools() -> tuple[Callable[..., dict[str, Any]], ...]:
    """Every registered command that is a tool, then ``fit_usl`` and ``task``."""
    made = [tool_for(found) for found in registry.units() if found.tool]
    return (*made, fit_usl, task)


def _speller(name: str) -> Callable[[str], str]:
    """How the tool ``name`` spells a parameter in an error: its own argument by name; a
    parameter it does not offer as the command line's flag, marked so."""
    found = next((u for u in registry.units() if u.tool == name), None)
    if found is None:
        return lambda parameter: parameter
    declared = {p.name: p for p in parameters(registry.resolve(found.run))}

    def spell(parameter: str) -> str:
        param = declared.get(parameter)
        if param is None or param.arg.tool:
            return parameter
        where = "tpx command line" if param.arg.cli else "Python library"
        return f"{parameter} (not a tool argument: {where} only)"

    return spell


def one_line_errors(tool: Callable[P, dict[str, Any]]) -> Callable[P, Any]:
    """``tool``, answering a ``ThroughputError`` with a tool error holding its one line.

    Returned rather than raised: the SDK prefixes a raised error's text with "Error executing
    tool NAME: "; the line alone is the contract. ``functools.wraps`` keeps the signature the
    SDK reads.
    """
    name = tool.__name__
    spell = _speller(name)
    command = next((u.name for u in registry.units() if u.tool == name), name)

    @functools.wraps(tool)
    def call(*args: P.args, **kwargs: P.kwargs) -> dict[str, Any] | CallToolResult:
        try:
            return writable(tool(*args, **kwargs))
        except ThroughputError as err:
            from throughput_expert.redact import scrub

            line = err.spelled(spell)
            if not err.names_parameter and err.source == command:  # the command, as this tool
                line = name + line[len(command) :]
            return error_result(writable(scrub(line)))

    return call


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@overload
def writable(value: str) -> str: ...
@overload
def writable(value: dict[str, Any]) -> dict[str, Any]: ...
def writable(value: Any) -> Any:
    """``value`` with every lone surrogate in its text (and keys) as U+FFFD: text copied from
    the input may hold one (``"\\ud800"`` is valid JSON, in an argument or a file), and no
    UTF-8 answer can carry it; the SDK's encoder would fail after the tool succeeded."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return _replace_surrogates(value)
    except (TypeError, ValueError, RecursionError):
        return value  # not text's doing: the SDK writes it as it can
    return value


def _replace_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_replace_surrogates(k): _replace_surrogates(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_replace_surrogates(v) for v in value]
    return value


def error_result(line: str) -> CallToolResult:
    """A tool result with ``isError`` set and ``line`` as its only text."""
    from mcp.types import CallToolResult, TextContent

    return CallToolResult(content=[TextContent(type="text", text=line)], is_error=True)


def tool_annotations(name: str) -> ToolAnnotations:
    """Hints for clients: every tool only reads; ``sweep`` measures (it drives load against a
    loopback target: open world, and two calls measure twice)."""
    from mcp.types import ToolAnnotations

    measures = name in MEASURES
    titles = {"fit_usl": "Fit the USL to a sweep", "task": "Answer a throughput task"}
    found = next((u for u in registry.units() if u.tool == name), None)
    title = titles.get(name) or (found.help[:1].upper() + found.help[1:] if found else name)
    return ToolAnnotations(
        title=title,
        read_only_hint=True,
        destructive_hint=False,
        idempotent_hint=not measures,
        open_world_hint=measures,
    )


def prompt_text() -> str:
    """The seed's agent, as instructions to an LLM holding these tools."""
    return (
        resources.files("throughput_expert")
        .joinpath("agents/data/prompt.md")
        .read_text(encoding="utf-8")
    )


def expert_prompt(
    task: Annotated[
        str | None,
        Field(description="the throughput task to work on (optional): what to achieve, and why"),
    ] = None,
) -> str:
    """The throughput-optimization-expert agent: how to use these tools to answer a
    throughput question, and when to call which."""
    text = prompt_text()
    if task:
        text += f"\n\n## The task\n\n{task}\n"
    return text


def build_server(roots: Sequence[str | os.PathLike[str]] = ()) -> MCPServer:
    """The server with every tool and the prompt registered (stdio, HTTP or in-memory: the
    caller's choice); its tools read files only inside ``roots`` (default: the working
    directory now)."""
    chosen = set_roots(roots)  # a bad --root fails before the SDK loads
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.prompts import Prompt
    from mcp.server.mcpserver.tools import Tool

    made = []
    for fn in tools():
        name = fn.__name__
        tool = Tool.from_function(
            one_line_errors(fn),
            name=name,
            annotations=tool_annotations(name),
            structured_output=True,
        )
        tool.fn_metadata.output_schema = output_schema(name)
        made.append(tool)
    instructions = f"{INSTRUCTIONS}\nThe server's roots: {', '.join(map(str, chosen))}."
    server: MCPServer = MCPServer(
        "throughput-expert",
        instructions=instructions,
        version=__version__,
        log_level="WARNING",
        tools=made,
    )
    server.add_prompt(
        Prompt.from_function(
            expert_prompt,
            name=PROMPT_NAME,
            title="Throughput optimization expert",
            description="Act as a senior throughput engineer backed by these tools: which tool "
            "answers what, what to ask for, how to read the results.",
        )
    )
    return server


def main(roots: Sequence[str | os.PathLike[str]] = ()) -> None:
    """Serve the tools over stdio until the client closes the stream."""
    build_server(roots).run("stdio")


if __name__ == "__main__":
    main()
