"""The one exception tree of throughput-expert.

::

    ThroughputError                    anything the tool reports to a user (exit 2)
    ├── InputError                     bad input: carries the source and the field path
    ├── ModelError                     the data cannot support what a law needs
    │   ├── UnstableSystem             utilization >= 1 in a queueing formula
    │   └── FitError                   a fit the data cannot support
    └── MeasurementError               a measurement that could not be made

Every error renders as one line, ``SOURCE: FIELD: what is wrong``; the command line prints that
line on stderr and exits 2. Anything else reaching the user is a bug (exit 1).

The library names its public API parameters, never a front door's spelling of them: an error
about a parameter carries ``parameter="cpu_cores"`` (the name in ``api.py``'s signatures), or
``source=Parameter("cpu_cores")`` where the source passes through code that takes a plain
``source`` string (the quantity parsers); its SOURCE is then the parameter's name. A message
that tells the user to pass a parameter writes it as a ``{name}`` placeholder and lists the name
in ``mentions``. ``one_line()`` spells both as the library does (the bare name); each front door
spells them its own way with ``spelled(...)``: the command line as its flags (``--cpu-cores``),
the MCP server as its tools' argument names.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = [
    "FitError",
    "InputError",
    "Interrupted",
    "MeasurementError",
    "ModelError",
    "Parameter",
    "ThroughputError",
    "UnstableSystem",
]


class Parameter(str):
    """A source that is a public API parameter's name (``Parameter("latency_slo")``): an error
    raised with it as its ``source`` names that parameter, which a front door spells its way.
    The mark is the type, never the text: a file named ``metrics`` stays a file."""

    __slots__ = ()


def _same(name: str) -> str:
    return name


class ThroughputError(Exception):
    """Base of every error the tool reports to a user as one line."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        field: str = "",
        parameter: str | None = None,
        mentions: tuple[str, ...] = (),
    ) -> None:
        if parameter is None and isinstance(source, Parameter):
            parameter, source = str(source), None
        #: the public API parameter the error is about (snake_case), if any
        self.parameter = parameter
        #: whether SOURCE is that parameter (a front door spells it its own way)
        self.names_parameter = source is None and parameter is not None
        self.source = source if source is not None else (parameter or "tpx")
        self.field = field
        #: the parameters the message tells the user to pass, as ``{name}`` placeholders
        self.mentions = mentions
        self.template = message
        self.message = self._filled(_same)
        super().__init__(self.message)

    def _filled(self, spell: Callable[[str], str]) -> str:
        text = self.template
        for name in self.mentions:
            text = text.replace("{" + name + "}", spell(name))
        return text

    def spelled(self, spell: Callable[[str], str]) -> str:
        """The one line with every parameter (SOURCE when it is one, and those the message
        mentions) spelled by ``spell``: a front door's name for a public API parameter."""
        source = spell(self.source) if self.names_parameter else self.source
        parts = [source]
        if self.field:
            parts.append(self.field)
        parts.append(self._filled(spell))
        # each part capped: a field path built from a file's keys can be megabytes long
        return ": ".join(_capped(p.replace("\n", " ")) for p in parts)

    def one_line(self) -> str:
        """``SOURCE: FIELD: what is wrong`` (FIELD omitted when there is none), on one line."""
        return self.spelled(_same)

    def __str__(self) -> str:
        return self.one_line()


_PART_LIMIT = 600  # characters of one part of an error line (source, field, message)


def _capped(part: str) -> str:
    return part if len(part) <= _PART_LIMIT else part[: _PART_LIMIT - 1] + "…"


class InputError(ThroughputError):
    """The input is malformed, contradictory or impossible (source = file or parameter)."""


class ModelError(ThroughputError):
    """A law or model cannot give an answer from these numbers."""


class UnstableSystem(ModelError):
    """Utilization >= 1 where a queueing formula needs a stable queue."""


class FitError(ModelError):
    """A fit the data cannot support (too few points, degenerate, or a poor fit)."""


class MeasurementError(ThroughputError):
    """A measurement could not be made (a driver failed, a service was unreachable)."""


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP turned into what Ctrl-C raises, so every path that keeps finished work
    on Ctrl-C (sweep levels, trial tables dropped) does the same for them; ``signum`` gives the
    exit code (128 + signum)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
