"""Java thread dumps (jstack / jcmd Thread.print): a real series of 3 dumps, hand-written
dumps with every lock line, and hostile text."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from throughput_expert.errors import InputError
from throughput_expert.sources.profiles import load_profile
from throughput_expert.sources.profiles.jstack import (
    holds_marker,
    looks_like_jstack,
    read_jstack,
    wait_marker,
)

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "corpus" / "jvm"
DUMP = CORPUS / "lock_contention.jstack.txt"

SMALL = """2026-12-01 16:24:18
Full thread dump OpenJDK 64-Bit Server VM (17.0.15+6 mixed mode, sharing):

"worker-1" #16 prio=5 os_prio=0 tid=0x1 nid=0x5db3 waiting for monitor entry  [0x0]
   java.lang.Thread.State: BLOCKED (on object monitor)
\tat app.Store.put(Store.java:18)
\t- waiting to lock <0x00000000AB> (a java.lang.Object)
\tat app.Handler.handle(Handler.java:32)
\tat java.lang.Thread.run(java.base@17.0.15/Thread.java:840)

"worker-2" #17 prio=5 os_prio=0 cpu=1.0ms elapsed=3.00s tid=0x2 nid=0x5db4 runnable  [0x0]
   java.lang.Thread.State: RUNNABLE
\tat app.Store.put(Store.java:22)
\t- locked <0x00000000ab> (a java.lang.Object)
\tat app.Handler.handle(Handler.java:32)
\tat java.lang.Thread.run(java.base@17.0.15/Thread.java:840)

   Locked ownable synchronizers:
\t- <0x00000000cd> (a java.util.concurrent.locks.ReentrantLock$NonfairSync)

"main" #1 prio=5 os_prio=0 cpu=427.04ms elapsed=3.52s tid=0x3 nid=0x5d9c in Object.wait()  [0x0]
   java.lang.Thread.State: WAITING (on object monitor)
\tat java.lang.Object.wait(java.base@17.0.15/Native Method)
\t- waiting on <0x00000000ef> (a java.lang.Thread)
\tat java.lang.Thread.join(java.base@17.0.15/Thread.java:1313)
\t- locked <0x00000000ef> (a java.lang.Thread)
\tat app.Main.main(Main.java:53)

"GC Thread#0" os_prio=0 cpu=3.79ms elapsed=3.52s tid=0x4 nid=0x5d9d runnable

JNI global refs: 7, weak refs: 0
"""


def stacks(text: str) -> dict[str, list[str]]:
    profile = read_jstack(text.encode(), "dump.txt")
    out = {}
    for stack, thread in zip(profile.stacks, profile.threads, strict=True):
        out[profile.thread_names[thread or ""]] = [profile.frames[i].name for i in stack]
    return out


def test_lock_lines_become_marker_frames() -> None:
    by_name = stacks(SMALL)
    assert by_name["worker-1"][-2:] == [
        "app.Store.put",
        wait_marker("waiting to lock", "0x00000000AB", "java.lang.Object"),
    ]
    assert by_name["worker-1"][-1] == "(waiting to lock <0x00000000ab> (a java.lang.Object))"
    # the holder: the monitor and the ownable synchronizer, at the root
    assert by_name["worker-2"][:2] == [
        holds_marker("0x00000000ab", "java.lang.Object"),
        holds_marker("0x00000000cd", "java.util.concurrent.locks.ReentrantLock$NonfairSync"),
    ]
    assert by_name["worker-2"][-1] == "app.Store.put"
    # Object.wait releases the monitor it waits on: main does not hold the Thread object
    assert not any(f.startswith("(holds") for f in by_name["main"])
    assert by_name["main"][-1] == "(waiting on <0x00000000ef> (a java.lang.Thread))"
    assert "GC Thread#0" not in by_name


def test_frames_carry_file_and_line() -> None:
    profile = read_jstack(SMALL.encode(), "dump.txt")
    put = next(f for f in profile.frames if f.name == "app.Store.put" and f.line == 18)
    assert (put.file, put.kind) == ("Store.java", "java")
    native = next(f for f in profile.frames if f.name == "java.lang.Object.wait")
    assert native.file is None and native.line is None


def test_real_series_of_three_dumps() -> None:
    profile = load_profile(DUMP)
    assert (profile.format, profile.measures, profile.unit) == ("jstack", "snapshot", "count")
    assert any("3 dump(s)" in note for note in profile.notes)
    # every Java thread of every dump weighs 1: 16 Java threads x 3 dumps
    assert profile.total() == 48
    assert profile.duration_s is not None and 1.5 <= profile.duration_s <= 5
    blocked = [
        w
        for stack, w in zip(profile.stacks, profile.weights, strict=True)
        if profile.frames[stack[-1]].name.startswith("(waiting to lock")
    ]
    assert sum(blocked) >= 6  # most of the 8 request threads, in each dump


def test_detection_by_content(tmp_path: Path) -> None:
    path = tmp_path / "whatever.log"
    path.write_text(SMALL)
    assert load_profile(path).format == "jstack"
    assert looks_like_jstack(SMALL)
    assert not looks_like_jstack("main;handle;json 12\nmain;idle 3\n")


def test_a_dump_without_java_threads_is_refused() -> None:
    text = 'Full thread dump OpenJDK:\n\n"GC Thread#0" os_prio=0 tid=0x4 nid=0x1 runnable\n'
    with pytest.raises(InputError, match="no Java thread with a stack"):
        read_jstack(text.encode(), "dump.txt")


def test_not_utf8() -> None:
    with pytest.raises(InputError, match="not UTF-8"):
        read_jstack(b"\xff\xfe\x00bad", "dump.txt")


LINES = st.sampled_from(
    [
        '"t" #1 prio=5 tid=0x1 nid=0x2 runnable',
        '"we\\"ird" #x tid= nid=',
        "   java.lang.Thread.State: BLOCKED (on object monitor)",
        "   java.lang.Thread.State: ",
        "\tat a.B.c(B.java:1)",
        "\tat a.B.c(B.java:99999999999999999999)",
        "\tat (",
        "\t- waiting to lock <0x1> (a java.lang.Object)",
        "\t- locked <0xZZ> (a",
        "\t- parking to wait for  <0x2>",
        "   Locked ownable synchronizers:",
        "\t- <0x3> (a x.Y)",
        "\t- None",
        "Full thread dump",
        "2026-13-45 99:99:99",
        "2026-12-01 16:24:18",
        "",
    ]
)


@given(st.lists(st.one_of(LINES, st.text(max_size=40)), max_size=40))
@settings(max_examples=300, deadline=None)
def test_hostile_text_is_read_or_refused_in_one_line(lines: list[str]) -> None:
    text = "\n".join(lines)
    try:
        profile = read_jstack(text.encode("utf-8", "surrogatepass"), "dump.txt")
    except InputError as exc:
        assert "\n" not in exc.one_line()
        return
    assert profile.total() == len(profile.stacks) or profile.total() >= len(profile.stacks)
    assert all(w > 0 for w in profile.weights)
    for stack in profile.stacks:
        assert all(0 <= i < len(profile.frames) for i in stack)
