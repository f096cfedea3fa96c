"""Writing what tpx produces (reports, saved sweeps and exports, a task's result): a whole regular
file or nothing. Reading inputs is ``sources/``; writing is not ingestion, so every stage and
front door takes the writer from here.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from os import PathLike

from throughput_expert.errors import InputError, Parameter

__all__ = ["FOLLOW_SYMLINKS", "check_output", "following_symlinks", "write_atomically"]

FOLLOW_SYMLINKS: ContextVar[bool] = ContextVar("tpx_follow_symlinks", default=False)
"""Whether ``write_atomically`` may write through a symbolic link (``--follow-symlinks``): the
command line sets it for one run, so that every writer (``--output``, ``--save``, a task's
result) obeys the flag without passing it down."""


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
