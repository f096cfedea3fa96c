"""The ``url`` driver: HTTP/1.1 keep-alive requests from an asyncio client (no third-party client).

One connection per unit of concurrency (worker), opened on first use and kept alive; requests are
not pipelined. The client reads the status line and headers, then the body by Content-Length,
by chunked transfer coding, or to the end of the connection; a response that says
``Connection: close`` (or has no length) closes the connection, and the next call reconnects.
A status ≥ 400, a reset or a malformed response is an error of the workload (the connection is
dropped and reopened). The request bytes are built once, so a call costs one write and a few
reads on the event loop.

Credentials in the URL (``http://user:password@host/``) are sent as an ``Authorization: Basic``
header, as curl does; the ``Host`` header is ``host[:port]`` only, and the driver's ``target``
(what the sweep file and the report show) is the URL with its password masked
(``redact.redact_url``).

Every wait on the network is bounded: connecting (and the TLS handshake) within
``CONNECT_TIMEOUT_S``, closing within ``CLOSE_TIMEOUT_S``; a call that waits on a silent or
trickling target is cancelled at the level's deadline by the runner (``measure.loops``). Bodies
are read in pieces and thrown away, so a huge ``Content-Length`` or an endless body costs no
memory.

``check_loopback`` is the safety guard: every address the host resolves to must be loopback
(127.0.0.0/8, ::1) unless remote load was allowed explicitly.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import re
import socket
import ssl
from os import PathLike
from pathlib import Path
from urllib.parse import unquote, urlsplit

from throughput_expert.errors import InputError, MeasurementError, Parameter
from throughput_expert.model.quantity import echo
from throughput_expert.redact import basic_auth_value, redact_url

__all__ = ["UrlDriver", "check_loopback"]

_SOURCE = Parameter("url")
_NO_BODY_STATUS = (204, 304)
_READ_LIMIT = 1 << 20  # longest header block accepted
_MAX_INTERIM = 16  # interim (1xx) responses accepted before the final one
_PIECE = 1 << 16  # bodies longer than this are read in pieces of this size and dropped
_TOKEN = re.compile(r"[A-Za-z]{1,20}")
CONNECT_TIMEOUT_S = 5.0
"""The longest wait for a connection (TCP and TLS handshakes) to the target."""
CLOSE_TIMEOUT_S = 1.0
"""The longest wait for the connections to close at the end of a level; then they are reset."""
# A reset, a short read, an oversized header block, or a malformed number in the response.
_RESPONSE_ERRORS = (
    OSError,
    EOFError,
    ValueError,
    asyncio.IncompleteReadError,
    asyncio.LimitOverrunError,
)

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


def check_loopback(
    host: str,
    port: int,
    *,
    allow_remote: bool,
    source: str = _SOURCE,
    remedy: str = "pass {allow_remote} to load it",
) -> None:
    """Raise ``InputError`` unless every address ``host`` resolves to is loopback; its message
    ends with ``remedy`` (a front door without ``allow_remote`` says what holds instead)."""
    try:
        host.encode("idna")  # what the resolver does first: an empty or 64-character label fails
    except UnicodeError:
        raise InputError(f"{echo(host)} is not a host name", source=source) from None
    if allow_remote:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise InputError(f"cannot resolve {echo(host)}: {exc}", source=source) from None
    addresses = {str(info[4][0]).split("%")[0] for info in infos}
    remote = sorted(a for a in addresses if not ipaddress.ip_address(a).is_loopback)
    if remote or not addresses:
        shown = host if host in remote else f"{host} ({', '.join(remote)})"
        raise InputError(
            f"{shown} is not a loopback address: {remedy}",
            source=source,
            mentions=("allow_remote",),
        )


class UrlDriver:
    """HTTP/1.1 GET (or another method with a body file) against one URL, keep-alive."""

    def __init__(
        self,
        url: str,
        *,
        method: str = "GET",
        body: str | PathLike[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.target = redact_url(url)  # first: it remembers the password, for redact.scrub
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:  # "http://u:pa/ss@h/" reads as host "u", port "pa": not echoed
            raise InputError(
                "not a URL with a valid host and port (percent-encode any '/', '?', '#' or '@' "
                "in a password: %2F, %3F, %23, %40)",
                source=_SOURCE,
            ) from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError("expected an http:// or https:// URL with a host", source=_SOURCE)
        self.host = parts.hostname
        self.port = port or (443 if parts.scheme == "https" else 80)
        self._tls = parts.scheme == "https"
        if not _TOKEN.fullmatch(method):  # no spaces or line breaks smuggled into the request
            raise InputError(
                "not an HTTP method (letters only, e.g. GET)", source=Parameter("method")
            )
        self._head = method.upper() == "HEAD"
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        payload = b"" if body is None else _read_body(body)
        given = dict(headers or {})
        userinfo, at, hostport = parts.netloc.rpartition("@")
        if at and not any(k.lower() == "authorization" for k in given):
            user, _, password = userinfo.partition(":")
            given["Authorization"] = basic_auth_value(unquote(user), unquote(password))
        self._request = _request_bytes(method.upper(), path, hostport, payload, given)
        self._conns: list[Connection | None] = []
        self.name = "url"

    def check_target(self, *, allow_remote: bool) -> None:
        check_loopback(self.host, self.port, allow_remote=allow_remote)

    async def open(self, workers: int) -> None:
        self._conns = [None] * workers
        try:  # one connection now, so an unreachable target fails at once with its reason
            self._conns[0] = await self._connect()
        except TimeoutError:
            raise MeasurementError(
                f"cannot connect to {self.host}:{self.port}: no connection within "
                f"{CONNECT_TIMEOUT_S:g} s",
                source=_SOURCE,
            ) from None
        except OSError as exc:
            raise MeasurementError(
                f"cannot connect to {self.host}:{self.port}: {exc}", source=_SOURCE
            ) from None

    async def _connect(self) -> Connection:
        tls = ssl.create_default_context() if self._tls else None
        async with asyncio.timeout(CONNECT_TIMEOUT_S):  # TimeoutError is an OSError
            reader, writer = await asyncio.open_connection(
                self.host, self.port, ssl=tls, limit=_READ_LIMIT
            )
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return reader, writer

    async def call(self, worker: int) -> bool:
        conn = self._conns[worker]
        try:
            if conn is None:
                conn = self._conns[worker] = await self._connect()
            conn[1].transport.write(self._request)
            status, keep = await _read_response(conn[0], head=self._head)
        except _RESPONSE_ERRORS:
            self._drop(worker)
            return False
        if not keep:
            self._drop(worker)
        return status < 400

    def _drop(self, worker: int) -> None:
        conn = self._conns[worker]
        self._conns[worker] = None
        if conn is not None:
            conn[1].close()

    async def close(self) -> None:
        writers = [c[1] for c in self._conns if c is not None]
        self._conns = []
        for writer in writers:
            writer.close()
        # A peer that reads nothing (unsent request bytes) or stalls a TLS close would hold a
        # graceful close open: wait a moment, then reset what is left.
        with contextlib.suppress(*_RESPONSE_ERRORS):
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                for writer in writers:
                    with contextlib.suppress(*_RESPONSE_ERRORS):
                        await writer.wait_closed()
        for writer in writers:  # a no-op for a connection already closed
            writer.transport.abort()


def _read_body(path: str | PathLike[str]) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the body file: {exc}", source=Parameter("body")) from None


def _request_bytes(
    method: str, path: str, hostport: str, body: bytes, headers: dict[str, str]
) -> bytes:
    """The request; ``hostport`` is the URL's ``host[:port]``, never its userinfo."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {hostport}", "User-Agent: tpx", "Accept: */*"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _read_response(reader: asyncio.StreamReader, *, head: bool) -> tuple[int, bool]:
    """Read one response; the status and whether the connection may be reused."""
    block = await reader.readuntil(b"\r\n\r\n")
    status = _status(block)
    for _ in range(_MAX_INTERIM):  # interim responses (100 Continue): the real one follows
        if not 100 <= status < 200:
            break
        block = await reader.readuntil(b"\r\n\r\n")
        status = _status(block)
    else:
        raise EOFError("too many interim responses")
    # The common case first, without lower-casing: a plain keep-alive response with a length.
    at = block.find(b"\r\nContent-Length: ")
    plain = status >= 200 and status not in _NO_BODY_STATUS and not head and at > 0
    framed = b"\r\nTransfer-Encoding" not in block and b"\r\nConnection: close" not in block
    if plain and framed and block.startswith(b"HTTP/1.1"):
        end = block.index(b"\r\n", at + 2)
        length = int(block[at + 18 : end])
        if 0 <= length <= _PIECE:  # the hot path: no extra coroutine per response
            await reader.readexactly(length)
        else:
            await _skip(reader, length)
        return status, True
    return await _read_slowly(reader, block, status, head=head)


async def _read_slowly(
    reader: asyncio.StreamReader, block: bytes, status: int, *, head: bool
) -> tuple[int, bool]:
    lower = block.lower()
    keep = b"\r\nconnection: close" not in lower and not block.startswith(b"HTTP/1.0")
    if head or status in _NO_BODY_STATUS:
        return status, keep
    if b"\r\ntransfer-encoding:" in lower and b"chunked" in _header(lower, b"transfer-encoding"):
        await _read_chunked(reader)
    elif b"\r\ncontent-length:" in lower:
        await _skip(reader, int(_header(lower, b"content-length")))
    else:  # no length: the body runs to the end of the connection
        while await reader.read(_PIECE):
            pass
        keep = False
    return status, keep


def _status(block: bytes) -> int:
    parts = block.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        raise EOFError("not an HTTP response")
    return int(parts[1])


def _header(lower: bytes, name: bytes) -> bytes:
    start = lower.index(b"\r\n" + name + b":") + len(name) + 3
    return lower[start : lower.index(b"\r\n", start)].strip()


async def _read_chunked(reader: asyncio.StreamReader) -> None:
    while True:
        line = await reader.readuntil(b"\r\n")
        size = int(line.split(b";", 1)[0].strip() or b"x", 16)  # "x": an empty line is malformed
        if size == 0:
            break
        await _skip(reader, size + 2)  # the chunk and its CRLF
    while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, up to the empty line
        pass


async def _skip(reader: asyncio.StreamReader, length: int) -> None:
    """Read ``length`` bytes of a body and drop them; a long body is read in pieces, so it never
    sits in memory whole."""
    if length < 0:
        raise ValueError("negative length")
    if length <= _PIECE:
        await reader.readexactly(length)
        return
    while length > 0:
        piece = await reader.read(min(length, _PIECE))
        if not piece:
            raise EOFError("the connection closed inside a body")
        length -= len(piece)
