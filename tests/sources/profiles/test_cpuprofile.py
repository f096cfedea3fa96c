""".cpuprofile reader: the hand-written file, a live `node --cpu-prof` recording, bad input."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.sources.profiles.conftest import FIXTURES, record_node

from throughput_expert.errors import InputError
from throughput_expert.model.profile import Frame, Profile
from throughput_expert.sources.profiles import load_profile
from throughput_expert.sources.profiles.cpuprofile import read_cpuprofile

TINY = json.loads((FIXTURES / "tiny.cpuprofile").read_text())


def leaf_weights(p: Profile) -> dict[str, float]:
    out: dict[str, float] = {}
    for s, w in zip(p.stacks, p.weights, strict=True):
        name = p.frames[s[-1]].name if s else ""
        out[name] = out.get(name, 0.0) + w
    return out


def test_tiny_file() -> None:
    p = load_profile(FIXTURES / "tiny.cpuprofile")
    assert p.format == "cpuprofile" and p.unit == "microseconds" and p.measures == "wall"
    assert leaf_weights(p) == {"serialize": 2000, "(garbage collector)": 1000}
    assert Frame("serialize", "file:///app.js", 3, "js") in p.frames  # 0-based line 2
    assert all(len(s) == 1 for s in p.stacks)  # (root) dropped
    assert p.duration_s == pytest.approx(0.003)
    assert p.sample_period_s == pytest.approx(0.001)
    assert not p.idle_included


def with_changes(**changes: object) -> dict[str, object]:
    doc = json.loads(json.dumps(TINY))
    doc.update(changes)
    return doc


def test_idle_negative_delta_and_no_deltas() -> None:
    idle = {"id": 4, "callFrame": {"functionName": "(idle)", "url": ""}}
    doc = with_changes(samples=[3, 4, 4], timeDeltas=[1000, -50, 500])
    doc["nodes"] = [*doc["nodes"], idle]  # type: ignore[list-item]
    doc["nodes"][0]["children"] = [2, 3, 4]  # type: ignore[index]
    p = read_cpuprofile(doc, "x")
    assert p.idle_included
    assert leaf_weights(p) == {"serialize": 1000, "(idle)": 500}  # negative delta clamped to 0
    p = read_cpuprofile(with_changes(timeDeltas=[]), "x")
    assert p.unit == "samples" and leaf_weights(p) == {"serialize": 2, "(garbage collector)": 1}


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"samples": [3, 9, 3]}, "sample 9 is not a node"),
        ({"samples": [3, "x", 3]}, "integers"),
        ({"timeDeltas": [1, 2]}, "as long as samples"),
        ({"timeDeltas": [1, 2, "x"]}, "numbers"),
        ({"timeDeltas": [1, 2, 1e999]}, "finite"),
        ({"nodes": [{"id": 1, "callFrame": {}, "children": [7]}]}, "child 7 is not a node"),
        ({"nodes": "x"}, "nodes must be a list"),
        ({"samples": [2**70, 3, 3]}, "too large"),
    ],
)
def test_bad_documents(changes: dict[str, object], words: str) -> None:
    with pytest.raises(InputError) as err:
        read_cpuprofile(with_changes(**changes), "x.cpuprofile")
    assert words in err.value.one_line()


def test_cycle_is_refused() -> None:
    nodes = [
        {"id": 1, "callFrame": {"functionName": "a"}, "children": [2]},
        {"id": 2, "callFrame": {"functionName": "b"}, "children": [1]},
    ]
    with pytest.raises(InputError, match="cycle"):
        read_cpuprofile({"nodes": nodes, "samples": [1]}, "x")


scalars = st.none() | st.integers(-2, 6) | st.floats() | st.text(max_size=2) | st.booleans()
node = st.fixed_dictionaries(
    {
        "id": st.integers(0, 5) | scalars,
        "callFrame": st.dictionaries(
            st.sampled_from(["functionName", "url", "lineNumber"]), scalars
        )
        | scalars,
    },
    optional={"children": st.lists(st.integers(0, 6) | scalars, max_size=3) | scalars},
)


@settings(max_examples=300, deadline=None)
@given(
    nodes=st.lists(node, max_size=5),
    samples=st.lists(st.integers(-1, 6) | scalars, max_size=6),
    deltas=st.lists(st.integers(-5, 5) | st.floats(), max_size=6) | scalars,
)
def test_hostile_documents_raise_only_input_error(
    nodes: list[object], samples: list[object], deltas: object
) -> None:
    with contextlib.suppress(InputError):
        read_cpuprofile({"nodes": nodes, "samples": samples, "timeDeltas": deltas}, "h")


# --- a live node --cpu-prof recording ------------------------------------------------------------


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield record_node(tmp_path_factory.mktemp("node"), "hot.js")


def test_node_hot_function_found(recorded: Path) -> None:
    p = load_profile(recorded)
    assert p.format == "cpuprofile" and p.unit == "microseconds"
    weights = leaf_weights(p)
    hottest = max(weights, key=lambda k: weights[k])
    assert hottest == "hotLoop"
    assert weights["hotLoop"] / p.total() > 0.5
    assert p.duration_s is not None and 0.8 < p.duration_s < 5
    assert any(f.name == "hotLoop" and f.kind == "js" and f.line == 4 for f in p.frames)


@settings(max_examples=50, deadline=None)
@given(cut=st.integers(0, 1000))
def test_truncated_recording(
    recorded: Path, cut: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data = recorded.read_bytes()
    path = tmp_path_factory.mktemp("cut") / "p.cpuprofile"
    path.write_bytes(data[: cut * len(data) // 1000])
    with contextlib.suppress(InputError):
        load_profile(path)
