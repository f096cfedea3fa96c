"""speedscope reader: a hand-written file, live py-spy recordings, hostile documents."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.sources.profiles.conftest import FIXTURES, record_pyspy

from throughput_expert.errors import InputError
from throughput_expert.model.profile import Frame, Profile
from throughput_expert.sources.profiles import load_profile
from throughput_expert.sources.profiles.speedscope import read_speedscope


def by_stack(profile: Profile) -> dict[tuple[tuple[str, ...], str | None], float]:
    return {
        (tuple(profile.frames[i].name for i in stack), thread): round(weight, 9)
        for stack, weight, thread in zip(
            profile.stacks, profile.weights, profile.threads, strict=True
        )
    }


def share(profile: Profile, test: object) -> float:
    """The share of the total weight in stacks holding a frame that passes ``test``."""
    hit = sum(
        w
        for s, w in zip(profile.stacks, profile.weights, strict=True)
        if any(test(profile.frames[i]) for i in s)  # type: ignore[operator]
    )
    return hit / profile.total()


def test_tiny_file_sampled_and_evented() -> None:
    p = load_profile(FIXTURES / "tiny.speedscope.json")
    assert p.format == "speedscope"
    assert p.unit == "seconds"  # milliseconds of the evented profile converted
    assert p.frames[0] == Frame("main", "app.py", 1, "python")
    assert by_stack(p) == {
        (("main", "encode"), "1"): 0.02,
        (("main",), "1"): 0.01,
        (("main",), "#1"): 0.005,  # 0-2 ms and 7-10 ms on top
        (("main", "encode"), "#1"): 0.005,  # 2-7 ms
    }
    assert p.thread_names == {"1": "Main", "#1": "trace"}
    assert p.total() == pytest.approx(0.04)
    assert p.measures == "unknown"


def doc(**profile: object) -> dict[str, object]:
    base: dict[str, object] = {
        "type": "sampled",
        "name": "p",
        "unit": "none",
        "samples": [[0, 1]],
        "weights": [1],
    }
    base.update(profile)
    return {"shared": {"frames": [{"name": "a"}, {"name": "b"}]}, "profiles": [base]}


@pytest.mark.parametrize(
    ("document", "words"),
    [
        (doc(samples=[[0, 2]]), "frame index 2 is outside the frame table"),
        (doc(samples=[[-1]]), "frame index -1"),
        (doc(weights=[-1]), "non-negative"),
        (doc(weights=[1, 2]), "as long as samples"),
        (doc(weights=["x"]), "numbers"),
        (doc(samples=[5]), "list of frame indices"),
        (doc(samples=[["a"]]), "integers"),
        (doc(unit="parsecs"), "unknown unit"),
        (doc(type="evented", events=[{"type": "O", "at": 0, "frame": 0}]), "never closed"),
        (
            doc(
                type="evented",
                events=[{"type": "O", "at": 5, "frame": 0}, {"type": "C", "at": 1, "frame": 0}],
            ),
            "backwards",
        ),
        (
            doc(
                type="evented",
                events=[{"type": "O", "at": 0, "frame": 0}, {"type": "C", "at": 1, "frame": 1}],
            ),
            "does not match",
        ),
        ({"shared": {}, "profiles": []}, "shared.frames"),
    ],
)
def test_bad_documents_give_one_line(document: dict[str, object], words: str) -> None:
    with pytest.raises(InputError) as err:
        read_speedscope(document, "x.json")
    assert words in err.value.one_line()


def test_infinite_weight_from_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc()).replace('"weights": [1]', '"weights": [1e999]'))
    with pytest.raises(InputError, match="finite"):
        load_profile(path)


def test_truncated_json(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text((FIXTURES / "tiny.speedscope.json").read_text()[:200])
    with pytest.raises(InputError, match="malformed JSON"):
        load_profile(path)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 5) | st.floats() | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
profile_keys = st.sampled_from(["type", "unit", "samples", "weights", "events", "name"])


@settings(max_examples=300, deadline=None)
@given(
    frames=st.lists(st.fixed_dictionaries({"name": st.text(max_size=3)}), max_size=3),
    profile=st.dictionaries(profile_keys, json_values | st.sampled_from(["sampled", "evented"])),
)
def test_hostile_documents_raise_only_input_error(
    frames: list[dict[str, object]], profile: dict[str, object]
) -> None:
    with contextlib.suppress(InputError):
        read_speedscope({"shared": {"frames": frames}, "profiles": [profile]}, "h.json")


@settings(max_examples=100, deadline=None)
@given(cut=st.integers(0, 2000))
def test_truncated_real_recording_raises_only_input_error(
    recordings: dict[str, Path], cut: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data = recordings["json"].read_bytes()
    path = tmp_path_factory.mktemp("cut") / "p.json"
    path.write_bytes(data[: cut * len(data) // 2000])
    with contextlib.suppress(InputError):
        load_profile(path)


# --- live py-spy recordings ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    folder = tmp_path_factory.mktemp("pyspy-speedscope")
    yield {
        "json": record_pyspy(folder / "json.json", "json_hot.py", "speedscope"),
        "idle": record_pyspy(folder / "idle.json", "lock_contention.py", "speedscope", "--idle"),
        "busy": record_pyspy(folder / "busy.json", "lock_contention.py", "speedscope"),
    }


def test_pyspy_json_encoder_dominates(recordings: dict[str, Path]) -> None:
    p = load_profile(recordings["json"])
    assert p.exporter is not None and p.exporter.startswith("py-spy")
    assert p.unit == "seconds"
    assert p.sample_period_s == pytest.approx(0.01)
    assert p.measures == "cpu" and not p.idle_included
    assert p.total() > 0.5  # about 1.4 s of samples in a 1.5 s run
    assert share(p, lambda f: (f.file or "").startswith("json/") or "json" in (f.file or "")) > 0.5
    assert all(f.kind == "python" for f in p.frames if f.file and f.file.endswith(".py"))


def test_pyspy_idle_shows_the_lock_wait(recordings: dict[str, Path]) -> None:
    p = load_profile(recordings["idle"])
    assert p.measures == "wall" and p.idle_included
    # Five threads; py-spy often fails to read a thread's name (it is then empty), so ask
    # that the names it did read are the right ones.
    assert 4 <= len(p.thread_names) <= 5  # a loaded machine can miss a short-lived sample
    lockers = {"locker-0", "locker-1", "locker-2", "locker-3"}
    assert lockers & set(p.thread_names.values())  # names py-spy read are the right ones
    assert all(t is not None and t.isdigit() for t in p.threads)
    # Threads blocked on the C lock show the `with lock:` line (18) as their leaf.
    waiting = sum(
        w
        for s, w in zip(p.stacks, p.weights, strict=True)
        if s and p.frames[s[-1]].name == "locked_worker" and p.frames[s[-1]].line == 18
    )
    assert waiting / p.total() > 0.3
    assert p.duration_s is not None and 1.0 < p.duration_s < 5.0


def test_pyspy_without_idle_drops_waiting_threads(recordings: dict[str, Path]) -> None:
    idle, busy = load_profile(recordings["idle"]), load_profile(recordings["busy"])
    assert busy.measures == "cpu" and not busy.idle_included

    def thread_weight(p: Profile, key: str | None) -> float:
        return sum(w for w, t in zip(p.weights, p.threads, strict=True) if t == key)

    # The main thread (the lowest TID) waits in Thread.join the whole run: with --idle it is
    # sampled at every tick; without, it has (almost) no samples.
    main_idle = thread_weight(idle, min(idle.thread_names, key=int))
    named = [k for k, v in busy.thread_names.items() if v == "MainThread"]
    assert main_idle > 1.0
    assert thread_weight(busy, named[0] if named else None) < 0.5 * main_idle
    assert busy.total() < 0.8 * idle.total()  # waiting threads lost their samples


def test_measures_can_be_overridden(recordings: dict[str, Path]) -> None:
    p = load_profile(recordings["json"], measures="gil")
    assert p.measures == "gil"
    assert "values taken to measure gil" in p.notes[-1]
