"""``find-bottleneck --pid`` and ``-- COMMAND``: real processes recorded with py-spy.

The program under test is small and known by construction: six threads take one
``threading.Lock`` around a critical section that computes a little and then sleeps 2 ms while
holding it, so at any time one thread holds the lock and five wait for it, and the process
uses a few percent of one core. It stops by itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from throughput_expert import api, cli
from throughput_expert.errors import InputError
from throughput_expert.measure import pyspy

pytestmark = pytest.mark.skipif(
    shutil.which("py-spy") is None or not sys.platform.startswith("linux"),
    reason="needs py-spy on Linux",
)

CONTENDED = """\
import sys, threading, time

LOCK = threading.Lock()
STOP = time.monotonic() + float(sys.argv[1])


def critical_section():
    total = 0
    for i in range(2000):  # a little Python work under the lock
        total += i * i
    time.sleep(0.002)  # then a wait, still holding it


def handle_request():
    while time.monotonic() < STOP:
        with LOCK:
            critical_section()


threads = [threading.Thread(target=handle_request) for _ in range(6)]
for t in threads:
    t.start()
print("ready", flush=True)
for t in threads:
    t.join()
"""

# A parent that only waits for its child, which spins on one core.
PARENT = """\
import subprocess, sys
subprocess.run([sys.executable, sys.argv[1], sys.argv[2]])
"""
SPINNER = """\
import sys, time
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    pass
"""


@pytest.fixture
def program(tmp_path: Path) -> Path:
    path = tmp_path / "contended.py"
    path.write_text(CONTENDED, encoding="utf-8")
    return path


@pytest.fixture
def running(program: Path) -> Iterator[subprocess.Popen[str]]:
    """The contended program, bounded to 20 s, once its threads have started."""
    proc = subprocess.Popen([sys.executable, str(program), "20"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield proc
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _check_recorded(report: dict[str, Any], pid_of_program: int | None) -> None:
    """What every recording of the contended program shows."""
    kinds = {i["kind"]: i for i in report["inputs"]}
    assert set(kinds) >= {"profile", "gil profile", "process-cpu"}
    native = "--idle --native" in kinds["profile"]["detail"]
    assert native or "--idle --nonblocking" in kinds["profile"]["detail"]  # no native unwinding
    assert "--gil --nonblocking" in kinds["gil profile"]["detail"]
    if pid_of_program is not None:
        assert f"pid {pid_of_program}" in kinds["profile"]["detail"]
    a = report["analysis"]
    assert a["profile"]["measures"] == "wall" and a["profile"]["idle_included"]
    assert a["gil"] is not None  # the --gil recording was paired with the --idle one
    # The measured CPU: a lock held while sleeping keeps the process far from one core busy.
    cpu = a["utilization_pct"]["cpu"]
    cores = psutil.cpu_count()
    assert cores and 0 <= cpu * cores / 100 < 0.3, cpu
    # 7 threads (6 workers and the main thread) at ~100 Hz for ~3 s: a few thousand samples.
    assert 7 * 100 * 1 < a["profile"]["total"] * 100 < 7 * 100 * 4
    # The verdict: threads waiting for one another (the lock), in the worker's code, not CPU.
    verdict = a["bottleneck"]
    assert verdict["type"] == "contention", verdict
    if (
        native
    ):  # the C frames name the wait: the lock, taken at `with LOCK:` (line 16 of the program)
        assert (verdict["category"], verdict["state"]) == ("lock", "lock_wait"), verdict
        assert "handle_request (" in verdict["component"] and ":16)" in verdict["component"]
    else:  # Python frames alone: a wait in a C call at the worker's line
        assert verdict["category"] in ("lock", "blocked"), verdict
        assert "handle_request" in verdict["component"]


def test_pid_records_both_views_and_the_process_cpu(running: subprocess.Popen[str]) -> None:
    """The window is the duration asked: _check_recorded bounds the samples to under 4 s of
    ticks (a bound on what was recorded, not on how long the test took)."""
    report = api.find_bottleneck(pid=running.pid, duration="3s").to_dict()
    _check_recorded(report, running.pid)
    summary = report["summary"]
    assert summary.startswith("Bottleneck: contention")
    assert "the CPU measured over the same time" in summary  # the process's CPU beside it
    assert running.poll() is None  # recording did not stop the process


def test_command_after_dashes_is_recorded_then_stopped(
    program: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    keep = tmp_path / "kept"
    argv = ["find-bottleneck", "--duration", "3", "--format", "json"]
    argv += ["--save-profiles", str(keep), "--", sys.executable, str(program), "60"]
    started = time.monotonic()
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert time.monotonic() - started < 15  # 3 s, then SIGTERM: not the program's 60 s
    report = json.loads(out)
    _check_recorded(report, None)
    assert not [
        p for p in psutil.process_iter(["cmdline"]) if str(program) in (p.info["cmdline"] or [])
    ]
    # --save-profiles keeps what gives the same verdict offline.
    assert sorted(p.name for p in keep.iterdir()) == [
        "gil.speedscope.json",
        "idle.speedscope.json",
        "metrics.json",
    ]
    again = api.find_bottleneck(
        [keep / "idle.speedscope.json"],
        gil_profile=keep / "gil.speedscope.json",
        metrics=[keep / "metrics.json"],
    ).to_dict()
    assert again["analysis"]["utilization_pct"] == report["analysis"]["utilization_pct"]


def test_process_cpu_counts_children(tmp_path: Path) -> None:
    """A parent waiting on a spinning child: the recorded CPU is the child's, as psutil sees it
    from outside over a window that contains the recording's (the machine may be shared, so the
    child gets what it gets: the two views must agree, not equal one core)."""
    parent, spinner = tmp_path / "parent.py", tmp_path / "spinner.py"
    parent.write_text(PARENT, encoding="utf-8")
    spinner.write_text(SPINNER, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(parent), str(spinner), "30"])
    try:
        deadline = time.monotonic() + 10
        while not (children := psutil.Process(proc.pid).children()):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        (child,) = children

        def used() -> float:
            t = child.cpu_times()
            return float(t.user + t.system)

        before = used()
        rec = pyspy.record_pid(proc.pid, 2.0, tmp_path)
        seen = used() - before
    finally:
        proc.kill()
        proc.wait()
        with contextlib.suppress(psutil.Error):
            child.kill()
    recorded = rec.metrics.utilization["cpu"] * (rec.metrics.cores or 0) * rec.duration_s
    assert seen > 0.1  # the child ran
    assert 0.75 * seen - 0.05 < recorded <= seen + 0.03, (recorded, seen, rec.metrics.inputs)
    assert "2 processes" in rec.metrics.inputs[0].detail
    assert 1.8 < rec.duration_s < 3.0


def test_a_command_that_exits_early_ends_the_window(program: Path, tmp_path: Path) -> None:
    rec = pyspy.record_command([sys.executable, str(program), "1.5"], 30.0, tmp_path)
    assert rec.duration_s < 5
    assert rec.exit_code == 0
    failing = [sys.executable, "-c", "import time; time.sleep(1); raise SystemExit(3)"]
    with pytest.raises(InputError) as failed:
        pyspy.record_command(failing, 30.0, tmp_path)
    assert failed.value.one_line().startswith("command: python3")
    assert "exited with status 3 after" in failed.value.message


# --- one line, exit 2 ---------------------------------------------------------------------------


def _one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err.strip()


def _gone_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_no_such_pid(capsys: pytest.CaptureFixture[str]) -> None:
    pid = _gone_pid()
    line = _one_line(["find-bottleneck", "--pid", str(pid)], capsys)
    assert line.startswith("--pid: no process with pid ")


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_a_node_process_is_told_how_to_record_it(capsys: pytest.CaptureFixture[str]) -> None:
    node = subprocess.Popen(["node", "-e", "setTimeout(() => {}, 20000)"])
    try:
        line = _one_line(["find-bottleneck", "--pid", str(node.pid)], capsys)
    finally:
        node.kill()
        node.wait()
    assert line.startswith(f"--pid: pid {node.pid} (node) is a Node.js process, not CPython")
    assert "node --cpu-prof" in line and "--profile" in line


def test_a_go_program_is_told_how_to_record_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A binary carrying Go's build-info header (``sleep`` with the header appended: the loader
    ignores trailing bytes) reads as Go."""
    fake = tmp_path / "server"
    shutil.copy(shutil.which("sleep") or "/bin/sleep", fake)
    with fake.open("ab") as fh:
        fh.write(b"\x00" * 16 + b"\xff Go buildinf:" + b"\x08\x02")
    os.chmod(fake, 0o755)
    proc = subprocess.Popen([str(fake), "20"])
    try:
        line = _one_line(["find-bottleneck", "--pid", str(proc.pid)], capsys)
    finally:
        proc.kill()
        proc.wait()
    assert line.startswith(f"--pid: pid {proc.pid} (server) is a Go program, not CPython")
    assert "/debug/pprof/profile?seconds=10" in line and "runtime/pprof" in line
    assert line.endswith("pass the file with --profile")


def test_a_process_that_is_not_python_gets_py_spys_word_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    proc = subprocess.Popen(["sleep", "20"])
    try:
        line = _one_line(["find-bottleneck", "--pid", str(proc.pid), "--duration", "2"], capsys)
    finally:
        proc.kill()
        proc.wait()
    assert line.startswith(f"--pid: pid {proc.pid} (sleep) is not a Python process py-spy can read")


def test_permission_denied_names_what_ptrace_needs() -> None:
    """py-spy's own words without ptrace permission (py-spy 0.4.3, run as an unprivileged user
    on a root process), read as one line."""
    said = (
        "Permission Denied: Try running again with elevated permissions by going "
        "'sudo env \"PATH=$PATH\" !!'\n"
    )
    err = pyspy._pyspy_error(4242, "python3", said, started=False)
    assert isinstance(err, InputError)
    assert err.spelled(lambda p: "--" + p.replace("_", "-")) == (
        "--pid: py-spy may not read pid 4242 (python3): permission denied; recording another "
        "process needs ptrace permission: run as root, or grant CAP_SYS_PTRACE (in a container: "
        "--cap-add SYS_PTRACE), or set kernel.yama.ptrace_scope=0"
    )


def test_an_unreadable_executable_is_a_permission_error_not_an_exit() -> None:
    """py-spy 0.4.3's words when it may not even read /proc/PID/exe (another user's process, a
    process of another namespace): a missing permission, not a process that ended (it read as
    'pid 1 ended before py-spy could read it')."""
    said = (
        "Error: Failed to get process executable name. Check that the process is running.\n\n"
        "Caused by:\n    0: Permission denied (os error 13)\n"
        "    1: Permission denied (os error 13)\n"
    )
    err = pyspy._pyspy_error(1, "init", said, started=False)
    assert isinstance(err, InputError)
    assert err.one_line().endswith(
        "py-spy may not read pid 1 (init): permission denied; " + pyspy.PERMISSION_HELP
    )
    gone = "Error: Failed to get process executable name. Check that the process is running.\n"
    assert (
        "ended before py-spy could read it"
        in pyspy._pyspy_error(1, "init", gone, started=False).one_line()
    )


def _real_pyspy() -> Path | None:
    """The py-spy executable itself (not a pyenv shim): beside this interpreter, or on PATH."""
    for found in (Path(sysconfig.get_path("scripts")) / "py-spy", shutil.which("py-spy")):
        if found and Path(found).is_file():
            with open(found, "rb") as fh:
                if fh.read(4) == b"\x7fELF":
                    return Path(found)
    return None


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None or _real_pyspy() is None,
    reason="needs root, setpriv (util-linux) and the py-spy binary, to run py-spy as nobody",
)
def test_without_ptrace_permission_the_user_gets_one_line(
    running: subprocess.Popen[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The real thing: py-spy run as user nobody (setpriv) on a root process is refused by the
    kernel; what the user reads is the README's line, naming the permission."""
    spy = _real_pyspy()
    assert spy is not None
    folder = Path(tempfile.mkdtemp(prefix="tpx-nobody-"))
    try:
        os.chmod(folder, 0o755)  # nobody may run the copy
        shutil.copy(spy, folder / "py-spy")
        os.chmod(folder / "py-spy", 0o755)
        wrapper = folder / "py-spy-as-nobody"
        wrapper.write_text(
            "#!/bin/sh\nexec setpriv --reuid 65534 --regid 65534 --clear-groups "
            f'{folder / "py-spy"} "$@"\n'
        )
        os.chmod(wrapper, 0o755)
        monkeypatch.setattr(pyspy, "_pyspy", lambda: str(wrapper))
        line = _one_line(["find-bottleneck", "--pid", str(running.pid), "--duration", "2"], capsys)
    finally:
        shutil.rmtree(folder)
    assert line.startswith(f"--pid: py-spy may not read pid {running.pid} (python"), line
    assert line.endswith("permission denied; " + pyspy.PERMISSION_HELP), line
    assert running.poll() is None


@pytest.mark.parametrize(
    ("argv", "start"),
    [
        (["--pid", "1", "--duration", "121"], "--duration: must be more than 0 and at most 120 s"),
        (["--pid", "1", "--duration", "0"], "--duration: must be more than 0"),
        (["--pid", "1", "--profile", "x.json"], "--pid: a recording brings its own profiles"),
        (["--pid", "1", "--", "python3"], "--pid: record --pid or a command after --, not both"),
        ([], "find-bottleneck: profiles: no profile given: pass --profile FILE"),
    ],
)
def test_bad_requests_fail_before_recording(
    argv: list[str], start: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _one_line(["find-bottleneck", *argv], capsys).startswith(start)


def test_dashes_belong_to_find_bottleneck_only(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["analyze", "--metrics", "m.json", "--", "python3", "app.py"])
    assert exited.value.code == 2
    assert "takes no command after --" in capsys.readouterr().err


# --- agents may neither attach to nor start processes -----------------------------------------


def test_the_mcp_tool_offers_no_pid_nor_command() -> None:
    import anyio

    from throughput_expert.agents.mcp_server import build_server

    tools = anyio.run(build_server([os.getcwd()]).list_tools)
    (tool,) = [t for t in tools if t.name == "find_bottleneck"]
    schema = tool.input_schema
    assert schema["required"] == ["profiles"]
    assert not {"pid", "command", "duration", "save_profiles"} & set(schema["properties"])


@pytest.mark.parametrize("argument", [{"pid": 1}, {"command": ["python3", "app.py"]}])
def test_a_task_may_not_name_a_pid_nor_a_command(argument: dict[str, Any], tmp_path: Path) -> None:
    from throughput_expert.agents.run import run_command

    task = {"command": "find-bottleneck", "arguments": {"profiles": ["p.json"], **argument}}
    with pytest.raises(InputError) as refused:
        run_command(task, tmp_path)
    line = refused.value.one_line()
    assert line.startswith(f"task: arguments.{next(iter(argument))}: unknown key"), line
    assert "pid" not in line.split("known:")[1]
