"""One declaration per parameter: the public API's signatures, read by every front door.

A public function (``api.py``) annotates each parameter with ``Annotated[T, Arg(...)]``: its
type, help text, the kind of value (a rate, a duration, a file...) and how front doors show it.
From that one place the command line builds its flags (``cli_flags.signature_flags``) and the
MCP server its tools' input schemas (``agents/mcp_server.py``); the task worker checks a task's
arguments against it. Defaults are the signature's.

Values: a **rate** is a number per second or a quantity string ("10K", "2.5M rps"); a
**duration** is a number of seconds or a quantity string ("5ms", "1.5s"). Bare numbers mean
the SI unit everywhere (seconds, per second).
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Union

__all__ = ["DURATION_HELP", "RATE_HELP", "Arg", "Param", "parameters"]

Kind = Literal["value", "rate", "duration", "file", "files", "levels", "rates", "hidden"]

RATE_HELP = 'a number per second, or text: "10K", "2.5M rps", "10,000 msgs/sec"'
DURATION_HELP = 'a number of seconds, or text: "5ms", "100 µs", "1.5s"'
UNSET: Any = object()


@dataclass(frozen=True)
class Arg:
    """How the front doors show one parameter of a public function."""

    help: str
    kind: Kind = "value"
    metavar: str | None = None
    flag: str | None = None
    """The command-line spelling when it is not ``--name-with-dashes``."""
    cli: bool = True
    """Generated as a flag (False: the command line supplies it another way, or not at all)."""
    tool: bool = True
    """An MCP tool argument (False: not offered to agents)."""
    tool_default: Any = UNSET
    tool_required: bool = False
    """Required of an agent although the library lets it be left out (other sources exist)."""
    tool_bounds: Mapping[str, Any] = field(default_factory=dict)
    """pydantic ``Field`` constraints of the tool argument (``ge``, ``le``, ``max_length``)."""
    group: str | None = None
    """The --help group the flag belongs to."""


@dataclass(frozen=True)
class Param:
    name: str
    type: Any
    """The annotation without ``Annotated`` (e.g. ``int | None``)."""
    arg: Arg
    default: Any
    """``inspect.Parameter.empty`` when required."""

    @property
    def required(self) -> bool:
        return self.default is inspect.Parameter.empty

    @property
    def optional(self) -> bool:
        """None is a value it takes."""
        return type(None) in _arms(self.type)

    @property
    def choices(self) -> tuple[Any, ...] | None:
        for arm in _arms(self.type):
            if typing.get_origin(arm) is Literal:
                return typing.get_args(arm)
        return None

    @property
    def base(self) -> Any:
        """The type without None (``int | None`` -> ``int``)."""
        arms = [a for a in _arms(self.type) if a is not type(None)]
        return arms[0] if len(arms) == 1 else self.type


def _arms(tp: Any) -> tuple[Any, ...]:
    origin = typing.get_origin(tp)
    if origin is Union or origin is types.UnionType:
        return typing.get_args(tp)
    return (tp,)


def parameters(fn: Callable[..., Any]) -> tuple[Param, ...]:
    """The declared parameters of a public function, in order; a parameter without an ``Arg``
    is an error (every public parameter is declared once, here)."""
    out = []
    namespace = getattr(inspect.unwrap(fn), "__globals__", {})
    for name, p in inspect.signature(fn).parameters.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        hint = p.annotation
        if isinstance(hint, str):  # postponed: evaluated in the function's module
            hint = eval(hint, namespace)
        if typing.get_origin(hint) is not typing.Annotated:
            raise TypeError(f"{fn.__name__}({name}): no Arg declaration")
        base, *extras = typing.get_args(hint)
        arg = next((e for e in extras if isinstance(e, Arg)), None)
        if arg is None:
            raise TypeError(f"{fn.__name__}({name}): no Arg declaration")
        out.append(Param(name, base, arg, p.default))
    return tuple(out)
