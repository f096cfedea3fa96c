"""The load drivers one by one: HTTP parsing on crafted responses, callable, command, Locust."""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest
from tests.support import http_server

from throughput_expert.errors import InputError, MeasurementError
from throughput_expert.measure.drivers import (
    CallableDriver,
    CommandDriver,
    Driver,
    LevelDriver,
    ThreadDriver,
    WorkloadError,
    load_callable,
)
from throughput_expert.measure.http_driver import UrlDriver, check_loopback
from throughput_expert.measure.locust_driver import LocustDriver, read_locust_stats
from throughput_expert.measure.runner import run_sweep

T = TypeVar("T")

# --- url: a raw server answering each request with the next crafted response ---------------------

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
)
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno!"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n" + OK
NO_CONTENT = b"HTTP/1.1 204 No Content\r\n\r\n"
CLOSE = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
TO_EOF = b"HTTP/1.1 200 OK\r\n\r\nbody until the connection closes"
GARBAGE = b"SMTP ready\r\n\r\n"


async def _with_server(
    responses: list[bytes], use: Callable[[str, list[bytes]], Awaitable[T]]
) -> T:
    """Serve ``responses`` in order, one per request (closing after a close-type response)."""
    queue = list(responses)
    requests: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while queue:
            head = await reader.readuntil(b"\r\n\r\n")
            length = [ln for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-length")]
            body = await reader.readexactly(int(length[0].split(b":")[1])) if length else b""
            requests.append(head + body)
            response = queue.pop(0)
            writer.write(response)
            await writer.drain()
            if b"Connection: close" in response or response in (TO_EOF, GARBAGE):
                break
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        return await use(f"http://127.0.0.1:{port}/path?q=1", requests)


def _calls(responses: list[bytes], **options: object) -> tuple[list[bool], list[bytes]]:
    async def use(url: str, requests: list[bytes]) -> tuple[list[bool], list[bytes]]:
        driver = UrlDriver(url, **options)  # type: ignore[arg-type]
        await driver.open(1)
        try:
            return [await driver.call(0) for _ in responses], requests
        finally:
            await driver.close()

    return asyncio.run(_with_server(responses, use))


def test_url_reads_length_chunked_interim_and_empty_bodies_on_one_connection() -> None:
    results, requests = _calls([OK, CHUNKED, CONTINUE, NO_CONTENT, OK])
    assert results == [True] * 5
    assert requests[0].startswith(b"GET /path?q=1 HTTP/1.1\r\nHost: 127.0.0.1:")


def test_url_errors_and_reconnects() -> None:
    # 404 is an error on a live connection; "close" and a body to EOF reconnect; garbage is an
    # error that drops the connection; every call after it still works on a new connection.
    results, _ = _calls([NOT_FOUND, CLOSE, TO_EOF, GARBAGE, OK])
    assert results == [False, True, True, False, True]


def test_url_posts_a_body_file(tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_bytes(b'{"x": 1}')
    results, requests = _calls([OK], method="POST", body=body)
    assert results == [True]
    assert requests[0].startswith(b"POST /path?q=1 HTTP/1.1")
    assert b"Content-Length: 8\r\n" in requests[0] and requests[0].endswith(b'{"x": 1}')


def test_url_unreachable_fails_at_open() -> None:
    async def attempt() -> None:
        await UrlDriver("http://127.0.0.1:1/").open(1)

    with pytest.raises(MeasurementError, match=r"cannot connect to 127\.0\.0\.1:1"):
        asyncio.run(attempt())


def test_url_rejects_other_schemes() -> None:
    with pytest.raises(InputError, match="http://"):
        UrlDriver("ftp://127.0.0.1/")


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.3.2.1", "::1"])
def test_loopback_hosts_pass(host: str) -> None:
    check_loopback(host, 80, allow_remote=False)


@pytest.mark.parametrize("host", ["192.0.2.1", "10.0.0.1", "2001:db8::1"])
def test_remote_hosts_need_allow_remote(host: str) -> None:
    with pytest.raises(InputError, match="is not a loopback address: pass allow_remote"):
        check_loopback(host, 80, allow_remote=False)
    check_loopback(host, 80, allow_remote=True)


def test_url_driver_checks_its_host() -> None:
    with pytest.raises(InputError, match="not a loopback"):
        UrlDriver("http://192.0.2.7:8080/x").check_target(allow_remote=False)


# --- callable -----------------------------------------------------------------------------------


def _module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> str:
    name = f"tpx_driver_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    return f"{name}:work"


def test_load_callable_errors() -> None:
    with pytest.raises(InputError, match="module:function"):
        load_callable("os")
    with pytest.raises(InputError, match="cannot import"):
        load_callable("no_such_module_tpx:f")
    with pytest.raises(InputError, match="cannot import"):
        load_callable("os:no_such_function")
    with pytest.raises(InputError, match="not callable"):
        load_callable("os:sep")
    assert load_callable("os.path:join.__call__") is not None


def test_callable_in_threads_runs_concurrently(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # time.sleep releases the GIL: 4 threads of 10 ms calls give ~400/s, not ~100/s.
    spec = _module(tmp_path, monkeypatch, "import time\ndef work():\n    time.sleep(0.01)\n")
    driver = CallableDriver(spec)
    assert isinstance(driver, ThreadDriver) and not isinstance(driver, Driver | LevelDriver)
    sweep = run_sweep(driver, concurrency=[1, 4], duration_s=0.5, warmup_s=0.1)
    one, four = sweep.levels
    # Each call takes its 10 ms (the median is immune to a stall of the busy test machine), and
    # four threads complete far more than one: serialised calls would give the same rate.
    assert one.latency.p50_s == pytest.approx(0.010, rel=0.2)
    assert four.latency.p50_s == pytest.approx(0.010, rel=0.2)
    assert one.throughput_rps == pytest.approx(100, rel=0.4)
    assert four.throughput_rps > 2.5 * one.throughput_rps
    assert sweep.driver == "callable" and sweep.target == spec


def test_callable_in_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = "import os\nPARENT = os.getppid()\ndef work():\n    assert os.getpid() != PARENT\n"
    spec = _module(tmp_path, monkeypatch, body)
    sweep = run_sweep(
        CallableDriver(spec, processes=True), concurrency=[2], duration_s=0.5, warmup_s=0.1
    )
    level = sweep.levels[0]
    assert level.errors == 0 and level.throughput_rps > 100
    assert sweep.driver == "callable-processes"


# --- command ------------------------------------------------------------------------------------


def test_command_exit_codes() -> None:
    driver = CommandDriver("true")
    driver.open(1)
    driver.operation(0)()  # exit 0: returns
    failing = CommandDriver("exit 3")
    failing.open(1)
    with pytest.raises(WorkloadError, match="exit code 3"):
        failing.operation(0)()
    with pytest.raises(InputError, match="empty command"):
        CommandDriver("  ")


def test_command_closed_kills_the_process_group(tmp_path: Path) -> None:
    marker = tmp_path / "still-running"
    driver = CommandDriver(f"sleep 0.5 && touch {marker} & wait")
    driver.open(1)
    outcome: list[BaseException | None] = []

    def call() -> None:
        try:
            driver.operation(0)()
            outcome.append(None)
        except Exception as exc:
            outcome.append(exc)

    worker = threading.Thread(target=call)
    worker.start()
    time.sleep(0.2)
    driver.close()  # the level's deadline, or Ctrl-C
    worker.join()
    assert isinstance(outcome[0], WorkloadError)  # killed: an error of that call, not a hang
    time.sleep(0.6)
    assert not marker.exists()  # the shell's child died with it
    with pytest.raises(WorkloadError):  # a closed driver starts no more processes
        driver.operation(0)()


def test_command_sweep() -> None:
    sweep = run_sweep(CommandDriver("true"), concurrency=[1, 2], duration_s=0.5, warmup_s=0.1)
    assert all(lv.throughput_rps > 10 and lv.errors == 0 for lv in sweep.levels)


# --- locust -------------------------------------------------------------------------------------

STATS_HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
    "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\n"
)


def test_read_locust_stats_aggregated_row(tmp_path: Path) -> None:
    path = tmp_path / "level_stats.csv"
    path.write_text(
        STATS_HEADER
        + "GET,/,1000,0,4,4.5,1,40,2,100.0,0.0,4,5,5,6,7,8,9,12,30,40,40\n"
        + ",Aggregated,1000,100,4,4.5,1,40,2,100.0,10.0,4,5,5,6,7,8,9,12,30,40,40\n"
    )
    result = read_locust_stats(path)
    assert result.requests == 1000 and result.errors == 100
    assert result.throughput_rps == pytest.approx(90.0)  # successes only
    assert result.duration_s == pytest.approx(10.0)
    assert result.latency.p99_s == pytest.approx(0.012)
    assert result.latency.p999_s == pytest.approx(0.030)
    assert result.latency.mean_s == pytest.approx(0.0045)


def test_read_locust_stats_without_data(tmp_path: Path) -> None:
    path = tmp_path / "level_stats.csv"
    path.write_text(STATS_HEADER)
    with pytest.raises(MeasurementError, match="no Aggregated row"):
        read_locust_stats(path)


def test_locustfile_hosts_are_checked(tmp_path: Path) -> None:
    remote = tmp_path / "remote.py"
    remote.write_text("class U:\n    host = 'http://192.0.2.1:8080'\n")
    with pytest.raises(InputError, match="not a loopback"):
        LocustDriver(str(remote)).check_target(allow_remote=False)
    LocustDriver(str(remote)).check_target(allow_remote=True)
    LocustDriver(str(remote), host="http://127.0.0.1:1").check_target(allow_remote=False)
    unknown = tmp_path / "unknown.py"
    unknown.write_text("class U:\n    pass\n")
    with pytest.raises(InputError, match="give its User class a literal"):
        LocustDriver(str(unknown)).check_target(allow_remote=False)


LOCUSTFILE = """
from locust import FastHttpUser, task


class Probe(FastHttpUser):
    @task
    def index(self):
        self.client.get("/")
"""


@pytest.mark.parametrize("workers", [0, 1])
def test_locust_runs_a_level(tmp_path: Path, workers: int) -> None:
    if shutil.which("locust") is None:
        pytest.importorskip("locust")
    locustfile = tmp_path / "locustfile.py"
    locustfile.write_text(LOCUSTFILE)
    with http_server(lambda _: time.sleep(0.005)) as host:
        driver = LocustDriver(str(locustfile), host=host, workers=workers)
        sweep = run_sweep(driver, concurrency=[2], duration_s=1.0, warmup_s=0.0)
    level = sweep.levels[0]
    # 2 users, 5 ms per request: at most ~400/s; Locust's own overhead takes some of it.
    assert level.requests is not None and level.requests > 50
    assert 50 < level.throughput_rps <= 420
    assert level.errors == 0 and level.latency.p50_s is not None
    with pytest.raises(InputError, match="closed loop only"):
        run_sweep(driver, rates=[10.0])
