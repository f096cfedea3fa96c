"""Format detection by content, merging several profiles, and unreadable files."""

from __future__ import annotations

import contextlib
import gzip
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.sources.profiles.conftest import FIXTURES

from throughput_expert.errors import InputError
from throughput_expert.model.profile import Frame, Profile, merge
from throughput_expert.model.records import InputRef
from throughput_expert.sources.profiles import UNKNOWN_FORMAT, load_profile


@pytest.mark.parametrize(
    ("fixture", "fmt"),
    [
        ("tiny.speedscope.json", "speedscope"),
        ("tiny.collapsed.txt", "collapsed"),
        ("tiny.cpuprofile", "cpuprofile"),
        ("go/cpu.pb.gz", "pprof"),
    ],
)
def test_detected_by_content_not_name(tmp_path: Path, fixture: str, fmt: str) -> None:
    path = tmp_path / "profile.misleading.json"
    shutil.copyfile(FIXTURES / fixture, path)
    assert load_profile(path).format == fmt


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"hello world, no counts here\n",
        json.dumps({"traceEvents": []}).encode(),
        b"[1, 2, 3]",
        b"\x00\x01\x02\xff\xfe",
    ],
)
def test_unknown_formats(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x"
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        load_profile(path)
    assert err.value.one_line() == f"{path}: {UNKNOWN_FORMAT}"


def test_async_profiler_threads_at_the_root_are_collapsed_stacks(tmp_path: Path) -> None:
    """async-profiler -t starts every line with its thread frame, ``[name tid=N]``: read as
    collapsed stacks (it was refused as an unknown format, a line starting as JSON does); a
    JSON array with a count-like tail is still not one."""
    path = tmp_path / "ap.txt"
    path.write_text(
        "[request-0 tid=5361];java/lang/Thread.run_[j];corpus/AllocChurn.buildRows_[j] 6\n"
        "[GC Thread#0 tid=5384];start_thread;G1ParScanThreadState::trim_queue_to_threshold 9\n"
    )
    p = load_profile(path)
    assert p.format == "collapsed" and p.total() == 15
    assert p.thread_names == {"5361": "request-0", "5384": "GC Thread#0"}
    path.write_text('["a", "b"] 3\n')
    with pytest.raises(InputError):
        load_profile(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="No such file"):
        load_profile(tmp_path / "nope")


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300))
def test_random_bytes_raise_only_input_error(
    data: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("b") / "x"
    path.write_bytes(data if data[:1] != b"!" else gzip.compress(data))
    with contextlib.suppress(InputError):
        load_profile(path)


def profile(name: str, unit: str = "samples", measures: str = "cpu", **kw: object) -> Profile:
    fields: dict[str, object] = {
        "frames": (Frame("main"), Frame(name)),
        "stacks": ((0, 1), (0,)),
        "weights": (3.0, 1.0),
        "threads": ("1", None),
        "unit": unit,
        "measures": measures,
        "format": "collapsed",
        "source": InputRef(f"{name}.txt", "profile"),
        "thread_names": {"1": ""},
    }
    fields.update(kw)
    return Profile(**fields)  # type: ignore[arg-type]


def test_merge_shares_frames_and_sums_equal_stacks() -> None:
    a = profile("encode", thread_names={"1": "Main"})
    b = profile("encode", frames=(Frame("encode"), Frame("main")), stacks=((1, 0), (1,)))
    m = merge([a, b])
    assert m.frames == (Frame("main"), Frame("encode"))
    assert dict(zip(zip(m.stacks, m.threads, strict=True), m.weights, strict=True)) == {
        ((0, 1), "1"): 6.0,
        ((0,), None): 2.0,
    }
    assert m.thread_names == {"1": "Main"}
    assert m.source.source == "encode.txt, encode.txt"
    assert m.total() == 8.0


def test_merge_converts_time_units() -> None:
    a = profile("a", unit="seconds")
    b = profile("b", unit="milliseconds")
    m = merge([a, b])
    assert m.unit == "seconds" and m.total() == pytest.approx(4.004)


@pytest.mark.parametrize(
    ("other", "words"),
    [
        (profile("b", unit="bytes"), "different units: samples (a.txt) and bytes (b.txt)"),
        (profile("b", measures="wall"), "measure different things: cpu (a.txt) and wall (b.txt)"),
    ],
)
def test_merge_refuses_mismatches(other: Profile, words: str) -> None:
    with pytest.raises(InputError) as err:
        merge([profile("a"), other])
    assert words in err.value.one_line()
    assert err.value.source == "a.txt and b.txt"


def test_merge_of_nothing() -> None:
    with pytest.raises(InputError, match="no profile given"):
        merge([])
