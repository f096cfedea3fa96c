"""Helpers shared by the test files: the real ``tpx`` as a subprocess, loopback HTTP servers,
checks of a one-line error, a memory cap for a child and a JSON-value strategy.

Imported as ``from tests.support import ...`` (like ``tests.sources.profiles.conftest``)."""

from __future__ import annotations

import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from ssl import SSLContext
from typing import Any, TypeVar

from hypothesis import strategies as st

T = TypeVar("T")

TPX = [sys.executable, "-m", "throughput_expert.cli"]


# --- subprocesses ---------------------------------------------------------------------------------


def as_from_a_terminal() -> None:
    """A ``preexec_fn``: SIGINT and SIGHUP as a terminal's child has them. A runner started in the
    background by a shell without job control (``cmd &``, ``nohup``) passes them down ignored,
    and tpx, like any program, rightly leaves an ignored signal ignored (Python installs its
    Ctrl-C handler only when SIGINT is not ignored at start)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def run_captured(
    command: Sequence[str],
    *,
    cwd: Path | None = None,
    timeout: float = 60,
    env: Mapping[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` to the end: no stdin, stdout and stderr captured as text, any exit code."""
    return subprocess.run(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec_fn,
        check=False,
    )


def run_tpx(
    *argv: str,
    cwd: Path | None = None,
    timeout: float = 60,
    env: Mapping[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """The real ``tpx argv...`` (``env`` is the whole environment; None inherits this one)."""
    return run_captured([*TPX, *argv], cwd=cwd, timeout=timeout, env=env, preexec_fn=preexec_fn)


def main_in_process(capsys: Any, *argv: str) -> tuple[int, str, str]:
    """``tpx argv...`` through ``cli.main`` in this process: exit code, stdout, stderr (``capsys``:
    pytest's capture fixture)."""
    from throughput_expert.cli import main

    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def timed_tpx(
    *argv: str,
    cwd: Path | None = None,
    timeout: float = 60,
    env: Mapping[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> tuple[subprocess.CompletedProcess[str], float]:
    """``run_tpx`` and the seconds it took."""
    started = time.monotonic()
    run = run_tpx(*argv, cwd=cwd, timeout=timeout, env=env, preexec_fn=preexec_fn)
    return run, time.monotonic() - started


def address_space_cap(limit_bytes: int) -> Callable[[], None]:
    """A ``preexec_fn`` capping the child's address space: a memory bomb fails instead."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))

    return cap


# --- one-line errors ------------------------------------------------------------------------------


def only_line(stderr: str) -> str:
    """The one line on ``stderr``; fails on more lines, none, or a traceback."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr, stderr
    return lines[0]


def last_line(stderr: str) -> str:
    """The last line on ``stderr`` (progress lines may come before it); fails on a traceback."""
    lines = stderr.strip().splitlines()
    assert lines, "no error line on stderr"
    assert "Traceback" not in stderr
    return lines[-1]


# --- loopback HTTP servers ------------------------------------------------------------------------


@contextmanager
def serve_http(
    handler: type[BaseHTTPRequestHandler],
    *,
    host: str = "127.0.0.1",
    tls: SSLContext | None = None,
    request_queue_size: int | None = None,
) -> Iterator[str]:
    """Serve ``handler`` on ``host``, port 0, one thread per connection; yields the base URL."""

    class Server(ThreadingHTTPServer):
        daemon_threads = True

    if request_queue_size is not None:
        Server.request_queue_size = request_queue_size
    server = Server((host, 0), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def http_server(
    before: Callable[[BaseHTTPRequestHandler], None] | None = None,
    *,
    request_queue_size: int | None = None,
) -> Iterator[str]:
    """A keep-alive HTTP/1.1 server on 127.0.0.1: each GET runs ``before(request)``, answers ok."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            if before is not None:
                before(self)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serve_http(Handler, request_queue_size=request_queue_size) as url:
        yield url


@contextmanager
def recording_server(
    record: Callable[[BaseHTTPRequestHandler], T],
) -> Iterator[tuple[str, list[T]]]:
    """``http_server`` keeping ``record(request)`` of each GET; yields (base URL, records)."""
    seen: list[T] = []
    with http_server(lambda request: seen.append(record(request))) as url:
        yield url, seen


# --- hypothesis -----------------------------------------------------------------------------------


def json_values(
    leaves: st.SearchStrategy[Any], *, key_size: int, max_leaves: int
) -> st.SearchStrategy[Any]:
    """JSON-like values: ``leaves`` nested in lists and dicts of up to 3 items."""
    return st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.text(max_size=key_size), inner, max_size=3)
        ),
        max_leaves=max_leaves,
    )


def check_report(doc: Mapping[str, Any]) -> None:
    """``doc`` (a report's JSON form) obeys its command's generated JSON Schema, and its
    analysis loads back into the command's typed record and dumps to the same JSON."""
    import jsonschema

    from throughput_expert import registry
    from throughput_expert.model.record import dump, load

    command = str(doc["command"])
    from throughput_expert.model.report_schema import report_schema

    schema = report_schema(command)
    jsonschema.Draft202012Validator(schema).validate(doc)
    found = registry.unit(command)
    assert found is not None, command
    record = load(registry.resolve(found.record), doc["analysis"], source="report")
    assert dump(record) == doc["analysis"]
