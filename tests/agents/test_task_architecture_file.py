"""A task whose architecture is a file (or an object) rather than a sentence: analyze's model
takes the store the file's components write to as the sink, as a sentence naming it would, so
the task's one plan is the one ``scaling-plan`` gives on the same file (a disk every consumer
shares is never multiplied by adding consumers)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from throughput_expert import api
from throughput_expert.agents.task import run_task

ROOT = Path(__file__).resolve().parents[2]
ARCH = ROOT / "examples" / "architecture.yaml"
DEMO = ROOT / "src" / "throughput_expert" / "examples" / "message-consumer.json"


def _task(folder: Path, architecture: Any) -> Path:
    doc = json.loads((ROOT / "examples" / "babysitter" / "task.json").read_text())
    doc["prompt"]["context"]["architecture"] = architecture
    path = folder / "task.json"
    path.write_text(json.dumps(doc))
    return path


def _steps(plan: dict[str, Any]) -> list[tuple[str, int]]:
    return [(s["change"], int(s["value"])) for s in plan["steps"]]


@pytest.mark.parametrize("given", ["file", "object"])
def test_the_task_plans_what_scaling_plan_plans_on_the_same_file(
    tmp_path: Path, given: str
) -> None:
    shutil.copy(ARCH, tmp_path / "architecture.yaml")
    architecture: Any = "architecture.yaml"
    if given == "object":
        architecture = yaml.safe_load(ARCH.read_text())
    _, result = run_task(_task(tmp_path, architecture), str(tmp_path / "result.json"))
    plan = result["implementation_plan"]
    scaling = api.scaling_plan(str(ARCH), target_rps=50_000).to_dict()["implementation_plan"]
    # the file's consumer has concurrency 1, the seed's "single consumer": the demo's plan
    demo = api.analyze([str(DEMO)]).to_dict()["implementation_plan"]
    assert _steps(plan) == _steps(scaling) == _steps(demo) == [("batch", 23), ("instances", 4)]
    assert plan["reaches_target"] is True
    # the shared disk: 80 us per write at 10K, cut to 80·(0.1 + 0.9 / 23) us by the batch, is
    # 55.7 % busy at 50K whatever the instances (the per-instance reading planned 6 instances)
    disk = 50_000 * 80e-6 * (0.1 + 0.9 / 23) * 100
    assert plan["steps"][-1]["utilization_pct"]["disk_io"] == pytest.approx(disk, rel=1e-4)
    first = result["recommendations"][0]
    assert "batch 23 items per call" in first["optimization"]
    assert first["expected_improvement_pct"] == pytest.approx(plan["steps"][0]["gain_pct"])
    # one batching recommendation: scaling-plan's (the same change) is not repeated
    batching = [r for r in result["recommendations"] if "atch" in r["optimization"].split()[0]]
    assert len(batching) == 1, [r["optimization"] for r in batching]
    assert not any("6 instances" in r["optimization"] for r in result["recommendations"])
