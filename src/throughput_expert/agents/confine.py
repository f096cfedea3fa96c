"""Paths named by files other programs wrote stay inside the folders the user chose.

The task worker and the MCP server run unattended on input they did not write: a task's
``io.outputJsonPath`` and its context files, an MCP client's file arguments. Each such path is
resolved to its real path (symbolic links followed, ``..`` removed) *before* anything is opened
or created, and must then lie inside one of the roots: the run folder (or the lone task's
folder) and the ``tpx task --allow-root`` folders for a task; the ``tpx mcp --root`` folders
(default: the folder the server started in) for the MCP server. Anything else is refused with
one line that names the field and the flag that widens the roots. A link inside a root that
points outside counts as outside.

What a user types on the command line (``tpx task INPUT --output PATH``) is trusted and never
passes through here.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from throughput_expert.errors import InputError

__all__ = ["Confine", "Outside", "Refused", "real_folders"]

_SHOWN = 120  # characters of a refused path shown in a message


class Refused(InputError):
    """A path the document may not name: refuses the whole task or tool call (never a mere
    note)."""


class Outside(Refused):
    """A path outside the roots."""


def real_folders(
    folders: Iterable[str | os.PathLike[str]], *, source: str, flag: str
) -> list[Path]:
    """Each folder's real path; a folder that is not an existing directory is an input error."""
    out = []
    for folder in folders:
        real = _real(os.fspath(folder), source=source, field=flag)
        if not real.is_dir():
            raise InputError(
                f"{_shown(os.fspath(folder))} is not a folder", source=source, field=flag
            )
        out.append(real)
    return out


@dataclass(frozen=True)
class Confine:
    """Where paths from one untrusted document may lead.

    ``roots`` are real paths, the first being where relative paths resolve by default;
    ``described`` names them in a message ("the run folder /r"); ``widen`` says how to widen
    them ("tpx task --allow-root DIR widens it"); ``source`` is the document's name.
    """

    roots: tuple[Path, ...]
    described: str
    widen: str
    source: str

    @classmethod
    def of(
        cls,
        roots: Sequence[Path],
        *,
        described: str,
        widen: str,
        source: str,
    ) -> Confine:
        return cls(tuple(Path(os.path.realpath(r)) for r in roots), described, widen, source)

    def resolve(self, raw: object, *, field: str, base: Path | None = None) -> Path:
        """``raw`` (relative to ``base``, default the first root) as a real path inside the
        roots; ``Outside`` when it is not, ``InputError`` when it is not a path at all."""
        if not isinstance(raw, str):
            raise InputError(
                f"expected a path (text), got {type(raw).__name__}", source=self.source, field=field
            )
        start = base if base is not None else self.roots[0]
        joined = os.path.join(os.fspath(start), raw)  # an absolute raw replaces start
        real = _real(joined, source=self.source, field=field)
        if any(real.is_relative_to(root) for root in self.roots):
            _not_special(real, raw, source=self.source, field=field)
            return real
        widen = f" ({self.widen})" if self.widen else ""
        raise Outside(
            f"{_shown(raw)} is outside {self.described}{widen}", source=self.source, field=field
        )


def _not_special(real: Path, raw: str, *, source: str, field: str) -> None:
    """A FIFO, socket or device inside a root is refused too: opening one would block the
    worker or read without end. Only ``lstat`` on the real path: nothing is opened."""
    try:
        mode = real.lstat().st_mode
    except OSError:
        return  # not there (yet): reading says so, writing creates it
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return
    raise Refused(f"{_shown(raw)} is not a regular file", source=source, field=field)


def _real(path: str, *, source: str, field: str) -> Path:
    try:
        return Path(os.path.realpath(path))
    except (ValueError, OSError) as exc:  # an embedded NUL byte, a name too long
        raise InputError(f"not a usable path ({exc})", source=source, field=field) from None


def _shown(raw: str) -> str:
    text = raw if len(raw) <= _SHOWN else raw[:_SHOWN] + "…"
    return repr(text)
