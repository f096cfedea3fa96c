"""Record a running Python process with py-spy: what ``find-bottleneck --pid`` measures.

One window, three views of it:

- a **wall-clock** recording (``py-spy record --idle``): every thread at every tick, running or
  waiting;
- a **GIL** recording (``py-spy record --gil``): only the thread holding the GIL, the pairing
  ``advisors/bottleneck/gil.py`` reads (docs/formats.md §2.3);
- the process's **own CPU** (psutil: user + system seconds of the process and its children,
  reaped ones included) over the same window, as a ``ServiceMetrics`` whose ``utilization.cpu``
  is that CPU over the cores of this machine (the system advised is this machine).

py-spy takes one mode per process, so two recorders run at once on the same pid. The wall-clock
one also records native frames (``--native``): without them a thread waiting for a lock, for the
GIL, on a socket or in a sleep all show at the same Python line, and only the C frames
(``PyThread_acquire_lock_timed``, ``take_gil``, ``recv``) tell which (the thread-state table,
``advisors/data/thread_states.yaml``). ``--native`` needs a blocking recorder, which stops the
target with ptrace at each tick; only one tracer may hold a process, so the GIL recorder is
``--nonblocking`` (it reads the target's memory while it runs: on a contended and a CPU-bound test
program its shares matched a blocking recording's within 2 points, with under 3 % of samples lost
to read errors, py-spy's ``Errors:`` count, kept in the recording's detail). Where py-spy cannot
unwind native stacks, the wall-clock recorder is run again without them (said in its detail).

``record_command`` starts a command in its own session, records it until the duration ends or
it exits, then stops it: SIGTERM to its process group, SIGKILL after a grace period. On Linux
the child and the recorders get SIGKILL if tpx itself dies (``PR_SET_PDEATHSIG``).

Recording another user's process needs ptrace permission: root, ``CAP_SYS_PTRACE`` (in a
container ``--cap-add SYS_PTRACE``) or ``kernel.yama.ptrace_scope=0``.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal, TypeVar

import psutil

from throughput_expert.errors import InputError, MeasurementError, Parameter
from throughput_expert.model.records import InputRef, ServiceMetrics

__all__ = [
    "MAX_DURATION_S",
    "RATE_HZ",
    "Recording",
    "record_command",
    "record_pid",
    "recording_folder",
    "runtime_of",
]

MAX_DURATION_S = 120.0
RATE_HZ = 100
GRACE_S = 3.0
"""Seconds a command has to exit after SIGTERM before SIGKILL."""
_TICK_S = 0.1
_FIND_PYTHON_S = 3.0
"""Seconds a command has to start Python (a launcher may run it as a child)."""
_STOP_WAIT_S = 15.0
"""Seconds a recorder has to write its file after SIGINT."""
_GO_MAGIC = b"\xff Go buildinf:"  # the Go toolchain's build-info header, in every Go binary
_MAX_EXE_BYTES = 1 << 30

_T = TypeVar("_T")
Runtime = Literal["python", "node", "go", "unknown"]
Mode = Literal["idle", "gil"]

PERMISSION_HELP = (
    "recording another process needs ptrace permission: run as root, or grant "
    "CAP_SYS_PTRACE (in a container: --cap-add SYS_PTRACE), or set kernel.yama.ptrace_scope=0"
)


@dataclass(frozen=True)
class Recording:
    """Two py-spy recordings of one window and the process's CPU over it."""

    idle: Path
    """The wall-clock recording (``--idle``), speedscope JSON."""
    gil: Path
    """The GIL-holding recording (``--gil``) of the same window, speedscope JSON."""
    metrics: ServiceMetrics
    """The process's own CPU over the window (``utilization.cpu``, ``cores``)."""
    pid: int
    duration_s: float
    """How long the window lasted (shorter than asked when the process exited)."""
    exit_code: int | None
    """A recorded command's exit status when it exited by itself within the window."""
    idle_detail: str
    gil_detail: str


# --- which runtime a pid runs -----------------------------------------------------------------


def runtime_of(pid: int) -> tuple[Runtime, str]:
    """What ``pid`` runs, from its executable (``/proc/PID/exe``) and command line, and the
    program's name; ``unknown`` is left for py-spy to try. Raises ``InputError`` for no pid."""
    try:
        proc = psutil.Process(pid)
    except psutil.NoSuchProcess:
        raise InputError(f"no process with pid {pid}", source=Parameter("pid")) from None
    if not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE:
        raise InputError(f"no process with pid {pid} (it has exited)", source=Parameter("pid"))
    name = _quietly(lambda: proc.name()) or ""
    exe = _quietly(lambda: proc.exe()) or ""
    argv0 = (_quietly(lambda: proc.cmdline()) or [""])[0]
    names = {os.path.basename(n).lower() for n in (exe, argv0, name) if n}
    shown = os.path.basename(exe or argv0 or name) or "?"
    if any(n.startswith(("python", "pypy")) for n in names):
        return "python", shown
    if any(n in ("node", "nodejs") or n.startswith("node") for n in names):
        return "node", shown
    if exe and _is_go(exe, pid):
        return "go", shown
    return "unknown", shown


def _quietly(read: Callable[[], _T]) -> _T | None:
    try:
        return read()
    except (psutil.Error, OSError):
        return None


def _is_go(exe: str, pid: int) -> bool:
    """A Go binary carries the build-info header; read through /proc/PID/exe where it exists
    (the file may have been replaced or removed since the process started)."""
    for path in (f"/proc/{pid}/exe", exe):
        try:
            with open(path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if not 0 < size <= _MAX_EXE_BYTES:
                    return False
                with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
                    return data.find(_GO_MAGIC) >= 0
        except (OSError, ValueError):
            continue
    return False


def _not_python(pid: int, runtime: Runtime, shown: str) -> InputError:
    """One line: how to record this runtime, and the flag to pass the file with."""
    if runtime == "node":
        how = (
            "record it with node --cpu-prof (it writes a .cpuprofile when the process exits; "
            "--cpu-prof-dir DIR says where)"
        )
    else:
        how = (
            "record 10 s of CPU from its net/http/pprof endpoint (curl -o cpu.pprof "
            "'http://HOST:PORT/debug/pprof/profile?seconds=10') or with runtime/pprof "
            "(pprof.StartCPUProfile)"
        )
    what = "a Node.js process" if runtime == "node" else "a Go program"
    return InputError(
        f"pid {pid} ({shown}) is {what}, not CPython: {how}, and pass the file with {{profiles}}",
        source=Parameter("pid"),
        mentions=("profiles",),
    )


# --- recording --------------------------------------------------------------------------------


@contextlib.contextmanager
def recording_folder(keep: str | os.PathLike[str] | None) -> Iterator[Path]:
    """Where the recordings go: ``keep`` (created if missing, kept), else a temporary folder
    removed afterwards."""
    if keep is not None:
        folder = Path(keep)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(
                f"cannot create the folder: {exc.strerror}", source=Parameter("save_profiles")
            ) from None
        yield folder
        return
    with tempfile.TemporaryDirectory(prefix="tpx-pyspy-") as tmp:
        yield Path(tmp)


def record_pid(pid: int, duration_s: float, folder: Path, *, rate_hz: int = RATE_HZ) -> Recording:
    """Record the running process ``pid`` for ``duration_s`` (or until it exits)."""
    _check_duration(duration_s)
    runtime, shown = runtime_of(pid)
    if runtime in ("node", "go"):
        raise _not_python(pid, runtime, shown)
    if pid == os.getpid():
        raise InputError("that is tpx itself", source=Parameter("pid"))
    return _record(pid, shown, duration_s, folder, rate_hz, child=None)


def record_command(
    argv: Sequence[str],
    duration_s: float,
    folder: Path,
    *,
    rate_hz: int = RATE_HZ,
    grace_s: float = GRACE_S,
) -> Recording:
    """Start ``argv``, record it for ``duration_s`` or until it exits, then stop it (SIGTERM to
    its process group, SIGKILL after ``grace_s``): it never outlives this call."""
    _check_duration(duration_s)
    if not argv or not argv[0]:
        raise InputError("no command given after --", source=Parameter("command"))
    try:
        child = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    except OSError as exc:
        raise InputError(
            f"cannot start {argv[0]}: {exc.strerror}", source=Parameter("command")
        ) from None
    try:
        target, shown = _python_target(child)
        rec = _record(target, shown, duration_s, folder, rate_hz, child=child)
    finally:
        _stop(child, grace_s)
    if rec.exit_code:
        raise InputError(
            f"{shown} exited with status {rec.exit_code} after {rec.duration_s:.2g} s: "
            "nothing to advise on a failed run",
            source=Parameter("command"),
        )
    return rec


def _python_target(child: subprocess.Popen[bytes]) -> tuple[int, str]:
    """The process to record: the command itself, or the first Python process it starts (a
    launcher such as a pyenv shim runs Python as its child); a Node or Go command is refused."""
    deadline = time.monotonic() + _FIND_PYTHON_S
    runtime: Runtime = "unknown"
    shown = os.path.basename(str(child.args[0] if isinstance(child.args, list) else child.args))
    while True:
        with contextlib.suppress(InputError):
            runtime, shown = runtime_of(child.pid)
        if runtime in ("node", "go"):
            raise _not_python(child.pid, runtime, shown)
        if runtime == "python":
            return child.pid, shown
        for proc in _descendants(child.pid):
            with contextlib.suppress(InputError):
                found, name = runtime_of(proc)
                if found == "python":
                    return proc, name
        if child.poll() is not None:
            raise InputError(
                f"{shown} exited (status {child.returncode}) before it could be recorded",
                source=Parameter("command"),
            )
        if time.monotonic() >= deadline:
            return child.pid, shown  # py-spy tries it, and says if it cannot
        time.sleep(_TICK_S)


def _descendants(pid: int) -> list[int]:
    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return []


def _check_duration(duration_s: float) -> None:
    if not 0 < duration_s <= MAX_DURATION_S:
        raise InputError(
            f"must be more than 0 and at most {MAX_DURATION_S:g} s, got {duration_s:g} s",
            source=Parameter("duration"),
        )


def _record(
    pid: int,
    shown: str,
    duration_s: float,
    folder: Path,
    rate_hz: int,
    child: subprocess.Popen[bytes] | None,
    *,
    native: bool = True,
) -> Recording:
    spy = _pyspy()
    paths = {m: folder / f"{m}.speedscope.json" for m in ("idle", "gil")}
    logs = {m: folder / f".{m}.py-spy.log" for m in ("idle", "gil")}
    cpu = _TreeCpu(child.pid if child is not None else pid)
    recorders: dict[Mode, subprocess.Popen[bytes]] = {}
    files: list[IO[bytes]] = []
    flags = {"idle": _idle_flags(native), "gil": ("--gil", "--nonblocking")}
    try:
        for mode in ("idle", "gil"):
            log = open(logs[mode], "wb")  # noqa: SIM115 - closed below, after the recorder
            files.append(log)
            recorders[mode] = subprocess.Popen(
                [
                    *(spy, "record", "-p", str(pid), *flags[mode]),
                    *("-r", str(rate_hz), "-f", "speedscope", "-o", str(paths[mode])),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        start = time.monotonic()
        cpu.start()
        exit_code = _window(start + duration_s, recorders, cpu, child)
        elapsed = time.monotonic() - start
        cpu.sample()
    finally:
        for proc in recorders.values():
            _interrupt(proc)
        for opened in files:
            opened.close()
    texts = {m: _log_text(logs[m]) for m in logs}
    for mode, proc in recorders.items():
        if proc.returncode != 0 or not paths[mode].is_file():
            if mode == "idle" and native and _unwinding_failed(texts[mode]) and _alive(pid):
                # py-spy cannot read native stacks here: the same window without them
                return _record(pid, shown, duration_s, folder, rate_hz, child, native=False)
            raise _pyspy_error(pid, shown, texts[mode], child is not None)
    for log_path in logs.values():
        log_path.unlink(missing_ok=True)
    details = {
        m: f"py-spy record {' '.join(flags[m])} -r {rate_hz}, pid {pid} ({shown}), "
        f"{elapsed:.3g} s{_counts(texts[m])}"
        for m in texts
    }
    return Recording(
        idle=paths["idle"],
        gil=paths["gil"],
        metrics=cpu.metrics(cpu.pid, shown, elapsed),
        pid=pid,
        duration_s=elapsed,
        exit_code=exit_code,
        idle_detail=details["idle"],
        gil_detail=details["gil"],
    )


def _idle_flags(native: bool) -> tuple[str, ...]:
    """The wall-clock recorder's mode: with native frames (blocking), else nonblocking."""
    return ("--idle", "--native") if native else ("--idle", "--nonblocking")


def _unwinding_failed(text: str) -> bool:
    """py-spy's log says it could not read native stacks (not that the pid is gone or denied)."""
    lowered = text.lower()
    return any(w in lowered for w in ("unwind", "native", "libunwind", "symbol"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _window(
    deadline: float,
    recorders: dict[Mode, subprocess.Popen[bytes]],
    cpu: _TreeCpu,
    child: subprocess.Popen[bytes] | None,
) -> int | None:
    """Wait until the deadline, the command's exit or a recorder's end (the target exited or
    py-spy failed); the process tree's CPU is read every tick. The command's exit code, if it
    exited."""
    while True:
        if child is not None and child.poll() is not None:
            return child.returncode
        if any(r.poll() is not None for r in recorders.values()):
            return None
        now = time.monotonic()
        if now >= deadline:
            return None
        time.sleep(min(_TICK_S, deadline - now))
        cpu.sample()


def _pyspy() -> str:
    """The py-spy executable: on PATH, else beside this interpreter (an installed wheel)."""
    found = shutil.which("py-spy")
    if found:
        return found
    beside = Path(sysconfig.get_path("scripts")) / ("py-spy.exe" if os.name == "nt" else "py-spy")
    if beside.is_file():
        return str(beside)
    raise MeasurementError("py-spy is not installed (pip install py-spy)", source="py-spy")


def _die_with_parent() -> None:
    """In the child, before exec: SIGKILL when tpx dies (Linux), so nothing outlives it."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _interrupt(proc: subprocess.Popen[bytes]) -> None:
    """Stop a recorder as Ctrl-C does (it writes its file), then kill it if it hangs."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGINT)
    try:
        proc.wait(_STOP_WAIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _stop(child: subprocess.Popen[bytes], grace_s: float) -> None:
    """SIGTERM to the command's process group, SIGKILL after the grace period."""
    for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, None)):
        alive = child.poll() is None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, sig)  # its session's group: the command and what it started
        if not alive:
            return
        try:
            child.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _log_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _counts(text: str) -> str:
    found = re.search(r"Samples: (\d+) Errors: (\d+)", text)
    return f", {found.group(1)} samples, {found.group(2)} read errors" if found else ""


def _pyspy_error(pid: int, shown: str, text: str, started: bool) -> InputError | MeasurementError:
    """py-spy's failure as one line naming what to do."""
    source = Parameter("command" if started else "pid")
    lowered = text.lower()
    # py-spy 0.4.3 says "Permission Denied: Try running again with elevated permissions" when
    # it may not attach, and "Failed to get process executable name ... Permission denied (os
    # error 13)" when it may not even read /proc/PID/exe: both are a missing permission
    if "permission denied" in lowered or "operation not permitted" in lowered:
        return InputError(
            f"py-spy may not read pid {pid} ({shown}): permission denied; {PERMISSION_HELP}",
            source=source,
        )
    if "Failed to find python version" in text or "Failed to find a python interpreter" in text:
        return InputError(
            f"pid {pid} ({shown}) is not a Python process py-spy can read; for another runtime, "
            "record it with its own profiler and pass the file with {profiles}",
            source=source,
            mentions=("profiles",),
        )
    if "Failed to get process executable name" in text or "No such process" in text:
        return InputError(f"pid {pid} ended before py-spy could read it", source=source)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and "py-spy>" not in ln]
    first = next((ln for ln in lines if ln.startswith("Error")), lines[0] if lines else "")
    return MeasurementError(
        f"py-spy failed on pid {pid}: {first[:300] or 'no output'}", source="py-spy"
    )


# --- the process's own CPU ------------------------------------------------------------------


class _TreeCpu:
    """CPU seconds used by a process and its descendants since ``start``: user + system of each
    live process plus its reaped children's (``children_user``, ``children_system``), so a child
    that ends mid-window is still counted (in its parent's). The last reading while the process
    lived stands when it exits."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.first: float | None = None
        self.last: float | None = None
        self.processes = 0

    def start(self) -> None:
        self.first = self.last = self._read()

    def sample(self) -> None:
        now = self._read()
        if now is not None:
            self.last = now

    def _read(self) -> float | None:
        try:
            root = psutil.Process(self.pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            return None
        total, seen = 0.0, 0
        for proc in tree:
            try:
                t = proc.cpu_times()
            except psutil.Error:
                continue
            total += t.user + t.system + t.children_user + t.children_system
            seen += 1
        if seen == 0:
            return None
        self.processes = max(self.processes, seen)
        return total

    def metrics(self, pid: int, shown: str, elapsed_s: float) -> ServiceMetrics:
        cores = float(psutil.cpu_count() or 0)
        if self.first is None or self.last is None or not elapsed_s > 0 or not cores:
            raise MeasurementError(
                f"could not read the CPU time of pid {pid} (psutil)", source=Parameter("pid")
            )
        used = max(self.last - self.first, 0.0)
        busy = used / elapsed_s
        detail = (
            f"psutil {psutil.__version__}: pid {pid} ({shown}) and its children "
            f"({self.processes} processes at most) used {used:.3g} CPU-seconds in {elapsed_s:.3g} s"
            f" = {busy:.3g} cores of this machine's {cores:g} ({busy / cores:.1%})"
        )
        return ServiceMetrics(
            service=shown,
            cores=cores,
            utilization={"cpu": busy / cores},
            interval_s=elapsed_s,
            inputs=(InputRef(f"pid {pid}", "process-cpu", detail),),
            notes=(
                f"cpu: the recorded process's own CPU ({busy:.3g} cores) over this machine's "
                f"{cores:g} cores; other processes' use of the machine is not counted",
            ),
        )
