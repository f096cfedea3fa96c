"""Progress of a sweep: the events the runner emits, and a printer for them.

The runner calls its ``on_progress`` callback with a ``ProgressEvent``: ``level_start`` before a
level, ``tick`` about four times a second while it runs (closed- and open-loop drivers; a
``LevelDriver`` such as Locust reports only start and end), ``level_end`` with the level's
figures, and ``sweep_end`` once at the end, whatever happened. ``progress_printer(stream)``
returns such a callback: a live line (``rich.live``) per level on a terminal, plain lines
otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TextIO

from rich.console import Console
from rich.live import Live
from rich.text import Text

from throughput_expert.model.sweep import SweepMode

__all__ = ["ProgressEvent", "ProgressKind", "describe", "progress_printer"]

ProgressKind = Literal["level_start", "tick", "level_end", "sweep_end"]


@dataclass(frozen=True)
class ProgressEvent:
    """Where a sweep stands. ``index`` counts levels from 1; rates are per second."""

    kind: ProgressKind
    index: int
    total: int
    level: float
    mode: SweepMode
    elapsed_s: float = 0.0
    planned_s: float = 0.0
    completed: int = 0
    errors: int = 0
    rate_rps: float = 0.0
    warming_up: bool = False
    p99_s: float | None = None
    message: str = ""


def _load(event: ProgressEvent) -> str:
    if event.mode == "open":
        return f"offered {event.level:g} rps"
    return f"concurrency {event.level:g}"


def describe(event: ProgressEvent) -> str:
    """One line for an event (the plain form of the display)."""
    head = f"level {event.index}/{event.total}: {_load(event)}"
    if event.kind == "level_start":
        return f"{head}: started ({event.planned_s:.1f} s planned)"
    if event.kind == "sweep_end":
        return f"sweep finished{': ' + event.message if event.message else ''}"
    if event.warming_up:
        return f"{head}: warming up, {event.elapsed_s:.1f}/{event.planned_s:.1f} s"
    p99 = "" if event.p99_s is None else f", p99 {event.p99_s * 1e3:.2f} ms"
    tail = f", {event.message}" if event.message else ""
    return (
        f"{head}: {event.rate_rps:,.1f} rps, {event.completed} ok, {event.errors} errors{p99}, "
        f"{event.elapsed_s:.1f}/{event.planned_s:.1f} s{tail}"
    )


def progress_printer(stream: TextIO) -> Callable[[ProgressEvent], None]:
    """A progress callback writing to ``stream``: live on a terminal, plain lines otherwise."""
    if stream.isatty():
        return _LivePrinter(stream)
    return _plain(stream)


def _plain(stream: TextIO) -> Callable[[ProgressEvent], None]:
    def show(event: ProgressEvent) -> None:
        if event.kind != "tick":
            stream.write(describe(event) + "\n")
            stream.flush()

    return show


class _LivePrinter:
    """One live line per level (``rich.live``), left on screen with the level's result."""

    def __init__(self, stream: TextIO) -> None:
        self._console = Console(file=stream)
        self._live: Live | None = None

    def __call__(self, event: ProgressEvent) -> None:
        if event.kind == "level_start":
            self._stop()
            self._live = Live(Text(describe(event)), console=self._console, transient=True)
            self._live.start()
        elif event.kind == "tick" and self._live is not None:
            self._live.update(Text(describe(event)))
        else:
            self._stop()
            self._console.print(Text(describe(event)))

    def _stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
