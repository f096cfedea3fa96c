"""The Locust loopback guard at run time (issue 12): the static check read only a literal
``host = ...`` in a class body, so a host assigned after the class, computed, or an absolute URL
in ``self.client.get`` reached any address. Now every Locust process loads the guard plugin,
which checks the hosts once the locustfile has run and every socket connect before it happens.

The connect wrapper is tested in-process on real sockets with 192.0.2.1 (TEST-NET-1, never
routed): it raises before the original connect runs. Real Locust runs against a loopback server
for the allowed case; for the refused ones the run fails with the guard's one line. No traffic
leaves loopback: the refused address is never connected to, and names are resolved by a stub.
"""

from __future__ import annotations

import csv
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, ClassVar

import pytest
from tests.support import recording_server, run_captured

from throughput_expert.errors import InputError
from throughput_expert.measure import locust_guard
from throughput_expert.measure.locust_driver import LocustDriver, _Level
from throughput_expert.measure.locust_guard import (
    RemoteAddressRefused,
    check_url,
    checked_address,
    guard,
    is_loopback,
)
from throughput_expert.measure.runner import run_sweep

REMOTE = "192.0.2.1"  # TEST-NET-1: documentation only, never routed
TIMEOUT_S = 90  # a level here takes a few seconds; this only guards against a hang


# --- the connect wrapper, in-process --------------------------------------------------------------


class _Spy(socket.socket):
    """A real socket that records what reaches its (original) connect."""

    reached: ClassVar[list[Any]] = []

    def connect(self, address: Any) -> None:
        _Spy.reached.append(address)
        super().connect(address)

    def connect_ex(self, address: Any) -> int:
        _Spy.reached.append(address)
        return super().connect_ex(address)


def _stub_resolver(table: dict[str, str]) -> Any:
    def resolve(host: str, port: int, family: int = 0, kind: int = 0) -> list[Any]:
        ip = table[host]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]

    return resolve


@pytest.fixture
def spy() -> Iterator[list[RemoteAddressRefused]]:
    refused: list[RemoteAddressRefused] = []
    originals = (_Spy.connect, _Spy.connect_ex)
    resolve = _stub_resolver({"svc.test": "127.0.0.1", "db.test": REMOTE})
    guard(_Spy, refused.append, resolve)
    _Spy.reached = []
    try:
        yield refused
    finally:
        _Spy.connect, _Spy.connect_ex = originals  # type: ignore[method-assign]


@contextmanager
def _listener() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield int(server.getsockname()[1])


@pytest.mark.parametrize("method", ["connect", "connect_ex"])
@pytest.mark.parametrize("address", [(REMOTE, 9), ("db.test", 9), (f"::ffff:{REMOTE}", 9)])
def test_a_remote_address_is_refused_before_connecting(
    spy: list[RemoteAddressRefused], method: str, address: tuple[str, int]
) -> None:
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    with _Spy(family, socket.SOCK_STREAM) as sock:
        with pytest.raises(RemoteAddressRefused, match="not a loopback address"):
            getattr(sock, method)(address)
        assert _Spy.reached == []  # the original connect never ran
        with pytest.raises(OSError):
            sock.getpeername()  # not connected
    assert len(spy) == 1 and REMOTE in spy[0].shown


def test_loopback_connects_and_a_name_connects_to_the_address_checked(
    spy: list[RemoteAddressRefused],
) -> None:
    with _listener() as port:
        with _Spy(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.connect(("127.0.0.1", port))
            assert sock.getpeername() == ("127.0.0.1", port)
        with _Spy(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.connect(("svc.test", port))
    # The name was resolved once, by the guard: the socket got the address that was checked.
    assert _Spy.reached == [("127.0.0.1", port), ("127.0.0.1", port)]
    assert spy == []


def test_a_unix_socket_is_not_an_ip_address(tmp_path: Path) -> None:
    assert checked_address(socket.AF_UNIX, str(tmp_path / "s")) == str(tmp_path / "s")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.3.4.5", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("0.0.0.0", False),
        ("::", False),
        (REMOTE, False),
        ("10.1.2.3", False),
        ("localhost", False),  # a name: resolved first, never trusted as text
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_check_url() -> None:
    resolve = _stub_resolver({"svc.test": "127.0.0.1", "db.test": REMOTE})
    check_url("http://127.0.0.1:8089/x", resolve)
    check_url("http://svc.test/", resolve)
    check_url("not a url", resolve)  # no host: left to Locust
    for url in (f"http://{REMOTE}:9", "https://db.test", "http://[::ffff:10.0.0.1]/"):
        with pytest.raises(RemoteAddressRefused):
            check_url(url, resolve)


def test_the_plugin_is_left_out_only_when_remote_load_is_allowed(tmp_path: Path) -> None:
    locustfile = tmp_path / "l.py"
    assert _Level(tmp_path, guarded=False).files(locustfile) == str(locustfile)
    files = _Level(tmp_path, guarded=True).files(locustfile).split(",")
    assert files == [str(tmp_path / f"{locust_guard.PLUGIN_NAME}.py"), str(locustfile)]
    assert Path(files[0]).read_bytes() == Path(locust_guard.__file__).read_bytes()


def test_a_comma_in_the_locustfile_path_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a,b.py"
    path.write_text("")
    with pytest.raises(InputError, match="comma"):
        LocustDriver(str(path))


# --- real Locust --------------------------------------------------------------------------------


@pytest.fixture
def locust_installed() -> None:
    if shutil.which("locust") is None:
        pytest.importorskip("locust")


def _path(request: BaseHTTPRequestHandler) -> str:
    return request.path


HEAD = "from locust import FastHttpUser, HttpUser, constant, task\n\n"
ALLOWED = (
    HEAD + "class Probe({user}):\n    host = {host!r}\n    wait_time = constant(0.01)\n\n"
    "    @task\n    def index(self):\n        self.client.get('/ok')\n"
)
# Each passes the static check (a literal loopback host in a class body), then goes elsewhere.
AFTER_THE_CLASS = ALLOWED + f"\nProbe.host = 'http://{REMOTE}:9'\n"
COMPUTED = ALLOWED + (
    "\n\nclass Hidden(Probe):\n    host = 'http://' + '.'.join(['192', '0', '2', '1']) + ':9'\n"
)
ABSOLUTE = (
    HEAD + "class Probe({user}):\n    host = {host!r}\n    wait_time = constant(0.01)\n\n"
    f"    @task\n    def index(self):\n        self.client.get('http://{REMOTE}:9/x')\n"
)


def _sweep(path: Path, workers: int = 0, allow_remote: bool = False) -> int:
    driver = LocustDriver(str(path), workers=workers)
    sweep = run_sweep(
        driver, concurrency=[2], duration_s=1.0, warmup_s=0.0, allow_remote=allow_remote
    )
    requests = sweep.levels[0].requests
    assert requests is not None
    return requests


@pytest.mark.usefixtures("locust_installed")
@pytest.mark.parametrize("user", ["FastHttpUser", "HttpUser"])
def test_loopback_load_runs_with_the_guard(tmp_path: Path, user: str) -> None:
    with recording_server(_path) as (host, seen):
        path = tmp_path / "ok.py"
        path.write_text(ALLOWED.format(user=user, host=host))
        assert _sweep(path) > 10
    assert seen and set(seen) == {"/ok"}


@pytest.mark.usefixtures("locust_installed")
@pytest.mark.parametrize(
    ("template", "user", "workers"),
    [
        (AFTER_THE_CLASS, "FastHttpUser", 0),
        (COMPUTED, "FastHttpUser", 0),
        (ABSOLUTE, "FastHttpUser", 0),
        (ABSOLUTE, "HttpUser", 0),
        (ABSOLUTE, "FastHttpUser", 1),
    ],
    ids=["after-the-class", "computed", "absolute-fast", "absolute-requests", "distributed"],
)
def test_a_remote_address_fails_the_sweep(
    tmp_path: Path, template: str, user: str, workers: int
) -> None:
    with recording_server(_path) as (host, _):
        path = tmp_path / "remote.py"
        path.write_text(template.format(user=user, host=host))
        LocustDriver(str(path)).check_target(allow_remote=False)  # the static check passes
        started = time.monotonic()
        with pytest.raises(InputError) as caught:
            _sweep(path, workers=workers)
    line = str(caught.value)
    assert line.startswith(f"locustfile: Locust was about to connect to {REMOTE}:9,")
    assert "nothing was sent there" in line and "allow_remote" in line and "\n" not in line
    assert time.monotonic() - started < TIMEOUT_S


def _locust(
    tmp_path: Path, name: str, template: str
) -> tuple[subprocess.CompletedProcess[str], Path, list[str]]:
    """Locust as the driver runs it, guarded, on ``template`` aimed at a recording loopback
    server: (the run, its refusals file, the paths the server saw); CSV files in ``tmp_path``."""
    level = _Level(tmp_path, guarded=True)
    locust = shutil.which("locust")
    with recording_server(_path) as (host, seen):
        locustfile = tmp_path / name
        locustfile.write_text(template.format(user="FastHttpUser", host=host))
        command = [locust] if locust else [sys.executable, "-m", "locust"]
        command += ["-f", level.files(locustfile), "--headless", "--users", "2", "--spawn-rate"]
        command += ["2", "--run-time", "3s", "--csv", str(tmp_path / "run"), "--only-summary"]
        run = run_captured(command, env=level.env, cwd=tmp_path, timeout=TIMEOUT_S)
    return run, level.refusals, seen


def _aggregated(stats: Path) -> tuple[int, int]:
    """(requests, failures) of the Aggregated row; (0, 0) when Locust wrote none."""
    text = stats.read_text() if stats.exists() else ""
    rows = [r for r in csv.DictReader(text.splitlines()) if r["Name"] == "Aggregated"]
    if not rows:
        return 0, 0
    return int(rows[0]["Request Count"]), int(rows[0]["Failure Count"])


@pytest.mark.usefixtures("locust_installed")
def test_a_host_refused_at_start_sends_no_request(tmp_path: Path) -> None:
    run, refusals, seen = _locust(tmp_path, "after.py", AFTER_THE_CLASS)
    assert run.returncode == locust_guard.EXIT_CODE, run.stderr
    assert f"tpx: {REMOTE}:9 is not a loopback address" in run.stderr
    assert refusals.read_text() == f"{REMOTE}:9\n"
    assert _aggregated(tmp_path / "run_stats.csv") == (0, 0)
    assert seen == []  # no user started: not even the loopback server was asked


@pytest.mark.usefixtures("locust_installed")
def test_a_connect_refused_mid_run_stops_locust_and_succeeds_nowhere(tmp_path: Path) -> None:
    run, refusals, _ = _locust(tmp_path, "absolute.py", ABSOLUTE)
    assert run.returncode == locust_guard.EXIT_CODE, run.stderr
    assert refusals.read_text().splitlines()[0] == f"{REMOTE}:9"
    # Locust is stopped at the first refusal, usually before it records the failed request;
    # whatever it recorded failed with the guard's error: nothing was answered.
    requests, failures = _aggregated(tmp_path / "run_stats.csv")
    assert requests == failures
    if failures:
        assert "not a loopback address" in (tmp_path / "run_failures.csv").read_text()


def test_the_guard_env_is_only_a_report_path(tmp_path: Path) -> None:
    # The driver sets it; a value inherited from the environment is replaced, never trusted.
    os.environ[locust_guard.REPORT_ENV] = "/elsewhere"
    try:
        assert _Level(tmp_path, guarded=True).env[locust_guard.REPORT_ENV] == str(
            tmp_path / "refused.txt"
        )
        assert locust_guard.REPORT_ENV not in _Level(tmp_path, guarded=False).env
    finally:
        del os.environ[locust_guard.REPORT_ENV]
