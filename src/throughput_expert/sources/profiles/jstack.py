"""Java thread dumps: ``jstack [-l] PID`` or ``jcmd PID Thread.print`` text (docs/formats.md §2.8).

A file may hold several dumps taken a few seconds apart (each starts with ``Full thread dump``);
every Java thread of every dump is one observation of weight 1, so a thread seen BLOCKED in 3
dumps of 3 weighs 3. The profile ``measures`` ``snapshot``: what threads were doing at those
instants, not time.

What a dump says beyond the frames is kept as marker frames, named like jstack's own lines so a
reader recognises them:

- a thread waiting on something gets a leaf frame ``(waiting to lock <0x…> (a CLASS))`` (BLOCKED
  on a monitor), ``(parking to wait for <0x…> (a CLASS))`` (parked on a java.util.concurrent
  lock or condition) or ``(waiting on <0x…> (a CLASS))`` (``Object.wait``), below the frame
  the line follows;
- a thread holding monitors (``- locked <0x…>``) or ownable synchronizers (``-l``: a
  ``ReentrantLock``) gets a root frame ``(holds <0x…> (a CLASS))`` per lock;
- a BLOCKED thread without a lock line gets a leaf frame ``(BLOCKED)``.

Threads without a Java stack (GC, compiler and VM threads) are left out; the notes count them.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import datetime

from throughput_expert.errors import InputError
from throughput_expert.model.profile import Frame, Profile
from throughput_expert.model.records import InputRef
from throughput_expert.sources.profiles import StackTable

__all__ = ["MAX_LINE", "holds_marker", "looks_like_jstack", "read_jstack", "wait_marker"]

MAX_LINE = 1 << 16
DUMP_START = "Full thread dump"
THREAD = re.compile(r'^"(?P<name>.*)"(?P<rest>(?:\s.*)?)$')
THREAD_ID = re.compile(r"(?:^|\s)#(\d+)(?:\s|$)")
STATE = re.compile(r"^\s*java\.lang\.Thread\.State:\s*(?P<state>[A-Z_]+)")
FRAME = re.compile(r"^\s+at (?P<name>[^\s(]+)\((?P<where>[^()]*)\)\s*$")
LOCK = re.compile(
    r"^\s+- (?P<what>waiting to lock|parking to wait for|waiting on|locked|eliminated)"
    r"\s+<(?P<addr>0x[0-9a-fA-F]+)>(?:\s+\(a (?P<cls>[^()]+)\))?\s*$"
)
OWNED_HEADER = re.compile(r"^\s+Locked ownable synchronizers:")
OWNED = re.compile(r"^\s+- <(?P<addr>0x[0-9a-fA-F]+)>(?:\s+\(a (?P<cls>[^()]+)\))?\s*$")
STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s*$")
WAITS = ("waiting to lock", "parking to wait for", "waiting on")
NOTE = (
    "Java thread dump(s): each thread seen in a dump weighs 1 (a snapshot of states, not "
    "time); locks are kept as marker frames: (waiting to lock …), (parking to wait for …), "
    "(waiting on …) at the leaf, (holds …) at the root"
)


def wait_marker(what: str, addr: str, cls: str | None) -> str:
    """The leaf frame of a thread waiting: ``(waiting to lock <0x…> (a java.lang.Object))``."""
    return f"({what} <{addr.lower()}>" + (f" (a {cls})" if cls else "") + ")"


def holds_marker(addr: str, cls: str | None) -> str:
    """The root frame of a thread holding a lock: ``(holds <0x…> (a java.lang.Object))``."""
    return f"(holds <{addr.lower()}>" + (f" (a {cls})" if cls else "") + ")"


def looks_like_jstack(head: str) -> bool:
    """True for text with a thread header followed by a ``java.lang.Thread.State`` line."""
    if DUMP_START in head[:4096] and "java.lang.Thread.State:" in head:
        return True
    lines = head.splitlines()[:400]
    for i, line in enumerate(lines[:-1]):
        if THREAD.match(line) and "tid=" in line and STATE.match(lines[i + 1]):
            return True
    return False


@dataclass
class _Thread:
    key: str
    name: str
    state: str | None = None
    frames: list[Frame] = field(default_factory=list)  # leaf first, as printed
    waits: list[str] = field(default_factory=list)  # markers under the top frame
    holds: list[str] = field(default_factory=list)
    in_owned: bool = False


@dataclass
class _Dumps:
    table: StackTable = field(default_factory=StackTable)
    dumps: int = 0
    threads_seen: int = 0
    without_stack: int = 0
    stamps: list[datetime] = field(default_factory=list)


def read_jstack(data: bytes, source: str) -> Profile:
    """A ``Profile`` (measures ``snapshot``, unit ``count``) from thread-dump text."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", source=source) from None
    out = _Dumps()
    current: _Thread | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if len(line) > MAX_LINE:
            raise InputError(
                f"a line is longer than {MAX_LINE} characters",
                source=source,
                field=f"line {number}",
            )
        current = _line(line, current, out)
    _finish(current, out)
    if out.threads_seen == 0:
        raise InputError(
            "no Java thread with a stack in this thread dump (expected jstack or jcmd "
            "Thread.print output)",
            source=source,
        )
    return _profile(out, source)


def _line(line: str, current: _Thread | None, out: _Dumps) -> _Thread | None:
    stamp = STAMP.match(line)
    if stamp:
        _finish(current, out)
        with contextlib.suppress(ValueError):  # not a real date: not a timestamp line
            out.stamps.append(datetime.strptime(stamp.group(1), "%Y-%m-%d %H:%M:%S"))
        return None
    if line.startswith(DUMP_START):
        _finish(current, out)
        out.dumps += 1
        return None
    header = THREAD.match(line)
    if header and not line.startswith((" ", "\t")):
        _finish(current, out)
        rest = header.group("rest")
        tid = THREAD_ID.search(rest)
        name = header.group("name")
        return _Thread(key=f"#{tid.group(1)}" if tid else name, name=name)
    if current is None:
        return None
    _thread_line(line, current)
    return current


def _thread_line(line: str, current: _Thread) -> None:
    state = STATE.match(line)
    if state:
        current.state = state.group("state")
        return
    frame = FRAME.match(line)
    if frame:
        current.in_owned = False
        current.frames.append(_frame(frame.group("name"), frame.group("where")))
        return
    if OWNED_HEADER.match(line):
        current.in_owned = True
        return
    lock = LOCK.match(line)
    if lock and not current.in_owned:
        what, addr, cls = lock.group("what"), lock.group("addr"), lock.group("cls")
        if what in WAITS and len(current.frames) == 1:
            current.waits.append(wait_marker(what, addr, cls))
        elif what == "locked":
            current.holds.append(holds_marker(addr, cls))
        return
    owned = OWNED.match(line)
    if owned and current.in_owned:
        current.holds.append(holds_marker(owned.group("addr"), owned.group("cls")))


def _frame(name: str, where: str) -> Frame:
    """``java.lang.Thread.join(java.base@17/Thread.java:1313)`` -> name, file and line."""
    location = where.rpartition("/")[2]
    file, _, line = location.partition(":")
    if file in ("Native Method", "Unknown Source", ""):
        return Frame(name, None, None, "java")
    number = int(line) if line.isdigit() and len(line) < 10 else None
    return Frame(name, file, number, "java")


def _finish(thread: _Thread | None, out: _Dumps) -> None:
    if thread is None:
        return
    if not thread.frames:
        out.without_stack += 1
        return
    out.threads_seen += 1
    table = out.table
    # Object.wait releases the monitor it waits on, though a deeper frame prints it "locked".
    waiting_on = {_addr(w) for w in thread.waits}
    held = [h for h in dict.fromkeys(thread.holds) if _addr(h) not in waiting_on]
    stack = [table.frame(Frame(h, None, None, "java")) for h in held]
    stack += [table.frame(f) for f in reversed(thread.frames)]
    waits = thread.waits or (["(BLOCKED)"] if thread.state == "BLOCKED" else [])
    stack += [table.frame(Frame(w, None, None, "java")) for w in waits[:1]]
    table.add(tuple(stack), 1.0, thread.key)
    table.name_thread(thread.key, thread.name)


def _profile(out: _Dumps, source: str) -> Profile:
    frames, stacks, weights, threads = out.table.columns()
    dumps = max(out.dumps, 1)
    notes = [NOTE, f"{dumps} dump(s), {out.threads_seen} Java thread observations"]
    if out.without_stack:
        notes.append(f"{out.without_stack} thread observations without a Java stack left out")
    duration = None
    if len(out.stamps) >= 2:
        duration = (max(out.stamps) - min(out.stamps)).total_seconds()
        notes.append(f"dumps taken over {duration:g} s (from their timestamps)")
    return Profile(
        frames=frames,
        stacks=stacks,
        weights=weights,
        threads=threads,
        unit="count",
        measures="snapshot",
        format="jstack",
        source=InputRef(source=source, kind="profile", detail=f"Java thread dump x{dumps}"),
        thread_names=dict(out.table.thread_names),
        idle_included=True,
        exporter="jstack",
        sample_period_s=duration / (dumps - 1) if duration and dumps > 1 else None,
        duration_s=duration,
        notes=tuple(notes),
    )


def _addr(marker: str) -> str:
    return marker.partition("<")[2].partition(">")[0]
