"""Collapsed (folded) stacks, Brendan Gregg's format (docs/formats.md §2.1, §2.3, §2.6).

One line per stack, ``root;...;leaf COUNT``. Producers add their own marks, read here:

- py-spy: frames ``function (file:line)``; with ``--threads`` a root frame ``thread (TID): NAME``
  or ``thread (TID)``, keyed on the TID;
- async-profiler: a root frame ``[name tid=1234]`` with ``-t``; suffixes ``_[k]`` (kernel),
  ``_[j]``/``_[1]`` (compiled), ``_[0]`` (interpreted), ``_[i]`` (inlined); Java class names
  written with ``/`` become dotted;
- ``stackcollapse-perf.pl``: the first frame is ``comm`` or ``comm-pid/tid``, kept as a frame.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping

from throughput_expert.errors import InputError
from throughput_expert.model.profile import Frame, FrameKind, Measures, Profile
from throughput_expert.model.records import InputRef
from throughput_expert.sources.profiles import StackTable, kind_from_file, pyspy_mode

__all__ = ["looks_collapsed", "parse_frame", "read_collapsed"]

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


def looks_collapsed(head: str) -> bool:
    """True when the first non-blank lines of ``head`` (a file's start) read as ``stack COUNT``."""
    seen = 0
    for line in head.split("\n", PROBE_LINES * 4)[: PROBE_LINES * 4]:
        if not line.strip():
            continue
        stack, sep, count = line.rstrip().rpartition(" ")
        if not sep or _count(count) is None or stack.lstrip()[:1] in ("{", "["):
            return False
        seen += 1
        if seen >= PROBE_LINES:
            break
    return seen > 0


def read_collapsed(data: bytes | str, source: str) -> Profile:
    """A ``Profile`` from folded-stack text (bytes or str); identical stacks are summed."""
    table = StackTable()
    frame_ids: dict[str, int] = {}
    pyspy = False
    raw = data.encode() if isinstance(data, str) else data.removeprefix(UTF8_BOM)
    for line, n in _line_counts(raw, source).items():
        frames = line.split(";") if line else []
        thread = _thread(frames, table)
        pyspy = pyspy or thread.startswith("py-spy:")
        key = thread.partition(":")[2] or None
        stack = tuple([_frame_id(f, frame_ids, table) for f in frames])
        table.add(stack, n, key)
    return _profile(table, source, pyspy or _has_python(table))


def _line_counts(data: bytes, source: str) -> dict[str, float]:
    """Each distinct stack with its summed count.

    Identical lines are counted first, in C, on bytes; only distinct lines are decoded and
    parsed, which keeps a million-line file near the cost of splitting it.
    """
    totals: dict[str, float] = {}
    for raw, times in Counter(data.split(b"\n")).items():
        line = _decode(raw, data, source)
        stack, sep, number = line.rstrip().rpartition(" ")
        count = _count(number) if sep else None
        if count is None:
            if not line.strip():
                continue
            raise InputError(
                "expected 'frame;frame;... COUNT' with a non-negative count",
                source=source,
                field=f"line {_line_number(data, raw)}",
            )
        totals[stack] = totals.get(stack, 0.0) + count * times
    return totals


def _decode(raw: bytes, data: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        where = f"line {_line_number(data, raw)}"
        raise InputError("not UTF-8 text", source=source, field=where) from None


def _count(raw: str) -> float | None:
    try:
        value = float(int(raw))
    except ValueError:
        try:
            value = float(raw)
        except ValueError:
            return None
    return value if math.isfinite(value) and value >= 0 else None


def _line_number(data: bytes, line: bytes) -> int:
    return data.split(b"\n").index(line) + 1


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
        return Frame(name, file, int(line) if line else None, kind_from_file(file))
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
