"""The babysitter task worker: a task in, the answer out.

Two kinds of task file are read:

- the babysitter SDK's ``tasks/<effectId>/task.json`` (``schemaVersion "2026.01.tasks-v1"``,
  ``effectId``, ``invocationKey``, the task definition, and the arguments of ``ctx.task(...)``
  under ``inputs``, or spilled to the run-relative ``inputsRef``). The SDK owns ``result.json``:
  such a task is answered through the ``babysitter`` CLI (``agents/babysitter.py``), never by
  writing its ``io.outputJsonPath``;
- a hand-made ``input.json`` (``tpx task INPUT.json``), answered in ``io.outputJsonPath`` or
  ``result.json`` beside it.

The task holds an agent prompt (``role``, ``task``, ``context``, ``instructions``,
``outputFormat``) and often an ``outputSchema``, in one of four shapes: under ``agent`` (with
``name``, ``prompt``, ``outputSchema``), at the top level, as ``agentName`` + ``prompt``, or as
``inputs.{agentName, prompt}`` (the SDK's generic ``ctx.task(task, {agentName, prompt})``).
Which advisors run follows the task and its instructions; their Reports merge into one result
(``command: "task"``) fitted to the ``outputSchema`` when one is given.

A task file is written by another program and trusted for nothing: every path it names
(``io.outputJsonPath``, the context's files) must resolve inside its **workspace** or a folder
the user allowed (``tpx task --allow-root DIR``); see ``agents/confine.py``. The workspace of a
hand-made input is its run folder (the one holding ``tasks/``, or a lone input's folder); that
of an SDK task is the run's project folder (the one holding ``.a5c/runs/<runId>``, where the
SDK runs the process's hooks) and the run folder, context paths resolving against the project
folder first, then the run folder. A refused task writes nothing and creates no folder.
``--output`` and ``--defaults`` are the user's own flags and are not confined; the settings
file ``--defaults`` names reaches every advisor the task runs.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from throughput_expert.agents.confine import Confine, real_folders
from throughput_expert.errors import InputError
from throughput_expert.outputs import write_atomically
from throughput_expert.sources.files import read_json, read_text

__all__ = [
    "AGENT_NAME",
    "TASK_SCHEMA",
    "Task",
    "answer",
    "read_task",
    "result_path",
    "run_task",
    "run_workspace",
    "workspace",
]

AGENT_NAME = "throughput-optimization-expert"
TASK_SCHEMA = "2026.01.tasks-v1"  # the babysitter SDK's task.json
WIDEN = "tpx task --allow-root DIR widens it"
_INPUTS_LIMIT = 64 << 20  # an SDK inputs blob (the SDK spills inputs over 1 MiB to one)


@dataclass(frozen=True)
class Task:
    path: Path
    agent_name: str | None
    prompt: Mapping[str, Any]
    output_schema: Mapping[str, Any] | None
    output_json_path: str | None
    #: the SDK's effect id and invocation key: set for a babysitter SDK task.json
    effect_id: str | None = None
    invocation_key: str | None = None

    @property
    def sdk(self) -> bool:
        """A babysitter SDK task: answered through ``babysitter task:post``, never written."""
        return self.effect_id is not None


def read_task(path: str | Path) -> Task:
    source = str(path)
    _regular_file(path, source)
    doc = read_json(read_text(path), source)
    if not isinstance(doc, Mapping):
        raise InputError("expected a JSON object", source=source)
    effect_id, invocation_key = _sdk_ids(doc, source)
    inputs = _inputs(doc, Path(path), source) if effect_id else {}
    agent = doc.get("agent") if isinstance(doc.get("agent"), Mapping) else None
    prompt = (agent or {}).get("prompt") or doc.get("prompt") or inputs.get("prompt")
    if prompt is None and not effect_id and ("task" in doc or "context" in doc):
        prompt = doc  # the prompt itself at the top level
    if isinstance(prompt, str):
        prompt = {"task": prompt}
    if not isinstance(prompt, Mapping):
        where = (
            "agent.prompt or inputs.prompt (ctx.task(task, {agentName, prompt}))"
            if effect_id
            else "agent.prompt, prompt, or task/context at the top level"
        )
        raise InputError(f"no agent prompt: expected {where}", source=source)
    schema = (
        (agent or {}).get("outputSchema")
        or doc.get("outputSchema")
        or prompt.get("outputSchema")
        or inputs.get("outputSchema")
    )
    if schema is not None and not isinstance(schema, Mapping):
        raise InputError("expected an object", source=source, field="outputSchema")
    given = doc.get("io")
    io: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    out = io.get("outputJsonPath")
    if out is not None and not isinstance(out, str):
        raise InputError(
            f"expected a path (text), got {type(out).__name__}",
            source=source,
            field="io.outputJsonPath",
        )
    name = (
        (agent or {}).get("name")
        or doc.get("agentName")
        or inputs.get("agentName")
        or (None if effect_id else doc.get("name"))
    )
    return Task(
        Path(path),
        str(name) if name else None,
        prompt,
        schema,
        out or None,
        effect_id,
        invocation_key,
    )


def _sdk_ids(doc: Mapping[str, Any], source: str) -> tuple[str | None, str | None]:
    """``(effectId, invocationKey)`` of a babysitter SDK task.json; ``(None, None)`` for a
    hand-made input (no ``schemaVersion`` of the SDK's tasks, no ``effectId``)."""
    version = doc.get("schemaVersion")
    effect = doc.get("effectId")
    if not (isinstance(version, str) and version.startswith("2026.")) or effect is None:
        return None, None
    if not isinstance(effect, str) or not effect:
        raise InputError("expected the effect id (text)", source=source, field="effectId")
    key = doc.get("invocationKey")
    return effect, key if isinstance(key, str) and key else None


def _inputs(doc: Mapping[str, Any], path: Path, source: str) -> Mapping[str, Any]:
    """The arguments of ``ctx.task(task, args)``: ``inputs``, or the run-relative blob
    ``inputsRef`` the SDK spills large ones to (inside the run folder only)."""
    given = doc.get("inputs")
    if given is None and isinstance(ref := doc.get("inputsRef"), str) and ref:
        run = _run_dir(path)
        confine = Confine.of([run], described=f"the run folder {run}", widen="", source=source)
        blob = confine.resolve(ref, field="inputsRef", base=run)
        given = read_json(read_text(blob, _INPUTS_LIMIT), str(blob))
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        return {}  # ctx.task(task, "text"): no agentName/prompt there
    return given


def _regular_file(path: str | Path, source: str) -> None:
    """A FIFO or a device named input.json would block or never end: refused before opening."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "cannot be read"
        raise InputError(reason, source=source) from None
    if not stat.S_ISREG(mode):
        raise InputError("not a regular file", source=source)


def workspace(task: Task | Path, allow_roots: Sequence[str | Path] = ()) -> Confine:
    """Where the task's paths may lead: its run folder first (for an SDK task: the run's
    project folder, then the run folder), then the allowed roots. The first root is where
    relative paths resolve."""
    path = task.path if isinstance(task, Task) else task
    allowed = real_folders(allow_roots, source="tpx task", flag="--allow-root")
    run = _run_dir(path)
    roots = [run]
    described = f"the run folder {run}"
    if isinstance(task, Task) and task.sdk and (project := run_workspace(run)) != run:
        roots = [project, run]
        described = f"the run's workspace {project}"  # the run folder lies inside it
    if allowed:
        described += " and the allowed roots " + ", ".join(map(str, allowed))
    return Confine.of([*roots, *allowed], described=described, widen=WIDEN, source=str(path))


def run_workspace(run: Path) -> Path:
    """The project a babysitter run belongs to: ``P`` for a run folder ``P/.a5c/runs/<runId>``
    (the SDK's default runs directory; the folder it runs the process's hooks in), else the run
    folder itself (a custom ``--runs-dir``: widen with ``--allow-root``)."""
    real = Path(os.path.realpath(run))
    if real.parent.name == "runs" and real.parent.parent.name == ".a5c":
        return real.parent.parent.parent
    return real


def result_path(task: Task, output: str | None, allow_roots: Sequence[str | Path] = ()) -> Path:
    """``--output`` (trusted); else ``io.outputJsonPath`` against the run folder (the one
    holding ``tasks/``); else ``result.json`` beside the input; both inside the workspace."""
    if output:
        return Path(output)
    if task.sdk:
        raise InputError(
            "a babysitter SDK task: the SDK owns result.json; serve it with "
            "`tpx task RUN EFFECT` (posted with babysitter task:post), or give --output",
            source=str(task.path),
        )
    confine = workspace(task, allow_roots)
    if task.output_json_path:
        return _writable(confine, task.output_json_path, "io.outputJsonPath", _run_dir(task.path))
    return _writable(confine, "result.json", "result.json", task.path.parent)


def _writable(confine: Confine, raw: str, field: str, base: Path) -> Path:
    """The real folder (inside the workspace) joined with the file's own name, left unresolved:
    a symbolic link planted as the result file is then refused by the writer (written through
    only with ``--follow-symlinks``, and only when it, too, leads inside the workspace)."""
    confine.resolve(raw, field=field, base=base)
    folder, name = os.path.split(raw)  # the folder as written, resolved against base once
    if name in ("", ".", ".."):
        raise InputError(f"{raw!r} names a folder, not a file", source=confine.source, field=field)
    return confine.resolve(folder or ".", field=field, base=base) / name


def _run_dir(path: Path) -> Path:
    """The real run folder: ``R`` for ``R/tasks/<id>/input.json``, else the input's folder.

    Computed from the path as given, not from where a link named input.json points, so a
    linked task file does not move its own workspace."""
    folder = Path(os.path.abspath(path)).parent
    if folder.parent.name == "tasks":
        return Path(os.path.realpath(folder.parent.parent))
    return Path(os.path.realpath(folder))


def run_task(
    path: str | Path,
    output: str | None = None,
    *,
    allow_roots: Sequence[str | Path] = (),
    defaults: str | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Read the task, run the advisors it asks for, write the result; returns (path, result).

    Paths the task names must lie inside its workspace or ``allow_roots``; ``output`` and
    ``defaults`` (the settings file every advisor reads) are the caller's own and not
    checked. A babysitter SDK task.json is refused without ``output`` (the SDK owns its
    result.json: ``agents/babysitter.serve_effect`` answers it)."""
    task = read_task(path)
    target = result_path(task, output, allow_roots)
    result = answer(task, allow_roots=allow_roots, defaults=defaults, written=target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            exc.strerror or "cannot create the folder", source=str(task.path), field=str(target)
        ) from None
    write_atomically(target, result_json(result), source=str(task.path))
    return target, result


def answer(
    task: Task,
    *,
    allow_roots: Sequence[str | Path] = (),
    defaults: str | None = None,
    written: Path,
) -> dict[str, Any]:
    """The task's result (a ``Report`` dict fitted to its ``outputSchema``; ``written`` is the
    file it goes to, listed where the schema requires ``artifacts``). Context paths resolve
    against the task's folder (a hand-made input) or the run's workspace (an SDK task)."""
    from throughput_expert.agents.run import run_advisors
    from throughput_expert.agents.schema import fit_to_schema

    confine = workspace(task, allow_roots)
    base = confine.roots[0] if task.sdk else task.path.parent
    report = run_advisors(
        task.prompt, base, confine, defaults=defaults, output_schema=task.output_schema
    )
    return fit_to_schema(report.to_dict(), task.output_schema, written)


def result_json(result: Mapping[str, Any]) -> str:
    """The result as UTF-8-safe JSON: text copied from the task may hold lone surrogates
    (``"\\ud800"`` is valid JSON), which only an escaped form can write."""
    text = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(result, indent=2) + "\n"
    return text
