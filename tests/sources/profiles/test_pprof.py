"""pprof reader: a hand-encoded profile, committed Go recordings, hostile bytes."""

from __future__ import annotations

import contextlib
import gzip
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.sources.profiles.conftest import FIXTURES

from throughput_expert.errors import InputError
from throughput_expert.model.profile import Frame, Profile
from throughput_expert.sources.profiles import load_profile, pprof
from throughput_expert.sources.profiles.pprof import read_pprof

GO = FIXTURES / "go"


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number: int, value: int | bytes) -> bytes:
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    return varint(number << 3 | 2) + varint(len(value)) + value


def packed(number: int, values: list[int]) -> bytes:
    return field(number, b"".join(varint(v) for v in values))


STRINGS = ["", "samples", "count", "cpu", "nanoseconds", "main.work", "main.go", "main.inl"]


def tiny(*, sample_values: list[int] | None = None, extra: bytes = b"") -> bytes:
    """A minimal cpu profile (docs/formats.md §2.5) plus an inlined frame; field 9 first, as Go
    writes it."""
    body = field(9, 1_700_000_000) + extra
    body += field(1, field(1, 1) + field(2, 2)) + field(1, field(1, 3) + field(2, 4))
    # Location 1 inlines function 2 into function 1; location 2 is function 1 alone.
    body += field(
        4,
        field(1, 1)
        + field(3, 0x4C8245)
        + field(4, field(1, 2) + field(2, 7))
        + field(4, field(1, 1) + field(2, 12)),
    )
    body += field(4, field(1, 2) + field(4, field(1, 1) + field(2, 20)))
    body += field(5, field(1, 1) + field(2, 5) + field(4, 6) + field(5, 10))
    body += field(5, field(1, 2) + field(2, 7) + field(4, 6))
    body += field(2, packed(1, [1, 2]) + packed(2, sample_values or [3, 30_000_000]))
    body += field(2, field(1, 2) + field(2, 1) + field(2, 10_000_000))  # unpacked repeated
    body += b"".join(field(6, s.encode()) for s in STRINGS)
    body += field(11, field(1, 3) + field(2, 4)) + field(12, 10_000_000) + field(10, 2_000_000_000)
    return body


def test_tiny_profile_hand_computed(tmp_path: Path) -> None:
    path = tmp_path / "p.pb.gz"
    path.write_bytes(gzip.compress(tiny(extra=field(99, b"ignored") + field(98, 5))))
    p = load_profile(path)
    assert p.format == "pprof" and p.unit == "nanoseconds" and p.measures == "cpu"
    names = {
        tuple(p.frames[i].name for i in s): w for s, w in zip(p.stacks, p.weights, strict=True)
    }
    # leaf-first [1, 2] -> root->leaf location 2 then location 1 = work(12) then inl(7)
    assert names == {("main.work", "main.work", "main.inl"): 30_000_000, ("main.work",): 10_000_000}
    assert p.frames[p.stacks[0][0]] == Frame("main.work", "main.go", 20, "go")
    assert p.sample_period_s == pytest.approx(0.01)
    assert p.duration_s == pytest.approx(2.0)
    assert "read sample type cpu/nanoseconds" in p.notes[0]


def test_uncompressed_protobuf_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "p.pb"
    path.write_bytes(tiny())
    assert load_profile(path).total() == 40_000_000


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (tiny() + field(6, b"abcdef")[:-2], "past the end"),
        (tiny() + b"\x80", "truncated varint"),
        (tiny() + field(2, packed(1, [42]) + packed(2, [1, 1])), "location 42"),
        (tiny() + field(5, field(1, 1) + field(2, 999)), "string index 999"),
        (tiny(sample_values=[1]), "1 values for 2 sample types"),
        (tiny(sample_values=[1, 2**64 - 5]), "negative"),
        (tiny() + b"\x0b", "wire type 3"),
    ],
    ids=["length", "varint", "location", "string", "values", "negative", "wire"],
)
def test_malformed_protobuf(data: bytes, words: str) -> None:
    with pytest.raises(InputError) as err:
        read_pprof(gzip.compress(data), "p.pb.gz")
    assert words in err.value.one_line()


def test_gzip_that_is_not_pprof(tmp_path: Path) -> None:
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(b"hello, this is just text\n"))
    with pytest.raises(InputError, match="not a valid pprof profile"):
        load_profile(path)


def test_truncated_gzip(tmp_path: Path) -> None:
    path = tmp_path / "x.pb.gz"
    path.write_bytes((GO / "cpu.pb.gz").read_bytes()[:300])
    with pytest.raises(InputError, match="truncated gzip"):
        load_profile(path)


def test_decompression_bomb_stops_at_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pprof, "MAX_DECOMPRESSED", 1 << 20)
    bomb = gzip.compress(b"\0" * (8 << 20))
    with pytest.raises(InputError, match="decompresses to more than 1 MiB"):
        read_pprof(bomb, "bomb.gz")


# --- Go recordings (fixtures/go/main.go; committed, CI has no Go) -------------------------------


def self_weight(p: Profile, name: str) -> float:
    return sum(w for s, w in zip(p.stacks, p.weights, strict=True) if p.frames[s[-1]].name == name)


def total_weight(p: Profile, name: str) -> float:
    return sum(
        w
        for s, w in zip(p.stacks, p.weights, strict=True)
        if any(p.frames[i].name == name for i in s)
    )


def test_go_cpu_profile_finds_the_hot_function() -> None:
    p = load_profile(GO / "cpu.pb.gz")
    assert (p.measures, p.unit, p.exporter) == ("cpu", "nanoseconds", "go")
    assert total_weight(p, "main.hotLoop") / p.total() > 0.9
    assert p.sample_period_s == pytest.approx(0.01)
    assert p.duration_s is not None and 1.5 < p.duration_s < 3


def test_go_mutex_profile_charges_the_unlocker() -> None:
    p = load_profile(GO / "mutex.pb.gz")
    assert p.measures == "mutex-delay"
    assert self_weight(p, "sync.(*Mutex).Unlock") / p.total() > 0.9
    assert total_weight(p, "main.contend") / p.total() > 0.9
    assert any("charged to the unlocking stack" in n for n in p.notes)


def test_go_block_profile_shows_the_waiters() -> None:
    p = load_profile(GO / "block.pb.gz")
    assert p.measures == "block-delay"
    assert self_weight(p, "sync.(*Mutex).Lock") / p.total() > 0.9
    assert total_weight(p, "main.contend") / p.total() > 0.9
    # sync.(*Mutex).Lock was inlined into main.contend: the caller comes first.
    stack = max(zip(p.weights, p.stacks, strict=True))[1]
    assert [p.frames[i].name for i in stack[-2:]] == ["main.contend", "sync.(*Mutex).Lock"]


# --- hostile input ----------------------------------------------------------------------------


REAL = {name: gzip.decompress((GO / f"{name}.pb.gz").read_bytes()) for name in ("cpu", "block")}


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=200))
def test_random_bytes(data: bytes) -> None:
    try:
        read_pprof(data, "r")
        read_pprof(gzip.compress(data), "r.gz")
    except InputError:
        pass


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(sorted(REAL)),
    cut=st.floats(0, 1),
    flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=4),
)
def test_truncated_and_corrupted_recordings(
    name: str, cut: float, flips: list[tuple[float, int]]
) -> None:
    data = bytearray(REAL[name][: int(cut * len(REAL[name]))])
    for where, byte in flips:
        if data:
            data[int(where * (len(data) - 1))] = byte
    for blob in (
        bytes(data),
        gzip.compress(bytes(data)),
        (GO / f"{name}.pb.gz").read_bytes()[: int(cut * 400)],
    ):
        with contextlib.suppress(InputError):
            read_pprof(blob, "c")


CORPUS_GO = Path(__file__).resolve().parents[2] / "fixtures" / "corpus" / "go"


@pytest.mark.parametrize(
    ("name", "measures", "unit"),
    [
        ("cpu", "cpu", "nanoseconds"),
        ("mutex", "mutex-delay", "nanoseconds"),
        ("block", "block-delay", "nanoseconds"),
        ("heap", "alloc", "bytes"),
        ("goroutine", "snapshot", "count"),
    ],
)
def test_each_go_profile_says_what_it_measures(name: str, measures: str, unit: str) -> None:
    """A goroutine profile is a snapshot (goroutines), never CPU time (issue 15)."""
    profile = load_profile(CORPUS_GO / f"lockjson.{name}.pb.gz")
    assert (profile.measures, profile.unit) == (measures, unit)
    assert profile.exporter == "go"


def test_goroutine_profile_counts_goroutines() -> None:
    profile = load_profile(CORPUS_GO / "lockjson.goroutine.pb.gz")
    # 32 request goroutines, 96 idle workers, main, the profiler and the runtime's own
    assert 128 <= profile.total() < 160
    assert any("snapshot" in note for note in profile.notes)
