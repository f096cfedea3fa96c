"""The task worker trusts nothing in a task file: every path it names stays in the run folder
(or an --allow-root folder), secret-named keys are never echoed, and one bad task never stops
``tpx task --watch``. The real ``tpx`` runs as a subprocess on real files."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.support import run_tpx

from throughput_expert.agents.task import run_task
from throughput_expert.agents.watch import Watcher, pending
from throughput_expert.errors import InputError

SECRET = "hunter2-not-for-you"
GOOD_PROMPT = {
    "task": "Increase throughput from 10K to 50K msgs/sec",
    "context": {"currentThroughput": "10,000 msgs/sec", "cpu": "45%", "diskIO": "80%"},
    "instructions": ["Identify throughput bottlenecks"],
}


def tpx(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return run_tpx(*args, timeout=timeout)


def write_task(run: Path, effect: str, doc: dict[str, Any]) -> Path:
    folder = run / "tasks" / effect
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "input.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """A run folder and, beside it, a folder outside it holding a secret-laden file."""
    run, outside = tmp_path / "run", tmp_path / "outside"
    run.mkdir()
    outside.mkdir()
    (outside / "secret.json").write_text(json.dumps({"db_password": SECRET}), encoding="utf-8")
    (outside / "arch.yaml").write_text(f"db_password: {SECRET}\n", encoding="utf-8")
    return run, outside


# --- hole 1: io.outputJsonPath writes (and creates folders) anywhere ---------------------------


@pytest.mark.parametrize("how", ["dotdot", "absolute", "link"])
def test_an_output_path_outside_the_run_is_refused_and_nothing_is_written(
    layout: tuple[Path, Path], how: str
) -> None:
    run, outside = layout
    before = files_under(outside)
    if how == "link":  # a link inside the run pointing outside counts as outside
        (run / "tasks" / "e1").mkdir(parents=True)
        (run / "tasks" / "e1" / "out").symlink_to(outside, target_is_directory=True)
    target = {
        "dotdot": "../outside/new/deeper/result.json",
        "absolute": str(outside / "new" / "deeper" / "result.json"),
        "link": "tasks/e1/out/new/result.json",
    }[how]
    path = write_task(run, "e1", {"prompt": GOOD_PROMPT, "io": {"outputJsonPath": target}})
    proc = tpx("task", str(path))
    assert proc.returncode == 2, proc.stderr
    line = proc.stderr
    assert line.count("\n") == 1 and "Traceback" not in line
    assert line.startswith(f"{path}: io.outputJsonPath: {target!r} is outside the run folder ")
    assert str(run) in line and "tpx task --allow-root DIR widens it" in line
    assert files_under(outside) == before  # no file, no folder created outside
    assert not list(run.rglob("result.json"))


def test_allow_root_widens_the_workspace_and_output_is_the_users_own(
    layout: tuple[Path, Path],
) -> None:
    run, outside = layout
    target = str(outside / "results" / "e1.json")
    path = write_task(run, "e1", {"prompt": GOOD_PROMPT, "io": {"outputJsonPath": target}})
    proc = tpx("task", str(path), "--allow-root", str(outside))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(Path(target).read_text())["command"] == "task"
    # --output is typed by the user: trusted, not confined to the run
    mine = outside / "mine.json"
    proc = tpx("task", str(path), "--output", str(mine))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(mine.read_text())["command"] == "task"
    # the API takes the same widening
    written, _ = run_task(path, allow_roots=[outside])
    assert written == Path(target)


def test_a_lone_input_json_is_confined_to_its_folder(layout: tuple[Path, Path]) -> None:
    run, _ = layout
    path = run / "input.json"
    path.write_text(json.dumps({"prompt": GOOD_PROMPT, "io": {"outputJsonPath": "../r.json"}}))
    with pytest.raises(InputError, match=r"io\.outputJsonPath: '\.\./r\.json' is outside"):
        run_task(path)
    assert not (run.parent / "r.json").exists()
    ok = run / "ok.json"
    ok.write_text(json.dumps({"prompt": GOOD_PROMPT, "io": {"outputJsonPath": "sub/r.json"}}))
    written, _ = run_task(ok)
    assert written == run / "sub" / "r.json" and written.exists()


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("metrics", "../../../outside/secret.json", "context.metrics"),
        ("profile", "{outside}/secret.json", "context.profile"),
        ("sweep", ["ok.csv", "link/secret.json"], "context.sweep[1]"),
        ("architecture", "../../../outside/arch.yaml", "context.architecture"),
        ("architecture", "link/arch.yaml", "context.architecture"),
        ("measurements", "{outside}/secret.json", "context.measurements"),
    ],
)
def test_context_files_outside_the_run_are_refused_unread(
    layout: tuple[Path, Path], key: str, value: Any, field: str
) -> None:
    run, outside = layout
    folder = run / "tasks" / "e1"
    folder.mkdir(parents=True)
    (folder / "link").symlink_to(outside, target_is_directory=True)
    if isinstance(value, str):
        value = value.format(outside=outside)
    prompt = {**GOOD_PROMPT, "context": {**GOOD_PROMPT["context"], key: value}}
    path = write_task(run, "e1", {"prompt": prompt})
    proc = tpx("task", str(path))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert f": {field}: " in proc.stderr and "is outside the run folder" in proc.stderr
    assert "--allow-root" in proc.stderr
    assert SECRET not in proc.stderr
    assert not (folder / "result.json").exists()


def test_a_fifo_named_inside_the_run_is_refused_unopened(layout: tuple[Path, Path]) -> None:
    run, _ = layout
    folder = run / "tasks" / "e1"
    folder.mkdir(parents=True)
    os.mkfifo(folder / "metrics.json")  # opening it would block the worker for ever
    prompt = {**GOOD_PROMPT, "context": {**GOOD_PROMPT["context"], "metrics": "metrics.json"}}
    proc = tpx("task", str(write_task(run, "e1", {"prompt": prompt})), timeout=30)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().endswith("context.metrics: 'metrics.json' is not a regular file")
    assert not (folder / "result.json").exists()


def test_context_files_inside_an_allowed_root_are_read(layout: tuple[Path, Path]) -> None:
    run, outside = layout
    shared = outside / "metrics.json"
    fixtures = Path(__file__).parent / "fixtures"
    shared.write_text((fixtures / "metrics.json").read_text())
    prompt = {"task": "Find the bottleneck", "context": {"metrics": str(shared)}}
    path = write_task(run, "e1", {"prompt": prompt})
    with pytest.raises(InputError, match="outside the run folder"):
        run_task(path)
    _, result = run_task(path, allow_roots=[outside])
    assert result["analysis"]["current_throughput"]["rps"] == 800


def test_secret_named_keys_are_never_echoed(tmp_path: Path) -> None:
    context = {
        **GOOD_PROMPT["context"],
        "dbPassword": SECRET,
        "api-key": {"nested": [SECRET]},
        "authToken": f"from 1 to {SECRET} rps",
        "currentMetrics": {"clientSecret": SECRET},
    }
    path = write_task(tmp_path, "e1", {"prompt": {**GOOD_PROMPT, "context": context}})
    proc = tpx("task", str(path))
    assert proc.returncode == 0, proc.stderr
    text = (path.parent / "result.json").read_text()
    assert SECRET not in text and SECRET not in proc.stderr
    unread = json.loads(text)["analysis"]["task"]["unread"]
    for key in ("db_password", "api_key", "auth_token", "client_secret"):
        assert f"{key}: a secret by its name: not read, its value not shown" in unread


# --- hole 4: one bad task stops tpx task --watch ----------------------------------------------


def test_watch_goes_on_past_bad_tasks(tmp_path: Path) -> None:
    run, outside = tmp_path / "run", tmp_path / "outside"
    outside.mkdir()
    escaped = outside / "escaped.json"
    write_task(run, "a-escapes", {"prompt": GOOD_PROMPT, "io": {"outputJsonPath": str(escaped)}})
    # before the fix: TypeError ('int' object is not iterable), a non-ThroughputError
    write_task(run, "b-instructions", {"prompt": {**GOOD_PROMPT, "instructions": 5}})
    # before the fix: RecursionError in the validator
    write_task(
        run, "c-selfref", {"prompt": GOOD_PROMPT, "outputSchema": {"allOf": [{"$ref": "#"}]}}
    )
    # before the fix: a FIFO named input.json blocks the reader for ever
    (run / "tasks" / "d-fifo").mkdir()
    os.mkfifo(run / "tasks" / "d-fifo" / "input.json")
    # a task file that is a link to a file outside the watched folder
    (outside / "input.json").write_text(json.dumps({"prompt": GOOD_PROMPT}))
    (run / "tasks" / "e-link").mkdir()
    (run / "tasks" / "e-link" / "input.json").symlink_to(outside / "input.json")
    write_task(run, "f-malformed", {}).write_text("{not json")
    good = write_task(run, "z-good", {"prompt": GOOD_PROMPT})

    proc = tpx("task", "--watch", str(run), "--once", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert json.loads((good.parent / "result.json").read_text())["command"] == "task"
    lines = proc.stderr.splitlines()
    refused = {line.split("/tasks/")[1].split("/")[0]: line for line in lines if "cannot" in line}
    assert set(refused) == {"a-escapes", "d-fifo", "e-link", "f-malformed"}, proc.stderr
    assert "io.outputJsonPath" in refused["a-escapes"] and "--allow-root" in refused["a-escapes"]
    assert "not a regular file" in refused["d-fifo"]
    assert "outside the watched folder" in refused["e-link"]
    assert "malformed JSON" in refused["f-malformed"]
    assert not escaped.exists()
    # what used to crash the watcher is now served, and honest about the schema
    assert (run / "tasks" / "b-instructions" / "result.json").exists()
    selfref = json.loads((run / "tasks" / "c-selfref" / "result.json").read_text())
    assert any("refers to itself" in v for v in selfref["schema_violations"])
    assert not (outside / "result.json").exists()


def test_pending_never_raises_for_a_bad_task(tmp_path: Path) -> None:
    write_task(tmp_path, "a", {"prompt": GOOD_PROMPT, "io": {"outputJsonPath": "/etc/x.json"}})
    write_task(tmp_path, "b", {}).write_text("[")
    write_task(tmp_path, "c", {"prompt": GOOD_PROMPT, "io": {"outputJsonPath": "a\x00b"}})
    write_task(tmp_path, "d", {"prompt": GOOD_PROMPT, "io": {"outputJsonPath": 7}})
    (tmp_path / "tasks" / "e").mkdir()
    os.mkfifo(tmp_path / "tasks" / "e" / "input.json")
    assert [p.parent.name for p in pending(tmp_path)] == ["a", "b", "c", "d", "e"]


def test_a_failure_is_remembered_until_the_task_is_rewritten(tmp_path: Path) -> None:
    bad = write_task(tmp_path, "a", {}).parent / "input.json"
    bad.write_text("{oops")
    other = write_task(tmp_path, "b", {"prompt": GOOD_PROMPT})
    boom = write_task(tmp_path, "c", {"prompt": GOOD_PROMPT})

    def serve(path: Path, **kw: Any) -> tuple[Path, dict[str, Any]]:
        if path == boom:
            raise RuntimeError("a bug\nover two lines")
        return run_task(path, **kw)

    log: list[str] = []
    watcher = Watcher(tmp_path, log=log.append, serve=serve)
    watcher.round()
    assert len(log) == 3 and log[0].startswith(f"cannot serve {bad}: line 1 column 2: malformed")
    assert log[1] == f"served {other} -> {other.parent / 'result.json'}"
    assert log[2] == (
        f"cannot serve {boom}: internal error: RuntimeError: a bug over two lines "
        "(a bug; the watcher goes on)"
    )
    watcher.round()
    assert len(log) == 3  # both failures remembered: not retried, not logged again
    bad.write_text(json.dumps({"prompt": GOOD_PROMPT}))  # rewritten: a new size and time
    watcher.round()
    assert log[3:] == [f"served {bad} -> {bad.parent / 'result.json'}"]


def test_watch_refuses_a_missing_folder_and_a_bad_allow_root(tmp_path: Path) -> None:
    proc = tpx("task", "--watch", str(tmp_path / "nope"), "--once")
    assert proc.returncode == 2 and proc.stderr.startswith("tpx task: --watch: ")
    proc = tpx("task", "--watch", str(tmp_path), "--once", "--allow-root", str(tmp_path / "no"))
    assert proc.returncode == 2 and proc.stderr.startswith("tpx task: --allow-root: ")
    assert proc.stderr.count("\n") == 1
