"""The command registry: each advisor command is one unit, registered once.

A unit names its public API function (whose signature declares every parameter: type, unit,
default, help; see ``params.py``), its analysis record (``model/analysis/``), its text sections
and its page figures (``render/text_*.py``). From that one entry:

- the command line gets a subcommand whose flags are generated from the signature (``cli.py``);
- ``tpx mcp`` gets a tool whose input schema is generated from the same signature
  (``agents/mcp_server.py``);
- ``tpx task`` routes ``{"command": NAME, "arguments": {...}}`` to it (``agents/run.py``);
- the JSON, text and HTML renderers find its record and sections by the report's command;
- ``schemas/report-NAME.schema.json`` is generated from its record
  (``model/report_schema.py``).

References may be objects or ``"module:attribute"`` strings, imported on first use, so that
this module imports nothing heavy and every stage may read it (``tpx --help`` stays fast).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["CommandUnit", "register", "resolve", "unit", "units", "unregister"]

Ref = Any  # an object, or "package.module:attribute"


@dataclass(frozen=True)
class CommandUnit:
    name: str
    """The command's name on the command line and in ``Report.command``."""
    help: str
    run: Ref
    """The public API function; its keyword parameters are the command's parameters."""
    record: Ref
    """The analysis record class (``model/record.py`` serializes it)."""
    text: Ref = ()
    """Text sections: callables ``(console, record) -> None``, in order."""
    figures: Ref = None
    """The page's key figures: ``record -> list[(label, value, note)]``."""
    tool: str | None = None
    """The MCP tool's name (None: not a tool)."""
    tool_doc: str | None = None
    """The MCP tool's description (default: the API function's docstring)."""
    tool_check: Ref = None
    """MCP: ``(arguments, confine) -> arguments``, limits a tool adds to the API's."""
    cli_extra: Ref = None
    """CLI: ``(parser) -> None`` adding flags beyond the signature (a group of options)."""
    cli_kwargs: Ref = None
    """CLI: ``(namespace) -> dict`` of API arguments built from those extra flags."""


_UNITS: dict[str, CommandUnit] = {}


def register(new: CommandUnit, *, replace: bool = False) -> CommandUnit:
    """Add a command; its name must be new unless ``replace``."""
    if new.name in _UNITS and not replace:
        raise ValueError(f"command {new.name!r} is registered already")
    _UNITS[new.name] = new
    return new


def unregister(name: str) -> None:
    _UNITS.pop(name, None)


def units() -> Iterator[CommandUnit]:
    return iter(tuple(_UNITS.values()))


def unit(name: str) -> CommandUnit | None:
    return _UNITS.get(name)


def resolve(ref: Ref, *, optional: bool = False) -> Any:
    """The object a reference names (``"module:attr"`` is imported now); with ``optional``, a
    module without that attribute gives None (a hook the command does not need)."""
    if isinstance(ref, str) and ":" in ref:
        module, _, attr = ref.partition(":")
        found = importlib.import_module(module)
        return getattr(found, attr, None) if optional else getattr(found, attr)
    return ref


def text_sections(name: str) -> Sequence[Callable[..., None]]:
    found = unit(name)
    return tuple(resolve(found.text)) if found is not None else ()


def _built_in() -> None:
    m, r = "throughput_expert.model.analysis", "throughput_expert.render"
    for name, help_text, fn, record, text, tool in (
        (
            "analyze",
            "from metrics to a bottleneck verdict, headroom and advice",
            "analyze",
            "analyze:AnalyzeAnalysis",
            "text_analyze",
            "analyze",
        ),
        (
            "find-bottleneck",
            "read CPU profiles: where the time goes, the bottleneck and its fixes",
            "find_bottleneck",
            "bottleneck:BottleneckAnalysis",
            "text_profile",
            "find_bottleneck",
        ),
        (
            "optimize-concurrency",
            "size thread pools: seed formulas, Little's law, Erlang C, the USL on a sweep",
            "optimize_concurrency",
            "concurrency:ConcurrencyAnalysis",
            "text_concurrency",
            "optimize_concurrency",
        ),
        (
            "design-batching",
            "batch size, linger and expected throughput from the cost model T(b) = c0 + c1·b",
            "design_batching",
            "batching:BatchingAnalysis",
            "text_batching",
            "design_batching",
        ),
        (
            "scaling-plan",
            "from today's architecture (YAML) to a target rate, component by component",
            "scaling_plan",
            "scaling:ScalingAnalysis",
            "text_scaling",
            "scaling_plan",
        ),
        (
            "sweep",
            "measure saturation: drive a workload at rising load and fit the USL, or read "
            "load-test results",
            "sweep",
            "sweep:SweepAnalysis",
            "text_sweep",
            "sweep",
        ),
    ):
        module, _, cls = record.partition(":")
        register(
            CommandUnit(
                name=name,
                help=help_text,
                run=f"throughput_expert.api:{fn}",
                record=f"{m}.{module}:{cls}",
                text=f"{r}.{text}:SECTIONS",
                figures=f"{r}.{text}:figures",
                tool=tool,
                tool_check=f"throughput_expert.agents.tool_checks:{tool}",
                cli_extra=f"throughput_expert.cli_flags:{fn}_extra",
                cli_kwargs=f"throughput_expert.cli_flags:{fn}_kwargs",
            )
        )


_built_in()
