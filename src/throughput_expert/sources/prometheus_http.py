"""The HTTP ``PrometheusSource``: ``GET /api/v1/query`` over urllib (stdlib only).

Auth is a bearer token (from an environment variable or a file), basic auth (arguments or the
URL's userinfo), and a custom CA file for https. Connection errors and 5xx answers are retried
with exponential backoff. Secrets live only in the request headers: ``server`` is the URL without
userinfo, and every error message is scrubbed of them.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable

from throughput_expert.errors import InputError, MeasurementError

__all__ = ["HttpPrometheus"]


class HttpPrometheus:
    """``GET {url}/api/v1/query`` with auth, a custom CA, a timeout and retries with backoff.

    Connection errors and 5xx answers are retried ``retries`` times, waiting ``backoff_s``,
    then twice that, and so on. Credentials come from ``bearer_token_env`` (a variable's name),
    ``bearer_token_file``, ``basic_auth`` or the URL's userinfo; they are never shown.
    """

    def __init__(
        self,
        url: str,
        *,
        bearer_token_env: str | None = None,
        bearer_token_file: str | None = None,
        basic_auth: tuple[str, str] | None = None,
        ca_file: str | None = None,
        timeout_s: float = 10.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError("expected an http:// or https:// URL", source="--prometheus")
        netloc = parts.netloc.rpartition("@")[2]
        self.server = urllib.parse.urlunsplit(
            (parts.scheme, netloc, parts.path.rstrip("/"), "", "")
        )
        if basic_auth is None and parts.username is not None:
            basic_auth = (
                urllib.parse.unquote(parts.username),
                urllib.parse.unquote(parts.password or ""),
            )
        token = _read_token(bearer_token_env, bearer_token_file)
        self._secrets = tuple(s for s in (token, *(basic_auth or ())) if s)
        self._headers = {"Accept": "application/json", "User-Agent": "throughput-expert"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        elif basic_auth:
            pair = base64.b64encode(":".join(basic_auth).encode()).decode("ascii")
            self._headers["Authorization"] = f"Basic {pair}"
        self._context = _tls_context(ca_file)
        self.timeout_s, self.retries, self.backoff_s, self._sleep = (
            timeout_s,
            retries,
            backoff_s,
            sleep,
        )

    def __repr__(self) -> str:
        return f"HttpPrometheus({self.server!r})"

    def query(self, promql: str, at: float | None) -> object:
        params = {"query": promql, "timeout": f"{self.timeout_s:g}"}
        if at is not None:
            params["time"] = f"{at:.3f}"
        return self._get(f"{self.server}/api/v1/query?{urllib.parse.urlencode(params)}", promql)

    def _get(self, url: str, promql: str) -> object:
        problem = "no attempt"
        for attempt in range(self.retries + 1):
            if attempt:
                self._sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                status, body = self._fetch(url)
            except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
                reason = getattr(exc, "reason", exc)
                if isinstance(reason, ssl.SSLError):
                    raise self._error(f"TLS failed: {reason}", promql) from None
                problem = f"cannot reach the server ({reason or type(exc).__name__})"
                continue
            if status >= 500 and attempt < self.retries:
                problem = f"HTTP {status}"
                continue
            return self._decode(status, body, promql)
        raise self._error(f"{problem}, {self.retries + 1} tries", promql)

    def _fetch(self, url: str) -> tuple[int, bytes]:
        request = urllib.request.Request(url, headers=self._headers)
        try:
            with urllib.request.urlopen(
                request, timeout=self.timeout_s, context=self._context
            ) as response:
                return int(response.status), bytes(response.read())
        except urllib.error.HTTPError as exc:
            with exc:
                return int(exc.code), bytes(exc.read())

    def _decode(self, status: int, body: bytes, promql: str) -> object:
        if status in (401, 403):
            raise self._error(
                f"HTTP {status}: authentication refused (check the credentials)", promql
            )
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and doc.get("status") in ("success", "error"):
            return doc
        text = body[:80].decode("utf-8", "replace").strip()
        why = "is the URL the server's root?" if status < 500 else text
        raise self._error(f"HTTP {status}: not a Prometheus API answer: {why}", promql)

    def _error(self, message: str, promql: str) -> MeasurementError:
        for secret in self._secrets:
            message = message.replace(secret, "***")
        return MeasurementError(message, source=self.server, field=promql)


def _read_token(env: str | None, path: str | None) -> str | None:
    if env:
        token = os.environ.get(env, "").strip()
        if not token:
            raise InputError(f"the environment variable {env} is empty or unset", source="token")
        return token
    if path:
        try:
            with open(path, encoding="utf-8") as fh:
                return fh.read().strip() or None
        except OSError as exc:
            raise InputError(exc.strerror or "cannot be read", source=path) from None
    return None


def _tls_context(ca_file: str | None) -> ssl.SSLContext | None:
    if ca_file is None:
        return None
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise InputError(f"not a usable CA file: {exc}", source=ca_file) from None
