"""The ``url`` driver: HTTP/1.1 keep-alive requests from an asyncio client (no third-party client).

One connection per unit of concurrency (worker), opened on first use and kept alive; requests are
not pipelined. The client reads the status line and headers, then the body by Content-Length,
by chunked transfer coding, or to the end of the connection; a response that says
``Connection: close`` (or has no length) closes the connection, and the next call reconnects.
A status ≥ 400, a reset or a malformed response is an error of the workload (the connection is
dropped and reopened). The request bytes are built once, so a call costs one write and a few
reads on the event loop.

``check_loopback`` is the safety guard: every address the host resolves to must be loopback
(127.0.0.0/8, ::1) unless remote load was allowed explicitly.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import ssl
from os import PathLike
from pathlib import Path
from urllib.parse import urlsplit

from throughput_expert.errors import InputError, MeasurementError

__all__ = ["UrlDriver", "check_loopback"]

_SOURCE = "--url"
_NO_BODY_STATUS = (204, 304)
_READ_LIMIT = 1 << 20  # longest header block accepted
# A reset, a short read, an oversized header block, or a malformed number in the response.
_RESPONSE_ERRORS = (
    OSError,
    EOFError,
    ValueError,
    asyncio.IncompleteReadError,
    asyncio.LimitOverrunError,
)

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


def check_loopback(host: str, port: int, *, allow_remote: bool, source: str = _SOURCE) -> None:
    """Raise ``InputError`` unless every address ``host`` resolves to is loopback."""
    if allow_remote:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise InputError(f"cannot resolve {host!r}: {exc}", source=source) from None
    addresses = {str(info[4][0]).split("%")[0] for info in infos}
    remote = sorted(a for a in addresses if not ipaddress.ip_address(a).is_loopback)
    if remote or not addresses:
        shown = host if host in remote else f"{host} ({', '.join(remote)})"
        raise InputError(
            f"{shown} is not a loopback address: pass --allow-remote to load it", source=source
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
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError("expected an http:// or https:// URL with a host", source=_SOURCE)
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self._tls = parts.scheme == "https"
        self._head = method.upper() == "HEAD"
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        payload = b"" if body is None else _read_body(body)
        self._request = _request_bytes(method.upper(), path, parts.netloc, payload, headers or {})
        self._conns: list[Connection | None] = []
        self.name = "url"
        self.target = url

    def check_target(self, *, allow_remote: bool) -> None:
        check_loopback(self.host, self.port, allow_remote=allow_remote)

    async def open(self, workers: int) -> None:
        self._conns = [None] * workers
        try:  # one connection now, so an unreachable target fails at once with its reason
            self._conns[0] = await self._connect()
        except OSError as exc:
            raise MeasurementError(
                f"cannot connect to {self.host}:{self.port}: {exc}", source=_SOURCE
            ) from None

    async def _connect(self) -> Connection:
        tls = ssl.create_default_context() if self._tls else None
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
        for writer in writers:
            with contextlib.suppress(*_RESPONSE_ERRORS):
                await writer.wait_closed()


def _read_body(path: str | PathLike[str]) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the body file: {exc}", source="--body") from None


def _request_bytes(
    method: str, path: str, netloc: str, body: bytes, headers: dict[str, str]
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {netloc}", "User-Agent: tpx", "Accept: */*"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _read_response(reader: asyncio.StreamReader, *, head: bool) -> tuple[int, bool]:
    """Read one response; the status and whether the connection may be reused."""
    block = await reader.readuntil(b"\r\n\r\n")
    status = _status(block)
    # The common case first, without lower-casing: a plain keep-alive response with a length.
    at = block.find(b"\r\nContent-Length: ")
    plain = status >= 200 and status not in _NO_BODY_STATUS and not head and at > 0
    framed = b"\r\nTransfer-Encoding" not in block and b"\r\nConnection: close" not in block
    if plain and framed and block.startswith(b"HTTP/1.1"):
        end = block.index(b"\r\n", at + 2)
        await reader.readexactly(int(block[at + 18 : end]))
        return status, True
    return await _read_slowly(reader, block, status, head=head)


async def _read_slowly(
    reader: asyncio.StreamReader, block: bytes, status: int, *, head: bool
) -> tuple[int, bool]:
    if 100 <= status < 200:  # an interim response (100 Continue): the real one follows
        return await _read_response(reader, head=head)
    lower = block.lower()
    keep = b"\r\nconnection: close" not in lower and not block.startswith(b"HTTP/1.0")
    if head or status in _NO_BODY_STATUS:
        return status, keep
    if b"\r\ntransfer-encoding:" in lower and b"chunked" in _header(lower, b"transfer-encoding"):
        await _read_chunked(reader)
    elif b"\r\ncontent-length:" in lower:
        await reader.readexactly(int(_header(lower, b"content-length")))
    else:  # no length: the body runs to the end of the connection
        await reader.read()
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
        await reader.readexactly(size + 2)  # the chunk and its CRLF
    while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, up to the empty line
        pass
