"""Secrets never leave: passwords and tokens are removed from URLs and DSNs before they are
stored, printed or sent, and every line the front doors print is scrubbed of the secrets seen.

Two layers:

- **Redaction at the source.** ``redact_url`` and ``redact_dsn`` return the text with the
  password replaced by ``***`` (the user name is kept: it helps and is not a secret). They parse
  the way a careless user writes, not only the way the RFCs do: a password with a raw ``@``,
  ``/``, ``#`` or ``?`` in it still counts as userinfo (everything between ``://`` and the *last*
  ``@``), so a malformed URL is over-redacted, never under-redacted. ``password=`` in a libpq
  ``key=value`` string or a URI's query is removed too.
- **Scrubbing at the exit.** ``remember_secret`` records a secret as soon as it is parsed (a
  bearer token, a basic-auth or database password); ``scrub`` replaces every recorded secret, and
  its percent-encoded and base64 forms, in a text about to be printed, written or returned. The
  CLI, the task worker and the MCP server scrub every error line with it, as a second line of
  defence behind redaction.

The registry is per process and only grows; it holds secrets the process already had in memory.
"""

from __future__ import annotations

import base64
import re
import threading
import urllib.parse

__all__ = [
    "MASK",
    "basic_auth_value",
    "forget_secrets",
    "redact_dsn",
    "redact_text",
    "redact_url",
    "remember_secret",
    "scrub",
    "secret_key",
]

MASK = "***"
_MIN_SECRET = 3  # shorter "secrets" would mask ordinary characters everywhere
_SECRET_WORDS = frozenset(
    ("pass", "passwd", "pwd", "pgpass", "auth", "authorization", "bearer", "cookie", "session")
)
_SECRET_PARTS = ("password", "passphrase", "secret", "token", "apikey", "credential", "privatekey")
_lock = threading.Lock()
_secrets: set[str] = set()


def secret_key(name: str) -> bool:
    """A key whose value is a secret by its name (``db_password``, ``apiKey``, ``token``)."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
    words = re.split(r"[^a-z0-9]+", snake)
    joined = "".join(words)
    return any(w in _SECRET_WORDS for w in words) or any(p in joined for p in _SECRET_PARTS)


def remember_secret(secret: str | None) -> None:
    """Record a secret so that ``scrub`` removes it (and its encoded forms) from any text."""
    if not secret or len(secret) < _MIN_SECRET or secret == MASK:
        return
    forms = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}
    with _lock:
        _secrets.update(f for f in forms if len(f) >= _MIN_SECRET)


def forget_secrets() -> None:
    """Empty the registry (tests)."""
    with _lock:
        _secrets.clear()


def scrub(text: str) -> str:
    """``text`` with every remembered secret replaced by ``***``; longest first, so a secret
    that contains another is masked whole."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def basic_auth_value(user: str, password: str) -> str:
    """The ``Authorization`` header value for basic auth; the password and the encoded pair are
    remembered as secrets."""
    pair = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    remember_secret(password)
    remember_secret(pair)
    return f"Basic {pair}"


def redact_url(url: str) -> str:
    """``url`` with the password of its userinfo (and any ``password=`` query value) masked.

    ``http://me:p@ss/w#rd@127.0.0.1:80/x`` -> ``http://me:***@127.0.0.1:80/x``: userinfo runs
    to the last ``@`` in the URL, so a password holding a raw ``@``, ``/``, ``#`` or ``?`` is
    masked whole. A URL without ``://`` is returned as ``redact_dsn`` would return it.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return redact_dsn(url)
    userinfo, at, tail = rest.rpartition("@")
    if at:
        user, colon, password = userinfo.partition(":")
        if colon:  # as written and as the server will see it
            remember_secret(password)
            remember_secret(urllib.parse.unquote(password))
        if colon:
            # a raw '/', '?' or '#' before the '@' means the "user" part is unreliable too
            if re.search(r"[/?#]", user):
                user = MASK
            userinfo = f"{user}:{MASK}"
        elif re.search(r"[/?#]", userinfo):
            userinfo = MASK
        rest = f"{userinfo}@{tail}"
    return f"{scheme}://{_redact_query(rest)}"


def _redact_query(text: str) -> str:
    """Secret-named parameters (``secret_key``: ``password=``, ``token=``...) in a URI query,
    masked and remembered."""

    def mask(m: re.Match[str]) -> str:
        if not secret_key(m.group(2)) or m.group(3) == MASK:
            return m.group(0)
        remember_secret(m.group(3))
        remember_secret(urllib.parse.unquote_plus(m.group(3)))
        return f"{m.group(1)}{m.group(2)}={MASK}"

    return re.sub(r"([?&;])([^=&#;?]+)=([^&#;]*)", mask, text)


# libpq conninfo: key = value, value bare (up to whitespace) or single-quoted with \' and \\
_CONNINFO = re.compile(r"""(\w+)\s*=\s*('(?:[^'\\]|\\.)*'?|\S*)""", re.DOTALL)


def redact_dsn(dsn: str) -> str:
    """A database DSN, URI (``postgresql://u:p@h/db``) or libpq ``key=value`` string, with its
    password masked; any other text comes back as it is."""
    if "://" in dsn:
        return redact_url(dsn)

    def mask(m: re.Match[str]) -> str:
        key, value = m.group(1), m.group(2)
        if not secret_key(key):
            return m.group(0)
        if value.startswith("'"):
            value = re.sub(r"\\(.)", r"\1", value[1:-1] if value.endswith("'") else value[1:])
        remember_secret(value)
        return f"{key}={MASK}"

    return _CONNINFO.sub(mask, dsn)


# --- secrets in free text: a command line, a note ------------------------------------------

_URL = re.compile(r"""[A-Za-z][A-Za-z0-9+.-]*://[^\s'"<>]+""")
# A word of a command line: bare and quoted pieces up to whitespace.
_WORD = re.compile(r"""(?:'[^']*'?|"[^"]*"?|[^\s'"])+""")
_KEY = re.compile(r"-{0,2}[A-Za-z_][\w.-]*")
# A header to the end of its quotes or line: "Authorization: Bearer ...", "X-Api-Key: ...".
_HEADER = re.compile(r"""(?P<key>[A-Za-z][\w-]*)\s*:\s+(?P<value>[^'"\r\n]+)""")


def redact_text(text: str) -> str:
    """``text`` (a command line, a URL, a note) with the secrets it shows masked: the password
    of every URL in it (``redact.redact_url``); the value of a secret-looking ``NAME=value``,
    ``--name=value`` or ``--name value``; curl's ``-u user:password``; the value of a
    secret-looking header (``Authorization: Bearer ...``). Each masked value is remembered for
    ``redact.scrub``. A password holding spaces in a URL is beyond it: percent-encode them."""
    text = _URL.sub(lambda m: redact_url(m.group(0)), text)
    text = _HEADER.sub(_header, text)
    if "=" not in text and "-u" not in text and "--" not in text:
        return text  # no word ``_word`` would change (a note, most targets): no word loop
    words = list(_WORD.finditer(text))
    out, at = [], 0
    for i, word in enumerate(words):
        shown = _word(word.group(0), words[i - 1].group(0) if i else "")
        out += [text[at : word.start()], shown]
        at = word.end()
    return "".join(out) + text[at:]


def _header(m: re.Match[str]) -> str:
    value = m.group("value").strip()
    if not secret_key(m.group("key")) or value == MASK:
        return m.group(0)
    remember_secret(value.split(None, 1)[-1])  # the credential after "Bearer", "Basic"
    return f"{m.group('key')}: {_hidden(value)}"


def _word(word: str, before: str) -> str:
    """One word with its secret masked, given the word before it."""
    key, eq, value = word.partition("=")
    if eq and _KEY.fullmatch(key) and secret_key(key):
        return f"{key}={_hidden(value)}"
    if before in ("-u", "--user") and ":" in word:
        user, _, password = word.partition(":")
        return f"{user}:{_hidden(password)}"
    if before.startswith("--") and "=" not in before and secret_key(before) and word[0] != "-":
        return _hidden(word)
    return word


def _hidden(value: str) -> str:
    """``***`` in the quotes ``value`` had; the value is remembered as a secret."""
    quote = value[0] if value[:1] in ("'", '"') and value[-1:] == value[0] else ""
    bare = value[1:-1] if quote else value
    if bare == MASK or not bare:
        return value
    remember_secret(bare)
    return f"{quote}{MASK}{quote}"
