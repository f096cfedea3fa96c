"""``tpx task`` as the worker of real babysitter runs: the SDK's own ``babysitter`` CLI
(``@a5c-ai/babysitter-sdk``, pinned in ``tests/agents/node``, installed by scripts/test) creates
and iterates the runs; ``tpx task --watch`` (a subprocess) answers their agent tasks.

Each run goes ``run:create`` -> ``run:iterate`` (waiting on an agent task) -> ``tpx task --watch
--once`` -> ``run:iterate`` -> ``completed`` (the report in the run's output) or ``failed``
(with tpx's one-line message). The process files are the repository's ``examples/babysitter``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support import TPX, run_captured, run_tpx

NODE = Path(__file__).parent / "node"
BIN = NODE / "node_modules" / ".bin" / "babysitter"
EXAMPLES = Path(__file__).parents[2] / "examples" / "babysitter"
FIXTURES = Path(__file__).parent / "fixtures"
AGENT = "throughput-optimization-expert"


@pytest.fixture(scope="module")
def babysitter() -> str:
    """The pinned SDK's CLI; in CI a missing one fails, elsewhere it skips."""
    if not BIN.exists():
        message = f"{BIN} is missing (scripts/test installs it: npm ci --prefix {NODE})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return str(BIN)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder holding the example process files, the SDK reachable from them."""
    (tmp_path / "node_modules").symlink_to(NODE / "node_modules", target_is_directory=True)
    for example in EXAMPLES.iterdir():
        shutil.copy(example, tmp_path / example.name)
    return tmp_path


def sdk(babysitter: str, project: Path, *args: str, ok: bool = True) -> Any:
    """``babysitter ARGS --json`` in the project; its JSON answer."""
    proc = run_captured([babysitter, *args, "--json"], cwd=project, timeout=120)
    if ok:
        assert proc.returncode == 0, proc.stderr + proc.stdout
    return json.loads(proc.stdout)


def create(babysitter: str, project: Path, entry: str, inputs: dict[str, Any] | str) -> Path:
    """``run:create`` of the process file ``entry`` (in the project) with ``inputs`` (a file of
    the project, or a document), then its first ``run:iterate``: waiting on one agent task."""
    if isinstance(inputs, dict):
        (project / "inputs.json").write_text(json.dumps(inputs), encoding="utf-8")
        inputs = "inputs.json"
    made = sdk(
        babysitter,
        project,
        "run:create",
        "--process-id",
        entry.removesuffix(".mjs"),
        "--entry",
        f"./{entry}#process",
        "--inputs",
        inputs,
        "--non-interactive",
    )
    run = Path(made["runDir"])
    assert run.parent == project / ".a5c" / "runs"
    first = sdk(babysitter, project, "run:iterate", str(run))
    assert first["status"] == "waiting", first
    assert [a["kind"] for a in first["nextActions"]] == ["agent"]
    return run


def watch_once(babysitter: str, project: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """``tpx task --watch --once`` in the project: the default runs dir, .a5c/runs."""
    proc = run_tpx(
        "task", "--watch", "--once", "--babysitter", babysitter, *extra, cwd=project, timeout=180
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def effect_of(run: Path) -> str:
    (folder,) = (run / "tasks").iterdir()
    return folder.name


def journal(run: Path) -> list[str]:
    return sorted(os.listdir(run / "journal"))


def output(run: Path) -> Any:
    return json.loads((run / "state" / "output.json").read_text(encoding="utf-8"))


def failure(babysitter: str, project: Path, run: Path) -> dict[str, Any]:
    """The error the run failed with, as its journal's RUN_FAILED event holds it."""
    status = sdk(babysitter, project, "run:status", str(run))
    assert status["state"] == "failed", status
    event = status["lastEvent"]
    assert event["type"] == "RUN_FAILED"
    error: dict[str, Any] = event["data"]["error"]
    return error


# --- the seed's task, both shapes, to completion --------------------------------------------


def test_the_seeds_task_definition_completes_with_the_report(
    babysitter: str, project: Path
) -> None:
    run = create(babysitter, project, "seed-task.mjs", "seed-inputs.json")
    effect = effect_of(run)
    task = json.loads((run / "tasks" / effect / "task.json").read_text())
    assert task["schemaVersion"] == "2026.01.tasks-v1" and task["agent"]["name"] == AGENT

    proc = watch_once(babysitter, project)
    assert proc.returncode == 0, proc.stderr
    value = run / "tasks" / effect / "tpx-value.json"
    where = f".a5c/runs/{run.name}/tasks/{effect}"  # as found below the runs dir
    assert proc.stderr == f"tpx: served {where} -> {value} (posted ok)\n"
    # the SDK wrote its envelope from the posted value; tpx never wrote result.json itself
    envelope = json.loads((run / "tasks" / effect / "result.json").read_text())
    assert envelope["schemaVersion"] == "2026.01.results-v1" and envelope["status"] == "ok"
    assert envelope["value"] == json.loads(value.read_text())

    done = sdk(babysitter, project, "run:iterate", str(run))
    assert done["status"] == "completed", done
    report = output(run)["report"]
    assert report["command"] == "task"
    assert report["analysis"]["bottleneck"]["type"] == "io_disk"  # disk I/O at 80 %
    assert report["analysis"]["headroom"]["ceiling_rps"] == pytest.approx(8750)  # 10K x .7/.8
    assert report["analysis"]["task"]["understood"]["target_rps"] == 50_000


def test_the_generic_agent_call_completes(babysitter: str, project: Path) -> None:
    run = create(babysitter, project, "generic-agent.mjs", "task.json")
    effect = effect_of(run)
    task = json.loads((run / "tasks" / effect / "task.json").read_text())
    assert "agent" not in task and task["inputs"]["agentName"] == AGENT  # the generic shape

    assert watch_once(babysitter, project).returncode == 0
    assert sdk(babysitter, project, "run:iterate", str(run))["status"] == "completed"
    answer = output(run)["answer"]
    assert "schema_violations" not in answer
    # the example's outputSchema requires artifacts: the value file, which the SDK leaves alone
    assert answer["artifacts"] == [str(run / "tasks" / effect / "tpx-value.json")]
    pools = {p["pool"]: p["threads"] for p in answer["analysis"]["concurrency"]["pools"]}
    assert pools["cpu"] == 8  # the task's own cores, never the machine running tpx


def test_watch_is_resumable_and_serves_every_run_once(babysitter: str, project: Path) -> None:
    runs = [
        create(babysitter, project, "seed-task.mjs", "seed-inputs.json"),
        create(babysitter, project, "generic-agent.mjs", "task.json"),
    ]
    first = watch_once(babysitter, project)
    assert first.stderr.count("(posted ok)") == 2, first.stderr
    heads = [journal(r) for r in runs]
    again = watch_once(babysitter, project)  # a restarted watcher: nothing is pending any more
    assert again.returncode == 0 and again.stderr == ""
    assert [journal(r) for r in runs] == heads  # nothing posted twice
    for run in runs:
        assert sdk(babysitter, project, "run:iterate", str(run))["status"] == "completed"
    after = watch_once(babysitter, project)  # finished runs are not even listed
    assert after.returncode == 0 and after.stderr == ""


def test_one_effect_by_name_and_never_twice(babysitter: str, project: Path) -> None:
    run = create(babysitter, project, "seed-task.mjs", "seed-inputs.json")
    effect = effect_of(run)
    proc = run_tpx("task", str(run), effect, "--babysitter", babysitter, cwd=project, timeout=120)
    assert proc.returncode == 0 and "(posted ok)" in proc.stderr, proc.stderr
    head = journal(run)
    value = run / "tasks" / effect / "tpx-value.json"
    written = value.stat().st_mtime_ns
    proc = run_tpx("task", str(run), effect, "--babysitter", babysitter, cwd=project, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert value.stat().st_mtime_ns == written  # not even computed again
    assert (
        proc.stderr
        == f"tpx task: {run}: {effect}: already resolved (resolved_ok): not served twice\n"
    )
    assert journal(run) == head
    assert sdk(babysitter, project, "run:iterate", str(run))["status"] == "completed"
    proc = run_tpx("task", str(run), "NOPE", "--babysitter", babysitter, cwd=project, timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("babysitter task:show: exit 1: effect NOPE not found")


def test_context_files_resolve_against_the_runs_workspace(babysitter: str, project: Path) -> None:
    shutil.copy(FIXTURES / "metrics.json", project / "metrics.json")  # the project's own file
    prompt = {
        "task": "Find the throughput bottleneck",
        "context": {"metrics": "metrics.json", "cores": 4},
        "instructions": ["Identify throughput bottlenecks"],
    }
    run = create(babysitter, project, "generic-agent.mjs", {"agentName": AGENT, "prompt": prompt})
    assert watch_once(babysitter, project).returncode == 0
    assert sdk(babysitter, project, "run:iterate", str(run))["status"] == "completed"
    read = output(run)["answer"]["analysis"]["task"]["understood"]
    assert "metrics" in json.dumps(read)


# --- what tpx cannot answer fails the run, loudly -------------------------------------------


def test_bad_input_fails_the_run_with_tpxs_line(babysitter: str, project: Path) -> None:
    prompt = {"task": "Speed it up", "context": {"metrics": "no-such-metrics.json"}}
    run = create(babysitter, project, "generic-agent.mjs", {"agentName": AGENT, "prompt": prompt})
    effect = effect_of(run)
    proc = watch_once(babysitter, project)
    assert proc.returncode == 0, proc.stderr  # the watcher goes on; the task failed
    (line,) = proc.stderr.splitlines()
    prefix = f"tpx: posted error for .a5c/runs/{run.name}/tasks/{effect}: "
    assert line.startswith(prefix), line
    message = line.removeprefix(prefix)
    assert "no-such-metrics.json" in message and "\n" not in message
    posted = json.loads((run / "tasks" / effect / "tpx-error.json").read_text())
    assert posted == {"name": "InputError", "message": message}

    assert sdk(babysitter, project, "run:iterate", str(run))["status"] == "failed"
    error = failure(babysitter, project, run)
    assert (error["name"], error["message"]) == ("InputError", message)


def test_a_path_outside_the_workspace_fails_the_run_unread(
    babysitter: str, project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside") / "metrics.json"
    shutil.copy(FIXTURES / "metrics.json", outside)
    prompt = {"task": "Find the bottleneck", "context": {"metrics": str(outside)}}
    run = create(babysitter, project, "generic-agent.mjs", {"agentName": AGENT, "prompt": prompt})
    watch_once(babysitter, project)
    sdk(babysitter, project, "run:iterate", str(run))
    error = failure(babysitter, project, run)
    assert "is outside the run's workspace" in error["message"]
    assert "--allow-root" in error["message"]


def test_a_key_the_schema_requires_that_tpx_cannot_fill_fails_the_run(
    babysitter: str, project: Path
) -> None:
    prompt = json.loads((EXAMPLES / "task.json").read_text())["prompt"]
    prompt["outputSchema"] = {
        "type": "object",
        "required": ["summary", "cloudCostUsd", "artifacts"],
        "properties": {
            "summary": {"type": "string"},
            "cloudCostUsd": {"type": "number"},  # nothing in a throughput task says this
            "artifacts": {"type": "array"},
        },
    }
    run = create(babysitter, project, "generic-agent.mjs", {"agentName": AGENT, "prompt": prompt})
    watch_once(babysitter, project)
    assert sdk(babysitter, project, "run:iterate", str(run))["status"] == "failed"
    error = failure(babysitter, project, run)
    assert "cloudCostUsd" in error["message"]  # named, never filled with a stand-in
    assert not (run / "tasks" / effect_of(run) / "tpx-value.json").exists()


def test_a_result_that_violates_the_output_schema_fails_the_run(
    babysitter: str, project: Path
) -> None:
    prompt = json.loads((EXAMPLES / "task.json").read_text())["prompt"]
    prompt["outputSchema"] = {
        "type": "object",
        "required": ["summary"],
        "properties": {"summary": {"type": "number"}},  # tpx's summary is a sentence
    }
    run = create(babysitter, project, "generic-agent.mjs", {"agentName": AGENT, "prompt": prompt})
    effect = effect_of(run)
    (line,) = watch_once(babysitter, project).stderr.splitlines()
    assert line.startswith(f"tpx: posted error for .a5c/runs/{run.name}/tasks/{effect}: ")
    assert sdk(babysitter, project, "run:iterate", str(run))["status"] == "failed"
    error = failure(babysitter, project, run)
    assert error["name"] == "OutputSchemaError"
    assert "outputSchema: the result does not satisfy it: summary: " in error["message"]
    assert "is not of type 'number'" in error["message"]
    assert not (run / "tasks" / effect / "tpx-value.json").exists()  # never posted as ok


def test_a_task_for_tpx_it_cannot_read_fails_the_run(babysitter: str, project: Path) -> None:
    """Addressed to this agent but with no prompt tpx can read: the run fails with the reason
    instead of waiting for ever."""
    run = create(babysitter, project, "generic-agent.mjs", {"agentName": AGENT, "prompt": 42})
    effect = effect_of(run)
    proc = watch_once(babysitter, project)
    assert proc.returncode == 0
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"tpx: posted error for .a5c/runs/{run.name}/tasks/{effect}: "), line
    assert sdk(babysitter, project, "run:iterate", str(run))["status"] == "failed"
    error = failure(babysitter, project, run)
    assert error["name"] == "InputError"
    assert "no agent prompt: expected agent.prompt or inputs.prompt" in error["message"]


def test_only_project_context_gets_an_honest_answer_or_a_named_error(
    babysitter: str, project: Path
) -> None:
    """A process-library task: project context, no numbers, schema keys like ``model``."""
    prompt = {
        "role": "Performance Engineer",
        "task": "Analyze current concurrency model",
        "context": {"projectName": "orders", "codebaseType": "Java service"},
        "instructions": ["1. Identify threading model", "2. Map shared resources"],
        "outputSchema": {
            "type": "object",
            "required": ["model", "artifacts"],
            "properties": {"model": {"type": "object"}, "artifacts": {"type": "array"}},
        },
    }
    run = create(babysitter, project, "generic-agent.mjs", {"agentName": AGENT, "prompt": prompt})
    watch_once(babysitter, project)
    assert sdk(babysitter, project, "run:iterate", str(run))["status"] == "completed"
    answer = output(run)["answer"]
    # the model the schema requires is the parameterized answer, not an empty stand-in
    pools = {f["id"]: f for f in answer["model"]["formulas"]}
    assert pools["pool_io"]["formula"] == "threads = cores × (1 + W / C)"
    assert pools["pool_io"]["unknowns"] == ["cores", "W", "C"]  # not this machine's cores
    assert "cores of the system advised unknown" in answer["summary"]
    steps = answer["analysis"]["parameterized"]["measurement_plan"]
    assert any(c.startswith("tpx observe") for step in steps for c in step["run"])

    # contention points need a profile of the running service: named, with the command
    prompt["outputSchema"]["required"].append("contentionPoints")
    run = create(babysitter, project, "generic-agent.mjs", {"agentName": AGENT, "prompt": prompt})
    watch_once(babysitter, project)
    assert sdk(babysitter, project, "run:iterate", str(run))["status"] == "failed"
    message = failure(babysitter, project, run)["message"]
    assert "contentionPoints needs a profile" in message and "tpx find-bottleneck" in message


def test_tasks_for_other_agents_are_left_alone(babysitter: str, project: Path) -> None:
    prompt = {"task": "Review the API design", "context": {}}
    run = create(
        babysitter, project, "generic-agent.mjs", {"agentName": "api-reviewer", "prompt": prompt}
    )
    head = journal(run)
    proc = watch_once(babysitter, project)
    assert proc.returncode == 0 and proc.stderr == ""
    assert journal(run) == head
    assert sdk(babysitter, project, "run:iterate", str(run))["status"] == "waiting"
    # by name, tpx refuses it and posts nothing
    proc = run_tpx(
        "task", str(run), effect_of(run), "--babysitter", babysitter, cwd=project, timeout=120
    )
    assert proc.returncode == 2 and "addressed to 'api-reviewer'" in proc.stderr
    assert proc.stderr.count("\n") == 1 and journal(run) == head
    # --agent NAME serves that name instead
    proc = watch_once(babysitter, project, "--agent", "api-reviewer")
    assert proc.returncode == 0 and "(posted ok)" in proc.stderr, proc.stderr
    assert sdk(babysitter, project, "run:iterate", str(run))["status"] == "completed"


# --- without the CLI ------------------------------------------------------------------------


def test_without_the_babysitter_cli_one_line_exit_2(tmp_path: Path) -> None:
    runs = tmp_path / ".a5c" / "runs"
    runs.mkdir(parents=True)
    env = {**os.environ, "PATH": os.path.dirname(sys.executable)}  # no babysitter on it
    proc = run_tpx("task", "--watch", "--once", cwd=tmp_path, env=env)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("tpx task: the babysitter CLI is not on PATH")
    proc = run_tpx("task", "--watch", str(runs), "--babysitter", str(tmp_path / "nope"))
    assert proc.returncode == 2 and proc.stderr.startswith("tpx task: --babysitter: ")
    assert proc.stderr.count("\n") == 1


# --- Ctrl-C never leaves a post half done (a stand-in CLI that posts slowly) ----------------

FAKE_CLI = textwrap.dedent(
    """\
    import json, pathlib, sys, time
    args = sys.argv[1:]
    run = pathlib.Path(args[1])
    if args[0] == "task:list":
        done = (run / "posted").exists()
        print(json.dumps({"tasks": [] if done else [
            {"effectId": "e1", "status": "requested", "kind": "agent"}]}))
    elif args[0] == "task:post":
        (run / "posting").write_text("")
        time.sleep(3)
        (run / "posted").write_text(" ".join(args))
        print(json.dumps({"status": args[args.index("--status") + 1], "committed": {}}))
    """
)


@pytest.fixture
def slow_cli(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    script = tmp_path / "fake_babysitter.py"
    script.write_text(FAKE_CLI, encoding="utf-8")
    run = tmp_path / "runs" / "r1"
    (run / "tasks" / "e1").mkdir(parents=True)
    (run / "journal").mkdir()
    (run / "run.json").write_text("{}")
    task = {
        "kind": "agent",
        "schemaVersion": "2026.01.tasks-v1",
        "effectId": "e1",
        "invocationKey": "p:S1:t",
        "inputs": json.loads((EXAMPLES / "task.json").read_text()),
    }
    (run / "tasks" / "e1" / "task.json").write_text(json.dumps(task))
    yield script, run


def test_ctrl_c_waits_for_the_post_to_finish(slow_cli: tuple[Path, Path]) -> None:
    script, run = slow_cli
    command = f"{sys.executable} {script}"
    proc = subprocess.Popen(
        [*TPX, "task", "--watch", str(run.parent), "--interval", "0.2s", "--babysitter", command],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a shell's foreground job
    )
    try:
        deadline = time.monotonic() + 90
        while not (run / "posting").exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr
            time.sleep(0.05)
        # in the middle of task:post, Ctrl-C as a terminal sends it: to the whole group
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert (run / "posted").exists()  # the post ran to its end
    assert "--status ok" in (run / "posted").read_text()
    assert "(posted ok)" in err and "Traceback" not in err


# --- task.json without the CLI ----------------------------------------------------------------


def sdk_task(run: Path, doc: dict[str, Any]) -> Path:
    folder = run / "tasks" / "e1"
    folder.mkdir(parents=True)
    path = folder / "task.json"
    base = {"kind": "agent", "schemaVersion": "2026.01.tasks-v1", "effectId": "e1"}
    path.write_text(json.dumps({**base, **doc}), encoding="utf-8")
    return path


def test_inputs_spilled_to_a_blob_are_read_inside_the_run_only(tmp_path: Path) -> None:
    from throughput_expert.agents.task import read_task
    from throughput_expert.errors import InputError

    run = tmp_path / "run"
    blob = run / "tasks" / "e1" / "blobs" / "inputs-abc.json"
    path = sdk_task(run, {"inputsRef": "tasks/e1/blobs/inputs-abc.json"})
    blob.parent.mkdir()
    blob.write_text((EXAMPLES / "task.json").read_text(), encoding="utf-8")
    task = read_task(path)
    assert task.sdk and task.agent_name == AGENT and task.effect_id == "e1"
    assert task.prompt["context"]["cores"] == 8 and task.output_schema is not None
    path.write_text(json.dumps({**json.loads(path.read_text()), "inputsRef": "../../x.json"}))
    (tmp_path / "x.json").write_text("{}")
    outside = re.escape("inputsRef: '../../x.json' is outside the run folder")
    with pytest.raises(InputError, match=outside):
        read_task(path)


def test_an_sdk_task_is_never_answered_in_its_result_json(tmp_path: Path) -> None:
    inputs = json.loads((EXAMPLES / "task.json").read_text())
    path = sdk_task(
        tmp_path / "run",
        {"inputs": inputs, "io": {"outputJsonPath": "tasks/e1/result.json"}},
    )
    proc = run_tpx("task", str(path))
    assert proc.returncode == 2 and "the SDK owns result.json" in proc.stderr
    assert not (path.parent / "result.json").exists()
    out = tmp_path / "report.json"
    assert run_tpx("task", str(path), "--output", str(out)).returncode == 0  # the user's own file
    assert json.loads(out.read_text())["artifacts"] == [str(out)]
