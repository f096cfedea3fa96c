"""Go, Node and JVM verdicts on real recordings (tests/fixtures/corpus/{go,node,jvm}/): one test
per class of mistake of issue 15, each failing on the old reading.

- a goroutine profile read as CPU ("100 % in goroutineProfileWithLabels, +100 %");
- a heap profile priced as CPU time by Amdahl;
- a block profile mixing benign waits (idle workers, WaitGroup.Wait) with lock waits;
- Node's (garbage collector) beside the allocating code read as compute;
- Python fixes (orjson, threading.Lock stripes) offered for Go, Node and JVM profiles;
- a thread dump's BLOCKED threads read as the code they stopped in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from throughput_expert import find_bottleneck
from throughput_expert.advisors.bottleneck.kinds import kind_verdict, profile_runtime
from throughput_expert.advisors.ledger import Ledger
from throughput_expert.sources.profiles import load_profile
from throughput_expert.sources.settings import load_settings

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"
GO = CORPUS / "go"
PYTHON_WORDS = ("orjson", "msgspec", "threading.", "ProcessPoolExecutor", "py-spy", "import ")


def report(path: Path) -> dict[str, Any]:
    out: dict[str, Any] = find_bottleneck([path]).to_dict()
    return out


def census(path: Path) -> Any:
    verdict = kind_verdict(load_profile(path), load_settings(), Ledger())
    assert verdict is not None and verdict.census is not None
    return verdict.census


ENTRIES = [
    (runtime, entry)
    for runtime in ("go", "node", "jvm")
    for entry in yaml.safe_load((CORPUS / runtime / "manifest.yaml").read_text())["recordings"]
]


@pytest.mark.parametrize(
    ("runtime", "entry"), ENTRIES, ids=[f"{r}/{e['file']}" for r, e in ENTRIES]
)
def test_manifest_verdicts(runtime: str, entry: dict[str, Any]) -> None:
    """Each recording's verdict is the one its manifest expects (what verdict_accuracy scores)."""
    b = report(CORPUS / runtime / entry["file"])["analysis"]["bottleneck"]
    want = entry["expected"]
    assert (b["type"], b["category"]) == (want["type"], want["category"]), b["reason"]
    if want.get("component"):
        assert want["component"] in (b["component"] or ""), b["component"]
    if want.get("state"):
        assert b["state"] == want["state"]


def test_go_cpu_component_is_the_programs_own_line() -> None:
    """On-CPU encoding/json is charged to the line of the program that calls it (as a Python
    profile's is), not to one of the library's own lines holding a few % of it."""
    b = report(GO / "lockjson.cpu.pb.gz")["analysis"]["bottleneck"]
    assert b["category"] == "serialization"
    assert b["component"].startswith("main.handle (go/lockjson.go:")
    assert b["component_share_pct"] > 0.9 * b["share_pct"]


def test_goroutine_report_tables_agree_with_the_census() -> None:
    """The thread-state table of a goroutine snapshot: the 31 goroutines parked in
    sync.Mutex.Lock wait for a lock at main.handle (runtime.gopark at the leaf is the wait's
    machinery, not idleness), and the report says what a sample of a snapshot means."""
    a = report(GO / "lockjson.goroutine.pb.gz")["analysis"]
    assert "does not say" not in a["profile"]["sample_means"]
    assert "not time" in a["profile"]["sample_means"]
    states = {s["state"]: s for s in a["states"]}
    assert states["lock_wait"]["share_pct"] == pytest.approx(100 * 31 / 131, rel=1e-3)
    assert states["lock_wait"]["top_site"].startswith("main.handle (")
    assert states["idle"]["top_site"].startswith("main.idleWorker (")
    assert states["running"]["share_pct"] < 1


def test_goroutine_profile_is_a_census_not_cpu() -> None:
    r = report(GO / "lockjson.goroutine.pb.gz")
    b = r["analysis"]["bottleneck"]
    assert r["analysis"]["profile"]["measures"] == "snapshot"
    assert (b["type"], b["category"], b["state"]) == ("contention", "lock", "lock_wait")
    assert "main.handle" in b["component"]
    assert "goroutineProfile" not in b["component"]
    # a snapshot counts goroutines: nothing is priced as CPU time
    assert all(rec["expected_improvement_pct"] is None for rec in r["recommendations"])
    assert not any(e["law"].startswith("Amdahl") for e in r["evidence"])
    waits = census(GO / "lockjson.goroutine.pb.gz")
    idle = [s for s in waits.sites if "idleWorker" in s.site]
    assert idle and all(s.benign for s in idle) and idle[0].weight == 96
    lock = next(s for s in waits.sites if s.state == "lock_wait")
    assert "main.handle" in lock.site and lock.wait == "sync.(*Mutex).Lock"


def test_heap_profile_is_not_priced_as_cpu() -> None:
    r = report(GO / "lockjson.heap.pb.gz")
    b = r["analysis"]["bottleneck"]
    assert (b["type"], b["category"]) == ("memory", "gc_alloc")
    assert "encoding/json.Marshal" in b["component"]
    assert r["recommendations"], "allocation fixes are offered"
    assert all(rec["expected_improvement_pct"] is None for rec in r["recommendations"])
    assert not any(e["law"].startswith("Amdahl") for e in r["evidence"])
    assert "CPU profile" in b["reason"], "says what to measure to price it"


def test_block_profile_sets_benign_waits_apart() -> None:
    r = report(GO / "lockjson.block.pb.gz")
    b = r["analysis"]["bottleneck"]
    assert (b["type"], b["category"], b["state"]) == ("contention", "lock", "lock_wait")
    assert "main.handle" in b["component"]
    waits = census(GO / "lockjson.block.pb.gz")
    # the idle workers' receive is most of the delay, and benign; so is main's WaitGroup.Wait
    assert waits.benign_share > 0.5
    by_wait = {s.wait: s for s in waits.sites}
    assert by_wait["runtime.chanrecv2"].benign
    assert by_wait["sync.(*WaitGroup).Wait"].benign
    assert not by_wait["sync.(*Mutex).Lock"].benign


def test_mutex_profile_names_the_holders_call_site() -> None:
    b = report(GO / "lockjson.mutex.pb.gz")["analysis"]["bottleneck"]
    assert (b["type"], b["category"]) == ("contention", "lock")
    assert "main.handle" in b["component"]
    assert "unlocking" in b["reason"]


def test_go_cpu_profile_stays_a_sample_verdict() -> None:
    profile = load_profile(GO / "lockjson.cpu.pb.gz")
    assert kind_verdict(profile, load_settings(), Ledger()) is None
    assert profile_runtime(profile) == "go"


def test_node_gc_churn_is_memory_not_compute() -> None:
    r = report(CORPUS / "node" / "alloc_churn.cpuprofile")
    b = r["analysis"]["bottleneck"]
    assert (b["type"], b["category"]) == ("memory", "gc_alloc")
    assert "alloc_churn.js" in b["component"]
    gc = next(e for e in r["evidence"] if e["id"] == "gc-churn")
    assert gc["result"]["share"] >= 0.2
    # GC time is measured in a CPU profile: this one is priced, on the measured share
    first = r["recommendations"][0]
    assert first["expected_improvement_pct"] is not None and first["expected_improvement_pct"] > 0
    assert "reuse" in first["optimization"]


def test_jvm_gc_threads_are_allocation_churn_not_compute() -> None:
    """A perf recording of a JVM whose G1 threads take most of the CPU: GC work for what the
    Java code allocates, charged to that code (it read 'compute, mostly at
    G1ParScanThreadState::trim_queue_to_threshold'); collapsed stacks do not say they are CPU
    time, so the churn is not priced."""
    r = report(CORPUS / "jvm" / "alloc_churn.perf.collapsed.txt")
    b = r["analysis"]["bottleneck"]
    assert (b["type"], b["category"]) == ("memory", "gc_alloc")
    assert b["component"] == "corpus.AllocChurn.buildRows"
    gc = next(e for e in r["evidence"] if e["id"] == "gc-churn")
    assert gc["result"]["share"] >= 0.5
    cats = {c["category"]: c["share_pct"] for c in r["analysis"]["categories"]}
    assert cats["gc_alloc"] > 50 and cats.get("compute", 0) < 25
    first = r["recommendations"][0]
    assert "Allocate less" in first["optimization"] and first["expected_improvement_pct"] is None


def test_node_without_churn_is_left_to_the_sample_verdict() -> None:
    profile = load_profile(CORPUS / "node" / "json_stringify.cpuprofile")
    assert profile_runtime(profile) == "node"
    assert kind_verdict(profile, load_settings(), Ledger()) is None


@pytest.mark.parametrize(
    "path",
    [
        GO / "lockjson.cpu.pb.gz",
        GO / "lockjson.mutex.pb.gz",
        GO / "lockjson.block.pb.gz",
        GO / "lockjson.heap.pb.gz",
        GO / "lockjson.goroutine.pb.gz",
        CORPUS / "node" / "alloc_churn.cpuprofile",
        CORPUS / "node" / "json_stringify.cpuprofile",
        CORPUS / "jvm" / "lock_contention.jstack.txt",
        CORPUS / "jvm" / "alloc_churn.perf.collapsed.txt",
    ],
    ids=lambda p: p.name,
)
def test_no_python_fix_for_other_runtimes(path: Path) -> None:
    r = report(path)
    assert r["recommendations"]
    for rec in r["recommendations"]:
        text = rec["optimization"] + (rec.get("example") or "")
        assert not any(word in text for word in PYTHON_WORDS), text


def test_go_fixes_speak_go() -> None:
    recs = report(GO / "lockjson.goroutine.pb.gz")["recommendations"]
    assert "sync.Mutex" in recs[0]["optimization"] or "sync." in (recs[0].get("example") or "")
    heap = report(GO / "lockjson.heap.pb.gz")["recommendations"]
    assert any("sync.Pool" in rec["optimization"] for rec in heap)
    assert any("encoding/json" in rec["optimization"] for rec in heap)


def test_thread_dump_names_the_monitor_and_its_holder() -> None:
    path = CORPUS / "jvm" / "lock_contention.jstack.txt"
    r = report(path)
    b = r["analysis"]["bottleneck"]
    assert (b["type"], b["category"], b["state"]) == ("contention", "lock", "lock_wait")
    assert "Ledger.record" in b["component"]
    assert "java.lang.Object" in b["reason"] and "held by request-" in b["reason"]
    assert "synchronized" in r["recommendations"][0]["optimization"]
    assert all(rec["expected_improvement_pct"] is None for rec in r["recommendations"])
    waits = census(path)
    lock = next(s for s in waits.sites if s.state == "lock_wait")
    assert lock.holders and lock.holder_stack and "Ledger.record" in lock.holder_stack
    pool = [s for s in waits.sites if s.benign]
    assert pool, "the idle pool and main's join are benign"
