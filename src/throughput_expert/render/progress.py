"""The progress of a sweep on a terminal: a live line per level (``rich.live``) on a terminal,
plain lines otherwise. The events come from ``model.progress``; every line is scrubbed of
remembered secrets before it is shown, and a server's message in it shows its control characters
escaped (``terminal_safe``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from rich.console import Console
from rich.live import Live
from rich.text import Text

from throughput_expert.model.progress import ProgressEvent
from throughput_expert.redact import scrub
from throughput_expert.safe_text import terminal_safe

__all__ = ["describe", "progress_printer"]


def _load(event: ProgressEvent) -> str:
    if event.mode == "open":
        return f"offered {event.level:g} rps"
    return f"concurrency {event.level:g}"


def describe(event: ProgressEvent) -> str:
    """One line for an event (the plain form of the display), scrubbed of secrets."""
    return terminal_safe(scrub(_describe(event)), limit=None)


def _describe(event: ProgressEvent) -> str:
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
