"""Shared pieces of the text renderer: headings, wrapped lines, unit cells, a table."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from rich.console import Console
from rich.table import Table

from throughput_expert.model.analysis.common import Finding
from throughput_expert.model.units import fmt_count, fmt_duration, fmt_pct

__all__ = [
    "WIDTH",
    "findings",
    "heading",
    "line",
    "ms",
    "num",
    "pct",
    "table",
    "text_width",
    "tree",
    "width",
]

WIDTH = 80
"""The width when none is given: what a pipe, a file or an 80-column terminal gets."""
_WIDTH: ContextVar[int] = ContextVar("tpx_text_width", default=WIDTH)


def width() -> int:
    """The width the text being rendered wraps at (``text_width`` sets it)."""
    return _WIDTH.get()


@contextmanager
def text_width(columns: int) -> Iterator[None]:
    """Render at ``columns`` (at least 60: narrower, tables cannot hold their numbers)."""
    token = _WIDTH.set(max(60, columns))
    try:
        yield
    finally:
        _WIDTH.reset(token)


def heading(out: Console, title: str) -> None:
    out.print()
    out.print(title, markup=False)
    out.print("-" * len(title), markup=False)


def line(out: Console, text: str) -> None:
    """One logical line, wrapped at the width with continuation lines under its text."""
    body = text.lstrip(" ")
    indent = " " * (len(text) - len(body))
    hang = indent + ("  " if body.startswith(("- ", "[")) else "")
    wrapped = textwrap.fill(
        body,
        width=width(),
        initial_indent=indent,
        subsequent_indent=hang,
        break_long_words=True,  # only a word longer than the width (a path, a stack) breaks
        break_on_hyphens=False,
    )
    out.print(wrapped, markup=False, overflow="ignore", crop=False)


def ms(value: float | None) -> str:
    return fmt_duration(None if value is None else value / 1e3)


def pct(value: float | None) -> str:
    return fmt_pct(None if value is None else value / 100)


def num(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        # no scientific notation: large values by the one unit formatter (10K), small ones plain
        if abs(value) >= 1e4:
            return fmt_count(value)
        text = f"{value:.4g}"
        if "e" not in text or value == 0:
            return text
        decimals = 3 - math.floor(math.log10(abs(value)))  # 4 significant digits, written out
        return f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {num(v)}" for k, v in value.items())
    return str(value)


def tree(out: Console, value: Any, indent: str) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            if isinstance(v, Mapping | list) and v:
                line(out, f"{indent}{k}:")
                tree(out, v, indent + "  ")
            else:
                line(out, f"{indent}{k}: {num(v)}")
    elif isinstance(value, list):
        for v in value:
            line(out, f"{indent}- {num(v)}") if not isinstance(v, Mapping) else tree(out, v, indent)
    else:
        line(out, f"{indent}{num(value)}")


def table(*columns: str) -> Table:
    """A borderless table: the first column left-aligned, the others right-aligned."""
    t = Table(box=None, pad_edge=False, show_edge=False)
    for i, col in enumerate(columns):
        t.add_column(col, justify="left" if i == 0 else "right")
    return t


def findings(out: Console, found: Sequence[Finding], notes: Sequence[str] = ()) -> None:
    """The "Findings" section every command with a ledger shows: each contradiction in the
    inputs with both values and the one used, then the notes."""
    if not found and not notes:
        return
    heading(out, "Findings")
    for f in found:
        values = ", ".join(f"{k} = {num(v)}" for k, v in f.values.items())
        used = f"; used {f.used}" if f.used else ""
        line(out, f"  - {f.what}" + (f" ({values})" if values else "") + used)
    for note in notes:
        line(out, f"  - {note}")
