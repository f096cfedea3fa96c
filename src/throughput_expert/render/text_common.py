"""Shared pieces of the text renderer: the console, section rules, wrapped lines, tables fitted
to the width, labels for the model's keys, and the few colours a verdict gets.

rich is imported only when text is rendered (``tpx --help`` and JSON output never pay for it).
Every piece of text goes out through ``terminal_safe``: names, paths and messages read from
files or servers show their control characters escaped instead of acting on the terminal.
"""

from __future__ import annotations

import math
import os
import re
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from throughput_expert.model.analysis.common import Finding
from throughput_expert.model.units import fmt_count, fmt_duration, fmt_factor, fmt_pct
from throughput_expert.safe_text import terminal_safe

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "BAD",
    "DIM",
    "GOOD",
    "KEEP",
    "WARN",
    "WIDTH",
    "Cell",
    "Col",
    "color_wanted",
    "console",
    "findings",
    "gain",
    "grid",
    "heading",
    "humanize",
    "label",
    "line",
    "ms",
    "num",
    "over",
    "pct",
    "prose",
    "safe",
    "text_width",
    "tree",
    "valued",
    "width",
]

WIDTH = 80
"""The width when none is given: what a pipe, a file or an 80-column terminal gets."""
_WIDTH: ContextVar[int] = ContextVar("tpx_text_width", default=WIDTH)

GOOD, BAD, WARN, DIM = "green", "bold red", "yellow", "dim"
"""The only styles: a verdict that holds, a value over its target or a verdict that fails, a
caution, and the footer. Without colour (a pipe, a file, ``NO_COLOR``) they print nothing."""

INDENT = 2  # tables and lines sit under their section's rule, two columns in


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


def color_wanted(terminal: bool, env: Mapping[str, str] | None = None) -> bool:
    """Whether text gets colour: on a terminal only, never with ``NO_COLOR`` set (to any
    value, https://no-color.org); ``FORCE_COLOR`` (non-empty) asks for it anywhere."""
    env = os.environ if env is None else env
    if "NO_COLOR" in env:
        return False
    if env.get("FORCE_COLOR"):
        return True
    return terminal


def console(file: Any, color: bool) -> Console:
    """A rich console writing to ``file`` at the current width: ANSI colours when ``color``,
    else plain text with no escape code at all."""
    from rich.console import Console

    return Console(
        file=file,
        width=width(),
        no_color=not color,
        force_terminal=color,
        color_system="standard" if color else None,
        highlight=False,
        emoji=False,
        markup=False,
        force_jupyter=False,
        legacy_windows=False,
        soft_wrap=False,
    )


# --- words for the model's keys ------------------------------------------------------------------

LABELS = {
    "cpu": "CPU",
    "disk_io": "disk I/O",
    "io_disk": "disk I/O",
    "network": "network",
    "io_network": "network I/O",
    "memory": "memory",
    "downstream": "downstream",
    "contention": "contention",
    "throughput": "throughput",
    "rps": "rate",
    "utilization": "utilization",
    "target_utilization": "target",
    "servers": "servers",
    "sum_of_demands": "sum of demands",
    "time_per_item": "time per item",
    "service_demand": "demand",
    "max_rps_at_target": "rate at target",
    "sleep_idle": "idle",
    "psi_cpu": "CPU pressure (PSI)",
    "psi_memory": "memory pressure (PSI)",
    "psi_io": "I/O pressure (PSI)",
    "iowait": "I/O wait",
    "cpu_steal": "CPU steal",
    "cpu_cores": "as given",
}
"""A model key's words; a key not here is humanised: ``sum_of_demands_ms`` -> sum of demands."""

_UNITS = (("_ms", "ms"), ("_rps", "rps"), ("_pct", "pct"), ("_s", "s"), ("_us", "us"))

# keys the advisors' prose may still name (a resource's key): shown as their words
_PROSE_KEYS = re.compile(r"(?<![/\w.-])(disk_io|io_disk|io_network|sleep_idle|cpu)(?![/\w-])")

# a number and its unit stay on one line: "70 %" never wraps between them
_UNIT_GAP = re.compile(
    r"(?<=\d) (?=(?:%|×|ms|µs|ns|s|min|h|rps|msg/s|items?|rows)(?![\w/]))|(?<=disk) (?=I/O)"
    r"|(?<=network) (?=I/O)"
)
_GLUE = "\u00a0"  # textwrap breaks only at ASCII whitespace
_WORDS = re.compile(r"[ \t\n]+")  # where textwrap may break a line


def label(key: str) -> str:
    """The words for a model key: ``disk_io`` -> disk I/O, ``sum_of_demands_ms`` -> sum of
    demands (the unit goes with the value, see ``valued``)."""
    if key in LABELS:
        return LABELS[key]
    for suffix, _ in _UNITS:
        if key.endswith(suffix) and len(key) > len(suffix):
            key = key[: -len(suffix)]
            break
    return LABELS.get(key, key.replace("_", " ").replace("-", " "))


def valued(key: str, value: Any) -> str:
    """A key and its value in words, the unit from the key: ``sum of demands 0.125 ms``."""
    unit = next((u for suffix, u in _UNITS if key.endswith(suffix)), None)
    if isinstance(value, bool) or not isinstance(value, int | float):
        shown = num(value)
    elif unit == "ms":
        shown = ms(value)
    elif unit == "s":
        shown = fmt_duration(value)
    elif unit == "us":
        shown = fmt_duration(value / 1e6)
    elif unit == "pct":
        shown = pct(value)
    elif unit == "rps":
        shown = f"{fmt_count(value)} rps"
    elif "utilization" in key or key.endswith("saturation_target") or key in ("busy", "share"):
        shown = fmt_pct(value)
    else:
        shown = num(value)
    return f"{label(key)} {shown}"


def humanize(mapping: Mapping[str, Any]) -> str:
    """A mapping in words, one ``label value`` after another."""
    return ", ".join(valued(k, v) for k, v in mapping.items() if v is not None)


def prose(text: str) -> str:
    """An advisor's sentence with the resource keys it names shown as words."""
    return _PROSE_KEYS.sub(lambda m: label(m.group(1)), text)


def glued(text: str) -> str:
    """``text`` with each number joined to its unit, for wrapping (``unglued`` undoes it)."""
    return _UNIT_GAP.sub(_GLUE, text)


def unglued(text: str) -> str:
    return text.replace(_GLUE, " ")


def safe(text: Any) -> str:
    """Outside text (a name, a path, a message) as the terminal may show it."""
    return terminal_safe(str(text), limit=None)


# --- lines -----------------------------------------------------------------------------------


def heading(out: Console, title: str) -> None:
    """A section: a blank line, then its title on a rule across the width."""
    from rich.text import Text

    out.print()
    title = safe(prose(title))
    if len(title) > width() - 4:  # a title longer than the width wraps under its rule
        out.print(Text("─" * width(), style="dim"))
        line(out, title, style="bold")
        return
    rule = Text()
    rule.append("── ", style="dim")
    rule.append(title, style="bold")
    rule.append(" " + "─" * (width() - len(title) - 4), style="dim")
    out.print(rule)


def line(out: Console, text: str, style: str | None = None, hang: int | None = None) -> None:
    """One logical line, wrapped at the width with continuation lines under its text (a list
    mark ``- ``, ``1. `` or ``[x] `` hangs them under the item's words); ``style`` colours it."""
    from rich.text import Text

    text = safe(prose(text))
    body = text.lstrip(" ")
    indent = " " * (len(text) - len(body))
    if hang is None:
        mark = re.match(r"(- |\d+\. |\[[^\]]*\] |! )", body)
        hang = len(mark.group(1)) if mark else 0
    wrapped = textwrap.fill(
        glued(body),
        width=width(),
        initial_indent=indent,
        subsequent_indent=indent + " " * hang,
        break_long_words=True,  # only a word longer than the width (a path, a stack) breaks
        break_on_hyphens=False,
    )
    out.print(Text(unglued(wrapped), style=style or ""), overflow="ignore", crop=False)


def ms(value: float | None) -> str:
    return fmt_duration(None if value is None else value / 1e3)


def pct(value: float | None) -> str:
    return fmt_pct(None if value is None else value / 100)


def num(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        # no scientific notation: large values by the one unit formatter (10K), small ones plain
        if abs(value) >= 1e3:  # as every rate and count is shown: 8.75K, 15.6K
            return fmt_count(value)
        text = f"{value:.4g}"
        if "e" not in text or value == 0:
            return text
        if abs(value) < 1e-9:  # a coefficient fitted to nothing (σ = 4.9e-324): zero to the eye
            return "≈ 0"
        decimals = 3 - math.floor(math.log10(abs(value)))  # 4 significant digits, written out
        return f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    if isinstance(value, Mapping):
        return humanize(value)
    if isinstance(value, list | tuple):
        shown = ", ".join(num(v) for v in value[:MAX_VALUES])
        more = len(value) - MAX_VALUES
        return f"{shown}, … {more:,} more" if more > 0 else shown
    return str(value)


# Values of one list shown inline (an evidence input of 100,000 batch sizes): the first ones,
# then how many more; the JSON report holds them all.
MAX_VALUES = 20


def gain(fraction: float) -> str:
    """A gain over today: ``+122 %``, or from 10× on as a factor (``144× today``)."""
    if fraction >= 9:
        return f"{fmt_factor(1 + fraction)} today"
    return f"{'+' if fraction >= 0 else ''}{fmt_pct(fraction)}"


def over(value: float | None, target: float | None) -> str | None:
    """The style of a utilization against its saturation target: red above it."""
    if value is None or target is None:
        return None
    return BAD if value > target else None


def tree(out: Console, value: Any, indent: str, unit: str = "") -> None:
    """Any JSON value as an indented outline of words (``unit``: the suffix of the key above,
    ``_pct`` for ``utilization_pct``, so its children show their unit)."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            if k == "evidence_ids" or v in (None, [], {}):  # ids: the evidence is numbered
                continue
            if isinstance(v, list) and not any(isinstance(x, Mapping | list) for x in v):
                line(out, f"{indent}{label(k)}: {num(v)}", hang=2)
            elif isinstance(v, Mapping | list):
                line(out, f"{indent}{label(k)}:")
                suffix = next((s for s, _ in _UNITS if k.endswith(s)), "")
                tree(out, v, indent + "  ", suffix)
            else:
                line(out, f"{indent}{valued(k + unit, v).replace(label(k + unit), label(k), 1)}")
    elif isinstance(value, list):
        for v in value:
            if isinstance(v, Mapping) and not any(
                isinstance(x, Mapping | list) for x in v.values()
            ):
                line(out, f"{indent}- {humanize(v)}")
            elif isinstance(v, Mapping):
                tree(out, v, indent, unit)
            else:
                line(out, f"{indent}- {num(v)}")
    else:
        line(out, f"{indent}{num(value)}")


# --- tables ----------------------------------------------------------------------------------

Cell = str | tuple[str, str | None]
"""A cell: its text, or its text and a style (``GOOD``, ``BAD``...)."""


@dataclass(frozen=True)
class Col:
    """A table column. ``keep``: the higher, the longer it stays when the table must lose a
    column to fit (0: dropped first; ``KEEP`` never). ``wrap``: words that may wrap (a name,
    a change); other cells (numbers, units) never split."""

    header: str
    justify: Literal["left", "right"] = "right"
    keep: int = 100
    wrap: bool = False
    min_width: int = 10


KEEP = 100


def _text(cell: Cell) -> tuple[str, str | None]:
    if isinstance(cell, tuple):
        return safe(prose(str(cell[0]))), cell[1]
    return safe(prose(str(cell))), None


def _needs(col: Col, cells: Sequence[str]) -> tuple[int, int]:
    """(the least, the most) width a column asks for: a wrapping column its longest word (at
    least ``min_width``), any other its longest cell."""
    longest = max([len(col.header), *(len(c) for c in cells)])
    if not col.wrap:
        return longest, longest
    word = max([len(col.header), *(len(w) for c in cells for w in _WORDS.split(glued(c)))])
    return min(longest, max(word, col.min_width)), longest


def _fill(text: str, size: int | None) -> str:
    """A wrapping cell's text broken into lines of ``size`` at words (numbers kept with their
    units); the table itself never breaks a cell."""
    if size is None:
        return text
    return unglued(
        textwrap.fill(glued(text), width=size, break_long_words=True, break_on_hyphens=False)
    )


def _sizes(needs: Sequence[tuple[int, int]], room: int) -> list[int]:
    """Each column's width: its most when all fit, else every column its least and the room
    left shared among the columns that wrap, in proportion to what more they would take."""
    if sum(most for _, most in needs) <= room:
        return [most for _, most in needs]
    sizes = [least for least, _ in needs]
    spare = room - sum(sizes)
    want = [most - least for least, most in needs]
    total = sum(want)
    if spare > 0 and total > 0:
        sizes = [s + (w * spare) // total for s, w in zip(sizes, want, strict=True)]
        left = room - sum(sizes)
        for i in sorted(range(len(sizes)), key=lambda i: -want[i]):  # the rounding's remainder
            if left <= 0:
                break
            if sizes[i] < needs[i][1]:
                sizes[i] += 1
                left -= 1
    return sizes


def grid(
    out: Console,
    cols: Sequence[Col],
    rows: Sequence[Sequence[Cell]],
    dropped_note: bool = True,
    what: str = "rows",
) -> list[str]:
    """Print a light table fitted to the width: numbers never split, text columns wrap at
    words, and when even that cannot fit, the least important columns are left out (their
    headers are returned and, with ``dropped_note``, named under the table). Past ``MAX_ROWS``
    rows the first are shown and a line says how many more ``what`` the JSON report holds."""
    from rich import box
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    cells = [[_text(c) for c in row] for row in rows[:MAX_ROWS]]
    room = width() - INDENT
    shown = list(range(len(cols)))
    while True:
        needs = [_needs(cols[i], [r[i][0] for r in cells]) for i in shown]
        total = sum(least for least, _ in needs) + 2 * (len(shown) - 1)
        droppable = [i for i in shown if cols[i].keep < KEEP]
        if total <= room or not droppable:
            break
        shown.remove(min(droppable, key=lambda i: (cols[i].keep, -i)))
    sizes = _sizes([needs[shown.index(i)] for i in shown], room - 2 * (len(shown) - 1))
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1, 0, 0),  # with the box's blank divider: two spaces between columns
        header_style="bold",
        border_style="dim",
    )
    for i, size in zip(shown, sizes, strict=True):
        c = cols[i]
        table.add_column(c.header, justify=c.justify, no_wrap=True, overflow="fold", width=size)
    wraps = {i: size for i, size in zip(shown, sizes, strict=True) if cols[i].wrap}
    for r in cells:
        table.add_row(*(Text(_fill(r[i][0], wraps.get(i)), style=r[i][1] or "") for i in shown))
    out.print(Padding(table, (0, 0, 0, INDENT)))
    more_line(out, len(cells), len(rows), what)
    left_out = [cols[i].header for i in range(len(cols)) if i not in shown]
    if left_out and dropped_note:
        line(
            out,
            f"  ({', '.join(left_out)}: left out to fit {width()} columns; a wider view shows it)",
            style=DIM,
        )
    return left_out


def findings(out: Console, found: Sequence[Finding], notes: Sequence[str] = ()) -> None:
    """The "Findings" section every command with a ledger shows: each contradiction in the
    inputs with both values and the one used, then the notes."""
    if not found and not notes:
        return
    heading(out, "Findings")
    for f in found:
        values = humanize(f.values)
        used = f"; used {f.used}" if f.used else ""
        line(out, f"  - {f.what}" + (f" ({values})" if values else "") + used)
    bullets(out, notes, "notes")


def bullets(out: Console, items: Sequence[str], what: str) -> None:
    """One ``- item`` line each, the first ``MAX_ROWS``, then how many more the JSON holds."""
    for item in items[:MAX_ROWS]:
        line(out, f"  - {item}")
    more_line(out, min(len(items), MAX_ROWS), len(items), what)


# A terminal reader does not read a thousand rows: lists longer than this show their first rows
# and say how many more the JSON report holds (and rendering stays bounded for huge reports).
MAX_ROWS = 60


def more_line(out: Console, shown: int, total: int, what: str) -> None:
    """The line under a list cut at ``shown`` of ``total``."""
    if total > shown:
        line(out, f"  … {total - shown} more {what} in the JSON report", style=DIM)
