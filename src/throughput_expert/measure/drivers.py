"""Load drivers: what the sweep runner (``measure.runner``) calls to put load on a workload.

Three shapes, all ``Protocol``s:

- ``ThreadDriver`` (``callable``, ``command``) does **one blocking operation per call**, in
  plain worker threads: ``open(workers)`` prepares, ``operation(worker)`` gives the function
  worker ``worker`` calls in a loop (it returns on success and raises ``Exception`` on an error
  of the workload: an exception from the function, an exit code ≠ 0; ``MeasurementError`` when
  the measurement itself cannot go on), and ``close()`` releases what is left, stopping an
  operation still running where it can (a command's process group is killed). The runner's
  workers (``measure.loops``) each loop on their own: no dispatcher, no event loop between the
  workload and its caller. ``CallableDriver(processes=True)`` names its function by
  ``process_spec`` instead, and the runner calls it from worker *processes*, each looping on
  its own the same way.
- ``Driver`` (``url``) does one operation per call and is **async**: the runner runs one event
  loop per level and awaits ``call(worker)`` from one coroutine per unit of concurrency;
  ``open``/``close`` run inside the level's event loop. ``call`` returns True on success and
  False on an error of the workload (an HTTP status ≥ 400, a dropped connection).
- ``LevelDriver`` (``locustfile``) runs **a whole level itself** (a load tool with its own
  runtime), synchronously, and reports the level's figures; closed loop only.

Every driver checks its target first: ``check_target(allow_remote=...)`` raises ``InputError``
for a network target that is not on loopback unless remote load was allowed.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from throughput_expert.errors import InputError, Parameter
from throughput_expert.model.records import Latency
from throughput_expert.redact import redact_text

__all__ = [
    "CallableDriver",
    "CommandDriver",
    "Driver",
    "LevelDriver",
    "LevelResult",
    "ThreadDriver",
    "WorkloadError",
    "load_callable",
]


class WorkloadError(Exception):
    """An operation of the workload failed (a command's exit code ≠ 0): an error, not a stop."""


@runtime_checkable
class ThreadDriver(Protocol):
    """A blocking operation called in a loop by each worker thread (see the module docstring)."""

    name: str
    target: str
    process_spec: str | None

    def check_target(self, *, allow_remote: bool) -> None:
        """Raise ``InputError`` when the target may not be loaded from here."""

    def open(self, workers: int) -> None:
        """Prepare for ``workers`` concurrent workers (indices 0 .. workers − 1)."""

    def operation(self, worker: int) -> Callable[[], object]:
        """The operation ``worker`` calls in a loop: returns on success, raises on an error."""

    def close(self) -> None:
        """Release what ``open`` took and stop operations still running where possible."""


@runtime_checkable
class Driver(Protocol):
    """One operation per ``call``, awaited by the runner (see the module docstring)."""

    name: str
    target: str

    def check_target(self, *, allow_remote: bool) -> None:
        """Raise ``InputError`` when the target may not be loaded from here."""

    async def open(self, workers: int) -> None:
        """Prepare for ``workers`` concurrent calls (worker indices 0 .. workers − 1)."""

    async def call(self, worker: int) -> bool:
        """Do one operation as ``worker``: True on success, False on an error."""

    async def close(self) -> None:
        """Release what ``open`` took; never raises for the workload's errors."""


@dataclass(frozen=True)
class LevelResult:
    """The figures of one level run by a ``LevelDriver``."""

    throughput_rps: float
    latency: Latency
    requests: int
    errors: int
    duration_s: float


@runtime_checkable
class LevelDriver(Protocol):
    """A driver that runs a whole closed-loop level itself (a load tool as a subprocess)."""

    name: str
    target: str

    def check_target(self, *, allow_remote: bool) -> None:
        """Raise ``InputError`` when the target may not be loaded from here."""

    def run_level(
        self, users: int, *, duration_s: float, warmup_s: float, max_requests: int | None
    ) -> LevelResult:
        """Run ``users`` concurrent users for warm-up + duration and report the level."""


# --- callable -----------------------------------------------------------------------------------


def load_callable(spec: str) -> Callable[[], object]:
    """Import ``module:function`` (dotted attributes allowed after the colon), finding modules
    as ``python -m`` would: the current directory first, then ``sys.path``."""
    module_name, sep, attr = spec.partition(":")
    here = os.getcwd()
    if here not in sys.path and "" not in sys.path:
        sys.path.insert(0, here)
    if not sep or not module_name or not attr:
        raise InputError("expected module:function", source=Parameter("callable"), field=spec)
    try:
        obj: object = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise InputError(
            f"cannot import: {exc}", source=Parameter("callable"), field=spec
        ) from None
    if not callable(obj):
        raise InputError("not callable", source=Parameter("callable"), field=spec)
    return obj


class CallableDriver:
    """A Python function, ``module:function``, called with no arguments in threads or processes.

    Threads share the interpreter, so a CPU-bound function is serialised by the GIL (that is
    part of what the sweep measures); each worker thread calls the function itself, in a loop,
    so nothing of the harness runs between two calls but two clock reads and a count.
    ``processes=True`` calls it from worker processes instead (``process_spec``), each importing
    the function once and looping on its own. An exception from the function is an error of the
    workload.
    """

    def __init__(self, spec: str, *, processes: bool = False) -> None:
        self._fn = load_callable(spec)
        self.process_spec: str | None = spec if processes else None
        self.name = "callable-processes" if processes else "callable"
        self.target = spec

    def check_target(self, *, allow_remote: bool) -> None:
        """A local function: nothing to check."""

    def open(self, workers: int) -> None:
        """Nothing to prepare: the workers call the function directly."""

    def operation(self, worker: int) -> Callable[[], object]:
        return self._fn

    def close(self) -> None:
        """Nothing to release: a call still running ends on its own (its thread is a daemon)."""


# --- command ------------------------------------------------------------------------------------


class CommandDriver:
    """A shell command, one process per operation; an exit code ≠ 0 is an error.

    Each worker thread starts its process and waits for it (the wait releases the GIL). Each
    process runs in a session of its own, so ``close()`` (the level's deadline, Ctrl-C) kills
    the whole process group of every operation still running, not just the shell. The ``target``
    shown and saved is the command with the secrets it visibly carries masked
    (``redact.redact_text``: URL passwords, ``PASSWORD=...``, ``--token ...``,
    ``-u user:password``, auth headers); the command itself runs as given.
    """

    process_spec: str | None = None

    def __init__(self, command: str) -> None:
        if not command.strip():
            raise InputError("empty command", source=Parameter("command"))
        self._command = command
        self._running: dict[int, subprocess.Popen[bytes]] = {}
        self._closed = threading.Event()
        self.name = "command"
        self.target = redact_text(command)

    def check_target(self, *, allow_remote: bool) -> None:
        """A local command: nothing to check."""

    def open(self, workers: int) -> None:
        """Nothing to prepare: every operation starts its own process."""
        self._closed.clear()

    def operation(self, worker: int) -> Callable[[], object]:
        running = self._running

        def run() -> None:
            if self._closed.is_set():
                raise WorkloadError("closed")
            proc = subprocess.Popen(
                self._command,
                shell=True,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            running[worker] = proc
            try:
                if self._closed.is_set():  # closed while it started: close() may have missed it
                    _kill_group(proc)
                code = proc.wait()
            finally:
                running.pop(worker, None)
            if code != 0:
                raise WorkloadError(f"exit code {code}")

        return run

    def close(self) -> None:
        """Kill the process group of every operation still running, and reap its shell."""
        self._closed.set()
        for proc in list(self._running.values()):
            _kill_group(proc)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
