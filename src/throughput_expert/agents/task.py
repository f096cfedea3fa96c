"""The babysitter task worker: ``tasks/<effectId>/input.json`` in, ``result.json`` out.

The task holds an agent prompt (``role``, ``task``, ``context``, ``instructions``,
``outputFormat``) and often an ``outputSchema``, in one of three shapes: under ``agent`` (with
``name``, ``prompt``, ``outputSchema``), at the top level, or as ``agentName`` + ``prompt``.
Which advisors run follows the task and its instructions; their Reports merge into one result
(``command: "task"``) that validates against the ``outputSchema`` when one is given.

A task file is written by another program and trusted for nothing: every path it names
(``io.outputJsonPath``, the context's files) must resolve inside its **workspace** (the run
folder holding ``tasks/``, or a lone input's folder) or a folder the user allowed
(``tpx task --allow-root DIR``); see ``agents/confine.py``. A refused task writes nothing and
creates no folder. ``--output`` and ``--defaults`` are the user's own flags and are not
confined; the settings file ``--defaults`` names reaches every advisor the task runs.
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

__all__ = ["AGENT_NAME", "Task", "read_task", "result_path", "run_task", "workspace"]

AGENT_NAME = "throughput-optimization-expert"
WIDEN = "tpx task --allow-root DIR widens it"


@dataclass(frozen=True)
class Task:
    path: Path
    agent_name: str | None
    prompt: Mapping[str, Any]
    output_schema: Mapping[str, Any] | None
    output_json_path: str | None


def read_task(path: str | Path) -> Task:
    source = str(path)
    _regular_file(path, source)
    doc = read_json(read_text(path), source)
    if not isinstance(doc, Mapping):
        raise InputError("expected a JSON object", source=source)
    agent = doc.get("agent") if isinstance(doc.get("agent"), Mapping) else None
    prompt = (agent or {}).get("prompt") or doc.get("prompt")
    if prompt is None and ("task" in doc or "context" in doc):
        prompt = doc  # the prompt itself at the top level
    if isinstance(prompt, str):
        prompt = {"task": prompt}
    if not isinstance(prompt, Mapping):
        raise InputError(
            "no agent prompt: expected agent.prompt, prompt, or task/context at the top level",
            source=source,
        )
    schema = (agent or {}).get("outputSchema") or doc.get("outputSchema")
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
    name = (agent or {}).get("name") or doc.get("agentName") or doc.get("name")
    return Task(Path(path), str(name) if name else None, prompt, schema, out or None)


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
    """Where the task's paths may lead: its run folder first, then the allowed roots."""
    path = task.path if isinstance(task, Task) else task
    allowed = real_folders(allow_roots, source="tpx task", flag="--allow-root")
    run = _run_dir(path)
    described = f"the run folder {run}"
    if allowed:
        described += " and the allowed roots " + ", ".join(map(str, allowed))
    return Confine.of([run, *allowed], described=described, widen=WIDEN, source=str(path))


def result_path(task: Task, output: str | None, allow_roots: Sequence[str | Path] = ()) -> Path:
    """``--output`` (trusted); else ``io.outputJsonPath`` against the run folder (the one
    holding ``tasks/``); else ``result.json`` beside the input; both inside the workspace."""
    if output:
        return Path(output)
    confine = workspace(task, allow_roots)
    if task.output_json_path:
        return _writable(confine, task.output_json_path, "io.outputJsonPath", _run_dir(task.path))
    return _writable(confine, "result.json", "result.json", task.path.parent)


def _writable(confine: Confine, raw: str, field: str, base: Path) -> Path:
    """The real folder (inside the workspace) joined with the file's own name, left unresolved:
    a symbolic link planted as the result file is then refused by the writer (written through
    only with ``--follow-symlinks``, and only when it, too, leads inside the workspace)."""
    confine.resolve(raw, field=field, base=base)
    folder, name = os.path.split(os.path.join(os.fspath(base), raw))
    if name in ("", ".", ".."):
        raise InputError(f"{raw!r} names a folder, not a file", source=confine.source, field=field)
    return confine.resolve(folder, field=field, base=base) / name


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
    checked."""
    from throughput_expert.agents.run import run_advisors
    from throughput_expert.agents.schema import fit_to_schema

    task = read_task(path)
    target = result_path(task, output, allow_roots)
    report = run_advisors(
        task.prompt, task.path.parent, workspace(task, allow_roots), defaults=defaults
    )
    result = fit_to_schema(report.to_dict(), task.output_schema, target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            exc.strerror or "cannot create the folder", source=str(task.path), field=str(target)
        ) from None
    write_atomically(target, _json(result), source=str(task.path))
    return target, result


def _json(result: dict[str, Any]) -> str:
    """The result as UTF-8-safe JSON: text copied from the task may hold lone surrogates
    (``"\\ud800"`` is valid JSON), which only an escaped form can write."""
    text = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(result, indent=2) + "\n"
    return text
