"""find-bottleneck on real py-spy recordings of programs whose bottleneck is known by
construction (tests/fixtures/corpus/python/, re-recorded by benchmarks/_corpus/record_python.py).

Each manifest entry is checked (type, category, component, state); then each class of mistake of
issue 15 has its own test on a recording: wall read as CPU, benign waits, GIL against a user
lock, the headline's wording, Python fixes only for Python profiles.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from throughput_expert.advisors.bottleneck import FindBottleneckInputs, advise
from throughput_expert.model.profile import Frame
from throughput_expert.sources.profiles import load_profile
from throughput_expert.sources.settings import load_settings

CORPUS = Path(__file__).parents[1] / "fixtures" / "corpus" / "python"
MANIFEST = yaml.safe_load((CORPUS / "manifest.yaml").read_text())["recordings"]
SETTINGS = load_settings()


def verdict(file: str, gil: str | None = None, **kw: Any) -> dict[str, Any]:
    p = load_profile(CORPUS / file)
    g = load_profile(CORPUS / gil) if gil else None
    return advise(FindBottleneckInputs(p, g, **kw), SETTINGS).to_dict()


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"] for e in MANIFEST])
def test_manifest_verdicts(entry: dict[str, Any]) -> None:
    r = verdict(entry["file"], entry.get("gil_profile"))
    b, want = r["analysis"]["bottleneck"], entry["expected"]
    assert (b["type"], b["category"]) == (want["type"], want["category"]), b["reason"]
    if want.get("component"):
        assert want["component"] in (b["component"] or "")
    if want.get("state"):
        assert b["state"] == want["state"]


def test_corpus_files_are_small() -> None:
    sizes = [f.stat().st_size for f in CORPUS.iterdir()]
    assert max(sizes) < 300_000 and sum(sizes) < 5_000_000


def test_wall_clock_is_not_read_as_cpu() -> None:
    """The lock recording is --idle: its shares are of wall time, the lock wait is not compute,
    and no CPU gain is claimed from it."""
    r = verdict("lock_contention.idle.native.speedscope.json")
    a = r["analysis"]
    assert a["profile"]["measures"] == "wall" and a["profile"]["idle_included"]
    assert "wall" in a["profile"]["sample_means"]
    assert a["bottleneck"]["basis"].startswith("active wall time")
    cats = {c["category"] for c in a["categories"]}
    assert "compute" not in cats
    assert "optimize the hot function" not in r["summary"].lower()


def test_mostly_idle_process_gets_no_cpu_price() -> None:
    """With the process's CPU measured (19 % here), a CPU category is not priced by Amdahl."""
    from throughput_expert.model import ServiceMetrics

    m = ServiceMetrics(throughput_rps=100.0, cores=2, utilization={"cpu": 0.19})
    r = verdict("idle_pool.idle.speedscope.json", metrics=m)
    compute = [x for x in r["recommendations"] if "hot function" in x["optimization"]]
    assert compute and compute[0]["expected_improvement_pct"] is None
    assert "busy" in compute[0]["rationale"]


def test_on_cpu_profile_prices_cpu_time() -> None:
    r = verdict("json_hot.cpu.speedscope.json")
    a = r["analysis"]
    assert a["profile"]["measures"] == "cpu"
    assert a["bottleneck"]["basis"] == "on-CPU samples"
    first = r["recommendations"][0]
    share = a["bottleneck"]["share_pct"] / 100
    assert first["expected_improvement_pct"] == pytest.approx(
        (1 / ((1 - share) + share / 3.0) - 1) * 100, rel=1e-6
    )


def test_benign_waits_are_not_the_bottleneck() -> None:
    """The main thread's join and the pool's queue.get are idle; the busy thread is the verdict."""
    r = verdict("idle_pool.idle.speedscope.json", threads=True)
    a = r["analysis"]
    assert a["bottleneck"]["component"].startswith("checksum")
    idle = next(s for s in a["states"] if s["state"] == "idle")
    assert not idle["limits"] and idle["share_pct"] > 80
    pool = [t for t in a["threads"] if t["state"] == "idle"]
    assert len(pool) == 9 and all(t["on_cpu_pct"] == 0 for t in pool)
    busy = next(t for t in a["threads"] if t["name"] == "busy")
    assert busy["states_pct"]["running"] > 95


@pytest.mark.parametrize(
    "file", ["idle_loop.idle.native.speedscope.json", "idle_loop.idle.speedscope.json"]
)
def test_an_event_loop_with_nothing_to_do_is_idle(file: str) -> None:
    """The asyncio loop waits in epoll_wait (--native) or EpollSelector.select (Python frames)
    for a connection nobody makes: idle, not a network wait, and not the bottleneck (it is half
    of the samples, more than the busy thread's running ones)."""
    r = verdict(file, threads=True)
    a = r["analysis"]
    frames = {f.name for f in load_profile(CORPUS / file).frames}
    assert ("epoll_wait" in frames) == ("native" in file)
    loop = next(t for t in a["threads"] if t["name"] == "MainThread")
    assert loop["states_pct"] == {"idle": 100.0} and loop["on_cpu_pct"] == 0
    assert not any(s["state"] == "io_network" for s in a["states"])
    b = a["bottleneck"]
    assert (b["type"], b["category"], b["state"]) == ("cpu", "compute", "running")
    assert b["component"].startswith("rolling_hash")


def test_threads_waiting_for_a_lock_are_not_on_cpu() -> None:
    """--threads on the lock recording: each request thread waits for the lock most of the
    time and is on CPU for almost none of it (it read 'on CPU 100 %')."""
    a = verdict("lock_contention.idle.native.speedscope.json", threads=True)["analysis"]
    workers = [t for t in a["threads"] if t["name"].startswith("request-")]
    assert len(workers) >= 6
    for t in workers:
        assert t["state"] == "lock_wait" and t["on_cpu_pct"] < 5, t


def test_gil_wait_is_not_a_user_lock() -> None:
    r = verdict("gil_contention.idle.native.speedscope.json")
    b = r["analysis"]["bottleneck"]
    assert (b["category"], b["state"]) == ("gil", "gil_wait")
    assert "process" in r["recommendations"][0]["optimization"].lower()
    lock = verdict("lock_contention.idle.native.speedscope.json")
    assert lock["analysis"]["bottleneck"]["state"] == "lock_wait"
    assert "critical section" in lock["recommendations"][0]["optimization"]


def test_hidden_waits_without_native_frames() -> None:
    """--idle without --native: 8 threads at one Python line cannot all run Python."""
    r = verdict("lock_contention.idle.speedscope.json")
    b = r["analysis"]["bottleneck"]
    assert (b["category"], b["state"]) == ("hidden_wait", "blocked")
    assert any(e["id"] == "hidden-waits" for e in r["evidence"])


def test_headline_names_category_share_and_component_share() -> None:
    r = verdict("downstream_wait.idle.speedscope.json")
    b = r["analysis"]["bottleneck"]
    assert b["component_share_pct"] < b["share_pct"]
    assert f"{b['share_pct']:.3g} % of active wall time" in r["summary"]
    assert f"mostly at {b['component']} ({b['component_share_pct']:.3g} %)" in r["summary"]


def test_python_fixes_only_for_python_profiles() -> None:
    """The same stacks with Go frames get no Python-only fix."""
    p = load_profile(CORPUS / "json_hot.cpu.speedscope.json")
    go = replace(
        p,
        exporter=None,
        frames=tuple(Frame(f.name, f.file, f.line, "go") for f in p.frames),
    )
    s = replace(
        SETTINGS,
        fixes={
            k: (replace(f, runtimes=("python",)) if k == "serialization" else f)
            for k, f in SETTINGS.fixes.items()
        },
    )
    r = advise(FindBottleneckInputs(go), s).to_dict()
    assert r["analysis"]["profile"]["runtime"] == "go"
    assert all("orjson" not in x["optimization"] for x in r["recommendations"])
    py = advise(FindBottleneckInputs(p), s).to_dict()
    assert any("orjson" in x["optimization"] for x in py["recommendations"])


def test_pyspy_without_idle_flag_read_from_frames() -> None:
    """A py-spy file of one thread cannot show --idle by its threads' counts: the frames do."""
    p = load_profile(CORPUS / "downstream_wait.idle.speedscope.json")
    one = [i for i, t in enumerate(p.threads) if t == p.threads[-1]]
    single = replace(
        p,
        stacks=tuple(p.stacks[i] for i in one),
        weights=tuple(p.weights[i] for i in one),
        threads=tuple(p.threads[i] for i in one),
        measures="cpu",
        idle_included=False,
    )
    r = advise(FindBottleneckInputs(single), SETTINGS).to_dict()
    prof = r["analysis"]["profile"]
    assert prof["measures"] == "wall" and prof["idle_included"]
    assert any("from its frames" in n for n in prof["notes"])
