"""``tpx task --watch [RUNS_DIR]``: serve the tasks addressed to this agent until stopped
(Ctrl-C), so a babysitter run can use ``tpx`` as its worker.

Two layouts are watched:

- **babysitter SDK runs** (``RunsWatcher``; default ``.a5c/runs``): every run below the folder
  (or the folder itself when it is one run, holding ``run.json``). Pending agent effects are
  listed through the ``babysitter`` CLI (``task:list --pending --kind agent``); each one
  addressed to this agent (``--agent``, default ``throughput-optimization-expert``) is answered
  and posted (``agents/babysitter.py``), a task tpx cannot answer posted as an error so the run
  fails instead of waiting. Resumable: what is resolved is never listed again (the SDK reads its
  journal), so a restarted watcher serves only what is still pending. A run whose journal has
  not changed since it was last listed is not listed again; a finished run (its last journal
  event ``RUN_COMPLETED`` or ``RUN_FAILED``) is not listed at all.
- **hand-made task folders** (``Watcher``): a folder holding ``tasks/*/input.json`` and no
  ``run.json``; every input addressed to this agent that has no result yet is answered in its
  ``io.outputJsonPath`` (or ``result.json`` beside it), no CLI needed.

One bad task never stops the others. Whatever goes wrong with a task, a ``ThroughputError``
(bad input, a path outside the run) or anything else (a bug), is logged as one line and
remembered (an input by its path and its modification time and size, so it is not retried until
it is rewritten; an SDK effect by its run and id); the watcher goes on with the next task. An
input.json that is a link to a file outside the watched folder (and the allowed roots) is
refused like a path in it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from throughput_expert.agents.confine import Confine, real_folders
from throughput_expert.agents.task import AGENT_NAME, WIDEN, read_task, result_path, run_task
from throughput_expert.errors import InputError, ThroughputError

if TYPE_CHECKING:
    from throughput_expert.agents.babysitter import Babysitter, Outcome

__all__ = ["RunsWatcher", "Watcher", "hand_made", "pending", "watch", "watch_runs"]

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


def hand_made(folder: str | Path) -> bool:
    """A folder of hand-made tasks (``tasks/*/input.json``, no ``run.json``): not an SDK run
    nor a runs directory."""
    base = Path(folder)
    return (base / "tasks").is_dir() and not (base / "run.json").exists()


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
    return _serve(watcher.round, once, poll_s)


# --- babysitter SDK runs ----------------------------------------------------------------------

_FINISHED = ("RUN_COMPLETED", "RUN_FAILED")


class RunsWatcher:
    """Every babysitter run below ``folder`` (or ``folder`` itself when it is a run);
    ``round()`` serves what is pending once."""

    def __init__(
        self,
        folder: str | Path,
        cli: Babysitter,
        *,
        agent: str = AGENT_NAME,
        allow_roots: Sequence[str | Path] = (),
        defaults: str | None = None,
        log: Callable[[str], None] = print,
    ) -> None:
        self.folder = Path(folder)
        self.cli = cli
        self.agent = agent
        self.allow_roots = tuple(allow_roots)
        self.defaults = defaults
        self.log = log
        self.listed: dict[Path, str | None] = {}  # run -> its journal's head when last listed
        self.failed: set[tuple[Path, str]] = set()  # (run, effect) that could not be served
        self.unlisted: set[Path] = set()  # runs whose listing failed (logged once)

    def runs(self) -> list[Path]:
        if (self.folder / "run.json").is_file():
            return [self.folder]
        try:
            children = sorted(self.folder.iterdir())
        except OSError:
            return []
        return [c for c in children if c.is_dir() and (c / "run.json").is_file()]

    def round(self) -> list[Outcome]:
        """Serve every pending effect for this agent in every run; returns what was posted."""
        posted: list[Outcome] = []
        for run in self.runs():
            head = _journal_head(run)
            if run in self.listed and self.listed[run] == head:
                continue  # nothing happened in the run since it was last listed
            if head is not None and _finished(run, head):
                self.listed[run] = head
                continue
            try:
                effects = self.cli.pending(run)
            except ThroughputError as exc:
                if run not in self.unlisted:
                    self.unlisted.add(run)
                    self.log(_scrubbed(f"cannot list the tasks of {run}: {exc.one_line()}"))
                continue
            self.unlisted.discard(run)
            for effect in effects:
                if (run, effect) not in self.failed:
                    outcome = self._serve(run, effect)
                    if outcome is not None and outcome.status != "skipped":
                        posted.append(outcome)
            self.listed[run] = _journal_head(run)  # after our own posts
        return posted

    def _serve(self, run: Path, effect: str) -> Outcome | None:
        from throughput_expert.agents.babysitter import AlreadyResolved, serve_effect

        where = f"{run}/tasks/{effect}"
        try:
            outcome = serve_effect(
                self.cli,
                run,
                effect,
                agent=self.agent,
                allow_roots=self.allow_roots,
                defaults=self.defaults,
                watching=True,
            )
        except AlreadyResolved as exc:
            self.log(f"{where}: {exc.message}")
            return None
        except ThroughputError as exc:
            self.failed.add((run, effect))
            line = exc.one_line()
            self.log(_scrubbed(f"cannot serve {where}: {line} (nothing posted)"))
            return None
        except Exception as exc:  # a bug in one task must not stop the rest
            self.failed.add((run, effect))
            reason = " ".join(str(exc).split())[:300]
            self.log(
                _scrubbed(
                    f"cannot serve {where}: internal error: {type(exc).__name__}: {reason} "
                    "(a bug; the watcher goes on)"
                )
            )
            return None
        if outcome.status == "ok":
            self.log(f"served {where} -> {outcome.file} (posted ok)")
        elif outcome.status == "error":
            self.log(_scrubbed(f"posted error for {where}: {outcome.message}"))
        if outcome.interrupted:
            raise KeyboardInterrupt  # Ctrl-C came while posting: the post is done, stop now
        return outcome


def _scrubbed(line: str) -> str:
    from throughput_expert.redact import scrub

    return scrub(line)


def _journal_head(run: Path) -> str | None:
    """The newest journal file's name (``000004.<ulid>.json``): it changes with every event."""
    try:
        names = [n for n in os.listdir(run / "journal") if n.endswith(".json")]
    except OSError:
        return None
    return max(names) if names else None


def _finished(run: Path, head: str) -> bool:
    """Whether the run's last journal event ends it (nothing can be pending after it)."""
    import json

    try:
        with open(run / "journal" / head, encoding="utf-8") as fh:
            event = json.loads(fh.read(1 << 20))
    except (OSError, ValueError):
        return False
    return isinstance(event, Mapping) and event.get("type") in _FINISHED


def watch_runs(
    folder: str,
    cli: Babysitter,
    *,
    once: bool = False,
    poll_s: float = 1.0,
    agent: str = AGENT_NAME,
    log: Callable[[str], None] = print,
    allow_roots: Sequence[str | Path] = (),
    defaults: str | None = None,
) -> int:
    """Serve every babysitter run below ``folder`` (``--once``: what is pending now, then
    return); Ctrl-C ends the loop between two posts, never inside one."""
    if not Path(folder).is_dir():
        raise InputError(f"{folder!r} is not a folder", source="tpx task", field="--watch")
    real_folders(allow_roots, source="tpx task", flag="--allow-root")
    if defaults is not None:
        from throughput_expert.sources.settings import load_settings

        load_settings(defaults)  # a bad settings file stops the watcher at once, not each task
    watcher = RunsWatcher(
        folder, cli, agent=agent, allow_roots=allow_roots, defaults=defaults, log=log
    )
    return _serve(watcher.round, once, poll_s)


def _serve(round_: Callable[[], object], once: bool, poll_s: float) -> int:
    """Serve rounds until Ctrl-C (or one round with ``once``); 0 either way."""
    try:
        while True:
            round_()
            if once:
                return 0
            time.sleep(poll_s)
    except KeyboardInterrupt:
        return 0
