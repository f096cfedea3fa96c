"""Tasks with project context but no numbers (what the babysitter process library sends): the
seed's formulas with their unknowns, the checks, the commands that measure; required keys
filled only with that content, or an error naming what is missing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from throughput_expert.agents.no_data import Unanswerable
from throughput_expert.agents.run import run_advisors
from throughput_expert.agents.task import run_task
from throughput_expert.errors import InputError

FIXTURES = Path(__file__).parent / "fixtures"


def staged(tmp_path: Path, name: str, effect: str = "e1") -> Path:
    folder = tmp_path / "tasks" / effect
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "input.json"
    shutil.copy(FIXTURES / name, path)
    return path


def formulas(r: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for f in r["analysis"]["parameterized"]["formulas"]}


def commands(r: dict[str, Any]) -> list[str]:
    plan = r["analysis"]["parameterized"]["measurement_plan"]
    return [c for step in plan for c in step["run"]]


def test_concurrency_model_from_project_context_only(tmp_path: Path) -> None:
    """Phase 1 of the library's concurrency process: projectName, codebaseType, known issues;
    its schema requires model and artifacts."""
    written, r = run_task(staged(tmp_path, "concurrency_model_task.json"))
    assert "schema_violations" not in r and r["artifacts"] == [str(written)]
    f = formulas(r)
    assert f["pool_io"]["formula"] == "threads = cores × (1 + W / C)"
    assert f["pool_io"]["unknowns"] == ["cores", "W", "C"]
    assert f["pool_cpu"]["formula"] == "threads = cores"
    assert f["little"]["formula"] == "N = X · R" and f["little"]["unknowns"] == ["N", "X", "R"]
    # the model the schema requires is that content, not an empty object
    model = r["model"]
    assert [x["id"] for x in model["formulas"]] == list(f)
    symbols = {u["symbol"]: u for u in model["unknowns"]}
    assert symbols["W"]["measured_by"] == ["profile"]
    assert "never those of the machine running tpx" in symbols["cores"]["what"]
    # cores unknown: a symbol of the answer, said in the summary, never this machine's
    assert "cores of the system advised unknown" in r["summary"]
    assert "threads = cores × (1 + W / C)" in r["summary"]
    assert model["given"]["runtime"] == "jvm" and model["given"]["project"].startswith("Order")
    # the measurement plan: exact commands, the Java profile as thread dumps
    run = commands(r)
    assert "tpx observe --duration 30s --save host.json" in run
    assert "tpx find-bottleneck --profile dumps.txt --threads" in run
    assert any(c.startswith("for i in 1 2 3 4 5; do jstack -l PID") for c in run)
    assert "tpx sweep --url URL --concurrency auto --save sweep.json" in run
    prom = next(
        s for s in r["analysis"]["parameterized"]["measurement_plan"] if s["id"] == "prometheus"
    )
    assert prom["queries"]["cpu_cores"].startswith("count without (cpu, mode)")
    assert (
        "{window}" not in json.dumps(prom["queries"]) and "[5m]" in prom["queries"]["service_rps"]
    )
    # the issues the task reports stay reported, each with the check that confirms it
    issues = {i["issue"]: i for i in r["analysis"]["parameterized"]["reported_issues"]}
    assert issues["lock contention"]["confirm_with"] == ["lock_contention"]
    assert "pool_queue" in issues["thread starvation"]["confirm_with"]
    assert issues["lock contention"]["status"] == "reported by the task, not measured"
    # nothing was measured: no advisor ran, no improvement is claimed
    assert r["analysis"]["task"]["advisors_run"] == []
    assert all(x["expected_improvement_pct"] is None for x in r["recommendations"])
    assert r["recommendations"][0]["optimization"].startswith("Measure cores")


def test_checks_use_the_operators_saturation_targets(tmp_path: Path) -> None:
    path = staged(tmp_path, "concurrency_model_task.json")
    settings = tmp_path / "defaults.yaml"
    settings.write_text("saturation_targets:\n  cpu: 0.6\n")
    _, r = run_task(path, defaults=str(settings))
    checks = {c["id"]: c for c in r["analysis"]["parameterized"]["checks"]}
    assert checks["cpu_saturation"]["target"] == "under 60% busy (saturation_targets.cpu)"
    assert checks["lock_contention"]["measured_by"] == ["profile"]


def test_thread_pool_configuration_is_the_parameterized_pools(tmp_path: Path) -> None:
    _, r = run_task(staged(tmp_path, "thread_pools_task.json"))
    config = r["configuration"]
    pools = {p["pool"]: p for p in config["pools"]}
    assert pools["io"] == {
        "pool": "io",
        "threads": "threads = cores × (1 + W / C)",
        "unknowns": ["cores", "W", "C"],
    }
    assert "ThreadPoolExecutor" in config["runtime"]["cpu_pool"]  # codebaseType java
    last = config["measure"][-1]["run"][0]
    assert last.startswith("tpx optimize-concurrency --workload-type WORKLOAD")
    assert "--cpu-cores CORES --wait-time W --compute-time C" in last


def test_given_cores_and_target_are_written_into_formulas_and_commands(tmp_path: Path) -> None:
    path = staged(tmp_path, "thread_pools_task.json")
    doc = json.loads(path.read_text())
    doc["agent"]["prompt"]["context"] |= {"cores": 8, "targetThroughput": "5K rps"}
    path.write_text(json.dumps(doc))
    _, r = run_task(path)
    f = formulas(r)
    assert f["pool_io"]["with_given"] == "threads = 8 × (1 + W / C)"
    assert f["pool_io"]["unknowns"] == ["W", "C"]
    assert f["pool_cpu"]["with_given"] == "threads = 8" and f["pool_cpu"]["unknowns"] == []
    assert f["little_target"]["with_given"] == "N_needed = 5000 · R"
    assert r["configuration"]["pools"][0]["threads"] == "threads = 8"
    assert "cores of the system advised unknown" not in r["summary"]
    assert any("--cpu-cores 8" in c and "--target-throughput 5000" in c for c in commands(r))


def test_contention_points_cannot_be_filled_without_a_profile(tmp_path: Path) -> None:
    """Phase 2 receives phase 1's result in its context; its schema requires contentionPoints,
    which only a profile gives: an error naming the key and the command, never []."""
    _, first = run_task(staged(tmp_path, "concurrency_model_task.json", "p1"))
    path = staged(tmp_path, "contention_points_task.json", "p2")
    doc = json.loads(path.read_text())
    doc["agent"]["prompt"]["context"]["concurrencyModel"] = first
    path.write_text(json.dumps(doc))
    with pytest.raises(Unanswerable) as caught:
        run_task(path)
    err = caught.value
    assert isinstance(err, InputError) and err.source == "task"
    assert err.field == "contentionPoints" and err.missing == ("contentionPoints",)
    line = err.one_line()
    assert "contentionPoints needs a profile of the running service with its lock waits" in line
    # the runtime comes from phase 1's result: the Java way to record it
    assert "jstack -l PID" in line and "tpx find-bottleneck --profile dumps.txt" in line
    assert "\n" not in line
    assert not (path.parent / "result.json").exists()


def test_benchmark_keys_name_the_before_and_after_measurement(tmp_path: Path) -> None:
    path = staged(tmp_path, "benchmark_task.json")
    with pytest.raises(Unanswerable) as caught:
        run_task(path)
    assert caught.value.missing == ("throughputImprovement", "results")
    assert "throughputImprovement and results need a measurement before and after" in str(
        caught.value
    )
    assert "tpx sweep --url URL --concurrency auto" in str(caught.value)


def test_cli_prints_the_named_error_on_one_line(tmp_path: Path) -> None:
    path = staged(tmp_path, "benchmark_task.json")
    proc = subprocess.run(
        [sys.executable, "-m", "throughput_expert.cli", "task", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("task: throughputImprovement, results: ")


def test_no_stand_ins_for_unknown_required_keys(tmp_path: Path) -> None:
    prompt = {
        "task": "Tune the worker pool",
        "context": {"projectName": "billing"},
        "outputSchema": {
            "type": "object",
            "required": ["summary", "lockFreeCandidates", "success", "artifacts"],
            "properties": {"lockFreeCandidates": {"type": "array"}, "success": {"type": "boolean"}},
        },
    }
    with pytest.raises(Unanswerable) as caught:
        run_advisors(prompt, tmp_path)
    assert caught.value.missing == ("lockFreeCandidates", "success")
    assert "content this worker does not produce" in str(caught.value)


def test_a_required_key_of_the_wrong_type_is_not_forced(tmp_path: Path) -> None:
    prompt = {
        "task": "Size the thread pools",
        "context": {"projectName": "billing"},
        "outputSchema": {
            "type": "object",
            "required": ["configuration"],
            "properties": {"configuration": {"type": "string"}},
        },
    }
    with pytest.raises(Unanswerable, match="configuration needs content of type string"):
        run_advisors(prompt, tmp_path)


def test_a_bare_task_gets_the_plan_for_every_topic(tmp_path: Path) -> None:
    r = run_advisors({"task": "speed it up", "context": {}}, tmp_path).to_dict()
    ids = {f["id"] for f in r["analysis"]["parameterized"]["formulas"]}
    assert {"pool_io", "little", "batching", "instances", "utilization"} <= ids
    f = formulas(r)["batching"]
    assert f["formula"] == "T(b) = c0 + c1 · b; X(b) = N · b / T(b)"
    assert f["unknowns"] == ["c0", "c1", "N"]
    steps = {s["id"]: s for s in r["analysis"]["parameterized"]["measurement_plan"]}
    assert steps["batching"]["run"] == [
        "tpx design-batching --operation OPERATION --target-throughput X_TARGET --measure DSN"
    ]
    assert "DSN" in steps["batching"]["fill_in"]
    # no runtime named: any profile file, or a Python process recorded by pid
    assert steps["profile"]["run"] == ["tpx find-bottleneck --profile FILE --threads"]
    assert "tpx find-bottleneck --pid PID --duration 30s --threads" in steps["profile"]["or"]


def test_a_profile_without_metrics_is_still_read(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "profile.collapsed", tmp_path / "profile.collapsed")
    prompt = {
        "task": "Identify contention points",
        "context": {"projectName": "api", "profile": "profile.collapsed"},
        "outputSchema": {
            "type": "object",
            "required": ["contentionPoints", "analysis"],
            "properties": {"contentionPoints": {"type": "array"}},
        },
    }
    r = run_advisors(prompt, tmp_path).to_dict()
    assert r["analysis"]["task"]["advisors_run"] == ["find-bottleneck"]
    assert r["analysis"]["profile"]["bottleneck"]["type"] == "downstream"
    # measured: the profile waits in socket reads, on no lock: an empty list that was measured
    assert r["contentionPoints"] == []


def test_contention_points_from_thread_dumps(tmp_path: Path) -> None:
    """With a profile the key is filled from what it measured: three workers BLOCKED on the
    monitor worker-1 holds in Inventory.reserve, in each of three dumps."""
    shutil.copy(FIXTURES / "blocked_workers.jstack.txt", tmp_path / "dumps.txt")
    prompt = {
        "task": "Identify contention points",
        "context": {"projectName": "orders", "codebaseType": "java", "profile": "dumps.txt"},
        "outputSchema": {
            "type": "object",
            "required": ["contentionPoints"],
            "properties": {"contentionPoints": {"type": "array"}},
        },
    }
    r = run_advisors(prompt, tmp_path).to_dict()
    first = r["contentionPoints"][0]
    assert first["kind"] == "bottleneck" and "orders.Inventory.reserve" in first["what"]
    assert first["share_pct"] == 75.0  # 9 of 12 thread observations wait for the lock
    assert "held by worker-1" in first["reason"]


def test_numbers_no_reader_takes_are_said_not_passed_over(tmp_path: Path) -> None:
    """A task whose only numbers are in words tpx cannot read is not "without measurements":
    the summary names them, analysis.task.unread says why."""
    path = tmp_path / "tasks" / "e1" / "input.json"
    path.parent.mkdir(parents=True)
    context = {"currentThroughput": "ten thousand-ish", "cores": -3, "projectName": "orders"}
    path.write_text(json.dumps({"prompt": {"task": "Speed it up", "context": context}}))
    _, r = run_task(path)
    assert r["summary"].startswith(
        "The task holds no measurements tpx can read (current_throughput, cores: not read, "
        "see analysis.task.unread): parameterized answer"
    )
    unread = r["analysis"]["task"]["unread"]
    assert any(n.startswith('current_throughput: cannot read "ten thousand-ish"') for n in unread)
    assert any(n.startswith("cores: -3 is negative") for n in unread)
    # a key it does not read is not a measurement it failed to read
    path.write_text(json.dumps({"prompt": {"task": "Speed it up", "context": {"team": "x"}}}))
    _, r = run_task(path)
    assert r["summary"].startswith("The task holds no measurements (no throughput,")
