"""Mutations of real input files, for the fuzz campaign (``tests/fuzz/run``) and the
property-based reader tests (``tests/sources/test_fuzz_readers.py``).

Each mutation takes the bytes of a real fixture and a ``random.Random`` and returns hostile
bytes of at most ``MAX_BYTES``: the classes that once ended in an internal error or a hang —
byte flips, truncation, a number inflated to 400 or 5,000 digits, a number replaced by 1e308,
1e400, -1, NaN or "inf", deep nesting, control characters, lone surrogates, a section repeated
to a megabyte, and, for JSON and YAML, a value replaced by a value of another shape (a list
where a number is expected, a mapping where a key is).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable

__all__ = ["MAX_BYTES", "MUTATIONS", "mutate"]

MAX_BYTES = 1 << 20  # the bound: every command finishes a hostile input of <= 1 MB

_NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_DIGITS = re.compile(rb"\d+")
_SUBSTITUTES = (
    b"1e308",
    b"1e400",
    b"-1e400",
    b"-1",
    b"NaN",
    b"nan",
    b"inf",
    b"-inf",
    b"Infinity",
    b'"inf"',
    b'"NaN"',
    b"0",
    b"-0",
    b"1e-400",
    b"9223372036854775808",
    b"1e20",
    b"0.0000001",
    b"true",
    b"null",
    b"[]",
    b"{}",
    b'""',
)
_CONTROLS = (
    b"\x00",
    b"\x1b[2J",
    b"\r",
    b"\x7f",
    b"\x08",
    b"\x0b",
    b"\x0c",
    b"\xc2\x85",
    b"\xe2\x80\xa8",
    b"\xef\xbb\xbf",
    b"\x1b]0;x\x07",
)
_SURROGATES = (b"\\ud800", b"\\udfff", b"\xed\xa0\x80", b"\\u0000", b"\xff\xfe", b"\x80")

_TEXT_BYTES = b"0123456789-+.eE,;:{}[]\"' \t\nabcxyzINFna%/_"

Mutation = Callable[[bytes, random.Random], bytes]


def _flip(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return b"\x00"
    out = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 4, 16))):
        # mostly a byte that keeps text text (a digit, a separator, a quote), so the reader
        # gets past decoding; sometimes any byte at all
        out[rng.randrange(len(out))] = (
            rng.choice(_TEXT_BYTES) if rng.random() < 0.8 else rng.randrange(256)
        )
    return bytes(out)


def _truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def _pick(pattern: re.Pattern[bytes], data: bytes, rng: random.Random) -> re.Match[bytes] | None:
    matches = list(pattern.finditer(data, 0, min(len(data), 200_000)))
    return rng.choice(matches) if matches else None


def _inflate(data: bytes, rng: random.Random) -> bytes:
    match = _pick(_DIGITS, data, rng)
    if match is None:
        return data
    digits = rng.choice((400, 5_000, 20, 310))
    big = b"9" + bytes(rng.choice(b"0123456789") for _ in range(digits - 1))
    return data[: match.start()] + big + data[match.end() :]


def _substitute(data: bytes, rng: random.Random) -> bytes:
    match = _pick(_NUMBER, data, rng)
    if match is None:
        return data
    return data[: match.start()] + rng.choice(_SUBSTITUTES) + data[match.end() :]


def _insert(data: bytes, rng: random.Random, what: bytes) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + what + data[at:]


def _control(data: bytes, rng: random.Random) -> bytes:
    return _insert(data, rng, rng.choice(_CONTROLS))


def _surrogate(data: bytes, rng: random.Random) -> bytes:
    quote = [m.start() for m in re.finditer(rb'"', data[:200_000])]
    what = rng.choice(_SURROGATES)
    if quote and rng.random() < 0.7:  # inside a string, where a reader keeps the text
        at = rng.choice(quote) + 1
        return data[:at] + what + data[at:]
    return _insert(data, rng, what)


def _nest(data: bytes, rng: random.Random) -> bytes:
    depth = rng.choice((100, 1_000, 50_000))
    head = data.lstrip()[:1]
    if head in (b"{", b"["):  # JSON: a value deep inside the document
        match = _pick(_NUMBER, data, rng)
        inner = b"[" * depth + b"1" + b"]" * depth
        if match is not None and rng.random() < 0.5:
            return data[: match.start()] + inner + data[match.end() :]
        return b'{"a":' * depth + data + b"}" * depth
    if rng.random() < 0.5:  # YAML block nesting, or a flow collection anywhere
        lines = b"".join(b" " * i + b"k:\n" for i in range(min(depth, 2_000)))
        return data + b"\nnested:\n" + lines
    return _insert(data, rng, b"[" * depth + b"]" * depth)


def _repeat(data: bytes, rng: random.Random) -> bytes:
    lines = data.splitlines(keepends=True)
    if not lines:
        return data
    start = rng.randrange(len(lines))
    section = b"".join(lines[start : start + rng.choice((1, 2, 5, 20))])
    if not section.endswith(b"\n"):
        section += b"\n"
    times = max(1, (MAX_BYTES - len(data)) // max(1, len(section)) - 1)
    times = min(times, rng.choice((10, 1_000, 1 << 30)))
    return b"".join(lines[:start]) + section * times + b"".join(lines[start:])


def _replace_value(doc: object, rng: random.Random) -> object:
    """``doc`` with one value (or key) deep inside it replaced by a value of another shape."""
    odd: list[object] = [
        [],
        {},
        [1, 2],
        {"a": 1},
        None,
        True,
        "",
        "x" * 10_000,
        "\ud800",
        -1,
        0,
        1e308,
        10**400,
        "1e400",
        "NaN",
        "inf",
        "-1",
        [[[]]],
    ]
    path: list[tuple[object, object]] = []
    node = doc
    while isinstance(node, dict | list) and node and rng.random() < 0.85:
        key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
        path.append((node, key))
        node = node[key]  # type: ignore[index]
    if not path:
        return rng.choice(odd)
    parent, key = path[-1]
    value = rng.choice(odd)
    if isinstance(parent, dict) and rng.random() < 0.2:  # an odd key
        parent[rng.choice(["", "\ud800", "1", "x" * 1_000, "null"])] = parent.pop(key)
    else:
        parent[key] = value  # type: ignore[index]
    return doc


def _reshape(data: bytes, rng: random.Random) -> bytes:
    """For JSON and YAML: one value replaced by one of another shape; otherwise a flip."""
    text = data.decode("utf-8", "replace")
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        doc = None
    if doc is not None:
        try:
            out = json.dumps(_replace_value(doc, rng))
        except (ValueError, RecursionError):
            return _flip(data, rng)
        return out.encode("utf-8", "surrogatepass")
    try:
        import yaml

        ydoc = yaml.safe_load(text)
    except Exception:
        return _flip(data, rng)
    if not isinstance(ydoc, dict | list):
        return _flip(data, rng)
    try:
        out = yaml.safe_dump(_replace_value(ydoc, rng), allow_unicode=True)
    except Exception:
        return _flip(data, rng)
    return out.encode("utf-8", "surrogatepass")


MUTATIONS: dict[str, Mutation] = {
    "flip": _flip,
    "truncate": _truncate,
    "inflate": _inflate,
    "substitute": _substitute,
    "control": _control,
    "surrogate": _surrogate,
    "nest": _nest,
    "repeat": _repeat,
    "reshape": _reshape,
}
_NAMES = list(MUTATIONS)
_WEIGHTS = [3, 1, 3, 4, 1, 1, 1, 1, 3]


def mutate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """One to three mutations of ``data`` and their names, the result at most ``MAX_BYTES``."""
    names = rng.choices(_NAMES, _WEIGHTS, k=rng.choice((1, 1, 1, 2, 3)))
    for name in names:
        data = MUTATIONS[name](data, rng)[:MAX_BYTES]
    return data, "+".join(names)
