"""Issue 19: every profile reader, fed mutations of the real recordings, answers or refuses with
one ``ThroughputError`` — never another exception, never a hang.

The recordings are the verdict corpus (real py-spy, pprof, ``.cpuprofile`` and jstack files)
and the reader tests' own fixtures; ``fuzz_mutations`` flips bytes, inflates numbers past float
range and past Python's int-string limit, puts NaN and infinities where finite numbers belong,
cuts files and nests them deeply. Then a few hand-made hostile files, each with the one line it
must give.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.sources.fuzz_mutations import mutated
from tests.support import run_tpx

from throughput_expert.errors import InputError, ThroughputError
from throughput_expert.model.profile import Profile
from throughput_expert.sources.profiles import collapsed as collapsed_module
from throughput_expert.sources.profiles import load_profile

ROOT = Path(__file__).parents[2]
CORPUS = ROOT / "tests" / "fixtures" / "corpus"
OWN = ROOT / "tests" / "sources" / "profiles" / "fixtures"
RECORDINGS = sorted(
    p
    for p in [*CORPUS.rglob("*"), *OWN.rglob("*")]
    if p.is_file() and p.suffix not in (".yaml", ".go", ".py") and "programs" not in p.parts
)
FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def test_the_corpus_is_there() -> None:
    kinds = {p.name.split(".")[-2] if p.suffix == ".gz" else p.suffix for p in RECORDINGS}
    assert {".json", ".txt", ".cpuprofile", "pb"} <= kinds


def read_or_refuse(data: bytes, tmp: Path) -> Profile | None:
    """``load_profile`` of ``data``: the profile, or None when refused with a ThroughputError."""
    path = tmp / "profile"
    path.write_bytes(data)
    try:
        profile = load_profile(path)
    except ThroughputError as exc:
        line = exc.one_line()
        assert "\n" not in line and line.startswith(str(path))
        return None
    assert all(math.isfinite(w) and w >= 0 for w in profile.weights)
    assert all(0 <= i < len(profile.frames) for s in profile.stacks for i in s)
    return profile


@pytest.mark.parametrize("recording", RECORDINGS, ids=lambda p: p.name)
def test_each_recording_reads_before_it_is_mutated(recording: Path, tmp_path: Path) -> None:
    assert read_or_refuse(recording.read_bytes(), tmp_path) is not None


# the recordings mutated within the suite's time: hypothesis's own cost grows with the bytes it
# draws over (a 86 KB file took most of a minute per 100 examples); tests/fuzz/run mutates all
SMALL = [p for p in RECORDINGS if p.stat().st_size <= 48_000]


@FUZZ
@given(data=st.data())
def test_mutated_recordings_are_read_or_refused_in_one_line(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    recording = data.draw(st.sampled_from(SMALL), label="recording")
    hostile = data.draw(mutated(recording.read_bytes()), label="mutated")
    read_or_refuse(hostile, tmp_path_factory.mktemp("fuzz"))


# --- hand-made hostile files, each with its line ------------------------------------------------


GOOD = b"a;b 1\n" * 5  # what makes a file collapsed stacks: its first lines


def speedscope(weights: object, unit: str = "seconds") -> bytes:
    doc = {
        "shared": {"frames": [{"name": "f"}]},
        "profiles": [
            {
                "type": "sampled",
                "name": "t",
                "unit": unit,
                "startValue": 0,
                "endValue": 1,
                "samples": [[0]] * (len(weights) if isinstance(weights, list) else 1),
                "weights": weights,
            }
        ],
    }
    return json.dumps(doc).encode()


def cpuprofile(deltas: str) -> bytes:
    frame = '{"functionName":"f","scriptId":"1","url":"a.js","lineNumber":1,"columnNumber":1}'
    return (
        '{"nodes":[{"id":1,"callFrame":' + frame + ',"children":[]}],'
        '"startTime":0,"endTime":10,"samples":[1],"timeDeltas":[' + deltas + "]}"
    ).encode()


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (GOOD + b"a;b " + b"9" * 400 + b"\n", "line 6: expected 'frame;frame;... COUNT'"),
        (GOOD + b"a;b " + b"9" * 5000 + b"\n", "line 6: expected"),
        (GOOD + b"a;b 1e308\n", "below 2^63"),
        (GOOD + b"a;b nan\n", "line 6"),
        (b"a;b 1\n" + b"a;b 1\n" * 10 + b"c 1e19\n", "line 12"),
        (speedscope([float("1e308") * 10]), "Infinity is not a number JSON allows"),
        (speedscope("x"), ""),
        (speedscope([1e308]), ""),
        (speedscope([1e308, 1e308]), ""),
        (cpuprofile("9" * 400), ""),
        (cpuprofile("9" * 5000), ""),
        (cpuprofile("1e308"), ""),
        (cpuprofile("1e308,1e308").replace(b'"samples":[1]', b'"samples":[1,1]'), "timeDeltas"),
        (cpuprofile("1").replace(b'"endTime":10', b'"endTime":1e300'), "not from 0 to a year"),
        (speedscope([1e300] * 2 + [1e19]), "beyond 2^63"),
        (speedscope([5e18, 5e18]), "beyond 2^63"),
        (b'{"profiles": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
        (b'{"nodes": [], "samples": ' + b"[" * 950 + b"]" * 950 + b"}", ""),
    ],
    ids=lambda v: hashlib.sha1(v).hexdigest()[:8] if isinstance(v, bytes) else None,
)
def test_hostile_numbers_and_nesting_are_one_line(data: bytes, words: str, tmp_path: Path) -> None:
    path = tmp_path / "p"
    path.write_bytes(data)
    try:
        profile = load_profile(path)
    except InputError as exc:
        assert words in exc.one_line()
        return
    assert not words, f"read, where {words!r} was expected"
    assert all(math.isfinite(w) for w in profile.weights)


def test_the_command_line_gives_one_line_for_a_hostile_profile(tmp_path: Path) -> None:
    path = tmp_path / "p.txt"
    path.write_bytes(GOOD + b"main;work " + b"9" * 5000 + b"\n")
    proc = run_tpx("find-bottleneck", "--profile", str(path))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{path}: line 6: expected")
    assert "below 2^63" in lines[0]


# --- the streamed read of collapsed stacks ------------------------------------------------------


def test_a_large_collapsed_file_is_streamed_not_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import throughput_expert.sources.profiles as profiles

    def whole(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("a collapsed file was read whole")

    monkeypatch.setattr(profiles, "read_bytes", whole)
    lines = [f"main;handler;work{i % 7} {1 + i % 3}\n" for i in range(60_000)]
    path = tmp_path / "big.txt"
    path.write_text("".join(lines) * 2)
    assert path.stat().st_size > profiles.HEAD_BYTES
    profile = load_profile(path)
    assert len(profile.stacks) == 7
    assert profile.total() == 2 * sum(1 + i % 3 for i in range(60_000))


def test_a_large_profile_from_a_pipe_is_read_whole(tmp_path: Path) -> None:
    # a pipe (a shell's <(...)) cannot be read twice: its head is not read apart
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    text = b"main;work 1\n" * 200_000 + b"main;rest 2\n"
    writer = threading.Thread(target=fifo.write_bytes, args=(text,))
    writer.start()
    try:
        profile = load_profile(fifo)
    finally:
        writer.join()
    assert profile.total() == 200_002 and len(profile.stacks) == 2


def test_a_bad_line_deep_in_a_streamed_file_is_named_by_its_number(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"\xef\xbb\xbf" + b"main;work 1\n" * 200_000 + b"main;work x\n")
    with pytest.raises(InputError) as caught:
        load_profile(path)
    assert caught.value.one_line().startswith(f"{path}: line 200001: expected")


@settings(max_examples=100, deadline=None)
@given(
    lines=st.lists(
        st.sampled_from(["a;b 1", "a;b 2", "a;c 3", "thread (7): T;a 1", "", "x 0.5", "a;b 1\r"]),
        max_size=40,
    ),
    cuts=st.lists(st.integers(1, 30), max_size=8),
    fold=st.integers(1, 4),
)
def test_chunks_and_folds_do_not_change_the_profile(
    lines: list[str], cuts: list[int], fold: int
) -> None:
    text = "\n".join(lines).encode()
    chunks, at = [], 0
    for n in cuts:
        chunks.append(text[at : at + n])
        at += n
    chunks.append(text[at:])
    whole = collapsed_module.read_collapsed(text, "s")
    old = collapsed_module.FOLD_LINES
    collapsed_module.FOLD_LINES = fold
    try:
        streamed = collapsed_module._read(chunks, "s", lambda line: 0)
    finally:
        collapsed_module.FOLD_LINES = old
    assert dict(zip(streamed.stacks, streamed.weights, strict=True)) == dict(
        zip(whole.stacks, whole.weights, strict=True)
    )


def test_too_many_distinct_stacks_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collapsed_module, "MAX_STACKS", 100)
    path = tmp_path / "p.txt"
    path.write_text("".join(f"main;f{i} 1\n" for i in range(101)))
    with pytest.raises(InputError) as caught:
        load_profile(path)
    assert "more than 100 distinct stacks" in caught.value.one_line()


def test_too_much_distinct_stack_text_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collapsed_module, "MAX_STACK_TEXT", 1 << 20)
    path = tmp_path / "p.txt"
    path.write_text("".join(f"main;{'f' * 2000}{i} 1\n" for i in range(600)))
    with pytest.raises(InputError) as caught:
        load_profile(path)
    assert "or 1 MiB of their text" in caught.value.one_line()
