"""Reading an agent prompt's free-form ``context``: keys in any case or style, numbers as text.

``understand(prompt, base)`` returns what was understood (rates, utilization, service, files,
the architecture sentence) and what could not be read, so the result can list it instead of
guessing. File paths are resolved against ``base`` (the task file's folder; for a babysitter
run's task, the run's workspace, then the run folder) and must lie inside the task's workspace
(``confine``): one outside refuses the whole task. The value of a key whose
name looks secret (``dbPassword``, ``apiKey``) is never read, echoed or listed.

The text is hostile until read: every pattern here runs in linear time (whitespace is collapsed
to single spaces first and every repetition is possessive), so 200 KB of spaces or digits in a
task sentence costs milliseconds, not minutes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from throughput_expert.agents.confine import Confine, Refused
from throughput_expert.agents.inline import few_documents
from throughput_expert.errors import InputError
from throughput_expert.model import Resource
from throughput_expert.model.quantity import parse_count, parse_fraction, parse_rate
from throughput_expert.redact import remember_secret, secret_key

__all__ = ["Understood", "normalize_key", "understand"]

_RESOURCE_KEYS: dict[str, Resource] = {
    "cpu": "cpu",
    "memory": "memory",
    "mem": "memory",
    "ram": "memory",
    "disk_io": "disk_io",
    "diskio": "disk_io",
    "disk": "disk_io",
    "io": "disk_io",
    "network": "network",
    "net": "network",
    "network_io": "network",
    "bandwidth": "network",
}
_FILE_KEYS = {
    "metrics": "metrics",
    "metrics_file": "metrics",
    "profile": "profile",
    "profile_file": "profile",
    "cpu_profile": "profile",
    "architecture_file": "architecture",
    "sweep": "sweep",
    "sweep_file": "sweep",
    "utilization_file": "metrics",
    "measurements": "measurements",
}
# "from 10K to 50K msgs/sec", "to 50K msgs/sec", "10,000 msgs/sec", matched on text whose
# whitespace runs are single spaces (_spaced): " ?" where a "\s*" would be, and possessive
# repetitions, so no match is retried over a run of spaces or digits (linear time).
_NUMBER = r"[\d.,_]++ ?[kKmMgG]?"
_UNIT = r"(?:[a-zA-Z]++/\w++|rps|qps|tps|[a-z]++ per \w++)"
_FROM_TO = re.compile(rf"from (?P<a>{_NUMBER}) to (?P<b>{_NUMBER}(?: ?{_UNIT})?)")
_TO = re.compile(rf"\bto (?P<b>{_NUMBER} ?(?:[a-zA-Z]++/\w++|rps|qps|tps))")
_ARCHITECTURE_FILE = (".yaml", ".yml", ".json")
# An architecture in words ("Single consumer, PostgreSQL sink") is read clause by clause at
# about 2 s a megabyte (measured): 10,000 characters, far past any description, cost 20 ms.
MAX_SENTENCE = 10_000


def normalize_key(key: str) -> str:
    """``currentThroughput``, ``current-throughput``, ``Current Throughput``: all
    ``current_throughput``."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key.strip())
    return re.sub(r"[\s\-]+", "_", snake).lower()


@dataclass
class Understood:
    current_rps: float | None = None
    target_rps: float | None = None
    utilization: dict[Resource, float] = field(default_factory=dict)
    service: str | None = None
    architecture_text: str | None = None
    architecture_file: Path | None = None
    architecture_doc: Mapping[str, Any] | None = None
    files: dict[str, list[Path]] = field(default_factory=dict)
    cores: float | None = None
    workers: int | None = None
    latency_s: float | None = None
    project: str | None = None
    codebase: str | None = None
    runtime: str | None = None
    """python, jvm, go, node or native: read from the codebase's language (``codebaseType``)"""
    issues: list[str] = field(default_factory=list)
    """problems the task reports (``concurrencyIssues``, ``knownIssues``): reported, not measured"""
    read: dict[str, Any] = field(default_factory=dict)
    unread: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    """keys this worker reads whose value it could not read (``unread`` says why)"""


def understand(prompt: Mapping[str, Any], base: Path, confine: Confine | None = None) -> Understood:
    """What the prompt says; files it names must lie inside ``confine`` (default: ``base``)."""
    if confine is None:
        confine = Confine.of([base], described=f"the task's folder {base}", widen="", source="task")
    u = Understood()
    context = prompt.get("context") or {}
    if not isinstance(context, Mapping):
        u.unread.append(f"context: expected an object, got {type(context).__name__}")
        context = {}
    for key, value in _flatten(context).items():
        _read(u, key, value, base, confine)
    task = prompt.get("task")
    _task_text(u, task if isinstance(task, str) else "")
    return u


def _spaced(text: str) -> str:
    """Whitespace runs as single spaces (linear), for the patterns above."""
    return " ".join(text.split())


def _flatten(context: Mapping[str, Any]) -> dict[str, Any]:
    """``currentMetrics: {throughput: ...}`` is read like top-level keys."""
    out: dict[str, Any] = {}
    for key, value in context.items():
        norm = normalize_key(str(key))
        if norm in ("current_metrics", "metrics_data", "measurements_data") and isinstance(
            value, Mapping
        ):
            out.update({str(k): v for k, v in value.items()})
        else:
            out[str(key)] = value
    return out


def _read(u: Understood, raw_key: str, value: Any, base: Path, confine: Confine) -> None:
    key = normalize_key(raw_key)
    if secret_key(raw_key) or secret_key(key):
        _remember(value)
        u.unread.append(f"{key}: a secret by its name: not read, its value not shown")
        return
    try:
        if not _known(u, key, value, base, confine, f"context.{raw_key}"):
            u.unread.append(f"{key}: not a key this worker reads")
    except Refused:
        raise  # a path the task may not name refuses the task, it is not a note
    except InputError as exc:
        u.unread.append(f"{key}: {exc.message}")
        u.refused.append(key)


def _remember(value: Any, depth: int = 0) -> None:
    """Strings under a secret-named key are secrets: ``scrub`` masks them wherever they appear."""
    if isinstance(value, str):
        remember_secret(value)
    elif depth < 8 and isinstance(value, Mapping):
        for v in value.values():
            _remember(v, depth + 1)
    elif depth < 8 and isinstance(value, list):
        for v in value:
            _remember(v, depth + 1)


def _known(u: Understood, key: str, value: Any, base: Path, confine: Confine, field: str) -> bool:
    if key in ("current_throughput", "throughput", "current_rps", "current_rate", "rps"):
        u.current_rps = parse_rate(_first_rate(value), source="context", field=key)
    elif key in ("target_throughput", "target", "target_rps", "target_rate"):
        u.target_rps = parse_rate(_last_rate(value), source="context", field=key)
    elif key in ("resource_utilization", "utilization", "utilisation"):
        _utilization(u, value)
    elif key in _RESOURCE_KEYS:
        u.utilization[_RESOURCE_KEYS[key]] = parse_fraction(value, key=key, source="context")
    elif key in ("service", "service_name", "name"):
        u.service = _text(value)
    elif key in ("cores", "cpu_cores"):
        u.cores = parse_count(value, source="context", field=key)
    elif key in ("workers", "consumers", "threads", "concurrency"):
        u.workers = int(parse_count(value, source="context", field=key))
    elif key == "architecture":
        _architecture(u, value, base, confine, field)
    elif key in _PROJECT_KEYS:
        _project(u, key, value)
    elif key in _FILE_KEYS:
        paths = value if isinstance(value, list) else [value]
        few_documents(paths, "context", key)
        found = [
            _path(confine, p, field if len(paths) == 1 else f"{field}[{i}]", base)
            for i, p in enumerate(paths)
        ]
        u.files.setdefault(_FILE_KEYS[key], []).extend(found)
    else:
        return False
    u.read[key] = value
    return True


_PROJECT_KEYS = (
    "project_name",
    "project",
    "codebase_type",
    "codebase",
    "language",
    "runtime",
    "concurrency_issues",
    "known_issues",
    "issues",
    "problems",
    "symptoms",
)
_RUNTIMES = {
    "python": "python",
    "java": "jvm",
    "kotlin": "jvm",
    "scala": "jvm",
    "jvm": "jvm",
    "clojure": "jvm",
    "go": "go",
    "golang": "go",
    "node": "node",
    "nodejs": "node",
    "node.js": "node",
    "javascript": "node",
    "typescript": "node",
    "c": "native",
    "c++": "native",
    "cpp": "native",
    "rust": "native",
}


def _project(u: Understood, key: str, value: Any) -> None:
    """Project context: its name, its language (the runtime whose pools the answer names) and
    the issues it reports (kept as reported, never read as measured)."""
    if key in ("project_name", "project"):
        u.project = _text(value)
    elif key in ("codebase_type", "codebase", "language", "runtime"):
        u.codebase = _text(value)
        words = re.findall(r"[a-z+.#]++", u.codebase.lower())
        u.runtime = next((_RUNTIMES[w] for w in words if w in _RUNTIMES), u.runtime)
    else:
        items = value if isinstance(value, list) else [value]
        u.issues.extend(_text(i)[:200] for i in items[:20])


def _path(confine: Confine, raw: Any, field: str, base: Path) -> Path:
    """A file the context names: against ``base`` (the task's folder, or a babysitter run's
    workspace); when nothing is there and the path is relative, against each of the workspace's
    other roots in turn (the run folder), the first that holds it. Always inside ``confine``."""
    found = confine.resolve(raw, field=field, base=base)
    if _exists(found) or not isinstance(raw, str) or os.path.isabs(raw):
        return found
    for root in confine.roots:
        if root != Path(os.path.realpath(base)):
            try:
                other = confine.resolve(raw, field=field, base=root)
            except Refused:
                continue
            if _exists(other):
                return other
    return found


def _exists(path: Path) -> bool:
    """Whether anything is at ``path``; a name the system refuses (longer than it allows: a
    component past 255 bytes) is nothing there, and its reader says why."""
    try:
        os.stat(path)
    except (OSError, ValueError):
        return False
    return True


def _utilization(u: Understood, value: Any) -> None:
    if not isinstance(value, Mapping):
        raise InputError("expected an object of resource: utilization")
    for key, raw in value.items():
        norm = normalize_key(str(key)).removesuffix("_pct")
        resource = _RESOURCE_KEYS.get(norm)
        if resource is None:
            u.unread.append(f"utilization.{key}: not a resource (cpu, memory, disk_io, network)")
            continue
        pct_key = normalize_key(str(key))
        u.utilization[resource] = parse_fraction(
            raw, key=pct_key, source="context", field=f"utilization.{key}"
        )


def _architecture(u: Understood, value: Any, base: Path, confine: Confine, field: str) -> None:
    if isinstance(value, Mapping):
        u.architecture_doc = value
    elif isinstance(value, str) and value.strip().endswith(_ARCHITECTURE_FILE):
        u.architecture_file = _path(confine, value.strip(), field, base)
    else:
        text = " ".join(_text(value).split())  # runs of whitespace count as one space
        if len(text) > MAX_SENTENCE:
            raise InputError(
                f"a sentence of {len(text):,} characters: at most {MAX_SENTENCE:,} are read "
                "(describe a larger system in an architecture file)"
            )
        u.architecture_text = text


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InputError(f"expected text, got {type(value).__name__}")
    return str(value)


def _first_rate(value: Any) -> Any:
    if isinstance(value, str) and (m := _FROM_TO.search(_spaced(value))):
        return m.group("a")
    return value


def _last_rate(value: Any) -> Any:
    if isinstance(value, str):
        text = _spaced(value)
        if m := _FROM_TO.search(text) or _TO.search(text):
            return m.group("b")
    return value


def _task_text(u: Understood, task: str) -> None:
    """A target in the task's text ("from 10K to 50K msgs/sec") is the target rate."""
    text = _spaced(task)
    m = _FROM_TO.search(text)
    if m:
        if u.current_rps is None:
            u.current_rps = _try_rate(m.group("a"), u)
        if u.target_rps is None:
            u.target_rps = _try_rate(m.group("b"), u)
        u.read["task"] = task
        return
    m2 = _TO.search(text)
    if m2 and u.target_rps is None:
        u.target_rps = _try_rate(m2.group("b"), u)
        u.read["task"] = task


def _try_rate(text: str, u: Understood) -> float | None:
    try:
        return parse_rate(text.strip(), source="task")
    except InputError as exc:
        u.unread.append(f"task: {exc.message}")
        return None
