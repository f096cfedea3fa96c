"""The HTTP ``PrometheusSource``: ``GET /api/v1/query`` over ``http.client`` (stdlib only).

Auth is a bearer token (from an environment variable or a file), basic auth (arguments or the
URL's userinfo), and a custom CA file for https. Connection errors, timeouts and 5xx answers are
retried with exponential backoff.

The server and the files are not trusted:

- **Credentials go to one origin.** Redirects are followed here, not by urllib: up to
  ``MAX_REDIRECTS`` hops, always as ``GET``. With credentials set, a redirect to another origin
  (scheme, host, port) is refused with one line naming the new origin — the credentials are
  never sent there, and the answer never silently comes from a server the user did not name
  (use that address as the server if it is trusted). Without credentials, a redirect to
  another origin is followed. https -> http is never followed.
- **Deadlines.** Each try, redirects included, must finish within ``timeout_s``
  (``http_get``: every read is one ``recv`` with the time left as its timeout), and all the
  queries of one ``collect`` (``HttpPrometheus.deadline``) within ``total_s``: a server that is
  slow, trickles bytes or does not answer costs at most ``total_s`` for a whole ``collect``,
  not that for each of its queries (name resolution aside). Both default to the environment's
  ``TPX_PROMETHEUS_TIMEOUT`` and ``TPX_PROMETHEUS_TOTAL_TIMEOUT`` (seconds), else 10 s and
  120 s.
- **Bounded answers.** Headers beyond 64 KiB and bodies beyond ``max_body_bytes`` (64 MiB) are
  refused, not buffered.
- **The server's text is shown escaped.** What a server says (an HTTP body, an error) is
  quoted through ``terminal_safe``: a carriage return shows as ``\\r``, never moves the cursor.
- **Secrets are checked when read and never shown.** A token is one line of printable ASCII; a
  basic-auth user has no ``:`` and neither user nor password a control character; a bad one is
  an ``InputError`` naming the file, variable or flag, never the value. Every secret is
  registered with ``redact.remember_secret`` (basic auth through ``redact.basic_auth_value``).
  ``server`` is the URL without userinfo, query or fragment; the ``Host`` header is
  ``host[:port]``. Userinfo runs to the *last* ``@`` (as ``redact.redact_url`` reads it), so a
  password with a raw ``@`` or ``/`` is still a password; an ``@`` in the path must be ``%40``.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import re
import ssl
import time
import urllib.parse
from collections.abc import Callable, Iterator

from throughput_expert import redact
from throughput_expert.errors import InputError, MeasurementError, Parameter
from throughput_expert.safe_text import terminal_safe
from throughput_expert.sources import http_get
from throughput_expert.sources.http_get import Origin, Refused

__all__ = ["MAX_REDIRECTS", "TIMEOUT_ENV", "TOTAL_TIMEOUT_ENV", "HttpPrometheus"]

MAX_REDIRECTS = 5
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_TOTAL_S = 120.0
TIMEOUT_ENV = "TPX_PROMETHEUS_TIMEOUT"
TOTAL_TIMEOUT_ENV = "TPX_PROMETHEUS_TOTAL_TIMEOUT"
MAX_TIMEOUT_S = 86_400.0
SHOWN_CHARS = 80  # characters of a server's text quoted in a message
MAX_TOKEN_FILE_BYTES = 64 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NOT_TOKEN = re.compile(r"[^\x21-\x7e]")  # a bearer token is one word of printable ASCII
_SAFE_PATH = "/%:@!$&'()*+,;=-._~"


class HttpPrometheus:
    """``GET {url}/api/v1/query`` with auth, a custom CA, a total deadline and retries.

    Connection errors, timeouts and 5xx answers are retried ``retries`` times, waiting
    ``backoff_s``, then twice that, and so on. Each try (redirects included) must finish within
    ``timeout_s``, so a query takes at most ``(retries + 1) * timeout_s + backoff_s *
    (2 ** retries - 1)`` seconds (name resolution aside). Credentials come from
    ``bearer_token_env`` (a variable's name), ``bearer_token_file``, ``basic_auth`` or the URL's
    userinfo; they are checked when read, sent only to the URL's origin, and never shown.
    An answer larger than ``max_body_bytes`` is refused.
    """

    def __init__(
        self,
        url: str,
        *,
        bearer_token_env: str | None = None,
        bearer_token_file: str | None = None,
        basic_auth: tuple[str, str] | None = None,
        ca_file: str | None = None,
        timeout_s: float | None = None,
        total_s: float | None = None,
        retries: int = 3,
        backoff_s: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        max_body_bytes: int = http_get.MAX_BODY_BYTES,
    ) -> None:
        origin, path, self.server, userinfo = _parse_url(url)
        self._origin, self._path = origin, path
        if basic_auth is not None:
            _check_basic(*basic_auth, source="basic_auth")
        elif userinfo is not None:
            basic_auth = userinfo
        token = _read_token(bearer_token_env, bearer_token_file)
        self._headers = {"Accept": "application/json", "User-Agent": "throughput-expert"}
        secrets: list[str] = []
        if basic_auth:
            redact.remember_secret(basic_auth[1])
            secrets.append(basic_auth[1])
        if token:
            redact.remember_secret(token)
            secrets.append(token)
            self._headers["Authorization"] = f"Bearer {token}"
        elif basic_auth:
            value = redact.basic_auth_value(*basic_auth)
            secrets.append(value.partition(" ")[2])
            self._headers["Authorization"] = value
        self._secrets = tuple(s for s in secrets if len(s) >= 3)
        self._context = _tls_context(ca_file)
        self.timeout_s = _seconds(timeout_s, TIMEOUT_ENV, DEFAULT_TIMEOUT_S)
        self.total_s = _seconds(total_s, TOTAL_TIMEOUT_ENV, DEFAULT_TOTAL_S)
        self.retries, self.backoff_s, self._sleep = retries, backoff_s, sleep
        self.max_body_bytes = max_body_bytes
        self._started: float | None = None  # set within ``deadline()``: total_s runs from it

    def __repr__(self) -> str:
        return f"HttpPrometheus({self.server!r})"

    @contextlib.contextmanager
    def deadline(self) -> Iterator[None]:
        """Every query made within the block shares one total deadline, ``total_s`` from now
        (``collect`` runs its queries so); a query outside one has its own."""
        outer = self._started
        self._started = time.monotonic() if outer is None else outer
        try:
            yield
        finally:
            self._started = outer

    def query(self, promql: str, at: float | None) -> object:
        params = {"query": promql, "timeout": f"{self.timeout_s:g}"}
        if at is not None:
            params["time"] = f"{at:.3f}"
        return self._get(f"{self._path}/api/v1/query?{urllib.parse.urlencode(params)}", promql)

    def _get(self, target: str, promql: str) -> object:
        started = time.monotonic() if self._started is None else self._started
        end = started + self.total_s
        problem = "no attempt"
        tries = 0
        for attempt in range(self.retries + 1):
            wait = self.backoff_s * 2 ** (attempt - 1) if attempt else 0.0
            if time.monotonic() + wait >= end:
                problem = f"{problem}; the total deadline of {self.total_s:g} s has passed"
                break
            if wait:
                self._sleep(wait)
            tries += 1
            try:
                answer = self._try(target, end)
            except Refused as exc:
                raise self._error(exc.message, promql) from None
            except TimeoutError:
                if time.monotonic() >= end:
                    problem = f"no complete answer within the total deadline of {self.total_s:g} s"
                    break
                problem = f"no complete answer within {self.timeout_s:g} s"
                continue
            except OSError as exc:
                problem = f"cannot reach the server ({_shown(exc.strerror or str(exc))})"
                continue
            except http.client.HTTPException as exc:
                why = _shown(_http_problem(exc))
                problem = f"not a well-formed HTTP answer ({why})"
                continue
            if answer.status >= 500 and attempt < self.retries:
                problem = f"HTTP {answer.status}: {_body_text(answer.body)}"
                continue
            return self._decode(answer.status, answer.body, promql)
        if tries == 0:
            raise self._error(
                f"no try: the total deadline of {self.total_s:g} s has passed", promql
            )
        raise self._error(f"{problem}, {tries} {'try' if tries == 1 else 'tries'}", promql)

    def _try(self, target: str, end: float) -> http_get.Answer:
        """One try: the request and its redirects, all within one deadline (``timeout_s``, or
        less when the total deadline ``end`` comes first)."""
        deadline = min(time.monotonic() + self.timeout_s, end)
        origin = self._origin
        for _ in range(MAX_REDIRECTS + 1):
            answer = http_get.get(
                origin,
                target,
                self._headers,
                deadline=deadline,
                context=self._tls() if origin.scheme == "https" else None,
                max_body_bytes=self.max_body_bytes,
            )
            if answer.status not in http_get.REDIRECTS:
                return answer
            origin, target = self._follow(origin, target, answer)
        raise Refused(f"more than {MAX_REDIRECTS} redirects")

    def _tls(self) -> ssl.SSLContext:
        """The ``--prometheus-ca`` context, or the system's default (made once)."""
        if self._context is None:
            self._context = ssl.create_default_context()
        return self._context

    def _follow(self, origin: Origin, target: str, answer: http_get.Answer) -> tuple[Origin, str]:
        """Where a redirect leads, if it may be followed (see the module's docstring)."""
        location = answer.location or ""
        unusable = Refused(f"HTTP {answer.status}: a redirect to an unusable address")
        if not location or _CONTROL.search(location) or not location.isascii() or " " in location:
            raise unusable
        try:
            parts = urllib.parse.urlsplit(urllib.parse.urljoin(f"{origin.text}{target}", location))
            port = parts.port
        except ValueError:  # a bad port, "[" without "]"
            raise unusable from None
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise Refused(f"HTTP {answer.status}: a redirect to a scheme other than http(s)")
        new = Origin(scheme, parts.hostname, _DEFAULT_PORTS[scheme] if port is None else port)
        if origin.scheme == "https" and scheme == "http":
            raise Refused(f"redirected from https to plain http ({new.text}); not followed")
        if new != self._origin and "Authorization" in self._headers:
            raise Refused(
                f"redirected to another server ({new.text}); the credentials are only sent to "
                f"{self._origin.text}: use the new address as the server if it is trusted"
            )
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return new, target

    def _decode(self, status: int, body: bytes, promql: str) -> object:
        if status in (401, 403):
            raise self._error(
                f"HTTP {status}: authentication refused (check the credentials)", promql
            )
        try:
            doc = json.loads(body)
        except (ValueError, RecursionError):  # not JSON, a 5,000-digit number, deep nesting
            doc = None
        if isinstance(doc, dict) and doc.get("status") in ("success", "error"):
            return doc
        why = "is the URL the server's root?" if status < 500 else _body_text(body)
        raise self._error(f"HTTP {status}: not a Prometheus API answer: {why}", promql)

    def _error(self, message: str, promql: str) -> MeasurementError:
        message = redact.scrub(message)
        for secret in self._secrets:  # even if the registry was emptied meanwhile
            message = message.replace(secret, redact.MASK)
        return MeasurementError(message, source=self.server, field=promql)


def _parse_url(url: str) -> tuple[Origin, str, str, tuple[str, str] | None]:
    """The origin, the path (no trailing ``/``), the URL shown (no userinfo) and the userinfo's
    basic-auth pair. Userinfo runs to the last ``@``, as ``redact.redact_url`` reads it."""
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in _DEFAULT_PORTS:
        raise InputError("expected an http:// or https:// URL", source=Parameter("prometheus"))
    userinfo, at, rest = rest.rpartition("@")
    where = re.match(r"([^/?#]*)([^?#]*)", rest)
    netloc, path = (where.group(1), where.group(2)) if where else ("", "")
    if _CONTROL.search(netloc + path) or re.search(r"\s", netloc):
        raise InputError(
            "the URL's host or path holds a space or a control character",
            source=Parameter("prometheus"),
        )
    try:
        parts = urllib.parse.urlsplit(f"{scheme}://{netloc}")
    except ValueError:  # "[" without "]", or not an IP address inside them
        raise InputError(
            "the URL's host is not a name or an address", source=Parameter("prometheus")
        ) from None
    try:
        port = parts.port
    except ValueError:
        raise InputError(
            "the URL's port is not a number from 0 to 65535", source=Parameter("prometheus")
        ) from None
    if not parts.hostname:
        raise InputError(
            "expected an http:// or https:// URL with a host", source=Parameter("prometheus")
        )
    path = urllib.parse.quote(path.rstrip("/"), safe=_SAFE_PATH)
    origin = Origin(scheme, parts.hostname, _DEFAULT_PORTS[scheme] if port is None else port)
    pair = None
    if at and userinfo:
        user, _, password = userinfo.partition(":")
        pair = (urllib.parse.unquote(user), urllib.parse.unquote(password))
        _check_basic(*pair, source=Parameter("prometheus"), where="the URL's ")
    return origin, path, f"{scheme}://{netloc}{path}", pair


def _check_basic(user: str, password: str, *, source: str, where: str = "") -> None:
    """RFC 7617: no ``:`` in the user, no control character in either."""
    redact.remember_secret(password)
    if ":" in user:
        raise InputError(f"{where}basic-auth user holds a ':'", source=source)
    for what, value in (("user", user), ("password", password)):
        if _CONTROL.search(value):
            raise InputError(f"{where}basic-auth {what} holds a control character", source=source)


def _read_token(env: str | None, path: str | None) -> str | None:
    """The bearer token of ``env`` (a variable's name) or of the file at ``path``, checked."""
    if env:
        token = os.environ.get(env, "").strip()
        if not token:
            raise InputError(f"the environment variable {env} is empty or unset", source="token")
        return _checked(token, source="token", what=f"the environment variable {env}")
    if path:
        try:
            with open(path, "rb") as fh:
                raw = fh.read(MAX_TOKEN_FILE_BYTES + 1)
        except OSError as exc:
            raise InputError(exc.strerror or "cannot be read", source=path) from None
        if len(raw) > MAX_TOKEN_FILE_BYTES:
            raise InputError(
                f"larger than {MAX_TOKEN_FILE_BYTES // 1024} KiB: not a token file", source=path
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("not UTF-8 text: not a token file", source=path) from None
        token = text.strip()
        if not token:
            raise InputError("holds no token (the file is empty)", source=path)
        return _checked(token, source=path, what="the token file")
    return None


def _checked(token: str, *, source: str, what: str) -> str:
    """``token`` if it is one line of printable ASCII; else an ``InputError`` that names
    ``what`` and the problem, never the token (every line of it is remembered as a secret)."""
    lines = token.splitlines()
    for line in lines:
        redact.remember_secret(line.strip())
    redact.remember_secret(token)
    if len(lines) > 1:
        raise InputError(
            f"{what} holds more than one line: the token must be alone on one line", source=source
        )
    if _NOT_TOKEN.search(token):
        raise InputError(
            f"{what} holds a space, a control or a non-ASCII character: a bearer token is one "
            "word of printable ASCII",
            source=source,
        )
    return token


def _shown(text: str) -> str:
    """A server's or the system's text, quoted in one line: escaped, cut (``terminal_safe``)."""
    return terminal_safe(text.strip(), SHOWN_CHARS)


def _body_text(body: bytes) -> str:
    """The start of an answer's body, as text safe to show (an empty body says so)."""
    text = body[: SHOWN_CHARS * 4].decode("utf-8", "replace").strip()
    return _shown(text) if text else "(an empty body)"


def _http_problem(exc: http.client.HTTPException) -> str:
    """What was wrong with an answer, without echoing a partial body (``IncompleteRead``'s
    text holds the bytes read)."""
    if isinstance(exc, http.client.IncompleteRead):
        return f"cut off after {len(exc.partial)} bytes"
    return str(exc) or type(exc).__name__


def _seconds(value: float | None, env: str, default: float) -> float:
    """A timeout: ``value`` if given, else the environment variable ``env``, else ``default``;
    a positive, finite number of seconds up to a day."""
    source: str = Parameter("timeout_s") if value is not None else env
    if value is None:
        text = os.environ.get(env, "").strip()
        if not text:
            return default
        try:
            value = float(text) if len(text) <= 40 else math.nan
        except ValueError:
            value = math.nan
    if not (math.isfinite(value) and 0 < value <= MAX_TIMEOUT_S):
        raise InputError(
            f"a timeout must be seconds from 0 to {MAX_TIMEOUT_S:g} (a day)", source=source
        )
    return value


def _tls_context(ca_file: str | None) -> ssl.SSLContext | None:
    if ca_file is None:
        return None
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise InputError(f"not a usable CA file: {exc}", source=ca_file) from None
