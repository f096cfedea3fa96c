"""Load drivers: what the sweep runner (``measure.runner``) calls to put load on a workload.

Two shapes, both ``Protocol``s:

- ``Driver`` (``callable``, ``command``, ``url``) does **one operation per call** and is
  **async**: the runner runs one event loop per level and awaits ``call(worker)`` from one
  coroutine per unit of concurrency (closed loop) or per open-loop worker, timing each call
  itself. ``open(workers)`` prepares what ``workers`` concurrent calls need (a thread or process
  pool, connections) and ``close()`` releases it; both run inside the level's event loop.
  ``call`` returns True on success and False on an error of the workload (an exception from the
  function, an exit code ≠ 0, an HTTP status ≥ 400, a dropped connection); it raises only when
  the measurement itself cannot go on (``MeasurementError``). Drivers that block (a Python
  function, a process) hand the blocking part to a pool, so the loop stays free to time others.
- ``LevelDriver`` (``locustfile``) runs **a whole level itself** (a load tool with its own
  runtime), synchronously, and reports the level's figures; closed loop only.

Every driver checks its target first: ``check_target(allow_remote=...)`` raises ``InputError``
for a network target that is not on loopback unless remote load was allowed.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
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
    "load_callable",
]


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


@cache
def _cached(spec: str) -> Callable[[], object]:
    return load_callable(spec)


def _call_by_name(spec: str) -> bool:
    # Runs in a worker process: imports the function once per process, then calls it.
    try:
        _cached(spec)()
    except Exception:
        return False
    return True


def _ready() -> bool:
    return True


class CallableDriver:
    """A Python function, ``module:function``, called with no arguments in threads or processes.

    Threads share the interpreter, so a CPU-bound function is serialised by the GIL (that is
    part of what the sweep measures). ``processes=True`` calls it in a pool of processes
    instead; its time then includes the round trip to the process (tens of microseconds).
    An exception from the function is an error of the workload.
    """

    def __init__(self, spec: str, *, processes: bool = False) -> None:
        self._fn = load_callable(spec)
        self._spec = spec
        self._processes = processes
        self._pool: Executor | None = None
        self.name = "callable-processes" if processes else "callable"
        self.target = spec

    def check_target(self, *, allow_remote: bool) -> None:
        """A local function: nothing to check."""

    async def open(self, workers: int) -> None:
        if not self._processes:
            self._pool = ThreadPoolExecutor(workers, thread_name_prefix="tpx-callable")
            return
        context = multiprocessing.get_context("spawn")  # fork under an event loop can deadlock
        pool = ProcessPoolExecutor(workers, mp_context=context)
        self._pool = pool
        loop = asyncio.get_running_loop()
        # Start every process now, so spawning is not charged to the first measured calls.
        await asyncio.gather(*(loop.run_in_executor(pool, _ready) for _ in range(workers)))

    async def call(self, worker: int) -> bool:
        assert self._pool is not None, "open() first"
        loop = asyncio.get_running_loop()
        if self._processes:
            return await loop.run_in_executor(self._pool, _call_by_name, self._spec)
        return await loop.run_in_executor(self._pool, self._call)

    def _call(self) -> bool:
        try:
            self._fn()
        except Exception:
            return False
        return True

    async def close(self) -> None:
        if self._pool is not None:
            # Calls still running finish on their own; none is waited for (Ctrl-C stops at once).
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


# --- command ------------------------------------------------------------------------------------


class CommandDriver:
    """A shell command, one process per operation; an exit code ≠ 0 is an error.

    Each process runs in a session of its own, so a cancelled call (the level's deadline,
    Ctrl-C) kills the whole process group, not just the shell. The ``target`` shown and saved
    is the command with the secrets it visibly carries masked (``redact.redact_text``:
    URL passwords, ``PASSWORD=...``, ``--token ...``, ``-u user:password``, auth headers);
    the command itself runs as given.
    """

    def __init__(self, command: str) -> None:
        if not command.strip():
            raise InputError("empty command", source=Parameter("command"))
        self._command = command
        self.name = "command"
        self.target = redact_text(command)

    def check_target(self, *, allow_remote: bool) -> None:
        """A local command: nothing to check."""

    async def open(self, workers: int) -> None:
        """Nothing to prepare: every call starts its own process."""

    async def call(self, worker: int) -> bool:
        proc = await asyncio.create_subprocess_shell(
            self._command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            return await proc.wait() == 0
        except BaseException:  # cancelled (deadline, Ctrl-C): kill the group, reap the shell
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
            raise

    async def close(self) -> None:
        """Nothing to release."""
