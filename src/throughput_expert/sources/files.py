"""Reading input files: bytes or UTF-8 text up to a size cap, and strict JSON, each with one-line
errors naming the file."""

from __future__ import annotations

import json
from os import PathLike

from throughput_expert.errors import InputError

__all__ = ["MAX_FILE_BYTES", "read_bytes", "read_json", "read_text", "size_text"]

MAX_FILE_BYTES = 1 << 30


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
    """Parse JSON, refusing NaN/Infinity literals, with the line and column of an error."""
    try:
        return json.loads(text, parse_constant=_no_constant)
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


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number JSON allows; write null for a missing value")
