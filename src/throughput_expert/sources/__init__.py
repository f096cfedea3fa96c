"""Sources: one module per input family; this module detects a file's kind by content.

``load_metrics`` reads any number of metrics files (our metrics JSON, a Prometheus API response
or export, Prometheus text-exposition scrapes) and merges them into one ``ServiceMetrics``.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from os import PathLike
from pathlib import Path

from throughput_expert.errors import InputError, Parameter
from throughput_expert.model import ServiceMetrics
from throughput_expert.sources.merge import merge_metrics

__all__ = [
    "FOLLOW_SYMLINKS",
    "MAX_FILE_BYTES",
    "check_output",
    "following_symlinks",
    "load_metrics",
    "read_bytes",
    "read_json",
    "read_text",
    "size_text",
    "write_atomically",
]

MAX_FILE_BYTES = 1 << 30

FOLLOW_SYMLINKS: ContextVar[bool] = ContextVar("tpx_follow_symlinks", default=False)
"""Whether ``write_atomically`` may write through a symbolic link (``--follow-symlinks``): the
command line sets it for one run, so that every writer (``--output``, ``--save``, a task's
result) obeys the flag without passing it down."""


def load_metrics(
    paths: Sequence[str | Path], *, interval_s: float | None = None, service: str | None = None
) -> ServiceMetrics:
    """Read and merge metrics files, detecting each one's format from its content."""
    if not paths:
        raise InputError(
            "no metrics given: pass {metrics} FILE",
            source="analyze",
            field="metrics",
            mentions=("metrics",),
        )
    records: list[ServiceMetrics] = []
    scrapes: list[tuple[str, str]] = []
    for path in paths:
        text = read_text(path)
        if text.lstrip()[:1] in ("{", "["):
            records.append(_load_json(text, str(path), service))
        else:
            scrapes.append((str(path), text))
    if scrapes:
        records.append(_load_scrapes(scrapes, interval_s, service))
    return merge_metrics(records)


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


@contextmanager
def following_symlinks(enabled: bool = True) -> Iterator[None]:
    """Within the block, ``write_atomically`` writes through symbolic links (or refuses them,
    with ``enabled=False``)."""
    token = FOLLOW_SYMLINKS.set(enabled)
    try:
        yield
    finally:
        FOLLOW_SYMLINKS.reset(token)


def check_output(
    path: str | PathLike[str],
    *,
    source: str = Parameter("output"),
    follow_symlinks: bool | None = None,
) -> None:
    """``InputError`` now if ``write_atomically(path, ...)`` would refuse the target (a
    folder, a device, a FIFO, a socket, a symbolic link without ``follow_symlinks``): a command
    that measures for minutes checks its ``--output`` and ``--save`` before it starts. Nothing
    is created or opened."""
    follow = FOLLOW_SYMLINKS.get() if follow_symlinks is None else follow_symlinks
    _output_target(os.fspath(path), follow, source)


def write_atomically(
    path: str | PathLike[str],
    text: str,
    *,
    source: str = Parameter("output"),
    follow_symlinks: bool | None = None,
) -> None:
    """Write the whole file or nothing: a temporary file in the same folder, then a rename.

    Only regular files are written. An existing ``path`` that is a folder, a device, a FIFO or
    a socket is refused (``InputError``; nothing is opened, created or replaced), so is a
    symbolic link unless ``follow_symlinks`` (default: ``FOLLOW_SYMLINKS``, i.e.
    ``--follow-symlinks``); then the file the link finally points to (a regular file, or a new
    file in an existing folder) is replaced and the link is kept.
    """
    follow = FOLLOW_SYMLINKS.get() if follow_symlinks is None else follow_symlinks
    shown = os.fspath(path)
    target = _output_target(shown, follow, source)
    folder = os.path.dirname(target) or "."
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tpx-", dir=folder)
    except OSError as exc:
        raise InputError(exc.strerror or "cannot write here", source=source, field=shown) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a report is an ordinary file
        _output_target(target, False, source, shown)  # still a regular file (or none) by now
        os.replace(tmp, target)
    except OSError as exc:
        os.unlink(tmp)
        raise InputError(exc.strerror or "cannot write", source=source, field=shown) from None
    except BaseException:
        os.unlink(tmp)
        raise


def _output_target(path: str, follow: bool, source: str, shown: str | None = None) -> str:
    """The path to replace: ``path``, or with ``follow`` where its symbolic link points;
    ``InputError`` unless that is a regular file or nothing yet. Only ``lstat``: nothing is
    opened, so a FIFO cannot block."""
    shown = path if shown is None else shown
    mode = _lmode(path, source, shown)
    if mode is not None and stat.S_ISLNK(mode):
        if not follow:
            raise InputError(
                "is a symbolic link: not replaced ({follow_symlinks} writes to the file it "
                "points to and keeps the link)",
                mentions=("follow_symlinks",),
                source=source,
                field=shown,
            )
        path = os.path.realpath(path)
        mode = _lmode(path, source, shown)
        if mode is not None and stat.S_ISLNK(mode):  # realpath stops at a loop
            raise InputError("is a loop of symbolic links", source=source, field=shown)
    if mode is None or stat.S_ISREG(mode):
        return path
    raise InputError(
        f"is {_kind(mode)}, not a regular file: not replaced", source=source, field=shown
    )


def _lmode(path: str, source: str, shown: str) -> int | None:
    try:
        return os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(exc.strerror or "cannot write", source=source, field=shown) from None


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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


def _load_json(text: str, source: str, service: str | None) -> ServiceMetrics:
    from throughput_expert.sources import metrics_json, prometheus_api

    doc = read_json(text, source)
    if prometheus_api.is_api_document(doc):
        return prometheus_api.load_api_document(doc, source=source, service=service)
    if metrics_json.is_metrics_document(doc):
        return metrics_json.load_metrics_document(doc, source=source)
    raise InputError(
        "unknown format: expected tpx metrics JSON, a Prometheus API response or a tpx "
        "Prometheus export",
        source=source,
    )


def _load_scrapes(
    scrapes: list[tuple[str, str]], interval_s: float | None, service: str | None
) -> ServiceMetrics:
    from throughput_expert.sources import prometheus_text

    for source, text in scrapes:
        if not prometheus_text.looks_like_exposition(text):
            raise InputError(
                "unknown format: neither JSON nor Prometheus text exposition", source=source
            )
    return prometheus_text.load_scrapes(scrapes, interval_s=interval_s, service=service)
