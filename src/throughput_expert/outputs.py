"""Writing what tpx produces (reports, saved sweeps and exports, a task's result): a whole regular
file or nothing. Reading inputs is ``sources/``; writing is not ingestion, so every stage and
front door takes the writer from here.

A file is written to a temporary file beside it, flushed to the disk (``fsync``: a full disk
fails the write, not a later read) and renamed over the target. A folder that refuses writes,
a full disk or a file size limit is one ``InputError`` naming the path, and nothing is left
behind. Within ``deferred(paths)`` (the command line, for ``--output`` and ``--save``) writes
to those paths are staged and renamed into place only when the command succeeds: a command
that ends in an error leaves no ``--save`` and no ``--output`` behind, not even a complete one.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from os import PathLike

from throughput_expert.errors import InputError, Parameter
from throughput_expert.safe_text import unicode_safe

__all__ = [
    "FOLLOW_SYMLINKS",
    "Staged",
    "check_output",
    "deferred",
    "following_symlinks",
    "write_atomically",
]

FOLLOW_SYMLINKS: ContextVar[bool] = ContextVar("tpx_follow_symlinks", default=False)
"""Whether ``write_atomically`` may write through a symbolic link (``--follow-symlinks``): the
command line sets it for one run, so that every writer (``--output``, ``--save``, a task's
result) obeys the flag without passing it down."""


_STAGED: ContextVar[dict[str, list[tuple[str, str, str, str]]] | None] = ContextVar(
    "tpx_staged_writes", default=None
)


class Staged:
    """What ``deferred`` yields: set ``keep`` to False to drop the staged files (a command
    that returns a failing exit code without raising)."""

    def __init__(self) -> None:
        self.keep = True


@contextmanager
def deferred(paths: Iterable[str | PathLike[str]]) -> Iterator[Staged]:
    """Within the block, ``write_atomically`` to one of ``paths`` writes the whole temporary
    file but renames it into place only when the block ends without an exception (and
    ``keep`` is still set); otherwise (an error, an interrupt) the staged files are removed and
    the targets are left as they were. Nested (a library call that stages its own ``save``
    inside the command line's block), a path the outer block stages is left to it."""
    outer = _STAGED.get() or {}
    staged: dict[str, list[tuple[str, str, str, str]]] = {
        key: [] for key in map(_key, paths) if key not in outer
    }
    token = _STAGED.set({**outer, **staged})
    handle = Staged()
    try:
        yield handle
    except BaseException:
        handle.keep = False
        raise
    finally:
        _STAGED.reset(token)
        if not handle.keep:
            for pending in staged.values():
                for tmp, _, _, _ in pending:
                    _remove(tmp)
    failed: InputError | None = None
    for pending in staged.values():
        for tmp, target, source, shown in pending:
            if failed is not None or not handle.keep:
                _remove(tmp)
                continue
            try:
                _output_target(target, False, source, shown)
                os.replace(tmp, target)
            except (OSError, InputError) as exc:
                _remove(tmp)
                failed = (
                    exc
                    if isinstance(exc, InputError)
                    else InputError(exc.strerror or "cannot write", source=source, field=shown)
                )
    if failed is not None:
        raise failed


def _key(path: str | PathLike[str]) -> str:
    return os.path.abspath(os.fspath(path))


def _remove(path: str) -> None:
    with suppress(OSError):
        os.unlink(path)


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
        raise InputError(_why(exc), source=source, field=shown) from None
    staged = _STAGED.get()
    later = staged.get(_key(shown)) if staged is not None else None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(unicode_safe(text).encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())  # a full disk fails here, not when the file is read back
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a report is an ordinary file
        if later is not None:  # renamed into place when the command succeeds
            later.append((tmp, target, source, shown))
            return
        _output_target(target, False, source, shown)  # still a regular file (or none) by now
        os.replace(tmp, target)
    except OSError as exc:
        _remove(tmp)
        raise InputError(_why(exc), source=source, field=shown) from None
    except BaseException:
        _remove(tmp)
        raise


def _why(exc: OSError) -> str:
    """What an OS error on writing means, in a few words."""
    if exc.errno == errno.ENOSPC:
        return "no space left on the device: nothing written"
    if exc.errno == errno.EFBIG:
        return "file too large (the file size limit, ulimit -f): nothing written"
    if exc.errno == errno.EROFS:
        return "read-only file system: nothing written"
    return (exc.strerror or "cannot write") + ": nothing written"


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
