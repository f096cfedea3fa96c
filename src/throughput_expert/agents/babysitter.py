"""The babysitter SDK's ``babysitter`` CLI, as the task worker uses it, and serving one effect.

The SDK (``@a5c-ai/babysitter-sdk``) keeps a run in ``.a5c/runs/<runId>/``: ``run.json``, an
append-only ``journal/``, and one ``tasks/<effectId>/task.json`` per pending effect. It owns
``result.json``: a result is delivered only through its CLI, which checks that the effect is
still ``requested`` and appends ``EFFECT_RESOLVED`` to the journal. So this module:

- lists pending agent effects with ``babysitter task:list RUN --pending --kind agent --json``
  (the journal, read by the SDK, says what is still pending: an effect resolved is never listed
  again, whoever resolved it);
- reads ``tasks/<effectId>/task.json`` (``agents/task.read_task``: the seed's ``agent.prompt``
  shape and the generic ``inputs.{agentName, prompt}``) and answers it (``agents/task.answer``);
- writes the answer beside the task (``tasks/<effectId>/tpx-value.json``, never ``result.json``)
  and posts it: ``babysitter task:post RUN EFFECT --status ok --value FILE``. A task tpx cannot
  answer (bad input, a path outside the workspace, required keys of the ``outputSchema`` it
  cannot fill honestly, a result that does not fit that schema, a bug) is posted as
  ``--status error --error FILE`` with ``{name, message}``, the message being tpx's one line,
  so the run fails loudly instead of waiting for ever.

Writing the file and posting it run with Ctrl-C held back (and the CLI in its own session, out
of reach of the terminal's Ctrl-C): an interrupted worker finishes the post under way, says so,
and stops; an effect is either posted whole or still requested, never half posted.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from throughput_expert.agents.confine import Confine
from throughput_expert.agents.task import (
    AGENT_NAME,
    Task,
    answer,
    read_task,
    result_json,
)
from throughput_expert.errors import InputError, ThroughputError
from throughput_expert.outputs import write_atomically
from throughput_expert.sources.files import read_json, read_text

__all__ = [
    "ERROR_FILE",
    "VALUE_FILE",
    "AlreadyResolved",
    "Babysitter",
    "Outcome",
    "serve_effect",
]

VALUE_FILE = "tpx-value.json"  # beside task.json: the value task:post copies into result.json
ERROR_FILE = "tpx-error.json"  # beside task.json: {name, message} of a task tpx cannot answer
_TIMEOUT_S = 120.0
_EFFECT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_SHOWN = 300  # characters of the CLI's own message shown in ours


class AlreadyResolved(InputError):
    """The effect is no longer ``requested`` (another worker, or an earlier run, resolved it)."""

    def __init__(self, run: Path, effect: str, status: str) -> None:
        self.status = status
        super().__init__(
            f"already resolved ({status}): not served twice", source=f"{run}", field=effect
        )


@dataclass(frozen=True)
class Outcome:
    """What serving an effect did: ``ok`` or ``error`` posted (``file`` is what was posted,
    ``message`` the error's one line), or ``skipped`` (addressed to another agent)."""

    status: Literal["ok", "error", "skipped"]
    run: Path
    effect: str
    file: Path | None = None
    message: str = ""
    #: Ctrl-C came while posting: held back until the post was done; the caller stops now
    interrupted: bool = False


class Babysitter:
    """The ``babysitter`` CLI: ``argv`` is the command that runs it (``babysitter``,
    ``npx babysitter``, a path to ``node_modules/.bin/babysitter``)."""

    def __init__(self, argv: Sequence[str]) -> None:
        self.argv = tuple(argv)

    @classmethod
    def find(cls, given: str | None = None) -> Babysitter:
        """``--babysitter CMD`` when given (split like a shell would), else ``babysitter`` on
        PATH, else ``./node_modules/.bin/babysitter`` (a project-local install of the SDK);
        one line naming what to install when there is none."""
        if given is not None:
            try:
                argv = shlex.split(given)
            except ValueError as exc:
                raise InputError(str(exc), source="tpx task", field="--babysitter") from None
            if not argv or shutil.which(argv[0]) is None:
                raise InputError(
                    f"{given!r} is not a command (give the babysitter CLI of "
                    "@a5c-ai/babysitter-sdk, e.g. node_modules/.bin/babysitter)",
                    source="tpx task",
                    field="--babysitter",
                )
            return cls(argv)
        found = shutil.which("babysitter") or shutil.which(
            "babysitter", path=os.path.join("node_modules", ".bin")
        )
        if found is None:
            raise InputError(
                "the babysitter CLI is not on PATH (nor in ./node_modules/.bin): install the "
                "SDK (npm install @a5c-ai/babysitter-sdk) or give --babysitter CMD",
                source="tpx task",
            )
        return cls([os.path.abspath(found)])

    # --- the commands ---------------------------------------------------------------------

    def pending(self, run: Path) -> list[str]:
        """Effect ids of the run's pending agent tasks (``task:list --pending --kind agent``)."""
        doc = self._json("task:list", str(run), "--pending", "--kind", "agent", "--json")
        tasks = doc.get("tasks") if isinstance(doc, Mapping) else None
        if not isinstance(tasks, list):
            raise self._unexpected("task:list", "no tasks list in its answer")
        out = []
        for entry in tasks:
            if not isinstance(entry, Mapping):
                continue
            effect = entry.get("effectId")
            if entry.get("status", "requested") != "requested" or entry.get("kind") != "agent":
                continue
            if isinstance(effect, str) and _EFFECT_ID.fullmatch(effect):
                out.append(effect)
        return out

    def status(self, run: Path, effect: str) -> str:
        """The effect's status in the journal (``requested``, ``resolved_ok``, ...)."""
        doc = self._json("task:show", str(run), effect, "--json")
        found = doc.get("effect") if isinstance(doc, Mapping) else None
        status = found.get("status") if isinstance(found, Mapping) else None
        if not isinstance(status, str):
            raise self._unexpected("task:show", "no effect status in its answer")
        return status

    def post(
        self,
        run: Path,
        effect: str,
        *,
        ok: bool,
        file: Path,
        invocation_key: str | None = None,
        started_at: str | None = None,
        finished_at: str | None = None,
    ) -> None:
        """``task:post RUN EFFECT --status ok --value FILE`` (or ``--status error --error
        FILE``); ``AlreadyResolved`` when the effect is no longer requested."""
        status = "ok" if ok else "error"
        args = ["task:post", str(run), effect, "--status", status]
        args += ["--value" if ok else "--error", str(file), "--json"]
        if invocation_key:
            args += ["--invocation-key", invocation_key]
        if started_at:
            args += ["--started-at", started_at]
        if finished_at:
            args += ["--finished-at", finished_at]
        proc = self._run(args)
        answer = _parsed(proc.stdout)
        if isinstance(answer, Mapping) and answer.get("status") == status:
            return  # the CLI exits 1 after posting an error: its answer says it was posted
        said = _said(proc)
        if m := re.search(r"is not requested \(status=([\w-]+)\)", said):
            raise AlreadyResolved(run, effect, m.group(1))
        raise self._failed("task:post", proc.returncode, said)

    # --- running it -----------------------------------------------------------------------

    def _json(self, *args: str) -> Any:
        proc = self._run(list(args))
        if proc.returncode != 0:
            raise self._failed(args[0], proc.returncode, _said(proc))
        doc = _parsed(proc.stdout)
        if doc is None:
            raise self._unexpected(args[0], "its answer is not JSON")
        return doc

    def _run(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        """The CLI in its own session (the terminal's Ctrl-C reaches tpx, which decides), no
        standard input, its output captured, at most ``_TIMEOUT_S``."""
        command = [*self.argv, *args]
        try:
            return subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=_TIMEOUT_S,
                start_new_session=True,
                check=False,
                env={**os.environ, "NO_COLOR": "1"},
            )
        except subprocess.TimeoutExpired:
            raise InputError(
                f"no answer in {_TIMEOUT_S:g} s", source=f"babysitter {args[0]}"
            ) from None
        except OSError as exc:
            raise InputError(
                f"cannot run {shlex.join(self.argv)}: {exc.strerror or exc}",
                source=f"babysitter {args[0]}",
            ) from None

    def _failed(self, command: str, code: int, said: str) -> InputError:
        return InputError(f"exit {code}: {said or 'no message'}", source=f"babysitter {command}")

    def _unexpected(self, command: str, what: str) -> InputError:
        return InputError(
            f"{what} (is {shlex.join(self.argv)} the babysitter CLI of @a5c-ai/babysitter-sdk?)",
            source=f"babysitter {command}",
        )


def _parsed(stdout: str) -> Any:
    """The CLI's ``--json`` answer: the whole output, else its last line that is JSON."""
    text = stdout.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        pass
    for line in reversed(text.splitlines()):
        try:
            return json.loads(line)
        except ValueError:
            continue
    return None


def _said(proc: subprocess.CompletedProcess[str]) -> str:
    """The CLI's own message, one line: its last line on stderr (else stdout), ``[task:post]``
    prefixes dropped, a JSON error reduced to its ``message``."""
    from throughput_expert.redact import scrub

    for stream in (proc.stderr, proc.stdout):
        lines = [line.strip() for line in (stream or "").splitlines() if line.strip()]
        if not lines:
            continue
        line = lines[-1]
        doc = _parsed(line)
        if isinstance(doc, Mapping) and isinstance(doc.get("message"), str):
            line = doc["message"]
        line = re.sub(r"^\[[\w:-]+\]\s*", "", " ".join(line.split()))
        return scrub(line if len(line) <= _SHOWN else line[:_SHOWN] + "…")
    return ""


# --- serving one effect ---------------------------------------------------------------------


def serve_effect(
    cli: Babysitter,
    run: str | Path,
    effect: str,
    *,
    agent: str = AGENT_NAME,
    allow_roots: Sequence[str | Path] = (),
    defaults: str | None = None,
    watching: bool = False,
) -> Outcome:
    """Answer the run's effect and post the answer; returns what was posted.

    ``watching``: the effect was found by listing (``tpx task --watch``): one addressed to
    another agent, or to none, is ``skipped`` untouched; a task.json tpx cannot read is posted
    as an error when it names this agent (``agent.name``, ``agentName``, ``inputs.agentName``:
    the run fails with the reason instead of waiting), else it raises (whose it is cannot be
    told: nothing is posted). Served by name (``tpx task RUN EFFECT``), a task for another
    agent is refused (``InputError``, nothing posted) and one that cannot be read is posted as
    an error. ``AlreadyResolved`` when the CLI says the effect
    is no longer requested."""
    folder = _run_folder(run)
    if not _EFFECT_ID.fullmatch(effect):
        raise InputError(
            "not an effect id (letters, digits, '-', '_', '.')", source=str(folder), field=effect
        )
    confine = Confine.of(
        [folder], described=f"the run folder {folder}", widen="", source=str(folder)
    )
    path = confine.resolve(f"tasks/{effect}/task.json", field="task.json")
    if not watching and (status := cli.status(folder, effect)) != "requested":
        raise AlreadyResolved(folder, effect, status)  # nothing computed, nothing rewritten
    started = _now()
    task: Task | None = None
    error: tuple[str, str] | None = None
    try:
        task = read_task(path)
    except ThroughputError as exc:
        if watching and (addressee := _addressee(path)) != agent:
            if addressee is not None:
                return Outcome("skipped", folder, effect)  # another agent's, left alone
            raise  # whose it is cannot be told: not ours to fail
        error = _error(exc)  # ours (or asked for by name): the run fails with the reason
    else:
        if task.agent_name != agent:
            if watching:
                return Outcome("skipped", folder, effect)
            if task.agent_name is not None:
                raise InputError(
                    f"addressed to {task.agent_name!r}, not {agent!r} (tpx task --agent NAME "
                    "serves another name)",
                    source=str(path),
                    field="agent.name",
                )
    value = path.parent / VALUE_FILE
    result: dict[str, Any] | None = None
    if task is not None:
        try:
            result = answer(task, allow_roots=allow_roots, defaults=defaults, written=value)
        except ThroughputError as exc:
            error = _error(exc)
        except Exception as exc:  # a bug must fail the run loudly, not leave it waiting
            reason = " ".join(str(exc).split())[:_SHOWN]
            error = (
                "InternalError",
                f"{path}: internal error: {type(exc).__name__}: {reason} (a bug in tpx)",
            )
        else:
            if violations := result.get("schema_violations"):
                error = (
                    "OutputSchemaError",
                    f"{path}: outputSchema: the result does not satisfy it: "
                    + "; ".join(map(str, violations)),
                )
    finished = _now()
    key = task.invocation_key if task is not None else None
    with _uninterrupted() as caught:
        if error is None and result is not None:
            write_atomically(value, result_json(result), source=str(path))
            cli.post(
                folder,
                effect,
                ok=True,
                file=value,
                invocation_key=key,
                started_at=started,
                finished_at=finished,
            )
            outcome = Outcome("ok", folder, effect, value)
        else:
            name, message = error or ("InternalError", f"{path}: no result (a bug in tpx)")
            failed = path.parent / ERROR_FILE
            doc = {"name": name, "message": message}
            write_atomically(failed, result_json(doc), source=str(path))
            cli.post(
                folder,
                effect,
                ok=False,
                file=failed,
                invocation_key=key,
                started_at=started,
                finished_at=finished,
            )
            outcome = Outcome("error", folder, effect, failed, message)
    return replace(outcome, interrupted=bool(caught))


def _addressee(path: Path) -> str | None:
    """The agent a task.json names (``agent.name``, ``agentName`` or ``inputs.agentName``)
    when ``read_task`` refuses the rest of it; ``None`` when even that cannot be read."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None  # a FIFO would block: never opened
        doc = read_json(read_text(path), str(path))
    except (OSError, ThroughputError, ValueError, RecursionError):
        return None
    if not isinstance(doc, Mapping):
        return None
    agent, inputs = doc.get("agent"), doc.get("inputs")
    for holder, key in ((agent, "name"), (doc, "agentName"), (inputs, "agentName")):
        name = holder.get(key) if isinstance(holder, Mapping) else None
        if isinstance(name, str) and name:
            return name
    return None


def _error(exc: ThroughputError) -> tuple[str, str]:
    """``(name, message)`` posted for an error: its class and tpx's one line, secrets masked."""
    from throughput_expert.redact import scrub

    return type(exc).__name__, scrub(exc.one_line())


def _run_folder(run: str | Path) -> Path:
    """The real run folder: ``RUN`` as given, else ``.a5c/runs/RUN`` (a run id)."""
    given = Path(run)
    if not given.is_dir() and not given.is_absolute():
        by_id = Path(".a5c") / "runs" / given
        if by_id.is_dir():
            given = by_id
    if not given.is_dir():
        raise InputError(f"{str(run)!r} is not a run folder", source="tpx task", field="RUN")
    return Path(os.path.realpath(given))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@contextmanager
def _uninterrupted() -> Iterator[list[int]]:
    """Ctrl-C (SIGINT) held back while the block runs: a result file is written and posted
    whole, or not at all. The list it yields holds the signals caught; the caller stops after
    reporting what it posted. Should the block fail, a caught Ctrl-C is raised at once. Only
    the main thread can hold it back."""
    caught: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: caught.append(signum))
    failed = True
    try:
        yield caught
        failed = False
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught and failed:
            raise KeyboardInterrupt
