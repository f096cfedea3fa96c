"""Issue 19: a Prometheus that fails ends the command in one line and exit 2, in bounded time.

Each fault is played by a real server on loopback (a thread: ``http.server`` for whole
answers, a raw socket for answers cut off or trickled) and met by the real ``tpx`` CLI in a
subprocess: unreachable, slower than the timeout, answering 500, answering what is not the API
(not JSON, JSON of the wrong shape, an error envelope), closing mid-answer, trickling bytes. The
timeouts are set short through ``TPX_PROMETHEUS_TIMEOUT`` and ``TPX_PROMETHEUS_TOTAL_TIMEOUT``.
Whatever the server says is shown escaped: a carriage return it sends appears as ``\\r``.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from tests.support import run_tpx, serve_http

from throughput_expert.sources.prometheus.http import HttpPrometheus
from throughput_expert.sources.prometheus.live import collect

Reply = tuple[int, bytes]
PROFILE = Path(__file__).parent / "profiles" / "fixtures" / "tiny.collapsed.txt"
COMMANDS = (("analyze",), ("find-bottleneck", "--profile", str(PROFILE)))


def vector(value: str) -> bytes:
    result = [{"metric": {}, "value": [1717000000.0, value]}]
    doc = {"status": "success", "data": {"resultType": "vector", "result": result}}
    return json.dumps(doc).encode()


def healthy(path: str) -> Reply:
    """Enough of a Prometheus for the commands: 300 samples of ``up``, 0.5 for the rest."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query).get("query", [""])[0]
    return 200, vector("300" if "count_over_time(up" in query else "0.5")


@contextlib.contextmanager
def prometheus(reply: Callable[[str], Reply], delay_s: float = 0.0) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(delay_s)
            status, body = reply(self.path)
            with contextlib.suppress(OSError):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serve_http(Handler) as url:
        yield url


@contextlib.contextmanager
def raw_server(script: Callable[[socket.socket, threading.Event], None]) -> Iterator[str]:
    """A TCP server on 127.0.0.1 running ``script(conn, stop)`` for each connection."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.recv(65536)
            script(conn, stop)

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        listener.close()


def tpx_against(
    url: str, *command: str, timeout_s: float = 1, total_s: float = 30
) -> tuple[int, str, float]:
    """``tpx COMMAND --prometheus URL``: exit code, stderr and seconds taken."""
    env = {
        **os.environ,
        "TPX_PROMETHEUS_TIMEOUT": f"{timeout_s:g}",
        "TPX_PROMETHEUS_TOTAL_TIMEOUT": f"{total_s:g}",
    }
    started = time.monotonic()
    proc = run_tpx(*(command or ("analyze",)), "--prometheus", url, env=env, timeout=120)
    return proc.returncode, proc.stderr, time.monotonic() - started


def one_line(code: int, stderr: str) -> str:
    assert code == 2, stderr
    assert "\r" not in stderr and "\x1b" not in stderr and "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_a_healthy_fake_answers_every_command() -> None:
    with prometheus(healthy) as url:
        for command in COMMANDS:
            code, stderr, _ = tpx_against(url, *command)
            assert code == 0, (command, stderr)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_unreachable(command: tuple[str, ...]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    line = one_line(*tpx_against(f"http://127.0.0.1:{port}", *command)[:2])
    assert "cannot reach the server (Connection refused), 4 tries" in line


def test_slower_than_the_timeout() -> None:
    with prometheus(healthy, delay_s=3) as url:
        line = one_line(*tpx_against(url, timeout_s=0.4)[:2])
    assert line.endswith("no complete answer within 0.4 s, 4 tries")


def test_a_slow_server_is_bounded_by_the_total_deadline() -> None:
    with prometheus(healthy, delay_s=5) as url:
        code, stderr, took = tpx_against(url, timeout_s=1, total_s=2)
    line = one_line(code, stderr)
    assert "no complete answer within the total deadline of 2 s, 2 tries" in line
    assert took < 60  # not (tries x timeout) per query for every query: it hung before


def test_answering_500_shows_the_body_escaped() -> None:
    with prometheus(lambda path: (500, b"overloaded\rFAKE: all good\x1b[2J")) as url:
        line = one_line(*tpx_against(url)[:2])
    assert line.endswith(
        "HTTP 500: not a Prometheus API answer: overloaded\\rFAKE: all good\\x1b[2J"
    )


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<html>hello</html>", "HTTP 200: not a Prometheus API answer: is the URL the server's"),
        (b"", "HTTP 200: not a Prometheus API answer"),
        (b'{"status": "success", "data": [1, 2]}', "no query returned data"),
        (
            b'{"status": "success", "data": {"resultType": "vector", "result": [1, "x"]}}',
            "no query returned data",
        ),
        (
            b'{"status":"success","data":{"resultType":"vector","result":'
            b'[{"metric":{},"value":[1,"1"]},{"metric":3}]}}',
            "data.result[1]: a series is",
        ),
        (
            b'{"status":"success","data":{"resultType":"vector","result":'
            b'[{"metric":{},"value":[1,"' + b"9" * 5000 + b'"]}]}}',
            "sample values must be finite",
        ),
        (
            b'{"status":"error","errorType":"bad_data","error":"line one\\rFAKE: all good"}',
            "the server answered bad_data: line one\\rFAKE: all good",
        ),
        (b"[" * 100_000, "not a Prometheus API answer"),
    ],
    ids=["html", "empty", "data-list", "result-junk", "item-junk", "huge", "error-cr", "deep"],
)
def test_answers_that_are_not_the_api(body: bytes, words: str) -> None:
    def reply(path: str) -> Reply:  # the window check passes; every other query gets ``body``
        return healthy(path) if "count_over_time" in path else (200, body)

    with prometheus(reply) as url:
        line = one_line(*tpx_against(url)[:2])
    assert words in line


def test_closing_mid_answer() -> None:
    def cut(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{"status"')

    with raw_server(cut) as url:
        line = one_line(*tpx_against(url)[:2])
    assert line.endswith("not a well-formed HTTP answer (cut off after 9 bytes), 4 tries")


def test_a_trickling_server_is_cut_off_by_the_total_deadline() -> None:
    def trickle(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        while not stop.wait(0.2):
            conn.sendall(b" ")  # a byte every 0.2 s never trips a per-read timeout of 1 s

    with raw_server(trickle) as url:
        code, stderr, took = tpx_against(url, timeout_s=1, total_s=3)
    line = one_line(code, stderr)
    assert "no complete answer within" in line
    assert took < 60


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "1e300", "x" * 50])
def test_a_bad_timeout_in_the_environment_is_one_line(value: str) -> None:
    env = {**os.environ, "TPX_PROMETHEUS_TIMEOUT": value}
    proc = run_tpx("analyze", "--prometheus", "http://127.0.0.1:9", env=env)
    line = one_line(proc.returncode, proc.stderr)
    assert "TPX_PROMETHEUS_TIMEOUT: a timeout must be seconds from 0 to 86400" in line


def test_the_flags_set_the_timeouts_over_the_environment() -> None:
    # env says 30 s a try; --prometheus-timeout 0.4s wins, --prometheus-total-timeout 1.5s too
    env = {**os.environ, "TPX_PROMETHEUS_TIMEOUT": "30", "TPX_PROMETHEUS_TOTAL_TIMEOUT": "300"}
    with prometheus(healthy, delay_s=5) as url:
        started = time.monotonic()
        proc = run_tpx(
            "analyze",
            "--prometheus",
            url,
            "--prometheus-timeout",
            "0.4s",
            "--prometheus-total-timeout",
            "1.5s",
            env=env,
            timeout=120,
        )
        took = time.monotonic() - started
    line = one_line(proc.returncode, proc.stderr)
    assert "within 0.4 s" in line and "total deadline of 1.5 s" in line
    assert took < 30  # the environment's 30 s a try would have been waited at least once


@pytest.mark.parametrize("value", ["0", "-1s", "nan", "1e300", "2 days", "x" * 50])
def test_a_bad_timeout_flag_is_one_line(value: str) -> None:
    proc = run_tpx("analyze", "--prometheus", "http://127.0.0.1:9", f"--prometheus-timeout={value}")
    assert one_line(proc.returncode, proc.stderr).startswith("--prometheus-timeout: ")


def test_the_total_deadline_is_per_collect_not_per_source() -> None:
    # a long-lived source (an agent, an architecture of components) collects again and again
    with prometheus(healthy) as url:
        source = HttpPrometheus(url, timeout_s=1, total_s=1)
        first = collect(source, window="5m", at=1717000000.0)
        time.sleep(1.2)
        second = collect(source, window="5m", at=1717000000.0)
        third = source.query("up", None)
    assert not first.missing and not second.missing
    assert isinstance(third, dict) and third["status"] == "success"


def test_a_library_analyze_that_fails_saves_no_export(tmp_path: Path) -> None:
    # the command line stages --save until exit 0; the library call saved the export as soon as
    # it was collected, before a bad argument could end the call
    from throughput_expert import analyze
    from throughput_expert.errors import InputError
    from throughput_expert.live import PrometheusOptions

    out = tmp_path / "export.json"
    with prometheus(healthy) as url:
        options = PrometheusOptions(url=url, save=str(out), timeout=5)
        with pytest.raises(InputError):
            analyze(prometheus=options, target_rps="fast")
        assert not out.exists() and not list(tmp_path.iterdir())
        analyze(prometheus=options)  # the same call that stands saves it
    assert json.loads(out.read_text())
