"""One HTTP ``GET`` with a total deadline and bounded answers, over ``http.client``.

urllib's timeout bounds each socket operation, not the request: a server sending one byte every
few seconds holds it forever. Here one deadline (``time.monotonic()`` seconds) covers the whole
request: connecting (every address tried shares it), the TLS handshake, sending, the status
line and headers, and the body. Every read is a single ``recv`` with the socket timeout set to
the time left, so a trickling server is cut off at the deadline with ``TimeoutError``. Name
resolution is the system resolver's and is not bounded by the deadline.

Answers are bounded too: the status line and headers (``max_header_bytes``, 64 KiB by default)
and the body (``max_body_bytes``; a larger ``Content-Length`` is refused before reading, a
stream without one is cut at the limit). Nothing is decompressed (``Accept-Encoding:
identity``). Redirects are not followed: the answer carries ``Location`` and the caller, who
knows which credentials it holds, decides.

A body that ends before its ``Content-Length`` is an ``http.client.IncompleteRead`` (http.client
itself returns what came, silently).

Errors: ``Refused`` for what retrying cannot fix (an answer too large, too many headers or a
line over 64 KiB, a TLS failure, a request that is not valid HTTP), with a message that never
holds a header value; ``OSError``
(``TimeoutError`` at the deadline) and ``http.client.HTTPException`` for what a retry may fix.
"""

from __future__ import annotations

import http.client
import io
import socket
import ssl
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from collections.abc import Mapping

    from _typeshed import WriteableBuffer

__all__ = ["REDIRECTS", "Answer", "Origin", "Refused", "get"]

REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024
_CHUNK = 64 * 1024


class Refused(Exception):
    """An answer or a request refused for a reason a retry cannot fix; ``message`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Origin:
    """Where a request goes: scheme (``http``/``https``), host name or address, port."""

    scheme: str
    host: str
    port: int

    @property
    def text(self) -> str:
        """``scheme://host:port`` (an IPv6 address in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


@dataclass(frozen=True)
class Answer:
    """A status, the ``Location`` header (redirects) and the body (empty for a redirect)."""

    status: int
    location: str | None
    body: bytes


def get(
    origin: Origin,
    target: str,
    headers: Mapping[str, str],
    *,
    deadline: float,
    context: ssl.SSLContext | None = None,
    max_header_bytes: int = MAX_HEADER_BYTES,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> Answer:
    """``GET target`` (a path and query) from ``origin``, finished by ``deadline``.

    ``Host`` is the origin's ``host[:port]``, nothing else. ``context`` verifies https (the
    system's default CAs when None). A redirect's body is not read.
    """
    if origin.scheme == "https" and context is None:
        context = ssl.create_default_context()
    conn = _Connection(origin, deadline, context if origin.scheme == "https" else None)
    try:
        conn.connect()
        sock = conn.sock
        sock.settimeout(_left(deadline))
        try:
            conn.request("GET", target, headers={**headers, "Connection": "close"})
        except (ValueError, http.client.InvalidURL):  # never echo the value: it may be a secret
            raise Refused("the request is not valid HTTP (a forbidden character)") from None
        reader = _DeadlineReader(sock, deadline, max_header_bytes, "the answer's headers are")
        response = http.client.HTTPResponse(cast("socket.socket", _Source(reader)), method="GET")
        try:
            try:
                response.begin()
            except http.client.HTTPException as exc:
                if type(exc) is http.client.HTTPException:  # "got more than 100 headers"
                    raise Refused("the answer has too many headers") from None
                raise
            if response.status in REDIRECTS:
                return Answer(response.status, response.getheader("Location"), b"")
            if response.length is not None and response.length > max_body_bytes:
                raise Refused(f"the answer is larger than {_size(max_body_bytes)}")
            # chunked framing on top of the body: bounded, but never the limit that bites
            reader.budget = reader.count + 2 * max_body_bytes + max_header_bytes
            reader.what, reader.shown = "the answer is", max_body_bytes
            body = bytearray()
            while chunk := response.read(_CHUNK):
                body += chunk
                if len(body) > max_body_bytes:
                    raise Refused(f"the answer is larger than {_size(max_body_bytes)}")
            if response.length:  # http.client ends a body cut short of its length silently
                raise http.client.IncompleteRead(bytes(body), response.length)
            return Answer(response.status, None, bytes(body))
        finally:
            response.close()
    except _TooLarge as exc:
        raise Refused(f"{exc.what} larger than {_size(exc.shown)}") from None
    except http.client.LineTooLong:
        raise Refused("a line of the answer is longer than 64 KiB") from None
    finally:
        conn.close()


class _Connection(http.client.HTTPConnection):
    """An ``http.client`` connection whose connect (and TLS handshake) share the deadline."""

    def __init__(self, origin: Origin, deadline: float, context: ssl.SSLContext | None) -> None:
        super().__init__(origin.host, origin.port)
        self.default_port = 443 if origin.scheme == "https" else 80  # Host omits it
        self._deadline = deadline
        self._context = context

    def connect(self) -> None:
        sock = _connect(self.host, self.port, self._deadline)
        if self._context is not None:
            try:
                # the handshake as a whole is bounded by the socket timeout (CPython's _ssl)
                sock.settimeout(_left(self._deadline))
                sock = self._context.wrap_socket(sock, server_hostname=self.host)
            except ssl.SSLError as exc:
                sock.close()
                raise Refused(f"TLS failed: {exc}") from None
            except BaseException:
                sock.close()
                raise
        self.sock = sock


def _connect(host: str, port: int, deadline: float) -> socket.socket:
    """A TCP connection to the first address of ``host`` that accepts one before ``deadline``."""
    problem: OSError = OSError(f"no address for {host}")
    for family, kind, proto, _, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(_left(deadline))
            sock.connect(address)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        except TimeoutError:
            sock.close()
            raise
        except OSError as exc:
            sock.close()
            problem = exc
    raise problem


def _left(deadline: float) -> float:
    """Seconds until ``deadline``; ``TimeoutError`` once it has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("timed out")
    return left


class _TooLarge(Exception):
    def __init__(self, what: str, shown: int) -> None:
        super().__init__(what)
        self.what, self.shown = what, shown


class _DeadlineReader(io.RawIOBase):
    """Single ``recv`` calls on ``sock``, each with the time left as its timeout, and no more
    than ``budget`` bytes in all (then ``_TooLarge``, saying "``what`` larger than
    ``shown``")."""

    def __init__(self, sock: socket.socket, deadline: float, budget: int, what: str) -> None:
        super().__init__()
        self._sock, self._deadline = sock, deadline
        self.budget, self.what, self.shown, self.count = budget, what, budget, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        room = self.budget - self.count
        if room <= 0:
            raise _TooLarge(self.what, self.shown)
        self._sock.settimeout(_left(self._deadline))
        got = self._sock.recv_into(memoryview(buffer).cast("B")[:room])
        self.count += got
        return got


class _Source:
    """What ``HTTPResponse`` needs of a socket: ``makefile`` (here, the deadline reader)."""

    def __init__(self, reader: _DeadlineReader) -> None:
        self._reader = reader

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(self._reader)


def _size(n: int) -> str:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} bytes"
