"""Collapsed-stack reader: hand-written lines, live py-spy raw recordings, hostile text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.sources.profiles.conftest import FIXTURES, record_pyspy

from throughput_expert.errors import InputError
from throughput_expert.model.profile import Frame, Profile
from throughput_expert.sources.profiles import load_profile
from throughput_expert.sources.profiles.collapsed import parse_frame, read_collapsed


def self_share(profile: Profile, name: str) -> float:
    hit = sum(
        w
        for s, w in zip(profile.stacks, profile.weights, strict=True)
        if s and profile.frames[s[-1]].name == name
    )
    return hit / profile.total()


def test_tiny_perf_file_sums_duplicates_and_reads_kernel_suffixes() -> None:
    p = load_profile(FIXTURES / "tiny.collapsed.txt")
    assert p.format == "collapsed" and p.unit == "samples" and p.measures == "unknown"
    assert p.total() == 60
    assert len(p.stacks) == 2  # the two json_encode lines are one stack of 43
    weights = {p.frames[s[-1]].name: w for s, w in zip(p.stacks, p.weights, strict=True)}
    assert weights == {"json_encode": 43, "futex_wait_queue": 17}
    assert p.frames[p.stacks[1][-1]].kind == "kernel"
    assert p.frames[p.stacks[0][0]] == Frame("myapp")  # perf's comm stays a frame
    assert p.threads == (None, None)


def test_pyspy_threads_and_empty_stack() -> None:
    text = (
        "thread (7): MainThread;<module> (app.py:3);dumps (json/__init__.py:231) 5\n"
        "thread (7);<module> (app.py:3);dumps (json/__init__.py:231) 2\n"
        "thread (9): worker;run (app.py:9) 4\n"
        " 2\n"
    )
    p = read_collapsed(text, "raw.txt")
    totals = dict(zip(zip(p.stacks, p.threads, strict=True), p.weights, strict=True))
    dumps = (p.frames.index(Frame("<module>", "app.py", 3, "python")),)
    dumps += (p.frames.index(Frame("dumps", "json/__init__.py", 231, "python")),)
    assert totals[(dumps, "7")] == 7  # both spellings of thread 7 are one thread
    assert totals[((), None)] == 2
    assert p.thread_names == {"7": "MainThread", "9": "worker"}
    assert p.exporter == "py-spy"


def test_async_profiler_threads_suffixes_and_java_names() -> None:
    text = (
        "[worker-1 tid=1234];java/lang/Thread.run_[j];com/example/Handler.handle_[j];"
        "java/io/DataOutputStream.writeInt_[0] 5\n"
        "[worker-1 tid=1234];java/lang/Thread.run_[j];do_syscall_64_[k] 3\n"
    )
    p = read_collapsed(text, "ap.txt")
    assert p.thread_names == {"1234": "worker-1"}
    assert set(p.threads) == {"1234"}
    assert Frame("java.lang.Thread.run", kind="jit") in p.frames
    assert Frame("java.io.DataOutputStream.writeInt", kind="java") in p.frames
    assert Frame("do_syscall_64", kind="kernel") in p.frames


@pytest.mark.parametrize(
    ("text", "frame"),
    [
        (
            "JSONEncoder.iterencode (json/encoder.py:258)",
            Frame("JSONEncoder.iterencode", "json/encoder.py", 258, "python"),
        ),
        (
            "<module> (<frozen importlib._bootstrap>:1176)",
            Frame("<module>", "<frozen importlib._bootstrap>", 1176, "python"),
        ),
        ("iterencode (json/encoder.py)", Frame("iterencode", "json/encoder.py", None, "python")),
        ("poll (libc.so.6)", Frame("poll", "libc.so.6", None, "native")),
        ("encoding/json.Marshal", Frame("encoding/json.Marshal")),
        ("sync.(*Mutex).Lock", Frame("sync.(*Mutex).Lock")),
        ("java.util.HashMap.get", Frame("java.util.HashMap.get", kind="java")),
        ("operator new (inlined)", Frame("operator new (inlined)")),
    ],
)
def test_frame_text(text: str, frame: Frame) -> None:
    assert parse_frame(text) == frame


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a;b 3\nc;d x\n", "line 2"),
        ("a;b 3\nc;d -1\n", "non-negative"),
        ("a;b 3\nc;d inf\n", "line 2"),
    ],
)
def test_bad_lines(text: str, words: str) -> None:
    with pytest.raises(InputError) as err:
        read_collapsed(text, "x.txt")
    assert words in err.value.one_line()


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(list("ab ;()[]:_k0123456789.\n\r-e\x00")), max_size=80)
)
def test_hostile_text_raises_only_input_error(
    text: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("t") / "p.txt"
    path.write_text(text)
    try:
        p = load_profile(path)
    except InputError:
        return
    assert all(w >= 0 for w in p.weights)


# --- live py-spy recordings ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    folder = tmp_path_factory.mktemp("pyspy-raw")
    threads = ("--threads",)
    yield {
        "json": record_pyspy(folder / "json.txt", "json_hot.py", "raw"),
        "idle": record_pyspy(folder / "idle.txt", "lock_contention.py", "raw", "--idle", *threads),
        "gil": record_pyspy(folder / "gil.txt", "lock_contention.py", "raw", "--gil", *threads),
    }


def test_raw_json_encoder_dominates(raw: dict[str, Path]) -> None:
    p = load_profile(raw["json"])
    assert p.format == "collapsed" and p.exporter == "py-spy" and p.measures == "cpu"
    encoder = sum(
        w
        for s, w in zip(p.stacks, p.weights, strict=True)
        if any((p.frames[i].file or "").startswith("json/") for i in s)
    )
    assert encoder / p.total() > 0.5
    assert p.total() > 50  # about 140 samples at 100 Hz


def test_raw_idle_threads_and_lock_wait(raw: dict[str, Path]) -> None:
    p = load_profile(raw["idle"])
    assert p.measures == "wall" and p.idle_included
    # py-spy often fails to read a thread's name (it is then empty): ask for one
    lockers = {"locker-0", "locker-1", "locker-2", "locker-3"}
    assert lockers & set(p.thread_names.values())  # names py-spy read are the right ones
    assert all(t is not None and t.isdigit() for t in p.threads)
    assert self_share(p, "locked_worker") > 0.3  # the `with lock:` line is the leaf


def test_raw_gil_run_is_the_compute(raw: dict[str, Path]) -> None:
    p = load_profile(raw["gil"], measures="gil")
    assert p.measures == "gil"
    compute = self_share(p, "compute") + self_share(p, "compute.<locals>.<genexpr>")
    # only the GIL holder is sampled, and it computes under the lock; on a loaded 2-core machine
    # the sampler also catches threads between bytecodes, so ask for a clear majority
    assert compute > 0.4
    idle = load_profile(raw["idle"])
    assert p.total() < 0.6 * idle.total()  # one holder at a time, against five threads
