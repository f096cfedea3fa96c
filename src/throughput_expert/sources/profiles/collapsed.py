"""Collapsed (folded) stacks, Brendan Gregg's format (docs/formats.md §2.1, §2.3, §2.6).

One line per stack, ``root;...;leaf COUNT``. Producers add their own marks, read here:

- py-spy: frames ``function (file:line)``; with ``--threads`` a root frame ``thread (TID): NAME``
  or ``thread (TID)``, keyed on the TID;
- async-profiler: a root frame ``[name tid=1234]`` with ``-t``; suffixes ``_[k]`` (kernel),
  ``_[j]``/``_[1]`` (compiled), ``_[0]`` (interpreted), ``_[i]`` (inlined); Java class names
  written with ``/`` become dotted;
- ``stackcollapse-perf.pl``: the first frame is ``comm`` or ``comm-pid/tid``, kept as a frame.

Some tools write one line per sample, so a file can hold millions of repeats of a few thousand
stacks. A file is read as a stream of chunks (``read_collapsed_file``; ``load_profile`` does so
for any file larger than its head): identical lines are counted as they come and folded into
per-stack totals, so memory follows the distinct stacks, not the lines, and no size cap
applies. A count is a finite number from 0 to 2^63, its length checked before conversion.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from os import PathLike

from throughput_expert.errors import InputError
from throughput_expert.model.profile import Frame, FrameKind, Measures, Profile
from throughput_expert.model.records import InputRef
from throughput_expert.sources.files import read_chunks
from throughput_expert.sources.profiles import StackTable, kind_from_file, pyspy_mode

__all__ = ["looks_collapsed", "parse_frame", "read_collapsed", "read_collapsed_file"]

PYSPY_FRAME = re.compile(r"(.*) \(([^()]*?)(?::(\d+))?\)")
PYSPY_THREAD = re.compile(r"thread \((\d+)\)(?:: (.*))?")
ASYNC_THREAD = re.compile(r"\[(.*) tid=(\d+)\]")
SUFFIX_KINDS: Mapping[str, FrameKind] = {
    "_[k]": "kernel",
    "_[j]": "jit",
    "_[1]": "jit",
    "_[0]": "java",
    "_[i]": "unknown",
}
JAVA_SLASHED = re.compile(r"(?:[a-z_$][\w$]*/)+[A-Z$][\w$]*\.[\w$<>]+")
JAVA_DOTTED = re.compile(r"(?:[a-z_$][\w$]*\.)+[A-Z$][\w$]*\.[\w$<>]+")
PROBE_LINES = 5
UTF8_BOM = b"\xef\xbb\xbf"
# Distinct lines counted before they are parsed and merged by stack (bounds memory between
# folds), and the most distinct stacks (and characters of them) one profile may hold (bounds
# memory in all).
FOLD_LINES = 1 << 16
MAX_STACKS = 1_000_000
MAX_STACK_TEXT = 256 << 20
# A count is a sample count or a weight: finite, 0 <= count < 2^63 (what an int64 holds).
MAX_COUNT = 2.0**63
COUNT_TEXT = "2^63"
MAX_COUNT_CHARS = 40


def looks_collapsed(head: str) -> bool:
    """True when the first non-blank lines of ``head`` (a file's start) read as ``stack COUNT``."""
    seen = 0
    for line in head.split("\n", PROBE_LINES * 4)[: PROBE_LINES * 4]:
        if not line.strip():
            continue
        stack, sep, count = line.rstrip().rpartition(" ")
        if not sep or _count(count) is None or not _stack_start(stack.lstrip()):
            return False
        seen += 1
        if seen >= PROBE_LINES:
            break
    return seen > 0


def _stack_start(stack: str) -> bool:
    """A stack does not start as JSON does, unless with async-profiler's thread frame
    (``[main tid=42];...``, its ``-t`` option)."""
    if stack[:1] == "{":
        return False
    return stack[:1] != "[" or ASYNC_THREAD.fullmatch(stack.split(";", 1)[0]) is not None


def read_collapsed(data: bytes | str, source: str) -> Profile:
    """A ``Profile`` from folded-stack text (bytes or str); identical stacks are summed."""
    raw = data.encode() if isinstance(data, str) else data
    return _read((raw,), source, lambda line: _line_number(_lines((raw,)), line))


def read_collapsed_file(path: str | PathLike[str], source: str) -> Profile:
    """A ``Profile`` from a folded-stack file read as a stream: memory grows with the distinct
    lines and stacks, not with the file's size."""
    return _read(
        read_chunks(path), source, lambda line: _line_number(_lines(read_chunks(path)), line)
    )


def _read(chunks: Iterable[bytes], source: str, locate: Callable[[bytes], int]) -> Profile:
    table = StackTable()
    frame_ids: dict[str, int] = {}
    pyspy = False
    for line, n in _stack_counts(chunks, source, locate).items():
        frames = line.split(";") if line else []
        thread = _thread(frames, table)
        pyspy = pyspy or thread.startswith("py-spy:")
        key = thread.partition(":")[2] or None
        stack = tuple([_frame_id(f, frame_ids, table) for f in frames])
        table.add(stack, n, key)
    return _profile(table, source, pyspy or _has_python(table))


def _lines(chunks: Iterable[bytes]) -> Iterator[list[bytes]]:
    """The lines of a byte stream (a UTF-8 BOM dropped), a list per chunk."""
    rest = b""
    first = True
    for chunk in chunks:
        if first:
            chunk, first = chunk.removeprefix(UTF8_BOM), False
        lines = (rest + chunk if rest else chunk).split(b"\n")
        rest = lines.pop()
        yield lines
    yield [rest]


def _stack_counts(
    chunks: Iterable[bytes], source: str, locate: Callable[[bytes], int]
) -> dict[str, float]:
    """Each distinct stack with its summed count.

    Identical lines are counted first, in C, on bytes; only distinct lines are decoded and
    parsed, which keeps a million-line file near the cost of splitting it. The counted lines
    are folded into the stacks' totals whenever ``FOLD_LINES`` distinct ones are held, so
    memory holds the distinct stacks and one chunk, whatever the file's length; the distinct
    stacks themselves are capped (``MAX_STACKS``, ``MAX_STACK_TEXT``).
    """
    totals = _Totals()
    pending: Counter[bytes] = Counter()
    for lines in _lines(chunks):
        pending.update(lines)
        if len(pending) >= FOLD_LINES:
            _fold(pending, totals, source, locate)
    _fold(pending, totals, source, locate)
    return totals


class _Totals(dict[str, float]):
    """Summed counts by stack text, and the characters of the distinct stacks."""

    text = 0


def _fold(
    pending: Counter[bytes],
    totals: _Totals,
    source: str,
    locate: Callable[[bytes], int],
) -> None:
    for raw, times in pending.items():
        line = _decode(raw, source, locate)
        stack, sep, number = line.rstrip().rpartition(" ")
        count = _count(number) if sep else None
        if count is None:
            if not line.strip():
                continue
            raise InputError(
                f"expected 'frame;frame;... COUNT' with a non-negative count below {COUNT_TEXT}",
                source=source,
                field=f"line {locate(raw)}",
            )
        known = totals.get(stack)
        if known is None:
            totals.text += len(stack)
        totals[stack] = (known or 0.0) + count * times
    pending.clear()
    if len(totals) > MAX_STACKS or totals.text > MAX_STACK_TEXT:
        raise InputError(
            f"more than {MAX_STACKS:,} distinct stacks or {MAX_STACK_TEXT >> 20} MiB of their "
            "text: record a shorter or coarser profile",
            source=source,
        )


def _decode(raw: bytes, source: str, locate: Callable[[bytes], int]) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", source=source, field=f"line {locate(raw)}") from None


def _count(raw: str) -> float | None:
    """A line's count: a finite number from 0 to 2^63 (a sample count fits an int64), or None.
    The length is checked before conversion: a thousand-digit count is refused unread."""
    if len(raw) > MAX_COUNT_CHARS:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if 0 <= value < MAX_COUNT else None


def _line_number(lines: Iterable[list[bytes]], line: bytes) -> int:
    """The 1-based number of the first line equal to ``line`` (a second pass, on errors only)."""
    seen = 0
    for part in lines:
        if line in part:
            return seen + part.index(line) + 1
        seen += len(part)
    return seen


def _thread(frames: list[str], table: StackTable) -> str:
    """Pop a thread root frame off ``frames``: ``py-spy:TID``, ``async:TID`` or ``""``."""
    if not frames:
        return ""
    match = PYSPY_THREAD.fullmatch(frames[0])
    if match:
        table.name_thread(match.group(1), match.group(2) or "")
        del frames[0]
        return f"py-spy:{match.group(1)}"
    match = ASYNC_THREAD.fullmatch(frames[0])
    if match:
        table.name_thread(match.group(2), match.group(1))
        del frames[0]
        return f"async:{match.group(2)}"
    return ""


def _frame_id(text: str, frame_ids: dict[str, int], table: StackTable) -> int:
    index = frame_ids.get(text)
    if index is None:
        index = frame_ids[text] = table.frame(parse_frame(text))
    return index


def parse_frame(text: str) -> Frame:
    """One folded frame: py-spy's ``function (file:line)``, or a name with a producer suffix."""
    match = PYSPY_FRAME.fullmatch(text)
    if match and ("." in match.group(2) or match.group(2).startswith("<")):
        name, file, line = match.groups()
        # a line number past 18 digits is no line of any file: kept out (int() of 5,000 digits
        # would raise)
        number = int(line) if line and len(line) <= 18 else None
        return Frame(name, file, number, kind_from_file(file))
    kind: FrameKind = "unknown"
    if text[-4:] in SUFFIX_KINDS:
        kind, text = SUFFIX_KINDS[text[-4:]], text[:-4]
    if JAVA_SLASHED.fullmatch(text):
        return Frame(text.replace("/", "."), kind=kind if kind != "unknown" else "java")
    if kind == "unknown" and JAVA_DOTTED.fullmatch(text):
        kind = "java"
    return Frame(text, kind=kind)


def _has_python(table: StackTable) -> bool:
    return any(f.kind == "python" for f in table.frames)


def _profile(table: StackTable, source: str, pyspy: bool) -> Profile:
    frames, stacks, weights, threads = table.columns()
    measures: Measures = "unknown"
    idle = False
    note = "collapsed stacks do not say what their counts measure: read as samples"
    if pyspy:
        measures, idle, note = pyspy_mode(table.thread_totals())
    return Profile(
        frames=frames,
        stacks=stacks,
        weights=weights,
        threads=threads,
        unit="samples",
        measures=measures,
        format="collapsed",
        source=InputRef(source=source, kind="profile", detail="collapsed stacks"),
        thread_names=dict(table.thread_names),
        idle_included=idle,
        exporter="py-spy" if pyspy else None,
        notes=(note,),
    )
