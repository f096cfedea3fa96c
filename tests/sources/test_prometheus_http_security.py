"""Issue 12: the Prometheus HTTP client trusts neither the server nor the files it is given.

Real loopback servers (threads, port 0) and the real ``tpx`` CLI as a subprocess. 127.0.0.2 is
"another host" for the client. The holes: credentials following a redirect to another host, a
trickling server hanging a query, unbounded answers, a token file with a newline printed in an
internal error, and userinfo leaking into ``server``.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support import run_captured, run_tpx, serve_http

from throughput_expert import redact
from throughput_expert.errors import InputError, MeasurementError
from throughput_expert.sources import http_get
from throughput_expert.sources.prometheus.http import HttpPrometheus

TOKEN = "s3cr3t-t0ken-value"
PASSWORD = "pa55word-xyz"
OTHER_HOST = "127.0.0.2"  # loopback on Linux, but another origin for the client


def vector(value: str) -> bytes:
    result = [{"metric": {}, "value": [1717000000.0, value]}]
    return json.dumps(
        {"status": "success", "data": {"resultType": "vector", "result": result}}
    ).encode()


def prometheus_answer(path: str) -> bytes:
    """Enough of a Prometheus for ``tpx analyze``: 300 samples of ``up``, 0.5 for the rest."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query).get("query", [""])[0]
    return vector("300" if "count_over_time(up" in query else "0.5")


# --- loopback servers -----------------------------------------------------------------------


@dataclass
class Seen:
    """What a server received: (path, headers) per request."""

    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    @property
    def authorizations(self) -> list[str]:
        return [h["Authorization"] for _, h in self.requests if "Authorization" in h]


Reply = Callable[[str], tuple[int, dict[str, str], bytes]]


@contextlib.contextmanager
def http_server(
    reply: Reply, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None
) -> Iterator[tuple[Seen, str]]:
    """A threaded HTTP server on ``host``; ``reply(path)`` gives status, headers and body."""
    seen = Seen()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.requests.append((self.path, dict(self.headers.items())))
            status, headers, body = reply(self.path)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serve_http(Handler, host=host, tls=tls) as url:
        yield seen, url


def prometheus(path: str) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "application/json"}, prometheus_answer(path)


def redirect_to(base: str, status: int = 302) -> Reply:
    return lambda path: (status, {"Location": f"{base}{path}"}, b"")


Script = Callable[[socket.socket, threading.Event], None]


@contextlib.contextmanager
def raw_server(script: Script, host: str = "127.0.0.1") -> Iterator[str]:
    """A TCP server that reads each request's head, then runs ``script(conn, stop)``."""
    listener = socket.create_server((host, 0))
    listener.settimeout(0.1)
    stop = threading.Event()
    handlers: list[threading.Thread] = []

    def handle(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            head = b""
            with contextlib.suppress(OSError):
                while b"\r\n\r\n" not in head and (chunk := conn.recv(4096)):
                    head += chunk
                script(conn, stop)

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=handle, args=(conn,), daemon=True)
            handlers.append(thread)
            thread.start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield f"http://{host}:{listener.getsockname()[1]}"
    finally:
        stop.set()
        acceptor.join()
        listener.close()
        for thread in handlers:
            thread.join(timeout=10)


def trickle(head: bytes, then: bytes, every_s: float = 0.3) -> Script:
    """Send ``head`` at once, then ``then`` forever, one byte every ``every_s``."""

    def script(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(head)
        while not stop.wait(every_s):
            for byte in then:
                conn.sendall(bytes([byte]))
                if stop.wait(every_s):
                    return

    return script


def flood(head: bytes, then: bytes) -> Script:
    """Send ``head``, then ``then`` over and over, as fast as the client reads."""

    def script(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(head)
        block = then * max(1, 65536 // len(then))
        while not stop.is_set():
            conn.sendall(block)

    return script


def tpx(
    *argv: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_tpx(*argv, cwd=cwd, timeout=120, env={**os.environ, **(env or {})})


def analyze(
    url: str, *extra: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return tpx(
        "analyze",
        "--prometheus",
        url,
        "--window",
        "5m",
        "--format",
        "json",
        *extra,
        cwd=cwd,
        env=env,
    )


@pytest.fixture(autouse=True)
def _registry() -> Iterator[None]:
    redact.forget_secrets()
    yield
    redact.forget_secrets()


# --- 1. credentials never follow a redirect to another origin -------------------------------


def _credentials(tmp_path: Path, url: str) -> list[tuple[str, list[str], dict[str, str]]]:
    """(server URL, extra flags, environment) for a token file, a token variable, userinfo."""
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    with_user = url.replace("http://", f"http://admin:{PASSWORD}@")
    return [
        (url, ["--prometheus-token-file", str(token_file)], {}),
        (url, ["--prometheus-token-env", "TPX_SEC_TOKEN"], {"TPX_SEC_TOKEN": TOKEN}),
        (with_user, [], {}),
    ]


def test_cli_never_sends_credentials_to_the_host_a_redirect_names(tmp_path: Path) -> None:
    with (
        http_server(prometheus, host=OTHER_HOST) as (other, other_url),
        http_server(redirect_to(other_url)) as (first, url),
    ):
        for server, flags, env in _credentials(tmp_path, url):
            proc = analyze(server, *flags, cwd=tmp_path, env=env)
            assert proc.returncode == 2, proc.stderr
            assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
            assert f"redirected to another server ({other_url})" in proc.stderr
            assert proc.stderr.startswith(f"{url}: ")  # names the server, not the secret
            for secret in (TOKEN, PASSWORD, "admin:"):
                assert secret not in proc.stderr + proc.stdout
        assert other.requests == [] and other.authorizations == []
        assert len(first.authorizations) == 3  # the first server, the one named, got them


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_no_redirect_status_carries_basic_auth_away(status: int) -> None:
    with (
        http_server(prometheus, host=OTHER_HOST) as (other, other_url),
        http_server(redirect_to(other_url, status)) as (_, url),
    ):
        source = HttpPrometheus(url, basic_auth=("admin", PASSWORD), retries=0)
        with pytest.raises(MeasurementError) as caught:
            source.query("up", None)
        assert "redirected to another server" in caught.value.one_line()
        assert PASSWORD not in caught.value.one_line()
        assert other.requests == []


def test_same_origin_redirects_keep_the_credentials_and_are_bounded() -> None:
    def reply(path: str) -> tuple[int, dict[str, str], bytes]:
        if path.startswith("/prom/"):
            return prometheus(path)
        return 308, {"Location": f"/prom{path}"}, b""  # relative, same origin

    with http_server(reply) as (seen, url):
        source = HttpPrometheus(url, basic_auth=("admin", PASSWORD), retries=0)
        assert source.query("up", None) == json.loads(vector("0.5"))
        assert len(seen.requests) == 2 and len(seen.authorizations) == 2
    with http_server(lambda path: (302, {"Location": path}, b"")) as (seen, url):
        with pytest.raises(MeasurementError, match="more than 5 redirects"):
            HttpPrometheus(url, retries=2).query("up", None)
        assert len(seen.requests) == 6  # refused, not retried


def test_without_credentials_a_redirect_to_another_host_is_followed() -> None:
    with (
        http_server(prometheus, host=OTHER_HOST) as (other, other_url),
        http_server(redirect_to(other_url)) as (_, url),
    ):
        assert HttpPrometheus(url, retries=0).query("up", None) == json.loads(vector("0.5"))
        assert len(other.requests) == 1 and other.authorizations == []


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its own CA) and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def _tls(files: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*files)
    return context


def test_https_works_and_never_falls_back_to_plain_http(tls_files: tuple[Path, Path]) -> None:
    ca = str(tls_files[0])
    with http_server(prometheus, tls=_tls(tls_files)) as (_, url):
        source = HttpPrometheus(url, ca_file=ca, retries=0)
        assert source.query("up", None) == json.loads(vector("0.5"))
        with pytest.raises(MeasurementError, match="TLS failed") as caught:
            HttpPrometheus(url, retries=3, sleep=lambda s: None).query("up", None)  # system CAs
        assert "tries" not in str(caught.value)  # a TLS failure is not retried
    with (
        http_server(prometheus, host=OTHER_HOST) as (other, other_url),
        http_server(redirect_to(other_url), tls=_tls(tls_files)) as (_, url),
    ):
        with pytest.raises(MeasurementError, match="from https to plain http"):
            HttpPrometheus(url, ca_file=ca, retries=0).query("up", None)  # even without auth
        assert other.requests == []


# --- 2. a total deadline, bounded answers ---------------------------------------------------

NO_HANG = """
import sys, time
from throughput_expert.errors import MeasurementError
from throughput_expert.sources.prometheus.http import HttpPrometheus

source = HttpPrometheus(sys.argv[1], timeout_s=1, retries=1, backoff_s=0.1)
start = time.monotonic()
try:
    source.query("up", None)
except MeasurementError as exc:
    print(f"{time.monotonic() - start:.2f}", exc.one_line())
"""


@pytest.mark.parametrize(
    ("head", "then"),
    [
        (b"", b"HTTP/1.1 200 OK\r\n"),  # the status line, a byte at a time
        (b"HTTP/1.1 200 OK\r\n", b"X-Slow: 1\r\n"),  # headers without end
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", b'{"status":'),  # the body
    ],
)
def test_a_trickling_server_is_cut_off_at_the_deadline(head: bytes, then: bytes) -> None:
    # urllib's timeout is per socket read: one byte every 0.3 s never trips a 1 s timeout.
    with raw_server(trickle(head, then)) as url:
        # The fixed client takes ~2.1 s: 2 tries of 1 s and 0.1 s of backoff.
        proc = run_captured([sys.executable, "-c", NO_HANG, url], timeout=40)
    assert proc.returncode == 0, proc.stderr
    took, _, line = proc.stdout.strip().partition(" ")
    assert line == f"{url}: up: no complete answer within 1 s, 2 tries"
    assert 1.5 <= float(took) < 20


def test_a_body_declared_too_large_is_refused_before_it_is_read() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n"  # 100 MiB
    with raw_server(trickle(head, b"x", every_s=1)) as url:
        start = time.monotonic()
        with pytest.raises(MeasurementError) as caught:
            HttpPrometheus(url, retries=3, timeout_s=30).query("up", None)
        assert time.monotonic() - start < 10
    assert caught.value.one_line() == f"{url}: up: the answer is larger than 64 MiB"


@pytest.mark.parametrize(
    ("head", "then", "why"),
    [
        (b"HTTP/1.0 200 OK\r\n\r\n", b"[1,", "the answer is larger than 1 MiB"),  # till close
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"1\r\nx\r\n",
            "the answer is larger than 1 MiB",
        ),
        (b"HTTP/1.1 200 OK\r\n", b"X-Many: 1\r\n", "the answer has too many headers"),
        (
            b"HTTP/1.1 200 OK\r\n",
            b"X-Wide: " + b"w" * 1000 + b"\r\n",
            "the answer's headers are larger than 64 KiB",
        ),
        (b"HTTP/1.1 200 OK\r\nX-Long: ", b"y", "the answer's headers are larger than 64 KiB"),
    ],
)
def test_an_endless_answer_is_refused_at_its_limit(head: bytes, then: bytes, why: str) -> None:
    with raw_server(flood(head, then)) as url:
        source = HttpPrometheus(url, retries=3, timeout_s=30, max_body_bytes=1 << 20)
        start = time.monotonic()
        with pytest.raises(MeasurementError) as caught:
            source.query("up", None)
        assert time.monotonic() - start < 20
    assert caught.value.one_line() == f"{url}: up: {why}"


def _answer_then_close(data: bytes) -> Script:
    def script(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(data)

    return script


@dataclass
class _Hostile:
    reply: bytes = b""


@pytest.fixture(scope="module")
def hostile() -> Iterator[tuple[_Hostile, http_get.Origin]]:
    state = _Hostile()

    def script(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(state.reply)

    with raw_server(script) as url:
        port = urllib.parse.urlsplit(url).port
        assert port is not None
        yield state, http_get.Origin("http", "127.0.0.1", port)


HTTP_BITS = st.sampled_from(
    [
        b"HTTP/1.1 200 OK\r\n",
        b"HTTP/1.0 302 Found\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\n",
        b"Content-Length: 5\r\n",
        b"Content-Length: -1\r\n",
        b"Content-Length: 99999999999\r\n",
        b"Transfer-Encoding: chunked\r\n",
        b"Location: http://127.0.0.2/\r\n",
        b"\r\n",
        b"5\r\nhello\r\n",
        b"0\r\n\r\n",
        b"zz\r\n",
        b'{"status":"success"}',
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(HTTP_BITS | st.binary(max_size=40), max_size=12))
def test_hostile_answers_end_in_an_answer_or_a_known_error(
    hostile: tuple[_Hostile, http_get.Origin], parts: list[bytes]
) -> None:
    state, origin = hostile
    state.reply = b"".join(parts)
    start = time.monotonic()
    try:
        answer = http_get.get(
            origin,
            "/api/v1/query?query=up",
            {"Accept": "application/json"},
            deadline=start + 2,
            max_header_bytes=256,
            max_body_bytes=64,
        )
    except (http_get.Refused, OSError, http.client.HTTPException):
        pass
    else:
        assert len(answer.body) <= 64
    assert time.monotonic() - start < 20


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["/x", "//127.0.0.2/", "http://[", "http://h:99999/", "ftp://h/", "?q", ""])
    | st.text(max_size=30)
)
def test_any_redirect_is_followed_home_or_refused(
    hostile: tuple[_Hostile, http_get.Origin], location: str
) -> None:
    state, origin = hostile
    head = f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n"
    state.reply = head.encode("utf-8", "surrogateescape")
    # with credentials only the same origin is followed: no traffic leaves this server
    source = HttpPrometheus(f"http://admin:{PASSWORD}@{origin.host}:{origin.port}", retries=0)
    with pytest.raises(MeasurementError) as caught:
        source.query("up", None)
    assert PASSWORD not in caught.value.one_line() and "\n" not in caught.value.one_line()


# --- 3. tokens and passwords are checked when read, never printed --------------------------


def test_a_token_file_with_two_lines_is_one_line_without_the_token(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("abc123secret\nsecond-line\n")
    with http_server(prometheus) as (seen, url):
        proc = analyze(url, "--prometheus-token-file", str(token_file), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "internal error" not in proc.stderr
    assert proc.stderr.startswith(f"{token_file}: ") and "more than one line" in proc.stderr
    shown = proc.stderr + proc.stdout
    for line in ("abc123secret", "second-line"):
        pieces = {line[i : i + 5] for i in range(len(line) - 4)}
        assert not {p for p in pieces if p in shown}, shown
    assert seen.requests == []  # refused before anything is sent


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"", "holds no token"),
        (b"  \n", "holds no token"),
        (b"tok en-123", "a space, a control or a non-ASCII character"),
        (b"tok\x01en-123", "a space, a control or a non-ASCII character"),
        ("tøken-123".encode(), "a space, a control or a non-ASCII character"),
        (b"\xff\xfetoken", "not UTF-8 text"),
        (b"a" * (64 * 1024 + 1), "larger than 64 KiB"),
        (b"tok\ren-123", "more than one line"),
    ],
    ids=["empty", "blank", "space", "control", "non-ascii", "not-utf8", "huge", "cr"],
)
def test_bad_token_files_are_input_errors(tmp_path: Path, content: bytes, why: str) -> None:
    token_file = tmp_path / "token"
    token_file.write_bytes(content)
    with pytest.raises(InputError, match=why) as caught:
        HttpPrometheus("http://127.0.0.1:9", bearer_token_file=str(token_file))
    assert caught.value.source == str(token_file)
    assert "en-123" not in str(caught.value)


def test_bad_token_variable_and_basic_auth_are_input_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TPX_SEC_TOKEN", f"{TOKEN}\nmore")
    with pytest.raises(InputError, match="TPX_SEC_TOKEN holds more than one line") as caught:
        HttpPrometheus("http://127.0.0.1:9", bearer_token_env="TPX_SEC_TOKEN")
    assert TOKEN not in str(caught.value)
    with pytest.raises(InputError, match="basic-auth password holds a control") as caught:
        HttpPrometheus("http://127.0.0.1:9", basic_auth=("admin", f"{PASSWORD}\r\nX: y"))
    assert PASSWORD not in str(caught.value)
    with pytest.raises(InputError, match="the URL's basic-auth password holds a control"):
        HttpPrometheus(f"http://admin:{PASSWORD}%0A@127.0.0.1:9")
    with pytest.raises(InputError, match="user holds a ':'"):
        HttpPrometheus("http://127.0.0.1:9", basic_auth=("ad:min", PASSWORD))


def test_secrets_are_remembered_so_later_lines_are_scrubbed(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(f"{TOKEN}\n")
    HttpPrometheus("http://127.0.0.1:9", bearer_token_file=str(token_file))
    HttpPrometheus(f"http://admin:{PASSWORD}@127.0.0.1:9")
    pair = base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
    line = f"x {TOKEN} y {PASSWORD} z Basic {pair}"
    assert redact.scrub(line) == "x *** y *** z Basic ***"


PRINTABLE_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=200, deadline=None)
@given(PRINTABLE_TEXT)
def test_any_token_file_is_usable_or_refused_without_echo(content: str) -> None:
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"tpx-token-{os.getpid()}"
    path.write_text(content, encoding="utf-8", newline="")
    try:
        source = HttpPrometheus("http://127.0.0.1:9", bearer_token_file=str(path))
    except InputError as exc:
        templates = (
            "holds no token (the file is empty)",
            "the token file holds more than one line: the token must be alone on one line",
            "the token file holds a space, a control or a non-ASCII character: a bearer token "
            "is one word of printable ASCII",
        )
        assert exc.source == str(path) and exc.message in templates  # never the token itself
    else:
        token = content.strip()
        assert token and all(0x21 <= ord(c) <= 0x7E for c in token)
        assert repr(source) == "HttpPrometheus('http://127.0.0.1:9')"
    finally:
        path.unlink()


# --- 4. the server shown and stored never carries userinfo ---------------------------------


def test_a_password_with_raw_at_and_slash_never_leaks(tmp_path: Path) -> None:
    password = "p@ss/w"
    with http_server(prometheus) as (seen, url):
        host_port = url.removeprefix("http://")
        proc = analyze(f"http://me:{password}@{host_port}", "--save", "export.json", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
    saved = (tmp_path / "export.json").read_text()
    assert json.loads(saved)["server"] == url
    for leak in (password, "p@ss", "ss/w", "me:"):
        assert leak not in saved + proc.stdout + proc.stderr
    basic = "Basic " + base64.b64encode(f"me:{password}".encode()).decode()
    assert seen.authorizations and set(seen.authorizations) == {basic}
    assert {h["Host"] for _, h in seen.requests} == {host_port}


USER = st.text(
    alphabet=st.characters(blacklist_characters=":@/?#%", blacklist_categories=("Cs", "Cc")),
    min_size=1,
    max_size=12,
)
SECRET = st.text(
    alphabet=st.characters(blacklist_characters="%", blacklist_categories=("Cs", "Cc")),
    min_size=3,
    max_size=20,
)


@settings(max_examples=300, deadline=None)
@given(USER, SECRET)
def test_userinfo_is_read_to_the_last_at_and_never_shown(user: str, password: str) -> None:
    source = HttpPrometheus(f"http://{user}:{password}@127.0.0.1:9090/prom/")
    assert source.server == "http://127.0.0.1:9090/prom"
    sent = source._headers["Authorization"]
    assert sent == "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    assert password not in repr(source) and redact.scrub(password) == "***"


URL_PROBLEMS = {
    "expected an http:// or https:// URL",
    "expected an http:// or https:// URL with a host",
    "the URL's host or path holds a space or a control character",
    "the URL's port is not a number from 0 to 65535",
    "the URL's host is not a name or an address",
    "the URL's basic-auth user holds a ':'",
    "the URL's basic-auth user holds a control character",
    "the URL's basic-auth password holds a control character",
}


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60).map(lambda s: f"http://{s}"))
def test_any_url_is_a_server_without_userinfo_or_an_input_error(url: str) -> None:
    try:
        source = HttpPrometheus(url)
    except InputError as exc:  # one of a few fixed lines, never a piece of the URL
        assert exc.source == "prometheus" and exc.message in URL_PROBLEMS
    else:
        assert "@" not in source.server and source.server.startswith("http://")
        assert not any(c in source.server for c in "?# \n\r\t")
