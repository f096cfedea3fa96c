"""Reading input files: bytes or UTF-8 text up to a size cap, a file's head and its chunks (for
the formats read as a stream, which need no cap), and strict JSON, each with one-line errors
naming the file."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from os import PathLike

from throughput_expert.errors import InputError

__all__ = [
    "CHUNK_BYTES",
    "MAX_FILE_BYTES",
    "read_bytes",
    "read_chunks",
    "read_head",
    "read_json",
    "read_text",
    "size_text",
]

# A format that must be held whole (JSON, protobuf, a scrape) is refused above this size; a
# format read as a stream (collapsed stacks) is not, its memory grows with what it keeps.
MAX_FILE_BYTES = 1 << 30
CHUNK_BYTES = 1 << 22
MAX_INT_DIGITS = 19  # 2^63 has 19 digits
_NUMBER_SHAPES = bytes(
    48 if 48 <= byte <= 57 else 101 if byte in (69, 101) else 32 for byte in range(256)
)


def read_bytes(path: str | PathLike[str], limit: int = MAX_FILE_BYTES) -> bytes:
    """A file's bytes (at most ``limit``: no more is read), with one-line errors for what
    cannot be read."""
    source = str(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise InputError(exc.strerror or "cannot be read", source=source) from None
    if len(data) > limit:
        raise InputError(f"larger than {size_text(limit)}", source=source)
    return data


def read_head(path: str | PathLike[str], size: int) -> bytes:
    """A file's first ``size`` bytes (fewer when the file is shorter)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(size)
    except OSError as exc:
        raise InputError(exc.strerror or "cannot be read", source=str(path)) from None


def read_chunks(path: str | PathLike[str], size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """A file's bytes in chunks of ``size``, for readers that stream: no size cap, one chunk in
    memory at a time."""
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(size):
                yield chunk
    except OSError as exc:
        raise InputError(exc.strerror or "cannot be read", source=str(path)) from None


def size_text(limit: int) -> str:
    """``1 MiB``, ``256 KiB``, ``1 GiB``: a size cap as people say it."""
    for shift, unit in ((30, "GiB"), (20, "MiB"), (10, "KiB")):
        if limit >= 1 << shift and limit % (1 << shift) == 0:
            return f"{limit >> shift} {unit}"
    return f"{limit} bytes"


def read_text(path: str | PathLike[str], limit: int = MAX_FILE_BYTES) -> str:
    """A file's text (UTF-8, at most ``limit`` bytes), with one-line errors for what cannot be
    read."""
    source = str(path)
    data = read_bytes(path, limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", source=source) from None


def read_json(text: str, source: str) -> object:
    """Parse JSON, refusing NaN/Infinity literals and numbers no reader can use (an integer
    beyond ±2^63, its length checked before conversion; a float beyond float range), with the
    line and column of an error."""
    try:
        if not _may_hold_big_numbers(text):  # the common case: no number out of range
            return json.loads(text, parse_constant=_no_constant)
        return json.loads(
            text, parse_constant=_no_constant, parse_int=_json_int, parse_float=_json_float
        )
    except json.JSONDecodeError as exc:
        raise InputError(
            f"malformed JSON: {exc.msg}",
            source=source,
            field=f"line {exc.lineno} column {exc.colno}",
        ) from None
    except ValueError as exc:
        raise InputError(str(exc), source=source) from None
    except RecursionError:
        raise InputError("JSON nested too deeply", source=source) from None


def _may_hold_big_numbers(text: str) -> bool:
    """Whether ``text`` has a run of 19 digits or an ``e`` with a 3-digit exponent: only then
    can a number be beyond ±2^63 (an integer) or float range, and the checks, a call per number
    that would double the cost of a large file, are paid. One pass in C: every digit becomes
    ``0``, ``e``/``E`` stay ``e``, ``+`` is dropped, anything else is a space."""
    digits = text.encode("utf-8", "surrogatepass").translate(_NUMBER_SHAPES, b"+")
    return b"0" * MAX_INT_DIGITS in digits or b"e000" in digits


def _json_int(text: str) -> int:
    """A JSON integer within ±2^63 (what int64 counts and timestamps hold); the digits are
    counted first, so a 5,000-digit number costs nothing."""
    if len(text) < MAX_INT_DIGITS:  # the common case, kept cheap: a call per integer read
        return int(text)
    digits = len(text) - text.startswith("-")
    value = int(text) if digits <= MAX_INT_DIGITS else None
    if value is None or not -(2**63) <= value < 2**63:
        raise ValueError(
            f"a {digits}-digit integer is beyond the range of numbers read (within ±2^63)"
        )
    return value


def _json_float(text: str) -> float:
    value = float(text)
    if value in (math.inf, -math.inf):
        shown = text if len(text) <= 30 else f"{text[:12]}…({len(text)} characters)"
        raise ValueError(f"{shown} is beyond float range (±1.8e308)")
    return value


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number JSON allows; write null for a missing value")
