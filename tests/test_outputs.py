"""Outputs are written only as regular files (issue 12): ``--output``/``--save`` onto a device, a
FIFO, a socket, a folder or a symbolic link is refused, the target untouched and no temporary
file left; ``--follow-symlinks`` replaces the file a link points to and keeps the link.

Real ``tpx`` processes on real files; nothing here opens a FIFO (that would block)."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from tests.support import only_line, run_tpx

from throughput_expert.cli import build_parser
from throughput_expert.errors import InputError
from throughput_expert.outputs import following_symlinks, write_atomically

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "src" / "throughput_expert" / "examples" / "message-consumer.json"
K6 = ROOT / "tests" / "sources" / "loadtests" / "fixtures" / "k6-out.json"
TIMEOUT_S = 60  # a tpx run takes about a second; a FIFO opened by mistake would hang forever


def tpx(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_tpx(*argv, cwd=cwd, timeout=TIMEOUT_S)


def analyze(out: str | Path, *extra: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return tpx(
        "analyze", "--metrics", str(DEMO), "--format", "json", "--output", str(out), *extra, cwd=cwd
    )


def refused(run: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit 2, one line on stderr with ``words``, no traceback, nothing on stdout."""
    assert run.returncode == 2, run.stderr
    line = only_line(run.stderr)
    for word in words:
        assert word in line, line
    assert run.stdout == ""


def no_temporary_files(folder: Path) -> None:
    assert [p.name for p in folder.iterdir() if p.name.startswith(".tpx-")] == []


# --- symbolic links ------------------------------------------------------------------------------


def test_a_symlink_is_refused_and_untouched(tmp_path: Path) -> None:
    (tmp_path / "real.json").write_text("old\n")
    (tmp_path / "link.json").symlink_to("real.json")
    run = analyze("link.json", cwd=tmp_path)
    refused(run, "--output: link.json: is a symbolic link", "--follow-symlinks")
    assert (tmp_path / "link.json").is_symlink()
    assert os.readlink(tmp_path / "link.json") == "real.json"
    assert (tmp_path / "real.json").read_text() == "old\n"
    no_temporary_files(tmp_path)


def test_follow_symlinks_writes_the_target_and_keeps_the_link(tmp_path: Path) -> None:
    elsewhere = tmp_path / "reports"
    elsewhere.mkdir()
    (elsewhere / "real.json").write_text("old\n")
    (tmp_path / "link.json").symlink_to(elsewhere / "real.json")
    run = analyze("link.json", "--follow-symlinks", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "link.json").is_symlink()
    assert os.readlink(tmp_path / "link.json") == str(elsewhere / "real.json")
    assert json.loads((elsewhere / "real.json").read_text())["command"] == "analyze"
    no_temporary_files(tmp_path)
    no_temporary_files(elsewhere)


def test_follow_symlinks_through_a_chain_to_a_new_file(tmp_path: Path) -> None:
    (tmp_path / "b").symlink_to("new.json")  # dangling: the report creates new.json
    (tmp_path / "a").symlink_to("b")
    run = analyze("a", "--follow-symlinks", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "a").is_symlink() and (tmp_path / "b").is_symlink()
    assert stat.S_ISREG((tmp_path / "new.json").lstat().st_mode)
    assert json.loads((tmp_path / "a").read_text())["command"] == "analyze"


def test_follow_symlinks_still_refuses_a_link_to_a_folder(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "link").symlink_to("folder")
    refused(analyze("link", "--follow-symlinks", cwd=tmp_path), "is a folder")
    assert list((tmp_path / "folder").iterdir()) == []


def test_proc_self_fd_1_is_refused(tmp_path: Path) -> None:
    if not Path("/proc/self/fd/1").is_symlink():
        pytest.skip("no /proc/self/fd on this system")
    refused(analyze("/proc/self/fd/1", cwd=tmp_path), "/proc/self/fd/1: is a symbolic link")


def test_save_obeys_the_same_rules(tmp_path: Path) -> None:
    (tmp_path / "real.json").write_text("old\n")
    (tmp_path / "link.json").symlink_to("real.json")
    argv = ("sweep", "--from", str(K6), "--format", "json", "--save", "link.json")
    refused(tpx(*argv, cwd=tmp_path), "--save: link.json: is a symbolic link")
    assert (tmp_path / "real.json").read_text() == "old\n"
    run = tpx(*argv, "--follow-symlinks", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "link.json").is_symlink()
    assert json.loads((tmp_path / "real.json").read_text())["levels"]


def test_a_refused_save_fails_before_the_measurement(tmp_path: Path) -> None:
    (tmp_path / "link.json").symlink_to("real.json")
    started = time.monotonic()
    run = tpx("observe", "--duration", "60s", "--save", "link.json", cwd=tmp_path)
    refused(run, "--save: link.json: is a symbolic link")
    assert time.monotonic() - started < 30  # not after sampling for a minute
    assert not (tmp_path / "real.json").exists()


TASK = {
    "prompt": {"task": "Increase throughput from 10K to 50K msgs/sec", "context": {"cpu": "45%"}}
}


def _task(tmp_path: Path) -> Path:
    folder = tmp_path / "run" / "tasks" / "t1"
    folder.mkdir(parents=True)
    (folder / "input.json").write_text(json.dumps(TASK))
    return folder / "input.json"


def test_the_task_worker_obeys_the_same_rules(tmp_path: Path) -> None:
    task = _task(tmp_path)
    (tmp_path / "real.json").write_text("old\n")
    (tmp_path / "link.json").symlink_to("real.json")
    refused(tpx("task", str(task), "--output", "link.json", cwd=tmp_path), "is a symbolic link")
    assert (tmp_path / "real.json").read_text() == "old\n"
    run = tpx("task", str(task), "--output", "link.json", "--follow-symlinks", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "link.json").is_symlink()
    assert json.loads((tmp_path / "real.json").read_text())["command"] == "task"


def test_a_result_json_planted_as_a_link_is_refused(tmp_path: Path) -> None:
    task = _task(tmp_path)
    kept = tmp_path / "run" / "kept.json"  # inside the run: confinement alone allows it
    kept.write_text("old\n")
    (task.parent / "result.json").symlink_to(kept)
    refused(tpx("task", str(task), cwd=tmp_path), "is a symbolic link")
    assert kept.read_text() == "old\n"


def test_a_result_link_inside_the_run_is_written_through_only_on_request(tmp_path: Path) -> None:
    task = _task(tmp_path)
    kept = tmp_path / "run" / "kept.json"
    kept.write_text("old\n")
    (task.parent / "result.json").symlink_to(kept)
    done = tpx("task", str(task), "--follow-symlinks", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (task.parent / "result.json").is_symlink()
    assert json.loads(kept.read_text())["command"] == "task"


def test_a_result_link_leading_out_of_the_run_is_refused_even_when_following(
    tmp_path: Path,
) -> None:
    task = _task(tmp_path)
    outside = tmp_path / "outside.json"
    outside.write_text("old\n")
    (task.parent / "result.json").symlink_to(outside)
    refused(tpx("task", str(task), "--follow-symlinks", cwd=tmp_path), "outside")
    assert outside.read_text() == "old\n"


# --- special files -------------------------------------------------------------------------------


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    refused(analyze(fifo, cwd=tmp_path), "is a FIFO", "not a regular file")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    no_temporary_files(tmp_path)


def test_a_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    refused(analyze(folder, cwd=tmp_path), "is a folder")
    assert folder.is_dir() and list(folder.iterdir()) == []
    no_temporary_files(tmp_path)


def test_a_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(path))
        refused(analyze(path, cwd=tmp_path), "is a socket")
        assert stat.S_ISSOCK(path.lstat().st_mode)


def test_a_device_is_refused_and_stays_a_device(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("making a device node needs root (CI runs as root)")
    device = tmp_path / "null"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # what /dev/null is
    before = device.lstat()
    refused(analyze(device, cwd=tmp_path), "is a device", "not a regular file")
    after = device.lstat()
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert after.st_ino == before.st_ino
    no_temporary_files(tmp_path)


def test_a_regular_file_is_still_replaced(tmp_path: Path) -> None:
    (tmp_path / "out.json").write_text("old\n")
    run = analyze("out.json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert json.loads((tmp_path / "out.json").read_text())["command"] == "analyze"


# --- the flag and the library ------------------------------------------------------------------


def test_every_command_that_writes_a_file_has_follow_symlinks() -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.choices and isinstance(a.choices, dict))
    writers = []
    for name, sub in subparsers.choices.items():
        flags = {flag for action in sub._actions for flag in action.option_strings}
        if flags & {"--output", "--save"}:
            writers.append(name)
            assert "--follow-symlinks" in flags, name
    assert {"analyze", "sweep", "observe", "task", "report"} <= set(writers)


def test_write_atomically_follows_only_when_asked(tmp_path: Path) -> None:
    (tmp_path / "real").write_text("old")
    link = tmp_path / "link"
    link.symlink_to("real")
    with pytest.raises(InputError, match="is a symbolic link"):
        write_atomically(link, "new")
    with following_symlinks():
        write_atomically(link, "new")
    assert (tmp_path / "real").read_text() == "new" and link.is_symlink()
    with following_symlinks(), pytest.raises(InputError, match="is a symbolic link"):
        write_atomically(link, "newer", follow_symlinks=False)  # the keyword wins
    write_atomically(link, "newest", follow_symlinks=True)
    assert (tmp_path / "real").read_text() == "newest"
    no_temporary_files(tmp_path)


def test_a_loop_of_links_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(InputError, match="loop of symbolic links"):
        write_atomically(tmp_path / "a", "x", follow_symlinks=True)
    assert (tmp_path / "a").is_symlink() and (tmp_path / "b").is_symlink()


def test_the_new_file_mode_follows_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_atomically(tmp_path / "r.json", "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "r.json").stat().st_mode) == 0o640


# --- nothing half written (issue 19) --------------------------------------------------------------


def _file_size_cap(limit_bytes: int) -> Any:
    """For the child: files it writes may not grow past ``limit_bytes`` (``ulimit -f``); a
    write beyond fails with EFBIG, as one onto a full disk fails with ENOSPC (Python ignores
    SIGXFSZ, so the write fails instead of killing the process)."""
    import resource

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return cap


def test_a_write_that_fails_midway_leaves_nothing(tmp_path: Path) -> None:
    """The disk fills (here: the file size limit) while the report is written: one line, exit
    2, no report and no temporary file; an old report at the path is kept whole."""
    (tmp_path / "out.json").write_text("old\n")
    argv = ("analyze", "--metrics", str(DEMO), "--format", "json", "--output", "out.json")
    run = run_tpx(*argv, cwd=tmp_path, timeout=TIMEOUT_S, preexec_fn=_file_size_cap(1000))
    refused(run, "--output: out.json: file too large", "nothing written")
    assert (tmp_path / "out.json").read_text() == "old\n"
    no_temporary_files(tmp_path)


def test_write_atomically_names_a_full_disk(tmp_path: Path, monkeypatch: Any) -> None:
    """ENOSPC from the file system, as a full disk gives it (raised by fsync, where delayed
    allocation reports it)."""
    import errno

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(InputError, match=r"out\.json: no space left on the device"):
        write_atomically(tmp_path / "out.json", "x" * 10_000)
    assert list(tmp_path.iterdir()) == []


def _refusing_folder(tmp_path: Path) -> Path:
    """A folder this process cannot write in: read-only (mode 555) for a normal user; root
    ignores modes, so for root a sysfs folder, which refuses new files to everyone."""
    if os.geteuid() != 0:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    import tempfile

    try:
        fd, made = tempfile.mkstemp(dir="/sys")
    except OSError:
        return Path("/sys")
    os.close(fd)
    os.unlink(made)
    pytest.skip("running as root and /sys accepts new files: no folder refuses root here")


def test_a_folder_that_refuses_writes_is_one_line(tmp_path: Path) -> None:
    folder = _refusing_folder(tmp_path)
    try:
        out = folder / "report.json"
        refused(analyze(out, cwd=tmp_path), f"--output: {out}:", "nothing written")
        assert not out.exists()
    finally:
        if folder != Path("/sys"):
            folder.chmod(0o755)


def test_save_is_not_written_when_the_command_ends_in_an_error(tmp_path: Path) -> None:
    """sweep reads the results, saves them, then fails on a bad --defaults file: exit 2 and no
    --save (nor --output), not even a complete one; an old file at the path is kept."""
    (tmp_path / "bad.yaml").write_text("saturation_targets: [1, 2\n")
    (tmp_path / "kept.json").write_text("old\n")
    argv = ("sweep", "--from", str(K6), "--format", "json", "--defaults", "bad.yaml")
    run = tpx(*argv, "--save", "new.json", "--output", "out.json", cwd=tmp_path)
    assert run.returncode == 2 and "bad.yaml" in only_line(run.stderr), run.stderr
    assert not (tmp_path / "new.json").exists() and not (tmp_path / "out.json").exists()
    run = tpx(*argv, "--save", "kept.json", cwd=tmp_path)
    assert run.returncode == 2
    assert (tmp_path / "kept.json").read_text() == "old\n"
    no_temporary_files(tmp_path)
    ok = tpx("sweep", "--from", str(K6), "--format", "json", "--save", "new.json", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert json.loads((tmp_path / "new.json").read_text())["levels"]


def test_a_lone_surrogate_is_written_as_utf8(tmp_path: Path) -> None:
    write_atomically(tmp_path / "out.txt", "odd \ud800 text\n")
    assert (tmp_path / "out.txt").read_text(encoding="utf-8") == "odd \ufffd text\n"


def test_a_nested_block_leaves_the_outer_blocks_paths_to_it(tmp_path: Path) -> None:
    # the library stages its own save inside the command line's block: the command's failure
    # after the library call returned must still leave nothing
    from throughput_expert.outputs import deferred, write_atomically

    saved, other = tmp_path / "saved.json", tmp_path / "other.json"
    with pytest.raises(RuntimeError), deferred([saved]):
        with deferred([saved, other]):
            write_atomically(saved, "{}\n", source="--save")
            write_atomically(other, "{}\n", source="save")
        assert other.exists() and not saved.exists()  # the inner block's own path is in place
        raise RuntimeError("the command fails after the library call")
    assert not saved.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.json"]  # no temporary left
