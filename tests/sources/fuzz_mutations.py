"""Mutations of real fixture files, shared by the reader fuzz tests (issue 19).

Each mutation starts from a real recording or scrape and breaks it the way a hostile or
damaged file would: a flipped byte, a number inflated past float range or past Python's
int-string limit (400 and 5,000 digits), a value that is not finite, a cut, deep nesting. A
reader may accept the result or refuse it with one ``ThroughputError``; anything else (an
``OverflowError``, a ``RecursionError``, a hang) is a bug.
"""

from __future__ import annotations

import gzip
import re

from hypothesis import strategies as st

__all__ = ["NUMBER_SWAPS", "mutated"]

NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
NUMBER_SWAPS = (
    b"9" * 400,
    b"9" * 5000,
    b"1e308",
    b"1e309",
    b"-1e308",
    b"-1",
    b"0",
    b"NaN",
    b"Infinity",
    b'"NaN"',
    b'"+Inf"',
    b"1" + b"0" * 30,
    b"4.9e-324",
)
NESTING = (50, 900, 3000, 100_000)


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` (gzip is opened, mutated and closed again) with one to three mutations."""
    zipped = data[:2] == b"\x1f\x8b"
    raw = gzip.decompress(data) if zipped else data
    for _ in range(draw(st.integers(1, 3))):
        raw = draw(_one(raw))
    if zipped and draw(st.booleans()):
        return gzip.compress(raw, compresslevel=1)
    return raw


def _one(raw: bytes) -> st.SearchStrategy[bytes]:
    return st.one_of(
        _inflate(raw), _flip(raw), _truncate(raw), _nest(raw), _repeat_line(raw), _swap_token(raw)
    )


@st.composite
def _inflate(draw: st.DrawFn, raw: bytes) -> bytes:
    """One number of the file replaced by a huge, tiny, negative or non-finite one."""
    spans = [m.span() for m in NUMBER.finditer(raw[:200_000])]
    if not spans:
        return raw
    start, end = spans[draw(st.integers(0, len(spans) - 1))]
    return raw[:start] + draw(st.sampled_from(NUMBER_SWAPS)) + raw[end:]


@st.composite
def _flip(draw: st.DrawFn, raw: bytes) -> bytes:
    if not raw:
        return b"\x00"
    at = draw(st.integers(0, len(raw) - 1))
    byte = draw(st.sampled_from([0, 0x0A, 0x0D, 0x1B, 0x22, 0x3B, 0x5B, 0x7B, 0x80, 0xFF]))
    return (
        raw[:at]
        + bytes([raw[at] ^ draw(st.integers(1, 255)) if byte == 0 else byte])
        + raw[at + 1 :]
    )


@st.composite
def _truncate(draw: st.DrawFn, raw: bytes) -> bytes:
    return raw[: draw(st.integers(0, max(len(raw) - 1, 0)))]


@st.composite
def _nest(draw: st.DrawFn, raw: bytes) -> bytes:
    """A value (the first ``[`` or ``{`` after a random point) replaced by deep nesting."""
    depth = draw(st.sampled_from(NESTING))
    start = draw(st.integers(0, max(len(raw) - 1, 0)))
    at = next((i for i in range(start, min(len(raw), start + 5000)) if raw[i] in b"[{"), None)
    deep = b"[" * depth + b"]" * depth
    if at is None:
        return deep
    return raw[:at] + deep + b"," + raw[at:]


@st.composite
def _repeat_line(draw: st.DrawFn, raw: bytes) -> bytes:
    """One line repeated many times (a long file made of a short one)."""
    lines = raw.split(b"\n")
    pick = lines[draw(st.integers(0, len(lines) - 1))]
    times = draw(st.sampled_from([2, 100, 5000]))
    return raw + b"\n" + b"\n".join([pick] * times)


@st.composite
def _swap_token(draw: st.DrawFn, raw: bytes) -> bytes:
    """A token that means something to one of the formats put at a random place."""
    at = draw(st.integers(0, len(raw)))
    token = draw(
        st.sampled_from(
            [b"null", b"[]", b"{}", b'"x"', b"true", b"-", b";", b" ", b"\n", b"\r\n", b"\x00"]
        )
    )
    return raw[:at] + token + raw[at:]
