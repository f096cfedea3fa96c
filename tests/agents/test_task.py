"""The task worker on task files in every shape, asserting on numbers and verdicts."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from throughput_expert.agents.context import normalize_key
from throughput_expert.agents.task import run_task
from throughput_expert.agents.watch import pending, watch
from throughput_expert.errors import InputError
from throughput_expert.sources.sentence import read_sentence

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]


def staged(tmp_path: Path, name: str, effect: str = "e1") -> Path:
    """The fixture as tasks/<effect>/input.json in a run folder, with its side files."""
    folder = tmp_path / "tasks" / effect
    folder.mkdir(parents=True)
    for extra in ("metrics.json", "profile.collapsed"):
        shutil.copy(FIXTURES / extra, folder / extra)
    path = folder / "input.json"
    shutil.copy(FIXTURES / name, path)
    return path


def test_the_seeds_own_example(tmp_path: Path) -> None:
    written, r = run_task(staged(tmp_path, "seed_agent_block.json"))
    assert written == tmp_path / "tasks" / "e1" / "result.json"  # io.outputJsonPath
    assert json.loads(written.read_text()) == r
    a = r["analysis"]
    assert r["command"] == "task"
    assert a["bottleneck"]["type"] == "io_disk"
    assert a["headroom"]["ceiling_rps"] == pytest.approx(8750)  # 10,000 x 0.70 / 0.80
    # no cores in the task: no pool is sized (tpx does not assume the machine it runs on)
    assert "concurrency" not in a and a["task"]["advisors_skipped"] == ["concurrency"]
    assert "cpu_cores: needed to size a pool" in a["task"]["why_skipped"]["concurrency"]
    assert [x["what"] for x in r["assumptions"]].count("time per item") == 2  # ours, analyze's
    # 100 us split 90 % fixed: c0 = 90 us, c1 = 10 us; the writer busy at most 70 % at 50K:
    # X(b) = b / (90 us + 10 us x b) >= 50,000 / 0.7 -> b = 23, the batch analyze's plan takes
    assert a["batching"]["batch_size"] == 23
    steps = r["implementation_plan"]["steps"]
    assert steps[0]["change"] == "batch" and steps[0]["value"] == 23
    # scaling is planned on the system the plan leaves before scaling out (batch 23): the disk
    # is PostgreSQL's (shared), the consumer's CPU binds at 15.6K: 4 consumers, the plan's step 2
    consumer, store = a["scaling"]["components"]
    assert (consumer["name"], consumer["instances_needed"], consumer["binding"]) == (
        "consumer",
        4,
        "cpu",
    )
    assert (store["name"], store["instances_needed"], store["binding"]) == (
        "PostgreSQL",
        1,
        "disk_io",
    )
    assert steps[1]["change"] == "instances" and steps[1]["value"] == 4
    # one price per change: the batching and scaling advisors' own batch and scale-out are not
    # recommended again beside the plan's steps
    changes = [x["change"] for x in r["recommendations"] if "change" in x]
    assert changes == ["batch", "instances"]
    assert any(x["what"] == "time per item" for x in r["assumptions"])
    assert r["artifacts"] == [str(written)]  # required by the schema: what was written
    assert "schema_violations" not in r
    assert a["task"]["understood"]["architecture"][1]["name"] == "PostgreSQL"


def test_the_seeds_example_with_cores_sizes_the_pools(tmp_path: Path) -> None:
    path = staged(tmp_path, "seed_agent_block.json")
    doc = json.loads(path.read_text())
    doc["agent"]["prompt"]["context"]["cores"] = 8
    path.write_text(json.dumps(doc))
    _, r = run_task(path)
    a = r["analysis"]
    # one consumer at 10,000/s: <= 100 us per message (Little's law); 50,000/s needs 5 in flight,
    # 8 threads to keep them busy at most 70 % (thresholds.pool_busy_target)
    pools = {p["pool"]: p["threads"] for p in a["concurrency"]["pools"]}
    assert pools == {"cpu": 8, "io": 8}
    assert a["concurrency"]["workload"]["cores"] == 8
    assert "why_skipped" not in a["task"] and a["task"]["advisors_skipped"] == []
    # waits on PostgreSQL, CPU at 45 % >= 30 % (thresholds.mixed_workload_cpu): mixed
    kind = next(x for x in r["assumptions"] if x["what"] == "workload type")
    assert kind["value"] == "mixed" and "mixed_workload_cpu = 30%" in kind["why"]
    # one report, one answer per change: the pool is priced on the system model the plan uses
    # (the pool alone would carry 80K rps; the disk, 80 % busy at 10K, caps the system at
    # 10,000 x 0.70 / 0.80 = 8,750 rps: from today's 7K (one worker at 70 %) that is +25 %)
    pool = next(x for x in r["recommendations"] if x.get("change") == "workers")
    assert pool["advisor"] == "concurrency"
    assert pool["expected_improvement_pct"] == pytest.approx(25.0)
    assert "concurrency/workers-on-model" in pool["evidence_ids"]
    proof = next(e for e in r["evidence"] if e["id"] == "concurrency/workers-on-model")
    assert proof["result"]["binding"] == "disk_io"
    assert proof["result"]["ceiling_rps"] == pytest.approx(8750)
    # one first action (analyze's plan step 1), and no advisor's headline for a change the plan
    # makes: the writer alone at 71.9K rps (batching) is not set beside the plan's 15.6K
    assert r["summary"].count("First: ") == 1
    assert "First: batch writes" in r["summary"] and "71.9K" not in r["summary"]
    steps = [s["change"] for s in r["implementation_plan"]["steps"]]
    horizons = [
        i for k in ("immediate", "short_term", "long_term") for i in r["implementation_plan"][k]
    ]
    assert steps == ["batch", "instances"]
    assert not any(
        i.startswith(("Batch 23 items per call", "Scale consumer from")) for i in horizons
    )


def test_top_level_prompt_and_schema(tmp_path: Path) -> None:
    written, r = run_task(staged(tmp_path, "top_level_prompt.json"))
    assert written.name == "result.json"
    u = r["analysis"]["task"]["understood"]
    assert (u["current_rps"], u["target_rps"]) == (2000, 8000)
    assert u["utilization_pct"] == {"cpu": 62.0, "network": 20.0}
    assert r["analysis"]["task"]["advisors_run"] == ["analyze", "scaling"]
    # required: filled with the report's own verdict (its summary), never a stand-in
    assert r["verdict"] == r["summary"] and r["summary"].startswith("Bottleneck: CPU at 62 %")
    svc = r["analysis"]["scaling"]["components"][0]
    # 2,000 rps on one instance at 62 % cpu: 2,000 x 0.7 / 0.62 = 2,258 per instance -> 4
    assert svc["instances_needed"] == 4


def test_agent_name_and_prompt_with_metrics_in_context(tmp_path: Path) -> None:
    _, r = run_task(staged(tmp_path, "agent_name_prompt.json"))
    u = r["analysis"]["task"]["understood"]
    assert (u["current_rps"], u["target_rps"]) == (5000, 12000)
    assert r["analysis"]["bottleneck"]["type"] == "cpu"  # 85 % cpu
    assert r["analysis"]["headroom"]["ceiling_rps"] == pytest.approx(5000 * 0.7 / 0.85)
    names = [p["name"] for p in u["architecture"]]
    assert names == ["server", "MySQL"]
    assert any("nginx balancer" in x for x in r["analysis"]["task"]["unread"])


def test_files_in_the_context_are_read_relative_to_the_task(tmp_path: Path) -> None:
    _, r = run_task(staged(tmp_path, "with_files.json"))
    assert "find-bottleneck" in r["analysis"]["task"]["advisors_run"]
    profile = r["analysis"]["profile"]
    assert profile["bottleneck"]["type"] == "downstream"  # 70 % waiting in socket reads
    assert r["analysis"]["current_throughput"]["rps"] == 800


@pytest.mark.parametrize(
    ("sentence", "kinds", "unread"),
    [
        (
            "Three API servers behind a Kafka topic, writing to MongoDB",
            [("service", 3), ("queue", 1), ("database", None)],
            [],
        ),
        ("two workers; redis cache + S3 archive", [("worker", 2), ("cache", None)], ["S3 archive"]),
        ("a monolith on bare metal", [], ["a monolith on bare metal"]),
        (
            "12 pods -> RabbitMQ -> 4 consumers -> Postgres",
            [("service", 12), ("queue", None), ("worker", 4), ("database", None)],
            [],
        ),
    ],
)
def test_sentences_not_written_against(sentence: str, kinds: list[Any], unread: list[str]) -> None:
    parts, left = read_sentence(sentence)
    assert [(p.kind, p.count) for p in parts] == kinds
    assert left == unread


@pytest.mark.parametrize(
    ("key", "norm"),
    [
        ("currentThroughput", "current_throughput"),
        ("diskIO", "disk_io"),
        ("resource-utilization", "resource_utilization"),
        ("Target Throughput", "target_throughput"),
    ],
)
def test_keys_in_any_style(key: str, norm: str) -> None:
    assert normalize_key(key) == norm


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "malformed JSON"),
        ('{"agent": {"name": "x"}}', "no agent prompt"),
        ('["a list"]', "expected a JSON object"),
    ],
)
def test_unreadable_tasks(tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "input.json"
    path.write_text(content)
    with pytest.raises(InputError, match=words):
        run_task(path)
    assert not (tmp_path / "result.json").exists()


def test_cli_exit_codes(tmp_path: Path) -> None:
    good = staged(tmp_path, "top_level_prompt.json")
    out = tmp_path / "custom.json"
    proc = subprocess.run(
        [sys.executable, "-m", "throughput_expert.cli", "task", str(good), "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and json.loads(out.read_text())["command"] == "task"
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    proc = subprocess.run(
        [sys.executable, "-m", "throughput_expert.cli", "task", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("output_json_path", [None, "out/answer.json"])
def test_a_task_named_by_a_relative_path_is_answered_where_it_says(
    tmp_path: Path, output_json_path: str | None
) -> None:
    # `tpx task examples/babysitter/task.json` wrote examples/babysitter/examples/babysitter/
    # result.json: the folder was resolved against the task's folder twice
    folder = tmp_path / "runs" / "one"
    folder.mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "babysitter" / "task.json", folder / "task.json")
    if output_json_path is not None:
        doc = json.loads((folder / "task.json").read_text())
        doc["io"] = {"outputJsonPath": output_json_path}
        (folder / "task.json").write_text(json.dumps(doc))
        (folder / "out").mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "throughput_expert.cli", "task", "runs/one/task.json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    answer = folder / (output_json_path or "result.json")
    assert json.loads(answer.read_text())["command"] == "task"
    assert not (folder / "runs").exists()


def test_watch_serves_pending_tasks_for_this_agent(tmp_path: Path) -> None:
    staged(tmp_path, "seed_agent_block.json", "a")
    staged(tmp_path, "agent_name_prompt.json", "b")
    other = staged(tmp_path, "agent_name_prompt.json", "c")
    other.write_text(other.read_text().replace("throughput-optimization-expert", "someone-else"))
    assert len(pending(tmp_path)) == 2
    log: list[str] = []
    assert watch(str(tmp_path), once=True, log=log.append) == 0
    # task a names its result: io.outputJsonPath = tasks/e1/result.json, in the run folder
    assert (tmp_path / "tasks" / "e1" / "result.json").exists()
    assert (tmp_path / "tasks" / "b" / "result.json").exists()
    assert not (tmp_path / "tasks" / "c" / "result.json").exists()
    assert pending(tmp_path) == [] and len(log) == 2
