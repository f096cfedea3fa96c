"""The loopback guard inside Locust: every connection a Locust process makes is checked at run
time, before it is made, so that a sweep cannot load a host that is not on this machine.

``tpx sweep --locustfile`` copies this file next to each level's files as
``_tpx_locust_guard.py`` and runs ``locust -f _tpx_locust_guard.py,LOCUSTFILE`` (master and
workers alike) unless ``--allow-remote`` was given. Imported under that name, it installs
itself, after Locust's gevent monkey-patching (``import locust`` patches first):

- ``connect`` and ``connect_ex`` of the socket class (gevent's, which ``HttpUser`` and
  ``FastHttpUser`` use, SSL included, and the standard library's) check the address first: an
  IPv4 or IPv6 address must be loopback (127.0.0.0/8, ::1, or ::ffff:127.x); a name is resolved
  and every address it gives must be loopback, and the socket connects to the address that was
  checked (no second lookup to be rebound). Anything else raises ``RemoteAddressRefused``
  before a packet is sent;
- at Locust's ``init`` event, ``--host`` and every user class's ``host`` as they stand after
  the locustfile ran (assigned after the class, computed, from a config file) are checked the
  same way, and the process exits before any user starts.

A refusal is reported on stderr and, when ``TPX_LOCUST_GUARD_REPORT`` names a file, as the
address on one line in it; the driver watches that file, stops Locust, and fails the sweep
naming the address. Locust is then asked to quit (exit code ``EXIT_CODE``).

What it does not cover: a locustfile is code the user chose to run, with the user's rights; one
that opens raw ``_socket`` sockets, runs a C client with its own sockets (gRPC, a database
driver) or starts another program is not stopped. The guard is against loading a remote host
by mistake, not against a hostile locustfile.

Standard library only at import (``install`` imports Locust and gevent): the driver's tests
import it without Locust's monkey-patching, and Locust may run under another Python.
"""

from __future__ import annotations

import errno
import importlib
import ipaddress
import os
import socket
import sys
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "EXIT_CODE",
    "PLUGIN_NAME",
    "REPORT_ENV",
    "RemoteAddressRefused",
    "check_url",
    "checked_address",
    "guard",
    "install",
    "is_loopback",
    "report",
]

PLUGIN_NAME = "_tpx_locust_guard"
REPORT_ENV = "TPX_LOCUST_GUARD_REPORT"
EXIT_CODE = 3
_GUARDED = "_tpx_loopback_guard"

Resolve = Callable[..., list[Any]]


class RemoteAddressRefused(ConnectionRefusedError):
    """A connection to an address that is not loopback, refused before it was made."""

    def __init__(self, shown: str) -> None:
        super().__init__(
            errno.ECONNREFUSED,
            f"tpx: {shown} is not a loopback address: refused before connecting "
            "(tpx sweep loads remote hosts only when allowed to)",
        )
        self.shown = shown


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1, or an IPv4-mapped 127.x; a name or anything else is not."""
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def checked_address(family: int, address: Any, resolve: Resolve = socket.getaddrinfo) -> Any:
    """The address to connect to: ``address`` when it is a loopback IP, the (loopback) address
    a name resolves to, or anything that is not an IP socket address as it is. Raises
    ``RemoteAddressRefused`` naming the address otherwise."""
    if family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple):
        return address  # a Unix socket and the like: on this machine
    if len(address) < 2:
        raise RemoteAddressRefused(repr(address)[:80])
    host, port = address[0], address[1]
    host = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
    if _is_ip(host):
        if is_loopback(host):
            return address
        raise RemoteAddressRefused(_shown(host, port))
    found = [info[4] for info in resolve(host, port, family, socket.SOCK_STREAM)]
    remote = [str(a[0]) for a in found if not is_loopback(str(a[0]))]
    if remote or not found:
        raise RemoteAddressRefused(_shown(f"{host[:80]} ({', '.join(remote[:3])})", port))
    return found[0]


def check_url(url: str, resolve: Resolve = socket.getaddrinfo) -> None:
    """Raise ``RemoteAddressRefused`` unless the URL's host is loopback (every address of a
    name); a text without a host is left to Locust."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return
    if not host:
        return
    port = port or (443 if parts.scheme == "https" else 80)
    if _is_ip(host):
        if not is_loopback(host):
            raise RemoteAddressRefused(_shown(host, port))
        return
    found = [str(info[4][0]) for info in resolve(host, port, 0, socket.SOCK_STREAM)]
    remote = [a for a in found if not is_loopback(a)]
    if remote or not found:
        raise RemoteAddressRefused(_shown(f"{host[:80]} ({', '.join(remote[:3])})", port))


def guard(
    cls: type[Any], on_refused: Callable[[RemoteAddressRefused], None], resolve: Resolve
) -> None:
    """Wrap ``cls.connect`` and ``cls.connect_ex``: the address is checked (and a name
    resolved once) before the original runs; a refusal calls ``on_refused`` and raises."""
    for name in ("connect", "connect_ex"):
        original = getattr(cls, name)
        if getattr(original, _GUARDED, False):
            continue
        setattr(cls, name, _wrapped(original, on_refused, resolve))


def _wrapped(
    original: Callable[[Any, Any], Any],
    on_refused: Callable[[RemoteAddressRefused], None],
    resolve: Resolve,
) -> Callable[[Any, Any], Any]:
    def connect(sock: Any, address: Any) -> Any:
        try:
            checked = checked_address(sock.family, address, resolve)
        except RemoteAddressRefused as exc:
            on_refused(exc)
            raise
        return original(sock, checked)

    setattr(connect, _GUARDED, True)
    connect.__name__ = getattr(original, "__name__", "connect")
    connect.__doc__ = getattr(original, "__doc__", None)
    return connect


def report(refused: RemoteAddressRefused) -> None:
    """Say so on stderr, and in the file ``TPX_LOCUST_GUARD_REPORT`` names (one write)."""
    sys.stderr.write(f"{refused.strerror}\n")
    sys.stderr.flush()
    path = os.environ.get(REPORT_ENV)
    if path:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, (refused.shown.replace("\n", " ") + "\n").encode("utf-8", "replace"))
        finally:
            os.close(fd)


def install() -> None:
    """Guard this Locust process: the socket classes now, the hosts at the ``init`` event."""
    gevent = importlib.import_module("gevent")
    monkey = importlib.import_module("gevent.monkey")
    events = importlib.import_module("locust").events
    state: dict[str, Any] = {}

    def refused(exc: RemoteAddressRefused) -> None:
        report(exc)
        environment = state.get("environment")
        if environment is not None:
            environment.process_exit_code = EXIT_CODE
            if environment.runner is not None:
                gevent.spawn(environment.runner.quit)

    resolve: Resolve = socket.getaddrinfo  # gevent's, after the monkey-patching
    classes = {socket.socket, monkey.get_original("socket", "socket")}
    for cls in classes:
        guard(cls, refused, resolve)

    def on_init(environment: Any, **_: Any) -> None:
        state["environment"] = environment
        try:
            for url in _hosts(environment):
                check_url(url, resolve)
        except RemoteAddressRefused as exc:
            report(exc)
            raise SystemExit(EXIT_CODE) from None

    events.init.add_listener(on_init)


def _hosts(environment: Any) -> Iterable[str]:
    if environment.host:
        yield str(environment.host)
    for cls in environment.user_classes or ():
        host = getattr(cls, "host", None)
        if isinstance(host, str) and host:
            yield host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _shown(host: str, port: object) -> str:
    shown = f"[{host}]" if ":" in host and not host.endswith(")") else host
    return f"{shown}:{port}"


if __name__ == PLUGIN_NAME:  # imported by Locust as a locustfile
    install()
