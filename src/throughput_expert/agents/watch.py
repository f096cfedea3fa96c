"""``tpx task --watch DIR``: serve every ``DIR/tasks/*/input.json`` addressed to this agent that
has no result yet, until stopped (Ctrl-C), so a process run can use ``tpx`` as its worker.

One bad task never stops the others. Whatever goes wrong with a task, a ``ThroughputError``
(bad input, a path outside the run) or anything else (a bug), is logged as one line and
remembered by the input's path and its modification time and size, so the task is not retried
until it is rewritten; the watcher goes on with the next task. An input.json that is a link to
a file outside the watched folder (and the allowed roots) is refused like a path in it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from throughput_expert.agents.confine import Confine, real_folders
from throughput_expert.agents.task import AGENT_NAME, WIDEN, read_task, result_path, run_task
from throughput_expert.errors import InputError, ThroughputError

__all__ = ["Watcher", "pending", "watch"]

Stamp = tuple[int, int] | None
Serve = Callable[..., tuple[Path, dict[str, Any]]]


def pending(
    folder: Path,
    allow_roots: Sequence[str | Path] = (),
    failed: Mapping[Path, Stamp] | None = None,
) -> list[Path]:
    """Task inputs for this agent whose result does not exist yet; a task that cannot be judged
    (unreadable, outside the folder, a result path refused) is listed, so serving it reports
    why. Inputs in ``failed`` with the same stamp are left out unread. Never raises for one
    task."""
    confine = _watched(folder, allow_roots)
    out = []
    for path in sorted(folder.glob("tasks/*/input.json")):
        if failed and path in failed and failed[path] == _stamp(path):
            continue  # failed before and not rewritten since
        try:
            confine.resolve(os.fspath(path), field="input.json")  # not read: refused when served
            task = read_task(path)
            if task.agent_name not in (None, AGENT_NAME):
                continue
            done = result_path(task, None, allow_roots).exists()
        except Exception:  # judged when served, where the reason is logged
            done = False
        if not done:
            out.append(path)
    return out


class Watcher:
    """One watched run folder; ``round()`` serves what is pending once."""

    def __init__(
        self,
        folder: str | Path,
        *,
        allow_roots: Sequence[str | Path] = (),
        log: Callable[[str], None] = print,
        serve: Serve = run_task,
        defaults: str | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.allow_roots = tuple(allow_roots)
        self.defaults = defaults
        self.log = log
        self.serve = serve
        self.failed: dict[Path, Stamp] = {}
        self._confine = _watched(self.folder, self.allow_roots)

    def round(self) -> None:
        for path in pending(self.folder, self.allow_roots, self.failed):
            stamp = _stamp(path)
            try:
                self._confine.resolve(os.fspath(path), field="input.json")
                written, _ = self.serve(path, allow_roots=self.allow_roots, defaults=self.defaults)
            except ThroughputError as exc:
                self._failed(path, stamp, exc.one_line())
            except Exception as exc:  # a bug in one task must not stop the rest
                reason = " ".join(str(exc).split())[:300]
                self._failed(
                    path,
                    stamp,
                    f"internal error: {type(exc).__name__}: {reason} (a bug; the watcher goes on)",
                )
            else:
                self.failed.pop(path, None)
                self.log(f"served {path} -> {written}")

    def _failed(self, path: Path, stamp: Stamp, line: str) -> None:
        from throughput_expert.redact import scrub

        self.failed[path] = stamp
        said = line if line.startswith(f"{path}: ") else f"{path}: {line}"  # the path once
        self.log(scrub(f"cannot serve {said}"))


def _watched(folder: Path, allow_roots: Sequence[str | Path]) -> Confine:
    """Where a watched task file may really be: the watched folder or an allowed root (a link
    named input.json leading elsewhere is refused like a path in a task)."""
    return Confine.of(
        [folder, *map(Path, allow_roots)],
        described=f"the watched folder {os.path.realpath(folder)}",
        widen=WIDEN,
        source="tpx task --watch",
    )


def _stamp(path: Path) -> Stamp:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def watch(
    folder: str,
    *,
    once: bool = False,
    poll_s: float = 1.0,
    log: Callable[[str], None] = print,
    allow_roots: Sequence[str | Path] = (),
    defaults: str | None = None,
) -> int:
    """Serve the run folder; ``defaults`` (the operator's settings file) reaches every task."""
    if not Path(folder).is_dir():
        raise InputError(f"{folder!r} is not a folder", source="tpx task", field="--watch")
    real_folders(allow_roots, source="tpx task", flag="--allow-root")
    if defaults is not None:
        from throughput_expert.sources.settings import load_settings

        load_settings(defaults)  # a bad settings file stops the watcher at once, not each task
    watcher = Watcher(folder, allow_roots=allow_roots, log=log, defaults=defaults)
    try:
        while True:
            watcher.round()
            if once:
                return 0
            time.sleep(poll_s)
    except KeyboardInterrupt:
        return 0
