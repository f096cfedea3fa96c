"""No password in any report, saved file, error or Host header; bounded network waits (issue 12).

Every test runs the real ``tpx`` as a subprocess against real sockets: loopback HTTP servers
started here (threads, port 0) that record what they receive, silent or trickling servers, and
the real PostgreSQL of scripts/services (it trusts loopback connections, so a DSN with any
password connects and the run shows what it would print).
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from tests.support import TPX, last_line, recording_server, run_captured, run_tpx

# A password needing every escape a URL can need, made of pieces that appear nowhere else.
PIECES = ("Sekr3t", "Qv9k", "Lm2w", "Xy7j", "Pz4h")
SPECIAL = "Sekr3t#Qv9k?Lm2w/Xy7j@Pz4h"
ENCODED = urllib.parse.quote(SPECIAL, safe="")
PLAIN = "Sekr3tQv9kLm2w"


def tpx(*argv: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("TPX_DEBUG", None)
    return run_tpx(*argv, cwd=cwd, timeout=timeout, env=env)


def leaks(*texts: str) -> list[str]:
    """The pieces of the password found in any of ``texts`` (raw or percent-encoded)."""
    joined = "\n".join(texts)
    return [p for p in (*PIECES, ENCODED, PLAIN) if p in joined]


# --- loopback servers ---------------------------------------------------------------------------


def _headers(request: BaseHTTPRequestHandler) -> dict[str, str]:
    return dict(request.headers.items())


@contextmanager
def raw_server(behave: Callable[[socket.socket], None]) -> Iterator[int]:
    """A TCP server on 127.0.0.1 that hands each connection to ``behave`` in a thread."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.2)
    stop = threading.Event()
    conns: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            conns.append(conn)
            threading.Thread(target=_quietly, args=(behave, conn), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        listener.close()
        for conn in conns:
            conn.close()


def _quietly(behave: Callable[[socket.socket], None], conn: socket.socket) -> None:
    with suppress(OSError):  # the test ended and closed the connection
        behave(conn)


def silent(conn: socket.socket) -> None:
    """Accept, read what comes, answer nothing."""
    while conn.recv(65536):
        pass


def trickle(conn: socket.socket) -> None:
    """Answer a byte every 2 s: a response that never completes within a level."""
    conn.recv(65536)
    for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok":
        conn.sendall(bytes([byte]))
        time.sleep(2)


def huge_body(conn: socket.socket) -> None:
    """A body of a terabyte, announced; 192 MiB sent as fast as loopback takes it."""
    conn.recv(65536)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n")
    chunk = b"\0" * (1 << 20)
    for _ in range(192):
        conn.sendall(chunk)
    silent(conn)


# --- 1. tpx sweep --url with credentials ---------------------------------------------------------


@pytest.mark.parametrize(
    ("userinfo", "user", "password", "fmt"),
    [("me:" + PLAIN, "me", PLAIN, "text"), ("me:" + ENCODED, "me", SPECIAL, "json")],
    ids=["plain-text", "encoded-json"],
)
def test_sweep_url_password_goes_only_into_the_authorization_header(
    tmp_path: Path, userinfo: str, user: str, password: str, fmt: str
) -> None:
    with recording_server(_headers) as (base, seen):
        port = urllib.parse.urlsplit(base).port
        url = f"http://{userinfo}@127.0.0.1:{port}/x"
        done = tpx(
            "sweep", "--url", url, "--concurrency", "1,2", "--duration", "0.5s", "--warmup",
            "0", "--save", "s.json", "--format", fmt, "--output", "report.out", cwd=tmp_path,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert seen, "the server saw no request"
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    for headers in seen:
        assert headers["Host"] == f"127.0.0.1:{port}"
        assert headers["Authorization"] == expected
    saved = (tmp_path / "s.json").read_text()
    report = (tmp_path / "report.out").read_text()
    assert not leaks(saved, report, done.stdout, done.stderr)
    assert json.loads(saved)["source"]["target"] == f"http://me:***@127.0.0.1:{port}/x"
    if fmt == "json":  # the text report does not show the target
        assert json.loads(report)["analysis"]["target"] == f"http://me:***@127.0.0.1:{port}/x"
    # Reading the saved file back shows the masked target, and still nothing else.
    again = tpx("sweep", "--from", "s.json", "--format", "json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert not leaks(again.stdout, again.stderr)


@pytest.mark.parametrize("userinfo", ["me:Sekr3t/Qv9k@Lm2w", "me:Sekr3t#Qv9k", "me:Sekr3t?Qv9k"])
def test_sweep_url_with_a_raw_special_password_is_one_line_without_it(
    tmp_path: Path, userinfo: str
) -> None:
    """urllib reads "me:Sekr3t/..." as host "me", port "Sekr3t": refused, never echoed."""
    done = tpx(
        "sweep", "--url", f"http://{userinfo}@127.0.0.1:9/", "--concurrency", "1",
        "--duration", "0.5s", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert last_line(done.stderr).startswith("--url: ")
    assert not leaks(done.stdout, done.stderr)


def test_sweep_command_with_secrets_saves_and_shows_none(tmp_path: Path) -> None:
    command = (
        f"PGPASSWORD={PLAIN} true http://me:{ENCODED}@127.0.0.1:9/ --token {PLAIN}x "
        f"-H 'Authorization: Bearer {PLAIN}y'"
    )
    done = tpx(
        "sweep", "--command", command, "--concurrency", "1", "--duration", "0.5s",
        "--warmup", "0", "--save", "s.json", "--format", "json", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    saved = (tmp_path / "s.json").read_text()
    assert not leaks(saved, done.stdout, done.stderr)
    target = json.loads(saved)["source"]["target"]
    assert target == (
        "PGPASSWORD=*** true http://me:***@127.0.0.1:9/ --token *** -H 'Authorization: ***'"
    )


# --- 5. bounded network waits of the load driver -------------------------------------------------


@pytest.mark.parametrize(("behave", "scheme"), [(trickle, "http"), (silent, "http")])
def test_a_level_against_a_stalling_target_ends_on_time(
    tmp_path: Path, behave: Callable[[socket.socket], None], scheme: str
) -> None:
    """A 1 s level: the runner's deadline (1 s + 2 s grace) ends it, not the target."""
    with raw_server(behave) as port:
        start = time.monotonic()
        done = tpx(
            "sweep", "--url", f"{scheme}://me:{PLAIN}@127.0.0.1:{port}/", "--concurrency",
            "1", "--duration", "1s", "--warmup", "0", "--save", "s.json", cwd=tmp_path,
        )  # fmt: skip
        took = time.monotonic() - start
    assert took < 20, f"the level held {took:.1f} s"
    assert done.returncode == 2, done.stderr
    assert "no level finished" in last_line(done.stderr)
    assert not (tmp_path / "s.json").exists()  # an empty sweep file could not be read back
    assert not leaks(done.stdout, done.stderr)


def test_a_tls_target_that_never_answers_gives_up_at_the_connect_timeout(
    tmp_path: Path,
) -> None:
    """TLS to a server that never completes the handshake: 5 s, not asyncio's 60 s."""
    with raw_server(silent) as port:
        start = time.monotonic()
        done = tpx(
            "sweep", "--url", f"https://127.0.0.1:{port}/", "--concurrency", "1",
            "--duration", "1s", "--warmup", "0", cwd=tmp_path, timeout=120,
        )  # fmt: skip
        took = time.monotonic() - start
    assert done.returncode == 2, done.stderr
    assert "no connection within" in last_line(done.stderr)
    assert took < 30, f"open() held {took:.1f} s"


def test_a_huge_body_is_dropped_as_it_arrives(tmp_path: Path) -> None:
    """192 MiB of a 1 TB body: before, all of it sat in memory; now pieces of 64 KiB.

    The child's peak is its own VmHWM, polled while it runs: ``ru_maxrss`` from ``wait4``
    would carry the (large) pytest process's high-water mark across the spawn."""
    with raw_server(huge_body) as port:
        proc = subprocess.Popen(
            [
                *TPX, "sweep", "--url", f"http://127.0.0.1:{port}/", "--concurrency", "1",
                "--duration", "1s", "--warmup", "0",
            ],
            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        peak_kib = 0
        while proc.poll() is None:
            peak_kib = max(peak_kib, _hwm_kib(proc.pid))
            time.sleep(0.02)
    assert proc.returncode == 2
    assert 0 < peak_kib < 160 * 1024, f"peak RSS {peak_kib / 1024:.0f} MiB"


def _hwm_kib(pid: int) -> int:
    """The process's resident high-water mark (VmHWM, KiB); 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# --- 2. PostgreSQL DSNs: tpx design-batching --measure -------------------------------------------


def batching(dsn: str, cwd: Path, budget: str = "2s") -> subprocess.CompletedProcess[str]:
    return tpx(
        "design-batching", "--operation", "db_insert", "--target-throughput", "10K",
        "--measure", dsn, "--measure-budget", budget, "--format", "json", "--output",
        "report.json", cwd=cwd,
    )  # fmt: skip


def with_password(postgres_dsn: str, password: str) -> str:
    scheme, _, rest = postgres_dsn.partition("://")
    user, _, hosts = rest.partition("@")
    return f"{scheme}://{user}:{password}@{hosts}"


@pytest.mark.service
@pytest.mark.parametrize(
    "password",
    [ENCODED, "Sekr3t#Qv9k?Lm2w", "Sekr3t%23Qv9k%3FLm2w%2FXy7j%40Pz4h"],
    ids=["percent-encoded", "raw-hash-and-question-mark", "mixed"],
)
def test_measured_dsn_password_never_shown(
    tmp_path: Path, postgres_dsn: str, password: str
) -> None:
    done = batching(with_password(postgres_dsn, password), tmp_path)
    assert done.returncode == 0, done.stderr
    report = (tmp_path / "report.json").read_text()
    assert not leaks(report, done.stdout, done.stderr)
    doc = json.loads(report)
    masked = with_password(postgres_dsn, "***")
    assert [i["source"] for i in doc["inputs"]] == [masked]
    assert any(masked in json.dumps(e) for e in doc["evidence"])


@pytest.mark.service
def test_measured_dsn_with_the_password_in_the_query(tmp_path: Path, postgres_dsn: str) -> None:
    done = batching(f"{postgres_dsn}?password={ENCODED}&sslmode=disable", tmp_path)
    assert done.returncode == 0, done.stderr
    report = (tmp_path / "report.json").read_text()
    assert not leaks(report, done.stdout, done.stderr)
    assert f"{postgres_dsn}?password=***&sslmode=disable" in report


@pytest.mark.service
@pytest.mark.parametrize(
    "password",
    [SPECIAL, "Sekr3t/Qv9k", "Sekr3t@Qv9k", "Sekr3t%Qv9k", "Sekr3t Qv9k"],
    ids=["raw-everything", "raw-slash", "raw-at", "bad-percent", "space"],
)
def test_a_dsn_libpq_cannot_read_fails_in_one_line_without_the_password(
    tmp_path: Path, postgres_dsn: str, password: str
) -> None:
    done = batching(with_password(postgres_dsn, password), tmp_path)
    assert done.returncode == 2, done.stderr
    assert last_line(done.stderr).startswith("--measure: dsn: ")
    assert not leaks(done.stdout, done.stderr)
    assert not (tmp_path / "report.json").exists()


def test_an_unreachable_database_fails_in_one_line_without_the_password(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: connections are refused
    done = batching(f"postgresql://tpx:{ENCODED}@127.0.0.1:{port}/tpx", tmp_path)
    assert done.returncode == 2, done.stderr
    line = last_line(done.stderr)
    assert line.startswith(f"postgresql://tpx:***@127.0.0.1:{port}/tpx: cannot connect")
    assert not leaks(done.stdout, done.stderr)


def test_a_database_that_never_answers_is_given_up_within_the_budget(tmp_path: Path) -> None:
    """The DSN's connect_timeout=0 means "wait forever" to libpq: the budget bounds it."""
    with raw_server(silent) as port:
        start = time.monotonic()
        done = batching(
            f"postgresql://tpx:{ENCODED}@127.0.0.1:{port}/tpx?connect_timeout=0", tmp_path
        )
        took = time.monotonic() - start
    assert done.returncode == 2, done.stderr
    assert "cannot connect" in last_line(done.stderr)
    assert not leaks(done.stdout, done.stderr)
    assert took < 30, f"the connection held {took:.1f} s"


# --- 3. the CLI's own lines ----------------------------------------------------------------------

PLANTED = """
import functools
import sys
from throughput_expert import api, cli, redact
from throughput_expert.errors import InputError

redact.remember_secret("{secret}")

@functools.wraps(api.sweep)  # the flags are the signature's
def broken(**kwargs):
    cli._progress("connecting with {secret}")
    if kwargs["concurrency"] == "1":
        raise InputError("refused {secret}", source="http://me:{secret}@127.0.0.1/")
    raise RuntimeError("a bug holding {secret}")

api.sweep = broken
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.parametrize(("levels", "code"), [("1", 2), ("2", 1)])
def test_cli_lines_are_scrubbed_of_remembered_secrets(
    tmp_path: Path, levels: str, code: int
) -> None:
    """A secret the process has seen never reaches stderr: not in an error, not in a bug's
    one line, not in a progress line (a planted handler says it in all three)."""
    script = tmp_path / "planted.py"
    script.write_text(PLANTED.format(secret=PLAIN))
    done = run_captured(
        [sys.executable, str(script), "sweep", "--url", "http://127.0.0.1:9/", "--concurrency",
         levels],
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == code, done.stderr
    assert "tpx: connecting with ***" in done.stderr
    assert not leaks(done.stdout, done.stderr)
    last = last_line(done.stderr)
    if code == 2:
        assert last == "http://me:***@127.0.0.1/: refused ***"
    else:
        assert last.startswith("tpx: internal error: RuntimeError: a bug holding ***")
