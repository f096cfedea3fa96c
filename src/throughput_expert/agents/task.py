"""The babysitter task worker: ``tasks/<effectId>/input.json`` in, ``result.json`` out.

The task holds an agent prompt (``role``, ``task``, ``context``, ``instructions``,
``outputFormat``) and often an ``outputSchema``, in one of three shapes: under ``agent`` (with
``name``, ``prompt``, ``outputSchema``), at the top level, or as ``agentName`` + ``prompt``.
Which advisors run follows the task and its instructions; their Reports merge into one result
(``command: "task"``) that validates against the ``outputSchema`` when one is given.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from throughput_expert.errors import InputError
from throughput_expert.sources import read_json, read_text, write_atomically

__all__ = ["AGENT_NAME", "Task", "read_task", "result_path", "run_task"]

AGENT_NAME = "throughput-optimization-expert"


@dataclass(frozen=True)
class Task:
    path: Path
    agent_name: str | None
    prompt: Mapping[str, Any]
    output_schema: Mapping[str, Any] | None
    output_json_path: str | None


def read_task(path: str | Path) -> Task:
    source = str(path)
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
    name = (agent or {}).get("name") or doc.get("agentName") or doc.get("name")
    return Task(
        Path(path),
        str(name) if name else None,
        prompt,
        schema,
        str(io["outputJsonPath"]) if io.get("outputJsonPath") else None,
    )


def result_path(task: Task, output: str | None) -> Path:
    """``--output``; else ``io.outputJsonPath`` against the run folder (the one holding
    ``tasks/``); else ``result.json`` beside the input."""
    if output:
        return Path(output)
    if task.output_json_path:
        return _run_dir(task.path) / task.output_json_path
    return task.path.parent / "result.json"


def _run_dir(path: Path) -> Path:
    for parent in path.resolve().parents:
        if parent.name == "tasks":
            return parent.parent
    return path.resolve().parent


def run_task(path: str | Path, output: str | None = None) -> tuple[Path, dict[str, Any]]:
    """Read the task, run the advisors it asks for, write the result; returns (path, result)."""
    from throughput_expert.agents.run import run_advisors
    from throughput_expert.agents.schema import fit_to_schema

    task = read_task(path)
    target = result_path(task, output)
    result = run_advisors(task.prompt, task.path.parent)
    result = fit_to_schema(result, task.output_schema, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(
        target, json.dumps(result, indent=2, ensure_ascii=False) + "\n", source=str(task.path)
    )
    return target, result
