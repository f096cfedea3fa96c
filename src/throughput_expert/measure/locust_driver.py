"""The ``locustfile`` driver: Locust headless as a subprocess, one run per level.

Each level runs ``locust -f FILE --headless --users N --spawn-rate N --run-time T --csv PREFIX
--reset-stats`` (T = 1 s of spawning + warm-up + duration, rounded up to whole seconds;
``--reset-stats`` drops what was counted while the users were spawning) and reads the
``Aggregated`` row of ``PREFIX_stats.csv``. With ``workers=W`` it uses Locust's distributed mode,
the way past one load generator: one ``--master --expect-workers W`` bound to loopback and W
``--worker`` processes. Locust is closed loop (its users wait for each response), so its
percentiles are prone to coordinated omission. ``max_requests`` is not enforced by Locust: a
level is bounded by its time.

The target is checked twice unless remote load was allowed. Before anything runs, as an early
and friendly error: the ``--host`` given, else every ``host = "..."`` class attribute in the
locustfile (read with ``ast``, never executed), must be loopback. And at run time, where it
counts: every Locust process loads ``measure/locust_guard.py`` as a plugin (``-f
GUARD,LOCUSTFILE``), which checks the hosts once the locustfile has run and every address a
socket connects to, before it connects (a host assigned after the class or computed, an
absolute URL in ``self.client.get``). A refusal is written to a file the driver watches; the
driver then stops Locust and raises ``InputError`` naming the address (the same error, and the
same remedy, ``--allow-remote``, as the early check), and nothing was sent to it.
"""

from __future__ import annotations

import ast
import csv
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from throughput_expert.errors import InputError, MeasurementError, Parameter
from throughput_expert.measure import locust_guard
from throughput_expert.measure.drivers import LevelResult
from throughput_expert.measure.http_driver import check_loopback
from throughput_expert.model.records import Latency
from throughput_expert.redact import redact_url

__all__ = ["LocustDriver", "read_locust_stats"]

_SOURCE = Parameter("locustfile")
SPAWN_S = 1.0
GRACE_S = 60.0  # Locust's own start-up and shut-down, beyond the run time
POLL_S = 0.1  # how often a running level looks for the guard's refusals
_PERCENTILES = {"p50_s": "50%", "p90_s": "90%", "p95_s": "95%", "p99_s": "99%", "p999_s": "99.9%"}


class LocustDriver:
    """Runs each level as one headless Locust run (or a master and ``workers`` workers)."""

    def __init__(self, locustfile: str, *, host: str | None = None, workers: int = 0) -> None:
        self._file = Path(locustfile)
        if not self._file.is_file():
            raise InputError("no such file", source=_SOURCE, field=locustfile)
        if "," in locustfile:
            raise InputError(
                "Locust reads a comma in -f as a list of files: rename or move the file",
                source=_SOURCE,
                field=locustfile,
            )
        if workers < 0:
            raise InputError("must be >= 0", source=Parameter("workers"), field=str(workers))
        self._host = host
        self._workers = workers
        self._guarded = True  # until check_target(allow_remote=True)
        self.name = "locust" if workers == 0 else f"locust-distributed-{workers}"
        self.target = host or str(self._file)

    def check_target(self, *, allow_remote: bool) -> None:
        """The early check (static: ``--host`` or the locustfile's literal hosts); unless
        ``allow_remote``, the levels then run with the guard plugin too."""
        self._guarded = not allow_remote
        hosts = [self._host] if self._host else _hosts_in(self._file)
        if not hosts and not allow_remote:
            raise InputError(
                "cannot tell which host the locustfile loads: give its User class a literal "
                '`host = "http://127.0.0.1:PORT"`, or {allow_remote}',
                source=_SOURCE,
                mentions=("allow_remote",),
            )
        for url in hosts:
            try:
                parts = urlsplit(url)
                hostname, port = parts.hostname, parts.port
            except ValueError:  # "http://u:pa/ss@h/" reads as host "u", port "pa"
                hostname, port = None, None
            if not hostname:
                shown = redact_url(url)[:120]
                raise InputError(f"not a URL with a host: {shown!r}", source=_SOURCE)
            port = port or (443 if parts.scheme == "https" else 80)
            check_loopback(hostname, port, allow_remote=allow_remote, source=_SOURCE)

    def run_level(
        self, users: int, *, duration_s: float, warmup_s: float, max_requests: int | None
    ) -> LevelResult:
        # Spawning N users at N/s takes about a second, and --reset-stats counts from its end.
        run_time = math.ceil(SPAWN_S + warmup_s + duration_s)
        with tempfile.TemporaryDirectory(prefix="tpx-locust-") as tmp:
            level = _Level(Path(tmp), guarded=self._guarded)
            command = self._command(level, users, run_time)
            if self._workers:
                self._run_distributed(level, command, run_time)
            else:
                level.run(command, run_time)
            return read_locust_stats(level.folder / "level_stats.csv")

    def _command(self, level: _Level, users: int, run_time: int) -> list[str]:
        command = [*_locust(), "-f", level.files(self._file), "--headless", "--only-summary"]
        command += ["--users", str(users), "--spawn-rate", str(users)]
        command += ["--run-time", f"{run_time}s", "--csv", str(level.folder / "level")]
        command += ["--reset-stats", "--exit-code-on-error", "0", "--loglevel", "WARNING"]
        return command + (["--host", self._host] if self._host else [])

    def _run_distributed(self, level: _Level, command: list[str], run_time: int) -> None:
        port = _free_port()
        master = [*command, "--master", "--expect-workers", str(self._workers)]
        master += ["--master-bind-host", "127.0.0.1", "--master-bind-port", str(port)]
        worker = [*_locust(), "-f", level.files(self._file), "--worker", "--loglevel", "WARNING"]
        worker += ["--master-host", "127.0.0.1", "--master-port", str(port)]
        # Workers' output is not read: the master's tells the story, the guard's file the rest.
        workers = [level.spawn(worker, None) for _ in range(self._workers)]
        try:
            level.run(master, run_time)
        finally:
            for proc in workers:
                _stop(proc)


class _Level:
    """One level's folder: the CSV files, Locust's stderr, and (guarded) the guard plugin and
    the file where it reports a refused address."""

    def __init__(self, folder: Path, *, guarded: bool) -> None:
        self.folder = folder
        self.guarded = guarded
        self.refusals = folder / "refused.txt"
        self.env = dict(os.environ)
        self.env.pop(locust_guard.REPORT_ENV, None)
        if guarded:
            self.env[locust_guard.REPORT_ENV] = str(self.refusals)

    def files(self, locustfile: Path) -> str:
        """``-f``'s value: the guard first (so it is in place before the locustfile runs)."""
        if not self.guarded:
            return str(locustfile)
        plugin = self.folder / f"{locust_guard.PLUGIN_NAME}.py"
        shutil.copyfile(locust_guard.__file__, plugin)
        return f"{plugin},{locustfile}"

    def spawn(self, command: list[str], stderr: int | None) -> subprocess.Popen[bytes]:
        try:
            return subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL if stderr is None else stderr,
                env=self.env,
            )
        except OSError as exc:
            raise MeasurementError(f"cannot start Locust: {exc}", source=_SOURCE) from None

    def run(self, command: list[str], run_time: int) -> None:
        """Run Locust to its end; stop it at once when the guard refused an address."""
        limit = run_time + GRACE_S
        with open(self.folder / "locust.err", "w+b") as err:
            proc = self.spawn(command, err.fileno())
            try:
                deadline = time.monotonic() + limit
                while not _exited(proc, POLL_S):
                    self.check_refusals()
                    if time.monotonic() > deadline:
                        raise MeasurementError(
                            f"Locust did not finish within {limit:g} s", source=_SOURCE
                        )
            finally:
                _stop(proc)
            self.check_refusals()
            if proc.returncode != 0:
                err.seek(0)
                text = err.read()[-4096:].decode(errors="replace").strip()
                last = text.splitlines()[-1:] or ["no message"]
                raise MeasurementError(
                    f"Locust exited {proc.returncode}: {last[0]}", source=_SOURCE
                )

    def check_refusals(self) -> None:
        """``InputError`` naming the first address the guard refused, if any."""
        if not self.guarded:
            return
        try:
            lines = self.refusals.read_text("utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return
        shown = next((line for line in lines if line.strip()), None)
        if shown is not None:
            raise InputError(
                f"Locust was about to connect to {shown[:200]}, not a loopback address: it was "
                "stopped, and nothing was sent there (pass {allow_remote} to load it)",
                source=_SOURCE,
                mentions=("allow_remote",),
            )


def _exited(proc: subprocess.Popen[bytes], wait_s: float) -> bool:
    try:
        proc.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        return False
    return True


def _locust() -> list[str]:
    found = shutil.which("locust")
    return [found] if found else [sys.executable, "-m", "locust"]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stderr is not None:
        proc.stderr.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _hosts_in(path: Path) -> list[str]:
    """Every ``host = "..."`` assigned in a class body of the locustfile (not executed)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the locustfile: {exc}", source=_SOURCE) from None
    hosts: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            hosts += [v for stmt in node.body if (v := _host_value(stmt)) is not None]
    return hosts


def _host_value(stmt: ast.stmt) -> str | None:
    targets = stmt.targets if isinstance(stmt, ast.Assign) else []
    if isinstance(stmt, ast.AnnAssign):
        targets = [stmt.target]
    value = getattr(stmt, "value", None)
    named = any(isinstance(t, ast.Name) and t.id == "host" for t in targets)
    if named and isinstance(value, ast.Constant) and isinstance(value.value, str):
        return value.value
    return None


def read_locust_stats(path: Path) -> LevelResult:
    """The ``Aggregated`` row of a Locust ``_stats.csv`` (times in ms) as a level's figures."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = [r for r in csv.DictReader(handle) if r.get("Name") == "Aggregated"]
    except OSError as exc:
        raise MeasurementError(f"Locust wrote no stats: {exc}", source=_SOURCE) from None
    if not rows:
        raise MeasurementError(f"no Aggregated row in {path.name}", source=_SOURCE)
    row = rows[0]
    requests, errors = int(_num(row, "Request Count")), int(_num(row, "Failure Count"))
    rate = _num(row, "Requests/s")
    ok_rate = rate * (requests - errors) / requests if requests else 0.0
    latency = Latency(
        mean_s=_ms(row, "Average Response Time"),
        max_s=_ms(row, "Max Response Time"),
        **{key: _ms(row, column) for key, column in _PERCENTILES.items()},
    )
    duration = requests / rate if rate > 0 else 0.0
    return LevelResult(ok_rate, latency, requests, errors, duration)


def _num(row: dict[str, str], column: str) -> float:
    try:
        return float(row[column])
    except (KeyError, TypeError, ValueError):
        raise MeasurementError(
            f"unexpected Locust stats: column {column!r} = {row.get(column)!r}", source=_SOURCE
        ) from None


def _ms(row: dict[str, str], column: str) -> float | None:
    cell = (row.get(column) or "").strip()
    try:
        return float(cell) / 1e3
    except ValueError:  # "N/A" when nothing was recorded
        return None
