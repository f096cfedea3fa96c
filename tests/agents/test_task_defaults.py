"""The task worker calls the public API: the operator's ``--defaults`` reaches every advisor a
task runs (and a task may not replace it), the workload threshold is a setting, and without the
cores of the system advised no pool is sized."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from throughput_expert import api
from throughput_expert.agents.task import run_task
from throughput_expert.agents.watch import watch
from throughput_expert.errors import InputError
from throughput_expert.model import ServiceMetrics
from throughput_expert.model.architecture import Architecture, Component

FIXTURES = Path(__file__).parent / "fixtures"


def staged(tmp_path: Path, cores: int | None = None, effect: str = "e1") -> Path:
    """The seed's own example as tasks/<effect>/input.json, with ``cores`` in its context."""
    folder = tmp_path / "tasks" / effect
    folder.mkdir(parents=True)
    shutil.copy(FIXTURES / "metrics.json", folder / "metrics.json")
    doc = json.loads((FIXTURES / "seed_agent_block.json").read_text())
    if cores is not None:
        doc["agent"]["prompt"]["context"]["cores"] = cores
    doc["io"]["outputJsonPath"] = f"tasks/{effect}/result.json"
    path = folder / "input.json"
    path.write_text(json.dumps(doc))
    return path


def settings(tmp_path: Path, text: str, name: str = "mine.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


DISK_80 = "saturation_targets: {disk_io: '80%'}\n"


def _ceiling_and_instances(r: dict[str, Any]) -> tuple[float, float]:
    """analyze's ceiling, and what scaling-plan says PostgreSQL's disk carries at its target
    after the plan's batch (11.1 % busy at 10K, the packaged 70 % or the operator's 80 %)."""
    a = r["analysis"]
    store = a["scaling"]["components"][1]
    assert store["name"] == "PostgreSQL" and store["binding"] == "disk_io"
    return a["headroom"]["ceiling_rps"], store["capacity_per_instance_rps"]


def test_defaults_change_every_advisor_of_the_task(tmp_path: Path) -> None:
    _, packaged = run_task(staged(tmp_path, effect="a"))
    # 10,000 msg/s at 80 % disk: 8,750 at the packaged 70 % target, 10,000 at 80 %
    disk = 8e-6 + 72e-6 / 23  # seconds of disk per item after the plan's batch 23
    assert _ceiling_and_instances(packaged) == (
        pytest.approx(8750),
        pytest.approx(0.7 / disk, rel=1e-5),
    )
    mine = settings(tmp_path, DISK_80)
    _, r = run_task(staged(tmp_path, effect="b"), defaults=str(mine))
    assert _ceiling_and_instances(r) == (pytest.approx(10_000), pytest.approx(0.8 / disk, rel=1e-5))


def test_tpx_task_defaults_flag_and_watch(tmp_path: Path) -> None:
    mine = settings(tmp_path, DISK_80)
    path = staged(tmp_path, effect="one")
    out = tmp_path / "out.json"
    argv = ["task", str(path), "--output", str(out), "--defaults", str(mine)]
    proc = subprocess.run(
        [sys.executable, "-m", "throughput_expert.cli", *argv],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    at_80 = (pytest.approx(10_000), pytest.approx(0.8 / (8e-6 + 72e-6 / 23), rel=1e-5))
    assert _ceiling_and_instances(json.loads(out.read_text())) == at_80
    run = tmp_path / "run"
    staged(run, effect="w")
    assert watch(str(run), once=True, log=lambda _: None, defaults=str(mine)) == 0
    served = json.loads((run / "tasks" / "w" / "result.json").read_text())
    assert _ceiling_and_instances(served) == at_80


def test_watch_refuses_a_bad_defaults_file_at_once(tmp_path: Path) -> None:
    bad = settings(tmp_path, "saturation_targets: {cpux: 0.5}\n")
    with pytest.raises(InputError, match="cpux"):
        watch(str(tmp_path), once=True, log=lambda _: None, defaults=str(bad))


def test_the_workload_threshold_is_a_setting(tmp_path: Path) -> None:
    _, r = run_task(staged(tmp_path, cores=8, effect="a"))
    pools = {p["pool"]: p["threads"] for p in r["analysis"]["concurrency"]["pools"]}
    assert pools == {"cpu": 8, "io": 8}  # mixed: CPU at 45 % >= 30 %; 5 in flight at 70 %
    mine = settings(tmp_path, "thresholds: {mixed_workload_cpu: 0.5}\n")
    _, r = run_task(staged(tmp_path, cores=8, effect="b"), defaults=str(mine))
    pools = {p["pool"]: p["threads"] for p in r["analysis"]["concurrency"]["pools"]}
    assert pools == {"io": 8}  # 45 % < 50 %: one I/O pool
    kind = next(x for x in r["assumptions"] if x["what"] == "workload type")
    assert kind["value"] == "io" and "below thresholds.mixed_workload_cpu = 50%" in kind["why"]


def command_task(tmp_path: Path, arguments: dict[str, Any]) -> Path:
    folder = tmp_path / "tasks" / "c"
    folder.mkdir(parents=True)
    shutil.copy(FIXTURES / "metrics.json", folder / "metrics.json")
    path = folder / "input.json"
    path.write_text(json.dumps({"prompt": {"command": "analyze", "arguments": arguments}}))
    return path


def test_a_command_task_gets_the_operators_defaults(tmp_path: Path) -> None:
    path = command_task(tmp_path, {"metrics": ["metrics.json"]})
    _, r = run_task(path)
    assert r["command"] == "analyze"
    # 800 rps at 30 % cpu: 800 x 0.70 / 0.30 packaged, 800 x 0.60 / 0.30 with the operator's
    assert r["analysis"]["headroom"]["ceiling_rps"] == pytest.approx(800 * 0.7 / 0.3, rel=1e-5)
    mine = settings(tmp_path, "saturation_targets: {cpu: '60%'}\n")
    _, r = run_task(path, defaults=str(mine))
    assert r["analysis"]["headroom"]["ceiling_rps"] == pytest.approx(1600)


def test_a_task_may_not_replace_the_operators_defaults(tmp_path: Path) -> None:
    path = command_task(tmp_path, {"metrics": ["metrics.json"], "defaults": "own.yaml"})
    settings(path.parent, "saturation_targets: {cpu: '60%'}\n", "own.yaml")
    # no --defaults: the task's own settings file, inside its workspace, is read
    _, r = run_task(path)
    assert r["analysis"]["headroom"]["ceiling_rps"] == pytest.approx(1600)
    (path.parent / "result.json").unlink()
    mine = settings(tmp_path, "saturation_targets: {cpu: '50%'}\n")
    with pytest.raises(InputError) as err:
        run_task(path, defaults=str(mine))
    assert err.value.one_line() == (
        "task: arguments.defaults: the operator gave the settings file: a task may not replace it"
    )
    assert not (path.parent / "result.json").exists()


NO_CORES = (
    "cpu_cores: needed to size a pool (the cores of the system advised; tpx does not assume "
    "the machine it runs on)"
)


@pytest.mark.parametrize(
    "kw",
    [{}, {"wait_time": 0.1, "compute_time": 0.01}, {"target_throughput": 100, "wait_time": 0.1}],
)
def test_no_cores_no_pool(kw: dict[str, Any]) -> None:
    with pytest.raises(InputError) as err:
        api.optimize_concurrency("io", 4, **kw)
    assert err.value.one_line() == NO_CORES and err.value.parameter == "cpu_cores"


def test_no_cores_reports_the_other_parameters_first() -> None:
    with pytest.raises(InputError, match="latency_slo"):
        api.optimize_concurrency("io", 4, latency_slo="p99=lots")


def test_the_api_takes_loaded_objects() -> None:
    m = ServiceMetrics(throughput_rps=800.0, utilization={"cpu": 0.4})
    r = api.analyze(m)
    assert r.to_dict()["analysis"]["headroom"]["ceiling_rps"] == pytest.approx(1400)
    arch = Architecture(
        system="s",
        entry_rate_rps=1000.0,
        components=(Component("web", "service", instances=2, utilization={"cpu": 0.5}),),
    )
    plan = api.scaling_plan(arch, target_rps=3000).to_dict()["analysis"]
    assert plan["components"][0]["instances_needed"] == 5  # 3,000 / (500 x 0.7 / 0.5) = 4.3
